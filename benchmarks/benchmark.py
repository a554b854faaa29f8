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
  history_scale
            one more day of a 100,000-product catalogue on a warehouse holding 365 days of it,
            against the same day on an empty warehouse: time, bytes written, peak RSS; then the
            weekly work on that year: the full backup against a bare EXPORT DATABASE, and the
            audit (every data test over the whole tables) (bench_history.py)
  catalogue_scale
            live daily runs against catalogues of 20, 200,000 and 1,000,000 products made of the
            recorded products, descriptions included (local server, real HTTP), with CSV and with
            Parquet deliverables, each against the 20-product CSV run of the same round: time,
            peak RSS, bytes of the outputs and of the run record; and our extract + validate +
            load of the largest body side by side with pandas json_normalize + insert and with
            the floor, DuckDB's read_json into a table without a check (bench_catalogue.py)
  sales_scale
            a live daily run (--category all) on a day of 100,000 carts of 10 lines (1,000,000
            cart lines, priced in every currency), against the same run on the recorded carts (7
            carts), with CSV and with Parquet deliverables: time, peak RSS, rows (bench_sales.py)
  sales_history
            one more day of 100,000 cart lines on a warehouse holding 365 days of them, against
            the same day on an empty warehouse (bench_sales.py)
  sales_requests
            the requests of a live run of 1, 31 and 365 days with carts on every day, by endpoint
            (bench_sales.py)

Pipeline runs are interleaved round by round (floor, day, month, ...), so a slow spell of the
machine hits every figure of a round alike. Each run writes to its own scratch folder; only the
JSON lands in data/bench/ (or --output).

  make bench                                  the full benchmark (about 50 minutes on 2 cores)
  .venv/bin/python benchmarks/benchmark.py --quick --output /tmp/bench
                                              small sizes, one repetition: checks that the results
                                              agree (run by `make test`), not the times

Exit status: 0 when every run succeeded and the results agree (DuckDB == pandas, the same number
of requests for every span); 1 otherwise. A missed target is reported, and fails the run only with
--strict.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from pricing_pipeline.common.paths import PROJECT_ROOT

from bench_catalogue import (
    bench_catalogue_scale,
    catalogue_table,
    catalogue_verdicts,
    work_load_floor,
    work_load_ours,
    work_load_pandas,
)
from bench_common import CATEGORY, ecb_dates, log, machine, spans
from bench_history import (
    bench_history_scale,
    history_table,
    history_verdicts,
    work_bare_export,
    work_full_backup,
)
from bench_pipeline import bench_catalogue, bench_memory, bench_requests, bench_runs
from bench_report import table, verdicts
from bench_sales import bench_sales_history, bench_sales_requests, bench_sales_scale, sales_table, sales_verdicts
from bench_scale import (
    bench_scale,
    work_compare,
    work_duckdb,
    work_generate,
    work_pandas,
)

DEFAULT_OUTPUT = PROJECT_ROOT / "data" / "bench"

FULL = {
    "repeat": 5,
    "scale_repeat": 3,
    "incremental_repeat": 5,
    "products": 10_000,
    "days": 1_000,
    "backfill": ("day", "month", "year", "history"),
    "memory_repeat": 3,
    "catalogue": "history",  # category all, every currency: the whole ECB history against one day
    "catalogue_repeat": 3,  # a round of it takes over a minute
    "catalogue_sizes": (20, 200_000, 1_000_000),
    # Each round runs every size with CSV and with Parquet deliverables: a million-product run takes
    # a minute or more, so two rounds.
    "catalogue_scale_repeat": 2,
    "history_products": 100_000,
    "history_days": 365,
    "history_repeat": 3,
    "weekly_repeat": 2,  # the full backup and the bare export of the year, each
    "sales_carts": 100_000,
    "sales_lines_per_cart": 10,
    "sales_formats": ("csv", "parquet"),
    "sales_repeat": 2,  # a million-line run takes a minute or more
    "sales_history_lines": 100_000,
    "sales_history_days": 365,
    "sales_request_carts": 10,  # a day's carts in the request spans: the count, not the size, is measured
}
QUICK = {
    "repeat": 1,
    "scale_repeat": 1,
    "incremental_repeat": 1,
    "products": 200,
    "days": 30,
    "backfill": ("day", "month"),
    "memory_repeat": 1,
    "catalogue": "month",
    "catalogue_repeat": 1,
    # Above bulk_products.BULK_MIN_BYTES (about 300 bytes a product), so the bulk path runs too.
    "catalogue_sizes": (20, 5_000),
    "catalogue_scale_repeat": 1,
    "history_products": 2_000,
    "history_days": 5,
    "history_repeat": 1,
    "weekly_repeat": 1,
    "sales_carts": 1_000,
    "sales_lines_per_cart": 10,
    "sales_formats": ("csv",),
    "sales_repeat": 1,
    "sales_history_lines": 1_000,
    "sales_history_days": 5,
    "sales_request_carts": 2,
}
REQUEST_SPANS = ("day", "month", "year")
SECTIONS = (
    "daily",
    "catalogue",
    "requests",
    "memory",
    "scale",
    "catalogue_scale",
    "history_scale",
    "sales_scale",
    "sales_history",
    "sales_requests",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes, one repetition: checks the script and that results agree, not the times",
    )
    parser.add_argument(
        "--output", default=str(DEFAULT_OUTPUT), help="folder of the JSON report (default: data/bench/)"
    )
    parser.add_argument("--repeat", type=int, help="repetitions of each pipeline run (default: 5; quick: 1)")
    parser.add_argument("--scale-repeat", type=int, help="repetitions of the 10M-row builds (default: 3; quick: 1)")
    parser.add_argument("--products", type=int, help="products of the generated table (default: 10000; quick: 200)")
    parser.add_argument("--days", type=int, help="days of the generated table (default: 1000; quick: 30)")
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help="comma-separated subset of daily (with the backfills), catalogue (category all, every currency), "
        "requests, memory, scale, catalogue_scale (20 to 1,000,000 products), history_scale (one more day on a year), "
        "sales_scale (a day of 1,000,000 cart lines), sales_history (one more day of sales on a year), "
        "sales_requests (requests of live runs with carts)",
    )
    parser.add_argument(
        "--catalogue-sizes", help="comma-separated catalogue sizes (default: 20,200000,1000000; quick: 20,5000)"
    )
    parser.add_argument(
        "--catalogue-scale-repeat", type=int, help="rounds of the catalogue_scale runs (default: 2; quick: 1)"
    )
    for name, default in (("days", "365; quick: 5"), ("products", "100,000; quick: 2,000"), ("repeat", "3; quick: 1")):
        parser.add_argument(f"--history-{name}", type=int, help=f"history_scale: {name} (default: {default})")
    parser.add_argument(
        "--sales-carts", type=int, help="sales_scale: carts of the day (default: 100,000; quick: 1,000)"
    )
    parser.add_argument("--sales-repeat", type=int, help="rounds of the sales sections (default: 2; quick: 1)")
    parser.add_argument("--sales-formats", help="sales_scale: comma-separated csv,parquet (default: both; quick: csv)")
    for name, default in (("days", "365; quick: 5"), ("lines", "100,000; quick: 1,000")):
        parser.add_argument(f"--sales-history-{name}", type=int, help=f"sales_history: {name} (default: {default})")
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
            "_load_ours": lambda: work_load_ours(args[0], args[1], args[2]),
            "_load_pandas": lambda: work_load_pandas(args[0], args[1], args[2]),
            "_load_floor": lambda: work_load_floor(args[0], args[1], args[2]),
            "_full_backup": lambda: work_full_backup(args[0], args[1], args[2]),
            "_bare_export": lambda: work_bare_export(args[0], args[1]),
        }[command]()
        print(json.dumps(answer))
        return 0

    args = build_parser().parse_args(argv)
    settings = dict(QUICK if args.quick else FULL)
    numbers = ("repeat", "scale_repeat", "products", "days", "catalogue_scale_repeat")
    for key in (*numbers, "history_days", "history_products", "history_repeat", "sales_carts", "sales_repeat"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    for key in ("sales_history_days", "sales_history_lines"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    if args.sales_formats:
        settings["sales_formats"] = tuple(f.strip() for f in args.sales_formats.split(","))
    if args.catalogue_sizes:
        settings["catalogue_sizes"] = tuple(int(n) for n in args.catalogue_sizes.split(","))
    if args.repeat is not None:
        settings["memory_repeat"] = min(settings["memory_repeat"], args.repeat)
    sections = {s.strip() for s in args.sections.split(",") if s.strip()}
    unknown = sections - set(SECTIONS)
    if unknown:
        build_parser().error(f"unknown sections: {', '.join(sorted(unknown))}")

    started = time.perf_counter()
    dates = ecb_dates()
    last = min(dt.date.fromisoformat(dates[-1]), dt.datetime.now(dt.UTC).date())
    windows = spans(last)
    report = {
        "schema": 1,
        "mode": "quick" if args.quick else "full",
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["benchmarks/benchmark.py", *argv]),
        "machine": machine(),
        "settings": {
            **settings,
            "backfill": list(settings["backfill"]),
            "catalogue_sizes": list(settings["catalogue_sizes"]),
            "sales_formats": list(settings["sales_formats"]),
            "sections": sorted(sections),
            "ecb_last_date": last.isoformat(),
            "category": CATEGORY,
        },
    }
    scratch = Path(tempfile.mkdtemp(prefix="pricing-bench-"))
    ok = True
    try:
        if "daily" in sections:
            log(f"daily run, floor and backfills ({settings['repeat']} rounds)")
            report["daily"], report["backfill"] = bench_runs(settings, windows, scratch)
        if "catalogue" in sections:
            log(f"category all, every currency: {settings['catalogue']} / day ({settings['catalogue_repeat']} rounds)")
            report["catalogue"] = bench_catalogue(settings, windows, scratch)
            ok &= report["catalogue"]["check"]["equal"]
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
        if "catalogue_scale" in sections:
            log(f"catalogue_scale: {', '.join(f'{n:,}' for n in settings['catalogue_sizes'])} products, live runs")
            report["catalogue_scale"] = bench_catalogue_scale(settings, windows, scratch)
            ok &= report["catalogue_scale"]["checks_ok"]
        if "history_scale" in sections:
            log(
                f"history_scale: one more day on {settings['history_days']} days x "
                f"{settings['history_products']:,} products, against an empty warehouse"
            )
            report["history_scale"] = bench_history_scale(settings, windows, scratch)
            ok &= report["history_scale"]["last_backup"]["kind"] == "incremental"
        if "sales_scale" in sections:
            log(
                f"sales_scale: {settings['sales_carts']:,} carts of {settings['sales_lines_per_cart']} lines, live runs"
            )
            report["sales_scale"] = bench_sales_scale(settings, windows, scratch)
            ok &= report["sales_scale"]["checks_ok"]
        if "sales_history" in sections:
            log(
                f"sales_history: one more day on {settings['sales_history_days']} days x "
                f"{settings['sales_history_lines']:,} cart lines, against an empty warehouse"
            )
            report["sales_history"] = bench_sales_history(settings, windows, scratch)
            ok &= report["sales_history"]["checks_ok"]
        if "sales_requests" in sections:
            log("sales_requests: live runs of 1, 31 and 365 days with carts on every day")
            report["sales_requests"] = bench_sales_requests(settings, windows, scratch)
            found = report["sales_requests"]
            ok &= found["constant"] and found["one_per_read"] and found["all_booked"]
    finally:
        if args.keep_scratch:
            log(f"scratch kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    report["duration_seconds"] = time.perf_counter() - started
    report["targets"] = (
        verdicts(report) + catalogue_verdicts(report) + history_verdicts(report) + sales_verdicts(report)
    )
    report["agree"] = ok

    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    path = output / ("benchmark-quick.json" if args.quick else "benchmark.json")
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(table(report))
    print(catalogue_table(report))
    print(history_table(report))
    print(sales_table(report))
    print(f"\n{report['duration_seconds']:.0f}s; figures written to {path}")
    if not ok:
        print("RESULTS DISAGREE (see above)", file=sys.stderr)
        return 1
    if args.strict and any(v["met"] is False for v in report["targets"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
