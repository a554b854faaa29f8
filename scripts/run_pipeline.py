#!/usr/bin/env python
"""Run the daily pricing pipeline: the same as `pricing-pipeline run` (see `--help`).

Kept as a script for schedulers that call a file (cron, the Airflow DAG).
"""

import sys

from pricing_pipeline.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
