"""The prices marts.product_prices should hold, computed independently with Python's decimal from
the ECB history file (read by tests/support/ecb_reference.py with the csv module).

For a day, the publication in force is the file's latest date on or before it; every currency of
that row (and EUR, at 1) is priced: price_usd * rate / USD rate, quantized once, half-up, to the
currency's minor unit.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

from tests.support.ecb_reference import ecb_table

# ISO 4217 gives JPY, KRW and ISK no minor unit; of the withdrawn codes the ECB quoted, CLDR gives
# TRL none. Every other currency of the ECB history has two decimals.
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "ISK", "TRL"})


def minor_unit_of(currency: str) -> int:
    return 0 if currency in ZERO_DECIMAL_CURRENCIES else 2


def expected_price(price_usd: Decimal, rate: Decimal, usd_per_eur: Decimal, minor_unit: int) -> Decimal:
    """price_usd * rate / usd_per_eur, half-up to minor_unit decimals.

    100 significant digits: the quotient of these inputs (at most 6 + 6 + 2 decimals) is never that
    close to a half without being on it, so the only rounding that matters is the quantize.
    """
    with localcontext() as context:
        context.prec = 100
        return (price_usd * rate / usd_per_eur).quantize(Decimal(1).scaleb(-minor_unit), rounding=ROUND_HALF_UP)


def publication_in_force(day: dt.date) -> dt.date:
    """The ECB file's latest date on or before day (every publication has a USD rate)."""
    dates = sorted(ecb_table())
    return dates[bisect.bisect_right(dates, day) - 1]


def published_rates(rate_date: dt.date) -> dict[str, Decimal]:
    """Every rate of one publication, and EUR at 1."""
    return {**ecb_table()[rate_date], "EUR": Decimal(1)}


def expected_rows(days, prices_usd: dict[int, Decimal]) -> dict[tuple, tuple]:
    """{(day, product_id, currency): (price, minor_unit, rate, usd_per_eur, rate_date)} for every
    product of prices_usd on every day."""
    rows = {}
    for day in days:
        rate_date = publication_in_force(day)
        rates = published_rates(rate_date)
        usd = rates["USD"]
        for product_id, price_usd in prices_usd.items():
            for currency, rate in rates.items():
                unit = minor_unit_of(currency)
                rows[(day, product_id, currency)] = (
                    expected_price(price_usd, rate, usd, unit),
                    unit,
                    rate,
                    usd,
                    rate_date,
                )
    return rows


def mart_rows(con, where: str = "TRUE", args: list | None = None) -> dict[tuple, tuple]:
    """marts.product_prices in the same shape, the price as the decimal its minor units spell."""
    cursor = con.execute(
        "SELECT day, product_id, currency, price_minor, minor_unit, rate, usd_per_eur, rate_date "
        f"FROM marts.product_prices WHERE {where}",
        args or [],
    )
    return {
        (day, product_id, currency): (Decimal(price_minor).scaleb(-minor_unit), minor_unit, rate, usd, rate_date)
        for day, product_id, currency, price_minor, minor_unit, rate, usd, rate_date in cursor.fetchall()
    }


def csv_rows(output_dir: Path) -> dict[tuple, tuple]:
    """A run's deliverables in the same shape, read with the csv module: each price of
    product_prices.csv (its minor unit is the number of decimals it is written with), with the
    usd_per_eur and rate_date of its product-day from products_eur.csv and its rate from
    exchange_rates.csv (EUR at 1)."""

    def read(name: str) -> list[dict]:
        with (output_dir / name).open(encoding="utf-8", newline="") as file:
            return list(csv.DictReader(file))

    priced = {
        (row["day"], row["product_id"]): (Decimal(row["usd_per_eur"]), dt.date.fromisoformat(row["rate_date"]))
        for row in read("products_eur.csv")
    }
    rates = {(row["rate_date"], row["currency"]): Decimal(row["rate"]) for row in read("exchange_rates.csv")}
    rows = {}
    for row in read("product_prices.csv"):
        price = Decimal(row["price"])
        usd, rate_date = priced[(row["day"], row["product_id"])]
        rate = Decimal(1) if row["currency"] == "EUR" else rates[(rate_date.isoformat(), row["currency"])]
        key = (dt.date.fromisoformat(row["day"]), int(row["product_id"]), row["currency"])
        rows[key] = (price, -price.as_tuple().exponent, rate, usd, rate_date)
    return rows
