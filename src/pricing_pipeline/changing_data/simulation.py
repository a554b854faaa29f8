"""The source system of the simulated week: the recorded catalogue changed by a fixed story, and a
small order system drawn from a seed.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import pandas as pd

from pricing_pipeline.common.parameters import validate_parameters
from pricing_pipeline.extract.parsing import parse_products
from pricing_pipeline.extract.sources import fetch_products

CATEGORY = "women's clothing"

# The week's story, as day offsets from the start: what the source system does on which day.
PRICE_CHANGE = (2, 17, 34.99)  # day, product, new price (USD): a price cut
NEW_PRODUCT_DAY = 3
NEW_PRODUCT = {"product_id": 21, "title": "Women's Linen Shirt Dress (simulated arrival)", "price_usd": 24.90}
LEAVES = (4, 15)  # day, product: the snowboard jacket leaves the category (end of season)
LATE_ORDER_DAY = 3  # the last order of this day reaches the order system one day late
RETURN_DAY = 5  # a customer returns one unit of an earlier order line
MIN_DAYS = RETURN_DAY + 1


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
        raise ValueError(
            f"days={days}: the week's story needs at least {MIN_DAYS} days (the return is on day {MIN_DAYS})"
        )
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


def simulate_orders(listings: dict[dt.date, pd.DataFrame], days: tuple[dt.date, ...], seed: int) -> pd.DataFrame:
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
                lines.append(
                    (when, f"product {product_id} joins the category at {listing.at[product_id, 'price_usd']:.2f}")
                )
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
                (
                    when,
                    f"{row.quantity} unit of order {row.order_id} line {row.line_no} (product {row.product_id}, "
                    f"paid {row.unit_price:.2f}) is returned",
                )
            )
        previous = listing
    return pd.DataFrame(lines, columns=["day", "at the source"]).set_index("day")
