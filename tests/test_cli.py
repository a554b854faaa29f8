"""The command line as a person sees it: help written for them, errors naming their options, the
steps shown on stderr as they happen (bars on a terminal, lines in a log), a clear stop when the
package is installed away from its checkout. In-process, without running the pipeline."""

from __future__ import annotations

import io
import re

import pytest

from pricing_pipeline import cli
from pricing_pipeline.common import paths
from pricing_pipeline.common.parameters import ParameterError, validate_parameters
from pricing_pipeline.runner.progress import Progress

STEP_LINE = re.compile(r"^step \S.*: \d+\.\d s$")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


# ---------------------------------------------------------------- progress


def test_in_a_log_each_step_is_one_line_with_its_duration():
    log = io.StringIO()
    progress = Progress.on(log)
    with progress.notebook("notebooks/01_extract.ipynb") as progress_bar:
        pass
    with progress.step("reconciliation"):
        pass
    assert progress_bar is False  # papermill draws no bar into a log
    lines = log.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["step notebooks/01_extract.ipynb", "step reconciliation"]
    assert all(STEP_LINE.match(line) for line in lines), lines


def test_a_failed_step_says_so_and_lets_the_error_through():
    log = io.StringIO()
    with pytest.raises(OSError, match="disk full"), Progress.on(log).step("backup"):
        raise OSError("disk full")
    assert re.fullmatch(r"step backup: failed after \d+\.\d s\n", log.getvalue())


def test_on_a_terminal_a_notebook_gets_papermills_bar_and_the_other_steps_a_line():
    terminal = Terminal()
    progress = Progress.on(terminal)
    with progress.notebook("notebooks/02_transform.ipynb") as progress_bar:
        pass
    assert progress_bar == {"desc": "notebooks/02_transform.ipynb", "file": terminal, "leave": True}
    assert terminal.getvalue() == ""  # the bar showed its time: no line repeats it
    with progress.step("backup"):
        pass
    assert STEP_LINE.match(terminal.getvalue().strip())


def test_quiet_shows_nothing_even_on_a_terminal():
    terminal = Terminal()
    progress = Progress.on(terminal, quiet=True)
    with progress.notebook("notebooks/01_extract.ipynb") as progress_bar, progress.step("backup"):
        pass
    assert progress_bar is False and terminal.getvalue() == ""


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


def test_the_notebooks_still_see_their_parameters_names():
    with pytest.raises(ParameterError, match=r"^end_date=2024-02-12 is before start_date=2024-02-13; "):
        validate_parameters("2024-02-13", "2024-02-12", "women's clothing", "offline")
    with pytest.raises(ParameterError, match=r"^start_date='2024-13-01' is not a calendar date"):
        validate_parameters("2024-13-01", "", "women's clothing", "offline")
    with pytest.raises(ParameterError, match=r"^category 'shoes' is unknown"):
        validate_parameters("2024-02-13", "", "shoes", "offline")


# ---------------------------------------------------------------- installed away from the checkout


def test_a_checkout_is_where_the_notebooks_are(tmp_path):
    with pytest.raises(paths.NotInCheckout, match=r"pip install -e") as error:
        paths.require_checkout(tmp_path)
    assert str(tmp_path) in str(error.value) and "editable" in str(error.value)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_extract.ipynb").write_text("{}", encoding="utf-8")
    paths.require_checkout(tmp_path)
    paths.require_checkout()  # this checkout


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
