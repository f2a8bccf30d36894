"""onnx is optional: autograd imports without it, and only exporting asks for it, saying how to install it."""

import subprocess
import sys

import numpy as np
import pytest

import autograd as ag


def test_without_onnx_export_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` now raises ImportError
    with pytest.raises(ImportError, match=r'pip install -e "\.\[onnx\]"'):
        ag.onnx.export(ag.relu, np.ones((2, 3), np.float32), tmp_path / "f.onnx")
    assert not (tmp_path / "f.onnx").exists()


def test_autograd_imports_without_onnx():
    code = (
        "import sys; sys.modules['onnx'] = sys.modules['onnxruntime'] = None\n"
        "import autograd as ag, nn\n"
        "assert 'Conv2d' in ag.onnx.supported_ops()\n"
        "print('imported')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "imported" in result.stdout, result.stderr
