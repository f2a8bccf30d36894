"""The nn package's shape: imports go one way (nn -> autograd, never optim) and every file says what it holds."""

import ast
import pathlib
import sys

import nn

FILES = sorted(pathlib.Path(nn.__file__).parent.glob("*.py"))
# mpi4py: the optional [distributed] extra, which nn.distributed imports only when launched by mpirun.
ALLOWED = {"autograd", "nn", "numpy", "mpi4py"} | set(sys.stdlib_module_names)


def _imported_packages(path) -> set:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module.split(".")[0])
    return names


def test_nn_imports_only_numpy_autograd_and_the_standard_library():
    strays = {path.name: sorted(_imported_packages(path) - ALLOWED) for path in FILES}
    assert not {name: found for name, found in strays.items() if found}


def test_every_file_starts_with_a_docstring():
    assert [p.name for p in FILES if not ast.get_docstring(ast.parse(p.read_text()))] == []


def test_every_public_name_is_exported_explicitly():
    assert all(hasattr(nn, name) for name in nn.__all__)
    assert not any("import *" in p.read_text() for p in FILES)
