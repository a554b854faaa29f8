"""The run's parameters (common.parameters), checked as notebooks 01 and 02 check them first."""

from __future__ import annotations

import pytest

from pricing_pipeline.common.parameters import ParameterError, validate_parameters

CATEGORY = "women's clothing"  # the case's


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("2024-02-12", "2024-02-12", CATEGORY, "ftp"), "source='ftp' is unknown; accepted: recorded, live, offline"),
        (("2024-02-12", "2024-02-12", "", "live"), "category is empty"),
        (("20240212", "20240212", CATEGORY, "live"), "expected YYYY-MM-DD"),
        (("2024-02-12", "2024-02-12", "a\nb", "live"), "expected printable text"),
        (("2024-02-12", "2024-02-12", "Electronics", "live"), "category 'Electronics' is unknown; accepted: all"),
    ],
    ids=["unknown-source", "empty-category", "basic-date-form", "control-characters-in-category", "unknown-category"],
)
def test_notebook_parameters_are_checked_the_same_way(args, fragment):
    # What notebooks 01 and 02 run first (open_run), whoever calls them.
    with pytest.raises(ParameterError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        validate_parameters(*args)


def test_the_notebooks_still_see_their_parameters_names():
    with pytest.raises(ParameterError, match=r"^end_date=2024-02-12 is before start_date=2024-02-13; "):
        validate_parameters("2024-02-13", "2024-02-12", "women's clothing", "offline")
    with pytest.raises(ParameterError, match=r"^start_date='2024-13-01' is not a calendar date"):
        validate_parameters("2024-13-01", "", "women's clothing", "offline")
    with pytest.raises(ParameterError, match=r"^category 'shoes' is unknown"):
        validate_parameters("2024-02-13", "", "shoes", "offline")
