"""Backups (ops.backups): the manifest, full and incremental, pruning, and a backup that fails half way.

The warehouses are small DuckDB files built by the tests (tests/support/small_warehouse.py).
"""

from __future__ import annotations

import errno
import json
from pathlib import Path

import duckdb
import pytest

from pricing_pipeline.common.errors import DISK_FULL, cause_of
from pricing_pipeline.ops import backups as backup_module
from pricing_pipeline.ops.backups import MANIFEST, BackupFailed, export_backup, find_backups
from pricing_pipeline.ops.restore import restore_warehouse
from tests.support.small_warehouse import damage, file_digest, hash_of, small_warehouse


def test_a_backup_that_fails_half_way_is_removed(tmp_path, monkeypatch):
    warehouse = small_warehouse(tmp_path / "warehouse.duckdb")
    root = tmp_path / "backups"
    real_write_text = Path.write_text

    def disk_full_on_manifest(self, *args, **kwargs):
        if self.name == MANIFEST:  # the export's Parquet files are written by then
            assert any(self.parent.glob("*.parquet")), "the partial backup should hold files at this point"
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", disk_full_on_manifest)
    with pytest.raises(BackupFailed) as failure:
        export_backup(warehouse, root, "r1")
    assert failure.value.partial_removed
    assert cause_of(failure.value) == DISK_FULL
    assert list(root.iterdir()) == []  # neither the partial folder nor a backup that looks whole


def test_the_first_manifest_records_a_full_backup_its_rows_and_each_files_digest(backed_up):
    data, _ = backed_up
    folder = data / "backups" / "first"
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["run_id"] == "first"
    assert manifest["kind"] == "full"
    assert manifest["tables"] == ["ops.backups", "ops.run_log", "staging.t"]
    assert manifest["rows"] == {"ops.backups": 1, "ops.run_log": 1, "staging.t": 3}
    written = {path.name for path in folder.iterdir()} - {MANIFEST}
    assert manifest["files"] == {name: file_digest(folder / name) for name in sorted(written)}


def test_one_backup_in_full_every_is_full_and_pruning_keeps_what_the_kept_ones_apply_on(backed_up):
    data, _ = backed_up
    warehouse, root = data / "warehouse.duckdb", data / "backups"
    kinds = {}
    for number, name in enumerate(["second", "third", "fourth", "fifth"], start=1):
        con = duckdb.connect(str(warehouse))
        con.execute("INSERT INTO staging.t VALUES (?, 1)", [100 + number])
        con.close()
        export_backup(warehouse, root, name, keep=2, full_every=3)
        kinds[name] = json.loads((root / name / MANIFEST).read_text(encoding="utf-8"))["kind"]
    # first full; second and third on it; fourth full again (a chain holds at most full_every - 1).
    assert kinds == {"second": "incremental", "third": "incremental", "fourth": "full", "fifth": "incremental"}
    # The two newest, fourth and fifth, need nothing older: the rest were removed.
    assert [p.name for p in find_backups(root)] == ["fourth", "fifth"]
    expected = hash_of(warehouse)
    damage(warehouse)
    assert [p.name for p in restore_warehouse(data).applied] == ["fourth", "fifth"]
    assert hash_of(warehouse) == expected


def test_backups_without_a_manifest_are_not_offered(backed_up, monkeypatch):
    data, _ = backed_up
    (data / "backups" / "older-format").mkdir()  # a backup made before manifests existed
    assert [p.name for p in backup_module.find_backups(data / "backups")] == ["first"]
