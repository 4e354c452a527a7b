"""Sparse windows of a genome store, spilled once to a view store of their own.

Out of core, the engine reads a lazy view of a genome store from the store's chunks. When
the windows are few and scattered (25,600 bins of 200 bp over hg19, with 919 labels per
bin: 30 MB chunks for 0.9 kB of each), an epoch decodes the whole genome-wide store, some
600 times the bytes it serves: a 200-batch epoch took 2.2 s. Such a view is written once,
in the order of its windows on the genome, to a view store in the cache
(``<output root>/cache/spill-<key>.zarr``, keyed by the store's manifest digest and every
window's geometry, written atomically with a manifest like every cache store, rebuilt if
damaged), and its rows are then read from that store's region chunks: a batch decodes
about its own bytes.

:data:`SPILL_RATIO` decides: a view is spilled when an epoch would decode more than that
many times its own bytes. Dense views (T4's 25,600 windows of 1 kb over 10 Mb decode 0.4
times their bytes) are read from the genome store as they are.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from typing import Any

import numpy as np
import xarray as xr

from genomarray import model
from genomarray.batches.chunks import CACHE_BYTES
from genomarray.batches.sources import Executor, Source, StoreRows, StoreWindows, runs
from genomarray.errors import StoreError

SPILL_RATIO = 8
"""Spill a view when an epoch would decode more than this many times its bytes."""

ROWS_PER_CHUNK_BYTES = 4 << 20
"""Bytes of one region chunk of a spilled view store (about)."""


def decode_ratio(src: StoreWindows) -> float:
    """Bytes of genome-store chunks an epoch decodes, per byte of the windows served.

    Examples
    --------
    >>> import genomarray as ga
    >>> from genomarray.batches import BatchEngine, Request
    >>> dna = ga.read_fasta(ga.example_path("genome.fa"), progress=False)
    >>> v = dna.janggu.view(ga.tile(ga.example_path("roi.bed"), binsize=200))
    >>> src = BatchEngine([Request("x", v)], max_memory_bytes=0, spill=False).sources["x"]
    >>> round(decode_ratio(src), 2) > 0
    True
    """
    first = src.first_key()
    touched = len(np.unique(first[first >= 0]))
    held = src.n * int(np.prod(src.row_shape, dtype=np.int64)) * src.dtype.itemsize
    return touched * src.chunk_bytes / max(held, 1)


def _spill_key(src: StoreWindows) -> str:
    """Cache key of a spilled view: the genome store's write (its manifest digest) and
    every window's geometry, orientation and fill."""
    from genomarray.genome.cache import CACHE_FORMAT

    digest = hashlib.sha256()
    for name in ("ci", "win_start", "valid_lo", "valid_hi", "minus"):
        digest.update(np.ascontiguousarray(getattr(src, name)).tobytes())
    if src.complement is not None:
        digest.update(np.ascontiguousarray(src.complement).tobytes())
    head = {
        "path": src.reader.path,
        "var": src.reader.var,
        "digest": src.reader.digest,
        "width": src.width,
        "fill": repr(src.fill),
        "strand_axis": src.strand_axis,
        "dtype": str(src.dtype),
        "windows": digest.hexdigest(),
        "format": CACHE_FORMAT,
    }
    payload = json.dumps(head, sort_keys=True, default=str)
    return f"spill-{hashlib.sha256(payload.encode()).hexdigest()[:24]}"


def _take_rows(src: StoreWindows, rows: np.ndarray) -> np.ndarray:
    """Rows ``rows`` (in genome order) of ``src``, read in runs with the same first chunk,
    so a read holds a chunk or two, however many chunks the rows span."""
    out = np.empty((len(rows), *src.row_shape), dtype=src.dtype)
    for lo, hi in zip(*(r.tolist() for r in runs(src.first_key()[rows])), strict=True):
        out[lo:hi] = src.take(rows[lo:hi])
    return out


def _spilled_array(src: StoreWindows, arr: xr.DataArray, storage: np.ndarray) -> xr.DataArray:
    """``arr``'s rows in ``storage`` order, lazily: one task per region chunk, each
    gathering its windows through ``src`` (chunks decoded once, in genome order)."""
    import dask
    import dask.array as da

    row_bytes = max(int(np.prod(src.row_shape, dtype=np.int64)) * src.dtype.itemsize, 1)
    rows = max(1, min(src.n, ROWS_PER_CHUNK_BYTES // row_bytes))
    blocks = [
        da.from_delayed(
            dask.delayed(_take_rows, pure=False)(src, storage[lo : lo + rows]),
            shape=(len(storage[lo : lo + rows]), *src.row_shape),
            dtype=src.dtype,
        )
        for lo in range(0, src.n, rows)
    ]
    data = da.concatenate(blocks, axis=0).rechunk({0: rows})
    ordered = arr.isel({model.REGION: storage})
    return ordered.copy(data=data)


class SpilledRows(Source):
    """The rows of a view, read from the view store it was spilled to (rows stored in
    genome order: ``rank[r]`` is the stored row of view row ``r``). Laid out like the
    :class:`~genomarray.batches.sources.StoreWindows` it replaces (``ci``,
    ``win_start``, :meth:`first_key`), so the engine's blocks follow its region chunks.
    """

    def __init__(self, inner: StoreRows, storage: np.ndarray, like: StoreWindows) -> None:
        self.inner = inner
        self.rank = np.empty(len(storage), np.int64)
        self.rank[storage] = np.arange(len(storage))
        self.ci, self.win_start = like.ci, like.win_start
        self.n, self.row_shape, self.dtype = inner.n, inner.row_shape, inner.dtype
        self.chunk_bytes = inner.chunk_bytes
        self.path = inner.reader.path

    @property
    def capacity(self) -> int:  # type: ignore[override]
        return self.inner.capacity

    @property
    def resident(self) -> bool:  # type: ignore[override]
        return self.inner.resident

    def first_key(self) -> np.ndarray:
        """Region chunk of the spilled store holding each row."""
        return self.inner.chunk_of(self.rank)

    def take(self, rows: np.ndarray) -> np.ndarray:
        return self.inner.take(self.rank[np.asarray(rows, np.int64).reshape(-1)])

    def chunk_keys(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.inner.chunk_keys(self.rank[np.asarray(rows, np.int64).reshape(-1)])

    def serve_as(self, dtype: Any) -> None:
        self.inner.serve_as(dtype)
        self.dtype, self.chunk_bytes = self.inner.dtype, self.inner.chunk_bytes

    def attach(self, executor: Executor, capacity: int, cache_bytes: int = CACHE_BYTES) -> None:
        self.inner.attach(executor, capacity, cache_bytes)

    def prefetch(self, keys: np.ndarray) -> None:
        self.inner.prefetch(keys)


def spill(src: StoreWindows, arr: xr.DataArray, raw: bool = True) -> SpilledRows:
    """``arr`` (a lazy view read through ``src``) written once to a view store in the
    cache, in genome order, and read from there (reused while the genome store and the
    windows are the same).

    Examples
    --------
    >>> import genomarray as ga
    >>> from genomarray.batches import BatchEngine, Request
    >>> dna = ga.read_fasta(ga.example_path("genome.fa"), progress=False)
    >>> v = dna.janggu.view(ga.tile(ga.example_path("roi.bed"), binsize=200))
    >>> src = BatchEngine([Request("x", v)], max_memory_bytes=0, spill=False).sources["x"]
    >>> rows = spill(src, v, raw=True)
    >>> bool((rows.take(np.arange(3)) == v.values[:3]).all())
    True
    """
    from genomarray.genome.cache import cached

    storage = np.lexsort((src.win_start, src.ci)).astype(np.int64)
    stored = cached(_spill_key(src), lambda: _spilled_array(src, arr, storage), progress=False)
    recipe = model.recipe_of(stored)
    if recipe is None or recipe.get("op") != model.RECIPE_STORE:
        raise ValueError(f"spilled view store {stored.encoding.get('store')} cannot be read")
    inner = StoreRows(recipe["path"], recipe["var"], raw, digest=recipe.get("digest"), cache=True)
    if inner.n != src.n or inner.row_shape != src.row_shape or inner.dtype != src.dtype:
        raise ValueError(f"spilled view store {recipe['path']} holds another view")
    return SpilledRows(inner, storage, src)


def spilled_if_sparse(src: StoreWindows, arr: xr.DataArray, raw: bool = True) -> Source:
    """``src``, or, where its windows are sparse on the store (:func:`decode_ratio` above
    :data:`SPILL_RATIO`), the view spilled once (:func:`spill`). Not spilled: a store
    opened without its manifest digest (nothing would tell its rewrites apart), or a
    spilled store that does not read back as written."""
    if src.reader.digest is None or decode_ratio(src) <= SPILL_RATIO:
        return src
    try:
        return spill(src, arr, raw)
    except (ValueError, OSError) as err:  # not readable back, or the cache not writable
        genome = os.path.abspath(src.reader.path)
        if isinstance(err, StoreError) and os.path.abspath(os.fspath(err.source)) == genome:
            raise  # the genome store itself is damaged: say so now
        warnings.warn(
            f"{src.reader.path}: the sparse view was not spilled to the cache ({err}); "
            "it is read from the genome store",
            stacklevel=2,
        )
        src.drop_cache()  # sized for the spill pass: made again for the batches
        return src


__all__ = [
    "ROWS_PER_CHUNK_BYTES",
    "SPILL_RATIO",
    "SpilledRows",
    "decode_ratio",
    "spill",
    "spilled_if_sparse",
]
