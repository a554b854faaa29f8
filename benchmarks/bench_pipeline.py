"""The pipeline through its runner: a day against the floor, backfills, requests, peak memory."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import sys
import zipfile
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path
from urllib.parse import unquote

from pricing_pipeline.common.paths import RunPaths
from pricing_pipeline.testing.fake_api import FaultServer, serve_ecb_and_recordings

from bench_common import (
    CATEGORY,
    child_env,
    day_count,
    log,
    peak_rss,
    runner_command,
    stats,
    timed,
)

REQUEST_SPANS = ("day", "month", "year")


def write_floor_notebooks(folder: Path) -> list[Path]:
    """For each notebook of the pipeline, one with its parameters cell and its imports, nothing else."""
    import nbformat

    from pricing_pipeline.runner.notebooks import NOTEBOOKS_DIR, import_lines
    from pricing_pipeline.runner.pipeline import NOTEBOOKS

    folder.mkdir(parents=True, exist_ok=True)
    floors = []
    for name in NOTEBOOKS:
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
# The "light" floor also skips the IRI grammar that the runner skips (runner.notebooks.skip_iri_grammar):
# the target's floor is plain papermill; the light one shows what the runner's own work costs.
FLOOR_CODE = """
import json, sys
if sys.argv[3] == 'light':
    from pricing_pipeline.runner.notebooks import skip_iri_grammar
    skip_iri_grammar()
import papermill
parameters, cwd = json.loads(sys.argv[1]), sys.argv[2]
for notebook in sys.argv[4:]:
    papermill.execute_notebook(notebook, notebook.replace('.ipynb', '.out.ipynb'), parameters=parameters,
                               kernel_name='python3', cwd=cwd, progress_bar=False)
"""


def bench_runs(settings: dict, windows: dict, scratch: Path) -> tuple[dict, dict]:
    """Daily run, floor and backfills, interleaved round by round."""
    from pricing_pipeline.runner.notebooks import NOTEBOOKS_DIR

    floors = write_floor_notebooks(scratch / "floor")
    day = windows["day"]
    floor_parameters = {
        "start_date": day[0],
        "end_date": day[1],
        "category": CATEGORY,
        "source": "offline",
        "data_dir": str(scratch / "floor-data"),
        "run_id": "floor",
    }
    jobs = {
        name: lambda data, kind=kind: [
            sys.executable,
            "-c",
            FLOOR_CODE,
            json.dumps(floor_parameters),
            str(NOTEBOOKS_DIR),
            kind,
            *map(str, floors),
        ]
        for name, kind in (("floor", "plain"), ("floor_light", "light"))
    }
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
        log(
            f"  round {round_index + 1}/{settings['repeat']}: "
            + ", ".join(f"{name} {times[name][-1]:.2f}s" for name in order)
        )

    def paired(name: str, reference: str) -> dict:
        return stats([a / b for a, b in zip(times[name], times[reference], strict=False)])

    daily = {
        "run": stats(times["day"]),
        "floor": stats(times["floor"]),
        "ratio": paired("day", "floor"),
        "span": list(day),
    }
    daily["ratio"]["of_medians"] = daily["run"]["median"] / daily["floor"]["median"]
    daily["floor_light"] = stats(times["floor_light"])
    daily["ratio_light"] = paired("day", "floor_light")
    backfill = {}
    for name in settings["backfill"]:
        backfill[name] = {
            "start": windows[name][0],
            "end": windows[name][1],
            "days": day_count(windows[name]),
            "seconds": stats(times[name]),
            "ratio_to_day": paired(name, "day"),
        }
    return daily, backfill


def bench_memory(settings: dict, windows: dict, scratch: Path) -> dict:
    results = {}
    for name, repeat in (
        ("day", settings["memory_repeat"]),
        ("history", 1 if "history" in settings["backfill"] else 0),
    ):
        samples = []
        for index in range(repeat):
            data = scratch / "runs" / f"memory-{name}-{index}"
            samples.append(peak_rss(runner_command(windows[name], "offline", data)))
            shutil.rmtree(data, ignore_errors=True)
        if samples:
            results[name] = {
                key: stats([s[key] for s in samples]) if samples[0][key] is not None else None
                for key in ("tree_mb", "largest_process_mb")
            }
    return results


def bench_requests(windows: dict, scratch: Path) -> dict:
    results = {}
    apis = FaultServer(fallback=serve_ecb_and_recordings("/frankfurter", "/fakestore"))
    try:
        env = child_env(
            FRANKFURTER_BASE_URL=f"{apis.url}/frankfurter",
            FAKESTORE_BASE_URL=f"{apis.url}/fakestore",
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
        )
        for name in REQUEST_SPANS:
            apis.reset_counts()
            data = scratch / "runs" / f"live-{name}"
            seconds = timed(runner_command(windows[name], "live", data), env=env)
            shutil.rmtree(data, ignore_errors=True)
            paths = [unquote(path) for path in apis.requests]
            results[name] = {
                "start": windows[name][0],
                "end": windows[name][1],
                "days": day_count(windows[name]),
                "total": len(paths),
                "frankfurter": sum(p.startswith("/frankfurter/") for p in paths),
                "fakestore": sum(p.startswith("/fakestore/") for p in paths),
                "paths": paths,
                "seconds": seconds,
            }
            log(f"  {name}: {len(paths)} requests ({', '.join(paths)})")
    finally:
        apis.stop()
    counts = {r["total"] for r in results.values()}
    return {"spans": results, "constant": len(counts) == 1, "per_run": counts.pop() if len(counts) == 1 else None}


# ---------------------------------------------------------------- the whole catalogue, every currency


def bench_catalogue(settings: dict, windows: dict, scratch: Path) -> dict:
    """`--category all` (the whole catalogue, priced in every currency): a backfill of the span
    settings["catalogue"] (the whole ECB history; quick: a month) against one day, interleaved
    round by round; then a run of a month checked row by row against decimal."""
    name = settings["catalogue"]
    jobs = {"day": windows["day"], name: windows[name]}
    times: dict[str, list[float]] = {job: [] for job in jobs}
    order = list(jobs)
    rounds = min(settings["repeat"], settings["catalogue_repeat"])
    for round_index in range(rounds):
        shift = round_index % len(order)
        for job in order[shift:] + order[:shift]:
            data = scratch / "runs" / f"all-{job}-{round_index}"
            times[job].append(timed(runner_command(jobs[job], "offline", data, category="all")))
            shutil.rmtree(data, ignore_errors=True)
        log(f"  round {round_index + 1}/{rounds}: " + ", ".join(f"all {j} {times[j][-1]:.2f}s" for j in order))
    data = scratch / "runs" / "all-check"
    timed(runner_command(windows["month"], "offline", data, category="all"))
    check = check_catalogue_prices(RunPaths(data, "bench").output / "product_prices.csv", windows["month"])
    shutil.rmtree(data, ignore_errors=True)
    log(f"  check: {check['rows']} prices of a month, equal to decimal: {check['equal']}")
    return {
        "span": name,
        "start": windows[name][0],
        "end": windows[name][1],
        "days": day_count(windows[name]),
        "day": stats(times["day"]),
        "backfill": stats(times[name]),
        "ratio_to_day": stats([a / b for a, b in zip(times[name], times["day"], strict=False)]),
        "check": check,
    }


def check_catalogue_prices(path: Path, span: tuple[str, str]) -> dict:
    """Every row of a run's product_prices.csv against a computation of its own: the ECB file read
    with the csv module, the recorded catalogue's prices, minor units from CLDR (babel), Python's
    decimal half-up; and every currency of each day's publication in force present, no other."""
    from babel.numbers import get_currency_precision

    from pricing_pipeline.common.paths import RECORDINGS_DIR
    from pricing_pipeline.extract.ecb_history import ecb_history_zip

    with zipfile.ZipFile(ecb_history_zip()) as archive:
        reader = csv.reader(archive.read("eurofxref-hist.csv").decode("utf-8").splitlines())
        header = next(reader)
        table = {
            row[0]: {c: Decimal(v) for c, v in zip(header[1:], row[1:], strict=False) if c and v not in ("", "N/A")}
            for row in reader
        }
    catalogue = json.loads((RECORDINGS_DIR / "fakestore" / "products.json").read_bytes(), parse_float=Decimal)
    prices = {record["id"]: Decimal(str(record["price"])) for record in catalogue}
    dates = sorted(table)
    expected = {}
    start, end = (dt.date.fromisoformat(d) for d in span)
    for offset in range((end - start).days + 1):
        day = (start + dt.timedelta(days=offset)).isoformat()
        rate_date = max(d for d in dates if d <= day)
        rates = {**table[rate_date], "EUR": Decimal(1)}
        for product_id, price in prices.items():
            for currency, rate in rates.items():
                unit = Decimal(1).scaleb(-get_currency_precision(currency))
                with localcontext() as context:
                    context.prec = 100
                    value = (price * rate / rates["USD"]).quantize(unit, rounding=ROUND_HALF_UP)
                expected[(day, product_id, currency)] = (value, -unit.as_tuple().exponent, rate_date)
    # The rate_date of each product-day is in products_eur.csv beside it.
    with path.with_name("products_eur.csv").open(encoding="utf-8", newline="") as file:
        rate_dates = {(row["day"], int(row["product_id"])): row["rate_date"] for row in csv.DictReader(file)}
    with path.open(encoding="utf-8", newline="") as file:
        actual = {
            (row["day"], int(row["product_id"]), row["currency"]): (
                Decimal(row["price"]),
                -Decimal(row["price"]).as_tuple().exponent,
                rate_dates[(row["day"], int(row["product_id"]))],
            )
            for row in csv.DictReader(file)
        }
    wrong = [key for key in expected if actual.get(key) != expected[key]]
    return {
        "rows": len(actual),
        "expected_rows": len(expected),
        "mismatches": len(wrong) + len(set(actual) - set(expected)),
        "equal": actual == expected,
    }
