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


def copy_days(warehouse: Path, first_day: dt.date, days: int, first_run: str) -> dict:
    """Days first_day + 1 .. first_day + days - 1, each a copy of first_day's rows and its run's rows.

    Each day is one INSERT of the first day's rows (held in temporary tables), so every day has
    row groups of its own, as a daily load leaves them; a month of days is one transaction. The
    copied runs' rows point at the first run's landed bodies (data/raw is files: a day's cost does
    not depend on how many there are).
    """
    import duckdb

    con = duckdb.connect(str(warehouse))
    try:
        con.execute("SET preserve_insertion_order = false")  # each day's INSERT in parallel
        for number, (table, column, _) in enumerate(DAY_TABLES):
            first = FIRST_DAY.get(table, "SELECT CAST(? AS DATE)")
            con.execute(
                f"CREATE TEMP TABLE day_{number} AS SELECT * FROM {table} WHERE {column} IN ({first})", [first_day]
            )
        for number, table in enumerate(RUN_TABLES):
            con.execute(f"CREATE TEMP TABLE run_{number} AS SELECT * FROM {table} WHERE run_id = ?", [first_run])
        for month in range(1, days, 30):
            con.execute("BEGIN TRANSACTION")
            for offset in range(month, min(month + 30, days)):
                for number, (table, column, shifted) in enumerate(DAY_TABLES):
                    replaced = ", ".join(f"{c} + {offset} AS {c}" for c in (column, *shifted))
                    con.execute(f"INSERT INTO {table} SELECT * REPLACE ({replaced}) FROM day_{number}")
                for number, table in enumerate(RUN_TABLES):
                    con.execute(
                        f"INSERT INTO {table} SELECT * REPLACE ('{first_run}-' || {offset} AS run_id) FROM run_{number}"
                    )
            con.execute("COMMIT")
        con.execute("CHECKPOINT")
        sizes = {
            table: con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            for table in (*(t for t, _, _ in DAY_TABLES), "marts.product_prices", "raw.responses")
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
    result["ratio"] = {
        name: stats([h / e for h, e in zip(measured["history"][name], measured["empty"][name], strict=False)])
        for name in ("seconds", "bytes_written", "rss_mb")
    }
    return result


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
    return "\n".join(lines)
