"""The simulated week loaded with MERGE (changing_data.loader), day by day, against plain Python.

The type-2 history, the fact rows and the revenue of the week are compared with expected values
computed here from the simulated source, not with the SQL that built them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from pricing_pipeline import changing_data as cd
from pricing_pipeline.warehouse.connection import content_hash
from pricing_pipeline.warehouse.data_tests import DataTestError
from tests.support.changing_week import DEFAULT_WEEK, history_rows, loaded, week_products

# Other seeds and lengths than the notebook's check that nothing depends on its luck.
WEEKS = [DEFAULT_WEEK, ("2024-02-12", 9, 5), ("2023-12-28", 6, 11)]


@pytest.fixture(scope="module")
def products() -> pd.DataFrame:
    return week_products()


@pytest.fixture(scope="module", params=WEEKS, ids=lambda w: f"{w[0]}+{w[1]}d-seed{w[2]}")
def week(request, products):
    source, con, log = loaded(products, request.param)
    yield source, con, log
    con.close()


def expected_history(source: cd.SourceSystem) -> list[tuple]:
    """Type-2 versions replayed by hand from the daily listings: (id, from, to, current, listed, price)."""
    open_versions: dict[int, dict] = {}
    closed: list[dict] = []
    for day in source.days:
        listing = {
            row.product_id: (row.title, Decimal(f"{row.price_usd:.2f}")) for row in source.listings[day].itertuples()
        }
        for product_id in sorted(set(listing) | set(open_versions)):
            current = open_versions.get(product_id)
            if product_id in listing:
                wanted = (*listing[product_id], True)
            elif current is not None and current["state"][2]:
                wanted = (current["state"][0], current["state"][1], False)
            else:
                continue
            if current is None or current["state"] != wanted:
                if current is not None:
                    closed.append({**current, "to": day})
                open_versions[product_id] = {"id": product_id, "from": day, "state": wanted}
    rows = closed + [{**version, "to": cd.OPEN_END} for version in open_versions.values()]
    return sorted((v["id"], v["from"], v["to"], v["to"] == cd.OPEN_END, v["state"][2], v["state"][1]) for v in rows)


def test_history_equals_a_replay_of_the_listings_by_hand(week):
    source, con, _ = week
    assert history_rows(con) == expected_history(source)


def test_exactly_one_current_row_per_product_ever_listed(week):
    source, con, _ = week
    history = cd.product_history(con)
    current = history[history["is_current"]].groupby("product_id").size()
    ever_listed = set().union(*(set(listing["product_id"]) for listing in source.listings.values()))
    assert set(current.index) == ever_listed
    assert (current == 1).all()
    assert (history.loc[history["is_current"], "valid_to"] == pd.Timestamp(cd.OPEN_END)).all()


def test_version_windows_neither_overlap_nor_leave_gaps(week):
    _, con, _ = week
    for product_id, versions in cd.product_history(con).groupby("product_id"):
        versions = versions.sort_values("valid_from")
        assert (versions["valid_from"] < versions["valid_to"]).all(), product_id
        assert list(versions["valid_to"])[:-1] == list(versions["valid_from"])[1:], product_id


def test_the_story_is_in_the_history(week):
    source, con, _ = week
    history = history_rows(con)
    change_day, product_id, new_price = cd.PRICE_CHANGE
    day = source.days[change_day]
    assert [(r[1], r[2], r[5]) for r in history if r[0] == product_id] == [
        (source.days[0], day, Decimal("39.99")),
        (day, cd.OPEN_END, Decimal(f"{new_price:.2f}")),
    ]
    leave_day, leaving_id = cd.LEAVES
    assert [r for r in history if r[0] == leaving_id][-1][1:5] == (source.days[leave_day], cd.OPEN_END, True, False)
    new_id = cd.NEW_PRODUCT["product_id"]
    assert [r[1] for r in history if r[0] == new_id] == [source.days[cd.NEW_PRODUCT_DAY]]


def test_every_source_event_is_one_fact_row_and_returns_are_new_negative_rows(week):
    source, con, _ = week
    facts = cd.sales_facts(con).set_index("event_id")
    events = source.order_events.set_index("event_id")
    assert sorted(facts.index) == sorted(events.index)
    for event_id, event in events.iterrows():
        sign = -1 if event["event_type"] == "return" else 1
        assert facts.at[event_id, "quantity"] == sign * event["quantity"]
        assert facts.at[event_id, "event_date"] == event["event_date"]
    returns = facts[facts["event_type"] == "return"]
    assert len(returns) == 1
    ret = returns.iloc[0]
    sale = facts[
        (facts["event_type"] == "sale") & (facts["order_id"] == ret["order_id"]) & (facts["line_no"] == ret["line_no"])
    ]
    assert len(sale) == 1, "the return points at exactly one sale row"
    assert ret["event_date"] > sale.iloc[0]["event_date"]
    assert ret["unit_price_usd"] == sale.iloc[0]["unit_price_usd"], "a return refunds the price paid"
    assert sale.iloc[0]["quantity"] > 0, "the sale row is not edited by the return"


def independent_revenue(source: cd.SourceSystem) -> tuple[dict, dict]:
    """Booked (by event day) and restated (by order day) revenue, in exact decimals, from the source."""
    booked: dict[dt.date, Decimal] = {}
    restated: dict[dt.date, Decimal] = {}
    sales = {}
    events = source.order_events.sort_values("event_type", ascending=False)  # sales before returns
    for event in events.itertuples():
        amount = Decimal(f"{event.unit_price:.2f}") * event.quantity
        day = event.event_date.date()
        if event.event_type == "sale":
            sales[(event.order_id, event.line_no)] = day
            order_day = day
        else:
            amount, order_day = -amount, sales[(event.order_id, event.line_no)]
        booked[day] = booked.get(day, Decimal(0)) + amount
        restated[order_day] = restated.get(order_day, Decimal(0)) + amount
    return booked, restated


def test_revenue_booked_and_restated_equal_an_independent_computation(week):
    source, con, _ = week
    booked, restated = independent_revenue(source)
    rows = con.execute("SELECT day, booked_usd, restated_usd FROM marts.daily_revenue").fetchall()
    assert {day: b for day, b, _ in rows if b != 0} == {d: v for d, v in booked.items() if v != 0}
    assert {day: r for day, _, r in rows if r != 0} == {d: v for d, v in restated.items() if v != 0}


def test_restated_equals_booked_in_total_over_the_week(week):
    source, con, _ = week
    booked_total, restated_total = con.execute(
        "SELECT sum(booked_usd), sum(restated_usd) FROM marts.daily_revenue"
    ).fetchone()
    assert booked_total == restated_total == sum(independent_revenue(source)[0].values())
    return_day = con.execute("SELECT event_date FROM marts.fct_sales WHERE event_type = 'return'").fetchone()[0]
    per_day = {day: (b, r) for day, b, r in con.execute("SELECT * FROM marts.daily_revenue").fetchall()}
    assert per_day[return_day][0] < per_day[return_day][1], "booked, the return lowers the day it was made"


def test_late_order_is_inserted_by_the_next_run_into_its_own_day(week):
    source, con, log = week
    late = source.order_events[source.order_events["changed_on"] > source.order_events["event_date"]]
    late = late[late["event_type"] == "sale"]
    assert len(late) >= 1
    arrival = late["changed_on"].iloc[0]
    assert log.loc[f"{arrival:%a %m-%d}", "of them late"] == len(late)
    placed = {
        row[0]
        for row in con.execute(
            "SELECT event_date FROM marts.fct_sales WHERE event_id IN (SELECT unnest(?::VARCHAR[]))",
            [list(late["event_id"])],
        ).fetchall()
    }
    assert placed == {day.date() for day in late["event_date"]}


def test_a_second_pass_over_the_week_changes_nothing(week):
    source, con, _ = week
    before = content_hash(con, cd.TABLES)
    cd.reset_watermark(con)
    second = cd.run_days(con, source)
    assert content_hash(con, cd.TABLES) == before
    assert (second[["facts inserted", "facts updated", "versions closed", "versions opened"]] == 0).all().all()
    # A retried run of the last day (watermark kept) reads a shorter window, which its raw
    # partition records; the marts and the watermark stay as they were.
    curated = tuple(table for table in cd.TABLES if not table.startswith("raw."))
    curated_before = content_hash(con, curated)
    result = cd.load_day(con, source, source.days[-1])
    assert (result["facts inserted"], result["facts updated"], result["versions opened"]) == (0, 0, 0)
    assert content_hash(con, curated) == curated_before


@pytest.mark.parametrize("lookback_days", [0, 3])
def test_the_lookback_does_not_change_the_result(products, lookback_days):
    """A week loaded with another lookback (or none) ends with the same tables."""
    _, reference, _ = loaded(products, DEFAULT_WEEK)
    _, other, _ = loaded(products, DEFAULT_WEEK, lookback_days)
    try:
        tables = tuple(table for table in cd.TABLES if table != "raw.order_events")  # raw keeps what was read
        assert content_hash(other, tables) == content_hash(reference, tables)
    finally:
        reference.close()
        other.close()


def test_without_lookback_every_event_is_read_exactly_once(products):
    source, con, log = loaded(products, DEFAULT_WEEK, lookback_days=0)
    try:
        assert log["events read"].sum() == len(source.order_events)
        assert log["re-read, unchanged"].sum() == 0
    finally:
        con.close()


def test_a_change_at_the_source_updates_its_fact_row(products):
    source, con, _ = loaded(products, DEFAULT_WEEK)
    try:
        events = source.order_events.copy()
        corrected = events.index[events["event_type"] == "sale"][0]
        events.loc[corrected, ["quantity", "changed_on"]] = [5, pd.Timestamp(source.days[-1])]
        changed = cd.SourceSystem(source.days, source.listings, events)
        result = cd.load_day(con, changed, source.days[-1])
        assert (result["facts inserted"], result["facts updated"]) == (0, 1)
        event_id = events.at[corrected, "event_id"]
        assert con.execute("SELECT quantity FROM marts.fct_sales WHERE event_id = ?", [event_id]).fetchone()[0] == 5
    finally:
        con.close()


def test_a_return_without_its_sale_rolls_the_day_back(products):
    source, con, _ = loaded(products, DEFAULT_WEEK)
    try:
        before = content_hash(con, cd.TABLES)
        orphan = source.order_events[source.order_events["event_type"] == "return"].copy()
        orphan["event_id"], orphan["order_id"] = "R-9999-1", 9999
        orphan["changed_on"] = pd.Timestamp(source.days[-1])
        broken = cd.SourceSystem(
            source.days, source.listings, pd.concat([source.order_events, orphan], ignore_index=True)
        )
        with pytest.raises(DataTestError, match="fct_sales_returns_link_to_their_sale"):
            cd.load_day(con, broken, source.days[-1])
        assert content_hash(con, cd.TABLES) == before
    finally:
        con.close()
