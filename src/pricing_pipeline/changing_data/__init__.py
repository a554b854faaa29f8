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

from pricing_pipeline.changing_data.loader import (
    DATA_TESTS,
    LOAD_ORDER,
    OPEN_END,
    TABLES,
    load_day,
    open_database,
    reset_watermark,
    run_days,
    watermark,
)
from pricing_pipeline.changing_data.report import daily_revenue, product_history, revenue_chart, sales_facts
from pricing_pipeline.changing_data.simulation import (
    CATEGORY,
    LEAVES,
    MIN_DAYS,
    NEW_PRODUCT,
    NEW_PRODUCT_DAY,
    PRICE_CHANGE,
    SourceSystem,
    listing_prices,
    recorded_products,
    simulate_source,
    story,
    week_days,
)

__all__ = [
    "CATEGORY",
    "DATA_TESTS",
    "LEAVES",
    "LOAD_ORDER",
    "MIN_DAYS",
    "NEW_PRODUCT",
    "NEW_PRODUCT_DAY",
    "OPEN_END",
    "PRICE_CHANGE",
    "TABLES",
    "SourceSystem",
    "daily_revenue",
    "listing_prices",
    "load_day",
    "open_database",
    "product_history",
    "recorded_products",
    "reset_watermark",
    "revenue_chart",
    "run_days",
    "sales_facts",
    "simulate_source",
    "story",
    "watermark",
    "week_days",
]
