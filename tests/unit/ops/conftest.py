"""The data folder of a small warehouse with one backup, shared by the backup and restore tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from pricing_pipeline.ops.backups import export_backup
from tests.support.small_warehouse import hash_of, small_warehouse


@pytest.fixture
def backed_up(tmp_path) -> tuple[Path, str]:
    """A data folder whose warehouse has one backup; the content hash before anything happens."""
    data = tmp_path / "data"
    data.mkdir()
    warehouse = small_warehouse(data / "warehouse.duckdb")
    expected = hash_of(warehouse)
    export_backup(warehouse, data / "backups", "first")
    return data, expected
