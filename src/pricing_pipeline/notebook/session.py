"""What every notebook does first: check its parameters and find its folders."""

from __future__ import annotations

from dataclasses import dataclass

from IPython.display import Markdown

from pricing_pipeline.common.parameters import RunParameters, validate_parameters
from pricing_pipeline.common.paths import SQL_DIR, RunPaths, relative_to_root, resolve_data_dir


@dataclass(frozen=True)
class Run:
    params: RunParameters
    paths: RunPaths

    def describe(self) -> str:
        p = self.params
        days = len(p.days)
        return (
            f"run {p.run_id}: {p.category!r}, {p.start_date}..{p.end_date} ({days} day{'s' * (days != 1)}), "
            f"source {p.source}"
        )


def open_run(start_date: str, end_date: str, category: str, source: str, data_dir: str, run_id: str) -> Run:
    """The run of a notebook's parameters cell: takes its values as papermill injects them (text);
    returns the checked parameters and the run's folders, created (raw, interim, output). Raises
    ParameterError, naming the parameter, for a value that cannot be used."""
    params = validate_parameters(start_date, end_date, category, source, run_id)
    return Run(params, RunPaths(resolve_data_dir(data_dir), params.run_id).ensure())


def show_sql(relative_path: str) -> Markdown:
    """A .sql file of the project, displayed as a highlighted block with its path.

    Takes its path relative to src/pricing_pipeline/warehouse/sql/ (e.g. "marts/products_eur.sql");
    returns Markdown, which a notebook cell shows when it is the cell's last value.
    """
    text = (SQL_DIR / relative_path).read_text(encoding="utf-8").rstrip()
    return Markdown(f"`{relative_to_root(SQL_DIR / relative_path)}`\n\n```sql\n{text}\n```")
