"""The scripted week (testing/scripted_week.py) through the daily pipeline, as notebook 03 runs it:
one `pricing-pipeline run` a day against the week's source over HTTP.

Every fact is expected from the script, written out by hand below (which change books what, on
which day, at which price), and its EUR amount computed with Python's decimal from the ECB file.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import duckdb
import pytest

from pricing_pipeline.notebook import changing_source as week_report
from pricing_pipeline.testing import scripted_week as script
from tests.support.ecb_reference import rate_in_force
from tests.support.warehouse_queries import full_hash

LOOKBACK = 3
DAY = [script.START + dt.timedelta(days=i) for i in range(script.DAYS)]  # Mon 2024-02-12 .. Sun 02-18

# (cart, product, kind, day of the sale, day booked, units, USD price of the sale's day), by hand:
EXPECTED_FACTS = [
    (1, 15, "sale", 0, 0, 2, "56.99"),
    (1, 18, "sale", 0, 0, 1, "9.85"),
    (2, 17, "sale", 1, 1, 2, "39.99"),
    (2, 19, "sale", 1, 1, 1, "7.95"),
    (2, 15, "sale", 1, 1, 1, "56.99"),  # product 15 leaves on Friday: its line stays sold
    (3, 18, "sale", 2, 2, 2, "9.85"),
    (3, 20, "sale", 2, 2, 2, "12.99"),
    (4, 16, "sale", 3, 3, 1, "29.95"),
    (4, 21, "sale", 3, 3, 1, "24.90"),  # the product that joined that day
    (5, 19, "late_sale", 3, 4, 3, "7.95"),  # dated Thursday, at the source on Friday
    (2, 17, "return", 1, 4, -1, "39.99"),  # the price paid on Tuesday, not Friday's 34.99
    (6, 16, "sale", 4, 4, 2, "29.95"),
    (3, 20, "further_sale", 2, 5, 1, "12.99"),
    (3, 18, "return", 2, 5, -2, "9.85"),  # the line removed: what remained
    (7, 18, "sale", 5, 5, 1, "9.85"),  # Saturday: Friday's rates
    (6, 16, "return", 4, 6, -2, "29.95"),  # the cart cancelled
    (8, 17, "sale", 6, 6, 1, "34.99"),  # Sunday: Friday's rates, the new price
]


def eur(units: int, price: str, day: dt.date) -> Decimal:
    _, usd_per_eur = rate_in_force(day)
    return (units * Decimal(price) / usd_per_eur).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def expected_amount_eur(cart: int, product: int, kind: str, sale: int, units: int, price: str) -> Decimal:
    """A fact's EUR is the change of its line's EUR amount, each amount rounded once."""
    placed = next(c for c in script.CARTS if c.cart_id == cart).lines[product]
    before = {"return": placed, "further_sale": placed}.get(kind, 0)
    return eur(before + units, price, DAY[sale]) - eur(before, price, DAY[sale])


@pytest.fixture(scope="module")
def week_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("week") / "data"
    week = script.ScriptedWeek()
    # No full backup after the first: each day's backup is an increment of the days its run wrote.
    with week.served(), pytest.MonkeyPatch.context() as env:
        env.setenv("PIPELINE_FULL_BACKUP_EVERY", "30")
        first_pass = week_report.run_week(week, folder, LOOKBACK)
    return week, folder, first_pass


def rows(folder, sql: str, args=()) -> list[tuple]:
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql, list(args)).fetchall()


def test_every_change_of_the_week_is_one_fact_priced_as_sold(week_folder):
    _, folder, _ = week_folder
    got = rows(
        folder,
        "SELECT cart_id, product_id, kind, sale_day, booked_day, quantity, price_usd, amount_usd, amount_eur, rate_date "
        "FROM marts.sales_lines",
    )
    expected = []
    for cart, product, kind, sale, booked, units, price in EXPECTED_FACTS:
        rate_date, _ = rate_in_force(DAY[sale])
        expected.append(
            (
                cart,
                product,
                kind,
                DAY[sale],
                DAY[booked],
                units,
                Decimal(price),
                units * Decimal(price),
                expected_amount_eur(cart, product, kind, sale, units, price),
                rate_date,
            )
        )
    assert sorted(got) == sorted(expected)
    # The weekend took Friday's publication, and no fact was priced with a stale or missing rate.
    assert rate_in_force(DAY[5])[0] == rate_in_force(DAY[6])[0] == DAY[4]


def test_each_line_adds_up_to_what_the_source_holds_at_the_end(week_folder):
    _, folder, _ = week_folder
    held = {
        (cart, product): units
        for cart, product, units in rows(
            folder,
            "SELECT cart_id, product_id, sum(quantity) FROM marts.sales_lines GROUP BY ALL HAVING sum(quantity) <> 0",
        )
    }
    source = {
        (cart["id"], line["productId"]): line["quantity"]
        for cart in script.carts_on(script.DAYS - 1)
        for line in cart["products"]
    }
    assert held == source


def test_booked_and_restated_agree_in_total_and_differ_where_a_change_was_late(week_folder):
    _, folder, _ = week_folder
    by_basis = dict(rows(folder, "SELECT basis, sum(net_eur) FROM marts.sales_daily GROUP BY basis"))
    assert (
        by_basis["booked"]
        == by_basis["restated"]
        == sum(expected_amount_eur(c, p, k, s, u, price) for c, p, k, s, b, u, price in EXPECTED_FACTS)
    )
    # Friday's only sale (cart 6) was cancelled on Sunday: restated, Friday sold nothing.
    friday = dict(
        rows(folder, "SELECT basis, sum(net_eur) FROM marts.sales_daily WHERE day = ? GROUP BY basis", [DAY[4]])
    )
    assert friday["restated"] == 0
    assert friday["booked"] == sum(
        expected_amount_eur(c, p, k, s, u, price) for c, p, k, s, b, u, price in EXPECTED_FACTS if b == 4
    )


def test_the_product_versions_follow_the_catalogue(week_folder):
    _, folder, _ = week_folder
    got = rows(folder, "SELECT product_id, valid_from, valid_to, is_current, price_usd FROM marts.product_versions")
    open_end = dt.date(9999, 12, 31)
    expected = [(p, DAY[0], open_end, True, Decimal(price)) for p, price in ((16, "29.95"), (18, "9.85"))]
    expected += [(p, DAY[0], open_end, True, Decimal(price)) for p, price in ((19, "7.95"), (20, "12.99"))]
    expected += [
        (15, DAY[0], DAY[4], False, Decimal("56.99")),  # left on Friday: no current version
        (17, DAY[0], DAY[2], False, Decimal("39.99")),
        (17, DAY[2], open_end, True, Decimal("34.99")),  # the price cut
        (21, DAY[3], open_end, True, Decimal("24.90")),  # joined on Thursday
    ]
    assert sorted(got) == sorted(expected)


def test_each_run_read_one_window_in_one_request_and_reconciled_it(week_folder):
    _, folder, first_pass = week_folder
    runs = rows(folder, "SELECT run_id, status FROM ops.run_log ORDER BY run_id")
    assert runs == [(f"week_{day}", "succeeded") for day in DAY]
    per_run = rows(
        folder, "SELECT run_id, count(*) FROM raw.responses WHERE name = 'carts' GROUP BY run_id ORDER BY run_id"
    )
    assert per_run == [(f"week_{day}", 1) for day in DAY]
    reconciled = rows(folder, "SELECT count(*), count(*) FILTER (WHERE agrees) FROM ops.sales_reconciliation")
    assert reconciled[0][0] == reconciled[0][1] == script.DAYS * (LOOKBACK + 1)
    assert list(first_pass["late_sales booked"]) == [0, 0, 0, 0, 1, 0, 0]


def test_the_weeks_incremental_backups_restore_the_warehouse(week_folder, tmp_path):
    """Each day's backup carries the days its run wrote, the lookback's lines and restated days
    included (a return on Friday rewrites Tuesday's): the chain restores the warehouse as it is."""
    from pricing_pipeline.ops.backups import find_backups, read_manifest, restore_backup

    _, folder, _ = week_folder
    chain = find_backups(folder / "backups")
    assert [read_manifest(backup)["kind"] for backup in chain] == ["full"] + ["incremental"] * (script.DAYS - 1)
    restored = restore_backup(chain[-1], tmp_path / "restored.duckdb")
    assert full_hash(restored) == full_hash(folder / "warehouse.duckdb")


def test_replaying_the_days_since_one_leaves_every_table_as_it_was(week_folder):
    """Friday to Sunday again, day by day with the source as it stood: every run replaces its rows
    with the same ones. (Staging holds the window as the latest run read it, so a replay ends on
    the last day; an old day re-run alone does not recompute the facts of the days after it.)"""
    week, folder, first_pass = week_folder
    before = week_report.data_hash(folder)
    with week.served():
        for number in (4, 5, 6):
            week_report.run_day(week, number, folder, LOOKBACK)
    assert week_report.data_hash(folder) == before
    booked = [f"{kind}s booked" for kind in week_report.FACT_KINDS]
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
        again = [week_report.day_summary(con, DAY[number], LOOKBACK) for number in (4, 5, 6)]
    assert [[row[column] for column in booked] for row in again] == first_pass.iloc[4:][booked].values.tolist()


def test_the_rows_answer_2_quotes_are_the_weeks(week_folder):
    """answers/02 quotes product 17's versions and cart 2's sale and return: they must stay true."""
    from tests.support.paths import PROJECT_ROOT

    text = (PROJECT_ROOT / "answers" / "02_changing_source_data.md").read_text(encoding="utf-8")
    _, folder, _ = week_folder
    versions = rows(
        folder,
        "SELECT valid_from, valid_to, is_current, price_usd FROM marts.product_versions WHERE product_id = 17 "
        "ORDER BY valid_from",
    )
    for valid_from, valid_to, current, price in versions:
        state = "current" if current else "not current"
        until = str(valid_to) if valid_to.year == 9999 else f"{valid_to:%m-%d}"
        assert f"| 17, {valid_from} | {valid_from:%m-%d} → {until}, {state} | listed at {price} |" in text
    facts = rows(
        folder,
        "SELECT booked_day, sale_day, kind, quantity, price_usd FROM marts.sales_lines "
        "WHERE cart_id = 2 AND product_id = 17 ORDER BY booked_day",
    )
    assert [kind for _, _, kind, _, _ in facts] == ["sale", "return"]
    for booked, sold, kind, units, price in facts:
        amount = f"{units} × {price}".replace("-", "−")
        assert f"| cart 2, product 17, booked {booked:%m-%d} | sold {sold:%m-%d} | {kind}, {amount}" in text
