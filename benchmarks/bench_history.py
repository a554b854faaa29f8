"""History scale: one more day on a warehouse that already holds a year of a large catalogue, against
the same day on an empty warehouse: time, bytes written and peak RSS of the run's whole process tree.

The history is built as a scheduler would have left it, only faster: a real live run of its first
day (every table, every currency, its landed body, its run rows and its full backup), then each
later day's rows copied from the first day's, one day per statement, in day order, as daily loads
append them: the snapshots, the two stored marts, the rates of the first day's publication (so
that the view marts.product_prices prices every copied day in every currency), and the run rows
(raw.responses, ops) of a run per day.
The copies keep the first run's timestamps, so the day measured backs up what any day but the weekly
full one does: its own partitions, incrementally (restoring such chains is tested in
tests/e2e/test_recovery.py, not here).

Both runs of a round price the same new day, live against the same generated catalogue; each round
takes the next day, so the history grows by one day per round as it would in production.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path

from pricing_pipeline.common.target_calendar import last_target_day_on_or_before

from bench_catalogue import catalogue_body, live_env, serve_catalogue
from bench_common import log, peak_rss, runner_command, stats
from bench_report import verdict

TARGET = 1.2  # one more day on the history / the same day on an empty warehouse: time, bytes, RSS
# Day tables: (table, its day column, its other date columns shifted with it). The rates copied are
# those of the publication that priced the first day (its rate_date), shifted as the marts' are.
DAY_TABLES = (
    ("staging.product_snapshots", "snapshot_date", ()),
    ("marts.products_eur", "day", ("rate_date",)),
    ("marts.top_products_daily", "day", ("rate_date",)),
    ("staging.exchange_rates", "rate_date", ()),
)
FIRST_DAY = {"staging.exchange_rates": "SELECT DISTINCT rate_date FROM marts.products_eur WHERE day = ?"}
RUN_TABLES = ("raw.responses", "ops.run_log", "ops.loads", "ops.reconciliation")


def copy_days(
    warehouse: Path,
    first_day: dt.date,
    days: int,
    first_run: str,
    day_tables: tuple = DAY_TABLES,
    run_tables: tuple = RUN_TABLES,
    values: dict | None = None,
    counted: tuple = (),
) -> dict:
    """Days first_day + 1 .. first_day + days - 1, each a copy of first_day's rows and its run's rows.

    Each day is one INSERT of the first day's rows (held in temporary tables), so every day has
    row groups of its own, as a daily load leaves them; a month of days is one transaction. The
    copied runs' rows point at the first run's landed bodies (data/raw is files: a day's cost does
    not depend on how many there are).

    day_tables may give a fourth item, {column: expression}, and run_tables (table, {column:
    expression}) for a run table: columns other than dates that move with the day (bench_sales:
    cart ids), each expression formatted with {offset} and `values`. `counted`: tables whose rows
    are counted beside the products'.
    """
    import duckdb

    con = duckdb.connect(str(warehouse))
    try:
        con.execute("SET preserve_insertion_order = false")  # each day's INSERT in parallel
        day_tables = [(*t, {}) if len(t) == 3 else t for t in day_tables]
        run_tables = [(t, {}) if isinstance(t, str) else t for t in run_tables]
        for number, (table, column, _, _) in enumerate(day_tables):
            first = FIRST_DAY.get(table, "SELECT CAST(? AS DATE)")
            con.execute(
                f"CREATE TEMP TABLE day_{number} AS SELECT * FROM {table} WHERE {column} IN ({first})", [first_day]
            )
        for number, (table, _) in enumerate(run_tables):
            con.execute(f"CREATE TEMP TABLE run_{number} AS SELECT * FROM {table} WHERE run_id = ?", [first_run])
        for month in range(1, days, 30):
            con.execute("BEGIN TRANSACTION")
            for offset in range(month, min(month + 30, days)):
                for number, (table, column, shifted, moved) in enumerate(day_tables):
                    replaced = ", ".join(
                        [f"{c} + {offset} AS {c}" for c in (column, *shifted)]
                        + [f"{e.format(offset=offset, **(values or {}))} AS {c}" for c, e in moved.items()]
                    )
                    con.execute(f"INSERT INTO {table} SELECT * REPLACE ({replaced}) FROM day_{number}")
                for number, (table, moved) in enumerate(run_tables):
                    replaced = ", ".join(
                        [f"'{first_run}-' || {offset} AS run_id"]
                        + [f"{e.format(offset=offset, **(values or {}))} AS {c}" for c, e in moved.items()]
                    )
                    con.execute(f"INSERT INTO {table} SELECT * REPLACE ({replaced}) FROM run_{number}")
            con.execute("COMMIT")
        con.execute("CHECKPOINT")
        sizes = {
            table: con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            for table in (*(t[0] for t in DAY_TABLES), "marts.product_prices", "raw.responses", *counted)
        }
    finally:
        con.close()
    sizes["file_bytes"] = warehouse.stat().st_size
    return sizes


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def bench_history_scale(settings: dict, windows: dict, scratch: Path) -> dict:
    products, days, repeat = settings["history_products"], settings["history_days"], settings["history_repeat"]
    last = dt.date.fromisoformat(windows["day"][1])
    first_day = last - dt.timedelta(days=days + repeat - 1)
    # The history starts on a publication day: its first day's rates are copied to every later day,
    # and a first day priced with an earlier publication would leave each copy priced with the
    # publication before a later copied one, which the audit's whole-table tests rightly reject.
    published = last_target_day_on_or_before(first_day)
    days += (first_day - published).days
    first_day = published
    body = catalogue_body(products)
    apis = serve_catalogue(body)
    env = live_env(apis)
    history = scratch / "history"
    try:
        started = time.perf_counter()
        day = first_day.isoformat()
        peak_rss(runner_command((day, day), "live", history, run_id="history"), env=env)
        sizes = copy_days(history / "warehouse.duckdb", first_day, days, "history")
        built = time.perf_counter() - started
        log(
            f"  history: {days} days x {products:,} products, {sizes['marts.product_prices']:,} prices, "
            f"{sizes['file_bytes'] / 1e9:.2f} GB, built in {built:.0f}s"
        )
        measured: dict[str, dict[str, list[float]]] = {
            where: {"seconds": [], "bytes_written": [], "rss_mb": []} for where in ("empty", "history")
        }
        for round_index in range(repeat):
            day = (first_day + dt.timedelta(days=days + round_index)).isoformat()
            empty = scratch / f"empty-{round_index}"
            order = ("empty", "history") if round_index % 2 == 0 else ("history", "empty")
            for where in order:
                data = empty if where == "empty" else history
                run = peak_rss(runner_command((day, day), "live", data, run_id=f"day-{round_index}"), env=env)
                measured[where]["seconds"].append(run["seconds"])
                measured[where]["bytes_written"].append(run["bytes_written"])
                measured[where]["rss_mb"].append(run["tree_mb"] or run["largest_process_mb"])
            shutil.rmtree(empty, ignore_errors=True)
            log(
                f"  round {round_index + 1}/{repeat} ({day}): "
                + ", ".join(
                    f"{where} {m['seconds'][-1]:.1f}s/{m['bytes_written'][-1] / 1e6:.0f}MB written/"
                    f"{m['rss_mb'][-1]:.0f}MB RSS"
                    for where, m in measured.items()
                )
            )
        backup = history / "backups" / f"day-{repeat - 1}"
        from pricing_pipeline.ops.backups import read_manifest

        manifest = read_manifest(backup)
    finally:
        apis.stop()
    weekly = bench_weekly(history, scratch, settings.get("weekly_repeat", repeat))
    result = {
        "products": products,
        "days": days,
        "first_day": first_day.isoformat(),
        "sizes": sizes,
        "build_seconds": built,
        "last_backup": {"kind": manifest["kind"], "bytes": folder_bytes(backup)},
    }
    for where, figures in measured.items():
        result[where] = {name: stats(values) for name, values in figures.items()}
    result["weekly"] = weekly
    result["ratio"] = {
        name: stats([h / e for h, e in zip(measured["history"][name], measured["empty"][name], strict=False)])
        for name in ("seconds", "bytes_written", "rss_mb")
    }
    return result


# ---------------------------------------------------------------- the weekly work

WEEKLY_TARGET = 1.3  # the full backup / DuckDB's bare EXPORT DATABASE of the same warehouse


def bench_weekly(history: Path, scratch: Path, repeat: int) -> dict:
    """On the history: the weekly full backup (export_backup, forced full) against a bare EXPORT
    DATABASE of the same warehouse, each in a fresh process, alternating; then the audit's time
    (`pricing-pipeline audit`, every data test over the whole tables) and peak RSS."""
    import sys

    from bench_common import worker

    warehouse = history / "warehouse.duckdb"
    full, bare, backup_bytes = [], [], 0
    for round_index in range(repeat):
        order = ("full", "bare") if round_index % 2 == 0 else ("bare", "full")
        for kind in order:
            if kind == "full":
                # Into the history's own backup folder, whose mirror holds the landed bodies already,
                # as a weekly backup finds it.
                answer = worker("_full_backup", str(warehouse), str(history / "backups"), f"weekly-{round_index}")
                full.append(answer["seconds"])
                backup_bytes = answer["bytes"]
            else:
                target = scratch / f"bare-export-{round_index}"
                bare.append(worker("_bare_export", str(warehouse), str(target))["seconds"])
                shutil.rmtree(target, ignore_errors=True)
        log(f"  weekly round {round_index + 1}/{repeat}: full backup {full[-1]:.1f}s, bare EXPORT {bare[-1]:.1f}s")
    audit = peak_rss([sys.executable, "-m", "pricing_pipeline.cli", "audit", "--data-dir", str(history)])
    log(f"  audit of the history: {audit['seconds']:.1f}s, {audit['tree_mb'] or audit['largest_process_mb']:.0f}MB")
    return {
        "full_backup": stats(full),
        "bare_export": stats(bare),
        "ratio": stats([f / b for f, b in zip(full, bare, strict=True)]),
        "backup_bytes": backup_bytes,
        "audit_seconds": audit["seconds"],
        "audit_rss_mb": audit["tree_mb"] or audit["largest_process_mb"],
    }


def work_full_backup(warehouse: str, backup_root: str, run_id: str) -> dict:
    from pricing_pipeline.ops.backups import export_backup, read_manifest

    started = time.perf_counter()
    target = export_backup(Path(warehouse), Path(backup_root), run_id, full_every=1)
    seconds = time.perf_counter() - started
    assert read_manifest(target)["kind"] == "full"
    return {"seconds": seconds, "bytes": folder_bytes(target)}


def work_bare_export(warehouse: str, target: str) -> dict:
    """DuckDB's own EXPORT DATABASE, with the memory limit every warehouse connection has."""
    import duckdb

    from pricing_pipeline.warehouse.connection import duckdb_config, quoted_path

    started = time.perf_counter()
    con = duckdb.connect(warehouse, config=duckdb_config())
    con.execute(f"EXPORT DATABASE '{quoted_path(Path(target))}' (FORMAT parquet)")
    con.close()
    return {"seconds": time.perf_counter() - started}


def history_verdicts(report: dict) -> list[dict]:
    found = report.get("history_scale")
    if not found:
        return []
    label = f"one more day on {found['days']} days x {found['products']:,} products / on an empty warehouse"
    rows = []
    for name, unit, timing in (
        ("seconds", "time", True),
        ("bytes_written", "bytes written", False),
        ("rss_mb", "peak RSS", False),
    ):
        ratio = found["ratio"][name]["median"]
        rows.append(verdict(report, f"{label}: {unit}", ratio, f"<= {TARGET}", ratio <= TARGET, "x", timing))
    weekly = found.get("weekly")
    if weekly:
        ratio = weekly["ratio"]["median"]
        rows.append(
            verdict(
                report,
                f"weekly full backup / bare EXPORT DATABASE, {found['days']} days x {found['products']:,} products",
                ratio,
                f"<= {WEEKLY_TARGET}",
                ratio <= WEEKLY_TARGET,
                "x",
            )
        )
    return rows


def history_table(report: dict) -> str:
    found = report.get("history_scale")
    if not found:
        return ""
    lines = [
        "",
        f"history: {found['days']} days x {found['products']:,} products "
        f"({found['sizes']['marts.product_prices']:,} prices, warehouse {found['sizes']['file_bytes'] / 1e9:.2f} GB, "
        f"built in {found['build_seconds']:.0f}s); the last day's backup: {found['last_backup']['kind']}, "
        f"{found['last_backup']['bytes'] / 1e6:.1f} MB",
    ]
    for name, label, scale, unit in (
        ("seconds", "time", 1, "s"),
        ("bytes_written", "bytes written", 1e6, "MB"),
        ("rss_mb", "peak RSS", 1, "MB"),
    ):
        empty, history, ratio = found["empty"][name], found["history"][name], found["ratio"][name]
        lines.append(
            f"  {label}: empty {empty['median'] / scale:.1f} {unit}, history {history['median'] / scale:.1f} {unit}, "
            f"ratio {ratio['median']:.2f} ({ratio['min']:.2f}-{ratio['max']:.2f})"
        )
    weekly = found.get("weekly")
    if weekly:
        full, bare, ratio = weekly["full_backup"], weekly["bare_export"], weekly["ratio"]
        lines.append(
            f"  weekly full backup {full['median']:.1f} s ({weekly['backup_bytes'] / 1e9:.2f} GB), bare EXPORT DATABASE "
            f"{bare['median']:.1f} s: ratio {ratio['median']:.2f} ({ratio['min']:.2f}-{ratio['max']:.2f})"
        )
        lines.append(
            f"  audit (every data test over the whole tables): {weekly['audit_seconds']:.1f} s, "
            f"peak RSS {weekly['audit_rss_mb']:.0f} MB"
        )
    return "\n".join(lines)
