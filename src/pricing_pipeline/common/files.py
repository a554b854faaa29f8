"""Files written whole: through a temporary file <name>.partial renamed into place, so that a reader
(or git, or the next run) never sees half a file; a write that fails (a full disk) leaves no
temporary file behind."""

from __future__ import annotations

import shutil
from pathlib import Path


def write_whole(path: Path, data: bytes) -> Path:
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_bytes(data)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def copy_whole(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        shutil.copyfile(source, partial)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target
