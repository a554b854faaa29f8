"""Catalogue scale: live runs through the runner against the local fake API serving generated, valid
Fake Store catalogues of growing size, each timed against the 20-product run of the same round;
peak RSS of the run's whole process tree; bytes of the run record; and, side by side, what a user
would otherwise write to load the same body into DuckDB (pandas read_json + insert) against our
extract + validate + load with its checks on.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np

from pricing_pipeline.common.paths import PROJECT_ROOT
from pricing_pipeline.testing.fake_api import FaultServer, Respond, serve_ecb_and_recordings

from bench_common import CATEGORY, SEED, child_env, log, peak_rss, runner_command, stats, worker
from bench_report import verdict

# The reference size: the case's category has 6 products; 20 is the whole Fake Store catalogue.
REFERENCE = 20
RECORDED_PRODUCTS = PROJECT_ROOT / "data" / "recorded" / "fakestore" / "products.json"


def catalogue_body(products: int, seed: int = SEED) -> bytes:
    """A valid Fake Store category body of `products` products, each one of the 20 recorded products
    as the API serves it (its full title, description and image, its spacing, UTF-8 unescaped: about
    550 bytes a product), with its own id, a price in whole cents and a rating of one decimal. Ids
    1..n in a shuffled order: the API's order is not the id order, the parser must sort."""
    recorded = json.loads(RECORDED_PRODUCTS.read_text(encoding="utf-8"))
    category = json.dumps(CATEGORY, ensure_ascii=False)

    def text(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)

    # Each recorded product as a template: everything but the id, price and rating written once.
    templates = [
        (
            '{"id": %d, "title": '
            + text(item["title"]).replace("%", "%%")
            + ', "price": %d.%02d, "description": '
            + text(item["description"]).replace("%", "%%")
            + f', "category": {category}, "image": '
            + text(item["image"]).replace("%", "%%")
            + ', "rating": {"rate": %s, "count": %d}}'
        )
        for item in recorded
    ]
    rng = np.random.default_rng(seed + products)
    ids = rng.permutation(np.arange(1, products + 1)).tolist()
    cents = rng.integers(100, 100_000, products).tolist()
    ratings = (rng.integers(0, 51, products) / 10).tolist()
    counts = rng.integers(0, 1000, products).tolist()
    size = len(templates)
    parts = [
        templates[i % size] % (i, c // 100, c % 100, r, n)
        for i, c, r, n in zip(ids, cents, ratings, counts, strict=True)
    ]
    return ("[" + ", ".join(parts) + "]").encode()


def serve_catalogue(body: bytes) -> FaultServer:
    """Frankfurter from the ECB file; the category endpoint and /products both answer `body`."""
    ecb = serve_ecb_and_recordings("/frankfurter", "/fakestore")
    answer = Respond(200, body)

    def fallback(path: str):
        if path.startswith("/fakestore/products"):
            return answer
        return ecb(path)

    return FaultServer(fallback=fallback)


def live_env(apis: FaultServer) -> dict:
    return child_env(
        FRANKFURTER_BASE_URL=f"{apis.url}/frankfurter",
        FAKESTORE_BASE_URL=f"{apis.url}/fakestore",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )


def record_bytes(data: Path, run_id: str = "bench") -> dict:
    """The run record: executed notebooks and their HTML under data/runs/<run id>/."""
    record = data / "runs" / run_id
    notebooks = [p.stat().st_size for p in record.rglob("*.ipynb")]
    pages = [p.stat().st_size for p in record.rglob("*.html")]
    return {
        "notebooks": sum(notebooks),
        "largest_notebook": max(notebooks, default=0),
        "html": sum(pages),
        "total": sum(notebooks) + sum(pages),
    }


def check_run(data: Path, products: int, day: str) -> dict:
    """What the run wrote for its day: every product snapshotted and priced, the top 5 ranked."""
    import duckdb

    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:

        def one(sql: str) -> int:
            return con.execute(sql, [day]).fetchone()[0]

        found = {
            "snapshots": one("SELECT count(*) FROM staging.product_snapshots WHERE snapshot_date = ?"),
            "distinct_ids": one(
                "SELECT count(DISTINCT product_id) FROM staging.product_snapshots WHERE snapshot_date = ?"
            ),
            "priced": one("SELECT count(*) FROM marts.products_eur WHERE day = ? AND price_eur > 0"),
            "top": one("SELECT count(*) FROM marts.top_products_daily WHERE day = ?"),
        }
    finally:
        con.close()
    found["ok"] = found["snapshots"] == found["distinct_ids"] == found["priced"] == products and found["top"] == min(
        5, products
    )
    return found


FORMATS = ("csv", "parquet")


def bench_catalogue_scale(settings: dict, windows: dict, scratch: Path) -> dict:
    """Live daily runs for each catalogue size and output format, interleaved round by round, each
    against the 20-product CSV run of its round; then the side by side of the largest body."""
    sizes = [REFERENCE, *[n for n in settings["catalogue_sizes"] if n != REFERENCE]]
    runs = [(size, fmt) for size in sizes for fmt in FORMATS]
    day = windows["day"]
    bodies = {}
    for size in sizes:
        started = time.perf_counter()
        bodies[size] = catalogue_body(size)
        log(
            f"  catalogue of {size:,} products: {len(bodies[size]) / 2**20:.1f} MB ({time.perf_counter() - started:.1f}s)"
        )
    seconds: dict[tuple, list[float]] = {run: [] for run in runs}
    rss: dict[tuple, list[float]] = {run: [] for run in runs}
    records: dict[tuple, dict] = {}
    checks: dict[tuple, dict] = {}
    outputs: dict[tuple, int] = {}
    servers = {size: serve_catalogue(body) for size, body in bodies.items()}
    try:
        for round_index in range(settings["catalogue_scale_repeat"]):
            shift = round_index % len(runs)
            for size, fmt in runs[shift:] + runs[:shift]:
                data = scratch / "catalogue_scale" / f"{size}-{fmt}-{round_index}"
                # Time and peak RSS of the same run: sampling the process tree costs the same at
                # every size, so the ratios stay fair.
                command = [*runner_command(day, "live", data), "--output-format", fmt]
                measured = peak_rss(command, env=live_env(servers[size]))
                seconds[size, fmt].append(measured["seconds"])
                rss[size, fmt].append(measured["tree_mb"] or measured["largest_process_mb"])
                records[size, fmt] = record_bytes(data)
                checks[size, fmt] = check_run(data, size, day[1])
                outputs[size, fmt] = folder_size(data / "runs" / "bench" / "output")
                shutil.rmtree(data, ignore_errors=True)
            log(
                f"  round {round_index + 1}/{settings['catalogue_scale_repeat']}: "
                + ", ".join(f"{n:,} {f} {seconds[n, f][-1]:.1f}s/{rss[n, f][-1]:.0f}MB" for n, f in runs)
            )
        side = {}
        largest = max(sizes)
        server = servers[largest]
        for round_index in range(settings["catalogue_scale_repeat"]):
            for name in ("_load_ours", "_load_pandas", "_load_floor"):
                answer = worker(name, server.url, str(scratch / "side" / f"{name}-{round_index}"), day[1])
                side.setdefault(name, []).append(answer)
                shutil.rmtree(scratch / "side", ignore_errors=True)
    finally:
        for server in servers.values():
            server.stop()
    result = {"sizes": {}, "bytes": {n: len(b) for n, b in bodies.items()}, "checks_ok": True}
    reference = seconds[REFERENCE, "csv"]
    for size, fmt in runs:
        ratios = [a / b for a, b in zip(seconds[size, fmt], reference, strict=False)]
        result["sizes"][f"{size}-{fmt}"] = {
            "products": size,
            "format": fmt,
            "body_bytes": len(bodies[size]),
            "seconds": stats(seconds[size, fmt]),
            "ratio_to_reference": stats(ratios),
            "peak_rss_mb": stats(rss[size, fmt]),
            "record": records[size, fmt],
            "output_bytes": outputs[size, fmt],
            "check": checks[size, fmt],
        }
        result["checks_ok"] &= checks[size, fmt]["ok"]
    ours, theirs, floor = side["_load_ours"], side["_load_pandas"], side["_load_floor"]
    result["side_by_side"] = {
        "products": largest,
        "ours": stats([a["seconds"] for a in ours]),
        "ours_rss_mb": stats([a["rss_mb"] for a in ours]),
        "pandas": stats([a["seconds"] for a in theirs]),
        "pandas_rss_mb": stats([a["rss_mb"] for a in theirs]),
        "floor": stats([a["seconds"] for a in floor]),
        "floor_rss_mb": stats([a["rss_mb"] for a in floor]),
        "rows_ours": ours[-1]["rows"],
        "ours_phases": {phase: stats([a["phases"][phase] for a in ours]) for phase in ours[-1]["phases"]},
        "rows_pandas": theirs[-1]["rows"],
        "rows_floor": floor[-1]["rows"],
    }
    result["side_by_side"]["speedup"] = stats([t["seconds"] / o["seconds"] for o, t in zip(ours, theirs, strict=False)])
    result["side_by_side"]["to_floor"] = stats([o["seconds"] / f["seconds"] for o, f in zip(ours, floor, strict=False)])
    result["checks_ok"] &= ours[-1]["rows"] == theirs[-1]["rows"] == floor[-1]["rows"] == largest
    return result


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


# ---------------------------------------------------------------- side by side, in worker processes


def _maxrss_mb() -> float:
    """This worker's own peak RSS, in MB: VmHWM, the high-water mark of the memory it has mapped
    since its exec. Not ru_maxrss: a process started by fork (or vfork) and exec inherits in it the
    benchmark process's high-water mark (GBs of generated bodies), so every worker read as large."""
    import resource

    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # no /proc: the figure may then include the benchmark's own
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def work_load_ours(url: str, data_dir: str, day: str) -> dict:
    """Our extract + validate + load of the products body, as a daily run does it: GET, land (file
    and raw.responses), parse with every check into the hand-off file, merge that file into
    staging.product_snapshots with its data tests."""
    import os

    os.environ["FAKESTORE_BASE_URL"] = f"{url}/fakestore"
    from pricing_pipeline.common.parameters import validate_parameters
    from pricing_pipeline.common.paths import RunPaths
    from pricing_pipeline.extract.handoff import PRODUCTS, handoff_relation
    from pricing_pipeline.extract.landing import land_response
    from pricing_pipeline.extract.products import hand_off_products
    from pricing_pipeline.extract.sources import fetch_products
    from pricing_pipeline.warehouse.connection import connect, sql_text, transaction
    from pricing_pipeline.warehouse.data_tests import run_data_tests
    from pricing_pipeline.warehouse.partitions import run_views

    params = validate_parameters(day, day, CATEGORY, "live", "side")
    paths = RunPaths(Path(data_dir), params.run_id)
    phases = {}
    started = lap = time.perf_counter()

    def done(phase: str) -> None:
        nonlocal lap
        phases[phase] = time.perf_counter() - lap
        lap = time.perf_counter()

    response = fetch_products(params)
    done("fetch")
    landed = land_response(response, paths.raw, paths.warehouse, params.run_id)
    del response  # as notebook 01 does: parsed from the landed file
    done("land")
    hand_off_products(landed, params, paths.interim)
    done("parse")
    with connect(paths.warehouse) as con:
        products = handoff_relation(con, paths.interim, PRODUCTS)
        inputs = {"incoming_products": products, **run_views(params.days, params.category)}
        with transaction(con, inputs):
            con.execute(sql_text("staging/product_snapshots.sql"))
            run_data_tests(con, None, ["staging/product_snapshots.sql"], partitions_only=True)
        rows = con.execute("SELECT count(*) FROM staging.product_snapshots").fetchone()[0]
    done("load")
    return {"seconds": time.perf_counter() - started, "rss_mb": _maxrss_mb(), "rows": rows, "phases": phases}


def work_load_pandas(url: str, data_dir: str, day: str) -> dict:
    """What a user would write: GET the body, json.loads, pandas.json_normalize (the rating
    flattened), insert into DuckDB. No check beyond what the parsers themselves do."""
    import json as json_module
    from urllib.parse import quote

    import duckdb
    import pandas as pd
    import requests

    Path(data_dir).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    body = requests.get(f"{url}/fakestore/products/category/{quote(CATEGORY, safe='')}", timeout=600).content
    frame = pd.json_normalize(json_module.loads(body), sep="_")
    del body
    frame.insert(0, "snapshot_date", pd.Timestamp(day))
    con = duckdb.connect(str(Path(data_dir) / "warehouse.duckdb"))
    con.execute("CREATE TABLE product_snapshots AS SELECT * FROM frame")
    rows = con.execute("SELECT count(*) FROM product_snapshots").fetchone()[0]
    con.close()
    return {"seconds": time.perf_counter() - started, "rss_mb": _maxrss_mb(), "rows": rows}


def work_load_floor(url: str, data_dir: str, day: str) -> dict:
    """The floor of this work: GET the body to a file in 1 MiB chunks, then DuckDB's own read_json of
    it inserted into a table, without any check."""
    from urllib.parse import quote

    import duckdb
    import requests

    folder = Path(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    body = folder / "products.json"
    with (
        requests.get(
            f"{url}/fakestore/products/category/{quote(CATEGORY, safe='')}", timeout=600, stream=True
        ) as response,
        open(body, "wb") as handle,
    ):
        for chunk in response.iter_content(1 << 20):
            handle.write(chunk)
    con = duckdb.connect(str(folder / "warehouse.duckdb"))
    con.execute(
        f"CREATE TABLE product_snapshots AS SELECT CAST(? AS DATE) AS snapshot_date, * "
        f"FROM read_json('{body}', maximum_object_size = 1073741824)",
        [day],
    )
    rows = con.execute("SELECT count(*) FROM product_snapshots").fetchone()[0]
    con.close()
    return {"seconds": time.perf_counter() - started, "rss_mb": _maxrss_mb(), "rows": rows}


# ---------------------------------------------------------------- report

# (products, output format): its targets. A run's ratio is to the 20-product CSV run of its round.
TARGETS = {
    (200_000, "csv"): {"ratio": 3.0, "rss_mb": 1536.0},  # 1.5 GB
    (200_000, "parquet"): {"ratio": 3.0, "rss_mb": 1536.0},
    (1_000_000, "csv"): {"ratio": 8.0, "rss_mb": 3072.0, "notebook_bytes": 2_000_000},  # 3 GB; 2 MB
    (1_000_000, "parquet"): {"ratio": 3.0, "rss_mb": 1536.0, "notebook_bytes": 2_000_000},
}
SIDE_TARGETS = {"speedup_min": 2.0, "to_floor_max": 1.5}


def catalogue_verdicts(report: dict) -> list[dict]:
    """The catalogue section's targets, in bench_report's shape (met None: a time in quick mode)."""
    catalogue = report.get("catalogue_scale")
    if not catalogue:
        return []
    rows = []

    def add(name, figure, target, met, unit="", timing=True):
        rows.append(verdict(report, name, figure, target, met, unit, timing))

    add(
        "catalogue runs: every product priced, top 5 ranked",
        catalogue["checks_ok"],
        "all",
        catalogue["checks_ok"],
        timing=False,
    )
    for (size, fmt), target in TARGETS.items():
        found = catalogue["sizes"].get(f"{size}-{fmt}")
        if not found:
            continue
        ratio = found["ratio_to_reference"]["median"]
        add(
            f"{size:,} products, {fmt} / {REFERENCE} products",
            ratio,
            f"<= {target['ratio']}",
            ratio <= target["ratio"],
            "x",
        )
        rss = found["peak_rss_mb"]["median"]
        add(
            f"peak RSS, {size:,}-product run, {fmt}",
            rss,
            f"< {target['rss_mb']:.0f} MB",
            rss < target["rss_mb"],
            "MB",
            timing=False,
        )
        if "notebook_bytes" in target:
            largest = found["record"]["largest_notebook"]
            add(
                f"largest executed notebook, {size:,}-product run, {fmt}",
                largest / 1e6,
                f"< {target['notebook_bytes'] / 1e6:.0f} MB",
                largest < target["notebook_bytes"],
                "MB (10^6 bytes)",
                timing=False,
            )
    side = catalogue["side_by_side"]
    add(
        f"pandas json_normalize + insert / ours (extract + validate + load), {side['products']:,} products",
        side["speedup"]["median"],
        f">= {SIDE_TARGETS['speedup_min']}",
        side["speedup"]["median"] >= SIDE_TARGETS["speedup_min"],
        "x",
    )
    add(
        f"ours / floor (DuckDB read_json into a table, no check), {side['products']:,} products",
        side["to_floor"]["median"],
        f"<= {SIDE_TARGETS['to_floor_max']}",
        side["to_floor"]["median"] <= SIDE_TARGETS["to_floor_max"],
        "x",
    )
    return rows


def catalogue_table(report: dict) -> str:
    catalogue = report.get("catalogue_scale")
    if not catalogue:
        return ""
    rows = [
        (
            "catalogue (live run through the runner)",
            "body MB",
            "seconds",
            "x 20-product",
            "peak RSS MB",
            "outputs MB",
            "record MB",
            "largest notebook MB",
        )
    ]
    for found in catalogue["sizes"].values():
        s, r, m = found["seconds"], found["ratio_to_reference"], found["peak_rss_mb"]
        rows.append(
            (
                f"{found['products']:,} products, {found['format']}",
                f"{found['body_bytes'] / 1e6:.1f}",
                f"{s['median']:.2f} ({s['min']:.2f}-{s['max']:.2f})",
                f"{r['median']:.2f} ({r['min']:.2f}-{r['max']:.2f})",
                f"{m['median']:.0f} ({m['min']:.0f}-{m['max']:.0f})",
                f"{found['output_bytes'] / 1e6:.1f}",
                f"{found['record']['total'] / 1e6:.2f}",
                f"{found['record']['largest_notebook'] / 1e6:.2f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "",
        *("  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)) for row in rows),
    ]
    lines.insert(2, "  ".join("-" * w for w in widths))
    side = catalogue["side_by_side"]
    for label, key in (
        ("ours: GET + land + parse and check + load with data tests", "ours"),
        ("pandas: GET + json_normalize + insert, no checks", "pandas"),
        ("floor: GET to a file + DuckDB read_json into a table, no checks", "floor"),
    ):
        s, m = side[key], side[f"{key}_rss_mb"]
        lines.append(
            f"{label}, {side['products']:,} products: {s['median']:.2f} s ({s['min']:.2f}-{s['max']:.2f}), "
            f"peak RSS {m['median']:.0f} MB"
        )
    lines.append(
        "ours by phase (median s): "
        + ", ".join(f"{phase} {found['median']:.2f}" for phase, found in side["ours_phases"].items())
    )
    lines.append(
        f"pandas / ours: {side['speedup']['median']:.2f}x; ours / floor: {side['to_floor']['median']:.2f}x "
        "(dlt: not installed in the benchmark's environment)"
    )
    return "\n".join(lines)
