"""What notebook 03 shows of the week's database: the history, the facts, the revenue and its chart."""

from __future__ import annotations

import duckdb
import matplotlib.pyplot as plt
import pandas as pd


def product_history(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        "SELECT product_id, valid_from, valid_to, is_current, listed, price_usd, left(title, 36) AS title "
        "FROM marts.dim_products_history ORDER BY product_id, valid_from"
    ).df()


def sales_facts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        "SELECT event_id, event_type, order_id, line_no, event_date, product_id, quantity, unit_price_usd, "
        "amount_usd, source_changed_on FROM marts.fct_sales ORDER BY order_id, line_no, event_type DESC"
    ).df()


def daily_revenue(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    frame = con.execute("SELECT * FROM marts.daily_revenue ORDER BY day").df()
    frame["day"] = frame["day"].dt.strftime("%a %m-%d")
    return frame.set_index("day")


def revenue_chart(revenue: pd.DataFrame) -> plt.Figure:
    """Each day's revenue as booked (the day of the event) and as restated (the day of the order)."""
    figure, ax = plt.subplots(figsize=(8, 3))
    positions = range(len(revenue))
    ax.bar([p - 0.2 for p in positions], revenue["booked_usd"], width=0.4, label="booked (day of the event)")
    ax.bar([p + 0.2 for p in positions], revenue["restated_usd"], width=0.4, label="restated (day of the order)")
    ax.set_xticks(list(positions), list(revenue.index))
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel("revenue (USD)")
    ax.set_title("Daily revenue: a return lowers its own day when booked, its order's day when restated")
    ax.legend(fontsize=8)
    figure.tight_layout()
    plt.close(figure)
    return figure
