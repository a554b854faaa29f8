"""Scale: marts.top_products_daily over a generated marts.products_eur of millions of rows, DuckDB
against pandas, each build in a fresh worker process (its peak memory is its own).
"""

from __future__ import annotations

import time
from pathlib import Path

from bench_common import CATEGORY, SEED, log, stats, worker

TOP_COLUMNS = "day, rank, product_id, title, category, rating_rate, rating_count, price_usd, price_eur, rate_date"


def maxrss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def work_generate(db: str, products: int, days: int, seed: int) -> dict:
    """marts.products_eur (the project's DDL) filled with products x days rows, from a seeded RNG."""
    import duckdb
    import numpy as np
    import pandas as pd

    from pricing_pipeline.warehouse.connection import sql_text

    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    n = products * days
    price_cents = rng.integers(100, 20_000, products)  # a product keeps its price
    usd_per_eur = np.round(rng.uniform(1.05, 1.12, days), 4)  # one rate per day
    frame = pd.DataFrame(
        {
            "day_index": np.repeat(np.arange(days, dtype=np.int32), products),
            "product_id": np.tile(np.arange(1, products + 1, dtype=np.int32), days),
            "rating_tenths": rng.integers(0, 51, n, dtype=np.int16),  # 0.0..5.0: many ties
            "rating_count": rng.integers(0, 1_000, n, dtype=np.int32),  # ties too, broken by product_id
        }
    )
    cents = pd.DataFrame({"product_id": np.arange(1, products + 1, dtype=np.int32), "cents": price_cents})
    rates = pd.DataFrame({"day_index": np.arange(days, dtype=np.int32), "usd_per_eur": usd_per_eur})
    con = duckdb.connect(db)
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    create = [s.query for s in con.extract_statements(sql_text("marts/products_eur.sql")) if s.type.name == "CREATE"]
    con.execute(create[0])
    con.register("generated", frame)
    con.register("cents", cents)
    con.register("rates", rates)
    con.execute(
        """
        INSERT INTO marts.products_eur
        SELECT DATE '2024-01-01' + g.day_index AS day, g.product_id,
               'Product ' || g.product_id AS title, $category AS category,
               (c.cents / 100)::DECIMAL(10,2) AS price_usd,
               round(c.cents / 100 / r.usd_per_eur, 2)::DECIMAL(10,2) AS price_eur,
               r.usd_per_eur::DECIMAL(18,6), DATE '2024-01-01' + g.day_index AS rate_date,
               g.rating_tenths / 10 AS rating_rate, g.rating_count
        FROM generated AS g JOIN cents AS c USING (product_id) JOIN rates AS r USING (day_index)
        ORDER BY day, product_id
    """,
        {"category": CATEGORY},
    )
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

    from pricing_pipeline.warehouse.connection import sql_text
    from pricing_pipeline.warehouse.partitions import run_views

    text = sql_text("marts/top_products_daily.sql")
    con = duckdb.connect(db)
    days = [row[0] for row in con.execute("SELECT DISTINCT day FROM marts.products_eur ORDER BY day").fetchall()]
    if mode == "full":
        con.execute("DROP TABLE IF EXISTS marts.top_products_daily")
        run_days = days
    else:
        con.execute("DELETE FROM marts.top_products_daily WHERE day = ?", [days[-1]])
        run_days = days[-1:]
    for name, frame in run_views(run_days, [CATEGORY]).items():  # as the pipeline's load registers them
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
    ranked = frame.sort_values(
        ["rating_rate", "rating_count", "product_id"], ascending=[False, False, True], kind="stable"
    )
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
    con.execute("""
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
        return con.execute(
            f"SELECT count(*) FROM (SELECT {TOP_COLUMNS} FROM {a} EXCEPT ALL SELECT {TOP_COLUMNS} FROM {b})"
        ).fetchall()[0][0]

    only_duckdb = missing("marts.top_products_daily", "bench.pandas_top5")
    only_pandas = missing("bench.pandas_top5", "marts.top_products_daily")
    rows = con.execute("SELECT count(*) FROM marts.top_products_daily").fetchall()[0][0]
    con.close()
    return {
        "rows": rows,
        "only_in_duckdb": only_duckdb,
        "only_in_pandas": only_pandas,
        "equal": only_duckdb == 0 and only_pandas == 0 and rows > 0,
    }


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
        "products": settings["products"],
        "days": settings["days"],
        "rows": generated["rows"],
        "seed": SEED,
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
