"""The run's CSVs (transform.outputs): a file that fails half way is not left behind, and an incomplete
set of outputs is not published.
"""

from __future__ import annotations

import errno
from pathlib import Path

import duckdb
import pytest

from pricing_pipeline.transform import outputs


def test_a_csv_that_fails_half_way_leaves_no_file(tmp_path, monkeypatch):
    target = tmp_path / "out" / "products_eur.csv"

    def disk_full(self, *args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "replace", disk_full)
    con = duckdb.connect()
    with pytest.raises(OSError):
        outputs.export_csv(con, "SELECT 1 AS a", [], target)
    con.close()
    assert list(target.parent.iterdir()) == []


def test_publishing_refuses_an_incomplete_set_of_outputs(tmp_path):
    run_output = tmp_path / "run"
    run_output.mkdir()
    (run_output / "exchange_rates.csv").write_text("rate_date\n", encoding="utf-8")
    with pytest.raises(FileNotFoundError, match=r"products_eur\.csv"):
        outputs.publish_outputs(run_output, tmp_path / "published")
    assert not (tmp_path / "published").exists()
