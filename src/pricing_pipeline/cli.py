"""The command line: `pricing-pipeline run` (also scripts/run_pipeline.py), `pricing-pipeline
restore` and `pricing-pipeline audit`; the only place that prints.

stdout carries the summary of a run or a restore, which scripts and tests read; stderr carries
everything else: the steps as they happen (runner/progress.py), failures and option errors. The
user's help is the parser's own text below (`pricing-pipeline --help`), not this docstring.
"""

from __future__ import annotations

import argparse
import sys

from pricing_pipeline.common.errors import FailureReport, PipelineFailed
from pricing_pipeline.common.parameters import (
    OUTPUT_FORMATS,
    SOURCES,
    ParameterError,
    default_run_date,
    parameters_for,
)
from pricing_pipeline.common.paths import NotInCheckout, relative_to_root, require_checkout, resolve_data_dir
from pricing_pipeline.runner.interrupts import Terminated, interruption, signal_of
from pricing_pipeline.runner.notebooks import DEFAULT_CELL_TIMEOUT
from pricing_pipeline.runner.pipeline import run_pipeline
from pricing_pipeline.runner.progress import Progress
from pricing_pipeline.sales.window import DEFAULT_LOOKBACK_DAYS, MAX_LOOKBACK_DAYS

# Printing every day of a long backfill would bury the summary.
MAX_DAYS_PRINTED = 14

# The help is read in terminals of 80 columns: its lines stay under that.
DESCRIPTION = """\
Daily EUR price lists of the Fake Store catalogue. For each day: the ECB
reference rates in force, every product's price in EUR (and in every ECB
currency) and the top 5 products of a category, loaded into a DuckDB
warehouse (data/warehouse.duckdb) and written as CSV files. Each run keeps
its executed notebooks, as HTML too, under data/runs/<run id>/."""

EXIT_STATUS = """\
exit status:
  0  every step ran and every data test passed
  1  a step failed: a few lines on stderr say what failed, the state of the
     warehouse, where the record is (data/runs/<run id>/failure.txt, with the
     tracebacks) and what to do next
  2  an option that cannot be used
  130, 143  stopped by SIGINT (Ctrl-C) or SIGTERM: the kernels are stopped, a
     load not committed is rolled back, ops.run_log says interrupted"""

MAIN_EPILOG = f"""\
examples:
  pricing-pipeline run --source live
      yesterday (UTC), from the two APIs
  pricing-pipeline run --date 2024-02-13 --source offline
  pricing-pipeline run --start 2024-01-01 --end 2024-12-31 --source offline
  pricing-pipeline restore
      the newest backup into data/warehouse.duckdb
  pricing-pipeline audit
      every data test over the whole tables (weekly); exit 1 names the failing
      ones

`pricing-pipeline COMMAND --help` lists a command's options. The environment
settings (data folder, backups, API addresses, HTTP timeouts) are listed in
src/pricing_pipeline/common/settings.py.

{EXIT_STATUS}"""

RUN_DESCRIPTION = """\
Run the pipeline for one day or a range of days: notebooks/01_extract.ipynb
(rates, products and the sales' carts, landed as received), then
notebooks/02_transform.ipynb (EUR prices, the sales priced, data tests, the
top 5, the CSVs); then reconcile the warehouse with the source and back it
up. A range is one execution of each notebook, so a year costs little more
than a day. One run at a time per data folder.

While it runs, stderr shows the steps: on a terminal a progress bar per
notebook, in a log one line per step with its duration
(`step notebooks/01_extract.ipynb: 3.2 s`). At the end stdout has the
summary: the rows written, the record, the outputs, the top 5 of each day."""

RUN_EPILOG = f"""\
examples:
  pricing-pipeline run --source live
      yesterday (UTC), the latest day whose ECB rates are published, from
      Frankfurter and Fake Store
  pricing-pipeline run --date 2024-02-13 --source recorded
      one day, from the recorded responses in data/recorded/ (no network)
  pricing-pipeline run --start 2024-01-01 --end 2024-12-31 --source offline \\
                       --category all
      a year of the whole catalogue, each category ranked on its own, with
      the ECB history file instead of the rates API
  pricing-pipeline run --date 2024-02-13 --source offline --quiet \\
                       --run-id rerun-2024-02-13
      no progress on stderr; the record in data/runs/rerun-2024-02-13/

{EXIT_STATUS}"""

RESTORE_DESCRIPTION = """\
Restore data/warehouse.duckdb from the newest backup (or the one named with
--from): its full backup, then the increments made after it, checked against
the content hash recorded when the backup was made. The file it replaces is
renamed warehouse.duckdb.before-restore-<UTC time>, never deleted; landed
bodies missing from data/raw/ are put back from the backups' mirror. Refused
while a run holds the data folder."""

RESTORE_EPILOG = """\
examples:
  pricing-pipeline restore
      the newest whole backup, from <data dir>/backups or $PIPELINE_BACKUP_DIR
  pricing-pipeline restore --from 20240213T060000Z_live_2024-02-12_2024-02-12
      the backup made by that run
  pricing-pipeline restore --data-dir /srv/pricing --backup-dir /mnt/backups

exit status:
  0  restored: stdout says from which backup, its content hash and the file
     kept aside
  1  the restore failed (no usable backup, a content hash that does not match,
     a run holding the data folder): a few lines on stderr say why and what to
     do; the warehouse is left as it was
  2  an option that cannot be used"""


def add_run_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        "--date",
        help=f"the one day to run, YYYY-MM-DD (default: yesterday in UTC, today {default_run_date()}: "
        "on a morning schedule the ECB rates of the previous working day are the latest)",
    )
    parser.add_argument("--start", help="first day of a range, YYYY-MM-DD (with --end)")
    parser.add_argument("--end", help="last day of a range, inclusive (default: --start)")
    parser.add_argument(
        "--source",
        choices=SOURCES,
        default="live",
        help="live: Frankfurter and Fake Store over HTTP (default); recorded: the recorded responses "
        "in data/recorded/; offline: the ECB history file for rates, recorded products",
    )
    parser.add_argument(
        "--category",
        default="women's clothing",
        help="a Fake Store category, or all: the whole catalogue, each category ranked on its own "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--data-dir", default="", help="folder the run writes to (default: $PIPELINE_DATA_DIR or data/)"
    )
    parser.add_argument("--run-id", help="name of the run's record folder (default: <UTC time>_<source>_<start>_<end>)")
    parser.add_argument(
        "--cell-timeout",
        type=int,
        default=DEFAULT_CELL_TIMEOUT,
        help="seconds a notebook cell may run before the run fails (default: %(default)s)",
    )
    parser.add_argument(
        "--output-format",
        choices=OUTPUT_FORMATS,
        default="csv",
        help="the deliverables' format: csv (default; the case's files) or parquet (typed: dates, exact "
        "decimals, prices as integer minor units; the one to take from about 100,000 products)",
    )
    parser.add_argument("--log-output", action="store_true", help="stream the notebooks' output to the log")
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="show no progress on stderr (the summary on stdout, and a failure's report, are still printed)",
    )
    parser.add_argument(
        "--skip-reconciliation",
        action="store_true",
        help="do not re-read the source after the load to compare it with the warehouse "
        "(by default a difference in product ids, count or sum of prices fails the run)",
    )
    parser.add_argument(
        "--backup-dir",
        default="",
        help="where the warehouse is exported as Parquet after each successful run "
        "(default: $PIPELINE_BACKUP_DIR, else <data dir>/backups; the newest 7 are kept)",
    )
    parser.add_argument(
        "--publish-outputs",
        metavar="DIR",
        default="",
        help="after a successful run, also copy its CSVs (written to data/runs/<run id>/output/) to DIR; "
        "`make run` uses it to refresh the committed data/output/, scheduled runs do not",
    )
    # Sales (Fake Store's carts) run with the products unless left out.
    parser.add_argument("--no-sales", action="store_true", help="price the products only, without the sales (carts)")
    parser.add_argument(
        "--sales-lookback-days",
        type=int,
        default=DEFAULT_LOOKBACK_DAYS,
        help=f"days before the run's first day whose carts are read again for late and changed carts "
        f"(default {DEFAULT_LOOKBACK_DAYS}, at most {MAX_LOOKBACK_DAYS})",
    )
    parser.add_argument(
        "--publish-sales-outputs",
        metavar="DIR",
        default="",
        help="after a successful run, also copy its sales CSVs to DIR (`make run`, for the recorded carts)",
    )
    return parser


def add_restore_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        "--from",
        dest="backup",
        default="",
        metavar="BACKUP",
        help="the backup to restore: a backup folder, or its name (a run id) in the backup folder "
        "(default: the newest whole backup)",
    )
    parser.add_argument(
        "--data-dir", default="", help="the data folder to restore into (default: $PIPELINE_DATA_DIR or data/)"
    )
    parser.add_argument(
        "--backup-dir",
        default="",
        help="where the backups are (default: $PIPELINE_BACKUP_DIR, else <data dir>/backups)",
    )
    return parser


def print_failure(title: str, report: FailureReport) -> None:
    """A failure in a few lines, on stderr; the tracebacks are in the record, not here."""
    lines = [title, report.what, f"warehouse: {report.warehouse}"]
    if report.failure_file is not None:
        lines.append(f"record:    {relative_to_root(report.failure_file)}")
    if report.notebook is not None:
        lines.append(f"notebook:  {relative_to_root(report.notebook)} (and .html)")
    lines.append(f"next:      {report.next_step}")
    lines += [f"also:      {line}" for line in report.also]
    print("\n".join(lines), file=sys.stderr)


def print_summary(state) -> None:
    params = state.params
    print(f"run {params.run_id} succeeded: {params.start_date}..{params.end_date}, {params.category!r}")
    print(f"record:  {relative_to_root(state.paths.record)}/ (executed notebooks and their HTML)")
    print(f"outputs: {relative_to_root(state.paths.output)}/")
    for table, rows in state.rows_written.items():
        print(f"  {table}: {rows} rows for the run's days")
    if state.reconciliation is not None:
        print(f"reconciled with the source: {', '.join(state.reconciliation['check_name'])} agree")
    print(f"backup:  {relative_to_root(state.backup)}/")
    if state.published:
        print(f"published: {', '.join(relative_to_root(path) for path in state.published)}")
    from pricing_pipeline.warehouse.connection import connect
    from pricing_pipeline.warehouse.partitions import run_frame

    with connect(state.paths.warehouse) as con:
        top = run_frame(con, "marts.top_products_daily", params)
    days = sorted(top["day"].unique())
    if len(days) > MAX_DAYS_PRINTED:
        print(f"\ntop 5 of the last {MAX_DAYS_PRINTED} of {len(days)} days:")
        days = days[-MAX_DAYS_PRINTED:]
    columns = ["rank", "product_id", "title", "rating_rate", "rating_count", "price_usd", "price_eur", "rate_date"]
    if params.whole_catalogue:  # each category has its own top 5: say which rows are whose
        columns.insert(0, "category")
    for day in days:
        print(f"\ntop 5 on {day:%Y-%m-%d}")
        rows = top[top["day"] == day][columns].copy()
        rows["title"] = rows["title"].str.slice(0, 40)
        print(rows.to_string(index=False))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pricing-pipeline",
        description=DESCRIPTION,
        epilog=MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="run the pipeline for a day or a range of days",
        description=RUN_DESCRIPTION,
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_run_options(run).set_defaults(handler=run_command, command_parser=run)
    restore = commands.add_parser(
        "restore",
        help="restore the warehouse from a backup",
        description=RESTORE_DESCRIPTION,
        epilog=RESTORE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_restore_options(restore).set_defaults(handler=restore_command, command_parser=restore)
    audit = commands.add_parser(
        "audit",
        help="run every data test over the whole warehouse (weekly)",
        description="Run every data test over the whole tables (a load tests only its own partitions): "
        "read-only, under the data folder's lock. Exit 1 names the failing tests.",
    )
    audit.add_argument("--data-dir", default="", help="the data folder to audit (default: $PIPELINE_DATA_DIR or data/)")
    audit.set_defaults(handler=audit_command, command_parser=audit)
    return parser


def run_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    try:
        params = parameters_for(
            args.date, args.start, args.end, args.category, args.source, args.run_id, args.output_format
        )
    except (ParameterError, ValueError) as error:
        parser.error(str(error))
    if not args.no_sales and not 0 <= args.sales_lookback_days <= MAX_LOOKBACK_DAYS:
        parser.error(f"--sales-lookback-days {args.sales_lookback_days}: accepted 0 to {MAX_LOOKBACK_DAYS}")
    data_dir = resolve_data_dir(args.data_dir)
    try:
        state = run_pipeline(
            params,
            data_dir,
            args.cell_timeout,
            args.log_output,
            reconciliation=not args.skip_reconciliation,
            backup_dir=args.backup_dir,
            publish_to=resolve_data_dir(args.publish_outputs) if args.publish_outputs else None,
            sales_lookback_days=None if args.no_sales else args.sales_lookback_days,
            publish_sales_to=resolve_data_dir(args.publish_sales_outputs) if args.publish_sales_outputs else None,
            progress=Progress.on(sys.stderr, quiet=args.quiet),
        )
    except PipelineFailed as failure:
        print_failure(f"run {params.run_id} FAILED", failure.report)
        return 1
    except (KeyboardInterrupt, Terminated) as interrupt:
        # The shell's convention for a process ended by a signal: 128 + its number (130, 143).
        print(
            f"run {params.run_id} interrupted ({interruption(interrupt)}): logged in ops.run_log as "
            "interrupted; a load not committed is rolled back; run the day again",
            file=sys.stderr,
        )
        return 128 + signal_of(interrupt)
    print_summary(state)
    return 0


def restore_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    data_dir = resolve_data_dir(args.data_dir)
    try:
        from pricing_pipeline.ops.restore import restore_warehouse

        restored = restore_warehouse(data_dir, args.backup_dir, args.backup)
    except PipelineFailed as failure:
        print_failure("restore FAILED", failure.report)
        return 1
    print(f"restored {relative_to_root(restored.warehouse)} from {relative_to_root(restored.backup)}/")
    print(f"  made by run {restored.made_by} at {restored.made_at}")
    if len(restored.applied) > 1:
        print(f"  applied: {', '.join(piece.name for piece in restored.applied)} (a full backup, then increments)")
    print(f"content hash: {restored.content_hash} (every file and every table's rows as the backups recorded)")
    if restored.bodies:
        print(f"landed bodies put back into data/raw from the backups' mirror: {restored.bodies}")
    if restored.bodies_unavailable:
        missing = restored.bodies_unavailable
        print(f"landed bodies neither in data/raw nor in the mirror: {len(missing)}, e.g. {', '.join(missing[:3])}")
    for aside in restored.kept_aside:
        print(f"kept aside: {relative_to_root(aside)}")
    if not restored.kept_aside:
        print("there was no warehouse file to keep aside")
    return 0


# ---------------------------------------------------------------- audit


def audit_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from pricing_pipeline.common.errors import PipelineError
    from pricing_pipeline.warehouse.audit import audit_warehouse

    warehouse = resolve_data_dir(args.data_dir) / "warehouse.duckdb"
    try:
        results = audit_warehouse(warehouse)
    except PipelineError as error:
        print(f"audit FAILED\n{error}", file=sys.stderr)
        return 1
    failed = [result for result in results if result.failing_rows]
    for result in results:
        verdict = f"FAILED ({result.failing_rows} rows, e.g. {result.examples})" if result.failing_rows else "ok"
        print(f"{result.name}: {verdict} in {result.seconds:.2f} s")
    total = sum(result.seconds for result in results)
    print(f"audit of {relative_to_root(warehouse)}: {len(results)} data tests over the whole tables in {total:.1f} s")
    if failed:
        print(f"audit FAILED: {', '.join(result.name for result in failed)}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        require_checkout()
    except NotInCheckout as error:
        parser.exit(2, f"{parser.prog}: {error}\n")
    return args.handler(args.command_parser, args)


if __name__ == "__main__":
    sys.exit(main())
