"""Where dataset files are looked for (an argument, environment variables, a cache folder) and the
one "not found" error that names every file wanted and every folder searched.
"""

import os
from collections.abc import Iterable
from pathlib import Path


def cache_dir(name: str) -> Path:
    """The cache folder for dataset `name`: $XDG_CACHE_HOME/nodegrad/<name>, by default ~/.cache/nodegrad/<name>.

    >>> cache_dir("mnist").parts[-2:]
    ('nodegrad', 'mnist')
    """
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(root).expanduser() / "nodegrad" / name


def candidate_folders(path, env_var: str, name: str) -> list[Path]:
    """The folders to search, in order: `path` alone when given; else $<env_var>, $NODEGRAD_DATA/<name>
    (each when set) and the cache folder.

    >>> candidate_folders("/data/here", "NODEGRAD_MNIST", "mnist")
    [PosixPath('/data/here')]
    """
    if path is not None:
        return [Path(path).expanduser()]
    folders = []
    if os.environ.get(env_var):
        folders.append(Path(os.environ[env_var]).expanduser())
    if os.environ.get("NODEGRAD_DATA"):
        folders.append(Path(os.environ["NODEGRAD_DATA"]).expanduser() / name)
    folders.append(cache_dir(name))
    return list(dict.fromkeys(folders))  # an env var may name the cache folder itself


def not_found(
    where: str, wanted: Iterable[str], searched: Iterable[tuple[Path, list[str]]], hint: str
) -> FileNotFoundError:
    """One error for a dataset that is nowhere complete: the files wanted, each folder searched and
    what it lacked, and how to get the files (`hint`)."""
    lines = [f"{where}: needs the files {', '.join(wanted)} together in one folder, got none complete in:"]
    for folder, missing in searched:
        state = "no such folder" if not folder.is_dir() else f"missing {', '.join(missing)}"
        lines.append(f"  {folder} ({state})")
    lines.append(hint)
    return FileNotFoundError("\n".join(lines))
