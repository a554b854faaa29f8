"""How a run fails: one exception type whose message says what failed, where and what to do."""

from __future__ import annotations


class RunFailed(RuntimeError):
    """A step of the run failed; the message says which, where, why, and where its record is."""
