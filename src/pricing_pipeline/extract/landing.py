"""Landing: every body is kept exactly as received, before anything parses it.

A body lands as a file under data/raw/<run id>/ with its metadata beside it, and is recorded by a
row of raw.responses in the warehouse (its own transaction, kept even if the run then fails): what
was asked, when, the body's SHA-256, size and file. A body that fails validation can therefore be
read and replayed.

The bodies themselves stay out of the warehouse. DuckDB appends a run's rows to the table's last
row group and rewrites that row group at the next checkpoint, so bodies stored in it were all
rewritten by every run: each day's landing would cost what the whole history of bodies costs.
Files in data/raw (immutable, as cookiecutter-data-science has it) cost each run its own bytes; the
backups mirror them (ops/backups.py). A body the run has already landed, byte for byte (the same
SHA-256: the reconciliation's re-read of an unchanged source), is not written again: its file is a
hard link to the first, and its row names the first's lasting copy, which the backups copy once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pandas as pd

from pricing_pipeline.common.files import copy_whole, link_whole, write_whole
from pricing_pipeline.extract.responses import RawResponse
from pricing_pipeline.warehouse.connection import connect, sql_text, transaction, user_tables
from pricing_pipeline.warehouse.data_tests import run_data_tests
from pricing_pipeline.warehouse.upgrades import move_bodies_out


def land_raw(response: RawResponse, raw_dir: Path, same_as: Path | None = None) -> Path:
    """Write the body unchanged, and beside it what was asked and when; returns the body's path,
    <name>.<type>, which the run's next steps read. same_as: a file already holding exactly these
    bytes, linked to instead of writing them again."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    body_path = raw_dir / f"{response.name}.{response.media_type}"
    if same_as is None:
        write_whole(body_path, response.body)
    else:
        link_whole(same_as, body_path)
    meta_path = raw_dir / f"{response.name}.meta.json"
    write_whole(meta_path, (json.dumps(response.meta(), indent=2) + "\n").encode("utf-8"))
    return body_path


def kept_body(body_path: Path, digest: str) -> Path:
    """The body's lasting copy, named by its digest (<name>.<sha256[:16]>.<type>): a run id used
    again rewrites <name>.<type>, never a body that raw.responses points to. A hard link, so no
    byte is written twice (a copy where the file system has no links)."""
    kept = body_path.with_name(f"{body_path.stem}.{digest[:16]}{body_path.suffix}")
    if not kept.exists():
        try:
            os.link(body_path, kept)
        except OSError:
            copy_whole(body_path, kept)
    return kept


def landed_before(
    con: duckdb.DuckDBPyConnection, run_id: str, digest: Callable[[], str], size: int, data_dir: Path
) -> Path | None:
    """The lasting copy of a body this run has already landed with this size and SHA-256 (digest():
    asked for only when a body of that size was landed), if its file is still there; else None."""
    if "raw.responses" not in user_tables(con):
        return None
    rows = con.execute(
        "SELECT DISTINCT body_sha256, body_file FROM raw.responses WHERE run_id = ? AND body_bytes = ? "
        "AND body_file IS NOT NULL ORDER BY body_file",
        [run_id, size],
    ).fetchall()
    for body_sha256, body_file in rows:
        path = data_dir / body_file
        if body_sha256 == digest() and path.is_file() and path.stat().st_size == size:
            return path
    return None


def load_landed(body_path: Path) -> RawResponse:
    """Read back a landed body with its metadata, to replay a run's parsing."""
    meta = json.loads(body_path.with_suffix("").with_suffix(".meta.json").read_text("utf-8"))
    return RawResponse(body=body_path.read_bytes(), **meta)


def land_raw_response(
    con: duckdb.DuckDBPyConnection, response: RawResponse, run_id: str, digest: str, body_file: str
) -> None:
    """Record a landed body in raw.responses, in its own transaction: kept even if the run fails.
    digest is the body's SHA-256; body_file its lasting copy, relative to the data folder."""
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
                "body_sha256": digest,
                "body_bytes": len(response.body),
                "body_file": body_file,
            }
        ]
    )
    with transaction(con, {"incoming_response": incoming}):
        con.execute(sql_text("raw/responses.sql"))
        run_data_tests(con, None, ["raw/responses.sql"], partitions_only=True)


def land_response(response: RawResponse, raw_dir: Path, warehouse: Path, run_id: str) -> Path:
    """Keep a body before anything parses it: as a file under data/raw, recorded in raw.responses.

    Takes the response as fetched, the run's raw folder (data/raw/<run id>/), the warehouse file and
    the run id; returns the landed body's path, <raw dir>/<name>.<json|csv>, which parse_products
    reads a large catalogue from.
    """
    data_dir = warehouse.parent
    with ThreadPoolExecutor(max_workers=1) as beside, connect(warehouse) as con:
        # Once (a body may be hundreds of MB), and while the body is written: hashlib lets go of the
        # GIL, as the write does.
        digest = beside.submit(lambda: hashlib.sha256(response.body).hexdigest()).result
        move_bodies_out(con, data_dir)  # a warehouse of version 1.1.0
        # The reconciliation's re-read of an unchanged catalogue: hundreds of MB not written (nor
        # backed up) twice.
        kept = landed_before(con, run_id, digest, len(response.body), data_dir)
        body_path = land_raw(response, raw_dir, same_as=kept)
        kept = kept or kept_body(body_path, digest())
        land_raw_response(con, response, run_id, digest(), kept.relative_to(data_dir).as_posix())
    return body_path
