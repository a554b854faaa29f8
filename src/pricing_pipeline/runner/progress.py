"""What a run shows while it runs, on stderr; stdout keeps the summary that scripts read.

On a terminal each notebook has papermill's progress bar (one tick per cell), and each other step a
line when it ends. In a log (stderr is no terminal: a scheduler, a pipe) every step is one line with
its duration:

  step notebooks/01_extract.ipynb: 3.2 s
  step reconciliation: 0.4 s
  step notebooks/02_transform.ipynb: failed after 1.9 s

The bars and lines are the runner's own: the notebooks' outputs and the deliverables never see them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO


@dataclass(frozen=True)
class Progress:
    """Where a run's progress goes: nowhere (stream None, the default for callers other than the
    command line: tests, the benchmark), lines, or lines and a bar per notebook."""

    stream: TextIO | None = None
    bars: bool = False

    @classmethod
    def on(cls, stream: TextIO, quiet: bool = False) -> Progress:
        """Bars when the stream is a terminal, lines when it is a log; nothing when quiet."""
        if quiet:
            return cls()
        return cls(stream, bars=stream.isatty())

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Times a step and says when it ends, or that it failed."""
        with self._timed(name, shown_by_bar=False):
            yield

    @contextmanager
    def notebook(self, name: str) -> Iterator[bool | dict]:
        """Times a notebook's execution; yields papermill's progress_bar argument. A bar shows its
        own elapsed time, so a notebook with a bar gets a line only when it fails."""
        bar = {"desc": name, "file": self.stream, "leave": True} if self.bars and self.stream else False
        with self._timed(name, shown_by_bar=bool(bar)):
            yield bar

    @contextmanager
    def _timed(self, name: str, shown_by_bar: bool) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        except Exception:
            self._line(f"step {name}: failed after {time.perf_counter() - started:.1f} s")
            raise
        except BaseException:  # Ctrl-C, a scheduler's stop
            self._line(f"step {name}: interrupted after {time.perf_counter() - started:.1f} s")
            raise
        if not shown_by_bar:
            self._line(f"step {name}: {time.perf_counter() - started:.1f} s")

    def _line(self, text: str) -> None:
        if self.stream is not None:
            print(text, file=self.stream, flush=True)


SILENT = Progress()
