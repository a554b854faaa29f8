"""One run at a time per data folder."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pricing_pipeline.common.errors import RunFailed
from pricing_pipeline.common.paths import relative_to_root


@contextmanager
def exclusive_run(data_dir: Path, action: str = "run") -> Iterator[None]:
    """Hold the data folder's lock for the block; a second run (or a restore: `action`) stops at
    once with a clear message."""
    data_dir.mkdir(parents=True, exist_ok=True)
    lock_path = data_dir / ".pipeline.lock"
    with open(lock_path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            raise RunFailed(
                f"another run is using {relative_to_root(data_dir)}/ ({holder}); wait for it to finish, then {action} again"
            ) from None
        lock.truncate(0)
        lock.write(f"pid {os.getpid()} since {dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}\n")
        lock.flush()
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
