"""The Airflow DAG (deploy/airflow/airflow_dag.py) runs the pipeline for its logical date.

Airflow lives in its own environment, .airflow-venv/, installed by deploy/airflow/install.sh on first
use (about half a minute from PyPI; later sessions find it ready). Each test gets a throwaway
AIRFLOW_HOME with a SQLite metadata database; `airflow dags test` then runs the DAG for 2024-02-13
offline, in-process (no scheduler, no API server), and the warehouse is read back with this
environment's duckdb.

Deselect with `-k 'not airflow'` when iterating on something else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.support.paths import PROJECT_ROOT

DAG_FILE = PROJECT_ROOT / "deploy" / "airflow" / "airflow_dag.py"
INSTALL_SCRIPT = PROJECT_ROOT / "deploy" / "airflow" / "install.sh"
AIRFLOW_VENV = Path(os.environ.get("AIRFLOW_VENV", PROJECT_ROOT / ".airflow-venv"))
AIRFLOW = AIRFLOW_VENV / "bin" / "airflow"
DAG_ID = "pricing_pipeline_daily"
DAY = "2024-02-13"


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory) -> dict:
    """Airflow installed (once), and the environment of a fresh AIRFLOW_HOME with its database migrated."""
    install = subprocess.run(
        ["bash", str(INSTALL_SCRIPT)],
        capture_output=True,
        text=True,
        timeout=1200,
        env={**os.environ, "AIRFLOW_VENV": str(AIRFLOW_VENV)},
    )
    assert install.returncode == 0, f"installing Airflow failed:\n{_tail(install.stdout)}\n{_tail(install.stderr)}"

    home = tmp_path_factory.mktemp("airflow_home")
    dags = home / "dags"
    dags.mkdir()
    # A symlink, as a deployment would do: the DAG finds the project through it.
    (dags / DAG_FILE.name).symlink_to(DAG_FILE)
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AIRFLOW_", "AIRFLOW__", "PRICING_PIPELINE_"))
    }
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
    )
    # The DAG's default interpreter is <root>/.venv/bin/python, the one `make test` runs under; point
    # it at this interpreter only when the project's .venv is not there.
    if not (PROJECT_ROOT / ".venv" / "bin" / "python").exists():
        env["PRICING_PIPELINE_PYTHON"] = sys.executable
    migrate = subprocess.run([str(AIRFLOW), "db", "migrate"], capture_output=True, text=True, env=env, timeout=600)
    assert migrate.returncode == 0, f"airflow db migrate failed:\n{_tail(migrate.stdout)}\n{_tail(migrate.stderr)}"
    return env


PARSE_CHECK = """
import json, sys
try:
    from airflow.dag_processing.dagbag import DagBag  # Airflow 3
except ImportError:
    from airflow.models.dagbag import DagBag  # Airflow 2
bag = DagBag(dag_folder=sys.argv[1])  # examples are off in the environment
dag = bag.dags.get("pricing_pipeline_daily")
task = dag.get_task("run_notebooks") if dag else None
print(json.dumps({
    "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
    "dag_ids": sorted(bag.dags),
    "pricing_pipeline_imported": any(m.split(".")[0] == "pricing_pipeline" for m in sys.modules),
    "timetable": type(dag.timetable).__name__ if dag else None,
    "cron": (getattr(dag.timetable, "expression", None) or getattr(dag.timetable, "_expression", None)) if dag else None,
    "catchup": dag.catchup if dag else None,
    "max_active_runs": dag.max_active_runs if dag else None,
    "retries": task.retries if task else None,
    "retry_delay": task.retry_delay.total_seconds() if task else None,
    "operator": type(task).__name__ if task else None,
    "tasks": [t.task_id for t in dag.tasks] if dag else [],
}))
"""


def test_airflow_dag_parses_cheaply_with_the_expected_schedule(airflow_env):
    result = subprocess.run(
        [str(AIRFLOW_VENV / "bin" / "python"), "-c", PARSE_CHECK, airflow_env["AIRFLOW__CORE__DAGS_FOLDER"]],
        capture_output=True,
        text=True,
        env=airflow_env,
        timeout=300,
    )
    assert result.returncode == 0, _tail(result.stderr)
    parsed = json.loads(result.stdout.strip().splitlines()[-1])
    assert parsed["import_errors"] == {}
    assert parsed["dag_ids"] == [DAG_ID]
    assert parsed["pricing_pipeline_imported"] is False  # parsing never imports the pipeline
    assert parsed["timetable"] == "CronDataIntervalTimetable" and parsed["cron"] == "0 6 * * *"
    assert parsed["catchup"] is False and parsed["max_active_runs"] == 1
    assert parsed["retries"] >= 1 and parsed["retry_delay"] > 0
    assert parsed["operator"] == "BashOperator" and parsed["tasks"] == ["run_notebooks"]


def test_airflow_variable_overrides_the_source(airflow_env):
    env = {**airflow_env, "AIRFLOW_VAR_PRICING_PIPELINE_SOURCE": "recorded", "PRICING_PIPELINE_SOURCE": "offline"}
    result = subprocess.run(
        [str(AIRFLOW), "tasks", "render", DAG_ID, "run_notebooks", DAY],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, _tail(result.stderr)
    assert f'--date "{DAY}"' in result.stdout
    assert "'PP_SOURCE_VAR': 'recorded'" in result.stdout


def test_airflow_dags_test_loads_the_logical_date_into_the_warehouse(airflow_env, data_dir):
    env = {**airflow_env, "PRICING_PIPELINE_SOURCE": "offline", "PRICING_PIPELINE_DATA_DIR": str(data_dir)}
    run = subprocess.run(
        [str(AIRFLOW), "dags", "test", DAG_ID, DAY],
        capture_output=True,
        text=True,
        env=env,
        timeout=1200,
    )
    log = run.stdout + run.stderr
    assert run.returncode == 0, _tail(log)
    assert f"--date {DAY} --source offline --data-dir {data_dir}" in log  # the runner, for {{ ds }}

    runs = subprocess.run(
        [str(AIRFLOW), "dags", "list-runs", DAG_ID, "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert runs.returncode == 0, _tail(runs.stderr)
    # The JSON is the last line; warnings (graphviz missing) may come before it.
    dag_runs = json.loads([line for line in runs.stdout.splitlines() if line.startswith("[{")][-1])
    assert [(r["logical_date"][:10], r["state"]) for r in dag_runs] == [(DAY, "success")]

    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        days = con.execute(
            "select cast(day as varchar), count(*), count(distinct product_id) from marts.products_eur group by 1"
        ).fetchall()
        assert days == [(DAY, 6, 6)]  # that day, its 6 products, and no other day
        top = con.execute("select count(*) from marts.top_products_daily where cast(day as varchar) = ?", [DAY])
        assert top.fetchone() == (5,)
        statuses = con.execute("select status, parameters from ops.run_log").fetchall()
    assert [status for status, _ in statuses] == ["succeeded"]
    parameters = json.loads(statuses[0][1])
    assert (parameters["start_date"], parameters["end_date"], parameters["source"]) == (DAY, DAY, "offline")
