"""Open file handles cached per process and thread, keyed on the file's identity.

pysam, pyBigWig and pybigtools handles are neither picklable nor thread-safe, so a dask
task never ships one: each reader asks :func:`cached_handle` for its own. The cache key
holds the file's size and modification time, so a rewritten file is reopened rather than
read through a stale index.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Hashable
from typing import Any

_local = threading.local()


def cached_handle(path: str, opener: Callable[[str], Any], tag: Hashable = None,
                  missing: Callable[[str], Exception] | None = None) -> Any:
    """Return an open handle on ``path`` for this process and thread, opening it once.

    Parameters
    ----------
    path
        The file.
    opener
        Called as ``opener(path)`` when no handle is cached (it may validate the file).
    tag
        Part of the key besides the path (e.g. a backend name), so one file can have a
        handle per kind.
    missing
        Builds the exception raised when the file does not exist (default:
        ``FileNotFoundError``).

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "x.txt")
    >>> _ = open(path, "w").write("hi")
    >>> cached_handle(path, open) is cached_handle(path, open)
    True
    """
    handles = getattr(_local, "handles", None)
    if handles is None or getattr(_local, "pid", None) != os.getpid():
        handles = _local.handles = {}
        _local.pid = os.getpid()
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise (missing(path) if missing else FileNotFoundError(f"file not found: {path}")
               ) from None
    key = (path, tag, st.st_size, st.st_mtime_ns)
    handle = handles.get(key)
    if handle is None:
        for old in [k for k in handles if k[:2] == (path, tag)]:
            handles.pop(old).close()
        handle = handles[key] = opener(path)
    return handle
