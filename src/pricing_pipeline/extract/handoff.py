"""The hand-off between the two notebooks: the extract's tidy tables, as Parquet under
data/interim/<run id>/, named here once.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from pricing_pipeline.common.files import written_whole

EXCHANGE_RATES = "exchange_rates"
PRODUCTS = "products"


def handoff_path(interim_dir: Path, name: str) -> Path:
    return interim_dir / f"{name}.parquet"


def write_handoff(frame: pd.DataFrame, interim_dir: Path, name: str) -> Path:
    """Hand a tidy frame to the next notebook as Parquet (types kept), written through a temp file.

    Takes the frame, the run's interim folder (data/interim/<run id>/) and the hand-off's name
    (EXCHANGE_RATES or PRODUCTS); returns the file written, <interim dir>/<name>.parquet.
    """
    path = handoff_path(interim_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with written_whole(path) as partial:
        duckdb.from_df(frame).write_parquet(str(partial))
    return path


def _existing(interim_dir: Path, name: str) -> Path:
    path = handoff_path(interim_dir, name)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run notebooks/01_extract.ipynb with the same run_id first")
    return path


def read_handoff(interim_dir: Path, name: str) -> pd.DataFrame:
    """The hand-off `name` (EXCHANGE_RATES or PRODUCTS) of the run whose interim folder is given, as
    the DataFrame the extract wrote; FileNotFoundError when the extract has not written it."""
    return duckdb.read_parquet(str(_existing(interim_dir, name))).df()


def handoff_relation(con: duckdb.DuckDBPyConnection, interim_dir: Path, name: str) -> duckdb.DuckDBPyRelation:
    """The hand-off `name` of the run whose interim folder is given, as a relation of `con`, read from
    its file when a query reads it: a catalogue of a million products then never becomes a million
    Python strings in the notebook. FileNotFoundError when the extract has not written it."""
    return con.read_parquet(str(_existing(interim_dir, name)))
