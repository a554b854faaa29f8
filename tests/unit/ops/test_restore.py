"""The restore (ops.restore), without a pipeline run: the content of the backup, the files kept aside,
and every refusal.

The warehouses are small DuckDB files built by the tests; expected content hashes are taken
from the file before it is damaged, never from the backup's own manifest alone.
"""

from __future__ import annotations

import fcntl
import json

import duckdb
import pytest

from pricing_pipeline.common.errors import PipelineFailed
from pricing_pipeline.ops import backups as backup_module
from pricing_pipeline.ops.backups import MANIFEST, export_backup, find_backups
from pricing_pipeline.ops.restore import restore_warehouse
from tests.support.small_warehouse import damage, file_digest, hash_of, small_warehouse


def test_restore_of_a_damaged_warehouse_gives_the_content_of_the_backup(backed_up):
    data, expected = backed_up
    warehouse = data / "warehouse.duckdb"
    damage(warehouse)
    damaged = file_digest(warehouse)
    restored = restore_warehouse(data)
    assert restored.backup == data / "backups" / "first"
    assert restored.applied == [restored.backup]
    assert hash_of(warehouse) == expected  # computed again, from the file now in place
    [aside] = restored.kept_aside
    assert aside.name.startswith("warehouse.duckdb.before-restore-")
    assert file_digest(aside) == damaged  # kept, byte for byte
    assert not (data / "warehouse.duckdb.restoring").exists()


def test_restore_takes_the_newest_backup_or_the_one_named(backed_up):
    data, first = backed_up
    warehouse = data / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("INSERT INTO staging.t VALUES (100, 1)")
    con.close()
    second = hash_of(warehouse)
    assert second != first
    export_backup(warehouse, data / "backups", "second")
    assert [p.name for p in find_backups(data / "backups")] == ["first", "second"]
    assert json.loads((data / "backups" / "second" / MANIFEST).read_text(encoding="utf-8"))["kind"] == "incremental"
    damage(warehouse)
    assert [p.name for p in restore_warehouse(data).applied] == ["first", "second"]
    assert hash_of(warehouse) == second
    assert [p.name for p in restore_warehouse(data, chosen="first").applied] == ["first"]
    assert hash_of(warehouse) == first
    assert len(list(data.glob("warehouse.duckdb.before-restore-*"))) >= 1


def test_a_backup_after_a_restore_applies_on_the_backup_restored(backed_up):
    """Restored to `first`, the warehouse no longer holds what `second` added: the next backup is
    incremental on `first`, and restoring it gives that warehouse, not one with `second`'s row."""
    data, _ = backed_up
    warehouse = data / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("INSERT INTO staging.t VALUES (100, 1)")
    con.close()
    export_backup(warehouse, data / "backups", "second")
    restore_warehouse(data, chosen="first")
    con = duckdb.connect(str(warehouse))
    con.execute("INSERT INTO staging.t VALUES (200, 2)")
    con.close()
    third = hash_of(warehouse)
    export_backup(warehouse, data / "backups", "third")
    assert json.loads((data / "backups" / "third" / MANIFEST).read_text(encoding="utf-8"))["base"] == "first"
    damage(warehouse)
    assert [p.name for p in restore_warehouse(data).applied] == ["first", "third"]
    assert hash_of(warehouse) == third


def test_restore_moves_the_wal_aside_with_its_file(backed_up):
    data, expected = backed_up
    wal = data / "warehouse.duckdb.wal"
    wal.write_bytes(b"a stale write-ahead log")  # replayed into the restored file, it would damage it
    restore_warehouse(data)
    assert not wal.exists()
    assert [p.read_bytes() for p in data.glob("warehouse.duckdb.before-restore-*.wal")] == [b"a stale write-ahead log"]
    assert hash_of(data / "warehouse.duckdb") == expected


def test_restore_refuses_while_a_run_holds_the_lock(backed_up):
    data, _ = backed_up
    damage(data / "warehouse.duckdb")
    before = file_digest(data / "warehouse.duckdb")
    with open(data / ".pipeline.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a run does (lock.py)
        with pytest.raises(PipelineFailed) as failure:
            restore_warehouse(data)
    report = failure.value.report
    assert "another run is using" in report.what and "then restore again" in report.what
    assert report.warehouse.startswith("unchanged")
    assert file_digest(data / "warehouse.duckdb") == before
    assert not list(data.glob("warehouse.duckdb.*"))


def test_restore_refuses_a_backup_whose_file_does_not_match_its_manifest(backed_up):
    data, _ = backed_up
    parquet = next((data / "backups" / "first").glob("staging*.parquet"))
    body = bytearray(parquet.read_bytes())
    body[len(body) // 2] ^= 0xFF  # one byte flipped on the backup's disk
    parquet.write_bytes(bytes(body))
    before = file_digest(data / "warehouse.duckdb")
    with pytest.raises(PipelineFailed) as failure:
        restore_warehouse(data)
    assert "the backup is damaged" in failure.value.report.what and parquet.name in failure.value.report.what
    assert file_digest(data / "warehouse.duckdb") == before
    assert not list(data.glob("warehouse.duckdb.*"))  # no half-restored file left beside it


def test_restore_refuses_an_incremental_backup_whose_base_is_gone(backed_up):
    data, _ = backed_up
    export_backup(data / "warehouse.duckdb", data / "backups", "second")
    backup_module.shutil.rmtree(data / "backups" / "first")
    with pytest.raises(PipelineFailed) as failure:
        restore_warehouse(data, chosen="second")
    assert "second is incremental on first, which is missing" in failure.value.report.what
    assert not list(data.glob("warehouse.duckdb.*"))


@pytest.mark.parametrize("chosen", [".first.partial", "no-such-backup"])
def test_restore_refuses_what_is_not_a_whole_backup(backed_up, chosen):
    data, _ = backed_up
    (data / "backups" / ".first.partial").mkdir()  # what a killed export leaves
    with pytest.raises(PipelineFailed) as failure:
        restore_warehouse(data, chosen=chosen)
    assert chosen in failure.value.report.what
    assert not list(data.glob("warehouse.duckdb.*"))


def test_restore_with_no_backup_says_so(tmp_path):
    data = tmp_path / "data"
    small_warehouse(tmp_path / "warehouse.duckdb")
    with pytest.raises(PipelineFailed, match="no backup in"):
        restore_warehouse(data)
