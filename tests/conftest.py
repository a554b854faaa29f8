"""Shared fixtures, and the settings under which nbval re-runs the committed notebooks."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from pricing_pipeline.common import settings


def pytest_configure(config):
    # nbval starts its kernels from this process: point their default data folder at a scratch
    # directory, so re-running the notebooks never writes into the repository's data/.
    scratch = Path(tempfile.mkdtemp(prefix="pricing-nbval-"))
    os.environ[settings.DATA_DIR] = str(scratch)
    config._pricing_scratch = scratch


# Fixtures that run the pipeline (runner, kernels, subprocesses): a test that needs one is slow.
PIPELINE_FIXTURES = {"baseline", "clean_day", "case_run", "case_live", "quick", "airflow_env"}
SLOW_MODULES = {
    "test_case_run.py",
    "test_catalogue_runs.py",
    "test_daily_pipeline.py",
    "test_live_http.py",
    "test_benchmark_quick.py",
    "test_recovery.py",
}


def pytest_collection_modifyitems(config, items):
    """Mark as slow every notebook, every test of an end-to-end module and every test that needs a
    pipeline run; `make test-fast` runs the rest."""
    for item in items:
        if (
            item.path.suffix == ".ipynb"
            or item.path.name in SLOW_MODULES
            or PIPELINE_FIXTURES & set(getattr(item, "fixturenames", ()))
        ):
            item.add_marker(pytest.mark.slow)


def pytest_unconfigure(config):
    shutil.rmtree(getattr(config, "_pricing_scratch", ""), ignore_errors=True)


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """An empty data folder for one test's runs."""
    folder = tmp_path / "data"
    folder.mkdir()
    return folder
