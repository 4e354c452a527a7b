"""``GenomicSequence``: a keras 3 ``PyDataset`` over region views, with no dask per batch.

Dask builds and normalises views; it does not sit in the training loop (see
``DESIGN.md``, "Speed: where dask belongs"). At construction every array becomes a
*batch source*:

- numpy-backed views are used as they are;
- dask-backed views (lazy views of a zarr genome, or views reopened from zarr) are
  computed at once when together they fit ``max_memory_bytes``;
- larger ones stay on disk and are read one *block* (a region-chunk of the dask array)
  at a time, with one ``dask.compute`` per block, kept in a small LRU cache.

A batch is then plain numpy: rows gathered from the sources, the same random augmentation
draw applied to every array of an example (on the small uint8 codes, before one-hot), and
sequence codes one-hot encoded with :func:`genomarray.encode.onehot`.

Shuffling
---------
In memory, ``shuffle=True`` draws a full permutation of the regions per epoch, seeded by
``(seed, epoch)``. Out of core, a full permutation would read a block per example, so the
order is shuffled *within a buffer of whole blocks*: the block order is permuted per epoch,
consecutive groups of ``buffer_chunks`` blocks form buffers, and the regions are permuted
inside each buffer. Every region is still seen exactly once per epoch, each block is read
about once per epoch, and at most ``2 * buffer_chunks`` blocks are held in memory.

:meth:`GenomicSequence.on_epoch_end` (called by keras) advances the epoch. Augmentation
draws come from a generator seeded by ``(seed, epoch, batch index)``: batches are
reproducible whatever order keras' workers fetch them in.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import dask
import dask.array as da
import numpy as np
import xarray as xr

from genomarray import encode, model
from genomarray.errors import InputError
from genomarray.transforms.augment import CODES, ArraySpec, as_augmentation, augment_batch

try:  # keras is an optional extra: the module imports (for doctests) without it
    import keras

    _PyDataset: Any = keras.utils.PyDataset
except ImportError:  # pragma: no cover - exercised only without the extra
    keras = None
    _PyDataset = object

MAX_MEMORY_BYTES = 2 << 30
"""Default budget for computing dask-backed views into memory at construction."""

_SINGLE, _LIST, _DICT = "single", "list", "dict"


def _structure(obj: Any, what: str) -> tuple[str, list[Any], list[Any]]:
    """Split ``obj`` into (structure, keys, arrays)."""
    if isinstance(obj, Mapping):
        if not obj:
            raise InputError(f"{what} is an empty dict", source="GenomicSequence")
        return _DICT, list(obj), list(obj.values())
    if isinstance(obj, list | tuple):
        if not obj:
            raise InputError(f"{what} is an empty list", source="GenomicSequence")
        return _LIST, list(range(len(obj))), list(obj)
    return _SINGLE, [0], [obj]


def _pack(structure: str, keys: list[Any], arrays: list[np.ndarray]) -> Any:
    if structure == _DICT:
        return dict(zip(keys, arrays, strict=True))
    if structure == _LIST:
        return tuple(arrays)
    return arrays[0]


def _check_regions(first: xr.DataArray, first_name: str, other: xr.DataArray, name: str) -> None:
    """Raise naming the first region where ``other`` differs from ``first``."""
    if other.sizes[model.REGION] != first.sizes[model.REGION]:
        raise InputError(
            f"{name} has {other.sizes[model.REGION]} regions but {first_name} "
            f"has {first.sizes[model.REGION]}",
            source="GenomicSequence",
        )
    for coord in (model.REGION_CHROM, model.REGION_START, model.REGION_END):
        if coord not in first.coords or coord not in other.coords:
            continue
        a = np.asarray(first[coord].values)
        b = np.asarray(other[coord].values)
        diff = np.flatnonzero(a.astype(str) != b.astype(str) if a.dtype == object else a != b)
        if diff.size:
            i = int(diff[0])
            raise InputError(
                f"{name} and {first_name} do not share the same regions: region {i} is "
                f"{_region_str(other, i)} in {name} but {_region_str(first, i)} in "
                f"{first_name}",
                source="GenomicSequence",
            )


def _region_str(arr: xr.DataArray, i: int) -> str:
    return (
        f"{arr[model.REGION_CHROM].values[i]}:{int(arr[model.REGION_START].values[i])}-"
        f"{int(arr[model.REGION_END].values[i])}"
    )


class _Array:
    """One input, output or weight array: its spec, one-hot order and batch source."""

    def __init__(
        self, key: str, arr: Any, order: int | None, dtype: np.dtype | None, augmented: bool
    ) -> None:
        self.key = key
        self.order = order
        self.dtype = dtype
        self.spec: ArraySpec | None = None
        if isinstance(arr, xr.DataArray):
            if arr.dims[0] != model.REGION:
                raise InputError(
                    f"{key}: expected a view with dims ({model.REGION!r}, ...), "
                    f"got {tuple(arr.dims)}",
                    source="GenomicSequence",
                )
            if augmented or order is not None:
                self.spec = ArraySpec.of(arr)
            if order is not None and self.spec is not None and self.spec.kind != CODES:
                raise InputError(
                    f"{key}: onehot_order applies to sequence code views "
                    f"(region, pos) of uint8 codes; this one is a "
                    f"{self.spec.kind} array",
                    source="GenomicSequence",
                )
            self.alphabet = str(arr.attrs.get(model.ALPHABET, encode.DNA))
            data = arr.data
        else:
            self.alphabet = encode.DNA
            data = arr
            if augmented:  # plain arrays: one value per region, never changed
                self.spec = ArraySpec(kind=model.PER_REGION, pos_axis=None)
        self.lazy = isinstance(data, da.Array)
        self.data: Any = data if self.lazy else np.asarray(data)
        self.n = int(self.data.shape[0])

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.data.shape, dtype=np.int64)) * self.data.dtype.itemsize

    def finish(self, batch: np.ndarray) -> np.ndarray:
        """One-hot codes and cast, after augmentation."""
        if self.order is not None:
            return encode.onehot(batch, self.order, self.alphabet, dtype=self.dtype or "float32")
        if self.dtype is not None and batch.dtype != self.dtype:
            return batch.astype(self.dtype)
        return batch


class GenomicSequence(_PyDataset):  # type: ignore[misc, valid-type]
    """Batches of region views for keras 3 ``fit``, ``evaluate`` and ``predict``.

    Parameters
    ----------
    inputs
        A view, a list of views or a dict ``{model input name: view}``: sequence code
        views ``(region, pos)`` (one-hot encoded per batch when ``onehot_order`` is set),
        one-hot views, coverage views ``(region, pos, strand, condition)`` or per-region
        arrays. All must share the same regions (``chrom``, ``start``, ``end``).
    outputs
        Targets in the same forms, or None (``predict``: batches hold only ``x``).
    sample_weights
        Per-example weights in the structure of ``outputs`` (arrays of length n or
        views); never augmented.
    batch_size
        Examples per batch; the last batch may be shorter.
    shuffle
        Shuffle the examples each epoch (see the module notes for the out-of-core order).
    seed
        Seed of the shuffles and the augmentation draws (random if None, then fixed for
        the life of this object).
    augment
        ``"flip"``, ``"shift"``, ``"scale"``, an
        :class:`~genomarray.transforms.augment.Augmentation` or a list of them: one draw
        per example, applied to all its inputs and outputs.
    onehot_order
        One-hot order for the sequence code views: an int for all of them, a dict
        ``{name or position: order}``, or None to feed the uint8 codes as they are.
    dtype
        dtype of the one-hot and of all other inputs and outputs (None: as stored).
    max_memory_bytes
        Dask-backed views are computed into memory at construction when together they
        take at most this many bytes; larger ones are read one region-chunk at a time
        (up to ``2 * buffer_chunks`` chunks cached).
    buffer_chunks
        Blocks per shuffle buffer and LRU cache size of the out-of-core path.
    workers, use_multiprocessing, max_queue_size
        Passed to :class:`keras.utils.PyDataset`.

    Examples
    --------
    >>> import genomarray as ga  # doctest: +SKIP
    >>> from genomarray.keras import GenomicSequence  # doctest: +SKIP
    >>> seq = GenomicSequence({"dna": codes_view}, labels, onehot_order=1,
    ...                       batch_size=64, shuffle=True, seed=0,
    ...                       augment="flip")  # doctest: +SKIP
    >>> model.fit(seq, validation_data=val_seq, epochs=10)  # doctest: +SKIP
    """

    def __init__(
        self,
        inputs: Any,
        outputs: Any = None,
        *,
        sample_weights: Any = None,
        batch_size: int = 32,
        shuffle: bool = False,
        seed: int | None = None,
        augment: Any = None,
        onehot_order: int | Mapping[Any, int] | None = None,
        dtype: str | np.dtype | None = "float32",
        max_memory_bytes: int = MAX_MEMORY_BYTES,
        buffer_chunks: int = 4,
        workers: int = 1,
        use_multiprocessing: bool = False,
        max_queue_size: int = 10,
    ) -> None:
        if keras is None:  # pragma: no cover
            raise ImportError("GenomicSequence needs keras 3: pip install 'genomarray[keras]'")
        super().__init__(
            workers=workers, use_multiprocessing=use_multiprocessing, max_queue_size=max_queue_size
        )
        if int(batch_size) < 1:
            raise InputError(f"batch_size must be >= 1, got {batch_size}", source="GenomicSequence")
        if int(buffer_chunks) < 1:
            raise InputError(
                f"buffer_chunks must be >= 1, got {buffer_chunks}", source="GenomicSequence"
            )
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = int(np.random.SeedSequence().entropy % (1 << 63)) if seed is None else int(seed)
        self.augmentation = None if augment is None else as_augmentation(augment)
        self.buffer_chunks = int(buffer_chunks)
        self.epoch = 0
        out_dtype = None if dtype is None else np.dtype(dtype)
        aug = self.augmentation is not None

        self._parts: dict[str, tuple[str, list[Any], list[_Array]]] = {}
        first: tuple[str, xr.DataArray] | None = None
        n: int | None = None
        for part, obj in (("x", inputs), ("y", outputs), ("w", sample_weights)):
            if obj is None:
                continue
            what = {"x": "inputs", "y": "outputs", "w": "sample_weights"}[part]
            structure, keys, arrays = _structure(obj, what)
            made = []
            for k, arr in zip(keys, arrays, strict=True):
                label = what if structure == _SINGLE else f"{what}[{k!r}]"
                order = self._order_of(onehot_order, k, arr) if part == "x" else None
                if isinstance(arr, xr.DataArray):
                    if first is None:
                        first = (label, arr)
                    else:
                        _check_regions(first[1], first[0], arr, label)
                a = _Array(
                    label,
                    arr,
                    order,
                    np.dtype("float32") if part == "w" else out_dtype,
                    aug and part != "w",
                )
                if n is None:
                    n = a.n
                elif a.n != n:
                    raise InputError(
                        f"{label} has {a.n} examples, expected {n}", source="GenomicSequence"
                    )
                made.append(a)
            self._parts[part] = (structure, keys, made)
        if "x" not in self._parts:
            raise InputError("inputs is None", source="GenomicSequence")
        if "w" in self._parts and "y" not in self._parts:
            raise InputError("sample_weights need outputs", source="GenomicSequence")
        self.n = int(n or 0)
        self._arrays = [a for _, _, arrs in self._parts.values() for a in arrs]
        self._specs = {a.key: a.spec for a in self._arrays if a.spec is not None}
        self._materialise(int(max_memory_bytes))
        self._lock = threading.Lock()
        self._cache: OrderedDict[int, list[np.ndarray]] = OrderedDict()
        self._pending: dict[int, Future] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._order: np.ndarray | None = None
        self._order_epoch = -1

    # -- construction ---------------------------------------------------------------------
    @staticmethod
    def _order_of(onehot_order: Any, key: Any, arr: Any) -> int | None:
        if onehot_order is None:
            return None
        if isinstance(onehot_order, Mapping):
            order = onehot_order.get(key, onehot_order.get(str(key)))
            return None if order is None else int(order)
        codes = isinstance(arr, xr.DataArray) and arr.ndim == 2 and ArraySpec.of(arr).kind == CODES
        return int(onehot_order) if codes else None

    def _materialise(self, budget: int) -> None:
        """Compute dask sources that fit ``budget``; split the others into blocks."""
        lazy = [a for a in self._arrays if a.lazy]
        fits = sum(a.nbytes for a in lazy) <= budget
        if lazy and fits:
            values = dask.compute(*[a.data for a in lazy])
            for a, v in zip(lazy, values, strict=True):
                a.data, a.lazy = np.asarray(v), False
        self._ooc = [a for a in self._arrays if a.lazy]
        if not self._ooc:
            self.bounds = np.array([0, self.n], dtype=np.int64)
            return
        cuts = {0, self.n}
        for a in self._ooc:
            cuts.update(np.cumsum((0, *a.data.chunks[0])).tolist())
        # blocks are whole dask chunks: a smaller block would decompress a zarr chunk
        # several times; memory held is at most 2 * buffer_chunks blocks
        self.bounds = np.array(sorted(cuts), dtype=np.int64)

    @property
    def in_memory(self) -> bool:
        """Whether every source is held in memory (else blocks are read from dask)."""
        return not self._ooc

    @property
    def n_blocks(self) -> int:
        """Number of blocks the out-of-core sources are read in (1 in memory)."""
        return len(self.bounds) - 1

    # -- epochs and order -----------------------------------------------------------------
    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size)

    def on_epoch_end(self) -> None:
        """Advance the epoch: a new shuffle and new augmentation draws."""
        self.epoch += 1

    def order(self, epoch: int | None = None) -> np.ndarray:
        """Region indices in the order the batches of ``epoch`` visit them."""
        epoch = self.epoch if epoch is None else int(epoch)
        if not self.shuffle:
            return np.arange(self.n)
        rng = np.random.default_rng([self.seed, epoch, 0])
        if self.in_memory:
            return rng.permutation(self.n)
        blocks = rng.permutation(self.n_blocks)
        out = []
        for i in range(0, len(blocks), self.buffer_chunks):
            rows = np.concatenate(
                [
                    np.arange(self.bounds[b], self.bounds[b + 1])
                    for b in blocks[i : i + self.buffer_chunks]
                ]
            )
            out.append(rng.permutation(rows))
        return np.concatenate(out) if out else np.arange(0)

    def _indices(self, index: int) -> np.ndarray | slice:
        lo, hi = index * self.batch_size, min(self.n, (index + 1) * self.batch_size)
        if not self.shuffle:
            return slice(lo, hi)
        with self._lock:
            if self._order_epoch != self.epoch:
                self._order, self._order_epoch = self.order(), self.epoch
            order = self._order
        assert order is not None
        return order[lo:hi]

    # -- reading --------------------------------------------------------------------------
    def _fetch(self, b: int) -> list[np.ndarray]:
        """Compute block ``b`` (one ``dask.compute`` for all out-of-core arrays), cache it."""
        lo, hi = int(self.bounds[b]), int(self.bounds[b + 1])
        values = [np.asarray(v) for v in dask.compute(*[a.data[lo:hi] for a in self._ooc])]
        with self._lock:
            self._cache[b] = values
            self._pending.pop(b, None)
            while len(self._cache) > 2 * self.buffer_chunks:
                self._cache.popitem(last=False)
        return values

    def _block(self, b: int) -> list[np.ndarray]:
        with self._lock:
            if b in self._cache:
                self._cache.move_to_end(b)
                return self._cache[b]
            pending = self._pending.get(b)
        if pending is not None:  # being read ahead: wait for it instead of reading twice
            return pending.result()
        return self._fetch(b)

    def _read_ahead(self, index: int) -> None:
        """Start reading, in one background thread, the first block the coming batches
        need that is neither cached nor pending, looking ahead about one block of batches,
        so decompressing the next chunk overlaps building the current batches."""
        if not self._ooc:
            return
        block_rows = int(np.diff(self.bounds).max(initial=1))
        ahead = min(len(self), index + 2 + block_rows // max(self.batch_size, 1))
        with self._lock:
            if self._pending:
                return  # one read ahead at a time: keeps memory and contention bounded
        for j in range(index + 1, ahead):
            idx = self._indices(j)
            rows = np.arange(idx.start, idx.stop) if isinstance(idx, slice) else idx
            blocks = np.unique(np.searchsorted(self.bounds, rows, side="right") - 1)
            with self._lock:
                todo = [
                    b for b in blocks.tolist() if b not in self._cache and b not in self._pending
                ]
                if todo:
                    if self._pool is None:
                        self._pool = ThreadPoolExecutor(1, thread_name_prefix="ga-readahead")
                    self._pending[todo[0]] = self._pool.submit(self._fetch, todo[0])
                    return

    def _read(self, idx: np.ndarray | slice) -> dict[str, np.ndarray]:
        out = {a.key: a.data[idx] for a in self._arrays if not a.lazy}
        if not self._ooc:
            return out
        rows = np.arange(idx.start, idx.stop) if isinstance(idx, slice) else idx
        block = np.searchsorted(self.bounds, rows, side="right") - 1
        bufs = {a.key: np.empty((len(rows), *a.data.shape[1:]), a.data.dtype) for a in self._ooc}
        for b in np.unique(block):
            sel = np.flatnonzero(block == b)
            local = rows[sel] - self.bounds[b]
            for a, v in zip(self._ooc, self._block(int(b)), strict=True):
                bufs[a.key][sel] = v[local]
        out.update(bufs)
        return out

    def __getitem__(self, index: int) -> Any:
        index = int(index)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} out of range for {len(self)} batches")
        batch = self._read(self._indices(index))
        self._read_ahead(index)
        if self.augmentation is not None and self._specs:
            rng = np.random.default_rng([self.seed, self.epoch, index + 1])
            parts = {k: batch[k] for k in self._specs}
            batch.update(augment_batch(parts, self._specs, self.augmentation, rng))
        result = []
        for part in ("x", "y", "w"):
            if part in self._parts:
                structure, keys, arrays = self._parts[part]
                result.append(_pack(structure, keys, [a.finish(batch[a.key]) for a in arrays]))
        return result[0] if len(result) == 1 and self._parts["x"][0] != _LIST else tuple(result)

    # -- pickling (use_multiprocessing) ---------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_lock"] = None
        state["_cache"] = OrderedDict()
        state["_pending"] = {}
        state["_pool"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


__all__ = ["GenomicSequence", "MAX_MEMORY_BYTES"]
