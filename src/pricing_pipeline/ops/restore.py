"""Restoring the warehouse from a backup: `pricing-pipeline restore`.

The backup is imported into a new file beside the warehouse and checked against the content hash
its manifest recorded; only then is the current file (damaged, or simply replaced) renamed aside,
never deleted, and the new one renamed into place. A run holding the data folder's lock makes the
restore wait its turn: it refuses at once.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pricing_pipeline.common.errors import FailureReport, PipelineFailed, RunFailed, short, summary
from pricing_pipeline.common.lock import exclusive_run
from pricing_pipeline.common.paths import relative_to_root
from pricing_pipeline.ops.backups import (
    BackupDamaged,
    backup_chain,
    backup_root,
    find_backups,
    read_manifest,
    restore_backup,
    restore_bodies,
)
from pricing_pipeline.warehouse.connection import content_hash

log = logging.getLogger(__name__)


@dataclass
class Restored:
    backup: Path
    warehouse: Path
    content_hash: str
    made_by: str  # the run that made the backup
    made_at: str
    applied: list[Path]  # the backups applied: the full one, then each incremental one
    bodies: int  # landed bodies put back into data/raw from the backups' mirror
    bodies_unavailable: list[str]  # bodies the data folder lacks that the mirror could not give
    kept_aside: list[Path]  # the files that were in place before, renamed


def choose_backup(root: Path, chosen: str = "") -> Path:
    """The backup named (a folder, or a name under root), else the newest whole one under root."""
    if chosen:
        backup = Path(chosen) if Path(chosen).is_dir() else root / chosen
        if not backup.is_dir():
            raise FileNotFoundError(f"no backup folder {chosen} (nor {backup})")
        read_manifest(backup)  # raises if it is not a whole backup
        return backup
    backups = find_backups(root)
    if not backups:
        raise FileNotFoundError(f"no backup in {root} (a backup is a folder with a backup.json)")
    return backups[-1]


def restore_warehouse(data_dir: Path, backup_dir: str = "", chosen: str = "") -> Restored:
    """Restore a backup into data_dir/warehouse.duckdb; raises PipelineFailed with a report."""
    warehouse = data_dir / "warehouse.duckdb"
    unchanged = f"unchanged: {relative_to_root(warehouse)} is as it was"
    try:
        with exclusive_run(data_dir, action="restore"):
            return _restore(data_dir, warehouse, backup_root(data_dir, backup_dir), chosen)
    except RunFailed as error:  # another run holds the lock
        raise PipelineFailed(
            FailureReport(str(error), unchanged, "wait for the run to finish, then restore again")
        ) from error
    except PipelineFailed:
        raise
    except Exception as error:
        log.debug("restore failed", exc_info=True)
        root = relative_to_root(backup_root(data_dir, backup_dir))
        if isinstance(error, BackupDamaged):
            then = f"restore an older backup of {root}/ with --from NAME"
        elif isinstance(error, FileNotFoundError):
            then = f"name a backup with --from (a folder, or a name in {root}/), or point --backup-dir at the backups"
        else:
            then = "fix the cause, then restore again"
        raise PipelineFailed(FailureReport(f"restore failed: {short(summary(error), 3)}", unchanged, then)) from error


def _restore(data_dir: Path, warehouse: Path, root: Path, chosen: str) -> Restored:
    """The restore itself: the warehouse into a new file, the landed bodies it records that the data
    folder lacks, then the swap."""
    backup = choose_backup(root, chosen)
    manifest = read_manifest(backup)
    incoming = data_dir / "warehouse.duckdb.restoring"
    for leftover in (incoming, incoming.with_name(incoming.name + ".wal")):
        leftover.unlink(missing_ok=True)  # an earlier restore that stopped half-way
    try:
        restore_backup(backup, incoming)
        bodies, bodies_unavailable = restore_bodies(incoming, root, data_dir)
        con = duckdb.connect(str(incoming), read_only=True)
        try:
            digest = content_hash(con, tuple(manifest["tables"]))
        finally:
            con.close()
        # Backups made before file digests recorded the content hash instead.
        if "content_hash" in manifest and digest != manifest["content_hash"]:
            raise BackupDamaged(
                f"the backup is damaged: {relative_to_root(backup)} restores to content hash {digest[:16]}...,\n"
                f"not {manifest['content_hash'][:16]}... recorded when it was made"
            )
    except BaseException:
        incoming.unlink(missing_ok=True)  # never leave a half-restored file beside the warehouse
        raise
    stamp = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
    kept = []
    # The WAL goes with its file: left beside the restored one, DuckDB would replay it into it.
    for current in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        if current.exists():
            aside = current.with_name(
                current.name.replace("warehouse.duckdb", f"warehouse.duckdb.before-restore-{stamp}")
            )
            current.rename(aside)
            kept.append(aside)
    incoming.rename(warehouse)
    applied = backup_chain(backup, check_files=False)
    return Restored(
        backup, warehouse, digest, manifest["run_id"], manifest["created_at"], applied, bodies, bodies_unavailable, kept
    )
