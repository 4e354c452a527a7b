"""The batch engine: shuffled or ordered batches of region views as plain numpy, no dask.

Dask builds and normalises views; it does not sit in the training loop (``DESIGN.md``,
"Speed: where dask belongs"). :class:`BatchEngine` turns each array it serves into a
*batch source* (:mod:`genomarray.batches.sources`):

- numpy-backed arrays are used as they are;
- dask-backed arrays that together fit ``max_memory_bytes`` are read into memory at once;
- larger ones stay on disk: lazy views of a genome store and views reopened from zarr
  are read straight from their zarr chunks (each chunk decoded once, several in parallel
  threads, the next ones read ahead); any other dask array is computed one region chunk
  at a time.

A batch is then plain numpy: rows taken from the sources, the same random augmentation
draw applied to every array of an example (on the small uint8 codes, before one-hot), and
sequence codes one-hot encoded with :func:`genomarray.encode.onehot`. Framework adapters
(:class:`genomarray.keras.GenomicSequence`, :mod:`genomarray.torch`) only pack the
batches.

Shuffling
---------
In memory, ``shuffle=True`` draws a full permutation of the regions per epoch, seeded by
``(seed, epoch)``. Out of core, a full permutation would read a chunk per example, so the
order is shuffled *within a buffer of whole blocks*. Regions are laid out in *storage
order* (their order, or genome order when every on-disk array is a view of a genome
store) and cut into blocks at the chunk boundaries of the on-disk arrays; the block order
is permuted per epoch, consecutive groups of ``buffer_chunks`` blocks form buffers, and
the regions are permuted inside each buffer. Every region is still seen exactly once per
epoch and each chunk is decoded about once per epoch. Each on-disk array holds the
decoded chunks of about three look-ahead windows (a window: the examples of one buffer),
at most ``cache_bytes`` (default :data:`~genomarray.batches.chunks.CACHE_BYTES`, and at
least 4 chunks). Inside a batch, examples come in storage order: a batch is a random draw
of its buffer either way, and its reads run through the chunks in order.

Augmentation draws are keyed by ``(seed, epoch, region)``
(:class:`~genomarray.transforms.augment.RegionRandom`): an example gets the same draw
whichever batch or worker process reads it.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from genomarray import encode, model
from genomarray.batches.chunks import CACHE_BYTES, fork_generation
from genomarray.batches.sources import (
    DaskRows,
    NumpySource,
    Source,
    StoreWindows,
    run_of,
    source_of,
    verified_recipe,
)
from genomarray.batches.spill import SpilledRows, spilled_if_sparse
from genomarray.errors import InputError
from genomarray.threads import reuse_freed_memory
from genomarray.transforms.augment import CODES, ArraySpec, RegionRandom, as_augmentation

MAX_MEMORY_BYTES = 2 << 30
"""Default budget for reading dask-backed arrays into memory at construction."""

PIECE_ROWS = 1024
"""Rows per piece when one request's one-hot is written by several threads."""


@dataclass
class Request:
    """One array to serve.

    Attributes
    ----------
    key
        Its name in the batch dicts (and in error messages).
    array
        A region view (DataArray with ``region`` first), or a numpy/dask array with one
        row per region.
    order
        One-hot order to expand sequence codes to per batch (None: as stored).
    dtype
        dtype of the batches (None: as stored).
    augmented
        Whether augmentations apply to it.
    """

    key: str
    array: Any
    order: int | None = None
    dtype: np.dtype | None = None
    augmented: bool = True


class _Served:
    """An array as the engine serves it: source, augmentation spec, one-hot, dtype."""

    def __init__(self, req: Request, who: str) -> None:
        self.key = req.key
        self.order = req.order
        self.dtype = None if req.dtype is None else np.dtype(req.dtype)
        self.spec: ArraySpec | None = None
        self.alphabet = encode.DNA
        self.onehot_dtype: np.dtype | None = None  # one-hot of stored codes (a recipe)
        arr = req.array
        if isinstance(arr, xr.DataArray):
            if not arr.dims or arr.dims[0] != model.REGION:
                raise InputError(
                    f"{req.key}: expected a view with dims ({model.REGION!r}, ...), "
                    f"got {tuple(arr.dims)}",
                    source=who,
                )
            if req.augmented or req.order is not None:
                self.spec = ArraySpec.of(arr)
            if req.order is not None and self.spec is not None and self.spec.kind != CODES:
                raise InputError(
                    f"{req.key}: onehot_order applies to sequence code views "
                    f"(region, pos) of uint8 codes; this one is a {self.spec.kind} array",
                    source=who,
                )
            self.alphabet = str(arr.attrs.get(model.ALPHABET, encode.DNA))
            data = arr.data
            if not req.augmented:
                self.spec = None
        else:
            data = arr
            if req.augmented:  # plain arrays: one value per region, never changed
                self.spec = ArraySpec(kind=model.PER_REGION, pos_axis=None)
        self.array = arr
        self.lazy = hasattr(data, "dask") and hasattr(data, "chunks")
        self.data = data if self.lazy else np.asarray(data)
        self.n = int(self.data.shape[0])
        self.recipe = verified_recipe(arr) if self.lazy else None
        self.source: Source | None = None if self.lazy else NumpySource(self.data)

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.data.shape, dtype=np.int64)) * self.data.dtype.itemsize

    def fast_source(self, raw: bool) -> Source | None:
        """The source reading this array's recipe, if it reproduces the array exactly."""
        if self.recipe is None:
            return None
        try:
            src, onehot = source_of(self.recipe, raw)
        except (OSError, ValueError, KeyError):  # a store gone, or rows it cannot read
            return None
        shape = (src.n, *src.row_shape)
        if onehot is None:
            if shape != tuple(self.data.shape) or src.dtype != self.data.dtype:
                return None
            return src
        order = int(onehot["order"])
        if len(shape) != 2 or src.dtype != np.uint8:
            return None
        if encode.onehot_shape(shape, order, str(onehot["alphabet"])) != tuple(self.data.shape):
            return None
        if np.dtype(onehot["dtype"]) != self.data.dtype:
            return None
        # served as codes: augmented as codes, then one-hot (exactly the one-hot augmented)
        self.onehot_dtype = np.dtype(onehot["dtype"])
        self.order = order
        self.alphabet = str(onehot["alphabet"])
        if self.spec is not None:
            self.spec = ArraySpec(
                CODES, 1, None, None, 1, self.alphabet, 1, encode.unknown_code(self.alphabet)
            )
        return src

    def held_dtype(self, stored: np.dtype) -> np.dtype | None:
        """The dtype to hold this array's rows in instead of ``stored``: the served dtype
        where that takes no more bytes (int32 coverage served as float32), so batches are
        not cast one by one; None: as stored."""
        if self.order is not None or self.dtype is None or self.dtype == stored:
            return None
        return self.dtype if self.dtype.itemsize <= stored.itemsize else None

    def finish(self, batch: np.ndarray, pool: ThreadPoolExecutor | None = None) -> np.ndarray:
        """One-hot codes and cast, after augmentation (one-hot of many rows: in pieces,
        side by side in ``pool``'s threads)."""
        if self.order is not None:
            dtype = self.onehot_dtype or self.dtype or np.dtype("float32")
            if pool is None or len(batch) < 2 * PIECE_ROWS:
                batch = encode.onehot(batch, self.order, self.alphabet, dtype=dtype)
            else:
                batch = _onehot_in_pieces(batch, self.order, self.alphabet, dtype, pool)
        if self.dtype is not None and batch.dtype != self.dtype:
            return batch.astype(self.dtype)
        return batch


def _onehot_in_pieces(
    codes: np.ndarray, order: int, alphabet: str, dtype: np.dtype, pool: ThreadPoolExecutor
) -> np.ndarray:
    """:func:`genomarray.encode.onehot` of many rows, pieces of rows written side by side
    into one result by ``pool``'s threads (numpy's take releases the GIL).

    Examples
    --------
    >>> codes = np.random.default_rng(0).integers(0, 5, (3 * PIECE_ROWS, 9)).astype(np.uint8)
    >>> with ThreadPoolExecutor(2) as pool:
    ...     got = _onehot_in_pieces(codes, 2, encode.DNA, np.dtype("uint8"), pool)
    >>> bool(np.array_equal(got, encode.onehot(codes, 2, dtype="uint8")))
    True
    """
    out = np.empty(encode.onehot_shape(codes.shape, order, alphabet), dtype)

    def piece(lo: int) -> None:
        hi = lo + PIECE_ROWS
        encode.onehot(codes[lo:hi], order, alphabet, dtype, out=out[lo:hi])

    for fut in [pool.submit(piece, lo) for lo in range(0, len(codes), PIECE_ROWS)]:
        fut.result()
    return out


def _codes(arr: Any) -> bool:
    return isinstance(arr, xr.DataArray) and model.is_codes_view(arr)


def onehot_order_of(onehot_order: Any, key: Any, arr: Any) -> int | None:
    """The one-hot order of the input ``key``: ``onehot_order`` is an int for every code
    view, a dict ``{name or position: order}``, or None (codes as they are).

    Examples
    --------
    >>> import genomarray as ga
    >>> seqs = ga.read_sequences(ga.example_path("seqs.fa"))
    >>> onehot_order_of(2, "dna", seqs), onehot_order_of({"dna": 3}, "dna", seqs)
    (2, 3)
    """
    if onehot_order is None:
        return None
    if isinstance(onehot_order, Mapping):
        order = onehot_order.get(key, onehot_order.get(str(key)))
        return None if order is None else int(order)
    return int(onehot_order) if _codes(arr) else None


def served_dtype(arr: Any, order: int | None, dtype: Any) -> np.dtype | None:
    """The dtype an adapter serves ``arr`` in: ``dtype`` (None: as stored), except that
    sequence codes not one-hot encoded stay uint8 codes (for a ``OneHot`` layer in the
    model: a batch 4·4ᵏ× smaller than its one-hot).

    Examples
    --------
    >>> import genomarray as ga
    >>> seqs = ga.read_sequences(ga.example_path("seqs.fa"))
    >>> served_dtype(seqs, None, "float32") is None, served_dtype(seqs, 1, "float32")
    (True, dtype('float32'))
    """
    if order is None and _codes(arr):
        return None
    return None if dtype is None else np.dtype(dtype)


def _read_all(
    src: Source, executor: Any, threads: int = 1, rows_per_read: int = 2048
) -> np.ndarray:
    """Every row of ``src``, read in genome (or storage) order, by ``threads`` threads
    side by side: each reads a group of rows (see :func:`_groups`), decoding its chunks
    and gathering them straight into the result.

    Examples
    --------
    >>> src = NumpySource(np.arange(12).reshape(6, 2))
    >>> _read_all(src, None, threads=2, rows_per_read=4)[-1].tolist()
    [10, 11]
    """
    n = src.n
    order = np.arange(n)
    if isinstance(src, StoreWindows):
        order = np.lexsort((src.win_start, src.ci))
    src.attach(executor, 2 + 2 * threads)  # few slots: reused, not touched anew
    out = np.empty((n, *src.row_shape), dtype=src.dtype)

    def read(group: tuple[int, int]) -> None:
        rows = order[group[0] : group[1]]
        run = run_of(rows)
        out[rows if run is None else run] = src.take(rows)  # a run: no fancy assignment

    groups = _groups(src, order, rows_per_read)
    if threads < 2 or len(groups) < 2:
        for group in groups:
            read(group)
        return out
    # a pool of its own: its tasks wait on chunk loads, which run in ``executor``'s
    with ThreadPoolExecutor(min(threads, len(groups)), thread_name_prefix="ga-read") as pool:
        for fut in [pool.submit(read, group) for group in groups]:
            fut.result()
    return out


def _groups(src: Source, order: np.ndarray, rows_per_read: int) -> list[tuple[int, int]]:
    """(start, end) in ``order`` of the groups :func:`_read_all` reads: runs of rows whose
    first chunk is the same, at most ``rows_per_read`` rows each. A group then needs one
    chunk (two where a window crosses into the next), so the memory of the threads
    reading side by side is a few chunks, however sparse the rows are on the genome.

    Examples
    --------
    >>> _groups(NumpySource(np.zeros((5, 1))), np.arange(5), 2)
    [(0, 2), (2, 4), (4, 5)]
    """
    n = len(order)
    cuts = np.arange(0, n + 1, max(int(rows_per_read), 1))
    if isinstance(src, StoreWindows):
        keys = src.first_key()[order]
    elif src.region_chunked:
        keys = src.chunk_keys(order)[1]
    else:
        keys = None
    if keys is not None and n > 1:
        cuts = np.union1d(cuts, np.flatnonzero(keys[1:] != keys[:-1]) + 1)
    cuts = np.union1d(cuts, [n])
    return list(zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True))


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of the augmentation draws of ``epoch``.

    Examples
    --------
    >>> epoch_seed(0, 1) != epoch_seed(0, 2)
    True
    """
    state = np.random.SeedSequence([int(seed) & ((1 << 63) - 1), int(epoch)]).generate_state(2)
    return (int(state[0]) << 32) | int(state[1])


class BatchEngine:
    """Batches of region views as dicts of numpy arrays, for any training framework.

    Parameters
    ----------
    requests
        The arrays to serve (:class:`Request`), all with the same number of regions.
    batch_size
        Examples per batch; the last batch may be shorter.
    shuffle
        Shuffle the examples each epoch (see the module notes for the out-of-core order).
    seed
        Seed of the shuffles and the augmentation draws (random if None, then fixed).
    augment
        ``"flip"``, ``"shift"``, ``"scale"``, an
        :class:`~genomarray.transforms.augment.Augmentation` or a list of them.
    max_memory_bytes
        Dask-backed arrays are read into memory at construction when together they take
        at most this many bytes; larger ones are read chunk by chunk.
    buffer_chunks
        Blocks per shuffle buffer.
    threads
        Threads that decode chunks (default: up to 4, one per core).
    who
        Name used in error messages.
    raw
        Decode zarr chunk files directly where possible (False: through zarr's API).
    spill
        Out of core, write a view whose windows are sparse on their genome store once to
        a view store in the cache and read it from there (see
        ``genomarray.batches.spill``); False: always read the genome store.
    cache_bytes
        Out of core, the most bytes of decoded chunks held per array (at least 4 chunks
        are held whatever it says). Where an epoch needs more chunks than that, each is
        decoded again every epoch.

    Examples
    --------
    >>> import genomarray as ga
    >>> seqs = ga.read_sequences(ga.example_path("seqs.fa"))
    >>> eng = BatchEngine([Request("dna", seqs, order=1)], batch_size=8)
    >>> len(eng), eng.batch(0)["dna"].shape
    (4, (8, 200, 4))
    """

    def __init__(
        self,
        requests: Sequence[Request],
        *,
        batch_size: int = 32,
        shuffle: bool = False,
        seed: int | None = None,
        augment: Any = None,
        max_memory_bytes: int = MAX_MEMORY_BYTES,
        buffer_chunks: int = 4,
        threads: int | None = None,
        who: str = "BatchEngine",
        raw: bool = True,
        spill: bool = True,
        cache_bytes: int = CACHE_BYTES,
    ) -> None:
        if isinstance(batch_size, bool) or int(batch_size) < 1:
            raise InputError(f"batch_size must be >= 1, got {batch_size}", source=who)
        if int(buffer_chunks) < 1:
            raise InputError(f"buffer_chunks must be >= 1, got {buffer_chunks}", source=who)
        if isinstance(cache_bytes, bool) or int(cache_bytes) < 1:
            raise InputError(f"cache_bytes must be >= 1, got {cache_bytes}", source=who)
        self.cache_bytes = int(cache_bytes)
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = int(np.random.SeedSequence().entropy % (1 << 63)) if seed is None else int(seed)
        self.augmentation = None if augment is None else as_augmentation(augment)
        self.buffer_chunks = int(buffer_chunks)
        self.threads = max(1, int(threads or min(4, os.cpu_count() or 1)))
        self.epoch = 0
        self.served = [_Served(r, who) for r in requests]
        if not self.served:
            raise InputError("no arrays to serve", source=who)
        sizes = {s.key: s.n for s in self.served}
        self.n = self.served[0].n
        bad = [k for k, n in sizes.items() if n != self.n]
        if bad:
            raise InputError(
                f"{bad[0]} has {sizes[bad[0]]} examples, expected {self.n}", source=who
            )
        reuse_freed_memory()  # batch-sized blocks reused, not page-faulted in anew
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pid = fork_generation()
        self._materialise(int(max_memory_bytes), raw, bool(spill))
        self._specs = {s.key: s.spec for s in self.served if s.spec is not None}
        self._layout()
        self._init_runtime()

    # -- construction ---------------------------------------------------------------------
    def _materialise(self, budget: int, raw: bool, spill: bool = True) -> None:
        """Read the lazy arrays that fit ``budget`` into memory; give the others sources
        (sparse windows: spilled to a view store once, if ``spill``)."""
        import dask

        lazy = [s for s in self.served if s.lazy]
        fast = {id(s): s.fast_source(raw) for s in lazy}
        if sum(s.nbytes for s in lazy) <= budget:
            compute = [s for s in lazy if fast[id(s)] is None]
        else:  # arrays with a fast source stay on disk; the others if they fit
            slow = [s for s in lazy if fast[id(s)] is None]
            compute = slow if sum(s.nbytes for s in slow) <= budget else []
            for s in lazy:
                if s not in compute:
                    s.source = fast[id(s)] or DaskRows(s.data)
                if spill and isinstance(s.source, StoreWindows) and s.onehot_dtype is None:
                    s.source = spilled_if_sparse(s.source, s.array, raw)
        for s, v in zip(compute, dask.compute(*[s.data for s in compute]), strict=True):
            s.data, s.source = np.asarray(v), NumpySource(v)
        for s in lazy:
            src = fast[id(s)] if s.source is None else s.source  # None: fits, read it
            assert src is not None
            held = s.held_dtype(src.dtype) if self.augmentation is None else None
            if held is not None:  # (augmentations see the values as stored)
                src.serve_as(held)  # before reading: straight into the served dtype
            if s.source is None:
                src = NumpySource(_read_all(src, self._executor, self.threads))
            s.source = src
            if src.in_memory:
                s.data = src.data  # the array as held (not a copy as stored besides)
            s.lazy = not src.in_memory

    def _layout(self) -> None:
        """Storage order and blocks (see the module notes)."""
        ooc = [s.source for s in self.served if not s.source.in_memory]
        self._ooc = ooc
        n = self.n
        self.storage = np.arange(n, dtype=np.int64)
        if not ooc:
            self.bounds = np.array([0, n], dtype=np.int64)
            return
        cuts = {0, n}
        rows_chunked = [s for s in ooc if s.region_chunked]
        if rows_chunked:
            for s in rows_chunked:
                cuts.update(np.asarray(s.bounds).tolist())
        else:
            windows = [s for s in ooc if isinstance(s, (StoreWindows, SpilledRows))]
            first = windows[0]
            self.storage = np.lexsort((first.win_start, first.ci)).astype(np.int64)
            for s in windows:
                keys = s.first_key()[self.storage]
                cuts.update((np.flatnonzero(keys[1:] != keys[:-1]) + 1).tolist())
        self.bounds = np.array(sorted(cuts), dtype=np.int64)
        self._rank = np.empty(n, np.int64)  # each region's position in storage order
        self._rank[self.storage] = np.arange(n)
        sizes = np.diff(self.bounds)
        span = np.convolve(sizes, np.ones(self.buffer_chunks, np.int64), mode="full")
        self._lookahead = int(max(self.batch_size, span.max(initial=1)))

    def _init_runtime(self) -> None:
        self._lock = threading.Lock()
        self._pool = None
        self._pid = fork_generation()
        self._orders: dict[int, np.ndarray] = {}
        self._schedules: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        self._ahead = (-1, 0, 0)  # (epoch, hi, upto) of the last read-ahead
        for s in self._ooc:
            s.attach(self._executor, 4, self.cache_bytes)
        if self._ooc:  # sizes the caches before their first use
            self._schedule(self.epoch)

    def _fresh(self) -> None:
        """In a forked child (keras or torch worker processes), drop the parent's threads,
        locks and caches (a lock held by a parent thread would never be released)."""
        if self._pid != fork_generation():
            self._init_runtime()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="ga-batches")
            return self._pool

    def close(self) -> None:
        """Stop the decoding threads (they restart when needed)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    # -- pickling: no threads, no open stores, no cached chunks -------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for k in ("_lock", "_pool", "_pid", "_orders", "_schedules", "_ahead"):
            state.pop(k, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_runtime()

    # -- what it holds --------------------------------------------------------------------
    @property
    def in_memory(self) -> bool:
        """Whether every array is held in memory."""
        return not self._ooc

    @property
    def n_blocks(self) -> int:
        """Number of blocks the out-of-core arrays are read in (1 in memory)."""
        return len(self.bounds) - 1

    @property
    def keys(self) -> list[str]:
        return [s.key for s in self.served]

    @property
    def sources(self) -> dict[str, Source]:
        """The source of each array."""
        return {s.key: s.source for s in self.served}

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size)

    # -- order ----------------------------------------------------------------------------
    def order(self, epoch: int | None = None) -> np.ndarray:
        """Region indices in the order the batches of ``epoch`` visit them."""
        epoch = self.epoch if epoch is None else int(epoch)
        if not self.shuffle:
            return np.arange(self.n)
        self._fresh()
        with self._lock:
            cached = self._orders.get(epoch)
        if cached is not None:
            return cached
        rng = np.random.default_rng([self.seed, epoch, 0])
        if self.in_memory:
            order = rng.permutation(self.n)
        else:
            blocks = rng.permutation(self.n_blocks)
            out = []
            for i in range(0, len(blocks), self.buffer_chunks):
                rows = np.concatenate(
                    [
                        self.storage[self.bounds[b] : self.bounds[b + 1]]
                        for b in blocks[i : i + self.buffer_chunks]
                    ]
                )
                out.append(rng.permutation(rows))
            order = np.concatenate(out) if out else np.arange(0)
            # inside a batch (and a buffer), examples come in storage order: a batch is a
            # random draw of its buffer either way, and its reads run through the chunks
            ends = np.cumsum([len(o) for o in out])
            cuts = np.union1d(ends, np.arange(self.batch_size, self.n, self.batch_size))
            segment = np.searchsorted(cuts, np.arange(self.n), side="right")
            order = order[np.lexsort((self._rank[order], segment))]
        with self._lock:
            self._orders = {e: o for e, o in self._orders.items() if abs(e - epoch) <= 1}
            self._orders[epoch] = order
        return order

    def rows(self, index: int, epoch: int | None = None) -> np.ndarray:
        """Region indices of batch ``index`` of ``epoch``."""
        index = int(index)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} out of range for {len(self)} batches")
        lo, hi = index * self.batch_size, min(self.n, (index + 1) * self.batch_size)
        if not self.shuffle:
            return np.arange(lo, hi)
        return self.order(epoch)[lo:hi]

    # -- reading --------------------------------------------------------------------------
    def _schedule(self, epoch: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per out-of-core source: (position, chunk key) of the chunks the epoch's order
        needs, once per look-ahead window, sorted by position; sizes the caches."""
        key = epoch if self.shuffle else 0
        with self._lock:
            got = self._schedules.get(key)
        if got is not None:
            return got
        order = self.order(epoch)
        out = []
        L = self._lookahead
        for s in self._ooc:
            pos, keys = s.chunk_keys(order)
            window = pos // L
            span = int(keys.max(initial=0)) + 2
            _, first = np.unique(window * span + keys + 1, return_index=True)
            first.sort()
            pos, keys = pos[first], keys[first]
            per_window = np.bincount(window[first]) if len(first) else np.zeros(1, np.int64)
            s.attach(self._executor, 3 * int(per_window.max(initial=1)) + 2, self.cache_bytes)
            out.append((pos, keys))
        with self._lock:
            self._schedules = {k: v for k, v in self._schedules.items() if abs(k - key) <= 1}
            self._schedules[key] = out
        return out

    def _read_ahead(self, hi: int, epoch: int) -> None:
        """Start decoding the chunks the next ``lookahead`` examples after ``hi`` need,
        those of every source queued in the order they are needed (the first batch of a
        buffer needs all of its chunks: one source's later chunks must not delay
        another's first ones). Batches read one after another queue only what the
        previous batch's read-ahead did not reach yet, and each source at most half its
        cache's slots ahead: more would evict chunks queued earlier before they are used,
        and decode them again."""
        with self._lock:
            last = self._ahead
        start = last[2] if last[0] == epoch and last[1] <= hi <= last[2] else hi
        reached = hi + self._lookahead
        todo = []
        for i, (pos, keys) in enumerate(self._schedule(epoch)):
            now, a, b = np.searchsorted(pos, [hi, start, reached])
            room = max(self._ooc[i].capacity // 2, 1) - int(a - now)  # minus those queued
            if b - a > room:  # the rest is queued by the next batches
                b = a + max(room, 0)
                reached = min(reached, int(pos[b]))
            todo += zip(pos[a:b].tolist(), [i] * int(b - a), keys[a:b].tolist(), strict=True)
        with self._lock:
            self._ahead = (epoch, hi, max(reached, start))
        todo = [t for t in todo if t[0] < reached]  # what every source has queued
        for i, run in itertools.groupby(sorted(todo), key=lambda t: t[1]):
            self._ooc[i].prefetch(np.array([k for _, _, k in run]))

    def take(self, rows: Any, epoch: int | None = None) -> dict[str, np.ndarray]:
        """The examples ``rows`` as a batch: read, augmented (draws keyed by region and
        epoch) and finished (one-hot, dtype)."""
        self._fresh()
        epoch = self.epoch if epoch is None else int(epoch)
        if isinstance(rows, slice):  # a run of rows (in order): in memory, a view
            run = rows
            rows = np.arange(*rows.indices(self.n))
        else:
            rows = np.asarray(rows, dtype=np.int64).reshape(-1)
            run = None
            if len(rows) and (rows.min() < 0 or rows.max() >= self.n):
                raise IndexError(f"rows out of range for {self.n} examples")
        batch = {
            s.key: s.source.data[run]
            if run is not None and isinstance(s.source, NumpySource)
            else s.source.take(rows)
            for s in self.served
        }
        if self.augmentation is not None and self._specs:
            params = self.augmentation.draw(
                len(rows), RegionRandom(epoch_seed(self.seed, epoch), rows)
            )
            for k, spec in self._specs.items():
                batch[k] = self.augmentation.apply(np.asarray(batch[k]), params, spec)
        pool = self._executor() if self.threads > 1 and len(rows) >= 2 * PIECE_ROWS else None
        return {s.key: s.finish(batch[s.key], pool) for s in self.served}

    def batch(self, index: int, epoch: int | None = None) -> dict[str, np.ndarray]:
        """Batch ``index`` of ``epoch`` (default: the current one)."""
        self._fresh()
        epoch = self.epoch if epoch is None else int(epoch)
        rows = self.rows(index, epoch)
        index = int(index) + (len(self) if int(index) < 0 else 0)
        if self._ooc and not all(s.resident for s in self._ooc):
            # this batch's chunks and the next ones start loading in parallel
            self._read_ahead(index * self.batch_size, epoch)
        if not self.shuffle:
            return self.take(
                slice(index * self.batch_size, index * self.batch_size + len(rows)), epoch
            )
        return self.take(rows, epoch)


__all__ = [
    "MAX_MEMORY_BYTES",
    "BatchEngine",
    "Request",
    "epoch_seed",
    "onehot_order_of",
    "served_dtype",
]
