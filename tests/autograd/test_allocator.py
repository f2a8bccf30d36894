"""Importing autograd keeps freed memory in glibc's heap unless NODEGRAD_MALLOPT=0 says not to."""

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from autograd import allocator

REPO = Path(__file__).resolve().parents[2]
GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def _tuned_after_import(switch: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != allocator.ENV_SWITCH}
    if switch is not None:
        env[allocator.ENV_SWITCH] = switch
    code = "import autograd; print(autograd.allocator.tuned)"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_import_tunes_glibc_unless_switched_off():
    assert _tuned_after_import(None) == "True"
    assert _tuned_after_import("1") == "True"
    assert _tuned_after_import("0") == "False"


def test_keep_freed_memory_is_idempotent_and_says_whether_it_applies():
    first = allocator.keep_freed_memory()
    assert allocator.keep_freed_memory() is first
    assert first is GLIBC
