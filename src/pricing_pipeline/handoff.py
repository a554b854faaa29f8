"""The hand-off between the two notebooks: the extract's tidy tables, as Parquet under
data/interim/<run id>/, named here once.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

EXCHANGE_RATES = "exchange_rates"
PRODUCTS = "products"


def handoff_path(interim_dir: Path, name: str) -> Path:
    return interim_dir / f"{name}.parquet"


def write_handoff(frame: pd.DataFrame, interim_dir: Path, name: str) -> Path:
    """Hand a tidy frame to the next notebook as Parquet (types kept), written through a temp file."""
    path = handoff_path(interim_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        duckdb.from_df(frame).write_parquet(str(partial))
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)  # a failed write (a full disk) leaves nothing half-written
    return path


def read_handoff(interim_dir: Path, name: str) -> pd.DataFrame:
    path = handoff_path(interim_dir, name)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run notebooks/01_extract.ipynb with the same run_id first")
    return duckdb.read_parquet(str(path)).df()
