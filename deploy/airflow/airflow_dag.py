"""Airflow DAGs `pricing_pipeline_daily`, the daily run of scripts/run_pipeline.py for the logical
date, and `pricing_pipeline_weekly_audit`, the whole-table data tests once a week.

Each has one task, running the project's code in the project's own environment, as a subprocess:

    <python> <root>/scripts/run_pipeline.py --date {{ ds }} --source <source> [--data-dir <dir>]
    <python> -m pricing_pipeline.cli audit [--data-dir <dir>]

so Airflow and the pipeline never share an environment (Airflow lives in .airflow-venv/, made by
deploy/airflow/install.sh; the pipeline in .venv/, made by `make`), and the runner's exit status
decides the task's: 0 succeeds, anything else fails it (then Airflow retries).

Settings, each read when the task runs (an Airflow Variable wins over an environment variable of
the worker, which wins over the default):

    Airflow Variable           environment variable        default
    pricing_pipeline_root      PRICING_PIPELINE_ROOT       the folder two above this file's deploy/airflow/
    pricing_pipeline_python    PRICING_PIPELINE_PYTHON     <root>/.venv/bin/python
    pricing_pipeline_source    PRICING_PIPELINE_SOURCE     live
    pricing_pipeline_data_dir  PRICING_PIPELINE_DATA_DIR   the runner's: $PIPELINE_DATA_DIR or <root>/data

Schedule: every day at 06:00 UTC, for the day that just ended. The timetable is a data-interval one
(CronDataIntervalTimetable), so the run started on the morning of D+1 has logical date D and
`{{ ds }}` is D: the day whose ECB rates are published by then, as with the runner's own default
(yesterday). `airflow dags test pricing_pipeline_daily 2024-02-13` therefore runs 2024-02-13.

The audit runs on Sundays at 03:00 UTC, between two daily runs (it takes the data folder's lock): every data test over the whole tables,
which costs what the history costs (a load tests only its own partitions). A failed test fails the
task, its log naming the tests; the warehouse is only read.

Parsing stays cheap: this file imports Airflow only, never the pricing_pipeline package.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG, CronDataIntervalTimetable
except ImportError:  # Airflow 2.x
    from airflow import DAG
    from airflow.operators.bash import BashOperator
    from airflow.timetables.interval import CronDataIntervalTimetable

DAG_ID = "pricing_pipeline_daily"
SCHEDULE = "0 6 * * *"  # UTC, after the previous day's ECB rates are out (about 16:00 CET)

# The project root when the DAG file sits in (or is symlinked from) the project's deploy/airflow/ folder;
# a copy of this file elsewhere needs PRICING_PIPELINE_ROOT (or the Variable) instead.
DEFAULT_ROOT = str(Path(__file__).resolve().parents[2])

# Each setting reaches the task's shell twice: as the Airflow Variable (rendered when the task runs,
# empty when unset, so parsing never reads the metadata database) and as the worker's environment
# variable (inherited); the shell takes the first that is set, else the default.
VARIABLES = {
    "PP_ROOT_VAR": "pricing_pipeline_root",
    "PP_PYTHON_VAR": "pricing_pipeline_python",
    "PP_SOURCE_VAR": "pricing_pipeline_source",
    "PP_DATA_DIR_VAR": "pricing_pipeline_data_dir",
}

# The settings, resolved the same way for both DAGs.
_SETTINGS = """\
set -euo pipefail
root="${PP_ROOT_VAR:-${PRICING_PIPELINE_ROOT:-$PP_ROOT_DEFAULT}}"
python="${PP_PYTHON_VAR:-${PRICING_PIPELINE_PYTHON:-$root/.venv/bin/python}}"
source="${PP_SOURCE_VAR:-${PRICING_PIPELINE_SOURCE:-live}}"
data_dir="${PP_DATA_DIR_VAR:-${PRICING_PIPELINE_DATA_DIR:-}}"
if [ ! -x "$python" ]; then
  echo "no Python at $python: run 'make' in $root, or set PRICING_PIPELINE_PYTHON" >&2
  exit 1
fi
"""
BASH_COMMAND = (
    _SETTINGS
    + """\
args=(--date "{{ ds }}" --source "$source")
if [ -n "$data_dir" ]; then args+=(--data-dir "$data_dir"); fi
echo "running: $python $root/scripts/run_pipeline.py ${args[*]}"
exec "$python" "$root/scripts/run_pipeline.py" "${args[@]}"
"""
)
AUDIT_DAG_ID = "pricing_pipeline_weekly_audit"
AUDIT_SCHEDULE = "0 3 * * 0"  # Sundays, UTC: three hours clear of the daily run
AUDIT_COMMAND = (
    _SETTINGS
    + """\
args=(audit)
if [ -n "$data_dir" ]; then args+=(--data-dir "$data_dir"); fi
echo "running: $python -m pricing_pipeline.cli ${args[*]}"
cd "$root"
exec "$python" -m pricing_pipeline.cli "${args[@]}"
"""
)
TASK_ENV = {
    **{name: f"{{{{ var.value.get('{variable}', '') }}}}" for name, variable in VARIABLES.items()},
    "PP_ROOT_DEFAULT": DEFAULT_ROOT,
}

default_args = {
    "owner": "data-engineering",
    "depends_on_past": False,
    # A failed day (an API down, the data folder locked by a manual run) is retried twice, 15 minutes
    # apart; the runner is idempotent per day, so a retry re-loads the day cleanly.
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=15),
    "retry_exponential_backoff": False,
    # Two notebooks for one day take seconds to a few minutes; a run past an hour is stuck.
    "execution_timeout": dt.timedelta(hours=1),
}

with DAG(
    dag_id=DAG_ID,
    description="ECB rates and Fake Store products to EUR prices: the notebooks, for the logical date",
    schedule=CronDataIntervalTimetable(SCHEDULE, timezone="UTC"),
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    catchup=False,  # past days are loaded with `airflow dags backfill` or the runner's --start/--end
    max_active_runs=1,  # the runner locks its data folder: one run at a time
    default_args=default_args,
    tags=["pricing", "papermill", "duckdb"],
    doc_md=__doc__,
) as dag:
    BashOperator(
        task_id="run_notebooks",
        bash_command=BASH_COMMAND,
        env=TASK_ENV,
        append_env=True,  # keep the worker's environment: PATH, PRICING_PIPELINE_*, PIPELINE_DATA_DIR
        do_xcom_push=False,  # the runner's summary is in the task log; nothing downstream reads it
    )

with DAG(
    dag_id=AUDIT_DAG_ID,
    description="Every data test over the whole warehouse: what the daily loads, testing their own days, cannot see",
    schedule=CronDataIntervalTimetable(AUDIT_SCHEDULE, timezone="UTC"),
    start_date=dt.datetime(2024, 1, 7, tzinfo=dt.UTC),
    catchup=False,  # an audit reads the warehouse as it is now: a missed week needs no catching up
    max_active_runs=1,
    default_args={
        **default_args,
        # No retry: a failed test fails again, and the daily run, three hours later, never holds the
        # data folder's lock at this hour.
        "retries": 0,
        # A year of 100,000 products a day takes minutes; hours means something is wrong.
        "execution_timeout": dt.timedelta(hours=3),
    },
    tags=["pricing", "duckdb", "data-tests"],
    doc_md=__doc__,
) as audit_dag:
    BashOperator(
        task_id="audit",
        bash_command=AUDIT_COMMAND,
        env=TASK_ENV,
        append_env=True,
        do_xcom_push=False,  # the tests' results are in the task log
    )
