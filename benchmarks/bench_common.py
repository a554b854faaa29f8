"""What every part of the benchmark shares: constants, timing, peak memory, worker processes."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pricing_pipeline.common.paths import PROJECT_ROOT

RUNNER = PROJECT_ROOT / "scripts" / "run_pipeline.py"
BENCHMARK = Path(__file__).resolve().with_name("benchmark.py")
CATEGORY = "women's clothing"
SEED = 20240212
RUN_TIMEOUT = 1800


def stats(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": values}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def child_env(**extra: str) -> dict:
    """The environment of a measured run: nothing inherited that would point it at data/."""
    env = dict(os.environ)
    for name in ("PIPELINE_DATA_DIR", "PIPELINE_BACKUP_DIR", "FRANKFURTER_BASE_URL", "FAKESTORE_BASE_URL"):
        env.pop(name, None)
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    env.update(extra)
    return env


def worker(command: str, *args: str, timeout: int = RUN_TIMEOUT) -> dict:
    """Run one of this script's worker commands in a fresh process; returns its JSON answer."""
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), command, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(),
    )
    if result.returncode != 0:
        raise RuntimeError(f"worker {command} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def machine() -> dict:
    import duckdb
    import pandas
    import papermill

    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(memory_gib, 1),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pandas.__version__,
        "papermill": papermill.__version__,
    }


def ecb_dates() -> list[str]:
    """Every date of the ECB history file, oldest first."""
    import zipfile

    from pricing_pipeline.extract.ecb_history import ecb_history_zip

    with zipfile.ZipFile(ecb_history_zip()) as archive:
        lines = archive.read("eurofxref-hist.csv").decode("utf-8").splitlines()
    return sorted(line[:10] for line in lines[1:] if line[:10])


def spans(last: dt.date) -> dict[str, tuple[str, str]]:
    """Spans ending on the last day of the ECB file: a day, a month, a year, the whole history."""
    from pricing_pipeline.common.parameters import FIRST_ECB_RATE_DATE

    def back(days: int) -> str:
        return (last - dt.timedelta(days=days - 1)).isoformat()

    end = last.isoformat()
    return {
        "day": (end, end),
        "month": (back(31), end),
        "year": (back(365), end),
        "history": (FIRST_ECB_RATE_DATE.isoformat(), end),
    }


def day_count(span: tuple[str, str]) -> int:
    return (dt.date.fromisoformat(span[1]) - dt.date.fromisoformat(span[0])).days + 1


def runner_command(
    span: tuple[str, str], source: str, data_dir: Path, category: str = CATEGORY, run_id: str = "bench"
) -> list[str]:
    return [
        sys.executable,
        str(RUNNER),
        "--start",
        span[0],
        "--end",
        span[1],
        "--source",
        source,
        "--category",
        category,
        "--data-dir",
        str(data_dir),
        "--run-id",
        run_id,
    ]


def timed(command: list[str], env: dict | None = None) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT, env=env or child_env())
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[1:4])}... failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return elapsed


def peak_rss(command: list[str], interval: float = 0.02, env: dict | None = None) -> dict:
    """Peak RSS of a command's whole process tree, in MB, and its wall-clock seconds.

    tree_mb: the largest sum of the RSS of the process and all its descendants, sampled every
    `interval` seconds (psutil; shared pages count once per process, so this errs high).
    largest_process_mb: the kernel's own figure for the largest single process of the tree
    (ru_maxrss from wait4, which folds in the descendants the process waited for).
    bytes_written: what the tree sent to the storage layer (ru_oublock from wait4, in 512-byte
    blocks, the descendants waited for included).
    """
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with ipykernel
        psutil = None
    # Not a pipe: a chatty run must never block on it. Closed below, once the process has ended.
    stderr_file = tempfile.TemporaryFile()  # noqa: SIM115
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr_file, env=env or child_env())
    tree_peak = 0
    parent = psutil.Process(process.pid) if psutil else None
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if parent is not None:
            total = 0
            with contextlib.suppress(psutil.Error):
                for member in [parent, *parent.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        total += member.memory_info().rss
            tree_peak = max(tree_peak, total)
        time.sleep(interval)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr_file.seek(0)
    stderr = stderr_file.read().decode("utf-8", "replace")
    stderr_file.close()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command[1:4])}... failed ({process.returncode}):\n{stderr[-3000:]}")
    largest = usage.ru_maxrss / 1024
    return {
        "tree_mb": tree_peak / 2**20 if parent is not None else None,
        "largest_process_mb": largest,
        "bytes_written": usage.ru_oublock * 512,
        "seconds": seconds,
    }
