"""marts.product_prices: every product and day in every currency of the ECB publication in force,
against the independent decimal computation of tests/support/prices_reference.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import ROUND_HALF_EVEN, Decimal

import pandas as pd
import pytest

from pricing_pipeline.common.categories import known_categories
from pricing_pipeline.common.parameters import ParameterError, validate_parameters
from pricing_pipeline.extract.parsing import PRODUCT_COLUMNS, RATE_COLUMNS, parse_exchange_rates, parse_products
from pricing_pipeline.extract.sources import fetch_exchange_rates, fetch_products
from pricing_pipeline.transform.currencies import CLDR_SOURCE, ISO_SOURCE, UnknownCurrencyError, minor_units
from pricing_pipeline.transform.load import load_run
from pricing_pipeline.warehouse.connection import connect, user_tables
from pricing_pipeline.warehouse.partitions import run_frame
from tests.support.case_data import CASE_PRODUCTS, load_case
from tests.support.ecb_reference import ecb_table
from tests.support.paths import PROJECT_ROOT, RECORDINGS
from tests.support.prices_reference import (
    ZERO_DECIMAL_CURRENCIES,
    csv_rows,
    expected_price,
    expected_rows,
    mart_rows,
    minor_unit_of,
    publication_in_force,
)

TODAY = dt.date(2026, 11, 1)
CASE_DAYS = (dt.date(2024, 2, 12), dt.date(2024, 2, 13))
CATALOGUE = json.loads((RECORDINGS / "fakestore" / "products.json").read_bytes(), parse_float=Decimal)
CATALOGUE_PRICES = {record["id"]: Decimal(str(record["price"])) for record in CATALOGUE}


def prices_of(path) -> dict[int, Decimal]:
    return {r["id"]: Decimal(str(r["price"])) for r in json.loads(path.read_bytes(), parse_float=Decimal)}


def load_offline(con, start: str, end: str, category: str = "all", run_id: str = "r"):
    """A run's load as the notebooks do it: the package's extract and parsers, offline source."""
    params = validate_parameters(start, end, category, "offline", run_id, today=TODAY)
    rates = parse_exchange_rates(fetch_exchange_rates(params), params)
    products = parse_products(fetch_products(params), params)
    load_run(con, params, rates, products)
    return params


def days_between(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


# ---------------------------------------------------------------- the case, every currency


@pytest.fixture(scope="module")
def case_con(tmp_path_factory):
    with connect(tmp_path_factory.mktemp("case") / "w.duckdb") as con:
        load_case(con)
        yield con


def test_case_is_priced_in_every_currency_of_the_ecb_file_and_eur(case_con):
    expected = expected_rows(CASE_DAYS, prices_of(CASE_PRODUCTS))
    assert mart_rows(case_con) == expected
    currencies = {currency for _, _, currency in expected}
    assert currencies == set(ecb_table()[dt.date(2024, 2, 12)]) | {"EUR"}
    assert len(currencies) == 31 and len(expected) == 6 * 2 * 31


def test_case_prices_by_hand(case_con):
    # ECB 2024-02-12: USD 1.0773, JPY 160.51, GBP 0.85391. Product 15 costs 56.99 USD:
    # 56.99 * 160.51 / 1.0773 = 8491.10... yen -> 8491; 56.99 * 0.85391 / 1.0773 = 45.1724... -> 45.17 GBP.
    rows = mart_rows(case_con, "day = '2024-02-12' AND product_id = 15")
    assert rows[(dt.date(2024, 2, 12), 15, "JPY")][0] == 8491
    assert rows[(dt.date(2024, 2, 12), 15, "GBP")][0] == Decimal("45.17")
    assert rows[(dt.date(2024, 2, 12), 15, "EUR")][0] == Decimal("52.90")


def test_eur_prices_are_those_of_products_eur(case_con):
    eur = case_con.execute(
        "SELECT p.price_minor, e.price_eur FROM marts.product_prices AS p JOIN marts.products_eur AS e "
        "USING (day, product_id) WHERE p.currency = 'EUR'"
    ).fetchall()
    assert len(eur) == 12
    assert all(Decimal(minor).scaleb(-2) == price_eur for minor, price_eur in eur)


def test_committed_csv_matches_the_decimal_computation_on_every_row():
    # Each price is written with exactly its currency's decimals (8491 yen, 45.17 pounds, 0.50 not
    # 0.5): csv_rows takes the minor unit from the text, and expected_rows from ISO 4217.
    actual = csv_rows(PROJECT_ROOT / "data" / "output")
    expected = expected_rows(CASE_DAYS, prices_of(CASE_PRODUCTS))
    assert actual == expected
    assert len(actual) == 372


# ---------------------------------------------------------------- minor units


def test_zero_decimal_currencies_have_no_decimals(case_con):
    units = dict(case_con.execute("SELECT DISTINCT currency, minor_unit FROM marts.product_prices").fetchall())
    assert {c for c, unit in units.items() if unit == 0} == {"JPY", "KRW", "ISK"}
    assert {unit for c, unit in units.items() if c not in ZERO_DECIMAL_CURRENCIES} == {2}
    text = (PROJECT_ROOT / "data" / "output" / "product_prices.csv").read_text(encoding="utf-8")
    for row in csv.DictReader(io.StringIO(text)):
        if row["currency"] in ("JPY", "KRW", "ISK"):
            assert "." not in row["price"] and int(row["price"]) > 0, row


def test_every_currency_of_the_ecb_history_has_its_minor_unit():
    every = {currency for rates in ecb_table().values() for currency in rates} | {"EUR"}
    table = minor_units(every).set_index("currency")
    assert {c: int(table.loc[c, "minor_unit"]) for c in every} == {c: minor_unit_of(c) for c in every}
    assert all(int(table.loc[c, "minor_units_per_unit"]) == 10 ** minor_unit_of(c) for c in every)
    # The currencies withdrawn from ISO 4217 list one come from CLDR; the others from ISO.
    withdrawn = {"BGN", "CYP", "EEK", "HRK", "LTL", "LVL", "MTL", "ROL", "SIT", "SKK", "TRL"}
    assert set(table.index[table["source"] == CLDR_SOURCE]) == withdrawn
    assert set(table.index[table["source"] == ISO_SOURCE]) == every - withdrawn


def test_a_currency_without_a_known_minor_unit_stops_the_load():
    with pytest.raises(UnknownCurrencyError, match="'XYZ' has no minor unit"):
        minor_units(["USD", "XYZ"])


# ---------------------------------------------------------------- half-up at exact ties

# (currency, its rate per EUR, USD per EUR, USD price, price in minor units): exactly half a minor unit.
TIES = [
    ("GBP", "1", "2", "0.01", 1),  # 0.005 -> 0.01 (half-even: 0.00)
    ("GBP", "0.5", "0.8", "0.04", 3),  # 0.025 -> 0.03 (half-even: 0.02)
    ("CHF", "0.9", "1.2", "0.02", 2),  # 0.015 -> 0.02 (half-even: 0.02 too)
    ("JPY", "5", "2", "1.00", 3),  # 2.5 yen -> 3 (half-even: 2)
    ("JPY", "150.5", "1", "1.00", 151),  # 150.5 yen -> 151 (half-even: 150)
    ("ISK", "145", "1.16", "0.58", 73),  # 72.5 kronur -> 73 (half-even: 72)
    ("KRW", "1450.5", "1.25", "1.25", 1451),  # 1450.5 won -> 1451 (half-even: 1450)
]


def test_tie_table_is_made_of_exact_ties():
    for currency, rate, usd, price, minor in TIES:
        scaled = Decimal(price) * Decimal(rate) / Decimal(usd) * 10 ** minor_unit_of(currency)
        assert scaled - scaled.to_integral_value(rounding="ROUND_FLOOR") == Decimal("0.5"), currency
        assert (
            expected_price(Decimal(price), Decimal(rate), Decimal(usd), minor_unit_of(currency)).scaleb(
                minor_unit_of(currency)
            )
            == minor
        )
    half_even = [
        int(
            (Decimal(p) * Decimal(r) / Decimal(u) * 10 ** minor_unit_of(c)).quantize(
                Decimal(1), rounding=ROUND_HALF_EVEN
            )
        )
        for c, r, u, p, _ in TIES
    ]
    assert half_even != [minor for *_, minor in TIES]


def test_mart_rounds_exact_ties_half_up_in_every_minor_unit(tmp_path):
    # One weekday per tie, each with its own product, rates USD and the tie's currency only.
    days = [dt.date(2024, 3, 4) + dt.timedelta(days=i) for i in (0, 1, 2, 3, 4, 7, 8)]
    assert len(days) == len(TIES)
    expected = {}
    with connect(tmp_path / "w.duckdb") as con:
        for product_id, (day, (currency, rate, usd, price, minor)) in enumerate(zip(days, TIES, strict=True), 1):
            params = validate_parameters(
                day.isoformat(), day.isoformat(), "jewelery", "offline", f"t{product_id}", today=TODAY
            )
            rates = pd.DataFrame(
                [(pd.Timestamp(day), "EUR", "USD", float(usd)), (pd.Timestamp(day), "EUR", currency, float(rate))],
                columns=RATE_COLUMNS,
            )
            products = pd.DataFrame(
                [(product_id, f"p{product_id}", float(price), "d", "jewelery", "http://img.test/x.png", 4.0, 1)],
                columns=PRODUCT_COLUMNS,
            )
            load_run(con, params, rates, products)
            expected[(day, product_id, currency)] = minor
        actual = dict(
            ((day, pid, currency), minor)
            for day, pid, currency, minor in con.execute(
                "SELECT day, product_id, currency, price_minor FROM marts.product_prices WHERE currency NOT IN ('EUR', 'USD')"
            ).fetchall()
        )
    assert actual == expected


# ---------------------------------------------------------------- currency gaps: ISK's absence, RUB's end

GAP_RANGES = (
    ("2008-12-05", "2008-12-14"),  # ISK's last publication is 2008-12-09
    ("2018-01-29", "2018-02-04"),  # ISK is published again from 2018-02-01
    ("2022-02-25", "2022-03-06"),  # RUB's last publication is 2022-03-01
)


@pytest.fixture(scope="module")
def gaps_con(tmp_path_factory):
    with connect(tmp_path_factory.mktemp("gaps") / "w.duckdb") as con:
        for start, end in GAP_RANGES:
            load_offline(con, start, end, run_id=f"gap_{start}")
        yield con


def test_every_price_across_the_gaps_equals_the_decimal_computation(gaps_con):
    days = [
        d for start, end in GAP_RANGES for d in days_between(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    ]
    expected = expected_rows(days, CATALOGUE_PRICES)
    assert mart_rows(gaps_con) == expected
    assert len(expected) > 20 * 27 * 31


def priced_days(con, currency: str) -> set[dt.date]:
    return {
        d
        for (d,) in con.execute(
            "SELECT DISTINCT day FROM marts.product_prices WHERE currency = ?", [currency]
        ).fetchall()
    }


def test_a_currency_missing_from_the_publication_in_force_has_no_price(gaps_con):
    isk, rub = priced_days(gaps_con, "ISK"), priced_days(gaps_con, "RUB")
    day = dt.date
    # ISK: priced up to its last publication, then not, though an older rate exists; back in 2018.
    assert day(2008, 12, 9) in isk and not isk & set(days_between(day(2008, 12, 10), day(2008, 12, 14)))
    assert not isk & set(days_between(day(2018, 1, 29), day(2018, 1, 31)))
    assert set(days_between(day(2018, 2, 1), day(2018, 2, 4))) <= isk
    # RUB: 2022-03-01 is its last publication; from 03-02 (and the weekend after) no price.
    assert set(days_between(day(2022, 2, 25), day(2022, 3, 1))) <= rub
    assert not rub & set(days_between(day(2022, 3, 2), day(2022, 3, 6)))
    # Every currency of a day's rows comes from that day's publication in force.
    rows = gaps_con.execute("SELECT DISTINCT day, rate_date FROM marts.product_prices").fetchall()
    assert all(rate_date == publication_in_force(d) for d, rate_date in rows)


# ---------------------------------------------------------------- the whole catalogue on a Good Friday


def test_all_on_good_friday_prices_every_product_with_thursdays_publication(tmp_path):
    good_friday = dt.date(2024, 3, 29)  # a TARGET holiday: the ECB published on Thursday 03-28
    with connect(tmp_path / "w.duckdb") as con:
        params = load_offline(con, "2024-03-29", "2024-03-29")
        assert mart_rows(con) == expected_rows([good_friday], CATALOGUE_PRICES)
        assert {d for (d,) in con.execute("SELECT DISTINCT rate_date FROM marts.product_prices").fetchall()} == {
            dt.date(2024, 3, 28)
        }
        top = run_frame(con, "marts.top_products_daily", params)
    sizes = pd.Series([r["category"] for r in CATALOGUE]).value_counts()
    assert top.groupby("category").size().to_dict() == {c: min(5, n) for c, n in sizes.items()}
    assert set(top["category"]) == set(known_categories())
    assert top.groupby("category")["rank"].apply(list).to_dict() == {
        c: list(range(1, min(5, n) + 1)) for c, n in sizes.items()
    }


# ---------------------------------------------------------------- categories


def test_a_category_body_is_the_catalogue_filtered_by_category():
    women = json.loads((RECORDINGS / "fakestore" / "products_category_womens_clothing.json").read_bytes())
    assert women == [
        r
        for r in json.loads((RECORDINGS / "fakestore" / "products.json").read_bytes())
        if r["category"] == "women's clothing"
    ]


@pytest.mark.parametrize("category", known_categories())
def test_every_category_is_served_offline_as_the_filtered_catalogue(category):
    params = validate_parameters("2024-02-12", "2024-02-12", category, "recorded", "c", today=TODAY)
    products = parse_products(fetch_products(params), params)
    assert sorted(products["product_id"]) == sorted(r["id"] for r in CATALOGUE if r["category"] == category)


def test_categories_are_the_recorded_list_of_the_api():
    listed = json.loads((RECORDINGS / "fakestore" / "products_categories.json").read_bytes())
    assert list(known_categories()) == listed == sorted({r["category"] for r in CATALOGUE})


def test_an_unknown_category_is_refused_with_the_known_ones():
    with pytest.raises(ParameterError) as error:
        validate_parameters("2024-02-12", "2024-02-12", "shoes", "live", "u", today=TODAY)
    message = str(error.value)
    assert message.startswith("category 'shoes' is unknown; accepted: all (the whole catalogue)")
    assert all(repr(category) in message for category in known_categories())


# ---------------------------------------------------------------- the whole ECB history, whole catalogue


@pytest.mark.slow
def test_whole_history_backfill_of_all_in_every_currency_equals_decimal_on_every_row(tmp_path):
    table = ecb_table()
    last = max(table)
    with connect(tmp_path / "w.duckdb") as con:
        params = load_offline(con, "1999-01-04", last.isoformat(), run_id="history")
        cursor = con.execute(
            "SELECT day, product_id, currency, price_minor, minor_unit, rate, usd_per_eur, rate_date "
            "FROM marts.product_prices ORDER BY day, product_id, currency"
        )
        dates = sorted(table)
        index, checked, mismatches = 0, 0, []
        expected_count = 0
        for day in params.days:  # the number of rows the file implies: every currency of the day's publication
            while index + 1 < len(dates) and dates[index + 1] <= day:
                index += 1
            expected_count += len(CATALOGUE_PRICES) * (len(table[dates[index]]) + 1)
        index = 0
        while batch := cursor.fetchmany(200_000):
            for day, product_id, currency, price_minor, minor_unit, rate, usd, rate_date in batch:
                while index + 1 < len(dates) and dates[index + 1] <= day:
                    index += 1
                published = {**table[dates[index]], "EUR": Decimal(1)}
                unit = minor_unit_of(currency)
                expected = (
                    dates[index],
                    published[currency],
                    published["USD"],
                    unit,
                    expected_price(CATALOGUE_PRICES[product_id], published[currency], published["USD"], unit),
                )
                actual = (rate_date, rate, usd, minor_unit, Decimal(price_minor).scaleb(-minor_unit))
                if actual != expected:
                    mismatches.append((day, product_id, currency, actual, expected))
                checked += 1
    assert mismatches == []
    assert checked == expected_count


# ---------------------------------------------------------------- a view, read from the hand-off


def test_a_warehouse_holding_the_table_gets_the_view_at_its_next_load(tmp_path):
    """An older warehouse stored the prices as a table: the next load drops it for the view, in its
    transaction, and the view prices the days loaded before as well as the day loaded now."""
    from pricing_pipeline.extract.handoff import PRODUCTS, handoff_relation, write_handoff
    from tests.support.case_data import case_inputs

    params, rates, products = case_inputs()
    first, second = (
        validate_parameters(d.isoformat(), d.isoformat(), params.category, "recorded", "r" + str(i), today=TODAY)
        for i, d in enumerate(CASE_DAYS)
    )
    with connect(tmp_path / "w.duckdb") as con:
        load_run(con, first, rates, products)
        # The table as an older load left it: the view's rows of the first day, stored.
        con.execute("CREATE TABLE marts.stored AS SELECT * FROM marts.product_prices")
        con.execute("DROP VIEW marts.product_prices")
        con.execute("ALTER TABLE marts.stored RENAME TO product_prices")
        assert "marts.product_prices" in user_tables(con)
        # The second day read as notebook 02 reads it: from the hand-off file, through DuckDB.
        write_handoff(products, tmp_path, PRODUCTS)
        load_run(con, second, rates, handoff_relation(con, tmp_path, PRODUCTS))
        assert "marts.product_prices" not in user_tables(con)
        kind = con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_schema = 'marts' "
            "AND table_name = 'product_prices'"
        ).fetchall()
        assert kind == [("VIEW",)]
        assert mart_rows(con) == expected_rows(CASE_DAYS, prices_of(CASE_PRODUCTS))


def test_the_price_text_has_exactly_the_currencys_decimals():
    """Every ISO 4217 minor unit (0 to 4), each price against Python's decimal; another unit stops."""
    import duckdb

    from pricing_pipeline.transform.outputs import PRICE_TEXT

    cases = [(unit, minor) for unit in range(5) for minor in (0, 5, 5290, 10**12 + 7)]
    con = duckdb.connect()
    con.register("prices", pd.DataFrame(cases, columns=["minor_unit", "price_minor"]))
    written = con.execute(f"SELECT minor_unit, price_minor, {PRICE_TEXT} FROM prices").fetchall()
    for unit, minor, text in written:
        expected = Decimal(minor).scaleb(-unit)
        assert Decimal(text) == expected and -Decimal(text).as_tuple().exponent == unit, (unit, minor, text)
    with pytest.raises(duckdb.Error, match="no price text for a minor unit of 5"):
        con.execute(f"SELECT {PRICE_TEXT} FROM (SELECT 5 AS minor_unit, 1 AS price_minor)").fetchall()
