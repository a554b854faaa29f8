"""Backups of the warehouse after each successful run: incremental, with a full one every few runs.

A backup is a folder <backup dir>/<run id>/ of Parquet files and backup.json, its manifest: when it
was made, by which run, its kind, each table's rows and each file's SHA-256. The manifest is written
last and the folder renamed into place only when whole, so a folder with a manifest is a whole
backup; a failed export is removed.

* A **full** backup is DuckDB's EXPORT DATABASE: every table, whole.
* An **incremental** backup holds only what changed since the backup it applies on (its base): for
  each table, the rows of its partitions that the runs since then wrote, and the WHERE clause that
  delimits them. Restoring it deletes those partitions and inserts its rows. A run writes only its
  own partitions (warehouse/partitions.py): its days and category in staging and marts, its rates window in
  the rates, its run id in raw and ops; tables of neither kind are small and carried whole. So a
  daily backup costs what its day costs, not what the history costs.

The warehouse records each backup in ops.backups before exporting it: the newest row is the backup
its content follows from, also after a restore. A backup is full when there is no such backup in
the backup folder, when the tables changed, when a run since then left no run log to say what it
wrote, or after `full_every` - 1 incremental ones (PIPELINE_FULL_BACKUP_EVERY, 7 by default): a
restore applies at most that many.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
from pathlib import Path

import duckdb
import pandas as pd

from pricing_pipeline.common import settings
from pricing_pipeline.common.errors import PipelineError
from pricing_pipeline.common.files import copy_whole
from pricing_pipeline.common.parameters import RunParameters
from pricing_pipeline.common.paths import backup_root
from pricing_pipeline.sales.window import MAX_LOOKBACK_DAYS
from pricing_pipeline.warehouse.connection import (
    connect,
    duckdb_config,
    quoted_path,
    sql_text,
    transaction,
    user_tables,
)
from pricing_pipeline.warehouse.data_tests import run_data_tests
from pricing_pipeline.warehouse.partitions import TABLES as DAY_TABLES
from pricing_pipeline.warehouse.partitions import run_scope

# The sales tables a run writes (sales/load.py), by the day column of their partitions and whether
# the run writes the days of its lookback window before its own (the lines and the restated days)
# or its own days only (the facts, booked on them). Scoped, an incremental backup copies a few days
# of them rather than every cart ever sold.
SALES_SCOPES = {
    "staging.cart_lines": ("cart_day", True),
    "marts.sales_lines": ("booked_day", False),
    "marts.sales_daily": ("day", True),
}

MANIFEST = "backup.json"
__all__ = ["BackupDamaged", "BackupFailed", "backup_root", "export_backup", "find_backups", "restore_backup"]
log = logging.getLogger(__name__)


class BackupFailed(PipelineError, RuntimeError):
    """The export failed; says whether its partial folder was removed."""

    named_in_summary = False

    def __init__(self, message: str, partial: Path, partial_removed: bool):
        super().__init__(message)
        self.partial = partial
        self.partial_removed = partial_removed


class BackupDamaged(PipelineError, ValueError):
    """A backup's files or restored rows differ from what its manifest recorded, or its chain is broken."""


def export_backup(warehouse: Path, backup_root: Path, run_id: str, keep: int = 0, full_every: int = 0) -> Path:
    """Back the warehouse up to backup_root/<run_id>/ (<run_id>.2 for a run id used again):
    incremental on the warehouse's last backup when it can be, else full (see the module's docstring).

    The export goes to a temporary folder renamed when complete, so a backup folder is always
    whole; a failed export's folder is removed (BackupFailed says if that failed too). The newest
    `keep` backups are kept, with the backups they apply on. By default, `keep` and `full_every`
    are the settings PIPELINE_BACKUPS_KEPT and PIPELINE_FULL_BACKUP_EVERY (a week of daily runs).
    """
    keep = keep or int(settings.number(settings.BACKUPS_KEPT))
    full_every = full_every or int(settings.number(settings.FULL_BACKUP_EVERY))
    backup_root.mkdir(parents=True, exist_ok=True)
    target = _free_name(backup_root, run_id)
    partial = backup_root / f".{target.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        partial.mkdir()
        with connect(warehouse) as con:
            manifest = _export(con, backup_root, partial, target.name, run_id, full_every, warehouse.parent)
        manifest["files"] = {path.name: file_sha256(path) for path in sorted(partial.iterdir())}
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    except Exception as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise BackupFailed(f"{type(error).__name__}: {error}", partial, not partial.exists()) from error
    partial.rename(target)
    _prune(backup_root, keep)
    return target


def _free_name(root: Path, run_id: str) -> Path:
    """backup_root/<run id>, or <run id>.2, .3... for a run id used again: a backup is never
    replaced, since later ones may apply on it."""
    target, number = root / run_id, 1
    while target.exists():
        number += 1
        target = root / f"{run_id}.{number}"
    return target


def _export(
    con: duckdb.DuckDBPyConnection, root: Path, folder: Path, name: str, run_id: str, full_every: int, data_dir: Path
) -> dict:
    tables = user_tables(con)
    base = _base(con, root, full_every, tables)
    scopes = _changed_scopes(con, base, tables) if base is not None else None
    kind = "incremental" if scopes is not None else "full"
    created_at = dt.datetime.now(dt.UTC).isoformat()
    row = pd.DataFrame(
        [{"backup": name, "kind": kind, "base": base["name"] if scopes else None, "created_at": created_at}]
    )
    with transaction(con, {"incoming_backup": row}):
        con.execute(sql_text("ops/backups.sql"))
        run_data_tests(con, None, ["ops/backups.sql"], partitions_only=True)
    tables = user_tables(con)  # with ops.backups, which the first backup creates
    manifest = {"name": name, "run_id": run_id, "created_at": created_at, "kind": kind, "tables": list(tables)}
    if scopes is None:
        con.execute(f"EXPORT DATABASE '{quoted_path(folder)}' (FORMAT parquet)")
        manifest["rows"] = {table: _count(con, table, "TRUE", []) for table in tables}
        manifest["bodies"] = mirror_bodies(con, tables, "TRUE", [], root, data_dir)
        return manifest
    manifest.update(base=base["name"], chain_length=base["chain_length"] + 1, partitions={})
    for table in tables:
        where, args = scopes.get(table, ("TRUE", []))
        file = folder / f"{table}.parquet"
        [(rows,)] = con.execute(
            f"COPY (SELECT * FROM {table} WHERE {where}) TO '{quoted_path(file)}' (FORMAT parquet)", args
        ).fetchall()
        manifest["partitions"][table] = {"where": where, "args": args, "rows": rows, "file": file.name}
    manifest["bodies"] = mirror_bodies(con, tables, *scopes.get("raw.responses", ("FALSE", [])), root, data_dir)
    return manifest


def mirror_bodies(
    con: duckdb.DuckDBPyConnection, tables: tuple[str, ...], where: str, args: list, root: Path, data_dir: Path
) -> dict:
    """Copy the landed bodies that raw.responses records (those `where` selects) to root/raw/...,
    the backups' mirror of data/raw: bodies never change, so each is copied once, and the mirror
    is never pruned. A body already gone from the data folder (a warehouse file copied without its
    data/raw) cannot be copied: it is counted in the manifest and logged, and the backup goes on."""
    found = {"copied": 0, "bytes": 0, "missing": 0, "missing_examples": []}
    if "raw.responses" not in tables or not _has_column(con, "raw.responses", "body_file"):
        return found
    for body_file, size in con.execute(
        f"SELECT body_file, body_bytes FROM raw.responses WHERE {where}", args
    ).fetchall():
        mirror = root / body_file
        if mirror.is_file() and mirror.stat().st_size == size:
            continue
        source = data_dir / body_file
        if not source.is_file():
            found["missing"] += 1
            if len(found["missing_examples"]) < 3:
                found["missing_examples"].append(body_file)
            continue
        copy_whole(source, mirror)
        found["copied"] += 1
        found["bytes"] += size
    if found["missing"]:
        log.warning(
            "%d landed bodies that raw.responses records are missing from %s and from the mirror, e.g. %s",
            found["missing"],
            data_dir,
            ", ".join(found["missing_examples"]),
        )
    return found


def restore_bodies(warehouse: Path, root: Path, data_dir: Path) -> tuple[int, list[str]]:
    """Put back into data_dir every body the restored warehouse records and the data folder lacks,
    from the backups' mirror, each checked against its SHA-256. Returns the bodies put back, and
    those the mirror could not give (absent, or not matching their digest), which are left out."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        if "raw.responses" not in user_tables(con) or not _has_column(con, "raw.responses", "body_file"):
            return 0, []
        rows = con.execute("SELECT DISTINCT body_file, body_bytes, body_sha256 FROM raw.responses").fetchall()
    finally:
        con.close()
    restored, unavailable = 0, []
    for body_file, size, digest in rows:
        target = data_dir / body_file
        if target.is_file() and target.stat().st_size == size:
            continue
        mirror = root / body_file
        if not mirror.is_file() or file_sha256(mirror) != digest:
            unavailable.append(body_file)
            continue
        copy_whole(mirror, target)
        restored += 1
    return restored, unavailable


def _base(con: duckdb.DuckDBPyConnection, root: Path, full_every: int, tables: tuple[str, ...]) -> dict | None:
    """The manifest of the warehouse's last backup, when the next one can be incremental on it."""
    if "ops.backups" not in tables:
        return None  # a warehouse never backed up, or backed up before ops.backups existed
    last = con.execute("SELECT backup FROM ops.backups ORDER BY created_at DESC LIMIT 1").fetchall()
    if not last:
        return None
    try:
        manifest = read_manifest(root / last[0][0])
    except (OSError, ValueError):
        return None  # gone, or not whole: nothing to apply on
    manifest.setdefault("name", last[0][0])
    if manifest.get("kind", "full") == "full":
        manifest["chain_length"] = 0
    if manifest["chain_length"] + 1 >= full_every or manifest["tables"] != list(tables):
        return None
    return manifest


def _changed_scopes(
    con: duckdb.DuckDBPyConnection, base: dict, tables: tuple[str, ...]
) -> dict[str, tuple[str, list]] | None:
    """Each table's partitions written since the base was made, as a WHERE clause and its arguments;
    None when a run since then left no run log saying what it wrote (then the backup is full)."""
    since = con.execute("SELECT created_at FROM ops.backups WHERE backup = ?", [base["name"]]).fetchall()
    if not since:
        return None
    runs = con.execute(
        " UNION ".join(
            f"SELECT run_id FROM {table} WHERE {column} >= ?"
            for table, column in (("raw.responses", "landed_at"), ("ops.run_log", "ended_at"))
            if table in tables
        )
        or "SELECT NULL WHERE FALSE",
        [since[0][0]] * len({"raw.responses", "ops.run_log"} & set(tables)),
    ).fetchall()
    run_ids = sorted(run_id for (run_id,) in runs)
    logged = (
        dict(
            con.execute(
                "SELECT run_id, parameters FROM ops.run_log WHERE run_id IN (SELECT unnest(?))", [run_ids]
            ).fetchall()
        )
        if run_ids and "ops.run_log" in tables
        else {}
    )
    if set(run_ids) - set(logged):
        return None
    logged_parameters = {run_id: json.loads(logged[run_id]) for run_id in run_ids}
    runs_parameters = [_parameters(logged_parameters[run_id], run_id) for run_id in run_ids]
    runs_lookback = [_sales_lookback(logged_parameters[run_id]) for run_id in run_ids]
    scopes = {}
    for table in tables:
        if table in DAY_TABLES:
            clauses = [run_scope(table, params) for params in runs_parameters]
            scopes[table] = (
                " OR ".join(f"({where})" for where, _ in clauses) or "FALSE",
                [_json_value(arg) for _, args in clauses for arg in args],
            )
        elif table in SALES_SCOPES:
            column, reads_lookback = SALES_SCOPES[table]
            clauses = [
                (p.start_date - dt.timedelta(days=lookback if reads_lookback else 0), p.end_date)
                for p, lookback in zip(runs_parameters, runs_lookback, strict=True)
                if lookback is not None
            ]
            scopes[table] = (
                " OR ".join(f"({column} BETWEEN ? AND ?)" for _ in clauses) or "FALSE",
                [_json_value(day) for clause in clauses for day in clause],
            )
        elif _has_column(con, table, "run_id"):
            scopes[table] = ("run_id IN (SELECT unnest(CAST(? AS VARCHAR[])))", [run_ids])
    return scopes


def _parameters(logged: dict, run_id: str) -> RunParameters:
    return RunParameters(
        dt.date.fromisoformat(logged["start_date"]),
        dt.date.fromisoformat(logged["end_date"]),
        logged["category"],
        logged["source"],
        run_id,
    )


def _sales_lookback(logged: dict) -> int | None:
    """The lookback days of a logged run's sales; None when it left the sales out. A run logged
    before the run log kept the sales parameters may have read the longest lookback."""
    if "sales" not in logged:
        return MAX_LOOKBACK_DAYS
    return int(logged["sales_lookback_days"]) if logged["sales"] else None


def _json_value(value):
    return value.isoformat() if isinstance(value, dt.date) else value


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    schema, name = table.split(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
            "AND column_name = ?",
            [schema, name, column],
        ).fetchall()[0][0]
    )


def _count(con: duckdb.DuckDBPyConnection, table: str, where: str, args: list) -> int:
    return con.execute(f"SELECT count(*) FROM {table} WHERE {where}", args).fetchall()[0][0]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _prune(root: Path, keep: int) -> None:
    """Remove backups beyond the newest `keep`, except those a kept backup applies on."""
    backups = find_backups(root)
    needed = set()
    for backup in backups[-keep:]:
        needed |= {piece.name for piece in backup_chain(backup, check_files=False)}
    for backup in backups:
        if backup.name not in needed:
            shutil.rmtree(backup)


def read_manifest(backup: Path) -> dict:
    """A backup's manifest; a folder without one is not a whole backup made by this pipeline."""
    path = backup / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{backup} has no {MANIFEST}: it is not a complete backup made by this pipeline")
    return json.loads(path.read_text(encoding="utf-8"))


def find_backups(backup_root: Path) -> list[Path]:
    """The whole backups under backup_root (those with a manifest), oldest first."""
    if not backup_root.is_dir():
        return []
    found = []
    for folder in backup_root.iterdir():
        if folder.is_dir() and not folder.name.startswith(".") and (folder / MANIFEST).is_file():
            try:
                found.append((read_manifest(folder)["created_at"], folder.name, folder))
            except (OSError, ValueError, KeyError):
                continue  # an unreadable manifest: not a backup to restore
    return [folder for _, _, folder in sorted(found)]


def backup_chain(backup: Path, check_files: bool = True) -> list[Path]:
    """The backups a restore of `backup` applies, full one first; with check_files, each file's
    SHA-256 checked against its manifest. Raises BackupDamaged when a piece is missing or damaged."""
    chain = [backup]
    while (manifest := read_manifest(chain[0])).get("kind", "full") == "incremental":
        base = chain[0].parent / manifest["base"]
        if not (base / MANIFEST).is_file():
            raise BackupDamaged(
                f"{chain[0].name} is incremental on {manifest['base']}, which is missing from {base.parent}"
            )
        chain.insert(0, base)
    if check_files:
        for piece in chain:
            for name, expected in read_manifest(piece).get("files", {}).items():
                path = piece / name
                found = file_sha256(path) if path.is_file() else "missing"
                if found != expected:
                    raise BackupDamaged(
                        f"the backup is damaged: {piece.name}/{name} has SHA-256 {found[:16]}...,\n"
                        f"not {expected[:16]}... recorded when it was made"
                    )
    return chain


def restore_backup(backup: Path, warehouse: Path) -> Path:
    """Rebuild a warehouse file from a backup: its full backup imported, then each incremental one
    applied in order (its partitions deleted, its rows inserted). Every file is checked first, and
    every table's rows after; the file must not exist."""
    if warehouse.exists():
        raise FileExistsError(f"{warehouse} exists; restore into a new file, then swap it in")
    full, *increments = backup_chain(backup)
    con = duckdb.connect(str(warehouse), config=duckdb_config())
    try:
        con.execute(f"IMPORT DATABASE '{quoted_path(full)}'")
        expected = read_manifest(full).get("rows", {})
        _check_rows(con, full, {table: ("TRUE", [], rows) for table, rows in expected.items()})
        for piece in increments:
            partitions = read_manifest(piece)["partitions"]
            con.execute("BEGIN TRANSACTION")
            for table, part in partitions.items():
                con.execute(f"DELETE FROM {table} WHERE {part['where']}", part["args"])
                con.execute(
                    f"INSERT INTO {table} BY NAME SELECT * FROM read_parquet('{quoted_path(piece / part['file'])}')"
                )
            _check_rows(con, piece, {t: (p["where"], p["args"], p["rows"]) for t, p in partitions.items()})
            con.execute("COMMIT")
        con.execute("CHECKPOINT")  # everything in the file itself, no WAL left beside it
    finally:
        con.close()
    return warehouse


def _check_rows(con: duckdb.DuckDBPyConnection, piece: Path, expected: dict[str, tuple[str, list, int]]) -> None:
    for table, (where, args, rows) in expected.items():
        found = _count(con, table, where, args)
        if found != rows:
            raise BackupDamaged(
                f"the backup is damaged: {piece.name} restores {found} rows of {table}, not the {rows} recorded"
            )
