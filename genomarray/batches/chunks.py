"""Whole zarr chunks, decoded once, in parallel threads, and kept in a small LRU cache.

:class:`ChunkReader` reads one chunk-aligned block of an array of a store written by
:func:`genomarray.genome.store.write_zarr`. Where its chunks are ``bytes`` + ``blosc`` (what
``write_zarr`` writes) it reads the chunk file, checks its size and CRC-32 against the
store's manifest (:mod:`genomarray.genome.manifest`; a mismatch is the same
:class:`~genomarray.errors.StoreError` as through zarr) and decodes it with numcodecs'
blosc straight into the result (blosc releases the GIL, so several threads decode at
once); any other layout goes through zarr's API on the store's ``ManifestStore``, which
checks the same. A chunk the manifest records as never written holds the fill value.

:class:`SlabCache` holds decoded chunks by key in the slots of one array, loads missing
ones in a thread pool (all the keys a request misses at once), and lets the engine read
ahead: :meth:`~SlabCache.prefetch` starts loads without waiting for them.
"""

from __future__ import annotations

import os
import sys
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from typing import Any

import numpy as np

CACHE_BYTES = 1 << 29
"""Most bytes of decoded chunks one cache holds (its capacity in chunks is at least 4)."""

_FORKS = [0]


def _forked() -> None:
    _FORKS[0] += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


def fork_generation() -> int:
    """How many times this process's ancestry forked since import: threads, locks and
    caches made in another generation belong to a parent process and are made again."""
    return _FORKS[0]


class ChunkReader:
    """Chunk-aligned reads of one array of a zarr store; picklable (reopens lazily).

    Parameters
    ----------
    path
        The store (a folder written by :func:`~genomarray.genome.store.write_zarr`).
    var
        The array inside it.
    raw
        Decode chunk files directly where the store allows it (else always use zarr).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from genomarray import model
    >>> from genomarray.genome.store import write_zarr
    >>> g = model.sequence_genome(np.arange(10, dtype=np.uint8)[None] % 4, ["c"], [10])
    >>> p = write_zarr(g, os.path.join(tempfile.mkdtemp(), "g.zarr"), chunks={"pos": 4},
    ...                progress=False)
    >>> r = ChunkReader(str(p), "sequence")
    >>> r.chunks, r.read_chunk(1, (0,)).tolist()
    ((1, 4), [0, 1, 2, 3])
    """

    def __init__(
        self,
        path: str,
        var: str,
        raw: bool = True,
        digest: int | None = None,
        cache: bool = False,
    ) -> None:
        self.path = str(path)
        self.var = str(var)
        self.raw = bool(raw)
        self.digest = digest
        self.cache = bool(cache)
        self._array: Any = None
        self._raw_dir: str | None = None
        self._files: dict[str, Any] = {}
        self._absent: frozenset = frozenset()
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("path", "var", "raw", "digest", "cache")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    # -- opening --------------------------------------------------------------------------
    @property
    def array(self) -> Any:
        """The zarr array, opened on first use (through the store's ``ManifestStore``)."""
        if self._array is None:
            with self._lock:
                if self._array is None:
                    self._open()
        return self._array

    def _open(self) -> None:
        import zarr

        from genomarray.genome import manifest
        from genomarray.genome.store import manifest_store

        man = manifest.read_manifest(self.path)
        if man is None:
            from genomarray.genome.store import open_zarr

            open_zarr(self.path)  # raises the StoreError naming what is wrong
        digest = man["digest"] if self.digest is None else self.digest
        if man["digest"] != digest:
            from genomarray.errors import StoreError

            raise StoreError(
                "was replaced or rewritten since it was opened (its manifest changed)",
                self.path,
                "open it again",
            )
        store = manifest_store(self.path, digest, self.cache)
        arr = zarr.open_group(store, mode="r", zarr_format=3)[self.var]
        self._files, self._absent = man["files"], frozenset(man["absent"])
        self._raw_dir = self._raw_folder(arr) if self.raw else None
        self._array = arr

    @staticmethod
    def _raw_folder(arr: Any) -> str | None:
        """The array's folder if its chunks can be decoded from their files directly."""
        from zarr.codecs import BloscCodec, BytesCodec
        from zarr.storage import LocalStore

        meta = arr.metadata
        codecs = tuple(getattr(meta, "codecs", ()))
        if not isinstance(arr.store, LocalStore) or len(codecs) != 2:
            return None
        serializer, compressor = codecs
        if not isinstance(serializer, BytesCodec) or not isinstance(compressor, BloscCodec):
            return None
        dtype = np.dtype(arr.dtype)
        endian = getattr(serializer.endian, "value", serializer.endian)
        if dtype.kind not in "biuf" or (dtype.itemsize > 1 and endian not in (None, sys.byteorder)):
            return None
        if not hasattr(meta, "encode_chunk_key") or not hasattr(arr.store, "fail"):
            return None
        return os.path.join(str(arr.store.root), arr.path)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.array.shape)

    @property
    def chunks(self) -> tuple[int, ...]:
        return tuple(int(c) for c in self.array.chunks)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.array.dtype)

    # -- reading --------------------------------------------------------------------------
    def read_chunk(self, k: int, lead: tuple[int, ...] = ()) -> np.ndarray:
        """Chunk ``k`` along axis ``len(lead)``, at integer indices ``lead`` of the axes
        before it, whole along the axes after it (cut to the array's extent)."""
        arr = self.array
        axis = len(lead)
        shape, chunks = self.shape, self.chunks
        lo = k * chunks[axis]
        hi = min(lo + chunks[axis], shape[axis])
        single = all(c >= s for c, s in zip(chunks[axis + 1 :], shape[axis + 1 :], strict=True))
        if self._raw_dir is not None and single:
            coords = (*(i // c for i, c in zip(lead, chunks, strict=False)), k)
            coords = coords + (0,) * (len(shape) - len(coords))
            block = self._decode(coords)
            index = tuple(i % c for i, c in zip(lead, chunks, strict=False))
            return block[(*index, slice(0, hi - lo))]
        return np.asarray(arr[(*lead, slice(lo, hi))])

    def read_chunk_into(self, k: int, lead: tuple[int, ...], out: np.ndarray) -> None:
        """:meth:`read_chunk` into ``out`` (shape: one chunk along axis ``len(lead)``, the
        axes after it whole); rows past the array's end are left as they are."""
        shape, chunks = self.shape, self.chunks
        axis = len(lead)
        whole = all(c >= s for c, s in zip(chunks[axis + 1 :], shape[axis + 1 :], strict=True))
        if (
            self._raw_dir is not None
            and whole
            and all(c == 1 for c in chunks[:axis])
            and tuple(out.shape) == tuple(chunks[axis:])
            and out.flags.c_contiguous
        ):
            coords = (*lead, k) + (0,) * (len(shape) - axis - 1)
            self._decode(coords, out.reshape(chunks))
            return
        block = self.read_chunk(k, lead)
        out[: len(block)] = block

    def _decode(self, coords: tuple[int, ...], out: np.ndarray | None = None) -> np.ndarray:
        arr = self.array
        out = np.empty(self.chunks, dtype=self.dtype) if out is None else out
        key = arr.metadata.encode_chunk_key(coords)
        rel = f"{arr.path}/{key}" if arr.path else key
        expected = self._files.get(rel)
        if expected is None:
            if rel in self._absent:  # never written: the fill value
                out.fill(arr.metadata.fill_value)
            else:  # not in the manifest: zarr and the ManifestStore decide
                out[...] = self._via_zarr(coords)
            return out
        size, crc = expected
        try:
            with open(os.path.join(self._raw_dir, key), "rb") as fh:  # type: ignore[arg-type]
                data = fh.read()
        except FileNotFoundError:
            arr.store.fail(rel, f"is missing (the manifest lists it, {size:,} bytes)")
        if len(data) != size:
            arr.store.fail(rel, f"is {len(data):,} bytes, the manifest says {size:,} (truncated)")
        if zlib.crc32(data) != crc:
            arr.store.fail(rel, "has other bytes than were written (checksum mismatch)")
        from numcodecs.blosc import Blosc

        Blosc().decode(data, out=out)
        return out

    def _via_zarr(self, coords: tuple[int, ...]) -> np.ndarray:
        """Chunk ``coords`` read through zarr (padded to the whole chunk shape)."""
        arr = self.array
        block = np.asarray(arr.blocks[coords])
        full = np.full(self.chunks, arr.metadata.fill_value, dtype=self.dtype)
        full[tuple(slice(0, n) for n in block.shape)] = block
        return full


class ReaderChunks:
    """Chunk-aligned reads of a genome-wide array built from its files with no store
    (:func:`genomarray.genome.graph.genome_array`; its recipe:
    :func:`genomarray.genome.graph.record_reader`): each chunk read by the reader exactly
    as the array's dask task reads it. The interface of :class:`ChunkReader` that
    :class:`~genomarray.batches.sources.StoreWindows` uses; no store, so no digest (a
    view of it is never spilled).

    Examples
    --------
    >>> import genomarray as ga
    >>> dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    >>> from genomarray import model
    >>> r = ReaderChunks(model.recipe_of(dna))
    >>> out = np.empty(r.chunks[1:], np.uint8)
    >>> r.read_chunk_into(0, (0,), out)
    >>> block = dna.data.blocks[0, 0].compute()[0]
    >>> bool((out[: len(block)] == block).all())
    True
    """

    path = None
    var = None
    digest = None

    def __init__(self, recipe: dict[str, Any]) -> None:
        self.recipe = recipe
        self._lengths = np.asarray(recipe["lengths"], np.int64)
        self._dtype = np.dtype(recipe["dtype"])
        self._trailing = tuple(int(n) for n in recipe["trailing"])
        self._chunk = int(recipe["chunk"])

    @property
    def shape(self) -> tuple[int, ...]:
        total = int(self._lengths.max()) if len(self._lengths) else 0
        return (len(self._lengths), total, *self._trailing)

    @property
    def chunks(self) -> tuple[int, ...]:
        return (1, self._chunk, *self._trailing)

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    def read_chunk_into(self, k: int, lead: tuple[int, ...], out: np.ndarray) -> None:
        """Chunk ``k`` along ``pos`` of chromosome ``lead[0]`` into ``out`` (one chunk's
        rows; rows past the array's end are left as they are)."""
        from genomarray.genome.graph import read_genome_chunk

        r = self.recipe
        block = read_genome_chunk(
            r["reader"],
            r["chroms"],
            self._lengths,
            self._chunk,
            r["fill"],
            self._dtype,
            self._trailing,
            (int(lead[0]), int(k)),
        )
        out[: block.shape[1]] = block[0]


class SlabCache:
    r"""Decoded chunks in the slots of one preallocated array (the *slab*): LRU, loaded in
    threads, read ahead; thread-safe.

    Keeping every cached chunk in one array lets a batch gather its rows from several
    chunks with a single fancy index (slot ``j`` holds rows ``j * slot_rows ...``). A
    reader *pins* the slots it uses (:meth:`get`) until it :meth:`release`\ s them; a slot
    is reused only when unpinned. When every slot is pinned a chunk is loaded into an
    array of its own (returned instead of a slot number, never cached).

    Parameters
    ----------
    load_into
        ``load_into(key, out)`` fills ``out`` (one slot) with chunk ``key``.
    slot_shape, dtype
        Shape and dtype of one slot (a whole chunk).
    capacity
        Number of slots.
    executor
        Returns the thread pool to load in.

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> pool = ThreadPoolExecutor(2)
    >>> c = SlabCache(lambda k, out: out.fill(k), (3,), np.int64, 2, lambda: pool)
    >>> got = c.get([5, 7]); c.release(got)
    >>> c.slab[got[7]].tolist(), c.loads
    ([7, 7, 7], 2)
    >>> got = c.get([9]); sorted(c.keys())
    [7, 9]
    """

    def __init__(
        self,
        load_into: Callable[[Any, np.ndarray], None],
        slot_shape: tuple[int, ...],
        dtype: Any,
        capacity: int,
        executor: Callable[[], ThreadPoolExecutor],
    ) -> None:
        self.load_into = load_into
        self.slot_shape = tuple(int(s) for s in slot_shape)
        self.dtype = np.dtype(dtype)
        self.capacity = max(int(capacity), 1)
        self.executor = executor
        self.loads = 0
        self._slab: np.ndarray | None = None
        self._lock = threading.Lock()
        self._slots: OrderedDict[Hashable, int] = OrderedDict()  # key -> slot, LRU first
        self._free = list(range(self.capacity))[::-1]
        self._pins = [0] * self.capacity
        self._orphans: set[int] = set()  # slots of a key loaded again since: freed unpinned
        self._pending: dict[Hashable, Future] = {}

    @property
    def slab(self) -> np.ndarray:
        """The slots, ``(capacity, *slot_shape)`` (allocated on first use)."""
        if self._slab is None:
            with self._lock:
                if self._slab is None:
                    self._slab = np.empty((self.capacity, *self.slot_shape), self.dtype)
        return self._slab

    def keys(self) -> list[Hashable]:
        """Keys held now (least recently used first)."""
        with self._lock:
            return list(self._slots)

    def _reserve(self) -> int | None:
        """A free slot, else the least recently used unpinned one (lock held)."""
        if self._free:
            return self._free.pop()
        for key, slot in self._slots.items():
            if self._pins[slot] == 0:
                del self._slots[key]
                return slot
        return None

    def _load(self, key: Hashable, keep_pin: bool) -> int | np.ndarray | None:
        """Load ``key`` into a reserved slot (pinned while loading; still pinned after if
        ``keep_pin``), or into an array of its own when no slot is free (None: no slot is
        free for a read-ahead, which then loads nothing: the reader loads it)."""
        try:
            slab = self.slab
        except BaseException:
            with self._lock:
                self._pending.pop(key, None)
            raise
        with self._lock:
            slot = self._reserve()
            if slot is not None:
                self._pins[slot] += 1
            elif not keep_pin:
                self._pending.pop(key, None)
                return None
        try:
            if slot is None:
                out = np.empty(self.slot_shape, self.dtype)
                self.load_into(key, out)
            else:
                self.load_into(key, slab[slot])
        except BaseException:
            with self._lock:
                self._pending.pop(key, None)
                if slot is not None:
                    self._pins[slot] -= 1
                    self._free.append(slot)
            raise
        with self._lock:
            self.loads += 1
            self._pending.pop(key, None)
            if slot is None:
                return out
            before = self._slots.get(key)
            if before is not None and before != slot:  # loaded twice: one slot is held
                self._unhold(before)
            self._slots[key] = slot
            self._slots.move_to_end(key)
            if not keep_pin:
                self._pins[slot] -= 1
        return slot

    def _unhold(self, slot: int) -> None:
        """``slot`` no longer holds its key: free now if unpinned, else when released
        (lock held)."""
        if self._pins[slot] == 0:
            self._free.append(slot)
        else:
            self._orphans.add(slot)

    def prefetch(self, keys: Iterable[Hashable]) -> None:
        """Start loading the keys that are neither held nor being loaded."""
        with self._lock:
            todo = [k for k in dict.fromkeys(keys) if k not in self._slots and not self._loading(k)]
            if not todo:
                return
            pool = self.executor()
            for k in todo:
                try:
                    self._pending[k] = pool.submit(self._load, k, False)
                except RuntimeError:  # the pool was shut down meanwhile: read ahead no more
                    break

    def _loading(self, key: Hashable) -> bool:
        """Whether ``key`` is being loaded (lock held): a read-ahead cancelled by its
        pool's shut down (``BatchEngine.close``) never will be, and is forgotten."""
        fut = self._pending.get(key)
        if fut is not None and fut.cancelled():
            del self._pending[key]
            return False
        return fut is not None

    def get(self, keys: Iterable[Hashable]) -> dict[Hashable, int | np.ndarray]:
        """Slot (pinned) or array of each key, loading the missing ones in parallel."""
        keys = list(dict.fromkeys(keys))
        out: dict[Hashable, int | np.ndarray] = {}
        wait: dict[Hashable, Future] = {}
        mine: list[Hashable] = []
        with self._lock:
            for k in keys:
                slot = self._slots.get(k)
                if slot is not None:
                    self._slots.move_to_end(k)
                    self._pins[slot] += 1
                    out[k] = slot
                elif self._loading(k):
                    wait[k] = self._pending[k]
                else:
                    mine.append(k)
            claimed: dict[Hashable, Future] = {}
            if mine:  # several misses: decoded side by side, one in this thread
                pool = self.executor() if len(mine) > 1 else None
                for k in mine[1:]:
                    try:
                        wait[k] = self._pending[k] = pool.submit(self._load, k, False)  # type: ignore[union-attr]
                    except RuntimeError:  # the pool was shut down meanwhile: loaded here
                        claimed[k] = Future()
                claimed[mine[0]] = Future()
                self._pending.update(claimed)
            elif not wait:  # all held: pinned, recency in the order asked for
                return out
        try:
            self._get_missing(claimed, wait, out)
        except BaseException:  # what was pinned for this call is unpinned
            self.release(out)
            raise
        with self._lock:  # recency follows the order asked for, not the order loads ended
            for k in keys:
                if k in self._slots:
                    self._slots.move_to_end(k)
        return out

    def _get_missing(self, claimed: dict, wait: dict, out: dict) -> None:
        """:meth:`get`'s loads: ``claimed`` in this thread, ``wait`` by others."""
        for k, fut in claimed.items():
            try:
                value = self._load(k, True)
            except BaseException as err:
                fut.set_exception(err)
                raise
            fut.set_result(value)
            out[k] = value
        for k, fut in wait.items():  # loaded by others: pin it if it is still held
            try:
                value = fut.result()
            except CancelledError:  # its pool was shut down before it ran
                value = None
            if isinstance(value, np.ndarray):
                out[k] = value
                continue
            with self._lock:
                slot = self._slots.get(k)
                if slot is not None:
                    self._pins[slot] += 1
                    out[k] = slot
            if slot is None:  # evicted already, or never loaded: load it, pinned
                out[k] = self._load(k, True)

    def pin_held(self, keys: Iterable[Hashable]) -> dict[Hashable, int] | None:
        """Slots of ``keys`` pinned (until :meth:`release`) if every one is held now,
        else None (nothing pinned, nothing loaded).

        Examples
        --------
        >>> from concurrent.futures import ThreadPoolExecutor
        >>> pool = ThreadPoolExecutor(1)
        >>> c = SlabCache(lambda k, out: out.fill(k), (2,), np.int64, 3, lambda: pool)
        >>> c.release(c.get([1, 2]))
        >>> c.pin_held([1, 3]) is None, sorted(c.pin_held([2, 1]))
        (True, [1, 2])
        """
        keys = list(dict.fromkeys(keys))
        with self._lock:
            slots = [self._slots.get(k) for k in keys]
            if any(slot is None for slot in slots):
                return None
            for slot in slots:
                self._pins[slot] += 1  # type: ignore[index]
            return dict(zip(keys, slots, strict=True))  # type: ignore[arg-type]

    def release(self, got: dict[Hashable, int | np.ndarray]) -> None:
        """Unpin the slots :meth:`get` returned."""
        with self._lock:
            for v in got.values():
                if not isinstance(v, np.ndarray):
                    self._pins[v] -= 1
                    if self._pins[v] == 0 and v in self._orphans:
                        self._orphans.discard(v)
                        self._free.append(v)

    def chunk(self, got: dict[Hashable, int | np.ndarray], key: Hashable) -> np.ndarray:
        """The chunk of ``key`` in what :meth:`get` returned (a slot view or an array)."""
        v = got[key]
        return v if isinstance(v, np.ndarray) else self.slab[v]


__all__ = ["CACHE_BYTES", "ChunkReader", "SlabCache", "fork_generation"]
