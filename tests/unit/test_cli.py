"""The command line as a person sees it (cli): help written for them, errors naming the options
they typed, the progress chosen from stderr and --quiet, a clear stop outside the checkout.
In-process, without running the pipeline."""

from __future__ import annotations

import io

import pytest

from pricing_pipeline import cli
from pricing_pipeline.common import paths


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


# ---------------------------------------------------------------- progress


@pytest.mark.parametrize(
    ("options", "terminal", "bars", "shown"),
    [
        ([], False, False, True),
        ([], True, True, True),
        (["--quiet"], True, False, False),
        (["-q"], False, False, False),
    ],
)
def test_the_command_line_chooses_the_progress_from_stderr_and_quiet(monkeypatch, options, terminal, bars, shown):
    chosen = {}

    def run_pipeline(params, data_dir, *args, progress, **kwargs):
        chosen["progress"] = progress
        raise cli.PipelineFailed(cli.FailureReport("stopped by the test", "unchanged", "nothing"))

    stderr = Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(cli, "run_pipeline", run_pipeline)
    monkeypatch.setattr("sys.stderr", stderr)
    assert cli.main(["run", "--date", "2024-02-13", "--source", "offline", "--run-id", "r", *options]) == 1
    progress = chosen["progress"]
    assert progress.bars is bars and (progress.stream is stderr) is shown


# ---------------------------------------------------------------- help


def test_help_is_written_for_the_user(capsys):
    for command in ([], ["run"], ["restore"]):
        with pytest.raises(SystemExit) as exit_:
            cli.main([*command, "--help"])
        assert exit_.value.code == 0
        text = capsys.readouterr().out
        assert "examples:" in text and "exit status:" in text
        assert "the only place that prints" not in text  # the module's developer notes stay out
        assert all(len(line) < 80 for line in text.splitlines() if not line.startswith(" " * 24)), text
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    assert "-q, --quiet" in capsys.readouterr().out


# ---------------------------------------------------------------- errors name the options typed


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--date", "2024-13-01"], "--date='2024-13-01' is not a calendar date"),
        (["--start", "12/02/2024"], "--start='12/02/2024' is not a calendar date"),
        (["--start", "2024-02-12", "--end", "2024-02-31"], "--end='2024-02-31' is not a calendar date"),
        (["--start", "2024-02-13", "--end", "2024-02-12"], "--end=2024-02-12 is before --start=2024-02-13"),
        (["--date", "1998-12-31"], "--date=1998-12-31 is before 1999-01-04"),
        (["--date", "2024-02-13", "--category", "shoes"], "--category 'shoes' is unknown; accepted:"),
        (["--date", "2024-02-13", "--category", " "], "--category is empty"),
        (["--date", "2024-02-13", "--run-id", "a/b"], "--run-id='a/b' is not usable as a folder name"),
    ],
)
def test_an_error_names_the_option_the_user_typed(capsys, options, message):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "--source", "offline", *options])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "_date" not in err and "run_id" not in err


# ---------------------------------------------------------------- installed away from the checkout


def test_the_command_line_stops_at_once_outside_a_checkout(tmp_path, monkeypatch, capsys):
    site_packages = tmp_path / "lib" / "python3.11" / "site-packages"
    monkeypatch.setattr(paths, "PROJECT_ROOT", site_packages)
    monkeypatch.setattr(cli, "run_pipeline", lambda *args, **kwargs: pytest.fail("the run started"))
    for command in (["run", "--date", "2024-02-13", "--source", "offline"], ["restore"]):
        with pytest.raises(SystemExit) as exit_:
            cli.main(command)
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith("pricing-pipeline: pricing_pipeline is installed outside its project checkout")
        assert str(site_packages) in err and "pip install -e" in err
