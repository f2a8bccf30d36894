"""The core stays readable: no function in the files directly in autograd/ longer than 40 lines
(docstring included), and no such file longer than 400 lines."""

import ast
from pathlib import Path

import pytest

CORE = sorted((Path(__file__).resolve().parents[2] / "autograd").glob("*.py"))
MAX_FUNCTION_LINES, MAX_FILE_LINES = 40, 400


@pytest.mark.parametrize("path", CORE, ids=[p.name for p in CORE])
def test_core_file_and_its_functions_are_short(path):
    source = path.read_text()
    assert len(source.splitlines()) <= MAX_FILE_LINES, f"{path.name} has {len(source.splitlines())} lines"
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"{path.name}: functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_the_core_is_where_the_limits_look():
    assert {"tensor.py", "op.py", "graph.py"} <= {p.name for p in CORE}
