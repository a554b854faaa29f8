"""A run's progress on stderr (runner.progress): papermill's bar per notebook on a terminal, one
line per step with its duration in a log, nothing when quiet."""

from __future__ import annotations

import io
import re

import pytest

from pricing_pipeline.runner.progress import Progress

STEP_LINE = re.compile(r"^step \S.*: \d+\.\d s$")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


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
