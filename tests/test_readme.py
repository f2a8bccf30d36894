"""The README's Python examples run as written: a front door must not lie."""

import importlib.util
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(code):
    if "ag.onnx.export" in code:
        missing = [m for m in ("onnx", "onnxruntime") if importlib.util.find_spec(m) is None]
        if missing:
            pytest.skip(f'the ONNX example needs {" and ".join(missing)}: pip install -e ".[onnx]"')
    exec(compile(code, str(README), "exec"), {"__name__": "readme_example"})


def test_every_picture_the_readme_shows_exists():
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README.read_text())
    assert pictures
    for picture in pictures:
        assert (README.parent / picture).is_file(), picture


def test_quick_start_names_both_commands():
    text = README.read_text()
    assert re.search(r"^# set up and run the main demo\n.*python -m demos$", text, flags=re.M)
    assert re.search(r"^# run the tests\n.*python -m pytest$", text, flags=re.M)
