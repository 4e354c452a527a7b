"""Batch sources: where the rows of one array come from, as plain numpy.

=====================  ==========================================  =======================
source                 for                                         a batch reads
=====================  ==========================================  =======================
:class:`NumpySource`   arrays in memory                            ``np.take`` of its rows
:class:`StoreRows`     views written to zarr (``write_zarr``,      the region chunks its
                       ``write_shuffled``) and reopened             rows lie in, decoded once
:class:`StoreWindows`  lazy views of a genome-wide zarr store      the genome chunks its
                       (sequence codes or coverage), or of a       windows touch, decoded
                       genome-wide array read from its files       (or read) once; windows
                       with no store (``cache=False``)             gathered and turned
:class:`DaskRows`      any other dask-backed array                 one ``dask.compute`` per
                                                                   region chunk
=====================  ==========================================  =======================

Chunks are decoded into a :class:`~genomarray.batches.chunks.SlabCache`: each chunk once
while it is cached, several in parallel threads, ahead of use when the engine asks.
:func:`source_of` picks the fast source of a lazy array from the recipe its maker recorded
(:func:`genomarray.model.record_recipe`), checked against the array's dask name: an
array changed after it was made gets :class:`DaskRows`, which is slower but computes
exactly ``arr.values``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from genomarray import model
from genomarray.batches.chunks import (
    CACHE_BYTES,
    ChunkReader,
    ReaderChunks,
    SlabCache,
    fork_generation,
)
from genomarray.threads import scratch
from genomarray.views import windows_fns

Executor = Callable[[], ThreadPoolExecutor]


def _rows_of(rows: Any) -> np.ndarray:
    return np.asarray(rows, dtype=np.int64).reshape(-1)


def run_of(rows: np.ndarray) -> slice | None:
    """``rows`` as a slice when they are a run of consecutive rows (else None).

    Examples
    --------
    >>> run_of(np.array([3, 4, 5])), run_of(np.array([3, 5]))
    (slice(3, 6, None), None)
    """
    if len(rows) and rows[-1] - rows[0] == len(rows) - 1 and np.all(np.diff(rows) == 1):
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return None


class Source:
    """One array's rows. Subclasses read chunks (``chunked``) or hold them (in memory)."""

    n: int
    row_shape: tuple[int, ...]
    dtype: np.dtype
    in_memory = False
    region_chunked = False  # chunks are ranges of rows (``bounds``)
    chunk_bytes = 0
    capacity = 0  # chunks its cache holds (sources that read chunks)
    resident = False  # every chunk it needs is held (and pinned): nothing more to decode

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The rows ``rows`` (any order, repeats allowed) as one numpy array."""
        raise NotImplementedError

    def serve_as(self, dtype: Any) -> None:
        """Hold the rows in ``dtype`` (of at most the stored itemsize) from now on, cast
        once rather than every batch (in memory: the array; from a store: each chunk, in
        the thread that decodes it)."""
        raise NotImplementedError

    def chunk_keys(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in ``rows``, chunk key) of every chunk each row needs."""
        return np.zeros(0, np.int64), np.zeros(0, np.int64)

    def attach(self, executor: Executor, capacity: int, cache_bytes: int = CACHE_BYTES) -> None:
        """Give the source its thread pool and cache capacity: ``capacity`` chunks, at
        most ``cache_bytes`` of them (but at least 4)."""

    def prefetch(self, keys: np.ndarray) -> None:
        """Start decoding chunks ``keys`` in the background."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.n}, row_shape={self.row_shape}, {self.dtype})"


class NumpySource(Source):
    """Rows of an array held in memory.

    Examples
    --------
    >>> NumpySource(np.arange(6).reshape(3, 2)).take(np.array([2, 0])).tolist()
    [[4, 5], [0, 1]]
    """

    in_memory = True

    def __init__(self, data: Any) -> None:
        self.data = np.asarray(data)
        self.n = int(self.data.shape[0])
        self.row_shape = tuple(self.data.shape[1:])
        self.dtype = self.data.dtype

    def take(self, rows: np.ndarray) -> np.ndarray:
        rows = _rows_of(rows)
        run = run_of(rows)
        if run is not None:
            return self.data[run]  # a run of rows: a view, no copy
        return np.take(self.data, rows, axis=0)

    def serve_as(self, dtype: Any) -> None:
        self.data = self.data.astype(dtype)
        self.dtype = self.data.dtype


class _Cached(Source):
    """A source that reads whole chunks through a :class:`SlabCache` (made on first use,
    again in a forked process)."""

    slot_shape: tuple[int, ...]

    stored_dtype: np.dtype | None = None  # set by serve_as: chunks cast from it

    def __init__(self) -> None:
        self._executor: Executor | None = None
        self._capacity = 4
        self._cache: SlabCache | None = None
        self._pid = -1
        self._keys: np.ndarray | None = None  # every chunk key the rows need (sorted)
        self._resident: tuple[SlabCache, dict, np.ndarray] | None = None
        self._tried: tuple[SlabCache, int] | None = None  # (cache, its loads) last tried

    def serve_as(self, dtype: Any) -> None:
        """See :meth:`Source.serve_as`; before the first read.

        Examples
        --------
        >>> import dask.array as da
        >>> src = DaskRows(da.arange(6, chunks=2).reshape(3, 2))
        >>> src.serve_as("float32")
        >>> src.take(np.array([2, 0])).tolist(), src.take(np.array([1])).dtype
        ([[4.0, 5.0], [0.0, 1.0]], dtype('float32'))
        """
        dtype = np.dtype(dtype)
        if self._cache is not None or dtype.itemsize > self.dtype.itemsize:
            raise ValueError(f"cannot serve {self.dtype} chunks as {dtype} here")
        if dtype == self.dtype:
            return
        self.chunk_bytes = self.chunk_bytes // self.dtype.itemsize * dtype.itemsize
        self.stored_dtype, self.dtype = self.stored_dtype or self.dtype, dtype

    def _fill(self, key: int, out: np.ndarray) -> None:
        """Chunk ``key`` into ``out`` (a slot), cast from the stored dtype if it differs."""
        if self.stored_dtype is None:
            self._load_into(key, out)
            return
        stored = scratch("decode before cast", out.shape, self.stored_dtype)
        self._load_into(key, stored)
        out[...] = stored

    def attach(self, executor: Executor, capacity: int, cache_bytes: int = CACHE_BYTES) -> None:
        self._executor = executor
        limit = max(4, int(cache_bytes) // max(self.chunk_bytes, 1))
        self._capacity = int(min(max(int(capacity), 4), limit))

    @property
    def capacity(self) -> int:  # type: ignore[override]
        """Chunks the cache holds (the cache's own, once it is made in this process)."""
        cache = self._own_cache()
        return self._capacity if cache is None else cache.capacity

    def _own_cache(self) -> SlabCache | None:
        """The cache if this process made it (a forked child makes its own)."""
        return self._cache if self._pid == fork_generation() else None

    def drop_cache(self) -> None:
        """Forget the cache and its chunks (made again on the next read, at the capacity
        attached then)."""
        self._cache, self._resident, self._tried = None, None, None

    @property
    def cache(self) -> SlabCache:
        if self._cache is None or self._pid != fork_generation():
            executor = self._executor or _private_pool()
            self._cache = SlabCache(
                self._fill, self.slot_shape, self.dtype, self._capacity, executor
            )
            self._pid = fork_generation()
        return self._cache

    def _load_into(self, key: int, out: np.ndarray) -> None:
        raise NotImplementedError

    def prefetch(self, keys: np.ndarray) -> None:
        self.cache.prefetch(int(k) for k in keys)

    # -- every chunk held ---------------------------------------------------------------
    @property
    def resident(self) -> bool:  # type: ignore[override]
        return self._held(self._own_cache()) is not None

    def _held(self, cache: SlabCache | None) -> tuple[SlabCache, dict, np.ndarray] | None:
        """(cache, pins, row starts) if every chunk is held in ``cache``, else None."""
        res = self._resident
        return res if res is not None and cache is not None and res[0] is cache else None

    def _all_keys(self) -> np.ndarray:
        if self._keys is None:
            self._keys = np.unique(self.chunk_keys(np.arange(self.n))[1])
        return self._keys

    def _hold_all(self, cache: SlabCache) -> None:
        """Once ``cache`` holds every chunk the rows need (it has room for all of them),
        pin them for good and note where each row starts in the slab (:meth:`_starts`):
        a batch is then one gather, with no cache bookkeeping and nothing to read ahead."""
        if self._tried == (cache, cache.loads) or cache.capacity < len(self._all_keys()):
            return
        self._tried = (cache, cache.loads)
        keys = self._all_keys()
        if not len(keys) or cache.loads < len(keys):
            return
        got = cache.pin_held(keys.tolist())
        if got is None:
            return
        slots = _slots(got, keys)
        starts = None if slots is None else self._starts(keys, slots)
        if starts is None:
            cache.release(got)
            return
        self._resident = (cache, got, np.asarray(starts, np.int64))

    def _starts(self, keys: np.ndarray, slots: np.ndarray) -> np.ndarray | None:
        """Each row's first row in the slab's flat rows, chunk ``keys[i]`` being in slot
        ``slots[i]`` (None: no such layout)."""
        return None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"] = None
        state["_executor"] = None
        for k in ("_view", "_resident", "_tried"):  # of this process's slab and pins
            if k in state:
                state[k] = None
        return state


def _private_pool() -> Executor:
    pool: list[ThreadPoolExecutor] = []

    def get() -> ThreadPoolExecutor:
        if not pool:
            pool.append(ThreadPoolExecutor(2, thread_name_prefix="ga-chunks"))
        return pool[0]

    return get


def _slots(got: dict, keys: np.ndarray) -> np.ndarray | None:
    """Slot of each key (an array like ``keys``), or None if one was loaded apart."""
    if any(isinstance(v, np.ndarray) for v in got.values()):
        return None
    known = np.fromiter(got, np.int64, len(got))
    slots = np.fromiter(got.values(), np.int64, len(got))
    order = np.argsort(known)
    return slots[order][np.searchsorted(known[order], keys)]


class _RowChunks(_Cached):
    """Rows read in region chunks ``[store_bounds[k], store_bounds[k + 1])`` of the
    stored rows; ``index`` (increasing) maps this source's rows to stored rows (a subset),
    ``bounds`` are the chunk boundaries in this source's rows."""

    region_chunked = True
    bounds: np.ndarray
    store_bounds: np.ndarray
    index: np.ndarray | None = None

    def _setup(self) -> None:
        rows = int(np.diff(self.store_bounds).max(initial=1))
        self.slot_shape = (max(rows, 1), *self.row_shape)
        self.chunk_bytes = int(np.prod(self.slot_shape, dtype=np.int64)) * self.dtype.itemsize
        if self.index is None:
            self.bounds = self.store_bounds
        else:
            self.bounds = np.unique(np.searchsorted(self.index, self.store_bounds))

    def _stored(self, rows: np.ndarray) -> np.ndarray:
        return rows if self.index is None else self.index[rows]

    def chunk_of(self, rows: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.store_bounds, self._stored(rows), side="right") - 1

    def chunk_keys(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = _rows_of(rows)
        return np.arange(len(rows)), self.chunk_of(rows)

    def _starts(self, keys: np.ndarray, slots: np.ndarray) -> np.ndarray | None:
        rows = np.arange(self.n)
        chunk = self.chunk_of(rows)
        local = self._stored(rows) - self.store_bounds[chunk]
        return slots[np.searchsorted(keys, chunk)] * self.slot_shape[0] + local

    def take(self, rows: np.ndarray) -> np.ndarray:
        rows = _rows_of(rows)
        cache = self.cache
        res = self._held(cache)
        if res is not None:  # every chunk held: one gather
            return np.take(cache.slab.reshape(-1, *self.row_shape), res[2][rows], axis=0)
        out = self._take_cached(rows, cache)
        self._hold_all(cache)
        return out

    def _take_cached(self, rows: np.ndarray, cache: SlabCache) -> np.ndarray:
        chunk = self.chunk_of(rows)
        got = cache.get(np.unique(chunk).tolist())
        try:
            local = self._stored(rows) - self.store_bounds[chunk]
            slots = _slots(got, chunk)
            if slots is not None:  # one gather from the slab for the whole batch
                flat = cache.slab.reshape(-1, *self.row_shape)
                return np.take(flat, slots * self.slot_shape[0] + local, axis=0)
            out = np.empty((len(rows), *self.row_shape), dtype=self.dtype)
            for k in got:
                sel = np.flatnonzero(chunk == k)
                out[sel] = np.take(cache.chunk(got, k), local[sel], axis=0)
            return out
        finally:
            cache.release(got)


class StoreRows(_RowChunks):
    """Rows of a view store (``region`` first) read straight from its zarr chunks.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile, os
    >>> from genomarray.genome.store import write_zarr
    >>> roi = pd.DataFrame({"chrom": ["c"] * 5, "start": range(5), "end": range(1, 6)})
    >>> v = model.region_view(np.arange(10.0).reshape(5, 2), roi)
    >>> p = write_zarr(v, os.path.join(tempfile.mkdtemp(), "v.zarr"),
    ...                chunks={"region": 2}, progress=False)
    >>> StoreRows(str(p), "view").take(np.array([4, 1])).tolist()
    [[8.0, 9.0], [2.0, 3.0]]
    """

    def __init__(
        self,
        path: str,
        var: str,
        raw: bool = True,
        index: np.ndarray | None = None,
        digest: int | None = None,
        cache: bool = False,
    ) -> None:
        super().__init__()
        self.reader = ChunkReader(path, var, raw, digest, cache)
        shape, chunks = self.reader.shape, self.reader.chunks
        self.row_shape = tuple(shape[1:])
        self.dtype = self.reader.dtype
        rows = max(chunks[0], 1)
        self.store_bounds = np.append(np.arange(0, shape[0], rows), shape[0]).astype(np.int64)
        if index is not None:
            index = np.asarray(index, np.int64)
            if len(index) and (
                np.any(np.diff(index) <= 0) or index[0] < 0 or index[-1] >= shape[0]
            ):
                raise ValueError("StoreRows reads increasing rows of the store")
        self.index = index
        self.n = shape[0] if index is None else len(index)
        self._setup()

    def _load_into(self, key: int, out: np.ndarray) -> None:
        self.reader.read_chunk_into(int(key), (), out)


class DaskRows(_RowChunks):
    """Rows of any dask-backed array: one ``dask.compute`` per region chunk (the fallback:
    correct for any graph, slower than reading stores directly)."""

    def __init__(self, data: Any) -> None:
        super().__init__()
        self.data = data
        self.n = int(data.shape[0])
        self.row_shape = tuple(int(s) for s in data.shape[1:])
        self.dtype = np.dtype(data.dtype)
        self.store_bounds = np.cumsum((0, *data.chunks[0])).astype(np.int64)
        self._setup()

    def _load_into(self, key: int, out: np.ndarray) -> None:
        import dask

        lo, hi = int(self.bounds[key]), int(self.bounds[key + 1])
        (value,) = dask.compute(self.data[lo:hi])
        out[: hi - lo] = np.asarray(value)


class StoreWindows(_Cached):
    """Windows of a genome-wide store ``(chrom, pos, ...)``, gathered from its chunks.

    Each row's window is ``[win_start, win_start + width)`` bins on chromosome ``ci``,
    valid in ``[valid_lo, valid_hi)`` (``fill`` elsewhere), as
    :func:`genomarray.views.geometry.cut_layout` lays it out; minus-strand rows are turned
    with :func:`genomarray.views.windows_fns.orient`. Chunk keys are
    ``ci * n_chunks + k`` for chunk ``k`` along ``pos``.
    """

    def __init__(self, recipe: dict[str, Any], raw: bool = True) -> None:
        super().__init__()
        store = recipe["of"]
        self.reader: ChunkReader | ReaderChunks
        if store["op"] == model.RECIPE_READER:  # no store: the reader's blocks
            self.reader = ReaderChunks(store)
        else:
            self.reader = ChunkReader(
                store["path"], store["var"], raw, store.get("digest"), bool(store.get("cache"))
            )
        shape, chunks = self.reader.shape, self.reader.chunks
        self.step = max(int(chunks[1]), 1)
        self.n_chunks = -(-shape[1] // self.step) if shape[1] else 1
        self.trailing = tuple(shape[2:])
        self.dtype = self.reader.dtype
        self.ci = np.asarray(recipe["ci"], np.int64)
        self.win_start = np.asarray(recipe["win_start"], np.int64)
        self.valid_lo = np.asarray(recipe["valid_lo"], np.int64)
        self.valid_hi = np.asarray(recipe["valid_hi"], np.int64)
        self.width = int(recipe["width"])
        self.minus = np.asarray(recipe["minus"], bool)
        comp = recipe.get("complement")
        self.complement = None if comp is None else np.asarray(comp)
        self.strand_axis = recipe.get("strand_axis")
        self.fill = recipe["fill"]
        self.n = len(self.ci)
        self.row_shape = (self.width, *self.trailing)
        per_pos = int(np.prod(self.trailing, dtype=np.int64)) * self.dtype.itemsize
        self.chunk_bytes = self.step * per_pos
        self.slot_shape = (self.step, *self.trailing)
        self._view: tuple[int, np.ndarray] | None = None
        has = self.valid_hi > self.valid_lo
        self._k0 = np.where(has, self.valid_lo // self.step, -1)
        self._k1 = np.where(has, (np.maximum(self.valid_hi, 1) - 1) // self.step, -1)
        # per row, what a batch needs, in one table (one fancy index per batch): the key of
        # its first chunk, its first bin's row in that chunk, and whether the whole window
        # lies inside that chunk with no padding (then it is one slice of the chunk)
        inside = (
            has
            & (self._k0 == self._k1)
            & (self.win_start >= self.valid_lo)
            & (self.win_start + self.width <= self.valid_hi)
        )
        self._table = np.stack(
            [
                self.ci * self.n_chunks + self._k0,
                self.win_start - self._k0 * self.step,
                inside.astype(np.int64),
            ]
        )
        self._all_inside = bool(inside.all())
        self._any_minus = bool(self.minus.any())

    def first_key(self) -> np.ndarray:
        """Key of the chunk holding each row's first valid bin (-1: no valid bin)."""
        return np.where(self._k0 >= 0, self.ci * self.n_chunks + self._k0, -1)

    def chunk_keys(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = _rows_of(rows)
        k0, k1 = self._k0[rows], self._k1[rows]
        reps = np.where(k0 >= 0, k1 - k0 + 1, 0)
        pos = np.repeat(np.arange(len(rows)), reps)
        step = np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)
        keys = np.repeat(self.ci[rows] * self.n_chunks + k0, reps) + step
        return pos, keys

    def _load_into(self, key: int, out: np.ndarray) -> None:
        ci, k = divmod(int(key), self.n_chunks)
        self.reader.read_chunk_into(k, (ci,), out)

    def _windows(self, slab: np.ndarray) -> np.ndarray:
        """Read-only window view of the whole slab: row ``r`` is bins ``r .. r + width``
        of the slab's rows (built once per slab)."""
        if self._view is None or self._view[0] != id(slab):
            flat = slab.reshape(-1, *self.trailing)
            self._view = (id(slab), _windows_of(flat, self.width))
        return self._view[1]

    def _starts(self, keys: np.ndarray, slots: np.ndarray) -> np.ndarray | None:
        if self.capacity * self.step < self.width:  # (no window fits in the slab)
            return None
        key, first, inside = self._table
        at = np.searchsorted(keys, key).clip(0, len(keys) - 1)
        ok = (inside == 1) & (keys[at] == key)  # the others are copied apart
        return np.where(ok, slots[at] * self.step + first, 0)

    def take(self, rows: np.ndarray) -> np.ndarray:
        rows = _rows_of(rows)
        if len(rows) == 0:
            return np.empty((0, *self.row_shape), dtype=self.dtype)
        key, first, inside = self._table[:, rows]
        whole = self._all_inside or bool(inside.all())
        apart = None if whole else np.flatnonzero(inside == 0)
        cache = self.cache
        res = self._held(cache)
        if res is not None:  # every chunk held: one gather
            out = self._windows(cache.slab)[res[2][rows]]
            if apart is not None:
                self._copy_apart(out, rows, apart, res[1], cache)
            return self._oriented(out, rows)
        out = self._take_cached(rows, key, first, inside, apart, cache)
        self._hold_all(cache)
        return self._oriented(out, rows)

    def _oriented(self, out: np.ndarray, rows: np.ndarray) -> np.ndarray:
        if not self._any_minus:
            return out
        return turn(out, self.minus[rows], self.complement, self.strand_axis)

    def _take_cached(
        self,
        rows: np.ndarray,
        key: np.ndarray,
        first: np.ndarray,
        inside: np.ndarray,
        apart: np.ndarray | None,
        cache: SlabCache,
    ) -> np.ndarray:
        """The windows of ``rows`` (their ``_table`` columns) through the cache: their
        chunks pinned (loaded if missing) for one gather from the slab, released after."""
        needed = key
        if apart is not None:  # windows across chunks or padded: copied piece by piece
            needed = np.concatenate([key[inside == 1], self.chunk_keys(rows[apart])[1]])
            key, first = key.copy(), first.copy()
            key[apart], first[apart] = key[inside.argmax()], 0
        got = cache.get(np.unique(needed).tolist())
        try:
            slots = _slots(got, key) if apart is None or len(apart) < len(rows) else None
            if slots is not None and len(cache.slab) * self.step >= self.width:
                # one gather from the slab for the whole batch (no window crosses a slot)
                out = self._windows(cache.slab)[slots * self.step + first]
            else:
                out = self._take_chunkwise(got, key, first, inside, cache)
            if apart is not None:
                self._copy_apart(out, rows, apart, got, cache)
        finally:
            cache.release(got)
        return out

    def _take_chunkwise(
        self, got: dict, key: np.ndarray, first: np.ndarray, inside: np.ndarray, cache: SlabCache
    ) -> np.ndarray:
        """The windows inside one chunk gathered chunk by chunk (a chunk was loaded apart
        from the slab); the others are left for :meth:`_copy_apart`."""
        out = np.empty((len(key), *self.row_shape), dtype=self.dtype)
        fast = np.flatnonzero(inside)
        for k in np.unique(key[fast]).tolist():
            sel = fast[key[fast] == k]
            out[sel] = _windows_of(cache.chunk(got, k), self.width)[first[sel]]
        return out

    def _copy_apart(
        self, out: np.ndarray, rows: np.ndarray, apart: np.ndarray, got: dict, cache: SlabCache
    ) -> None:
        """Windows across chunks or with padding, row ``i`` of ``apart`` at a time: the
        valid bins ``[valid_lo, valid_hi)`` copied from each chunk they lie in, ``fill``
        around them."""
        step = self.step
        for i in apart.tolist():
            r = int(rows[i])
            k0, k1 = int(self._k0[r]), int(self._k1[r])
            ws = int(self.win_start[r])
            lo = max(int(self.valid_lo[r]), ws)
            hi = min(int(self.valid_hi[r]), ws + self.width)
            if k0 < 0 or lo > ws or hi < ws + self.width:  # padded (or no valid bin)
                out[i] = self.fill
            if k0 < 0 or lo >= hi:
                continue
            base = int(self.ci[r]) * self.n_chunks
            for k in range(k0, k1 + 1):
                a, b = max(lo, k * step), min(hi, (k + 1) * step)
                if a < b:
                    out[i, a - ws : b - ws] = cache.chunk(got, base + k)[
                        a - k * step : b - k * step
                    ]


def _windows_of(flat: np.ndarray, width: int) -> np.ndarray:
    """Read-only ``(T - width + 1, width, ...)`` view: row ``s`` is ``flat[s : s + width]``."""
    return as_strided(
        flat,
        shape=(max(len(flat) - width + 1, 0), width, *flat.shape[1:]),
        strides=(flat.strides[0], *flat.strides),
        writeable=False,
    )


def turn(
    windows: np.ndarray,
    minus: np.ndarray,
    complement: np.ndarray | None = None,
    strand_axis: int | None = None,
) -> np.ndarray:
    """:func:`genomarray.views.windows_fns.orient` in place, ~10x faster where the axes
    after ``pos`` reverse as one: positions (and strands) reversed as one flat axis, so
    the copy's inner loop is long, not a loop over a size-1 ``condition`` axis.

    Examples
    --------
    >>> w = np.arange(8.0).reshape(2, 2, 2, 1)
    >>> turn(w.copy(), np.array([False, True]), strand_axis=2)[1, :, :, 0].tolist()
    [[7.0, 6.0], [5.0, 4.0]]
    """
    rows = np.flatnonzero(minus)
    if not len(rows):
        return windows
    trailing = windows.shape[2:]
    inner = int(np.prod(trailing, dtype=np.int64))
    stranded = strand_axis is not None
    if stranded and inner != trailing[strand_axis - 2] or not windows.flags.c_contiguous:
        return windows_fns.orient(windows, minus, complement, strand_axis)
    if not stranded and inner > 1:  # whole trailing blocks keep their order
        flipped = windows[rows, ::-1]
    else:
        flat = windows.reshape(len(windows), -1)
        flipped = flat[rows, ::-1].reshape((len(rows), *windows.shape[1:]))
    if complement is not None:
        flipped = np.take(complement, flipped)
    windows[rows] = flipped
    return windows


def runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends of the runs of equal consecutive values.

    Examples
    --------
    >>> [x.tolist() for x in runs(np.array([3, 3, 1, 1, 1, 3]))]
    [[0, 2, 5], [2, 5, 6]]
    """
    if len(values) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    change = np.flatnonzero(values[1:] != values[:-1]) + 1
    return np.r_[0, change], np.r_[change, len(values)]


def resolve(recipe: dict[str, Any]) -> tuple[dict, dict | None, np.ndarray | None]:
    """(base recipe, one-hot recipe or None, rows or None) of a recipe: what is stored
    (a genome store's windows or a view store), whether it is one-hot encoded per batch,
    and which of its regions it keeps (subsets and shuffles compose).

    Raises ``ValueError`` for recipes the engine cannot redo.
    """
    op = recipe.get("op")
    if op in (model.RECIPE_STORE, model.RECIPE_WINDOWS):
        return recipe, None, None
    if op == model.RECIPE_ONEHOT:
        base, onehot, rows = resolve(recipe["of"])
        if onehot is not None:
            raise ValueError("one-hot of a one-hot")
        return base, recipe, rows
    if op == model.RECIPE_ROWS:
        base, onehot, rows = resolve(recipe["of"])
        mine = np.asarray(recipe["rows"], np.int64)
        return base, onehot, mine if rows is None else rows[mine]
    raise ValueError(f"no batch source reads recipe {op!r}")


def verified_recipe(arr: Any) -> dict[str, Any] | None:
    """The recipe of a lazy array if the engine knows how to redo it, else None.

    Checked here: the recorded dask name is the array's
    (:func:`genomarray.model.recipe_of`) and the recipe is one the engine knows; the
    engine checks that the source's shape and dtype are the array's.
    """
    recipe = model.recipe_of(arr)
    if recipe is None:
        return None
    try:
        resolve(recipe)
    except (ValueError, KeyError, TypeError):
        return None
    return recipe


def source_of(recipe: dict[str, Any], raw: bool = True) -> tuple[Source, dict | None]:
    """The source that reads what ``recipe`` stores (see :func:`resolve`) and the one-hot
    recipe to apply per batch (None: served as read)."""
    base, onehot, rows = resolve(recipe)
    if base["op"] == model.RECIPE_STORE:
        return (
            StoreRows(
                base["path"],
                base["var"],
                raw,
                index=rows,
                digest=base.get("digest"),
                cache=bool(base.get("cache")),
            ),
            onehot,
        )
    if rows is not None:
        base = {
            **base,
            **{k: np.asarray(base[k])[rows] for k in windows_fns.PER_REGION_KEYS if k in base},
        }
    return StoreWindows(base, raw), onehot


__all__ = [
    "DaskRows",
    "NumpySource",
    "Source",
    "StoreRows",
    "StoreWindows",
    "resolve",
    "run_of",
    "source_of",
    "verified_recipe",
]
