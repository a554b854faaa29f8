"""Executes notebooks with papermill, each in a kernel started ahead, and renders each executed
notebook as HTML: the run's record under data/runs/<run id>/.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pricing_pipeline.common.errors import RunFailed
from pricing_pipeline.common.paths import PROJECT_ROOT
from pricing_pipeline.runner.progress import SILENT, Progress

NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
DEFAULT_CELL_TIMEOUT = 600


@functools.lru_cache(maxsize=1)
def _html_exporter():
    """One exporter for every notebook of a run: its templates are compiled once, not per notebook
    (compiling them is most of an exporter's cost; the pages are the same)."""
    from nbconvert import HTMLExporter

    return HTMLExporter()


def skip_iri_grammar() -> None:
    """Keep jsonschema from building rfc3987-syntax's grammar in the runner, as it does at import.

    papermill imports nbformat, nbformat imports jsonschema, and jsonschema imports every format
    library it finds installed. jupyterlab's dependencies install rfc3987-syntax, whose import
    compiles a Lark grammar for the iri formats: 1.8 s and 17 MB in every run, for formats that
    nbformat never checks (it validates without a format checker). Marked absent, the library is
    skipped as where it is not installed (a production install without jupyterlab).
    """
    sys.modules.setdefault("rfc3987_syntax", None)


def import_lines(notebook: Path) -> list[str]:
    """The import statements of a notebook's code cells (its parameters cell aside), as written.

    Read as plain JSON: nbformat's import alone takes longer than the kernels take to load these.
    """
    lines = []
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code" or "parameters" in cell.get("metadata", {}).get("tags", []):
            continue
        source = "".join(cell["source"])
        try:
            tree = ast.parse(source)
        except SyntaxError:  # IPython magics: no imports to take from this cell
            continue
        lines += [
            ast.get_source_segment(source, node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
        ]
    return lines


@contextmanager
def started_kernels(notebooks: tuple[str, ...]) -> Iterator[list]:
    """Start every notebook's kernel at once, before the first notebook runs, each loading its
    notebook's libraries at once.

    A kernel takes most of a second to start, and pandas, DuckDB and matplotlib most of another to
    import; started together, the kernels boot and import while the runner loads papermill and
    while the notebooks before theirs run, instead of after. The imports run silently, outside the
    kernel's history: the notebook's own import cell then finds them loaded, and its outputs and
    execution counts are what they would be. Each notebook still gets a fresh kernel of its own,
    started in notebooks/ as papermill would. run_notebooks stops each kernel as soon as its
    notebook is done (a finished kernel holds its memory); any left are stopped here.

    Yields each kernel's manager, with `runner_client` set: the client that sent the imports, by
    which run_notebooks waits for the kernel to answer before papermill connects a client of its
    own (one connected while the kernel still starts can wait for its first answer in vain).
    """
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    kernels = []
    # Kernels talk to the runner over local IPC sockets in a private folder, not over TCP ports.
    sockets = tempfile.TemporaryDirectory(prefix="pricing-kernels-")
    try:
        for number, name in enumerate(notebooks):
            kernel = AsyncKernelManager(
                kernel_name="python3", transport="ipc", ip=os.path.join(sockets.name, f"kernel-{number}")
            )
            try:
                run_sync(kernel.start_kernel)(cwd=str(NOTEBOOKS_DIR))
            except Exception as error:
                raise RunFailed(f"could not start a python3 kernel ({type(error).__name__}: {error})") from error
            kernels.append(kernel)
            # A failing import is left to the notebook's own cell, which reports it.
            client = kernel.client()
            client.start_channels()
            kernel.runner_client = client
            client.execute("\n".join(import_lines(NOTEBOOKS_DIR / name)), silent=True, store_history=False)
        yield kernels
    finally:
        for kernel in kernels:
            if hasattr(kernel, "runner_client"):  # not when its client failed to start
                kernel.runner_client.stop_channels()
            shut_down(kernel)
        sockets.cleanup()


def wait_until_ready(kernel, timeout: float = 60) -> None:
    """Wait for a started kernel to answer its runner client (its imports done, its channels up)."""
    from jupyter_core.utils import run_sync

    try:
        run_sync(kernel.runner_client.wait_for_ready)(timeout=timeout)
    except RuntimeError as error:  # jupyter_client's words: it died, or did not answer in time
        raise RunFailed(f"a python3 kernel did not start: {error}") from error


def shut_down(kernel) -> None:
    """Stop a kernel now (its notebook is done); a kernel already stopped, or killed, is left alone."""
    from jupyter_core.utils import run_sync

    process = _process(kernel)
    if kernel.has_kernel and (process is None or process.poll() is None):
        run_sync(kernel.shutdown_kernel)(now=True)


def _process(kernel):
    """The kernel's process (a Popen), None when it has none."""
    return getattr(kernel.provisioner, "process", None) if kernel.provisioner is not None else None


def kill_now(kernels: list) -> None:
    """Kill every kernel still running, without the event loop: SIGKILL, then reap it."""
    for kernel in kernels:
        process = _process(kernel)
        if process is not None and process.poll() is None:
            process.kill()
            with contextlib.suppress(Exception):
                process.wait(timeout=10)


def render_html(notebook: Path) -> Path:
    """The executed notebook as a page a reviewer opens without Jupyter."""
    import nbformat

    body, _ = _html_exporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    html = notebook.with_suffix(".html")
    html.write_text(body, encoding="utf-8")
    return html


class NotebookFailed(RunFailed):
    """A notebook failed; `notebook` is its executed copy, kept as the run's record (None if none
    was written whole)."""

    def __init__(self, message: str, notebook: Path | None):
        super().__init__(message)
        self.notebook = notebook


def _failure_message(notebook: Path, error: Exception) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(error, PapermillExecutionError):
        where = f"cell {error.cell_index} (execution count {error.exec_count})"
        what = f"{error.ename}: {error.evalue}"
    else:
        where, what = "while papermill ran or saved it", f"{type(error).__name__}: {error}"
    return f"notebook {notebook.name} failed, {where}:\n{what}"


def run_notebooks(
    executed_dir: Path,
    parameters: dict,
    notebooks: tuple[str, ...],
    kernels: list,
    cell_timeout: int,
    log_output: bool,
    on_executed: Callable[[Path], object],
    progress: Progress = SILENT,
) -> None:
    """Execute the notebooks in order, each in its kernel; a failure stops the run with its record.

    on_executed receives each executed notebook, the failed one included; progress shows each
    notebook's execution (a bar on a terminal, a line in a log).
    """
    # Most of the wait before the first notebook (the kernels boot meanwhile): shown, not silent.
    with progress.step("papermill"):
        skip_iri_grammar()
        import papermill

    for name, kernel in zip(notebooks, kernels, strict=False):
        executed = executed_dir / name
        failure = None
        with progress.notebook(f"notebooks/{name}") as progress_bar:
            try:
                wait_until_ready(kernel)
                papermill.execute_notebook(
                    str(NOTEBOOKS_DIR / name),
                    str(executed),
                    parameters=parameters,
                    kernel_name="python3",
                    km=kernel,
                    cwd=str(NOTEBOOKS_DIR),
                    execution_timeout=cell_timeout,
                    progress_bar=progress_bar,
                    log_output=log_output,
                )
            except Exception as error:
                failure = error
            except BaseException:
                # A stop (Ctrl-C, SIGTERM) may cut papermill's event loop short: shutting a kernel
                # down through that loop could wait on it, so every kernel is killed outright.
                kill_now(kernels)
                raise
            finally:
                shut_down(kernel)
            kept = whole_notebook(executed)
            if kept is not None:
                on_executed(kept)
            if failure is not None:
                message = _failure_message(executed, failure)
                if kept is None and executed.with_name(executed.name + ".partial").exists():
                    message += f"\nits executed copy was cut short: kept as {executed.name}.partial"
                raise NotebookFailed(message, kept) from failure


def whole_notebook(path: Path) -> Path | None:
    """The executed notebook if papermill wrote it whole. One cut short (papermill saves it after
    every cell, in place; a full disk stops it half-way) is renamed <name>.partial, so that nothing
    takes it for a record; None then, and when there is none."""
    if not path.exists():
        return None
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            path.replace(path.with_name(path.name + ".partial"))
        return None
    return path
