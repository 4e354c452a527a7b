"""Open file handles cached per process and thread, keyed on the file's identity.

pysam, pyBigWig and pybigtools handles are neither picklable nor thread-safe, so a dask
task never ships one: each reader asks :func:`cached_handle` for its own. The cache key
holds the file's size, modification and status-change times and inode, so a rewritten or
replaced file is reopened rather than read through a stale handle (the status-change time
moves on every write, even one that restores the modification time, as ``cp -p`` does).

Each thread keeps at most :data:`MAX_HANDLES` handles, least recently used first out: an
evicted handle is closed, so a long session reading many files does not run out of file
descriptors (at most ``MAX_HANDLES`` per thread stay open). A thread that reads more files
than that in turn reopens them as it goes; the counts are the same, only slower.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

MAX_HANDLES = 32
"""Most handles one thread keeps open; the least recently used one is closed past it."""

_local = threading.local()


def _close(handle: Any) -> None:
    """Close ``handle`` if it can be closed (a handle broken by a read error may fail to
    close: that is ignored, the handle is dropped either way)."""
    close = getattr(handle, "close", None)
    if close is not None:
        try:
            close()
        except Exception:  # noqa: BLE001 - e.g. pysam's "Closing failed" after a bad block
            pass


def _thread_cache() -> OrderedDict[tuple, Any]:
    """This thread's handles, oldest use first (a fresh cache in a forked child)."""
    handles = getattr(_local, "handles", None)
    if handles is None or getattr(_local, "pid", None) != os.getpid():
        # a forked child must not close or share its parent's handles: start afresh
        handles = _local.handles = OrderedDict()
        _local.pid = os.getpid()
    return handles


def cached_handle(
    path: str,
    opener: Callable[[str], Any],
    tag: Hashable = None,
    missing: Callable[[str], Exception] | None = None,
) -> Any:
    """Return an open handle on ``path`` for this process and thread, opening it once.

    The handle stays open while it is among this thread's :data:`MAX_HANDLES` most
    recently requested ones; past that, the least recently used handle is closed (and
    reopened should it be requested again). A handle on an older version of the file
    (another size, time or inode) is closed when the new one is opened.

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

    Returns
    -------
    Any
        What ``opener`` returned, for this thread only; do not keep it across calls.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "x.txt")
    >>> _ = open(path, "w").write("hi")
    >>> cached_handle(path, open) is cached_handle(path, open)
    True
    """
    handles = _thread_cache()
    if "://" in path:  # a URL (genomarray.io.remote): its version is in ``tag`` (the caller's)
        st = None
    else:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise (
                missing(path) if missing else FileNotFoundError(f"file not found: {path}")
            ) from None
    key: tuple = (path, tag) + (
        (None,) if st is None else (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    )
    handle = handles.get(key)
    if handle is not None:
        handles.move_to_end(key)
        return handle
    for old in [k for k in handles if k[:2] == (path, tag)]:
        _close(handles.pop(old))
    handle = opener(path)
    handles[key] = handle
    while len(handles) > max(1, MAX_HANDLES):
        _close(handles.popitem(last=False)[1])
    return handle


ANY_TAG = object()
"""``discard_handle(path, ANY_TAG)`` discards the handles of every tag."""


def discard_handle(path: str, tag: Hashable = None) -> None:
    """Close and forget this thread's handle on ``path`` (after a read error left it in an
    unknown state), so that the next request opens the file afresh. With
    ``tag=ANY_TAG``, every handle on ``path`` (whatever its tag) is discarded.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "x.txt")
    >>> _ = open(path, "w").write("hi")
    >>> first = cached_handle(path, open)
    >>> discard_handle(path)
    >>> first.closed, cached_handle(path, open) is first
    (True, False)
    """
    handles = _thread_cache()
    for old in [k for k in handles if k[0] == path and (tag is ANY_TAG or k[1] == tag)]:
        _close(handles.pop(old))
