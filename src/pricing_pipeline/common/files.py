"""Files written whole: through a temporary file <name>.partial renamed into place, so that a reader
(or git, or the next run) never sees half a file; a write that fails (a full disk) leaves no
temporary file behind. Every file the pipeline writes whole goes through written_whole."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def written_whole(path: Path) -> Iterator[Path]:
    """The temporary path to write `path`'s content to; renamed to `path` when the block ends, removed
    if it raises."""
    partial = path.with_name(path.name + ".partial")
    try:
        yield partial
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def write_whole(path: Path, data: bytes) -> Path:
    with written_whole(path) as partial:
        partial.write_bytes(data)
    return path


def copy_whole(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with written_whole(target) as partial:
        shutil.copyfile(source, partial)
    return target


def link_whole(source: Path, target: Path) -> Path:
    """`target` as a hard link to `source`, in place at once like any file written whole: no byte
    written (a copy where the file system has no links)."""
    with written_whole(target) as partial:
        partial.unlink(missing_ok=True)
        try:
            os.link(source, partial)
        except OSError:
            shutil.copyfile(source, partial)
    return target
