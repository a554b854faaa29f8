"""The simulated week of changing_data, loaded as notebook 03 loads it, for the tests that read it back."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pricing_pipeline import changing_data as cd

# The default week of 03_changing_data.ipynb: (first day, days, seed).
DEFAULT_WEEK = ("2024-02-12", 7, 2)


def week_products() -> pd.DataFrame:
    """The recorded catalogue the week's source system lists (the case's category, its first day)."""
    return cd.recorded_products(dt.date(2024, 2, 12), dt.date(2024, 2, 13))


def loaded(products, week, lookback_days=1):
    """The week simulated and loaded day by day in a database of its own: (source, connection, log)."""
    start_date, days, seed = week
    source = cd.simulate_source(products, start_date, days, seed)
    con = cd.open_database()
    log = cd.run_days(con, source, lookback_days)
    return source, con, log


def history_rows(con) -> list[tuple]:
    """marts.dim_products_history as sorted tuples: (id, from, to, current, listed, price)."""
    return sorted(
        con.execute(
            "SELECT product_id, valid_from, valid_to, is_current, listed, price_usd FROM marts.dim_products_history"
        ).fetchall()
    )
