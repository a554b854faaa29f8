"""The price chart's size does not grow with the catalogue: at most max_products bars a currency."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle

from pricing_pipeline.notebook.charts import price_chart


def products_eur(count: int) -> pd.DataFrame:
    rng = np.random.default_rng(count)
    usd = rng.integers(100, 100_000, count) / 100
    return pd.DataFrame(
        {
            "day": pd.Timestamp("2024-02-13"),
            "product_id": np.arange(1, count + 1),
            "title": [f"Product {i}" for i in range(1, count + 1)],
            "category": "women's clothing",
            "price_usd": usd,
            "price_eur": (usd / 1.0773).round(2),
            "rating_rate": rng.integers(0, 51, count) / 10,
            "rating_count": rng.integers(0, 1000, count),
        }
    )


def bars(figure) -> int:
    return sum(isinstance(patch, Rectangle) for ax in figure.axes for patch in ax.patches)


def test_the_price_chart_of_a_large_catalogue_has_as_many_bars_as_a_small_one():
    small, large = price_chart(products_eur(10)), price_chart(products_eur(100_000))
    assert bars(small) == bars(large) == 2 * 10
    assert list(small.get_size_inches()) == list(large.get_size_inches())
    assert "the 10 best rated" in large.axes[0].get_title()
