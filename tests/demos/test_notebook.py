"""The tour notebook is stored small and without outputs, and runs top to bottom in a real Jupyter kernel."""

import json
import shutil
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "demos" / "notebooks" / "tour.ipynb"
INSTALL = "pip install nbclient nbformat ipykernel graphviz matplotlib (or pip install nodegrad[notebooks])"
KERNEL = "nodegrad-tour"


def test_the_notebook_is_stored_small_and_without_outputs():
    notebook = json.loads(NOTEBOOK.read_text())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert len(code) >= 10
    assert [cell["id"] for cell in code if cell["outputs"] or cell["execution_count"] is not None] == []
    assert NOTEBOOK.stat().st_size < 20_000


def _kernel_in_this_python(folder: Path) -> None:
    """A kernelspec that starts the kernel with this interpreter, whatever other kernels the machine has."""
    spec = folder / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"}))


def _outputs(notebook) -> dict:
    """cell id -> {output type or mime type: text} of the executed notebook."""
    found = {}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        found[cell.id] = {}
        for output in cell.outputs:
            if output.output_type == "stream":
                found[cell.id][output.name] = found[cell.id].get(output.name, "") + output.text
            elif output.output_type == "error":
                found[cell.id]["error"] = f"{output.ename}: {output.evalue}"
            else:
                found[cell.id].update(output.get("data", {}))
    return found


def test_the_notebook_runs_in_a_kernel(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason=INSTALL)
    nbclient = pytest.importorskip("nbclient", reason=INSTALL)
    for needed in ("ipykernel", "graphviz", "matplotlib"):
        pytest.importorskip(needed, reason=INSTALL)
    _kernel_in_this_python(tmp_path)
    # Kernel files, IPython's history and matplotlib's cache go to this test's folder, not the user's home.
    for variable, folder in [("JUPYTER_PATH", ""), ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython")]:
        monkeypatch.setenv(variable, str(tmp_path / folder))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "matplotlib"))
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")  # the suite may share a small machine
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # The kernel starts in the repository's root, as `jupyter lab` started there would for a notebook in it.
    client = nbclient.NotebookClient(
        notebook, timeout=60, kernel_name=KERNEL, resources={"metadata": {"path": str(REPO)}}
    )
    started = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - started
    assert elapsed < 60, f"the tour took {elapsed:.0f} s; it must stay under a minute"

    shown = _outputs(notebook)
    assert [cell for cell, outputs in shown.items() if "error" in outputs or "stderr" in outputs] == []
    assert "gradcheck passed: True" in shown["check"]["stdout"]
    assert "caught: gradcheck: " in shown["check"]["stdout"]
    drawing = "image/svg+xml" if shutil.which("dot") else "text/plain"
    assert "<svg" in shown["graph"][drawing] if shutil.which("dot") else "could not draw" in shown["graph"][drawing]
    assert drawing in shown["health"]
    accuracy = int(shown["train"]["stdout"].rsplit("training accuracy ", 1)[1].rstrip("%\n"))
    assert accuracy >= 90
    for cell in ("curves", "boundary", "stats", "flow"):
        assert "image/png" in shown[cell], cell
    assert "<table" in shown["monitor"]["text/html"]
    assert "same outputs after the round trip: True" in shown["save"]["stdout"]
    assert "PyTorch" in shown["torch"]["stdout"]
