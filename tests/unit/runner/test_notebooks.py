"""The notebooks as the runner starts them (runner.notebooks): the imports a kernel runs ahead."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import nbformat

from pricing_pipeline.runner.notebooks import NOTEBOOKS_DIR, import_lines
from pricing_pipeline.runner.pipeline import NOTEBOOKS


def test_kernels_load_exactly_their_notebooks_import_statements():
    """The imports a kernel runs ahead (runner.notebooks.import_lines, read as plain JSON) are those
    nbformat and ast find in the notebook's code cells, parameters cell aside."""
    for name in NOTEBOOKS:
        expected = []
        for cell in nbformat.read(NOTEBOOKS_DIR / name, as_version=4).cells:
            if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", []):
                for node in ast.parse(cell.source).body:
                    if isinstance(node, (ast.Import, ast.ImportFrom)):
                        expected.append(ast.unparse(node))
        assert expected, name
        assert [ast.unparse(ast.parse(line)) for line in import_lines(NOTEBOOKS_DIR / name)] == expected


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running code (what a runner or kernel loads)."""
    script = code + "\nimport sys, json; print(json.dumps([n for n, m in sys.modules.items() if m is not None]))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=NOTEBOOKS_DIR
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_the_runner_loads_papermill_without_the_iri_grammar_and_nbformat_still_validates():
    loaded = _modules_after(
        "from pricing_pipeline.runner.notebooks import skip_iri_grammar\n"
        "skip_iri_grammar()\n"
        "import papermill, nbformat\n"
        "good = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('1')])\n"
        "nbformat.validate(good)\n"
        "good.cells[0]['cell_type'] = 'no such type'\n"
        "try:\n"
        "    nbformat.validate(good)\n"
        "except nbformat.ValidationError:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('an invalid notebook was accepted')\n"
    )
    assert "papermill" in loaded and "jsonschema" in loaded
    assert "rfc3987_syntax" not in loaded and "lark" not in loaded


def test_the_transform_kernel_does_not_load_the_http_client():
    """Kernel 02 never asks a source anything: its imports leave requests out (the extract package
    imports its names when first used)."""
    loaded = _modules_after("\n".join(import_lines(NOTEBOOKS_DIR / "02_transform.ipynb")))
    assert "pricing_pipeline.transform" in loaded
    assert "requests" not in loaded and "pricing_pipeline.extract.http" not in loaded
    # The extract notebook's imports still bring it: its live runs need it.
    assert "requests" in _modules_after("\n".join(import_lines(NOTEBOOKS_DIR / "01_extract.ipynb")))
