"""What the transform notebook shows of a run's sales: a small table and a chart, whatever the
volume (both read aggregates of marts.sales_daily, never the facts)."""

from __future__ import annotations

import duckdb
import matplotlib.pyplot as plt
import pandas as pd

from pricing_pipeline.common.parameters import RunParameters
from pricing_pipeline.sales.window import SalesWindow

CHART_DAYS = 31  # a backfill of years is shown at the cost of a month


def day_sales(con: duckdb.DuckDBPyConnection, params: RunParameters, window: SalesWindow) -> pd.DataFrame:
    """The run's last day as booked, per category: one row per category sold, at most a few."""
    category = "" if params.whole_catalogue else "AND category = ?"
    return (
        con.execute(
            "SELECT category, units_sold, units_returned, net_units, gross_usd, returns_usd, net_usd, "
            "gross_eur, returns_eur, net_eur FROM marts.sales_daily "
            f"WHERE basis = 'booked' AND day = ? {category} ORDER BY category",
            [params.end_date, *([] if params.whole_catalogue else [params.category])],
        )
        .df()
        .set_index("category")
    )


def daily_net_eur(con: duckdb.DuckDBPyConnection, params: RunParameters, window: SalesWindow) -> pd.DataFrame:
    """Net EUR per day of the window (its last CHART_DAYS), booked and restated."""
    first = max(window.start, params.end_date - pd.Timedelta(days=CHART_DAYS - 1).to_pytimedelta())
    category = "" if params.whole_catalogue else "AND category = ?"
    return con.execute(
        "SELECT basis, day, sum(net_eur) AS net_eur FROM marts.sales_daily "
        f"WHERE day BETWEEN ? AND ? {category} GROUP BY basis, day ORDER BY basis, day",
        [first, params.end_date, *([] if params.whole_catalogue else [params.category])],
    ).df()


def sales_chart(daily: pd.DataFrame, window: SalesWindow) -> plt.Figure:
    """Net sales in EUR per day, by the day booked and by the day of the sale."""
    figure, ax = plt.subplots(figsize=(9, 2.8))
    if daily.empty:
        ax.text(0.5, 0.5, f"no sales from {window.start} to {window.end}", ha="center", va="center")
        ax.set_axis_off()
    else:
        table = daily.pivot(index="day", columns="basis", values="net_eur").astype(float).fillna(0.0)
        positions = range(len(table))
        width = 0.4
        for offset, basis in ((-width / 2, "booked"), (width / 2, "restated")):
            if basis in table:
                ax.bar([p + offset for p in positions], table[basis], width, label=basis)
        ax.set_xticks(list(positions), [f"{d:%m-%d}" for d in table.index], rotation=45 if len(table) > 10 else 0)
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_ylabel("net EUR")
        ax.legend()
        ax.grid(axis="y", alpha=0.3)
    ax.set_title("Net sales in EUR: booked (day recorded) and restated (day sold)")
    figure.tight_layout()
    plt.close(figure)
    return figure
