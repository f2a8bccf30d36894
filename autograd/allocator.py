"""glibc's malloc tuned for training loops: memory freed by one step stays for the next.

A training step allocates and frees the same large arrays again and again. With its defaults glibc
hands large freed blocks back to the OS, then page-faults and zeroes them in again on the next step:
about 6,500 page faults per step of the benchmark's CNN, which then takes 45 ms instead of 27 ms
(`NODEGRAD_MALLOPT=0 python -m benchmarks.train_step` against `python -m benchmarks.train_step`).
Raising the mmap and trim thresholds keeps that memory in the process, to be reused. The setting
is process-wide, so importing autograd applies it once, on glibc only; the price is that a process
keeps its peak heap instead of returning it to the OS between steps. NODEGRAD_MALLOPT=0 in the
environment before the import leaves malloc alone.
"""

import ctypes
import os
import platform
import sys

ENV_SWITCH = "NODEGRAD_MALLOPT"
# glibc's mallopt parameters (malloc.h): blocks up to MMAP_THRESHOLD come from the heap, and the heap
# is trimmed only when TRIM_THRESHOLD bytes at its top are free.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD, TRIM_THRESHOLD = 256 << 20, 1 << 30
OLD_GLIBC_MMAP_MAX = 32 << 20

tuned = False  # whether keep_freed_memory() has changed this process's malloc


def keep_freed_memory() -> bool:
    """Set glibc's thresholds so that freed blocks stay in the heap; False where malloc is not glibc's."""
    global tuned
    if not tuned and sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        libc = ctypes.CDLL("libc.so.6")
        # glibc before 2.26 or so refuses mmap thresholds above 32 MB: take that, then.
        mmap_set = any(libc.mallopt(M_MMAP_THRESHOLD, size) for size in (MMAP_THRESHOLD, OLD_GLIBC_MMAP_MAX))
        tuned = bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and mmap_set
    return tuned


def tune_at_import() -> bool:
    """keep_freed_memory(), unless the environment says NODEGRAD_MALLOPT=0."""
    if os.environ.get(ENV_SWITCH, "1").strip() == "0":
        return False
    return keep_freed_memory()
