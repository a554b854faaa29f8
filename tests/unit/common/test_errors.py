"""The failure vocabulary (common.errors): the cause read from an error or its text, along its chain,
and the short text a failure is told in."""

from __future__ import annotations

import errno

import duckdb
import pytest

from pricing_pipeline.common.errors import DAMAGED, DISK_FULL, NOT_WRITABLE, RunFailed, cause_of, short


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), DISK_FULL),
        (PermissionError(errno.EACCES, "Permission denied", "/x/data/runs"), NOT_WRITABLE),
        (OSError(errno.EROFS, "Read-only file system"), NOT_WRITABLE),
        # DuckDB's IOException and a notebook's error carry the cause as text only.
        (duckdb.IOException('Could not write file "x": No space left on device'), DISK_FULL),
        (
            RunFailed("notebook 01_extract.ipynb failed, cell 6:\nIOException: ... not a valid DuckDB database file!"),
            DAMAGED,
        ),
        (ValueError("something else"), None),
    ],
    ids=["enospc", "eacces", "erofs", "duckdb-disk-full", "notebook-damaged", "other"],
)
def test_cause_is_read_from_errno_or_text(error, cause):
    assert cause_of(error) == cause


def test_cause_is_found_along_the_chain():
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("writing failed") from inner
    except RuntimeError as outer:
        assert cause_of(outer) == DISK_FULL


def test_short_keeps_a_few_lines_and_says_where_the_rest_is():
    text = "\n".join(f"line {i}" for i in range(20)) + "\n" + "x" * 1000
    kept = short(text, lines=3).splitlines()
    assert kept == ["line 0", "line 1", "line 2", "... (18 more lines in the record)"]
    assert len(short("y" * 1000)) == 300
