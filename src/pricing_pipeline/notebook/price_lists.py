"""Prices as a reader reads them: the best-rated products in a few major currencies, each formatted
with the currency's symbol and decimals (babel, locale en_US: ¥8,491, £45.17).

Everything here reads a bounded slice of marts.product_prices (a few products, a few currencies),
so what the notebook shows stays small whatever the size of the catalogue or of the run.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pandas as pd
from babel.numbers import format_currency

from pricing_pipeline.common.parameters import RunParameters

MAJOR_CURRENCIES = ("EUR", "USD", "GBP", "JPY", "CHF", "CNY")
LOCALE = "en_US"


def formatted(price: Decimal, currency: str) -> str:
    """A price with its currency's symbol and decimals: 8491 JPY -> ¥8,491, 45.17 GBP -> £45.17."""
    return format_currency(price, currency, locale=LOCALE)


def by_rating(products: pd.DataFrame) -> pd.DataFrame:
    """Best rated first, by the top 5's rule: rating, then number of ratings, then product id."""
    return products.sort_values(
        ["rating_rate", "rating_count", "product_id"], ascending=[False, False, True], kind="mergesort"
    )


def best_rated(top_products: pd.DataFrame, count: int = 5) -> pd.DataFrame:
    """The count best-rated products of the run's last day, whatever their category.

    Takes marts.top_products_daily's rows for the run (run_frame); returns those rows, best first.
    """
    return by_rating(top_products[top_products["day"] == top_products["day"].max()]).head(count)


# What the notebook charts: the run's last days at most, so a backfill of years costs no more to show.
SHOWN_DAYS = 31


def product_prices(
    con: duckdb.DuckDBPyConnection, params: RunParameters, product_ids, currencies=MAJOR_CURRENCIES
) -> pd.DataFrame:
    """(day, product_id, currency, price) of some products in some currencies over the run's last
    SHOWN_DAYS days, the price as the exact decimal its minor units spell.

    Takes a connection to the warehouse, the run's parameters, the product ids and the currencies;
    returns a DataFrame read from marts.product_prices, price a Decimal.
    """
    first = max(params.start_date, params.end_date - dt.timedelta(days=SHOWN_DAYS - 1))
    frame = con.execute(
        "SELECT day, product_id, currency, price_minor, minor_unit FROM marts.product_prices "
        "WHERE day BETWEEN ? AND ? AND list_contains(?, product_id) AND list_contains(?, currency) "
        "ORDER BY day, product_id, currency",
        [first, params.end_date, [int(i) for i in product_ids], list(currencies)],
    ).df()
    frame["price"] = [
        Decimal(int(minor)).scaleb(-int(unit))
        for minor, unit in zip(frame["price_minor"], frame["minor_unit"], strict=True)
    ]
    return frame.drop(columns=["price_minor", "minor_unit"])


def price_list(best: pd.DataFrame, prices: pd.DataFrame, currencies=MAJOR_CURRENCIES) -> pd.DataFrame:
    """One row per product of best, one column per currency, on the last day: the formatted price
    (empty where the day's publication has no rate for the currency).

    Takes best_rated's rows and product_prices' rows of the same products; returns a DataFrame
    indexed by "<title> (<product id>)", one text column per currency.
    """
    last = prices[prices["day"] == prices["day"].max()]
    cells = {(row.product_id, row.currency): formatted(row.price, row.currency) for row in last.itertuples()}
    table = pd.DataFrame(
        {currency: [cells.get((pid, currency), "") for pid in best["product_id"]] for currency in currencies},
        index=pd.Index(
            [f"{title[:34]} ({pid})" for pid, title in zip(best["product_id"], best["title"], strict=True)],
            name=f"best rated on {pd.Timestamp(last['day'].max()):%Y-%m-%d}",
        ),
    )
    return table
