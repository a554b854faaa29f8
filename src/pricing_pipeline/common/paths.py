"""Every path of the project, resolved from the project root and never from the working directory.

Papermill starts the kernel in the launch directory and nbval in the notebook's folder, so a
relative path would mean different things under the two; these do not.
"""

from __future__ import annotations

from pathlib import Path

from pricing_pipeline.common import settings

PROJECT_ROOT = Path(__file__).resolve().parents[3]
SQL_DIR = Path(__file__).resolve().parents[1] / "warehouse" / "sql"
# Recorded API responses ship with the code: they are inputs, not run products.
RECORDINGS_DIR = PROJECT_ROOT / "data" / "recorded"


class NotInCheckout(RuntimeError):
    """The package is installed away from its checkout, so it cannot find its notebooks and data."""


def require_checkout(root: Path | None = None) -> None:
    """Raise NotInCheckout unless the package sits in the project's checkout.

    The notebooks, the recorded responses and the data folder are the checkout's, not the
    package's: a plain `pip install .` copies the code alone into site-packages, where PROJECT_ROOT
    points at nothing. Stopping here says so at once, instead of failing in the middle of a run.
    """
    root = root or PROJECT_ROOT
    if not (root / "notebooks" / "01_extract.ipynb").is_file():
        raise NotInCheckout(
            f"pricing_pipeline is installed outside its project checkout (it found no notebooks/01_extract.ipynb "
            f"under {root}). It runs the checkout's notebooks on the checkout's data folder, so install it from the "
            "checkout in editable mode: `make` in the project folder (it creates .venv), or `pip install -e <checkout>`."
        )


def resolve_data_dir(data_dir: str = "") -> Path:
    """The folder a run writes to: the parameter if set, else $PIPELINE_DATA_DIR, else data/.

    Takes the notebook's data_dir parameter, or the command line's --data-dir (text, empty for the
    default); returns an absolute path, a relative value being taken from the project root.
    """
    chosen = data_dir or settings.text(settings.DATA_DIR, "data")
    path = Path(chosen)
    return path if path.is_absolute() else PROJECT_ROOT / path


def relative_to_root(path: Path) -> str:
    """A path as a reader of the notebook should see it: relative to the project when it can be."""
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


class RunPaths:
    """Where one run reads and writes, below its data folder."""

    def __init__(self, data_dir: Path, run_id: str):
        self.data_dir = data_dir
        self.run_id = run_id
        self.raw = data_dir / "raw" / run_id
        self.interim = data_dir / "interim" / run_id
        self.record = data_dir / "runs" / run_id  # the executed notebooks and their HTML
        # The run's deliverables: in its own folder, never in the committed data/output/ (which only
        # `make run` refreshes, with --publish-outputs), so a scheduled run changes no tracked file.
        self.output = self.record / "output"
        self.warehouse = data_dir / "warehouse.duckdb"

    def ensure(self) -> RunPaths:
        for folder in (self.raw, self.interim, self.output):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def backup_root(data_dir: Path, backup_dir: str = "") -> Path:
    """Where warehouse backups go: --backup-dir, else $PIPELINE_BACKUP_DIR, else <data dir>/backups.

    In production this is another disk or a bucket mount, so that losing the warehouse's disk
    loses nothing.
    """
    chosen = backup_dir or settings.text(settings.BACKUP_DIR)
    return Path(chosen) if chosen else data_dir / "backups"
