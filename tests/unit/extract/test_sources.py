"""The sources' URLs (extract.sources): a category is quoted whole into the products URL."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from pricing_pipeline.extract.sources import category_products_url


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("women's clothing", "https://api.test/products/category/women%27s%20clothing"),
        ("men's clothing", "https://api.test/products/category/men%27s%20clothing"),
        ("jewelery", "https://api.test/products/category/jewelery"),
        ("a/b?c#d", "https://api.test/products/category/a%2Fb%3Fc%23d"),
        ("électronique", "https://api.test/products/category/%C3%A9lectronique"),
    ],
)
def test_category_products_url_quotes_the_whole_category(category, expected):
    url = category_products_url("https://api.test", category)
    assert url == expected
    assert unquote(url.rsplit("/", 1)[1]) == category
