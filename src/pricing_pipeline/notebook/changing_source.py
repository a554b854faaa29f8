"""Notebook 03: the scripted week (testing/scripted_week.py) run day by day through the daily
pipeline, as a scheduler runs it, and what its warehouse then holds.

Each day is one `pricing-pipeline run --date D --source live` in a process of its own, against the
week's source served over HTTP: the real extract, landing, load, data tests, reconciliation, run
log and backup. The tables shown are small aggregates or the week's few rows.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd

from pricing_pipeline.testing import scripted_week as script
from pricing_pipeline.warehouse.connection import content_hash

# The week's tables of data (the ops tables record each run, so a re-run adds to them by design).
DATA_TABLES = (
    "staging.exchange_rates",
    "staging.product_snapshots",
    "marts.products_eur",
    "marts.top_products_daily",
    "staging.cart_lines",
    "marts.sales_lines",
    "marts.sales_daily",
)
FACT_KINDS = ("sale", "late_sale", "further_sale", "return")


class WeekRunFailed(RuntimeError):
    """A day's run failed; the message is the runner's report."""


def _label(day: dt.date) -> str:
    return f"{day:%a %m-%d}"


def listing_prices(week: script.ScriptedWeek) -> pd.DataFrame:
    """Product x day: the listed USD price, blank when the product is not in the category that day."""
    rows = [
        {"product_id": p["id"], "day": _label(day), "price_usd": f"{p['price']:.2f}"}
        for number, day in enumerate(week.dates)
        for p in script.catalogue_on(number)
    ]
    table = pd.DataFrame(rows).pivot(index="product_id", columns="day", values="price_usd")
    return table[[_label(day) for day in week.dates]].fillna("")


def story(week: script.ScriptedWeek) -> pd.DataFrame:
    """What the source does on which day, read from the script."""
    day = week.dates
    events = [(script.PRICE_CHANGE[0], f"product {script.PRICE_CHANGE[1]}: new price {script.PRICE_CHANGE[2]}")]
    events.append((script.NEW_PRODUCT_DAY, f"product {script.NEW_PRODUCT_ID} joins the category"))
    events.append((script.LEAVES[0], f"product {script.LEAVES[1]} leaves the category"))
    for cart in script.CARTS:
        if cart.reaches_source is not None:
            events.append(
                (cart.reaches_source, f"cart {cart.cart_id}, dated {_label(day[cart.day])}, reaches the source")
            )
    for when, cart_id, product_id, quantity in script.CART_CHANGES:
        placed = next(c for c in script.CARTS if c.cart_id == cart_id).lines[product_id]
        change = "line removed" if quantity == 0 else f"quantity {placed} -> {quantity}"
        events.append((when, f"cart {cart_id}, product {product_id}: {change}"))
    for when, cart_id in script.CANCELLED:
        events.append((when, f"cart {cart_id} cancelled: gone from the source"))
    frame = pd.DataFrame(sorted(events), columns=["day", "at the source"])
    frame["day"] = [_label(day[number]) for number in frame["day"]]
    return frame.set_index("day")


def source_carts(week: script.ScriptedWeek) -> pd.DataFrame:
    """Every cart line the source holds at the end of the week."""
    rows = [
        {
            "cart_id": cart["id"],
            "date": cart["date"][:10],
            "product_id": line["productId"],
            "quantity": line["quantity"],
        }
        for cart in script.carts_on(week.days - 1, week.start)
        for line in cart["products"]
    ]
    return pd.DataFrame(rows).set_index(["cart_id", "product_id"])


def run_day(week: script.ScriptedWeek, number: int, data_dir: Path, lookback_days: int) -> None:
    """The daily run of the week's day `number`, with the source as it stands that day."""
    week.today = number
    day = week.dates[number].isoformat()
    command = [sys.executable, "-m", "pricing_pipeline.cli", "run", "--date", day, "--source", "live"]
    command += ["--category", script.CATEGORY, "--data-dir", str(data_dir), "--run-id", f"week_{day}"]
    command += ["--sales-lookback-days", str(lookback_days), "--quiet"]
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise WeekRunFailed(f"the run of {day} failed:\n{finished.stdout}{finished.stderr}")


def day_summary(con: duckdb.DuckDBPyConnection, day: dt.date, lookback_days: int) -> dict:
    """What the run of `day` read and booked."""
    first = day - dt.timedelta(days=lookback_days)
    carts, lines = con.execute(
        "SELECT count(DISTINCT cart_id), count(*) FROM staging.cart_lines WHERE cart_day BETWEEN ? AND ?",
        [first, day],
    ).fetchone()
    booked = dict(
        con.execute("SELECT kind, count(*) FROM marts.sales_lines WHERE booked_day = ? GROUP BY kind", [day]).fetchall()
    )
    opened, closed = con.execute(
        "SELECT count(*) FILTER (WHERE valid_from = ?), count(*) FILTER (WHERE valid_to = ?) "
        "FROM marts.product_versions",
        [day, day],
    ).fetchone()
    return {
        "day": _label(day),
        "carts read": carts,
        "lines read": lines,
        **{f"{kind}s booked": booked.get(kind, 0) for kind in FACT_KINDS},
        "versions opened": opened,
        "versions closed": closed,
    }


def run_week(week: script.ScriptedWeek, data_dir: Path, lookback_days: int) -> pd.DataFrame:
    """Every day of the week in order, as the daily schedule runs it; one row per run."""
    rows = []
    for number, day in enumerate(week.dates):
        run_day(week, number, data_dir, lookback_days)
        with warehouse(data_dir) as con:
            rows.append(day_summary(con, day, lookback_days))
    return pd.DataFrame(rows).set_index("day")


def warehouse(data_dir: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)


def data_hash(data_dir: Path) -> str:
    with warehouse(data_dir) as con:
        return content_hash(con, DATA_TABLES)


def _frame(data_dir: Path, sql: str) -> pd.DataFrame:
    with warehouse(data_dir) as con:
        return con.execute(sql).df()


def product_versions(data_dir: Path) -> pd.DataFrame:
    frame = _frame(
        data_dir,
        "SELECT product_id, version_number, valid_from, valid_to, is_current, price_usd, left(title, 36) AS title "
        "FROM marts.product_versions ORDER BY product_id, valid_from",
    )
    return frame.set_index(["product_id", "version_number"])


def sales_facts(data_dir: Path) -> pd.DataFrame:
    frame = _frame(
        data_dir,
        "SELECT cart_id, product_id, kind, sale_day, booked_day, quantity_before, quantity_after, quantity, "
        "price_usd, amount_usd, amount_eur, rate_date FROM marts.sales_lines "
        "ORDER BY cart_id, product_id, booked_day",
    )
    for column in ("sale_day", "booked_day", "rate_date"):
        frame[column] = frame[column].dt.strftime("%a %m-%d")
    return frame.set_index(["cart_id", "product_id"])


def booked_and_restated(data_dir: Path) -> pd.DataFrame:
    """Net sales per day in USD and EUR, by the day a fact was booked and by the day of its sale."""
    frame = _frame(
        data_dir,
        "SELECT day, basis, sum(net_usd) AS net_usd, sum(net_eur) AS net_eur FROM marts.sales_daily "
        "GROUP BY day, basis ORDER BY day",
    )
    table = frame.pivot(index="day", columns="basis", values=["net_usd", "net_eur"])
    table.columns = [f"{basis} {money.removeprefix('net_')}" for money, basis in table.columns]
    table = table[["booked usd", "restated usd", "booked eur", "restated eur"]].fillna(0)
    table.index = [_label(day) for day in table.index]
    table.loc["total"] = table.sum()
    return table


def daily_net_eur(data_dir: Path, week: script.ScriptedWeek) -> pd.DataFrame:
    """What sales.report.sales_chart draws for the week: the daily notebook's own query."""
    from pricing_pipeline.common.parameters import validate_parameters
    from pricing_pipeline.sales.report import daily_net_eur as window_net_eur

    first, last = week.dates[0].isoformat(), week.dates[-1].isoformat()
    params = validate_parameters(first, last, script.CATEGORY, "live")
    with warehouse(data_dir) as con:
        return window_net_eur(con, params, week_window(week))


def week_window(week: script.ScriptedWeek):
    """The week as a sales window (what sales.report.sales_chart says when there is nothing to draw)."""
    from pricing_pipeline.sales.window import SalesWindow

    return SalesWindow(week.dates[0], week.dates[0], week.dates[-1])
