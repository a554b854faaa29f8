"""`make run` end to end: the runner reproduces the committed deliverables byte for byte."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.paths import PROJECT_ROOT, RUNNER

OUTPUTS = ("exchange_rates.csv", "products_eur.csv", "top_products_daily.csv", "product_prices.csv")


@pytest.fixture(scope="module")
def case_run(tmp_path_factory):
    """The case as `make run` runs it: its CSVs in the run's folder, and published (--publish-outputs)."""
    data = tmp_path_factory.mktemp("case") / "data"
    result = subprocess.run(
        [
            sys.executable,
            str(RUNNER),
            "--start",
            "2024-02-12",
            "--end",
            "2024-02-13",
            "--source",
            "recorded",
            "--data-dir",
            str(data),
            "--run-id",
            "case",
            "--publish-outputs",
            str(data.parent / "published"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    return data, result


def test_runner_succeeds_and_prints_each_days_top_5(case_run):
    _, result = case_run
    assert result.returncode == 0, result.stderr
    assert "top 5 on 2024-02-12" in result.stdout and "top 5 on 2024-02-13" in result.stdout
    assert "outputs:" in result.stdout


@pytest.mark.parametrize("name", OUTPUTS)
def test_outputs_reproduce_the_committed_files_byte_for_byte(case_run, name):
    data, _ = case_run
    committed = (PROJECT_ROOT / "data" / "output" / name).read_bytes()
    assert (data / "runs" / "case" / "output" / name).read_bytes() == committed
    assert (data.parent / "published" / name).read_bytes() == committed


def test_the_run_writes_nothing_into_an_output_folder_of_the_data_folder(case_run):
    # data/output/ holds the committed deliverables: only --publish-outputs writes there.
    data, _ = case_run
    assert not (data / "output").exists()


def test_run_keeps_its_executed_notebooks_and_html(case_run):
    data, _ = case_run
    record = data / "runs" / "case"
    for name in ("01_extract", "02_transform"):
        assert (record / f"{name}.ipynb").is_file()
        assert "<html" in (record / f"{name}.html").read_text(encoding="utf-8")[:2000].lower()
