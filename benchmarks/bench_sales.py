"""Sales at scale: Fake Store's carts, generated, served by the local fake API as Fake Store serves
them (GET /carts?startdate=..&enddate=.., startdate inclusive, enddate exclusive), booked by live
daily runs through the runner with --category all (every product of the recorded catalogue known,
every line priced in every currency).

  sales_scale     a day of 100,000 carts of 10 lines (1,000,000 lines) against the same run on
                  the recorded carts (7 carts, dated on the run's day), with CSV and with Parquet
                  deliverables: time, peak RSS of the whole process tree, rows booked and exported
  sales_history   one more day of 100,000 lines on a warehouse holding a year of them, against the
                  same day on an empty warehouse: time, bytes written, peak RSS
  sales_requests  the requests of a live run of 1 day, 31 days and 365 days, by endpoint

Every generated day is the same template of carts (product ids drawn from the recorded catalogue,
quantities 1 to 10), its cart ids shifted by the day's number, so that a year of them is copied in
the warehouse day by day (bench_history.copy_days) exactly as the fake API serves them.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, unquote

import numpy as np

from pricing_pipeline.common.paths import PROJECT_ROOT
from pricing_pipeline.common.target_calendar import is_target_day, last_target_day_on_or_before
from pricing_pipeline.testing.fake_api import FaultServer, Respond, serve_ecb_and_recordings

from bench_catalogue import folder_size, live_env
from bench_common import SEED, log, peak_rss, runner_command, stats, timed
from bench_history import DAY_TABLES, RUN_TABLES, copy_days
from bench_report import verdict

RECORDED_CARTS = PROJECT_ROOT / "data" / "recorded" / "fakestore" / "carts.json"
RECORDED_PRODUCTS = PROJECT_ROOT / "data" / "recorded" / "fakestore" / "products.json"
ALL = "all"
FORMATS = ("csv", "parquet")
USERS = 10  # Fake Store's users
TARGETS = {"ratio": 3.0, "rss_mb": 1536.0, "history_ratio": 1.2}  # 1.5 GB


# ---------------------------------------------------------------- the carts, as Fake Store serves them


def cart_date(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00.000Z"  # Fake Store's format: a UTC midnight


class GeneratedCarts:
    """`carts` carts of `lines` lines a day, from `first` on: the same template every day (distinct
    products per cart, quantities 1 to 10), the cart ids of day n (n = 0 on `first`) n * carts + 1
    to (n + 1) * carts, so that no two days share a cart id."""

    def __init__(self, carts: int, lines: int, first: dt.date, seed: int = SEED):
        product_ids = sorted(item["id"] for item in json.loads(RECORDED_PRODUCTS.read_text(encoding="utf-8")))
        if lines > len(product_ids):
            raise ValueError(f"{lines} lines a cart: the recorded catalogue has {len(product_ids)} products")
        rng = np.random.default_rng(seed + carts * lines)
        # Each cart's products: the first `lines` of a random permutation of the catalogue.
        chosen = np.argsort(rng.random((carts, len(product_ids))), axis=1)[:, :lines]
        ids = np.asarray(product_ids)[chosen].tolist()
        quantities = rng.integers(1, 11, (carts, lines)).tolist()
        self.users = rng.integers(1, USERS + 1, carts).tolist()
        self.products = [
            "[" + ",".join(f'{{"productId":{p},"quantity":{q}}}' for p, q in zip(pi, qi, strict=True)) + "]"
            for pi, qi in zip(ids, quantities, strict=True)
        ]
        self.carts, self.lines, self.first = carts, lines, first

    def day(self, day: dt.date) -> list[str]:
        if day < self.first:
            return []
        base, date = (day - self.first).days * self.carts, cart_date(day)
        return [
            f'{{"id":{base + i + 1},"userId":{user},"date":"{date}","products":{products},"__v":0}}'
            for i, (user, products) in enumerate(zip(self.users, self.products, strict=True))
        ]


def recorded_carts_on(day: dt.date) -> Callable[[dt.date], list[str]]:
    """The recorded carts (7), every one dated `day`: the reference run's sales."""
    carts = json.loads(RECORDED_CARTS.read_text(encoding="utf-8"))
    on_day = [json.dumps({**cart, "date": cart_date(day)}, separators=(",", ":")) for cart in carts]
    return lambda asked: on_day if asked == day else []


def serve_carts(carts_of_day: Callable[[dt.date], list[str]]) -> FaultServer:
    """Frankfurter from the ECB file, the recorded catalogue on /products, and GET /carts from
    carts_of_day, for each day from startdate to before enddate, in day order."""
    recordings = serve_ecb_and_recordings("/frankfurter", "/fakestore")
    last: dict[str, bytes] = {}  # a run asks the same window twice (the read and its re-read)

    def fallback(path: str):
        if not path.startswith("/fakestore/carts?"):
            return recordings(path)
        query = path.split("?", 1)[1]
        if query not in last:
            asked = {key: values[0] for key, values in parse_qs(query).items()}
            start, end = (dt.date.fromisoformat(asked[key]) for key in ("startdate", "enddate"))
            parts = [
                cart for offset in range((end - start).days) for cart in carts_of_day(start + dt.timedelta(offset))
            ]
            last.clear()
            last[query] = ("[" + ",".join(parts) + "]").encode()
        return Respond(200, last[query])

    return FaultServer(fallback=fallback)


def sales_command(span: tuple[str, str], data: Path, fmt: str = "csv", run_id: str = "bench") -> list[str]:
    return [*runner_command(span, "live", data, category=ALL, run_id=run_id), "--output-format", fmt]


# ---------------------------------------------------------------- what a run booked


def count_rows(path: Path) -> int:
    """Rows of a deliverable: a CSV's lines less its header, a Parquet file's row count."""
    if path.suffix == ".parquet":
        import duckdb

        return duckdb.sql(f"SELECT count(*) FROM read_parquet('{path}')").fetchall()[0][0]
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            lines += chunk.count(b"\n")
    return lines - 1


def check_sales(data: Path, day: str, lines: int, fmt: str) -> dict:
    """What the run booked for its day: every line staged and booked once as a sale, priced in every
    currency of the publication in force (and EUR), all of which the deliverable holds."""
    import duckdb

    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:

        def one(sql: str) -> int:
            return con.execute(sql, [day]).fetchone()[0]

        found = {
            "cart_lines": one("SELECT count(*) FROM staging.cart_lines WHERE cart_day = ?"),
            "sales_lines": one("SELECT count(*) FROM marts.sales_lines WHERE booked_day = ? AND kind = 'sale'"),
            "amounts": one("SELECT count(*) FROM marts.sales_line_amounts WHERE booked_day = ?"),
            "currencies": one("SELECT count(DISTINCT currency) FROM marts.sales_line_amounts WHERE booked_day = ?"),
        }
    finally:
        con.close()
    found["exported_amounts"] = count_rows(data / "runs" / "bench" / "output" / f"sales_line_amounts.{fmt}")
    found["ok"] = (
        found["cart_lines"] == found["sales_lines"] == lines
        and found["amounts"] == found["exported_amounts"] == lines * found["currencies"]
        and found["currencies"] > 1
    )
    return found


# ---------------------------------------------------------------- sales_scale


def bench_sales_scale(settings: dict, windows: dict, scratch: Path) -> dict:
    """The generated day against the recorded carts' day, each format, interleaved round by round."""
    day = dt.date.fromisoformat(windows["day"][1])
    span = (day.isoformat(), day.isoformat())
    carts, per_cart = settings["sales_carts"], settings["sales_lines_per_cart"]
    started = time.perf_counter()
    generated = GeneratedCarts(carts, per_cart, day)
    recorded = recorded_carts_on(day)
    recorded_lines = sum(len(json.loads(c)["products"]) for c in recorded(day))
    servers = {"recorded": serve_carts(recorded), "generated": serve_carts(generated.day)}
    log(f"  {carts:,} carts of {per_cart} lines generated ({time.perf_counter() - started:.1f}s)")
    lines = {"recorded": recorded_lines, "generated": carts * per_cart}
    runs = [(source, fmt) for source in servers for fmt in settings["sales_formats"]]
    seconds: dict[tuple, list[float]] = {run: [] for run in runs}
    rss: dict[tuple, list[float]] = {run: [] for run in runs}
    checks: dict[tuple, dict] = {}
    outputs: dict[tuple, int] = {}
    try:
        for round_index in range(settings["sales_repeat"]):
            shift = round_index % len(runs)
            for source, fmt in runs[shift:] + runs[:shift]:
                data = scratch / "sales_scale" / f"{source}-{fmt}-{round_index}"
                measured = peak_rss(sales_command(span, data, fmt), env=live_env(servers[source]))
                seconds[source, fmt].append(measured["seconds"])
                rss[source, fmt].append(measured["tree_mb"] or measured["largest_process_mb"])
                checks[source, fmt] = check_sales(data, day.isoformat(), lines[source], fmt)
                outputs[source, fmt] = folder_size(data / "runs" / "bench" / "output")
                shutil.rmtree(data, ignore_errors=True)
            log(
                f"  round {round_index + 1}/{settings['sales_repeat']}: "
                + ", ".join(f"{s} {f} {seconds[s, f][-1]:.1f}s/{rss[s, f][-1]:.0f}MB" for s, f in runs)
            )
    finally:
        for server in servers.values():
            server.stop()
    result = {"day": day.isoformat(), "carts": carts, "lines_per_cart": per_cart, "runs": {}, "checks_ok": True}
    for source, fmt in runs:
        # Each run against the recorded carts' run of the same format and round.
        reference = seconds["recorded", fmt]
        result["runs"][f"{source}-{fmt}"] = {
            "source": source,
            "format": fmt,
            "lines": lines[source],
            "seconds": stats(seconds[source, fmt]),
            "ratio_to_recorded": stats([a / b for a, b in zip(seconds[source, fmt], reference, strict=True)]),
            "peak_rss_mb": stats(rss[source, fmt]),
            "output_bytes": outputs[source, fmt],
            "check": checks[source, fmt],
        }
        result["checks_ok"] &= checks[source, fmt]["ok"]
    return result


# ---------------------------------------------------------------- sales_history

# The sales tables a day's load writes, copied as bench_history copies the products': (table, its
# day column, its other date columns shifted with it, other columns' expressions of {offset}). Cart
# ids move by a day's carts, as GeneratedCarts numbers them.
SALES_DAY_TABLES = (
    ("staging.cart_lines", "cart_day", (), {"cart_id": "cart_id + {offset} * {carts}"}),
    (
        "marts.sales_lines",
        "booked_day",
        ("sale_day", "sale_booked_day", "snapshot_date", "rate_date"),
        {"cart_id": "cart_id + {offset} * {carts}"},
    ),
    ("marts.sales_daily", "day", (), {}),
)
SALES_RUN_TABLES = (*RUN_TABLES, ("ops.sales_reconciliation", {"day": "day + {offset}"}))


def consecutive_target_days(last: dt.date, count: int) -> list[dt.date]:
    """The latest `count` consecutive TARGET working days on or before `last`: each measured day
    is priced by its own publication, so none takes an older one that a copied day shadows."""
    end = last
    while True:
        days = [end - dt.timedelta(days=count - 1 - i) for i in range(count)]
        if all(is_target_day(d) for d in days):
            return days
        end -= dt.timedelta(days=1)


def bench_sales_history(settings: dict, windows: dict, scratch: Path) -> dict:
    per_day, days, repeat = settings["sales_history_lines"], settings["sales_history_days"], settings["sales_repeat"]
    per_cart = settings["sales_lines_per_cart"]
    carts = per_day // per_cart
    measured_days = consecutive_target_days(dt.date.fromisoformat(windows["day"][1]), repeat)
    # The history starts on a publication day (see bench_history) and ends the day before the first
    # measured day, so that every day of a measured run's lookback is a day of the history.
    first_day = last_target_day_on_or_before(measured_days[0] - dt.timedelta(days=days))
    days = (measured_days[0] - first_day).days
    generated = GeneratedCarts(carts, per_cart, first_day)
    history_api = serve_carts(generated.day)
    history = scratch / "sales_history"
    try:
        started = time.perf_counter()
        first = first_day.isoformat()
        timed(sales_command((first, first), history, run_id="history"), env=live_env(history_api))
        sizes = copy_days(
            history / "warehouse.duckdb",
            first_day,
            days,
            "history",
            day_tables=(*DAY_TABLES, *SALES_DAY_TABLES),
            run_tables=SALES_RUN_TABLES,
            values={"carts": carts},
            counted=("staging.cart_lines", "marts.sales_lines"),
        )
        built = time.perf_counter() - started
        log(
            f"  sales history: {days} days x {per_day:,} lines, {sizes['marts.sales_lines']:,} facts, "
            f"{sizes['file_bytes'] / 1e9:.2f} GB, built in {built:.0f}s"
        )
        measured: dict[str, dict[str, list[float]]] = {
            where: {"seconds": [], "bytes_written": [], "rss_mb": []} for where in ("empty", "history")
        }
        checks = {}
        for round_index, day in enumerate(measured_days):
            # The empty warehouse's source holds carts from its day on: a lookback day's carts would
            # need rates the empty warehouse does not hold.
            empty_api = serve_carts(lambda asked, since=day: generated.day(asked) if asked >= since else [])
            empty = scratch / f"sales-empty-{round_index}"
            span = (day.isoformat(), day.isoformat())
            order = ("empty", "history") if round_index % 2 == 0 else ("history", "empty")
            try:
                for where in order:
                    data, api = (empty, empty_api) if where == "empty" else (history, history_api)
                    run = peak_rss(sales_command(span, data, run_id=f"day-{round_index}"), env=live_env(api))
                    measured[where]["seconds"].append(run["seconds"])
                    measured[where]["bytes_written"].append(run["bytes_written"])
                    measured[where]["rss_mb"].append(run["tree_mb"] or run["largest_process_mb"])
                    checks[where] = history_check(data, day, per_day)
            finally:
                empty_api.stop()
            shutil.rmtree(empty, ignore_errors=True)
            log(
                f"  round {round_index + 1}/{repeat} ({day}): "
                + ", ".join(
                    f"{where} {m['seconds'][-1]:.1f}s/{m['bytes_written'][-1] / 1e6:.0f}MB written/"
                    f"{m['rss_mb'][-1]:.0f}MB RSS"
                    for where, m in measured.items()
                )
            )
    finally:
        history_api.stop()
    result = {
        "lines_per_day": per_day,
        "days": days,
        "first_day": first_day.isoformat(),
        "measured_days": [d.isoformat() for d in measured_days],
        "sizes": sizes,
        "build_seconds": built,
        "checks": checks,
        "checks_ok": all(c["ok"] for c in checks.values()),
    }
    for where, figures in measured.items():
        result[where] = {name: stats(values) for name, values in figures.items()}
    result["ratio"] = {
        name: stats([h / e for h, e in zip(measured["history"][name], measured["empty"][name], strict=True)])
        for name in ("seconds", "bytes_written", "rss_mb")
    }
    return result


def history_check(data: Path, day: dt.date, lines: int) -> dict:
    """The measured day's facts: its lines booked once, as sales, and nothing else booked that day
    (the lookback's carts, unchanged, book no fact)."""
    import duckdb

    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        kinds = dict(
            con.execute(
                "SELECT kind, count(*) FROM marts.sales_lines WHERE booked_day = ? GROUP BY kind", [day]
            ).fetchall()
        )
        held = con.execute("SELECT count(DISTINCT sale_day) FROM marts.sales_lines").fetchone()[0]
    finally:
        con.close()
    return {"kinds": kinds, "days_held": held, "ok": kinds == {"sale": lines}}


# ---------------------------------------------------------------- sales_requests

REQUEST_SPANS = ("day", "month", "year")


def bench_sales_requests(settings: dict, windows: dict, scratch: Path) -> dict:
    """Live runs of 1, 31 and 365 days over carts on every day of their windows: the requests of
    each, by endpoint, in order (a run's reconciliation re-reads products and carts once each)."""
    results = {}
    for name in REQUEST_SPANS:
        span = windows[name]
        # Carts from the span's first day on: a lookback day's late carts would need the rates of a
        # publication before the run's, which a run on an empty warehouse does not hold.
        first = dt.date.fromisoformat(span[0])
        carts = GeneratedCarts(settings["sales_request_carts"], 2, first)
        apis = serve_carts(carts.day)
        data = scratch / "sales_requests" / name
        try:
            seconds = timed(sales_command(span, data), env=live_env(apis))
            paths = [unquote(path) for path in apis.requests]
        finally:
            apis.stop()
        days = (dt.date.fromisoformat(span[1]) - first).days + 1
        import duckdb

        con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
        try:
            booked = con.execute("SELECT count(*) FROM marts.sales_lines").fetchone()[0]
        finally:
            con.close()
        shutil.rmtree(data, ignore_errors=True)
        results[name] = {
            "start": span[0],
            "end": span[1],
            "days": (dt.date.fromisoformat(span[1]) - dt.date.fromisoformat(span[0])).days + 1,
            "total": len(paths),
            "rates": sum(p.startswith("/frankfurter/") for p in paths),
            "products": sum(p.startswith("/fakestore/products") for p in paths),
            "carts": sum(p.startswith("/fakestore/carts?") for p in paths),
            "carts_urls": sorted({p for p in paths if p.startswith("/fakestore/carts?")}),
            "lines_served": days * carts.carts * carts.lines,
            "facts_booked": booked,
            "paths": paths,
            "seconds": seconds,
        }
        log(f"  {name}: {len(paths)} requests ({', '.join(paths)}), {booked:,} facts booked")
    totals = {r["total"] for r in results.values()}
    # One request per read whatever the span: the notebooks' read of each source and the
    # reconciliation's re-read of products and carts.
    per_read = all(r["rates"] == 1 and r["products"] == r["carts"] == 2 for r in results.values())
    return {
        "spans": results,
        "constant": len(totals) == 1,
        "one_per_read": per_read,
        "all_booked": all(r["facts_booked"] == r["lines_served"] for r in results.values()),
    }


# ---------------------------------------------------------------- report


def sales_verdicts(report: dict) -> list[dict]:
    """The sales sections' targets, in bench_report's shape (met None: a time in quick mode)."""
    rows = []

    def add(name, figure, target, met, unit="", timing=True):
        rows.append(verdict(report, name, figure, target, met, unit, timing))

    scale = report.get("sales_scale")
    if scale:
        add("sales runs: every line booked and priced in every currency", scale["checks_ok"], "all", scale["checks_ok"])
        for found in scale["runs"].values():
            if found["source"] != "generated":
                continue
            label = f"{found['lines']:,} cart lines, {found['format']}"
            ratio = found["ratio_to_recorded"]["median"]
            add(f"{label} / recorded carts", ratio, f"<= {TARGETS['ratio']}", ratio <= TARGETS["ratio"], "x")
            rss = found["peak_rss_mb"]["median"]
            target = f"< {TARGETS['rss_mb']:.0f} MB"
            add(f"peak RSS, {label}", rss, target, rss < TARGETS["rss_mb"], "MB", timing=False)
    history = report.get("sales_history")
    if history:
        label = (
            f"one more day of {history['lines_per_day']:,} cart lines on {history['days']} days / on an empty warehouse"
        )
        add(f"{label}: the day's facts", history["checks_ok"], "its sales only", history["checks_ok"], timing=False)
        ratio = history["ratio"]["seconds"]["median"]
        add(f"{label}: time", ratio, f"<= {TARGETS['history_ratio']}", ratio <= TARGETS["history_ratio"], "x")
    requests = report.get("sales_requests")
    if requests:
        ok = requests["constant"] and requests["one_per_read"]
        add("sales: requests per live run (1, 31, 365 days)", ok, "one per read, every span", ok, timing=False)
        add("sales: every line served booked", requests["all_booked"], "all", requests["all_booked"], timing=False)
    return rows


def sales_table(report: dict) -> str:
    lines = []
    scale = report.get("sales_scale")
    if scale:
        lines += ["", f"sales, a day of carts ({scale['day']}), live run through the runner, --category all"]
        for found in scale["runs"].values():
            s, r, m, c = found["seconds"], found["ratio_to_recorded"], found["peak_rss_mb"], found["check"]
            lines.append(
                f"  {found['source']} carts ({found['lines']:,} lines), {found['format']}: "
                f"{s['median']:.2f} s ({s['min']:.2f}-{s['max']:.2f}), x recorded {r['median']:.2f} "
                f"({r['min']:.2f}-{r['max']:.2f}), peak RSS {m['median']:.0f} MB ({m['min']:.0f}-{m['max']:.0f}); "
                f"rows: {c['sales_lines']:,} facts, {c['exported_amounts']:,} amounts in {c['currencies']} currencies "
                f"exported, outputs {found['output_bytes'] / 1e6:.1f} MB"
            )
    history = report.get("sales_history")
    if history:
        sizes = history["sizes"]
        lines += [
            "",
            f"sales history: {history['days']} days x {history['lines_per_day']:,} cart lines "
            f"({sizes['marts.sales_lines']:,} facts, warehouse {sizes['file_bytes'] / 1e9:.2f} GB, "
            f"built in {history['build_seconds']:.0f}s); measured days {', '.join(history['measured_days'])}",
        ]
        for name, label, scale_by, unit in (
            ("seconds", "time", 1, "s"),
            ("bytes_written", "bytes written", 1e6, "MB"),
            ("rss_mb", "peak RSS", 1, "MB"),
        ):
            empty, full, ratio = history["empty"][name], history["history"][name], history["ratio"][name]
            lines.append(
                f"  {label}: empty {empty['median'] / scale_by:.1f} {unit}, history {full['median'] / scale_by:.1f} "
                f"{unit}, ratio {ratio['median']:.2f} ({ratio['min']:.2f}-{ratio['max']:.2f})"
            )
    requests = report.get("sales_requests")
    if requests:
        lines += ["", "sales: requests of a live run, --category all (rates / products / carts = total)"]
        for name, found in requests["spans"].items():
            lines.append(
                f"  {name} ({found['days']} days): {found['rates']} / {found['products']} / {found['carts']} = "
                f"{found['total']}; {found['facts_booked']:,} of {found['lines_served']:,} lines booked; "
                f"carts: {', '.join(found['carts_urls'])}"
            )
    return "\n".join(lines)
