"""Benchmark the pipeline: what a day costs, what a backfill costs, and what 1000x bigger tables cost.

Every figure is measured side by side in one run and reported as the median of several repetitions
(with min and max), and as a ratio to a reference measured in the same run, so that it holds on a
noisy machine:

  daily     one day through the runner (offline source) against the floor: papermill running
            notebooks that only start a kernel and import the libraries of the real notebooks
  requests  HTTP requests a live run makes for 1 day, 1 month and 1 year (local server)
  backfill  1 day, 1 month, 1 year and the whole ECB history through the runner (offline), as
            ratios to 1 day
  scale     marts.top_products_daily built in full by sql/marts/top_products_daily.sql (the file's
            text, unchanged) over a generated marts.products_eur of 10,000 products x 1,000 days,
            against pandas (sort, groupby head), checked equal; then one new day incrementally
  memory    peak RSS of the daily run (runner + kernels) and of the 10-million-row build

Pipeline runs are interleaved round by round (floor, day, month, ...), so a slow spell of the
machine hits every figure of a round alike. Each run writes to its own scratch folder; only the
JSON lands in data/bench/ (or --output).

  make bench                                  the full benchmark (about 10 minutes on 2 cores)
  .venv/bin/python scripts/benchmark.py --quick --output /tmp/bench
                                              small sizes, one repetition: checks that the results
                                              agree (run by `make test`), not the times

Exit status: 0 when every run succeeded and the results agree (DuckDB == pandas, the same number
of requests for every span); 1 otherwise. A missed target is reported, and fails the run only with
--strict.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT / "src"))
RUNNER = PROJECT_ROOT / "scripts" / "run_pipeline.py"
DEFAULT_OUTPUT = PROJECT_ROOT / "data" / "bench"
CATEGORY = "women's clothing"
SEED = 20240212
RUN_TIMEOUT = 1800

# Targets of the issue. Ratios are "at most" unless named *_min.
TARGETS = {
    "daily_ratio": 1.5,  # day through the runner / floor
    "year_ratio": 1.5,  # year backfill / day
    "history_ratio": 3.0,  # whole-history backfill / day
    "speedup_min": 10.0,  # pandas / DuckDB full build
    "incremental_ratio": 1 / 50,  # one new day / full rebuild
    "daily_rss_mb": 400.0,
    "scale_rss_mb": 2048.0,
}
# The backfill spans that have a target: span -> its key in TARGETS.
BACKFILL_TARGETS = {"year": "year_ratio", "history": "history_ratio"}

FULL = {"repeat": 5, "scale_repeat": 3, "incremental_repeat": 5, "products": 10_000, "days": 1_000,
        "backfill": ("day", "month", "year", "history"), "memory_repeat": 3}
QUICK = {"repeat": 1, "scale_repeat": 1, "incremental_repeat": 1, "products": 200, "days": 30,
         "backfill": ("day", "month"), "memory_repeat": 1}
REQUEST_SPANS = ("day", "month", "year")


# ---------------------------------------------------------------- small helpers


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
        [sys.executable, str(Path(__file__).resolve()), command, *args],
        capture_output=True, text=True, timeout=timeout, env=child_env(),
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


# ---------------------------------------------------------------- spans


def ecb_dates() -> list[str]:
    """Every date of the ECB history file, oldest first."""
    import zipfile

    from pricing_pipeline.sources import ecb_history_zip

    with zipfile.ZipFile(ecb_history_zip()) as archive:
        lines = archive.read("eurofxref-hist.csv").decode("utf-8").splitlines()
    return sorted(line[:10] for line in lines[1:] if line[:10])


def spans(last: dt.date) -> dict[str, tuple[str, str]]:
    """Spans ending on the last day of the ECB file: a day, a month, a year, the whole history."""
    from pricing_pipeline.parameters import FIRST_ECB_RATE_DATE

    def back(days: int) -> str:
        return (last - dt.timedelta(days=days - 1)).isoformat()

    end = last.isoformat()
    return {"day": (end, end), "month": (back(31), end), "year": (back(365), end),
            "history": (FIRST_ECB_RATE_DATE.isoformat(), end)}


def day_count(span: tuple[str, str]) -> int:
    return (dt.date.fromisoformat(span[1]) - dt.date.fromisoformat(span[0])).days + 1


# ---------------------------------------------------------------- floor notebooks


def import_lines(notebook: Path) -> list[str]:
    """The import statements of a notebook's code cells, as written (the libraries it loads)."""
    import nbformat

    lines = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code" or "parameters" in cell.metadata.get("tags", []):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # IPython magics: no imports to take from this cell
            continue
        lines += [ast.get_source_segment(cell.source, node) for node in tree.body
                  if isinstance(node, (ast.Import, ast.ImportFrom))]
    return lines


def write_floor_notebooks(folder: Path) -> list[Path]:
    """For each notebook of the pipeline, one with its parameters cell and its imports, nothing else."""
    import nbformat

    from pricing_pipeline.runner import NOTEBOOKS_DIR, PIPELINE

    folder.mkdir(parents=True, exist_ok=True)
    floors = []
    for name in PIPELINE:
        real = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
        parameters = [c for c in real.cells if "parameters" in c.metadata.get("tags", [])]
        floor = nbformat.v4.new_notebook(metadata=real.metadata)
        floor.cells = [nbformat.v4.new_code_cell(c.source, metadata={"tags": ["parameters"]}) for c in parameters]
        floor.cells.append(nbformat.v4.new_code_cell("\n".join(import_lines(NOTEBOOKS_DIR / name))))
        path = folder / f"floor_{name}"
        nbformat.write(floor, path)
        floors.append(path)
    return floors


# The floor's process: Python, papermill and the kernels, as the runner has them (cwd included).
FLOOR_CODE = """
import json, sys, papermill
parameters, cwd = json.loads(sys.argv[1]), sys.argv[2]
for notebook in sys.argv[3:]:
    papermill.execute_notebook(notebook, notebook.replace('.ipynb', '.out.ipynb'), parameters=parameters,
                               kernel_name='python3', cwd=cwd, progress_bar=False)
"""


# ---------------------------------------------------------------- measured runs


def runner_command(span: tuple[str, str], source: str, data_dir: Path) -> list[str]:
    return [sys.executable, str(RUNNER), "--start", span[0], "--end", span[1], "--source", source,
            "--category", CATEGORY, "--data-dir", str(data_dir), "--run-id", "bench"]


def timed(command: list[str], env: dict | None = None) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT, env=env or child_env())
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[1:4])}... failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return elapsed


def peak_rss(command: list[str], interval: float = 0.02) -> dict:
    """Peak RSS of a command's whole process tree, in MB.

    tree_mb: the largest sum of the RSS of the process and all its descendants, sampled every
    `interval` seconds (psutil; shared pages count once per process, so this errs high).
    largest_process_mb: the kernel's own figure for the largest single process of the tree
    (ru_maxrss from wait4, which folds in the descendants the process waited for).
    """
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with ipykernel
        psutil = None
    stderr_file = tempfile.TemporaryFile()  # not a pipe: a chatty run must never block on it
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr_file, env=child_env())
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
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr_file.seek(0)
    stderr = stderr_file.read().decode("utf-8", "replace")
    stderr_file.close()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command[1:4])}... failed ({process.returncode}):\n{stderr[-3000:]}")
    largest = usage.ru_maxrss / 1024
    return {"tree_mb": tree_peak / 2**20 if parent is not None else None, "largest_process_mb": largest}


def bench_runs(settings: dict, windows: dict, scratch: Path) -> tuple[dict, dict]:
    """Daily run, floor and backfills, interleaved round by round."""
    from pricing_pipeline.runner import NOTEBOOKS_DIR

    floors = write_floor_notebooks(scratch / "floor")
    day = windows["day"]
    floor_parameters = {"start_date": day[0], "end_date": day[1], "category": CATEGORY, "source": "offline",
                        "data_dir": str(scratch / "floor-data"), "run_id": "floor"}
    jobs = {"floor": lambda data: [sys.executable, "-c", FLOOR_CODE, json.dumps(floor_parameters),
                                   str(NOTEBOOKS_DIR), *map(str, floors)]}
    for name in settings["backfill"]:
        jobs[name] = lambda data, span=windows[name]: runner_command(span, "offline", data)
    times: dict[str, list[float]] = {name: [] for name in jobs}
    order = list(jobs)
    for round_index in range(settings["repeat"]):
        shift = round_index % len(order)  # each job takes every place in the round in turn
        for name in order[shift:] + order[:shift]:
            data = scratch / "runs" / f"{name}-{round_index}"
            times[name].append(timed(jobs[name](data)))
            shutil.rmtree(data, ignore_errors=True)
            shutil.rmtree(scratch / "floor-data", ignore_errors=True)
        log(f"  round {round_index + 1}/{settings['repeat']}: "
            + ", ".join(f"{name} {times[name][-1]:.2f}s" for name in order))

    def paired(name: str, reference: str) -> dict:
        return stats([a / b for a, b in zip(times[name], times[reference])])

    daily = {"run": stats(times["day"]), "floor": stats(times["floor"]), "ratio": paired("day", "floor"),
             "span": list(day)}
    daily["ratio"]["of_medians"] = daily["run"]["median"] / daily["floor"]["median"]
    backfill = {}
    for name in settings["backfill"]:
        backfill[name] = {"start": windows[name][0], "end": windows[name][1], "days": day_count(windows[name]),
                          "seconds": stats(times[name]), "ratio_to_day": paired(name, "day")}
    return daily, backfill


def bench_memory(settings: dict, windows: dict, scratch: Path) -> dict:
    results = {}
    for name, repeat in (("day", settings["memory_repeat"]), ("history", 1 if "history" in settings["backfill"] else 0)):
        samples = []
        for index in range(repeat):
            data = scratch / "runs" / f"memory-{name}-{index}"
            samples.append(peak_rss(runner_command(windows[name], "offline", data)))
            shutil.rmtree(data, ignore_errors=True)
        if samples:
            results[name] = {key: stats([s[key] for s in samples]) if samples[0][key] is not None else None
                             for key in ("tree_mb", "largest_process_mb")}
    return results


# ---------------------------------------------------------------- request counts (local server)


class FakeApis:
    """Frankfurter's range endpoint (bodies built from the ECB file) and Fake Store's category
    endpoint (the recorded body), on 127.0.0.1; counts every request it receives."""

    def __init__(self):
        import zipfile

        from pricing_pipeline.sources import ecb_history_zip

        with zipfile.ZipFile(ecb_history_zip()) as archive:
            lines = archive.read("eurofxref-hist.csv").decode("utf-8").splitlines()
        currencies = lines[0].split(",")[1:]
        self.rates = {}
        for line in lines[1:]:
            cells = line.split(",")
            self.rates[cells[0]] = {c: float(v) for c, v in zip(currencies, cells[1:]) if c and v not in ("", "N/A")}
        self.requests: list[str] = []
        self.lock = threading.Lock()
        apis = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                with apis.lock:
                    apis.requests.append(self.path)
                status, body = apis.answer(unquote(self.path))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, path: str) -> tuple[int, bytes]:
        from pricing_pipeline.sources import products_recording_path

        if path.startswith("/frankfurter/") and ".." in path:
            start, end = path.removeprefix("/frankfurter/").split("..", 1)
            days = {day: rates for day, rates in self.rates.items() if start <= day <= end}
            if not days:
                return 404, b'{"message": "not found"}'
            body = {"amount": 1.0, "base": "EUR", "start_date": min(days), "end_date": max(days),
                    "rates": dict(sorted(days.items()))}
            return 200, json.dumps(body).encode()
        prefix = "/fakestore/products/category/"
        if path.startswith(prefix):
            recording = products_recording_path(path.removeprefix(prefix))
            if recording.is_file():
                return 200, recording.read_bytes()
        return 404, b'{"message": "not found"}'

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def bench_requests(windows: dict, scratch: Path) -> dict:
    results = {}
    with FakeApis() as apis:
        env = child_env(FRANKFURTER_BASE_URL=f"{apis.url}/frankfurter", FAKESTORE_BASE_URL=f"{apis.url}/fakestore",
                        NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
        for name in REQUEST_SPANS:
            with apis.lock:
                apis.requests.clear()
            data = scratch / "runs" / f"live-{name}"
            seconds = timed(runner_command(windows[name], "live", data), env=env)
            shutil.rmtree(data, ignore_errors=True)
            with apis.lock:
                paths = list(apis.requests)
            results[name] = {
                "start": windows[name][0], "end": windows[name][1], "days": day_count(windows[name]),
                "total": len(paths),
                "frankfurter": sum(p.startswith("/frankfurter/") for p in paths),
                "fakestore": sum(p.startswith("/fakestore/") for p in paths),
                "paths": paths, "seconds": seconds,
            }
            log(f"  {name}: {len(paths)} requests ({', '.join(paths)})")
    counts = {r["total"] for r in results.values()}
    return {"spans": results, "constant": len(counts) == 1, "per_run": counts.pop() if len(counts) == 1 else None}


# ---------------------------------------------------------------- scale: workers (fresh processes)

TOP_COLUMNS = ("day, rank, product_id, title, category, rating_rate, rating_count, price_usd, price_eur, rate_date")


def maxrss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def work_generate(db: str, products: int, days: int, seed: int) -> dict:
    """marts.products_eur (the project's DDL) filled with products x days rows, from a seeded RNG."""
    import duckdb
    import numpy as np
    import pandas as pd

    from pricing_pipeline.warehouse import sql_text

    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    n = products * days
    price_cents = rng.integers(100, 20_000, products)  # a product keeps its price
    usd_per_eur = np.round(rng.uniform(1.05, 1.12, days), 4)  # one rate per day
    frame = pd.DataFrame({
        "day_index": np.repeat(np.arange(days, dtype=np.int32), products),
        "product_id": np.tile(np.arange(1, products + 1, dtype=np.int32), days),
        "rating_tenths": rng.integers(0, 51, n, dtype=np.int16),  # 0.0..5.0: many ties
        "rating_count": rng.integers(0, 1_000, n, dtype=np.int32),  # ties too, broken by product_id
    })
    cents = pd.DataFrame({"product_id": np.arange(1, products + 1, dtype=np.int32), "cents": price_cents})
    rates = pd.DataFrame({"day_index": np.arange(days, dtype=np.int32), "usd_per_eur": usd_per_eur})
    con = duckdb.connect(db)
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    create = [s.query for s in con.extract_statements(sql_text("marts/products_eur.sql"))
              if s.type.name == "CREATE"]
    con.execute(create[0])
    con.register("generated", frame)
    con.register("cents", cents)
    con.register("rates", rates)
    con.execute("""
        INSERT INTO marts.products_eur
        SELECT DATE '2024-01-01' + g.day_index AS day, g.product_id,
               'Product ' || g.product_id AS title, $category AS category,
               (c.cents / 100)::DECIMAL(10,2) AS price_usd,
               round(c.cents / 100 / r.usd_per_eur, 2)::DECIMAL(10,2) AS price_eur,
               r.usd_per_eur::DECIMAL(18,6), DATE '2024-01-01' + g.day_index AS rate_date,
               g.rating_tenths / 10 AS rating_rate, g.rating_count
        FROM generated AS g JOIN cents AS c USING (product_id) JOIN rates AS r USING (day_index)
        ORDER BY day, product_id
    """, {"category": CATEGORY})
    rows = con.execute("SELECT count(*) FROM marts.products_eur").fetchall()[0][0]
    con.execute("CHECKPOINT")
    con.close()
    return {"rows": rows, "seconds": time.perf_counter() - started, "file_mb": Path(db).stat().st_size / 2**20}


def work_duckdb(db: str, mode: str) -> dict:
    """One build of marts.top_products_daily with the file's text; only the execute is timed.

    full: all days of marts.products_eur, into an empty table. incremental: the last day, into a
    table holding every other day.
    """
    import duckdb
    from pricing_pipeline.warehouse import run_views, sql_text

    text = sql_text("marts/top_products_daily.sql")
    con = duckdb.connect(db)
    days = [row[0] for row in con.execute("SELECT DISTINCT day FROM marts.products_eur ORDER BY day").fetchall()]
    if mode == "full":
        con.execute("DROP TABLE IF EXISTS marts.top_products_daily")
        run_days = days
    else:
        con.execute("DELETE FROM marts.top_products_daily WHERE day = ?", [days[-1]])
        run_days = days[-1:]
    for name, frame in run_views(run_days, CATEGORY).items():  # as the pipeline's load registers them
        con.register(name, frame)
    started = time.perf_counter()
    con.execute(text)
    seconds = time.perf_counter() - started
    rows = con.execute("SELECT count(*) FROM marts.top_products_daily").fetchall()[0][0]
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    con.close()
    return {"seconds": seconds, "rows": rows, "maxrss_mb": maxrss_mb(), "threads": threads, "days": len(run_days)}


def pandas_top5(frame):
    """The same ranking in pandas: sort by the rule, then the first 5 of each day and category."""
    ranked = frame.sort_values(["rating_rate", "rating_count", "product_id"], ascending=[False, False, True],
                               kind="stable")
    top = ranked.groupby(["day", "category"], sort=False).head(5)
    return top.assign(rank=top.groupby(["day", "category"], sort=False).cumcount() + 1)


def work_pandas(db: str, repeat: int) -> dict:
    """Load marts.products_eur into pandas (timed apart), rank it `repeat` times, keep the result."""
    import duckdb

    con = duckdb.connect(db)
    started = time.perf_counter()
    frame = con.execute("SELECT * FROM marts.products_eur").df()
    load = time.perf_counter() - started
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        top = pandas_top5(frame)
        seconds.append(time.perf_counter() - started)
    con.execute("CREATE SCHEMA IF NOT EXISTS bench")
    con.register("pandas_top", top)
    con.execute(f"""
        CREATE OR REPLACE TABLE bench.pandas_top5 AS
        SELECT day::DATE AS day, rank::INTEGER AS rank, product_id, title, category, rating_rate, rating_count,
               price_usd::DECIMAL(10,2) AS price_usd, price_eur::DECIMAL(10,2) AS price_eur,
               rate_date::DATE AS rate_date
        FROM pandas_top
    """)
    con.close()
    return {"seconds": seconds, "load_seconds": load, "rows": len(top), "maxrss_mb": maxrss_mb()}


def work_compare(db: str) -> dict:
    """Rows of marts.top_products_daily and of the pandas result that the other lacks (both 0 = equal)."""
    import duckdb

    con = duckdb.connect(db, read_only=True)

    def missing(a: str, b: str) -> int:
        return con.execute(f"SELECT count(*) FROM (SELECT {TOP_COLUMNS} FROM {a} EXCEPT ALL "
                           f"SELECT {TOP_COLUMNS} FROM {b})").fetchall()[0][0]

    only_duckdb = missing("marts.top_products_daily", "bench.pandas_top5")
    only_pandas = missing("bench.pandas_top5", "marts.top_products_daily")
    rows = con.execute("SELECT count(*) FROM marts.top_products_daily").fetchall()[0][0]
    con.close()
    return {"rows": rows, "only_in_duckdb": only_duckdb, "only_in_pandas": only_pandas,
            "equal": only_duckdb == 0 and only_pandas == 0 and rows > 0}


def bench_scale(settings: dict, scratch: Path) -> dict:
    db = str(scratch / "scale.duckdb")
    generated = worker("_generate", db, str(settings["products"]), str(settings["days"]), str(SEED))
    log(f"  generated {generated['rows']:,} rows in {generated['seconds']:.1f}s")
    full = [worker("_duckdb", db, "full") for _ in range(settings["scale_repeat"])]
    log("  duckdb full: " + ", ".join(f"{r['seconds']:.2f}s" for r in full))
    incremental = [worker("_duckdb", db, "incremental") for _ in range(settings["incremental_repeat"])]
    log("  duckdb incremental: " + ", ".join(f"{r['seconds'] * 1000:.0f}ms" for r in incremental))
    pandas = worker("_pandas", db, str(settings["scale_repeat"]))
    log("  pandas: " + ", ".join(f"{s:.2f}s" for s in pandas["seconds"]) + f" (load {pandas['load_seconds']:.1f}s)")
    check = worker("_compare", db)
    result = {
        "products": settings["products"], "days": settings["days"], "rows": generated["rows"], "seed": SEED,
        "generate_seconds": generated["seconds"],
        "duckdb_threads": full[0]["threads"],
        "duckdb_full": stats([r["seconds"] for r in full]),
        "pandas": stats(pandas["seconds"]),
        "pandas_load_seconds": pandas["load_seconds"],
        "incremental": stats([r["seconds"] for r in incremental]),
        "duckdb_full_rss_mb": stats([r["maxrss_mb"] for r in full]),
        "pandas_rss_mb": pandas["maxrss_mb"],
        "check": check,
    }
    result["speedup"] = result["pandas"]["median"] / result["duckdb_full"]["median"]
    result["incremental_ratio"] = result["incremental"]["median"] / result["duckdb_full"]["median"]
    return result


# ---------------------------------------------------------------- report


def at_most(key: str) -> str:
    """An at-most target as both the JSON report and the table state it, e.g. "<= 1.5"."""
    return f"<= {TARGETS[key]}"


def verdicts(report: dict) -> list[dict]:
    """One row per target: the figure, the target, met or not (None: not measured in this mode)."""
    rows = []
    quick = report["mode"] == "quick"

    def add(name, figure, target, met, unit="", timing=True):
        # Quick mode's sizes are too small for a time or a ratio to mean anything: n/a.
        rows.append({"name": name, "figure": figure, "target": target,
                     "met": None if quick and timing else bool(met), "unit": unit})

    daily = report.get("daily")
    if daily:
        ratio = daily["ratio"]["median"]
        add("daily run / floor", ratio, at_most("daily_ratio"), ratio <= TARGETS["daily_ratio"], "x")
    requests = report.get("requests")
    if requests:
        add("requests per live run (day, month, year)", requests["per_run"], "same for every span",
            requests["constant"], timing=False)
    backfill = report.get("backfill", {})
    for name, limit in BACKFILL_TARGETS.items():
        if name in backfill:
            ratio = backfill[name]["ratio_to_day"]["median"]
            add(f"backfill {name} / day", ratio, at_most(limit), ratio <= TARGETS[limit], "x")
    scale = report.get("scale")
    if scale:
        add("pandas / DuckDB full build", scale["speedup"], f">= {TARGETS['speedup_min']}",
            scale["speedup"] >= TARGETS["speedup_min"], "x")
        add("incremental day / full rebuild", scale["incremental_ratio"], "<= 1/50 (0.02)",
            scale["incremental_ratio"] <= TARGETS["incremental_ratio"], "x")
        add("DuckDB == pandas", scale["check"]["equal"], "equal", scale["check"]["equal"], timing=False)
        rss = scale["duckdb_full_rss_mb"]["median"]
        add("peak RSS, 10M-row build", rss, f"< {TARGETS['scale_rss_mb']:.0f} MB", rss < TARGETS["scale_rss_mb"], "MB")
    memory = report.get("memory", {})
    if "day" in memory:
        day = memory["day"]["tree_mb"] or memory["day"]["largest_process_mb"]
        add("peak RSS, daily run (runner + kernels)", day["median"], f"< {TARGETS['daily_rss_mb']:.0f} MB",
            day["median"] < TARGETS["daily_rss_mb"], "MB", timing=False)  # the same run in quick mode
    return rows


def fmt(value, unit="") -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return str(value)
    if unit == "MB":
        return f"{value:.0f}"
    if abs(value) < 0.1:
        return f"{value:.4f}"
    return f"{value:.2f}"


def table(report: dict) -> str:
    lines = []
    m = report["machine"]
    lines.append(f"pricing pipeline benchmark ({report['mode']}), {report['started_at']}, "
                 f"{m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}, DuckDB {m['duckdb']}, "
                 f"pandas {m['pandas']}")
    rows = [("figure", "median", "min", "max", "target")]

    def s(label, st, unit="s", target=""):
        rows.append((label, fmt(st["median"], unit), fmt(st["min"], unit), fmt(st["max"], unit), target))

    daily = report.get("daily")
    if daily:
        s("daily run, 1 day, offline (s)", daily["run"])
        s("floor: papermill, imports only (s)", daily["floor"])
        s("daily run / floor", daily["ratio"], "x", at_most("daily_ratio"))
    for name, b in report.get("backfill", {}).items():
        if name == "day":
            continue
        s(f"backfill {name}, {b['days']} days (s)", b["seconds"])
        target = at_most(BACKFILL_TARGETS[name]) if name in BACKFILL_TARGETS else ""
        s(f"backfill {name} / day", b["ratio_to_day"], "x", target)
    requests = report.get("requests")
    if requests:
        for name, r in requests["spans"].items():
            rows.append((f"requests, live run, {name} ({r['days']} days)", str(r["total"]), "", "",
                         f"{r['frankfurter']} rates + {r['fakestore']} products"))
    scale = report.get("scale")
    if scale:
        label = f"{scale['rows']:,} rows"
        s(f"top5 full build, DuckDB, {label} (s)", scale["duckdb_full"])
        s(f"top5 full build, pandas, {label} (s)", scale["pandas"])
        rows.append(("pandas / DuckDB", fmt(scale["speedup"]), "", "", f">= {TARGETS['speedup_min']:.0f}"))
        s("incremental, 1 new day, DuckDB (s)", scale["incremental"])
        rows.append(("incremental / full rebuild", fmt(scale["incremental_ratio"]), "", "", "<= 0.02 (1/50)"))
        rows.append(("DuckDB result == pandas result", str(scale["check"]["equal"]), "", "", "equal"))
        s("peak RSS, 10M-row build (MB)", scale["duckdb_full_rss_mb"], "MB", f"< {TARGETS['scale_rss_mb']:.0f}")
    memory = report.get("memory", {})
    for name, label, target in (("day", "daily run", f"< {TARGETS['daily_rss_mb']:.0f}"), ("history", "history backfill", "")):
        if name in memory:
            if memory[name]["tree_mb"]:
                s(f"peak RSS, {label}, process tree (MB)", memory[name]["tree_mb"], "MB", target)
            s(f"peak RSS, {label}, largest process (MB)", memory[name]["largest_process_mb"], "MB")
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) if i == 0 or i == 4 else cell.rjust(widths[i])
                               for i, cell in enumerate(row)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    lines.append("targets:" + (" (quick mode: sizes too small for times to mean anything; n/a)"
                               if report["mode"] == "quick" else ""))
    for v in report["targets"]:
        mark = {True: "met", False: "MISSED", None: "n/a"}[v["met"]]
        lines.append(f"  {mark:6} {v['name']}: {fmt(v['figure'], v['unit'])} (target {v['target']})")
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes, one repetition: checks the script and that results agree, not the times")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT),
                        help="folder of the JSON report (default: data/bench/)")
    parser.add_argument("--repeat", type=int, help="repetitions of each pipeline run (default: 5; quick: 1)")
    parser.add_argument("--scale-repeat", type=int, help="repetitions of the 10M-row builds (default: 3; quick: 1)")
    parser.add_argument("--products", type=int, help="products of the generated table (default: 10000; quick: 200)")
    parser.add_argument("--days", type=int, help="days of the generated table (default: 1000; quick: 30)")
    parser.add_argument("--sections", default="daily,requests,memory,scale",
                        help="comma-separated subset of daily (with the backfills), requests, memory, scale")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--keep-scratch", action="store_true", help="keep the scratch folder (its path is printed)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0].startswith("_"):  # a worker, in its own process
        command, args = argv[0], argv[1:]
        answer = {
            "_generate": lambda: work_generate(args[0], int(args[1]), int(args[2]), int(args[3])),
            "_duckdb": lambda: work_duckdb(args[0], args[1]),
            "_pandas": lambda: work_pandas(args[0], int(args[1])),
            "_compare": lambda: work_compare(args[0]),
        }[command]()
        print(json.dumps(answer))
        return 0

    args = build_parser().parse_args(argv)
    settings = dict(QUICK if args.quick else FULL)
    for key in ("repeat", "scale_repeat", "products", "days"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    if args.repeat is not None:
        settings["memory_repeat"] = min(settings["memory_repeat"], args.repeat)
    sections = {s.strip() for s in args.sections.split(",") if s.strip()}
    unknown = sections - {"daily", "requests", "memory", "scale"}
    if unknown:
        build_parser().error(f"unknown sections: {', '.join(sorted(unknown))}")

    started = time.perf_counter()
    dates = ecb_dates()
    last = min(dt.date.fromisoformat(dates[-1]), dt.datetime.now(dt.timezone.utc).date())
    windows = spans(last)
    report = {
        "schema": 1,
        "mode": "quick" if args.quick else "full",
        "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["scripts/benchmark.py", *argv]),
        "machine": machine(),
        "settings": {**settings, "backfill": list(settings["backfill"]), "sections": sorted(sections),
                     "ecb_last_date": last.isoformat(), "category": CATEGORY},
    }
    scratch = Path(tempfile.mkdtemp(prefix="pricing-bench-"))
    ok = True
    try:
        if "daily" in sections:
            log(f"daily run, floor and backfills ({settings['repeat']} rounds)")
            report["daily"], report["backfill"] = bench_runs(settings, windows, scratch)
        if "requests" in sections:
            log("requests of live runs (local server)")
            report["requests"] = bench_requests(windows, scratch)
            ok &= report["requests"]["constant"]
        if "memory" in sections:
            log("peak RSS of the daily run")
            report["memory"] = bench_memory(settings, windows, scratch)
        if "scale" in sections:
            log(f"scale: {settings['products']:,} products x {settings['days']:,} days")
            report["scale"] = bench_scale(settings, scratch)
            ok &= report["scale"]["check"]["equal"]
    finally:
        if args.keep_scratch:
            log(f"scratch kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    report["duration_seconds"] = time.perf_counter() - started
    report["targets"] = verdicts(report)
    report["agree"] = ok

    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    path = output / ("benchmark-quick.json" if args.quick else "benchmark.json")
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(table(report))
    print(f"\n{report['duration_seconds']:.0f}s; figures written to {path}")
    if not ok:
        print("RESULTS DISAGREE (see above)", file=sys.stderr)
        return 1
    if args.strict and any(v["met"] is False for v in report["targets"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
