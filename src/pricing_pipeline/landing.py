"""Landing: every body is kept exactly as received, before anything parses it.

A body lands twice: as a file under data/raw/<run id>/ with its metadata beside it, and as a row
of raw.responses in the warehouse (its own transaction, kept even if the run then fails). A body
that fails validation can therefore be read and replayed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import duckdb
import pandas as pd

from .data_tests import run_data_tests
from .raw_response import RawResponse
from .warehouse import connect, sql_text, transaction


def land_raw(response: RawResponse, raw_dir: Path) -> Path:
    """Write the body unchanged, and beside it what was asked and when; returns the body's path."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    body_path = raw_dir / f"{response.name}.{response.media_type}"
    _write_whole(body_path, response.body)
    meta_path = raw_dir / f"{response.name}.meta.json"
    _write_whole(meta_path, (json.dumps(response.meta(), indent=2) + "\n").encode("utf-8"))
    return body_path


def _write_whole(path: Path, data: bytes) -> None:
    """Through a temporary file: a body cut short by a full disk is never left looking whole."""
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_bytes(data)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def load_landed(body_path: Path) -> RawResponse:
    """Read back a landed body with its metadata, to replay a run's parsing."""
    meta = json.loads(body_path.with_suffix("").with_suffix(".meta.json").read_text("utf-8"))
    return RawResponse(body=body_path.read_bytes(), **meta)


def land_raw_response(con: duckdb.DuckDBPyConnection, response: RawResponse, run_id: str) -> None:
    """Append a body to raw.responses, in its own transaction: it is kept even if the run fails."""
    incoming = pd.DataFrame(
        [
            {
                "run_id": run_id,
                "name": response.name,
                "origin": response.origin,
                "request": response.request,
                "status": response.status,
                "attempts": response.attempts,
                "fetched_at": response.fetched_at,
                "landed_at": dt.datetime.now(dt.UTC).isoformat(),
                "body_sha256": hashlib.sha256(response.body).hexdigest(),
                "body": response.body,
            }
        ]
    )
    with transaction(con, {"incoming_response": incoming}):
        con.execute(sql_text("raw/responses.sql"))
        run_data_tests(con, None, ["raw/responses.sql"], partitions_only=True)


def land_response(response: RawResponse, raw_dir: Path, warehouse: Path, run_id: str) -> Path:
    """Keep a body before anything parses it: as a file under data/raw and as a raw.responses row."""
    body_path = land_raw(response, raw_dir)
    with connect(warehouse) as con:
        land_raw_response(con, response, run_id)
    return body_path
