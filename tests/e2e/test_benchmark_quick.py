"""benchmarks/benchmark.py --quick: the benchmark runs end to end and its results agree.

Small sizes and one repetition, so the times mean nothing here and are not checked; what is
checked is that the script still works against the pipeline: DuckDB and pandas rank the generated
table identically, a live run asks the same number of requests whatever its span, and the JSON
report holds every figure.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from tests.support.ecb_reference import ecb_table, rate_in_force
from tests.support.paths import PROJECT_ROOT

BENCHMARK = PROJECT_ROOT / "benchmarks" / "benchmark.py"
STATS = {"median", "min", "max", "runs"}


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    output = tmp_path_factory.mktemp("bench")
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), "--quick", "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads((output / "benchmark-quick.json").read_text(encoding="utf-8")), result.stdout


def test_report_has_every_section_and_figure(quick):
    report, _ = quick
    assert report["mode"] == "quick" and report["agree"] is True
    assert {"cores", "memory_gib", "python", "duckdb", "pandas"} <= set(report["machine"])
    assert set(report["daily"]["run"]) >= STATS and set(report["daily"]["floor"]) >= STATS
    assert report["daily"]["ratio"]["median"] > 0
    assert {"day", "month"} <= set(report["backfill"])
    for span in report["backfill"].values():
        assert set(span["seconds"]) >= STATS and span["ratio_to_day"]["median"] > 0
    scale = report["scale"]
    for key in ("duckdb_full", "pandas", "incremental", "duckdb_full_rss_mb"):
        assert set(scale[key]) >= STATS, key
    assert scale["speedup"] > 0 and scale["incremental_ratio"] > 0
    assert report["memory"]["day"]["largest_process_mb"]["median"] > 0
    names = {target["name"] for target in report["targets"]}
    assert {
        "daily run / floor",
        "pandas / DuckDB full build",
        "DuckDB == pandas",
        "all, every currency == decimal",
    } <= names


def test_duckdb_and_pandas_rank_the_generated_table_identically(quick):
    report, _ = quick
    scale = report["scale"]
    check = scale["check"]
    assert check["equal"] is True
    assert check["only_in_duckdb"] == 0 and check["only_in_pandas"] == 0
    assert check["rows"] == 5 * scale["days"]  # 5 per day, one category
    assert scale["rows"] == scale["products"] * scale["days"]


def test_live_runs_ask_the_same_requests_whatever_the_span(quick):
    report, _ = quick
    spans = report["requests"]["spans"]
    assert set(spans) == {"day", "month", "year"}
    assert spans["year"]["days"] == 365
    totals = {span["total"] for span in spans.values()}
    assert len(totals) == 1 and report["requests"]["constant"] is True
    for span in spans.values():
        assert span["frankfurter"] == 1  # one range request, whatever the number of days
        assert span["fakestore"] >= 1


def test_whole_catalogue_backfill_is_measured_and_its_prices_checked(quick):
    report, _ = quick
    catalogue = report["catalogue"]
    assert catalogue["span"] == "month" and catalogue["days"] == 31
    assert set(catalogue["backfill"]) >= STATS and catalogue["ratio_to_day"]["median"] > 0
    check = catalogue["check"]
    assert check["equal"] is True and check["mismatches"] == 0
    assert check["rows"] == check["expected_rows"] >= 20 * 31 * 30  # 20 products, 31 days, 30 currencies or more


def test_table_is_printed(quick):
    _, stdout = quick
    assert "daily run / floor" in stdout and "targets:" in stdout


def test_catalogue_runs_price_every_product_and_measure_each_size(quick):
    report, stdout = quick
    catalogue = report["catalogue_scale"]
    sizes = report["settings"]["catalogue_sizes"]
    assert catalogue["checks_ok"] is True
    runs = [(size, fmt) for size in sizes for fmt in ("csv", "parquet")]
    assert [(found["products"], found["format"]) for found in catalogue["sizes"].values()] == runs
    for size, fmt in runs:
        found = catalogue["sizes"][f"{size}-{fmt}"]
        assert found["output_bytes"] > 0
        # Every generated product snapshotted once and priced on the run's day; 5 ranked.
        assert found["check"]["snapshots"] == found["check"]["distinct_ids"] == found["check"]["priced"] == size
        assert found["check"]["top"] == min(5, size)
        for key in ("seconds", "ratio_to_reference", "peak_rss_mb"):
            assert set(found[key]) >= STATS, key
        record = found["record"]
        assert record["total"] == record["notebooks"] + record["html"] > 0
        assert 0 < record["largest_notebook"] <= record["notebooks"]
    side = catalogue["side_by_side"]
    assert side["products"] == max(sizes)
    assert side["rows_ours"] == side["rows_pandas"] == side["rows_floor"] == max(sizes)
    assert side["speedup"]["median"] > 0 and side["to_floor"]["median"] > 0
    names = {target["name"] for target in report["targets"]}
    assert "catalogue runs: every product priced, top 5 ranked" in names
    assert "catalogue (live run through the runner)" in stdout


def test_one_more_day_on_a_history_is_measured_against_an_empty_warehouse(quick):
    report, _ = quick
    history = report["history_scale"]
    days, products = history["days"], history["products"]
    # The generated history holds every product on every day (copies of the first), in every
    # currency of the first day's publication in force, and in EUR; read here from the ECB file.
    first_day = dt.date.fromisoformat(history["first_day"])
    publication, _ = rate_in_force(first_day)
    currencies = len(ecb_table()[publication]) + 1
    assert history["sizes"]["marts.products_eur"] == days * products
    assert history["sizes"]["marts.product_prices"] == days * products * currencies
    assert history["last_backup"]["kind"] == "incremental"
    for where in ("empty", "history"):
        for figure in ("seconds", "bytes_written", "rss_mb"):
            assert set(history[where][figure]) >= STATS and history[where][figure]["median"] > 0
    weekly = history["weekly"]
    assert set(weekly["full_backup"]) >= STATS and set(weekly["bare_export"]) >= STATS
    assert weekly["ratio"]["median"] > 0 and weekly["backup_bytes"] > 0
    assert weekly["audit_seconds"] > 0 and weekly["audit_rss_mb"] > 0
    names = {target["name"] for target in report["targets"]}
    assert any(name.startswith("one more day on") and name.endswith("bytes written") for name in names)
    assert any(name.startswith("weekly full backup / bare EXPORT DATABASE") for name in names)


def test_a_day_of_generated_carts_is_booked_priced_and_exported_in_every_currency(quick):
    report, stdout = quick
    scale = report["sales_scale"]
    assert scale["checks_ok"] is True
    formats = report["settings"]["sales_formats"]
    assert [(run["source"], run["format"]) for run in scale["runs"].values()] == [
        (source, fmt) for source in ("recorded", "generated") for fmt in formats
    ]
    for run in scale["runs"].values():
        check = run["check"]
        # Every line staged and booked once as a sale; every fact in every currency, all exported.
        assert check["cart_lines"] == check["sales_lines"] == run["lines"]
        assert check["amounts"] == check["exported_amounts"] == run["lines"] * check["currencies"]
        for key in ("seconds", "ratio_to_recorded", "peak_rss_mb"):
            assert set(run[key]) >= STATS, key
    generated = [run for run in scale["runs"].values() if run["source"] == "generated"]
    assert {run["lines"] for run in generated} == {scale["carts"] * scale["lines_per_cart"]}
    assert "sales, a day of carts" in stdout


def test_one_more_day_of_sales_on_a_history_books_only_its_own_sales(quick):
    report, _ = quick
    history = report["sales_history"]
    assert history["checks_ok"] is True
    assert history["sizes"]["marts.sales_lines"] == history["sizes"]["staging.cart_lines"]
    assert history["sizes"]["marts.sales_lines"] == history["days"] * history["lines_per_day"]
    for where in ("empty", "history"):
        assert history["checks"][where]["kinds"] == {"sale": history["lines_per_day"]}
        for figure in ("seconds", "bytes_written", "rss_mb"):
            assert set(history[where][figure]) >= STATS and history[where][figure]["median"] > 0


def test_a_live_run_reads_each_source_once_whatever_its_span(quick):
    report, _ = quick
    requests = report["sales_requests"]
    spans = requests["spans"]
    assert [span["days"] for span in spans.values()] == [1, 31, 365]
    assert requests["constant"] and requests["one_per_read"] and requests["all_booked"]
    for span in spans.values():
        # One rates request; products and carts once in the notebooks, once in the reconciliation.
        assert (span["rates"], span["products"], span["carts"]) == (1, 2, 2)
        assert len(span["carts_urls"]) == 1
        assert span["facts_booked"] == span["lines_served"] > 0
