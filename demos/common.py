"""What every demo shares: its command line (--help, --seed, --quick, --out), its runs/<name>/ folder,
metrics.json, and the optional pictures that must never sink a run when Graphviz or matplotlib is missing."""

import argparse
import json
import math
import os
import platform
import shutil
from pathlib import Path

import numpy as np

import autograd


def parse_args(name: str, description: str, argv=None) -> argparse.Namespace:
    """The demo's options: --seed, --quick (a few seconds, for smoke tests) and --out (default runs/<name>).

    `description` is shown by --help as written (give it the demo's module docstring).
    """
    parser = argparse.ArgumentParser(
        formatter_class=argparse.RawDescriptionHelpFormatter,
        prog=f"python -m demos{'' if name == 'main' else '.' + name}",
        description=description,
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seeds the data split, initial weights and batch order (default: 0)"
    )
    parser.add_argument("--quick", action="store_true", help="a tiny run of a few seconds, to check that it works")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("runs") / name,
        help=f"folder for the pictures, report and metrics (default: runs/{name})",
    )
    return parser.parse_args(argv)


def run_folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _plain(value):
    """JSON-ready: numpy scalars and arrays as Python values, paths as strings, NaN and inf as None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_metrics(path: Path, metrics: dict) -> Path:
    """Write `metrics` (plus the Python and numpy versions) as JSON to `path`."""
    record = {**metrics, "versions": {"python": platform.python_version(), "numpy": np.__version__}}
    path.write_text(json.dumps(_plain(record), indent=2, allow_nan=False) + "\n")
    return path


def draw_graph(roots, path: Path, **to_dot_kwargs) -> Path | None:
    """The graph drawing as SVG at `path`; without Graphviz, say how to get it and return None.

    The .dot source is written whenever the `graphviz` Python package is there, so the drawing can
    be made later with `dot -Tsvg graph.dot -o graph.svg`.
    """
    try:
        return Path(autograd.viz.render(roots, path, format="svg", **to_dot_kwargs))
    except ImportError as error:
        print(f"note: no graph drawing: {error}")
    except RuntimeError as error:
        if shutil.which("dot") is not None:
            raise
        print(f"note: {error}")
    return None


def plot(description: str, draw, *args, **kwargs) -> Path | None:
    """Call a plotting function; without matplotlib, say so and return None instead of failing the run."""
    try:
        return Path(draw(*args, **kwargs))
    except ImportError as error:
        print(f"note: no {description}: {error}")
        return None
