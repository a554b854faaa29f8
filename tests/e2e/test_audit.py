"""`pricing-pipeline audit`: every data test over the whole tables; exit 1 names the failing tests."""

from __future__ import annotations

import shutil
import subprocess
import sys

import duckdb
import pytest

from tests.support.paths import RUNNER

CLI = [sys.executable, "-m", "pricing_pipeline.cli"]


@pytest.fixture(scope="module")
def case_warehouse(tmp_path_factory):
    """The case's two days, loaded and backed up as `make run` leaves them."""
    data = tmp_path_factory.mktemp("audit") / "data"
    command = [sys.executable, str(RUNNER), "--start", "2024-02-12", "--end", "2024-02-13", "--source", "recorded"]
    result = subprocess.run([*command, "--data-dir", str(data), "--run-id", "case"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return data


def audit(data_dir) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "audit", "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=300)


def test_a_clean_warehouse_passes_every_test_over_its_whole_tables(case_warehouse):
    result = audit(case_warehouse)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if ": ok in " in line]
    # The load's partition-local and generic tests, every one of them over the whole tables.
    for name in (
        "marts_products_eur_unique",
        "marts_product_prices_priced_with_publication_in_force",
        "staging_product_snapshots_rating_in_range",
        "ops_run_log_accepted_values_status",
        "ops_backups_unique",
    ):
        assert any(line.startswith(f"{name}: ok") for line in lines), result.stdout
    assert "FAILED" not in result.stdout + result.stderr


# Faults a load's tests cannot see: rows changed outside the pipeline, after their day was loaded.
FAULTS = {
    "duplicated product-day": (
        "INSERT INTO marts.products_eur SELECT * FROM marts.products_eur WHERE day = '2024-02-12' AND product_id = 15",
        {"marts_products_eur_unique"},
    ),
    "a rate made negative": (
        "UPDATE staging.exchange_rates SET rate = -rate WHERE rate_date = '2024-02-12' AND currency = 'JPY'",
        {"staging_exchange_rates_positive"},
    ),
    "a rating out of range": (
        "UPDATE staging.product_snapshots SET rating_rate = 7.5 WHERE snapshot_date = '2024-02-13' AND product_id = 18",
        {"staging_product_snapshots_rating_in_range"},
    ),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_outside_any_load_fails_the_audit_naming_its_tests(fault, case_warehouse, tmp_path):
    statement, expected = FAULTS[fault]
    data = tmp_path / "data"
    shutil.copytree(case_warehouse, data)
    con = duckdb.connect(str(data / "warehouse.duckdb"))
    con.execute(statement)
    con.close()
    result = audit(data)
    assert result.returncode == 1, result.stdout
    named = set(result.stderr.strip().splitlines()[-1].removeprefix("audit FAILED: ").split(", "))
    assert expected <= named, result.stderr
    failed_lines = {line.split(":")[0] for line in result.stdout.splitlines() if ": FAILED" in line}
    assert failed_lines == named


def test_the_audit_leaves_the_warehouse_as_it_was(case_warehouse):
    before = (case_warehouse / "warehouse.duckdb").read_bytes()
    assert audit(case_warehouse).returncode == 0
    assert (case_warehouse / "warehouse.duckdb").read_bytes() == before


def test_no_warehouse_is_a_clear_failure(tmp_path):
    result = audit(tmp_path / "nothing")
    assert result.returncode == 1
    assert "there is no warehouse to audit at" in result.stderr
