"""The benchmark's report: each figure beside its target, as a table and as verdicts."""

from __future__ import annotations

# The targets the figures are held to. Ratios are "at most" unless named *_min.
TARGETS = {
    "daily_ratio": 1.5,  # day through the runner / floor
    "year_ratio": 1.5,  # year backfill / day
    "history_ratio": 3.0,  # whole-history backfill / day
    "catalogue_ratio": 3.0,  # whole-history backfill of category all, every currency / one day of it
    "speedup_min": 10.0,  # pandas / DuckDB full build
    "incremental_ratio": 1 / 50,  # one new day / full rebuild
    "daily_rss_mb": 400.0,
    "scale_rss_mb": 2048.0,
}
# The backfill spans that have a target: span -> its key in TARGETS.
BACKFILL_TARGETS = {"year": "year_ratio", "history": "history_ratio"}


def at_most(key: str) -> str:
    """An at-most target as both the JSON report and the table state it, e.g. "<= 1.5"."""
    return f"<= {TARGETS[key]}"


def verdict(report: dict, name: str, figure, target: str, met, unit: str = "", timing: bool = True) -> dict:
    """One target's row. Quick mode's sizes are too small for a time or a ratio to mean anything:
    a timing target is n/a (met None) there."""
    quick = report["mode"] == "quick"
    return {
        "name": name,
        "figure": figure,
        "target": target,
        "met": None if quick and timing else bool(met),
        "unit": unit,
    }


def verdicts(report: dict) -> list[dict]:
    """One row per target: the figure, the target, met or not (None: not measured in this mode)."""
    rows = []

    def add(name, figure, target, met, unit="", timing=True):
        rows.append(verdict(report, name, figure, target, met, unit, timing))

    daily = report.get("daily")
    if daily:
        ratio = daily["ratio"]["median"]
        add("daily run / floor", ratio, at_most("daily_ratio"), ratio <= TARGETS["daily_ratio"], "x")
    requests = report.get("requests")
    if requests:
        add(
            "requests per live run (day, month, year)",
            requests["per_run"],
            "same for every span",
            requests["constant"],
            timing=False,
        )
    backfill = report.get("backfill", {})
    for name, limit in BACKFILL_TARGETS.items():
        if name in backfill:
            ratio = backfill[name]["ratio_to_day"]["median"]
            add(f"backfill {name} / day", ratio, at_most(limit), ratio <= TARGETS[limit], "x")
    catalogue = report.get("catalogue")
    if catalogue:
        ratio = catalogue["ratio_to_day"]["median"]
        add(
            f"backfill {catalogue['span']}, all, every currency / day",
            ratio,
            at_most("catalogue_ratio"),
            ratio <= TARGETS["catalogue_ratio"],
            "x",
        )
        check = catalogue["check"]
        add("all, every currency == decimal", check["equal"], "equal", check["equal"], timing=False)
    scale = report.get("scale")
    if scale:
        add(
            "pandas / DuckDB full build",
            scale["speedup"],
            f">= {TARGETS['speedup_min']}",
            scale["speedup"] >= TARGETS["speedup_min"],
            "x",
        )
        add(
            "incremental day / full rebuild",
            scale["incremental_ratio"],
            "<= 1/50 (0.02)",
            scale["incremental_ratio"] <= TARGETS["incremental_ratio"],
            "x",
        )
        add("DuckDB == pandas", scale["check"]["equal"], "equal", scale["check"]["equal"], timing=False)
        rss = scale["duckdb_full_rss_mb"]["median"]
        add("peak RSS, 10M-row build", rss, f"< {TARGETS['scale_rss_mb']:.0f} MB", rss < TARGETS["scale_rss_mb"], "MB")
    memory = report.get("memory", {})
    if "day" in memory:
        day = memory["day"]["tree_mb"] or memory["day"]["largest_process_mb"]
        add(
            "peak RSS, daily run (runner + kernels)",
            day["median"],
            f"< {TARGETS['daily_rss_mb']:.0f} MB",
            day["median"] < TARGETS["daily_rss_mb"],
            "MB",
            timing=False,
        )  # the same run in quick mode
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
    lines.append(
        f"pricing pipeline benchmark ({report['mode']}), {report['started_at']}, "
        f"{m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}, DuckDB {m['duckdb']}, "
        f"pandas {m['pandas']}"
    )
    rows = [("figure", "median", "min", "max", "target")]

    def s(label, st, unit="s", target=""):
        rows.append((label, fmt(st["median"], unit), fmt(st["min"], unit), fmt(st["max"], unit), target))

    daily = report.get("daily")
    if daily:
        s("daily run, 1 day, offline (s)", daily["run"])
        s("floor: papermill, imports only (s)", daily["floor"])
        s("daily run / floor", daily["ratio"], "x", at_most("daily_ratio"))
        if "floor_light" in daily:  # reports written before it lack it
            s("light floor: the same, IRI grammar skipped as the runner does (s)", daily["floor_light"])
            s("daily run / light floor", daily["ratio_light"], "x")
    for name, b in report.get("backfill", {}).items():
        if name == "day":
            continue
        s(f"backfill {name}, {b['days']} days (s)", b["seconds"])
        target = at_most(BACKFILL_TARGETS[name]) if name in BACKFILL_TARGETS else ""
        s(f"backfill {name} / day", b["ratio_to_day"], "x", target)
    catalogue = report.get("catalogue")
    if catalogue:
        s("category all, 1 day, offline (s)", catalogue["day"])
        s(f"category all, backfill {catalogue['span']}, {catalogue['days']} days (s)", catalogue["backfill"])
        s(
            f"category all, backfill {catalogue['span']} / day",
            catalogue["ratio_to_day"],
            "x",
            at_most("catalogue_ratio"),
        )
        check = catalogue["check"]
        rows.append(
            ("category all, a month's prices == decimal", str(check["equal"]), "", "", f"{check['rows']:,} rows")
        )
    requests = report.get("requests")
    if requests:
        for name, r in requests["spans"].items():
            rows.append(
                (
                    f"requests, live run, {name} ({r['days']} days)",
                    str(r["total"]),
                    "",
                    "",
                    f"{r['frankfurter']} rates + {r['fakestore']} products",
                )
            )
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
    for name, label, target in (
        ("day", "daily run", f"< {TARGETS['daily_rss_mb']:.0f}"),
        ("history", "history backfill", ""),
    ):
        if name in memory:
            if memory[name]["tree_mb"]:
                s(f"peak RSS, {label}, process tree (MB)", memory[name]["tree_mb"], "MB", target)
            s(f"peak RSS, {label}, largest process (MB)", memory[name]["largest_process_mb"], "MB")
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for index, row in enumerate(rows):
        lines.append(
            "  ".join(
                cell.ljust(widths[i]) if i == 0 or i == 4 else cell.rjust(widths[i]) for i, cell in enumerate(row)
            ).rstrip()
        )
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(
        "targets:"
        + (" (quick mode: sizes too small for times to mean anything; n/a)" if report["mode"] == "quick" else "")
    )
    for v in report["targets"]:
        mark = {True: "met", False: "MISSED", None: "n/a"}[v["met"]]
        lines.append(f"  {mark:6} {v['name']}: {fmt(v['figure'], v['unit'])} (target {v['target']})")
    return "\n".join(lines)
