"""Failures told in a few lines, half-written files removed, and the restore, without a pipeline run.

The warehouses here are small DuckDB files built by the tests; expected content hashes are taken
from the file before it is damaged, never from the backup's own manifest alone.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import tempfile
from pathlib import Path

import duckdb
import pytest

from pricing_pipeline.common.errors import DAMAGED, DISK_FULL, NOT_WRITABLE, PipelineFailed, RunFailed, cause_of, short
from pricing_pipeline.ops import backups as backup_module
from pricing_pipeline.ops.backups import MANIFEST, BackupFailed, export_backup, find_backups
from pricing_pipeline.ops.restore import restore_warehouse
from pricing_pipeline.transform import outputs
from pricing_pipeline.warehouse.connection import content_hash
from pricing_pipeline.warehouse.probes import warehouse_problem


def small_warehouse(path: Path, rows: int = 3) -> Path:
    """A warehouse with a table per schema and a timestamp with a zone (the run log has them)."""
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA staging; CREATE SCHEMA ops")
    con.execute("CREATE TABLE staging.t (k INTEGER PRIMARY KEY, v DECIMAL(10,2))")
    con.execute("INSERT INTO staging.t SELECT i, i * 1.25 FROM range(?) AS r(i)", [rows])
    con.execute("CREATE TABLE ops.run_log (run_id VARCHAR, ended_at TIMESTAMPTZ)")
    con.execute("INSERT INTO ops.run_log VALUES ('r', TIMESTAMPTZ '2024-02-13 06:00:00+00')")
    con.close()
    return path


def hash_of(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return content_hash(con, ("ops.run_log", "staging.t"))
    finally:
        con.close()


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def damage(path: Path) -> None:
    """Overwrite the first 8 KiB, as in issue 11."""
    with open(path, "r+b") as handle:
        handle.write(b"\xab" * 8192)


# ---------------------------------------------------------------- causes and messages


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), DISK_FULL),
        (PermissionError(errno.EACCES, "Permission denied", "/x/data/runs"), NOT_WRITABLE),
        (OSError(errno.EROFS, "Read-only file system"), NOT_WRITABLE),
        # DuckDB's IOException and a notebook's error carry the cause as text only.
        (duckdb.IOException('Could not write file "x": No space left on device'), DISK_FULL),
        (
            RunFailed("notebook 01_extract.ipynb failed, cell 6:\nIOException: ... not a valid DuckDB database file!"),
            DAMAGED,
        ),
        (ValueError("something else"), None),
    ],
    ids=["enospc", "eacces", "erofs", "duckdb-disk-full", "notebook-damaged", "other"],
)
def test_cause_is_read_from_errno_or_text(error, cause):
    assert cause_of(error) == cause


def test_cause_is_found_along_the_chain():
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("writing failed") from inner
    except RuntimeError as outer:
        assert cause_of(outer) == DISK_FULL


def test_short_keeps_a_few_lines_and_says_where_the_rest_is():
    text = "\n".join(f"line {i}" for i in range(20)) + "\n" + "x" * 1000
    kept = short(text, lines=3).splitlines()
    assert kept == ["line 0", "line 1", "line 2", "... (18 more lines in the record)"]
    assert len(short("y" * 1000)) == 300


def test_a_damaged_file_is_told_from_a_healthy_one(tmp_path):
    path = small_warehouse(tmp_path / "warehouse.duckdb")
    assert warehouse_problem(path) is None
    assert warehouse_problem(tmp_path / "absent.duckdb") is None  # nothing to be damaged yet
    damage(path)
    cause, detail = warehouse_problem(path)
    assert cause == DAMAGED and "not a valid DuckDB database file" in detail


# ---------------------------------------------------------------- half-written files are removed


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


def test_a_csv_that_fails_half_way_leaves_no_file(tmp_path, monkeypatch):
    target = tmp_path / "out" / "products_eur.csv"

    def disk_full(self, *args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "replace", disk_full)
    con = duckdb.connect()
    with pytest.raises(OSError):
        outputs.export_csv(con, "SELECT 1 AS a", [], target)
    con.close()
    assert list(target.parent.iterdir()) == []


def test_publishing_refuses_an_incomplete_set_of_outputs(tmp_path):
    run_output = tmp_path / "run"
    run_output.mkdir()
    (run_output / "exchange_rates.csv").write_text("rate_date\n", encoding="utf-8")
    with pytest.raises(FileNotFoundError, match=r"products_eur\.csv"):
        outputs.publish_outputs(run_output, tmp_path / "published")
    assert not (tmp_path / "published").exists()


# ---------------------------------------------------------------- restore


@pytest.fixture
def backed_up(tmp_path) -> tuple[Path, str]:
    """A data folder whose warehouse has one backup; the content hash before anything happens."""
    data = tmp_path / "data"
    data.mkdir()
    warehouse = small_warehouse(data / "warehouse.duckdb")
    expected = hash_of(warehouse)
    export_backup(warehouse, data / "backups", "first")
    return data, expected


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


def test_backups_without_a_manifest_are_not_offered(backed_up, monkeypatch):
    data, _ = backed_up
    (data / "backups" / "older-format").mkdir()  # a backup made before manifests existed
    assert [p.name for p in backup_module.find_backups(data / "backups")] == ["first"]


# ---------------------------------------------------------------- through the command line, in-process


def test_a_permission_error_is_one_short_message_through_the_cli(tmp_path, monkeypatch, capsys):
    from pricing_pipeline import cli
    from pricing_pipeline.runner import pipeline

    lock_path = tmp_path / "data" / ".pipeline.lock"

    @contextlib.contextmanager
    def denied(data_dir, action="run"):
        raise PermissionError(errno.EACCES, "Permission denied", str(lock_path))
        yield

    monkeypatch.setattr(pipeline, "exclusive_run", denied)
    args = ["run", "--date", "2024-02-13", "--source", "offline", "--data-dir", str(tmp_path / "data")]
    status = cli.main([*args, "--run-id", "denied"])
    err = capsys.readouterr().err
    assert status == 1
    lines = err.strip().splitlines()
    assert lines[0] == "run denied FAILED" and len(lines) <= 10 and "Traceback" not in err
    assert f"could not take the lock of {tmp_path / 'data'}/: Permission denied: {lock_path}" in lines
    assert "warehouse: unchanged: this run did not start" in lines
    assert f"next:      make {lock_path} writable by the user running the pipeline, then run again" in lines
    record = tmp_path / "data" / "runs" / "denied" / "failure.txt"
    assert f"record:    {record}" in lines
    assert "PermissionError" in record.read_text(encoding="utf-8")


def test_a_record_that_cannot_be_written_in_the_data_folder_goes_to_the_temporary_folder(tmp_path, monkeypatch):
    from pricing_pipeline.runner.failure_report import write_failure_text

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the run's folder should be", encoding="utf-8")
    path, detour = write_failure_text("the record\n", blocked / "runs" / "r1", "r1")
    assert path == tmp_path / "tmp" / "pricing-pipeline-failures" / "r1.txt"
    assert path.read_text(encoding="utf-8") == "the record\n"
    assert "could not be written in" in detour and "Not a directory" in detour


def test_a_failure_while_reporting_a_failure_still_tells_the_first_one(tmp_path, monkeypatch, capsys):
    from pricing_pipeline import cli
    from pricing_pipeline.runner import pipeline

    def steps_fail(record, *args):
        record.status = "failed"
        return [pipeline.StepError("notebooks", "the notebooks", RunFailed("notebook 01_extract.ipynb failed: X"))]

    def report_fails(*args):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(pipeline, "_run_steps", steps_fail)
    monkeypatch.setattr(pipeline, "report_failure", report_fails)
    args = ["run", "--date", "2024-02-13", "--source", "offline", "--data-dir", str(tmp_path / "data")]
    assert cli.main([*args, "--run-id", "r"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[:2] == ["run r FAILED", "notebook 01_extract.ipynb failed: X"]
    assert "also:      reporting the failure failed too: Input/output error" in lines
