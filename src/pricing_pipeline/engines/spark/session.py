"""The Spark session of the Spark engine: local (`local[N]`, a JVM started by this process) or a
Spark Connect server (`sc://host:port`), with quiet logs and the settings the load relies on.

One session per process: SparkSession.builder returns the running one, so a notebook, a test run
or a runner pays the JVM's start (8 to 18 s) once.
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings
from pathlib import Path

from pricing_pipeline.common import settings
from pricing_pipeline.engines import EngineUnsupported

DEFAULT_MASTER = "local[2]"
CONNECT_SCHEME = "sc://"
# log4j2.properties at error level; SPARK_CONF_DIR must point at it before the JVM starts.
CONF_DIR = Path(__file__).parent / "conf"

# Settings a session may change once it runs (the only ones Spark Connect lets a client set):
# - dynamic partition overwrite: an INSERT OVERWRITE replaces the partitions its rows hold and
#   keeps the others (left static, overwriting one day deletes every other day);
# - dates and timestamps read in UTC, whatever the machine's zone;
# - ANSI mode (Spark 4's default, set here so a server's setting cannot change it): an overflow
#   raises instead of wrapping, a bad cast raises instead of giving NULL;
# - a few shuffle partitions: a day's tables are small, and 200 tasks per join would dominate.
RUNTIME_CONF = {
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.shuffle.partitions": "2",
    # pandas frames cross to Spark as Arrow batches (over Spark Connect they always do).
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
# Settings of a local JVM, fixed when it starts: no web UI, no progress bars on the console.
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "2g",
}


def spark_master(value: str = "") -> str:
    """The master to use: the value given, else PIPELINE_SPARK_MASTER, else local[2]."""
    master = (value or settings.text(settings.SPARK_MASTER, DEFAULT_MASTER)).strip()
    if not (master.startswith(CONNECT_SCHEME) or master == "local" or master.startswith("local[")):
        raise EngineUnsupported(
            f"Spark master {master!r} is not usable: give local[N] (a session in this process) or "
            "sc://host:port (a Spark Connect server)"
        )
    return master


def _quiet() -> None:
    """PySpark's own Python-side noise: every SQL error, caught or not, as a JSON log line; the warning
    that pandas 3 is not fully supported (the engine's frames are plain columns, tested)."""
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)


def _require_java() -> None:
    if os.environ.get("JAVA_HOME") or shutil.which("java"):
        return
    raise EngineUnsupported(
        "the Spark engine needs Java 17 or 21 for a local session: install it (Debian/Ubuntu: "
        "apt-get install openjdk-17-jre-headless) or set JAVA_HOME, or use --spark-master sc://host:port"
    )


def spark_session(master: str = ""):
    """The process's Spark session for `master` (spark_master()), started if none runs."""
    master = spark_master(master)
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise EngineUnsupported(
            "the Spark engine needs pyspark: install the project's spark extra (`make` does, or "
            "pip install -e '.[spark]')"
        ) from error
    _quiet()
    if master.startswith(CONNECT_SCHEME):
        session = SparkSession.builder.remote(master).getOrCreate()
    else:
        _require_java()
        os.environ.setdefault("SPARK_CONF_DIR", str(CONF_DIR))
        builder = SparkSession.builder.master(master).appName("pricing-pipeline")
        for key, value in LOCAL_CONF.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
    for key, value in RUNTIME_CONF.items():
        session.conf.set(key, value)
    return session
