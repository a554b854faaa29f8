"""Failures told in a few lines (runner.failure_report), without a pipeline run: through the command
line, in-process, and the record kept where the data folder cannot take it.
"""

from __future__ import annotations

import contextlib
import errno
import tempfile

from pricing_pipeline.common.errors import RunFailed


def test_a_permission_error_is_one_short_message_through_the_cli(tmp_path, monkeypatch, capsys):
    from pricing_pipeline import cli
    from pricing_pipeline.runner import pipeline

    lock_path = tmp_path / "data" / ".pipeline.lock"

    @contextlib.contextmanager
    def denied(data_dir, action="run"):
        raise PermissionError(errno.EACCES, "Permission denied", str(lock_path))
        yield

    monkeypatch.setattr(pipeline, "exclusive_run", denied)
    args = ["run", "--date", "2024-02-13", "--source", "offline", "--data-dir", str(tmp_path / "data")]
    status = cli.main([*args, "--run-id", "denied"])
    err = capsys.readouterr().err
    assert status == 1
    lines = err.strip().splitlines()
    assert lines[0] == "run denied FAILED" and len(lines) <= 10 and "Traceback" not in err
    assert f"could not take the lock of {tmp_path / 'data'}/: Permission denied: {lock_path}" in lines
    assert "warehouse: unchanged: this run did not start" in lines
    assert f"next:      make {lock_path} writable by the user running the pipeline, then run again" in lines
    record = tmp_path / "data" / "runs" / "denied" / "failure.txt"
    assert f"record:    {record}" in lines
    assert "PermissionError" in record.read_text(encoding="utf-8")


def test_a_record_that_cannot_be_written_in_the_data_folder_goes_to_the_temporary_folder(tmp_path, monkeypatch):
    from pricing_pipeline.runner.failure_report import write_failure_text

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the run's folder should be", encoding="utf-8")
    path, detour = write_failure_text("the record\n", blocked / "runs" / "r1", "r1")
    assert path == tmp_path / "tmp" / "pricing-pipeline-failures" / "r1.txt"
    assert path.read_text(encoding="utf-8") == "the record\n"
    assert "could not be written in" in detour and "Not a directory" in detour


def test_a_failure_while_reporting_a_failure_still_tells_the_first_one(tmp_path, monkeypatch, capsys):
    from pricing_pipeline import cli
    from pricing_pipeline.runner import pipeline

    def steps_fail(record, *args):
        record.status = "failed"
        return [pipeline.StepError("notebooks", "the notebooks", RunFailed("notebook 01_extract.ipynb failed: X"))]

    def report_fails(*args):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(pipeline, "_run_steps", steps_fail)
    monkeypatch.setattr(pipeline, "report_failure", report_fails)
    args = ["run", "--date", "2024-02-13", "--source", "offline", "--data-dir", str(tmp_path / "data")]
    assert cli.main([*args, "--run-id", "r"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[:2] == ["run r FAILED", "notebook 01_extract.ipynb failed: X"]
    assert "also:      reporting the failure failed too: Input/output error" in lines
