"""The charts' size does not grow with the catalogue: one bar per product only up to a bound."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle

from pricing_pipeline.charts import MAX_PRICE_BARS, PRICE_BINS, price_chart


def products_eur(count: int) -> pd.DataFrame:
    rng = np.random.default_rng(count)
    usd = rng.integers(100, 100_000, count) / 100
    return pd.DataFrame(
        {
            "day": pd.Timestamp("2024-02-13"),
            "product_id": np.arange(1, count + 1),
            "title": [f"Product {i}" for i in range(1, count + 1)],
            "price_usd": usd,
            "price_eur": (usd / 1.0773).round(2),
        }
    )


def bars(figure) -> int:
    return sum(isinstance(patch, Rectangle) for ax in figure.axes for patch in ax.patches)


def test_a_small_catalogue_has_one_bar_per_product_and_currency():
    assert bars(price_chart(products_eur(MAX_PRICE_BARS))) == 2 * MAX_PRICE_BARS


def test_a_large_catalogue_is_shown_as_its_distribution_with_its_size_stated():
    small, large = price_chart(products_eur(MAX_PRICE_BARS + 1)), price_chart(products_eur(100_000))
    for figure in (small, large):
        assert bars(figure) == 2 * PRICE_BINS
    assert list(small.get_size_inches()) == list(large.get_size_inches())
    assert "all 100,000 products" in large.axes[0].get_title()
    # Every product is counted in exactly one band of each currency.
    heights = [patch.get_height() for patch in large.axes[0].patches]
    assert sum(heights) == 2 * 100_000
