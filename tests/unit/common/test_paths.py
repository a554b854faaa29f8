"""The project's paths (common.paths): the package must sit in its checkout."""

from __future__ import annotations

import pytest

from pricing_pipeline.common import paths


def test_a_checkout_is_where_the_notebooks_are(tmp_path):
    with pytest.raises(paths.NotInCheckout, match=r"pip install -e") as error:
        paths.require_checkout(tmp_path)
    assert str(tmp_path) in str(error.value) and "editable" in str(error.value)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_extract.ipynb").write_text("{}", encoding="utf-8")
    paths.require_checkout(tmp_path)
    paths.require_checkout()  # this checkout
