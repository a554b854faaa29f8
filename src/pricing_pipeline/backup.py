"""Backups of the warehouse: exported as Parquet after each successful run, restorable into a new file."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from . import settings
from .warehouse import connect, quoted_path


def backup_root(data_dir: Path, backup_dir: str = "") -> Path:
    """Where warehouse backups go: --backup-dir, else $PIPELINE_BACKUP_DIR, else <data dir>/backups.

    In production this is another disk or a bucket mount, so that losing the warehouse's disk
    loses nothing.
    """
    chosen = backup_dir or settings.text(settings.BACKUP_DIR)
    return Path(chosen) if chosen else data_dir / "backups"


def export_backup(warehouse: Path, backup_root: Path, run_id: str, keep: int = 7) -> Path:
    """Copy the whole warehouse as Parquet (EXPORT DATABASE) to backup_root/<run_id>/.

    The export goes to a temporary folder renamed when complete, so a backup folder is always
    whole; only the newest `keep` backups are kept.
    """
    backup_root.mkdir(parents=True, exist_ok=True)
    target = backup_root / run_id
    partial = backup_root / f".{run_id}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    with connect(warehouse) as con:
        con.execute(f"EXPORT DATABASE '{quoted_path(partial)}' (FORMAT parquet)")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    backups = sorted(
        (p for p in backup_root.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.stat().st_mtime
    )
    for old in backups[:-keep]:
        shutil.rmtree(old)
    return target


def restore_backup(backup: Path, warehouse: Path) -> Path:
    """Rebuild a warehouse file from a backup folder (IMPORT DATABASE); the file must not exist."""
    if warehouse.exists():
        raise FileExistsError(f"{warehouse} exists; restore into a new file, then swap it in")
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(f"IMPORT DATABASE '{quoted_path(backup)}'")
    finally:
        con.close()
    return warehouse
