"""Thread settings for the deep-learning frameworks genomarray feeds (no framework import).

PyTorch's CPU kernels run on an OpenMP thread pool (GNU libgomp in the PyPI wheels). By
default its idle threads *spin* (busy-wait) between parallel regions. When the cores are
shared (a laptop running a browser, a CI runner, a cluster node with other jobs, or
genomarray's own reader threads), the spinning threads take the cores the working thread
needs, and small ops become many times slower: the demo's CNN trained at 9-23 batches/s
instead of 265-293 on 2 shared cores (see ``docs``, "Frameworks"). With
``OMP_WAIT_POLICY=PASSIVE`` idle threads sleep instead; on an idle machine that costs a
few microseconds per parallel region.

The OpenMP runtime reads the variable once, when torch is first imported, so
:func:`prefer_passive_openmp` only has an effect before that, and never overrides a policy
the user set. :mod:`genomarray.keras` calls it on import when the keras backend is torch;
``genomarray demo`` calls it before importing keras.

Examples
--------
>>> import os
>>> from genomarray.threads import prefer_passive_openmp
>>> prefer_passive_openmp(environ={"OMP_WAIT_POLICY": "ACTIVE"})   # the user's choice stays
False
>>> env = {}
>>> prefer_passive_openmp(environ=env, loaded=()), env
(True, {'OMP_WAIT_POLICY': 'PASSIVE'})
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Container, Mapping, MutableMapping
from pathlib import Path
from typing import Any

__all__ = ["configured_keras_backend", "prefer_passive_openmp", "reuse_freed_memory", "scratch"]

SCRATCH_MAX_BYTES = 32 << 20
"""The largest buffer :func:`scratch` keeps per thread and purpose (larger: allocated
afresh): a chunk of at most ``CHUNK_BYTES`` (32 MB), a 4 Mb bigWig block of float64."""
_SCRATCH = threading.local()


def scratch(purpose: str, shape: tuple[int, ...], dtype: Any) -> Any:
    """This thread's reusable numpy buffer of ``shape`` for ``purpose``.

    A reader that decodes into a temporary before converting (a chunk decoded before its
    cast, a bigWig read as float64 before float32) writes to memory already mapped rather
    than a fresh allocation each time: on a VM a fresh page costs a fault and, where the
    host reclaimed it, far more (see docs/benchmarks.md). The contents are garbage until
    written, and the next call of the same purpose in this thread reuses them: callers
    copy what they keep. One buffer per purpose, so a reader running inside another's
    decode (a dask task computed by the batch engine) does not overwrite it. Buffers over
    :data:`SCRATCH_MAX_BYTES` are allocated afresh and not kept.

    Examples
    --------
    >>> a = scratch("doc", (2, 3), "float32")
    >>> a.shape, str(a.dtype), scratch("doc", (6,), "float32").base is a.base
    ((2, 3), 'float32', True)
    """
    import numpy as np

    dtype = np.dtype(dtype)
    need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if need > SCRATCH_MAX_BYTES:
        return np.empty(shape, dtype)
    bufs = _SCRATCH.__dict__.setdefault("bufs", {})
    buf = bufs.get(purpose)
    if buf is None or buf.nbytes < need:
        buf = bufs[purpose] = np.empty(need, np.uint8)
    return buf[:need].view(dtype).reshape(shape)


WAIT_POLICY = "OMP_WAIT_POLICY"
"""Environment variable of the OpenMP idle-wait policy (``ACTIVE`` or ``PASSIVE``)."""


def configured_keras_backend(
    environ: MutableMapping[str, str] | None = None, loaded: Mapping[str, object] | None = None
) -> str:
    """Return the name of the backend keras uses (or will use), without importing keras.

    As keras decides it: the loaded keras' backend if keras is imported, else
    ``KERAS_BACKEND``, else the ``backend`` of ``$KERAS_HOME/keras.json`` (default
    ``~/.keras/keras.json``), else ``"tensorflow"``.

    Parameters
    ----------
    environ
        The environment (default ``os.environ``).
    loaded
        The imported modules (default ``sys.modules``).

    Examples
    --------
    >>> configured_keras_backend({"KERAS_BACKEND": "jax"}, loaded={})
    'jax'
    """
    environ = os.environ if environ is None else environ
    loaded = sys.modules if loaded is None else loaded
    keras = loaded.get("keras")
    if keras is not None and hasattr(keras, "backend"):
        return str(keras.backend.backend())
    if environ.get("KERAS_BACKEND"):
        return str(environ["KERAS_BACKEND"])
    home = Path(environ.get("KERAS_HOME") or Path.home() / ".keras")
    try:
        return str(json.loads((home / "keras.json").read_text()).get("backend", "tensorflow"))
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def prefer_passive_openmp(
    environ: MutableMapping[str, str] | None = None, loaded: Container[str] | None = None
) -> bool:
    """Let torch's idle OpenMP threads sleep instead of spin, if torch is not loaded yet.

    Sets ``OMP_WAIT_POLICY=PASSIVE`` unless the variable is already set (the user's
    choice wins) or torch is already imported (its OpenMP runtime has read the policy).

    Parameters
    ----------
    environ
        The environment to change (default ``os.environ``).
    loaded
        Names of the imported modules (default ``sys.modules``).

    Returns
    -------
    bool
        Whether the policy was set here.

    Examples
    --------
    >>> prefer_passive_openmp(environ={}, loaded={"torch"})   # too late: torch is loaded
    False
    """
    environ = os.environ if environ is None else environ
    loaded = sys.modules if loaded is None else loaded
    if WAIT_POLICY in environ or "torch" in loaded:
        return False
    environ[WAIT_POLICY] = "PASSIVE"
    return True


MALLOC_ENV = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")
"""glibc's malloc tunables in the environment: a user who sets one keeps their settings."""
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (malloc.h)
_malloc_tuned: bool | None = None


def reuse_freed_memory(
    mmap_threshold: int = 64 << 20, environ: Mapping[str, str] | None = None
) -> bool:
    """Let glibc's malloc reuse the memory of freed batches instead of mapping new pages.

    A training loop allocates a batch (2 MB of one-hot at order 1, 33 MB at order 3), hands
    it to the framework and frees it, hundreds of times a second. glibc serves blocks above
    its *mmap threshold* with fresh pages from the kernel, and every page of a fresh block
    costs a page fault when first written. glibc raises that threshold by itself after the
    first such block is freed, unless anything in the process set a malloc tunable (some
    libraries do: with keras' numpy backend imported, T4 batches ran at 410-470/s instead
    of 2,130-2,190/s). This sets the threshold to ``mmap_threshold`` and the trim threshold
    to twice that, as glibc's own adjustment would, once per process. Nothing is done
    where the environment sets a ``MALLOC_*_`` tunable (the user's choice wins) or where
    the C library is not glibc. Freed blocks up to ``mmap_threshold`` then stay in the
    process for reuse (at most about twice that is kept unused at the top of the heap).

    Parameters
    ----------
    mmap_threshold
        Blocks up to this many bytes come from the heap.
    environ
        The environment (default ``os.environ``).

    Returns
    -------
    bool
        Whether the thresholds are set (by this call or an earlier one).

    Examples
    --------
    >>> reuse_freed_memory(environ={"MALLOC_MMAP_THRESHOLD_": "131072"})  # the user's choice
    False
    """
    global _malloc_tuned
    environ = os.environ if environ is None else environ
    if any(k in environ for k in MALLOC_ENV):
        return False
    if _malloc_tuned is not None:
        return _malloc_tuned
    _malloc_tuned = False
    if sys.platform.startswith("linux"):
        import ctypes
        import ctypes.util

        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            mallopt = libc.mallopt
        except (OSError, AttributeError):  # not glibc (musl has no mallopt)
            return False
        ok = mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold)) == 1
        _malloc_tuned = ok and mallopt(_M_TRIM_THRESHOLD, 2 * int(mmap_threshold)) == 1
    return _malloc_tuned
