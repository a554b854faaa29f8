"""Shared fixtures, and the settings under which nbval re-runs the committed notebooks."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from pricing_pipeline.common import settings
from tests.support.fault_api import fault_env, good_server


def pytest_configure(config):
    # nbval starts its kernels from this process: point their default data folder at a scratch
    # directory, so re-running the notebooks never writes into the repository's data/.
    scratch = Path(tempfile.mkdtemp(prefix="pricing-nbval-"))
    os.environ[settings.DATA_DIR] = str(scratch)
    config._pricing_scratch = scratch


E2E = Path(__file__).parent / "e2e"


def pytest_collection_modifyitems(config, items):
    """Mark as slow every notebook and every test under tests/e2e/ (the runner, kernels,
    subprocesses, Airflow, the benchmark): `make test-fast` runs the rest."""
    for item in items:
        if item.path.suffix == ".ipynb" or E2E in item.path.parents:
            item.add_marker(pytest.mark.slow)


def pytest_unconfigure(config):
    shutil.rmtree(getattr(config, "_pricing_scratch", ""), ignore_errors=True)


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """An empty data folder for one test's runs."""
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


# The fault tests' server (tests/support/fault_api.py): in-process (tests/unit/extract/test_http.py) and
# end to end (tests/e2e/test_faults.py).
@pytest.fixture
def server():
    fault_server = good_server()
    yield fault_server
    fault_server.stop()


@pytest.fixture
def fault_settings(server, monkeypatch):
    """The fault environment for in-process fetches."""
    for name, value in fault_env(server).items():
        monkeypatch.setenv(name, value)
    return server
