"""Where genomarray writes caches, logs, models and reports.

The output root is ``$GENOMARRAY_OUTPUT``, else ``$JANGGU_OUTPUT`` (so Janggu users keep
their setting), else a per-user cache directory. Every writer also takes an explicit path.
"""

from __future__ import annotations

import os
from pathlib import Path


def output_root() -> Path:
    """Return the root folder for genomarray's outputs (created if missing).

    Examples
    --------
    >>> output_root().is_dir()
    True
    """
    for var in ("GENOMARRAY_OUTPUT", "JANGGU_OUTPUT"):
        value = os.environ.get(var)
        if value:
            root = Path(value).expanduser()
            break
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
        root = Path(base) / "genomarray"
    root.mkdir(parents=True, exist_ok=True)
    return root


def cache_dir() -> Path:
    """Return the folder that holds content-addressed zarr caches."""
    path = output_root() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path
