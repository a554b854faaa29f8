"""The runner as a scheduler uses it: any day or range, re-run safely, failures recorded.

Expected rates and rate dates are read straight from the ECB history file by the tests' own
CSV reading (ecb_reference.rate_in_force: the last published day on or before each day), not by
the package's parser.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import subprocess
import sys
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from pricing_pipeline.extract.ecb_history import ecb_history_zip
from pricing_pipeline.warehouse.connection import content_hash
from tests.support.ecb_reference import rate_in_force
from tests.support.paths import RUNNER
from tests.support.warehouse_queries import query, warehouse_hash

PRODUCT_IDS = [15, 16, 17, 18, 19, 20]


def run(data_dir: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, str(RUNNER), "--source", "offline", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def prices_by_day(data_dir: Path) -> dict[dt.date, tuple[dt.date, Decimal]]:
    rows = query(data_dir, "SELECT DISTINCT day, rate_date, usd_per_eur FROM marts.products_eur ORDER BY day")
    return {day: (rate_date, rate) for day, rate_date, rate in rows}


def days(start: str, end: str) -> list[dt.date]:
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def test_help_explains_every_option():
    result = subprocess.run([sys.executable, str(RUNNER), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for option in (
        "--date",
        "--start",
        "--end",
        "--source",
        "--category",
        "--data-dir",
        "--run-id",
        "--cell-timeout",
        "--skip-reconciliation",
        "--backup-dir",
    ):
        assert option in result.stdout
    assert "yesterday" in result.stdout  # the default run date is stated


@pytest.mark.parametrize(
    "day",
    [
        "2024-02-10",  # a Saturday: Friday's rate
        "2024-03-29",  # Good Friday, a TARGET holiday: Thursday's rate
        "2024-04-01",  # Easter Monday: still Thursday's rate
        "2024-03-01",  # first day of a month, a working day
        "2024-02-29",  # last day of a (leap) month
        "2024-03-31",  # last day of a month, a Sunday of Easter
    ],
)
def test_one_day_uses_the_rate_in_force(data_dir, day):
    result = run(data_dir, "--date", day)
    assert result.returncode == 0, result.stderr
    the_day = dt.date.fromisoformat(day)
    assert prices_by_day(data_dir) == {the_day: rate_in_force(the_day)}
    ids = [row[0] for row in query(data_dir, "SELECT product_id FROM marts.products_eur ORDER BY product_id")]
    assert ids == PRODUCT_IDS


def test_range_crossing_a_year_end(data_dir):
    result = run(data_dir, "--start", "2023-12-22", "--end", "2024-01-03")
    assert result.returncode == 0, result.stderr
    expected = {day: rate_in_force(day) for day in days("2023-12-22", "2024-01-03")}
    assert prices_by_day(data_dir) == expected
    # Christmas, Boxing Day and New Year's Day took earlier rates.
    assert expected[dt.date(2024, 1, 1)][0] == dt.date(2023, 12, 29)
    # Every EUR price is the USD price over the day's rate, half-up to the cent.
    for usd, eur, rate in query(data_dir, "SELECT price_usd, price_eur, usd_per_eur FROM marts.products_eur"):
        assert eur == (usd / rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_a_run_in_a_log_shows_each_step_on_stderr_and_keeps_stdout_for_the_summary(data_dir):
    result = run(data_dir, "--date", "2024-02-13", "--run-id", "logged")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert all(re.fullmatch(r"step \S.*: \d+\.\d s", line) for line in lines), result.stderr
    steps = [line.split(":")[0].removeprefix("step ") for line in lines]
    assert steps[:3] == ["papermill", "notebooks/01_extract.ipynb", "notebooks/02_transform.ipynb"]
    assert {"reconciliation", "run log", "backup"} <= set(steps)
    assert result.stdout.startswith("run logged succeeded: 2024-02-13..2024-02-13")
    assert "step " not in result.stdout
    executed = (data_dir / "runs" / "logged" / "01_extract.ipynb").read_text(encoding="utf-8")
    assert "step notebooks" not in executed and "cell/s" not in executed
    quiet = run(data_dir, "--date", "2024-02-13", "--run-id", "quiet", "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr


def test_a_run_on_a_terminal_shows_papermills_bar_per_notebook_on_stderr(data_dir):
    import fcntl
    import os
    import pty
    import struct
    import termios

    terminal, stderr = pty.openpty()
    fcntl.ioctl(stderr, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # tqdm draws to the width
    command = [sys.executable, str(RUNNER), "--source", "offline", "--data-dir", str(data_dir), "--date", "2024-02-13"]
    with subprocess.Popen([*command, "--run-id", "seen"], stdout=subprocess.PIPE, stderr=stderr, text=True) as runner:
        os.close(stderr)
        shown = b""
        with contextlib.suppress(OSError):  # the terminal closes with the runner
            while chunk := os.read(terminal, 4096):
                shown += chunk
        stdout = runner.stdout.read()
    os.close(terminal)
    assert runner.returncode == 0, shown.decode()
    shown = shown.decode()
    for name in ("01_extract", "02_transform"):
        assert re.search(rf"notebooks/{name}.ipynb: 100%\|.*\| (\d+)/\1 \[", shown), shown
    assert "step notebooks/" not in shown  # a bar shows the notebook's time: no line repeats it
    assert re.search(r"^step backup: \d+\.\d s", shown, re.MULTILINE), shown
    assert stdout.startswith("run seen succeeded:") and "cell/s" not in stdout
    executed = (data_dir / "runs" / "seen" / "02_transform.ipynb").read_text(encoding="utf-8")
    assert "cell/s" not in executed


def test_a_day_run_twice_changes_nothing(data_dir):
    assert run(data_dir, "--date", "2024-02-13").returncode == 0
    first = warehouse_hash(data_dir)
    assert run(data_dir, "--date", "2024-02-13").returncode == 0
    assert warehouse_hash(data_dir) == first
    counts = query(data_dir, "SELECT count(*), count(DISTINCT product_id) FROM marts.products_eur")
    assert counts == [(6, 6)]
    runs = query(data_dir, "SELECT status, rows_written FROM ops.run_log ORDER BY started_at")
    assert [status for status, _ in runs] == ["succeeded", "succeeded"]
    assert json.loads(runs[0][1]) == json.loads(runs[1][1])


def test_overlapping_ranges_equal_one_run_of_their_union(tmp_path):
    pieces, whole = tmp_path / "pieces", tmp_path / "whole"
    assert run(pieces, "--start", "2024-02-01", "--end", "2024-02-10").returncode == 0
    assert run(pieces, "--start", "2024-02-05", "--end", "2024-02-15").returncode == 0
    assert run(whole, "--start", "2024-02-01", "--end", "2024-02-15").returncode == 0
    assert warehouse_hash(pieces) == warehouse_hash(whole)
    per_day = query(pieces, "SELECT day, count(*) FROM marts.top_products_daily GROUP BY day HAVING count(*) <> 5")
    assert per_day == []


def test_marts_are_refreshed_only_for_the_days_of_the_run(data_dir):
    assert run(data_dir, "--start", "2024-02-12", "--end", "2024-02-13").returncode == 0
    # Mark an earlier day's row: a run of a later day must leave it as it is.
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    con.execute("UPDATE marts.top_products_daily SET title = 'marker' WHERE day = DATE '2024-02-12' AND rank = 1")
    con.close()
    assert run(data_dir, "--date", "2024-02-14").returncode == 0
    assert query(data_dir, "SELECT title FROM marts.top_products_daily WHERE day = '2024-02-12' AND rank = 1") == [
        ("marker",)
    ]
    assert query(data_dir, "SELECT count(*) FROM marts.top_products_daily WHERE day = '2024-02-14'") == [(5,)]


def republished_history(tmp_path: Path, day: str, usd: str) -> Path:
    """A copy of the ECB history file where the USD rate of one day was re-published."""
    with zipfile.ZipFile(ecb_history_zip()) as archive:
        lines = archive.read("eurofxref-hist.csv").decode("utf-8").splitlines(keepends=True)
    header = lines[0].split(",")
    usd_column = header.index("USD")
    changed = []
    for line in lines:
        if line.startswith(day):
            cells = line.split(",")
            cells[usd_column] = usd
            line = ",".join(cells)
        changed.append(line)
    path = tmp_path / "eurofxref-hist.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("eurofxref-hist.csv", "".join(changed))
    return path


def test_a_republished_rate_replaces_only_its_own_key(data_dir, tmp_path):
    assert run(data_dir, "--start", "2024-02-12", "--end", "2024-02-14").returncode == 0
    before = dict(
        ((d, c), r) for d, c, r in query(data_dir, "SELECT rate_date, currency, rate FROM staging.exchange_rates")
    )
    history = republished_history(tmp_path, "2024-02-13", "1.0800")
    result = run(data_dir, "--start", "2024-02-12", "--end", "2024-02-14", env={"ECB_HISTORY_ZIP": str(history)})
    assert result.returncode == 0, result.stderr
    after = dict(
        ((d, c), r) for d, c, r in query(data_dir, "SELECT rate_date, currency, rate FROM staging.exchange_rates")
    )
    changed = {key for key in before if before[key] != after[key]}
    assert changed == {(dt.date(2024, 2, 13), "USD")}
    assert after[(dt.date(2024, 2, 13), "USD")] == Decimal("1.0800")
    eur = dict(query(data_dir, "SELECT day, price_eur FROM marts.products_eur WHERE product_id = 15"))
    assert eur[dt.date(2024, 2, 13)] == (Decimal("56.99") / Decimal("1.08")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert eur[dt.date(2024, 2, 12)] == (Decimal("56.99") / rate_in_force(dt.date(2024, 2, 12))[1]).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )


def test_a_failure_in_the_second_notebook_leaves_the_warehouse_unchanged(data_dir):
    assert run(data_dir, "--date", "2024-02-12", "--run-id", "good").returncode == 0
    # A bad row in the run's rates window (a key the source does not send, so the load leaves it)
    # makes a data test fail inside 02's transaction. The same row on another day would not: a
    # load's tests answer for its own partitions (sql/tests/README.md).
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    con.execute("INSERT INTO staging.exchange_rates VALUES (DATE '2024-02-13', 'EUR', 'XXX', -1)")
    con.close()
    before = warehouse_hash(data_dir)
    result = run(data_dir, "--date", "2024-02-13", "--run-id", "bad")
    assert result.returncode == 1
    assert "02_transform.ipynb" in result.stderr
    assert "DataTestError" in result.stderr and "staging_exchange_rates_positive" in result.stderr
    assert warehouse_hash(data_dir) == before
    assert query(data_dir, "SELECT count(*) FROM marts.products_eur WHERE day = '2024-02-13'") == [(0,)]
    record = data_dir / "runs" / "bad" / "02_transform.ipynb"
    assert record.is_file() and "DataTestError" in record.read_text(encoding="utf-8")
    assert (data_dir / "runs" / "bad" / "02_transform.html").is_file()
    # Nothing lost: the bodies the failed run read are kept in the raw layer: its rates, its
    # products and its carts.
    landed = query(data_dir, "SELECT name FROM raw.responses WHERE run_id = 'bad' ORDER BY name")
    assert landed == [("carts",), ("exchange_rates",), ("products",)]
    assert query(data_dir, "SELECT status FROM ops.run_log WHERE run_id = 'bad'") == [("failed",)]


def test_backup_restores_to_the_same_content(data_dir, tmp_path):
    from pricing_pipeline.ops.backups import restore_backup
    from pricing_pipeline.warehouse.partitions import TABLES

    assert (
        run(
            data_dir, "--date", "2024-02-13", "--run-id", "backed-up", "--backup-dir", str(tmp_path / "copy")
        ).returncode
        == 0
    )
    restored = restore_backup(tmp_path / "copy" / "backed-up", tmp_path / "restored.duckdb")
    tables = (*TABLES, "raw.responses", "ops.run_log", "ops.reconciliation")
    hashes = []
    for path in (data_dir / "warehouse.duckdb", restored):
        con = duckdb.connect(str(path), read_only=True)
        hashes.append(content_hash(con, tables))
        con.close()
    assert hashes[0] == hashes[1]


def test_reconciliation_fails_the_run_when_the_source_changed(data_dir, tmp_path, monkeypatch):
    """A source that answers differently on the re-read: the run fails and says what differs."""
    from pricing_pipeline.common.errors import RunFailed
    from pricing_pipeline.common.parameters import validate_parameters
    from pricing_pipeline.common.paths import RunPaths
    from pricing_pipeline.extract.responses import RawResponse
    from pricing_pipeline.ops import reconciliation as reconcile
    from pricing_pipeline.warehouse.connection import connect

    params = validate_parameters("2024-02-13", "2024-02-13", "women's clothing", "offline", "drift")
    assert run(data_dir, "--date", "2024-02-13", "--run-id", "drift").returncode == 0
    body = json.loads((RunPaths(data_dir, "drift").raw / "products.json").read_text(encoding="utf-8"))
    body = [p for p in body if p["id"] != 16] + [dict(body[0], id=99, price=1.0)]
    changed = RawResponse("products", "test", json.dumps(body).encode(), "json", "recorded", None)
    monkeypatch.setattr(reconcile, "fetch_products", lambda params: changed)
    with pytest.raises(RunFailed) as failure:
        reconcile.reconcile_with_source(params, data_dir)
    message = str(failure.value)
    assert "ids_only_in_source: source 1" in message and "99" in message
    assert "ids_only_in_warehouse" in message and "16" in message
    with connect(data_dir / "warehouse.duckdb") as con:
        agrees = dict(
            con.execute("SELECT check_name, agrees FROM ops.reconciliation WHERE run_id = 'drift'").fetchall()
        )
    assert agrees == {
        "product_count": True,
        "price_sum_cents": False,
        "ids_only_in_source": False,
        "ids_only_in_warehouse": False,
    }


def test_reconciliation_reuses_the_extracts_parse_of_a_byte_identical_body(data_dir, monkeypatch):
    """The re-read body equals the one the extract parsed: its hand-off is compared, not a second
    parse; a body differing by one byte is parsed again (the test above: a changed source)."""
    from pricing_pipeline.common.parameters import validate_parameters
    from pricing_pipeline.common.paths import RunPaths
    from pricing_pipeline.extract.responses import RawResponse
    from pricing_pipeline.ops import reconciliation as reconcile

    params = validate_parameters("2024-02-13", "2024-02-13", "women's clothing", "offline", "same")
    assert run(data_dir, "--date", "2024-02-13", "--run-id", "same").returncode == 0
    body = (RunPaths(data_dir, "same").raw / "products.json").read_bytes()
    parsed = []
    real_parse = reconcile.parse_products
    monkeypatch.setattr(reconcile, "parse_products", lambda *args: parsed.append(args) or real_parse(*args))
    for sent in (body, body + b" "):  # the same products; the second is not the same bytes
        monkeypatch.setattr(
            reconcile,
            "fetch_products",
            lambda params, sent=sent: RawResponse("products", "test", sent, "json", "recorded", None),
        )
        checks = reconcile.reconcile_with_source(params, data_dir)
        assert checks["agrees"].all() and len(checks) == 4
    assert len(parsed) == 1 and parsed[0][0].body == body + b" "
