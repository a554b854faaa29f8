"""A simulated week of a changing source, loaded with MERGE: the code behind 03_changing_data.ipynb.

The source system is the recorded "women's clothing" catalogue plus a small order system, over a
few days in which a price changes, a product leaves the category, a new one arrives, one order
reaches the source a day late and a customer returns an earlier order line. Each day's load runs
in one transaction of its own DuckDB database (never the pipeline's warehouse):

1. land the day's extracts in raw tables (the catalogue listing of the day; the order events changed
   since the watermark, minus a lookback), replacing that day's raw partition;
2. MERGE the listing into marts.dim_products_history (type 2: a change closes the version in force
   and opens a new one) and the standardised order events into marts.fct_sales (new events inserted,
   events changed at the source updated, re-read ones untouched);
3. move the watermark, run the data tests of sql/changing_data/tests/, and commit only if they pass.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

import duckdb
import matplotlib.pyplot as plt
import pandas as pd

from . import warehouse
from .parameters import validate_parameters
from .parsing import parse_products
from .paths import SQL_DIR
from .sources import fetch_products

CATEGORY = "women's clothing"
SQL_FOLDER = "changing_data"
SCHEMAS = ("raw", "marts", "ops")
# The load of one day, in order: each file builds one table (or view) from the ones before it.
LOAD_ORDER = (
    "raw_product_listings.sql",
    "raw_order_events.sql",
    "dim_products_history.sql",
    "fct_sales.sql",
    "watermarks.sql",
    "daily_revenue.sql",
)
TABLES = (
    "raw.product_listings",
    "raw.order_events",
    "marts.dim_products_history",
    "marts.fct_sales",
    "ops.watermarks",
)
ORDER_EVENTS = "order_events"  # the watermark's name in ops.watermarks
OPEN_END = dt.date(9999, 12, 31)  # valid_to of a current version

# The week's story, as day offsets from the start: what the source system does on which day.
PRICE_CHANGE = (2, 17, 34.99)  # day, product, new price (USD): a price cut
NEW_PRODUCT_DAY = 3
NEW_PRODUCT = {"product_id": 21, "title": "Women's Linen Shirt Dress (simulated arrival)", "price_usd": 24.90}
LEAVES = (4, 15)  # day, product: the snowboard jacket leaves the category (end of season)
LATE_ORDER_DAY = 3  # the last order of this day reaches the order system one day late
RETURN_DAY = 5  # a customer returns one unit of an earlier order line
MIN_DAYS = RETURN_DAY + 1


# A data test of the week failed: the day's load was rolled back.
ChangingDataError = warehouse.DataTestError


# ---------------------------------------------------------------- the source system


@dataclass(frozen=True)
class SourceSystem:
    """What the source holds: the listing of each day, and every order event with its change day."""

    days: tuple[dt.date, ...]
    listings: dict[dt.date, pd.DataFrame]
    order_events: pd.DataFrame

    def listing(self, day: dt.date) -> pd.DataFrame:
        """The category's products on that day: the full snapshot a catalogue API answers."""
        return self.listings[day].copy()

    def order_events_changed(self, after: dt.date | None, up_to: dt.date) -> pd.DataFrame:
        """The incremental query: events the source changed after `after` (exclusive), up to a day."""
        events = self.order_events
        keep = events["changed_on"] <= pd.Timestamp(up_to)
        if after is not None:
            keep &= events["changed_on"] > pd.Timestamp(after)
        return events[keep].reset_index(drop=True)


def recorded_products(start: dt.date, end: dt.date) -> pd.DataFrame:
    """The real products of the category, read and validated as the pipeline reads them."""
    params = validate_parameters(start.isoformat(), end.isoformat(), CATEGORY, "recorded", "changing_data")
    return parse_products(fetch_products(params), params)


def week_days(start_date: str, days: int) -> tuple[dt.date, ...]:
    start = dt.date.fromisoformat(start_date)
    if days < MIN_DAYS:
        raise ValueError(f"days={days}: the week's story needs at least {MIN_DAYS} days (the return is on day {MIN_DAYS})")
    return tuple(start + dt.timedelta(days=i) for i in range(days))


def simulate_listings(products: pd.DataFrame, days: tuple[dt.date, ...]) -> dict[dt.date, pd.DataFrame]:
    """The catalogue each day: the recorded products, changed by the week's story."""
    base = products[["product_id", "title", "category", "price_usd"]].copy()
    listings = {}
    for offset, day in enumerate(days):
        listing = base.copy()
        change_day, changed_id, new_price = PRICE_CHANGE
        if offset >= change_day:
            listing.loc[listing["product_id"] == changed_id, "price_usd"] = new_price
        if offset >= NEW_PRODUCT_DAY:
            listing = pd.concat([listing, pd.DataFrame([{**NEW_PRODUCT, "category": CATEGORY}])], ignore_index=True)
        leave_day, leaving_id = LEAVES
        if offset >= leave_day:
            listing = listing[listing["product_id"] != leaving_id]
        listings[day] = listing.sort_values("product_id", ignore_index=True)
    return listings


def simulate_orders(
    listings: dict[dt.date, pd.DataFrame], days: tuple[dt.date, ...], seed: int
) -> pd.DataFrame:
    """Sale lines drawn from a fixed seed (1-2 orders a day, 1-2 lines, 1-2 units), and one return.

    A sale is priced at the listing of its day. The return refunds one unit of the earliest line
    whose product's price has changed since (so the refund is visibly the price paid, not today's),
    else of the earliest line.
    """
    rng = random.Random(seed)
    rows = []
    order_id = 1000
    for offset, day in enumerate(days):
        listing = listings[day].set_index("product_id")["price_usd"]
        orders = rng.randint(1, 2)
        for number in range(orders):
            order_id += 1
            recorded = day + dt.timedelta(days=1) if (offset == LATE_ORDER_DAY and number == orders - 1) else day
            for line_no, product_id in enumerate(rng.sample(sorted(listing.index), rng.randint(1, 2)), start=1):
                rows.append(
                    {
                        "event_id": f"S-{order_id}-{line_no}",
                        "event_type": "sale",
                        "order_id": order_id,
                        "line_no": line_no,
                        "event_date": day,
                        "product_id": int(product_id),
                        "quantity": rng.randint(1, 2),
                        "unit_price": float(listing[product_id]),
                        "changed_on": recorded,
                    }
                )
    return_day = days[RETURN_DAY]
    today = listings[return_day].set_index("product_id")["price_usd"]
    earlier = [row for row in rows if row["event_date"] < return_day]
    repriced = [row for row in earlier if today.get(row["product_id"]) not in (None, row["unit_price"])]
    returned = (repriced or earlier)[0]
    rows.append(
        {
            **returned,
            "event_id": f"R-{returned['order_id']}-{returned['line_no']}",
            "event_type": "return",
            "event_date": return_day,
            "quantity": 1,  # the source counts returned units as positive; staging signs them
            "changed_on": return_day,
        }
    )
    events = pd.DataFrame(rows)
    for column in ("event_date", "changed_on"):
        events[column] = pd.to_datetime(events[column])
    return events.sort_values(["changed_on", "event_id"], ignore_index=True)


def simulate_source(products: pd.DataFrame, start_date: str, days: int, seed: int) -> SourceSystem:
    week = week_days(start_date, days)
    listings = simulate_listings(products, week)
    return SourceSystem(week, listings, simulate_orders(listings, week, seed))


def listing_prices(source: SourceSystem) -> pd.DataFrame:
    """Product x day: the listed price, blank when the product is not in the category that day."""
    frames = [listing.assign(day=f"{day:%a %m-%d}") for day, listing in source.listings.items()]
    table = pd.concat(frames).pivot(index="product_id", columns="day", values="price_usd")
    table = table[[f"{day:%a %m-%d}" for day in source.days]]
    return table.apply(lambda column: column.map(lambda price: "" if pd.isna(price) else f"{price:.2f}"))


def story(source: SourceSystem) -> pd.DataFrame:
    """What happened at the source, day by day, read back from the simulated data."""
    lines = []
    previous = None
    for day in source.days:
        listing = source.listings[day].set_index("product_id")
        when = f"{day:%a %m-%d}"
        if previous is not None:
            for product_id in sorted(set(listing.index) - set(previous.index)):
                lines.append((when, f"product {product_id} joins the category at {listing.at[product_id, 'price_usd']:.2f}"))
            for product_id in sorted(set(previous.index) - set(listing.index)):
                lines.append((when, f"product {product_id} leaves the category"))
            for product_id in sorted(set(listing.index) & set(previous.index)):
                old, new = previous.at[product_id, "price_usd"], listing.at[product_id, "price_usd"]
                if old != new:
                    lines.append((when, f"product {product_id}: price {old:.2f} -> {new:.2f}"))
        events = source.order_events[source.order_events["changed_on"] == pd.Timestamp(day)]
        late = events[(events["event_date"] < pd.Timestamp(day)) & (events["event_type"] == "sale")]
        for order_id, lines_of_order in late.groupby("order_id"):
            placed = lines_of_order["event_date"].iloc[0]
            lines.append((when, f"order {order_id}, placed {placed:%a %m-%d}, reaches the order system (late)"))
        for row in events[events["event_type"] == "return"].itertuples():
            lines.append(
                (when, f"{row.quantity} unit of order {row.order_id} line {row.line_no} (product {row.product_id}, "
                       f"paid {row.unit_price:.2f}) is returned")
            )
        previous = listing
    return pd.DataFrame(lines, columns=["day", "at the source"]).set_index("day")


# ---------------------------------------------------------------- the database and its loads


def sql_text(name: str) -> str:
    return warehouse.sql_text(f"{SQL_FOLDER}/{name}")


def open_database(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """The week's own database: in memory, or a file started afresh (never the pipeline's warehouse)."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in (path, path.with_name(path.name + ".wal")):
            stale.unlink(missing_ok=True)
    con = duckdb.connect(str(path) if path is not None else ":memory:")
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    return con


def watermark(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The latest source change day loaded so far, or None before the first load (or after a reset)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'ops' AND table_name = 'watermarks'"
    ).fetchall()[0][0]
    if not exists:
        return None
    rows = con.execute("SELECT high_water FROM ops.watermarks WHERE source = ?", [ORDER_EVENTS]).fetchall()
    return rows[0][0] if rows else None


def reset_watermark(con: duckdb.DuckDBPyConnection) -> None:
    """What a backfill does first: forget the watermark, so the replayed days re-extract everything."""
    if watermark(con) is not None:
        con.execute("DELETE FROM ops.watermarks WHERE source = ?", [ORDER_EVENTS])


def run_data_tests(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Failing rows of each query of sql/changing_data/tests/; raises if any query returns a row."""
    return warehouse.run_data_tests(con, SQL_DIR / SQL_FOLDER / "tests")


def _actions(rows: list[tuple]) -> dict[str, int]:
    counts = {"INSERT": 0, "UPDATE": 0}
    for row in rows:
        counts[row[0]] += 1
    return counts


def load_day(
    con: duckdb.DuckDBPyConnection, source: SourceSystem, day: dt.date, lookback_days: int = 1
) -> dict:
    """One day's job, in one transaction; returns what it read and what each MERGE did."""
    high_water = watermark(con)
    after = high_water - dt.timedelta(days=lookback_days) if high_water is not None else None
    events = source.order_events_changed(after, day)
    inputs = {
        "load_day": pd.DataFrame({"day": [day]}),
        "incoming_listing": source.listing(day),
        "incoming_order_events": events,
    }
    with warehouse.transaction(con, inputs):
        results = {name: con.execute(sql_text(name)).fetchall() for name in LOAD_ORDER}
        run_data_tests(con)
    dim = _actions(results["dim_products_history.sql"])
    fct = _actions(results["fct_sales.sql"])
    late = sum(1 for action, _, event_date in results["fct_sales.sql"] if action == "INSERT" and event_date < day)
    return {
        "day": f"{day:%a %m-%d}",
        "watermark before": f"{high_water:%m-%d}" if high_water else "none",
        "events read": len(events),
        "facts inserted": fct["INSERT"],
        "of them late": late,
        "facts updated": fct["UPDATE"],
        "re-read, unchanged": len(events) - fct["INSERT"] - fct["UPDATE"],
        "versions closed": dim["UPDATE"],
        "versions opened": dim["INSERT"],
    }


def run_days(con: duckdb.DuckDBPyConnection, source: SourceSystem, lookback_days: int = 1) -> pd.DataFrame:
    """Load every day of the source in order, as the daily schedule (or a backfill) would."""
    return pd.DataFrame([load_day(con, source, day, lookback_days) for day in source.days]).set_index("day")


# ---------------------------------------------------------------- what the notebook shows


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
