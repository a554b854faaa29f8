"""Recovery, end to end through the command line: a damaged warehouse, a full disk, a data folder
that cannot be written, and scheduled runs next to the committed files.

Each failure must end in a few lines on stderr (what failed, the warehouse's state, the record,
the next step) with no traceback, exit status 1, and a record holding the tracebacks. Full disks
are real: small tmpfs mounts (the test skips, saying why, where mounting is not allowed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import duckdb
import pytest

from pricing_pipeline.testing.fake_api import FaultServer, serve_ecb_and_recordings
from tests.support.paths import PROJECT_ROOT, RUNNER
from tests.support.warehouse_queries import full_hash, query, warehouse_hash

MAX_LINES = 10  # "at most a few lines": the longest report is 9 (title, 2 of error, 6 labelled)
CLI = [sys.executable, "-m", "pricing_pipeline.cli"]


def run(data_dir: Path, *args: str, cwd: Path = PROJECT_ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(RUNNER), "--source", "offline", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
        env=env,
    )


def restore(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, "restore", "--data-dir", str(data_dir), *args], capture_output=True, text=True, timeout=300
    )


def assert_short_failure(result: subprocess.CompletedProcess, *fragments: str) -> dict[str, str]:
    """Exit 1, a few lines after the steps' progress lines, no traceback; returns the labelled lines
    (warehouse, record, next, ...)."""
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    while lines and lines[0].startswith("step "):
        lines.pop(0)
    assert len(lines) <= MAX_LINES, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "FAILED" in lines[0]
    for fragment in fragments:
        assert fragment in result.stderr, f"{fragment!r} not in:\n{result.stderr}"
    labelled = {}
    for line in lines:
        label, _, text = line.partition(":")
        if label in ("warehouse", "record", "next", "notebook"):
            labelled[label] = text.strip()
    return labelled


@contextlib.contextmanager
def tmpfs(path: Path, size: str, *options: str):
    """A small filesystem of its own at path; skips the test when mounting is not allowed here."""
    path.mkdir(parents=True, exist_ok=True)
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join([f"size={size}", *options]), "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {mount.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


# ---------------------------------------------------------------- a damaged warehouse, restored


def test_damaged_warehouse_fails_in_a_few_lines_and_restore_brings_back_the_backup(data_dir):
    assert run(data_dir, "--date", "2024-02-12", "--run-id", "before").returncode == 0
    warehouse = data_dir / "warehouse.duckdb"
    expected = full_hash(warehouse)  # the content the backup of "before" must give back
    with open(warehouse, "r+b") as handle:
        handle.write(b"\xab" * 8192)  # the first 8 KiB overwritten: the file no longer opens
    damaged = hashlib.sha256(warehouse.read_bytes()).hexdigest()

    result = run(data_dir, "--date", "2024-02-13", "--run-id", "after")
    report = assert_short_failure(result, "01_extract.ipynb", "not a valid DuckDB database file")
    assert report["warehouse"].startswith("damaged")
    assert f"pricing-pipeline restore --data-dir {data_dir}" in report["next"]
    # The run log could not be written into the damaged file either: said after the first failure.
    lines = result.stderr.splitlines()
    run_log_line = next(i for i, line in enumerate(lines) if "ops.run_log" in line)
    assert run_log_line > next(i for i, line in enumerate(lines) if "not a valid DuckDB" in line)
    record = Path(report["record"])
    assert record == data_dir / "runs" / "after" / "failure.txt"
    text = record.read_text(encoding="utf-8")
    assert "--- the notebooks: traceback" in text and "--- writing the run log (ops.run_log): traceback" in text

    restored = restore(data_dir)
    assert restored.returncode == 0, restored.stderr
    assert f"content hash: {expected}" in restored.stdout
    assert full_hash(warehouse) == expected
    [aside] = data_dir.glob("warehouse.duckdb.before-restore-*")
    assert hashlib.sha256(aside.read_bytes()).hexdigest() == damaged  # kept aside, untouched
    assert str(aside) in restored.stdout

    again = run(data_dir, "--date", "2024-02-13", "--run-id", "again")
    assert again.returncode == 0, again.stderr
    assert query(data_dir, "SELECT count(*) FROM marts.products_eur WHERE day = '2024-02-13'") == [(6,)]


def test_restore_command_refuses_while_a_run_holds_the_data_folder(data_dir):
    import fcntl

    assert run(data_dir, "--date", "2024-02-12", "--run-id", "before").returncode == 0
    before = hashlib.sha256((data_dir / "warehouse.duckdb").read_bytes()).hexdigest()
    with open(data_dir / ".pipeline.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        lock.write("pid 1 since the test\n")
        lock.flush()
        result = restore(data_dir)
    assert_short_failure(result, "another run is using", "then restore again")
    assert hashlib.sha256((data_dir / "warehouse.duckdb").read_bytes()).hexdigest() == before
    assert not list(data_dir.glob("warehouse.duckdb.*"))


# ---------------------------------------------------------------- full disks


def test_backup_on_a_full_disk_says_the_data_is_loaded_and_the_partial_backup_removed(data_dir, tmp_path):
    with tmpfs(tmp_path / "backups", "24k") as backups:  # smaller than one backup of this warehouse
        result = run(data_dir, "--date", "2024-02-13", "--run-id", "full", "--backup-dir", str(backups))
        left_in_backups = list(backups.iterdir())
    report = assert_short_failure(result, "the backup to", "the disk is full", "was removed")
    assert report["warehouse"] == "loaded and recorded in ops.run_log; only the backup is missing"
    assert left_in_backups == []  # no partial backup, nothing that looks like a whole one
    # What the message says, checked in the warehouse: loaded, and logged as loaded without a backup.
    assert query(data_dir, "SELECT count(*) FROM marts.products_eur WHERE day = '2024-02-13'") == [(6,)]
    [(status, error)] = query(data_dir, "SELECT status, error FROM ops.run_log WHERE run_id = 'full'")
    assert status == "backup failed" and error.startswith("backup: ") and "No space left" in error
    assert "free space" in report["next"] and str(backups) in report["next"]


def test_data_folder_on_a_full_disk_ends_in_an_accurate_short_message(tmp_path):
    # The whole data folder on a 4 MiB filesystem. Where the disk fills depends on
    # file sizes, so the test checks that the message matches what is in the warehouse afterwards.
    with tmpfs(tmp_path / "disk", "4m") as disk:
        data = disk / "data"
        result = run(data, "--date", "2024-02-13", "--run-id", "full")
        partials = list(disk.rglob("*.partial"))
        loaded = query(data, "SELECT count(*) FROM marts.products_eur WHERE day = '2024-02-13'")[0][0]
        backups = list((data / "backups").glob("*")) if (data / "backups").exists() else []
        report = assert_short_failure(result, "the disk is full", "free space")
        # In the data folder, or in the system's temporary folder if it had no room left.
        recorded = Path(report["record"]).read_text(encoding="utf-8")
    assert "Traceback" in recorded
    # Nothing half-written is left looking whole: no partial CSV, hand-off, body or backup remains;
    # an executed notebook that papermill could not finish saving is renamed .partial, and said so.
    for partial in partials:
        assert partial.name.endswith(".ipynb.partial"), partial
        assert f"kept as {partial.name}" in result.stderr
    assert backups == []
    if report["warehouse"].startswith("unchanged"):
        assert loaded == 0
    else:
        assert report["warehouse"].startswith("loaded") and loaded == 6


def test_a_data_folder_that_cannot_be_written_is_said_so(tmp_path):
    with tmpfs(tmp_path / "readonly", "1m", "ro") as folder:
        result = run(folder / "data", "--date", "2024-02-13", "--run-id", f"ro-{uuid.uuid4().hex[:8]}")
    report = assert_short_failure(result, "could not take the lock", "Read-only file system")
    assert report["warehouse"] == "unchanged: this run did not start"
    assert "writable" in report["next"]
    # The data folder had no room for the record: it went to the system's temporary folder.
    record = Path(report["record"])
    assert not record.is_relative_to(folder)
    assert "Read-only file system" in record.read_text(encoding="utf-8")
    record.unlink()


# ---------------------------------------------------------------- committed files stay as committed


def test_scheduled_runs_leave_every_tracked_file_alone(tmp_path):
    """A live day and an offline range, in a copy of the repository with its default data/ folder."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    tracked = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "ls-files", "-z"], capture_output=True, check=True
    ).stdout.decode()
    copy = tmp_path / "repo"
    for name in filter(None, tracked.split("\0")):
        source = PROJECT_ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    git = ["git", "-C", str(copy), "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "as committed"], check=True)

    # The copy's own package, notebooks and data/ folder: no --data-dir, no data variable.
    env = {k: v for k, v in os.environ.items() if k not in ("PIPELINE_DATA_DIR", "PIPELINE_BACKUP_DIR")}
    env["PYTHONPATH"] = str(copy / "src")
    server = FaultServer(fallback=serve_ecb_and_recordings())
    try:
        live_env = {
            **env,
            "FRANKFURTER_BASE_URL": f"{server.url}/frankfurter",
            "FAKESTORE_BASE_URL": f"{server.url}/fakestore",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
        runner = [sys.executable, str(copy / "scripts" / "run_pipeline.py")]
        live = subprocess.run(
            [*runner, "--source", "live", "--date", "2024-02-13", "--run-id", "live"],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=copy,
            env=live_env,
        )
        assert live.returncode == 0, live.stderr
    finally:
        server.stop()
    offline = subprocess.run(
        [*runner, "--source", "offline", "--start", "2024-01-29", "--end", "2024-02-02", "--run-id", "range"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=copy,
        env=env,
    )
    assert offline.returncode == 0, offline.stderr
    # The runs did write, below the copy's data/ folder: the check below is not vacuous.
    for run_id in ("live", "range"):
        assert (copy / "data" / "runs" / run_id / "output" / "products_eur.csv").is_file()
    assert (copy / "data" / "warehouse.duckdb").is_file()
    status = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True, check=True).stdout
    assert status == "", status


def test_a_day_like_the_case_published_elsewhere_does_not_touch_data_output(data_dir, tmp_path):
    # --publish-outputs writes only where it is told; the committed files keep their bytes.
    committed = {p.name: p.read_bytes() for p in (PROJECT_ROOT / "data" / "output").glob("*.csv")}
    # It publishes the products' four CSVs; the sales CSVs committed beside them are
    # --publish-sales-outputs' (`make run`'s carts run).
    products = ["exchange_rates.csv", "product_prices.csv", "products_eur.csv", "top_products_daily.csv"]
    published = tmp_path / "published"
    result = run(data_dir, "--date", "2024-02-14", "--run-id", "pub", "--publish-outputs", str(published))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in published.iterdir()) == products
    for name in products:
        assert (published / name).read_bytes() == (data_dir / "runs" / "pub" / "output" / name).read_bytes()
    for name in committed:
        assert (PROJECT_ROOT / "data" / "output" / name).read_bytes() == committed[name]
    assert "2024-02-14" in (published / "products_eur.csv").read_text(encoding="utf-8")
    assert dt.date(2024, 2, 14).isoformat() not in committed["products_eur.csv"].decode()


# ---------------------------------------------------------------- a failure after the load


def drifting_run(data_dir: Path, day: str, run_id: str) -> subprocess.CompletedProcess:
    """A live run whose source loses product 16 between the extract and the reconciliation: the
    day is loaded, then the run fails."""
    from pricing_pipeline.testing.fake_api import Respond
    from tests.support.paths import RECORDINGS

    products = json.loads((RECORDINGS / "fakestore" / "products_category_womens_clothing.json").read_bytes())
    changed = [p for p in products if p["id"] != 16]  # product 16 left the category after the extract
    path = "/fakestore/products/category/women%27s%20clothing"
    server = FaultServer(fallback=serve_ecb_and_recordings())
    server.script(path, Respond(200, json.dumps(products).encode()), Respond(200, json.dumps(changed).encode()))
    env = {
        **os.environ,
        "FRANKFURTER_BASE_URL": f"{server.url}/frankfurter",
        "FAKESTORE_BASE_URL": f"{server.url}/fakestore",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    try:
        return subprocess.run(
            [
                *(sys.executable, str(RUNNER), "--source", "live", "--date", day),
                "--data-dir",
                str(data_dir),
                "--run-id",
                run_id,
            ],
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
        )
    finally:
        server.stop()


def test_reconciliation_failure_says_the_day_is_loaded_but_disagrees_with_the_source(data_dir):
    result = drifting_run(data_dir, "2024-02-13", "drift")
    report = assert_short_failure(result, "reconciliation: the source no longer matches", "ids_only_in_warehouse")
    assert report["warehouse"] == "loaded, but the source disagrees with it (ops.reconciliation); not backed up"
    assert "ops.reconciliation" in report["next"]
    # As said: the day is loaded (6 products, 16 included), not backed up, and the run log says failed.
    assert query(data_dir, "SELECT count(*) FROM marts.products_eur WHERE day = '2024-02-13'") == [(6,)]
    assert not (data_dir / "backups" / "drift").exists()
    assert query(data_dir, "SELECT status FROM ops.run_log WHERE run_id = 'drift'") == [("failed",)]


def test_a_run_id_used_again_is_unchanged_when_its_second_run_fails_before_the_load(data_dir, tmp_path):
    # ops.loads counts the loads of each run id: the first run's load must not be taken for the second's.
    assert run(data_dir, "--date", "2024-02-12", "--run-id", "same").returncode == 0
    before = warehouse_hash(data_dir)  # staging and marts
    missing = tmp_path / "no-such-history.zip"
    env = {**os.environ, "ECB_HISTORY_ZIP": str(missing)}
    result = run(data_dir, "--date", "2024-02-13", "--run-id", "same", env=env)
    report = assert_short_failure(result, "01_extract.ipynb", str(missing))
    assert report["warehouse"] == "unchanged: staging and marts are as they were before the run"
    assert warehouse_hash(data_dir) == before


# ---------------------------------------------------------------- incremental backups


def test_incremental_backups_restore_the_warehouse_as_each_run_left_it(data_dir, tmp_path):
    """A full backup, then increments: one carrying a failed run's committed day along with its
    own, one made after restoring an older backup. Each restores to the warehouse as its run left
    it, compared on every table with the warehouse itself (not with the manifests)."""
    from pricing_pipeline.ops.backups import read_manifest, restore_backup

    backups = data_dir / "backups"
    left = {}

    def backed_up_run(backup: str, *args: str) -> None:
        """A run, and the content it left, under the name of the backup it makes."""
        result = run(data_dir, *args, "--run-id", backup.split(".")[0])
        assert result.returncode == 0, result.stderr
        left[backup] = full_hash(data_dir / "warehouse.duckdb")

    backed_up_run("first", "--date", "2024-02-12")
    # Loaded, then failed at the reconciliation: in the warehouse, in no backup yet.
    assert drifting_run(data_dir, "2024-02-09", "drift").returncode == 1
    backed_up_run("second", "--start", "2024-02-13", "--end", "2024-02-14", "--category", "all")
    manifests = {name: read_manifest(backups / name) for name in ("first", "second")}
    assert manifests["first"]["kind"] == "full"
    assert manifests["second"]["kind"] == "incremental" and manifests["second"]["base"] == "first"
    second = manifests["second"]["partitions"]
    # The failed run's day and rows travel with the next backup; the first run's stay in the first.
    assert "2024-02-09" in second["marts.products_eur"]["args"]
    assert second["ops.run_log"]["args"] == [["drift", "second"]]
    assert second["marts.products_eur"]["rows"] == 6 + 2 * 20  # drift's day, then two days of all

    restored = restore(data_dir, "--from", "first")
    assert restored.returncode == 0, restored.stderr
    assert full_hash(data_dir / "warehouse.duckdb") == left["first"]
    # After the restore, the chain continues from first: second's days are not in this warehouse.
    backed_up_run("third", "--date", "2024-02-15", "--category", "jewelery")
    assert read_manifest(backups / "third")["base"] == "first"
    backed_up_run("third.2", "--date", "2024-02-15", "--category", "jewelery")  # the same run id again
    assert read_manifest(backups / "third.2")["base"] == "third"

    for name, expected in left.items():
        target = tmp_path / f"{name}.duckdb"
        restore_backup(backups / name, target)
        assert full_hash(target) == expected, name

    # The landed bodies live in data/raw, mirrored by the backups: lost with the warehouse, they
    # come back with it, byte for byte as raw.responses recorded them.
    recorded = query(data_dir, "SELECT DISTINCT body_file, body_sha256 FROM raw.responses")
    # first's bodies, and third's (its second run landed the same ones): the restore to first undid
    # drift's and second's. A run lands its rates, its products and their re-read, and its carts
    # and their re-read (the sales); an unchanged re-read names the lasting copy of what it re-read.
    products_bodies, carts_bodies = 2, 1
    assert len(recorded) == 2 * (products_bodies + carts_bodies)
    rereads = query(
        data_dir,
        "SELECT DISTINCT r.run_id, r.name, r.body_file IN (SELECT o.body_file FROM raw.responses AS o "
        "WHERE o.run_id = r.run_id AND o.name = replace(r.name, '_recheck', '')) AS same "
        "FROM raw.responses AS r WHERE r.name LIKE '%_recheck' ORDER BY ALL",
    )
    assert rereads == [
        (run, name, True) for run in ("first", "third") for name in ("carts_recheck", "products_recheck")
    ]
    shutil.rmtree(data_dir / "raw")
    (data_dir / "warehouse.duckdb").unlink()
    restored = restore(data_dir)
    assert restored.returncode == 0, restored.stderr
    assert f"put back into data/raw from the backups' mirror: {len(recorded)}" in restored.stdout
    for body_file, digest in recorded:
        assert hashlib.sha256((data_dir / body_file).read_bytes()).hexdigest() == digest, body_file


def test_a_warehouse_holding_bodies_moves_them_to_files_at_its_next_landing(data_dir):
    """A warehouse from before bodies were kept as files (raw.responses.body): the next run writes
    each body to data/raw unless a file with its digest is there, and records the file instead."""
    assert run(data_dir, "--date", "2024-02-12", "--run-id", "old").returncode == 0
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    rows = con.execute("SELECT run_id, name, body_file FROM raw.responses ORDER BY name").fetchall()
    bodies = {name: (data_dir / body_file).read_bytes() for _, name, body_file in rows}
    # As the table was: the body inside, no file columns.
    con.execute("ALTER TABLE raw.responses ADD COLUMN body BLOB")
    for name, body in bodies.items():
        con.execute("UPDATE raw.responses SET body = ? WHERE name = ?", [body, name])
    con.execute("ALTER TABLE raw.responses DROP COLUMN body_file")
    con.execute("ALTER TABLE raw.responses DROP COLUMN body_bytes")
    con.close()
    shutil.rmtree(data_dir / "raw")
    assert run(data_dir, "--date", "2024-02-13", "--run-id", "new").returncode == 0
    moved = query(data_dir, "SELECT name, body_file, body_bytes FROM raw.responses WHERE run_id = 'old' ORDER BY name")
    assert [name for name, _, _ in moved] == sorted(bodies)
    for name, body_file, size in moved:
        assert (data_dir / body_file).read_bytes() == bodies[name] and size == len(bodies[name])
    columns = [row[0] for row in query(data_dir, "DESCRIBE raw.responses")]
    assert "body" not in columns and columns[-2:] == ["body_bytes", "body_file"]
