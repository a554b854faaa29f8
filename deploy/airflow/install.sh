#!/usr/bin/env bash
# Install Airflow, pinned by deploy/airflow/requirements.txt, in its own environment: .airflow-venv/
# beside the project's .venv/ (Airflow and the pipeline never share packages: the DAG runs the
# pipeline with .venv's Python). Needs Python 3.11 and PyPI, nothing else (no constraint file from
# GitHub: the requirements file is the frozen, fully pinned set).
#
#   deploy/airflow/install.sh            # installs once; later calls return at once while the
#                                         # environment matches the requirements file
#   AIRFLOW_VENV=/opt/airflow-venv PYTHON=python3.11 deploy/airflow/install.sh
#   FORCE=1 deploy/airflow/install.sh    # rebuild from scratch
#
# Then: export AIRFLOW_HOME=...; .airflow-venv/bin/airflow db migrate (see README, "Run it daily").
# About 15-60 s and 290 MB with PyPI close by.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${AIRFLOW_VENV:-$root/.airflow-venv}"
requirements="$root/deploy/airflow/requirements.txt"
stamp="$venv/.installed-requirements.txt"

if [ -z "${PYTHON:-}" ]; then
  PYTHON="$(command -v python3.11 || command -v python3)"
fi

mkdir -p "$(dirname "$venv")"
# One install at a time (two test sessions, or a test and a person): the second waits, then finds
# the environment ready.
exec 9>"$venv.lock"
flock 9

if [ -z "${FORCE:-}" ] && [ -x "$venv/bin/airflow" ] && cmp -s "$requirements" "$stamp"; then
  echo "Airflow is installed in $venv ($(sed -n 's/^apache-airflow==//p' "$requirements"))"
  exit 0
fi

started=$SECONDS
echo "installing Airflow in $venv with $("$PYTHON" --version) ..."
rm -rf "$venv"
"$PYTHON" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet --only-binary=:all: -r "$requirements"
"$venv/bin/python" -m pip check
"$venv/bin/airflow" version >/dev/null
cp "$requirements" "$stamp"
echo "Airflow $("$venv/bin/airflow" version 2>/dev/null | tail -n 1) installed in $venv" \
  "in $((SECONDS - started)) s, $(du -sh "$venv" | cut -f1)"
