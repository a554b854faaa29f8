"""Shared fixtures, and the settings under which nbval re-runs the committed notebooks."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT / "src"))
RECORDINGS = PROJECT_ROOT / "data" / "recorded"
RUNNER = PROJECT_ROOT / "scripts" / "run_pipeline.py"


def pytest_configure(config):
    # nbval starts its kernels from this process: point their default data folder at a scratch
    # directory, so re-running the notebooks never writes into the repository's data/.
    scratch = Path(tempfile.mkdtemp(prefix="pricing-nbval-"))
    os.environ["PIPELINE_DATA_DIR"] = str(scratch)
    config._pricing_scratch = scratch


def pytest_unconfigure(config):
    shutil.rmtree(getattr(config, "_pricing_scratch", ""), ignore_errors=True)


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """An empty data folder for one test's runs."""
    folder = tmp_path / "data"
    folder.mkdir()
    return folder
