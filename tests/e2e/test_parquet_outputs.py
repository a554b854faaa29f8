"""`--output-format parquet`: the case's deliverables as typed Parquet, read back equal to the
committed CSVs; an unknown format refused before any request. (Written whole or not at all:
tests/unit/transform/test_outputs.py.)"""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pricing_pipeline.common.parameters import ParameterError, validate_parameters
from pricing_pipeline.sales.outputs import SALES_OUTPUTS
from pricing_pipeline.transform import outputs
from tests.support.paths import PROJECT_ROOT, RUNNER

COMMITTED = PROJECT_ROOT / "data" / "output"
# The ISO 4217 minor units of the currencies whose decimals differ, written out here rather than
# taken from the package the pipeline uses.
NO_DECIMALS = {"JPY", "KRW", "ISK"}


@pytest.fixture(scope="module")
def parquet_run(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("parquet") / "data"
    command = [sys.executable, str(RUNNER), "--start", "2024-02-12", "--end", "2024-02-13", "--source", "recorded"]
    command += ["--data-dir", str(data), "--run-id", "case", "--output-format", "parquet"]
    command += ["--publish-outputs", str(data.parent / "published")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return data


def committed(name: str) -> list[dict]:
    with open(COMMITTED / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def parquet_rows(path: Path) -> tuple[list[dict], dict[str, tuple]]:
    """The rows of a Parquet file, and each column's type as the file records it (with a decimal's scale)."""
    con = duckdb.connect()
    try:
        relation = con.sql(f"SELECT * FROM read_parquet('{path}')")
        names = relation.columns
        rows = [dict(zip(names, row, strict=True)) for row in relation.fetchall()]
        schema = con.execute(
            "SELECT name, converted_type, scale FROM parquet_schema(?) WHERE num_children IS NULL",
            [str(path)],
        ).fetchall()
    finally:
        con.close()
    return rows, {name: (kind, scale) for name, kind, scale in schema}


def cents(value) -> int:
    """A price as integer cents, from the CSV's text or Parquet's decimal: money compared as integers."""
    amount = Decimal(str(value)) * 100
    assert amount == amount.to_integral_value(), value
    return int(amount)


def test_the_run_writes_only_parquet_deliverables_and_publishes_them(parquet_run):
    written = sorted(path.name for path in (parquet_run / "runs" / "case" / "output").iterdir())
    products = sorted(name.replace(".csv", ".parquet") for name in outputs.OUTPUTS)
    sales = sorted(name.replace(".csv", ".parquet") for name in SALES_OUTPUTS)
    assert written == sorted(products + sales)
    # --publish-outputs publishes the products' deliverables; the sales' have their own option.
    assert sorted(path.name for path in (parquet_run.parent / "published").iterdir()) == products


def test_exchange_rates_read_back_equal_to_the_csv(parquet_run):
    rows, types = parquet_rows(parquet_run / "runs" / "case" / "output" / "exchange_rates.parquet")
    assert (types["rate_date"], types["rate"]) == (("DATE", None), ("DECIMAL", 6))
    expected = [
        (dt.date.fromisoformat(row["rate_date"]), row["base"], row["currency"], Decimal(row["rate"]))
        for row in committed("exchange_rates.csv")
    ]
    assert [(row["rate_date"], row["base"], row["currency"], row["rate"]) for row in rows] == expected


@pytest.mark.parametrize("name", ["products_eur", "top_products_daily"])
def test_products_read_back_equal_to_the_csv(parquet_run, name):
    rows, types = parquet_rows(parquet_run / "runs" / "case" / "output" / f"{name}.parquet")
    assert [types[column] for column in ("day", "rate_date", "price_usd", "price_eur")] == [
        ("DATE", None),
        ("DATE", None),
        ("DECIMAL", 2),
        ("DECIMAL", 2),
    ]
    expected = committed(f"{name}.csv")
    assert list(rows[0]) == list(expected[0])  # the same columns, in the same order
    assert len(rows) == len(expected)
    for got, want in zip(rows, expected, strict=True):
        assert got["day"] == dt.date.fromisoformat(want["day"])
        assert got["rate_date"] == dt.date.fromisoformat(want["rate_date"])
        assert (got["product_id"], got["rating_count"]) == (int(want["product_id"]), int(want["rating_count"]))
        assert (got["title"], got["category"]) == (want["title"], want["category"])
        assert (cents(got["price_usd"]), cents(got["price_eur"])) == (
            cents(want["price_usd"]),
            cents(want["price_eur"]),
        )
        assert got["rating_rate"] == float(want["rating_rate"])
        if "usd_per_eur" in want:
            assert got["usd_per_eur"] == Decimal(want["usd_per_eur"])


def test_prices_in_every_currency_read_back_as_the_csvs_minor_units(parquet_run):
    rows, types = parquet_rows(parquet_run / "runs" / "case" / "output" / "product_prices.parquet")
    rows.sort(key=lambda row: (row["day"], row["product_id"], row["currency"]))  # written in no order
    assert (types["price_minor"], types["minor_unit"]) == (("INT_64", None), ("INT_32", None))
    expected = committed("product_prices.csv")
    assert len(rows) == len(expected) == 6 * 2 * 31
    for got, want in zip(rows, expected, strict=True):
        key = (dt.date.fromisoformat(want["day"]), int(want["product_id"]), want["currency"])
        assert (got["day"], got["product_id"], got["currency"]) == key
        unit = 0 if want["currency"] in NO_DECIMALS else 2
        assert got["minor_unit"] == unit, key
        assert got["price_minor"] == int(Decimal(want["price"]).scaleb(unit)), key


def test_an_unknown_output_format_is_refused_before_any_request():
    with pytest.raises(ParameterError, match=r"output_format='xml' is unknown; accepted: csv, parquet"):
        validate_parameters("2024-02-12", "2024-02-13", "women's clothing", "recorded", output_format="xml")
    result = subprocess.run(
        [sys.executable, str(RUNNER), "--date", "2024-02-12", "--source", "recorded", "--output-format", "xml"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "invalid choice: 'xml'" in result.stderr


@pytest.fixture(scope="module")
def sales_parquet_run(tmp_path_factory) -> Path:
    """The recorded carts' range, as `make run` runs it for the committed sales CSVs, in Parquet."""
    data = tmp_path_factory.mktemp("sales_parquet") / "data"
    command = [sys.executable, str(RUNNER), "--start", "2020-01-01", "--end", "2020-03-02", "--category", "all"]
    command += ["--source", "offline", "--data-dir", str(data), "--run-id", "sales", "--output-format", "parquet"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return data / "runs" / "sales" / "output"


def test_sales_lines_read_back_equal_to_the_committed_csv(sales_parquet_run):
    rows, types = parquet_rows(sales_parquet_run / "sales_lines.parquet")
    assert types["booked_day"] == ("DATE", None) and types["amount_eur"][0] == "DECIMAL"
    expected = committed("sales_lines.csv")
    assert len(rows) == len(expected) == 14
    for row, line in zip(rows, expected, strict=True):
        assert row["booked_day"] == dt.date.fromisoformat(line["booked_day"])
        assert (row["cart_id"], row["product_id"], row["kind"]) == (
            int(line["cart_id"]),
            int(line["product_id"]),
            line["kind"],
        )
        assert row["quantity"] == int(line["quantity"])
        for column in ("price_usd", "amount_usd", "amount_eur"):
            assert cents(row[column]) == cents(line[column]), (line, column)
        assert Decimal(str(row["usd_per_eur"])) == Decimal(line["usd_per_eur"])


def test_sales_amounts_in_every_currency_read_back_as_minor_units(sales_parquet_run):
    rows, types = parquet_rows(sales_parquet_run / "sales_line_amounts.parquet")
    assert "amount" not in types and types["amount_minor"][0] in ("INT_64", None)
    expected = committed("sales_line_amounts.csv")
    assert len(rows) == len(expected)
    key = lambda r: (str(r["booked_day"]), int(r["cart_id"]), int(r["product_id"]), r["currency"])  # noqa: E731
    for row, line in zip(sorted(rows, key=key), sorted(expected, key=key), strict=True):
        decimals = 0 if line["currency"] in NO_DECIMALS else 2
        assert row["minor_unit"] == decimals, line
        assert row["amount_minor"] == int(Decimal(line["amount"]) * 10**decimals), line
