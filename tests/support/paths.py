"""The project's folders, as the tests find them."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = PROJECT_ROOT / "data" / "recorded"
RUNNER = PROJECT_ROOT / "scripts" / "run_pipeline.py"
