"""Compute write graphs so that a failure leaves no task still writing.

Used by every graph that writes files (store builds, storage-time shuffles). Locally the graph
runs on a thread pool of its own that is drained before an error propagates; on a
``distributed.Client`` the futures are cancelled and the workers waited on.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_SYNC = ("sync", "synchronous", "single-threaded")


def distributed_client() -> Any:
    """The current ``distributed`` client, or None. A client needs ``distributed``
    imported, so while it is not this imports nothing (the import costs 0.2 s)."""
    if "distributed" not in sys.modules:
        return None
    try:
        from distributed import get_client

        return get_client()
    except (ImportError, ValueError):
        return None


def rechunk(data: Any, chunks: Any) -> Any:
    """``data.rechunk(chunks)`` without dask's look for a ``distributed`` client when none
    can exist (dask imports ``distributed`` to choose a rechunk method: 0.2 s in a fresh
    process); with ``distributed`` imported, dask chooses as usual.

    Examples
    --------
    >>> import dask.array as da
    >>> rechunk(da.zeros((4, 6), chunks=2), {1: -1}).chunks
    ((2, 2), (6,))
    """
    return data.rechunk(chunks, method=None if "distributed" in sys.modules else "tasks")


def _key_name(key: Any) -> str:
    return str(key[0] if isinstance(key, tuple) else key)


def _running_tasks(names: list[str], dask_worker: Any = None) -> int:
    """On a worker: how many tasks of the graphs ``names`` are still running there."""
    wanted = set(names)
    return sum(
        1
        for key, ts in dask_worker.state.tasks.items()
        if _key_name(key) in wanted
        and ts.state in ("executing", "long-running", "cancelled", "resumed")
    )


def _wait_for_stragglers(client: Any, names: list[str], timeout: float = 300.0) -> None:
    """Return once no worker runs a task of ``names`` (or after ``timeout`` seconds)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            busy = sum(client.run(_running_tasks, names).values())
        except Exception:  # a worker went away: nothing more to wait for there
            return
        if not busy:
            return
        time.sleep(0.05)


def compute_writes(delayed: Any, progress: bool, what: str) -> None:
    """Compute a write graph; on failure, no task is still writing when this returns.

    Locally the graph runs on a thread pool of its own that is drained before an error
    propagates (dask's shared pool would let running tasks write on into a folder that is
    being removed). On a ``distributed.Client`` the futures are cancelled and the workers
    are waited on until none still runs a task of this graph (a cancelled task that is
    already running finishes its write).
    """
    client = distributed_client()
    if client is not None:
        names = sorted({_key_name(k) for k in delayed.__dask_graph__()})
        future = client.compute(delayed)
        try:
            if progress:
                from distributed import progress as dist_progress

                dist_progress(future)
            future.result()
        except BaseException:
            future.cancel()
            _wait_for_stragglers(client, names)
            raise
        return
    import dask

    if dask.config.get("scheduler", None) in _SYNC:
        delayed.compute()
        return
    with local_writes(progress, what):
        delayed.compute()


@contextmanager
def local_writes(progress: bool, what: str) -> Iterator[None]:
    """Run the computes inside on a thread pool of their own, drained before an error
    propagates (see :func:`compute_writes`). The pool is handed to dask as the scheduler
    itself (an executor), not as ``scheduler="threads"``, whose lookup imports
    ``distributed`` (0.2 s in a fresh process)."""
    from concurrent.futures import ThreadPoolExecutor

    import dask
    from dask.diagnostics import ProgressBar

    workers = dask.config.get("num_workers", None) or os.cpu_count() or 1
    pool = ThreadPoolExecutor(workers)
    try:
        with dask.config.set(pool=pool, scheduler=pool):
            if progress:
                print(f"genomarray: {what}", flush=True)
                with ProgressBar(minimum=1.0):
                    yield
            else:
                yield
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_QUICK_NDBUFFER: list[str] = []


def _quick_ndbuffer() -> str:
    """The registered name of a zarr ``NDBuffer`` whose fill-value check allocates nothing.

    zarr skips writing a chunk that holds only the fill value; it checks by
    ``np.array_equal(chunk, broadcast fill)``, which allocates a boolean array of the chunk's
    size (and compares floats through a ``void`` view): 120-800 ms for a 30 MB chunk here,
    against 9 ms to encode and write it. For a zero fill value and numeric data the check
    is the same question as ``not chunk.any()`` (integers and bools), or, for floats, whether
    every bit pattern is zero (``-0.0`` and NaN are not the fill value ``0.0``, as zarr
    compares bit patterns), which needs no temporary array.
    """
    if not _QUICK_NDBUFFER:
        import numpy as np
        from zarr.core.buffer import cpu
        from zarr.registry import register_ndbuffer

        class QuickFillNDBuffer(cpu.NDBuffer):
            def all_equal(self, other: Any, equal_nan: bool = True) -> bool:
                data = self._data
                if (
                    isinstance(data, np.ndarray)
                    and data.dtype.kind in "biuf"
                    and other is not None
                    and np.ndim(other) == 0
                    and np.asarray(other).dtype.kind in "biuf"
                    and other == 0
                    and not np.signbit(other)
                ):
                    if data.dtype.kind == "f":  # bit patterns: -0.0 and NaN are not 0.0
                        data = data.view(f"u{data.dtype.itemsize}")
                    if data.size and not any(data.strides):  # one value, broadcast
                        return not data.flat[0]
                    return not data.any()
                return super().all_equal(other, equal_nan)

        name = f"{__name__}.QuickFillNDBuffer"
        register_ndbuffer(QuickFillNDBuffer, qualname=name)
        _QUICK_NDBUFFER.append(name)
    return _QUICK_NDBUFFER[0]


@contextmanager
def quick_fill_checks() -> Iterator[None]:
    """zarr writes inside use :func:`_quick_ndbuffer`'s fill-value check."""
    import zarr

    with zarr.config.set({"ndbuffer": _quick_ndbuffer()}):
        yield


def write_dataset(ds: Any, target: Any, progress: bool, what: str, **to_zarr: Any) -> None:
    """``ds.to_zarr(target, **to_zarr)`` with the guarantees of :func:`compute_writes`.

    Where dask would run the writes here on its default threads (no scheduler configured,
    no ``distributed`` client), xarray computes them directly (``compute=True``) on
    :func:`local_writes`' pool: ``compute=False`` wraps the writes in a
    ``dask.delayed``, whose graph imports ``distributed`` (0.2 s in a fresh process).
    Elsewhere the delayed writes go through :func:`compute_writes`.
    """
    import dask

    scheduler = dask.config.get("scheduler", None)
    if scheduler in _SYNC and distributed_client() is None:
        from dask.local import get_sync  # the same scheduler, without the name lookup

        with dask.config.set(scheduler=get_sync), quick_fill_checks():  # one thread
            ds.to_zarr(target, compute=True, **to_zarr)
        return
    if scheduler is None and distributed_client() is None:
        with local_writes(progress, what), quick_fill_checks():
            ds.to_zarr(target, compute=True, **to_zarr)
        return
    compute_writes(ds.to_zarr(target, compute=False, **to_zarr), progress, what)
