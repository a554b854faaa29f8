"""The warehouse connection (warehouse.connection): the memory DuckDB is given."""

from __future__ import annotations

import pytest


def test_duckdb_takes_the_memory_it_is_given(tmp_path, monkeypatch):
    """PIPELINE_DUCKDB_MEMORY_GB bounds every warehouse connection (1.5 GiB unset); a value outside
    its range is an error naming the variable, before the warehouse is opened."""
    from pricing_pipeline.common.settings import SettingError
    from pricing_pipeline.warehouse.connection import connect

    def limit() -> str:
        with connect(tmp_path / "w.duckdb") as con:
            return con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]

    monkeypatch.delenv("PIPELINE_DUCKDB_MEMORY_GB", raising=False)
    unset = limit()
    monkeypatch.setenv("PIPELINE_DUCKDB_MEMORY_GB", "0.5")
    assert (unset, limit()) == ("1.5 GiB", "512.0 MiB")
    monkeypatch.setenv("PIPELINE_DUCKDB_MEMORY_GB", "lots")
    with pytest.raises(SettingError, match=r"PIPELINE_DUCKDB_MEMORY_GB='lots' is not usable; expected a number"):
        limit()
