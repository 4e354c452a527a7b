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
        from dask.local import get_sync  # the same scheduler, without the name lookup

        with dask.config.set(scheduler=get_sync):
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

    workers = dask.config.get("num_workers", None) or os.cpu_count() or 1
    pool = ThreadPoolExecutor(workers)
    try:
        with dask.config.set(pool=pool, scheduler=pool):
            if progress:
                print(f"genomarray: {what}", flush=True)
                with progress_bar(minimum=1.0):
                    yield
            else:
                yield
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def progress_bar(minimum: float = 0.0, out: Any = None, dt: float = 0.1) -> Any:
    """A text progress bar for the dask computes run inside (a ``dask.callbacks.Callback``
    context manager), drawn as dask's ``ProgressBar`` draws it once a compute has run
    ``minimum`` seconds, to ``out`` (default: stdout) every ``dt`` seconds.

    Its timer thread wakes as soon as the compute ends. dask's own ``ProgressBar`` sleeps
    out its interval first, so every compute it watched took up to ``dt`` (0.1 s) longer,
    a delay each store build paid.

    Examples
    --------
    >>> import io, dask.array as da
    >>> out = io.StringIO()
    >>> with progress_bar(out=out):
    ...     total = int(da.ones(10, chunks=5).sum().compute(scheduler="sync"))
    >>> total, out.getvalue().strip().split(" | ")[:2]
    (10, ['[########################################]', '100% Completed'])
    """
    import threading
    from timeit import default_timer

    from dask.callbacks import Callback
    from dask.utils import format_time

    width = 40
    file = sys.stdout if out is None else out
    shared: dict[str, Any] = {}

    def write(text: str) -> None:
        if file is None:  # no stdout (fd 1 closed, pythonw): nothing to draw on
            return
        try:
            file.write(text)
            file.flush()
        except ValueError:  # the stream was closed
            pass

    def draw(frac: float, elapsed: float) -> None:
        bar = "#" * int(width * frac)
        write(f"\r[{bar:<{width}}] | {int(100 * frac)}% Completed | {format_time(elapsed)}")

    def fraction() -> float:
        state = shared.get("state")
        if not state:
            return 0.0
        done = len(state["finished"])
        total = done + sum(len(state[k]) for k in ("ready", "waiting", "running"))
        return done / total if total else 0.0

    def tick(stop: threading.Event, start: float) -> None:
        while not stop.wait(dt):
            elapsed = default_timer() - start
            if elapsed > minimum:
                draw(fraction(), elapsed)

    def on_start(dsk: Any) -> None:
        shared.update(state=None, start=default_timer(), stop=threading.Event())
        timer = threading.Thread(target=tick, args=(shared["stop"], shared["start"]))
        timer.daemon = True
        shared["timer"] = timer
        timer.start()

    def on_pretask(key: Any, dsk: Any, state: Any) -> None:
        shared["state"] = state

    def on_finish(dsk: Any, state: Any, errored: bool) -> None:
        shared["stop"].set()
        shared["timer"].join()
        elapsed = default_timer() - shared["start"]
        if elapsed < minimum:
            return
        draw(fraction() if errored else 1.0, elapsed)
        write("\n")

    return Callback(start=on_start, pretask=on_pretask, finish=on_finish)


_QUICK_NDBUFFER: list[str] = []


FILL_CHECK_BLOCK = 1 << 16
"""Elements compared at a time by :func:`all_fill` (a temporary that stays in cache)."""


def all_fill(data: Any, fill: Any) -> bool | None:
    """Whether every element of ``data`` is ``fill``, bit for bit; None where this check
    does not apply (non-numeric data, a fill value the dtype cannot hold, NaN).

    zarr asks this of every chunk it writes (a chunk of only the fill value is not
    written) with ``np.array_equal(chunk, broadcast fill)``, which allocates a boolean
    array of the chunk's size: 2.5 ms per 1 MB chunk of sequence codes, 120-800 ms for a
    30 MB label chunk, against ~1 ms to encode and write it. Here a chunk of data is
    decided by its first element, a chunk of zeros by ``not any()``, any other by
    comparing blocks of :data:`FILL_CHECK_BLOCK` elements (no full-size temporary).
    Floats are compared as bit patterns: equal bits are equal values, and a chunk that
    differs only in the sign of a zero or a NaN payload is written (never skipped
    wrongly; zarr itself compares a zero fill by bit pattern).

    Examples
    --------
    >>> import numpy as np
    >>> all_fill(np.full(10, 4, np.uint8), 4), all_fill(np.arange(3.0), 0.0)
    (True, False)
    """
    import numpy as np

    if not isinstance(data, np.ndarray) or data.dtype.kind not in "biuf" or np.ndim(fill):
        return None
    if data.dtype.itemsize not in (1, 2, 4, 8):  # (long double: no unsigned int of its size)
        return None
    want = np.asarray(fill)
    if want.dtype.kind not in "biuf":
        return None
    with np.errstate(invalid="ignore", over="ignore"):
        typed = want.astype(data.dtype)
        back = typed.astype(want.dtype)
    if not (back == want and typed == want):  # not representable in the dtype, or NaN
        return None
    if data.dtype.kind in "bf":  # bit patterns (bool: one byte)
        bits = f"u{data.dtype.itemsize}"
        data, typed = data.view(bits), typed.view(bits)
    if data.size == 0:
        return True
    if data.flat[0] != typed:  # a chunk of data: decided at once
        return False
    if not any(data.strides):  # one value, broadcast
        return True
    if not data.flags.c_contiguous:
        return None
    flat = data.reshape(-1)
    if typed == 0:
        return not flat.any()
    return not any(
        (flat[i : i + FILL_CHECK_BLOCK] != typed).any()
        for i in range(0, flat.size, FILL_CHECK_BLOCK)
    )


def _quick_ndbuffer() -> str:
    """The registered name of a zarr ``NDBuffer`` whose fill-value check is
    :func:`all_fill` (it allocates no array of the chunk's size)."""
    if not _QUICK_NDBUFFER:
        from zarr.core.buffer import cpu
        from zarr.registry import register_ndbuffer

        class QuickFillNDBuffer(cpu.NDBuffer):
            def all_equal(self, other: Any, equal_nan: bool = True) -> bool:
                if other is not None:
                    quick = all_fill(self._data, other)
                    if quick is not None:
                        return quick
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


def write_dataset(
    ds: Any, target: Any, progress: bool, what: str, direct: str | None = None, **to_zarr: Any
) -> None:
    """``ds.to_zarr(target, **to_zarr)`` with the guarantees of :func:`compute_writes`.

    Where dask would run the writes here on its default threads (no scheduler configured,
    no ``distributed`` client), xarray computes them directly (``compute=True``) on
    :func:`local_writes`' pool: ``compute=False`` wraps the writes in a
    ``dask.delayed``, whose graph imports ``distributed`` (0.2 s in a fresh process).
    Elsewhere the delayed writes go through :func:`compute_writes`.

    ``direct``: the data variable whose chunks are written straight to their files in
    the local folder ``target`` where its layout allows
    (:mod:`genomarray.genome.chunk_writes`: ~10x quicker than through zarr's API):
    xarray writes the metadata and coordinates (of
    :func:`~genomarray.genome.chunk_writes.metadata_dataset`), and the chunk writes run
    on the same schedulers as above (with ``mode="w"`` only).
    """
    import dask

    if direct is not None and isinstance(target, str | os.PathLike):
        from genomarray.genome.chunk_writes import chunk_writes, metadata_dataset

        data = ds[direct].data
        encoding = dict(to_zarr.get("encoding") or {})
        mine = dict(encoding.get(direct) or {})
        small = None
        if hasattr(data, "chunks") and to_zarr.get("mode") == "w":
            small = metadata_dataset(ds, direct, mine.get("fill_value", 0))
        if small is not None:
            mine["chunks"] = tuple(int(c[0]) if c else 1 for c in data.chunks)
            options = {**to_zarr, "encoding": {**encoding, direct: mine}}
            with quick_fill_checks():
                small.to_zarr(target, compute=True, **options)  # metadata, coordinates
            writes = chunk_writes(os.fspath(target), direct, data)
            if writes is not None:
                compute_writes(writes, progress, what)
                return
        # another layout: zarr writes it all (mode "w" replaces the metadata written)
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
