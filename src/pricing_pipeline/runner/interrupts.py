"""A stop asked of the runner: Ctrl-C at a terminal (SIGINT) or a scheduler's stop (SIGTERM).

Python turns SIGINT into KeyboardInterrupt and lets SIGTERM end the process at once, before the run
log is written and the kernels are shut down. While a run holds its data folder, SIGTERM is raised
as Terminated instead, so both stops take the same path: the kernels are stopped (an unfinished
load is never committed), the run is logged as interrupted, and the exception goes on up.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class Terminated(BaseException):
    """SIGTERM, raised like KeyboardInterrupt: a BaseException, so no `except Exception` swallows it."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """SIGTERM raises Terminated in the main thread while the block runs (signal handlers can only be
    set there; elsewhere, as in a test calling the runner on a thread, nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def signal_of(interrupt: BaseException) -> signal.Signals | None:
    if isinstance(interrupt, KeyboardInterrupt):
        return signal.SIGINT
    if isinstance(interrupt, Terminated):
        return signal.SIGTERM
    return None


def interruption(interrupt: BaseException) -> str:
    """How the run was stopped, as the run log says it: SIGINT, SIGTERM, or the exception's name."""
    stop = signal_of(interrupt)
    return stop.name if stop is not None else type(interrupt).__name__
