"""The simulated source of the week (changing_data.simulation)."""

from __future__ import annotations

import pytest

from pricing_pipeline import changing_data as cd


def test_a_week_too_short_for_the_story_is_refused():
    with pytest.raises(ValueError, match="at least 6 days"):
        cd.week_days("2024-02-12", 5)
