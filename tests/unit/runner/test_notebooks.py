"""The notebooks as the runner starts them (runner.notebooks): the imports a kernel runs ahead."""

from __future__ import annotations

import ast

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
