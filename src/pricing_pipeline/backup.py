"""Backups of the warehouse: exported as Parquet after each successful run, restorable into a new file.

A backup is a folder <backup dir>/<run id>/ holding DuckDB's EXPORT DATABASE and backup.json, its
manifest: when it was made, by which run, its tables and their content hash. The manifest is written
last and the folder renamed into place only when whole, so a folder with a manifest is a whole
backup; a failed export is removed.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb

from . import settings
from .warehouse import connect, content_hash, quoted_path, user_tables

MANIFEST = "backup.json"


class BackupFailed(RuntimeError):
    """The export failed; says whether its partial folder was removed."""

    def __init__(self, message: str, partial: Path, partial_removed: bool):
        super().__init__(message)
        self.partial = partial
        self.partial_removed = partial_removed


def backup_root(data_dir: Path, backup_dir: str = "") -> Path:
    """Where warehouse backups go: --backup-dir, else $PIPELINE_BACKUP_DIR, else <data dir>/backups.

    In production this is another disk or a bucket mount, so that losing the warehouse's disk
    loses nothing.
    """
    chosen = backup_dir or settings.text(settings.BACKUP_DIR)
    return Path(chosen) if chosen else data_dir / "backups"


def export_backup(warehouse: Path, backup_root: Path, run_id: str, keep: int = 7) -> Path:
    """Copy the whole warehouse as Parquet (EXPORT DATABASE) to backup_root/<run_id>/, with its manifest.

    The export goes to a temporary folder renamed when complete, so a backup folder is always
    whole; a failed export's folder is removed (BackupFailed says if that failed too). Only the
    newest `keep` backups are kept.
    """
    backup_root.mkdir(parents=True, exist_ok=True)
    target = backup_root / run_id
    partial = backup_root / f".{run_id}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        with connect(warehouse) as con:
            tables = user_tables(con)
            manifest = {
                "run_id": run_id,
                "created_at": dt.datetime.now(dt.UTC).isoformat(),
                "tables": list(tables),
                "content_hash": content_hash(con, tables),
            }
            con.execute(f"EXPORT DATABASE '{quoted_path(partial)}' (FORMAT parquet)")
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    except Exception as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise BackupFailed(f"{type(error).__name__}: {error}", partial, not partial.exists()) from error
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    backups = sorted(
        (p for p in backup_root.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.stat().st_mtime
    )
    for old in backups[:-keep]:
        shutil.rmtree(old)
    return target


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


def restore_backup(backup: Path, warehouse: Path) -> Path:
    """Rebuild a warehouse file from a backup folder (IMPORT DATABASE); the file must not exist."""
    if warehouse.exists():
        raise FileExistsError(f"{warehouse} exists; restore into a new file, then swap it in")
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(f"IMPORT DATABASE '{quoted_path(backup)}'")
        con.execute("CHECKPOINT")  # everything in the file itself, no WAL left beside it
    finally:
        con.close()
    return warehouse
