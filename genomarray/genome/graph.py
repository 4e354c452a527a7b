"""Dask graphs over readers: one task per ``(chrom, pos-chunk)``.

A reader is any picklable callable ``reader(chrom, start, end) -> numpy block``: the graph
knows nothing of file formats. Each task opens its own file handle, so a build runs on
threads or on a ``distributed.Client`` alike.
"""

from __future__ import annotations

import os
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import dask.array as da
import numpy as np

DEFAULT_CHUNK = 1 << 20
"""Default chunk length along ``pos`` (1 Mb). Measured here: zarr's fixed cost per chunk
(~0.5 ms) dominates decompression, so a 1 Mb chunk costs about what a 64 kb one does and a
genome reads 5x faster; a human genome is ~6,000 chunks."""


CHUNK_BYTES = 32 << 20
"""At most this many bytes per chunk when the chunk length is chosen for a track
(:func:`chunk_length`): a chunk of 919 float32 label conditions at 1 M bins would be
3.7 GB (a build holds one per thread, a view decodes a whole chunk for one window)."""


def chunk_length(row_bytes: int, chunk: int = DEFAULT_CHUNK, max_bytes: int = CHUNK_BYTES) -> int:
    """Bins per chunk along ``pos``: ``chunk``, or the largest power of two (at least 1,024)
    whose chunk of ``row_bytes`` per bin fits ``max_bytes``.

    Examples
    --------
    >>> chunk_length(8)  # int32 coverage on two strands: 8 MB chunks
    1048576
    >>> chunk_length(919 * 4)  # 919 float32 label conditions: 30 MB chunks
    8192
    """
    fits = max(int(max_bytes) // max(int(row_bytes), 1), 1)
    if fits >= chunk:
        return int(chunk)
    return max(1 << (fits.bit_length() - 1), min(1024, int(chunk)))


def read_genome_chunk(
    reader: Callable,
    chroms: Sequence[str],
    lengths: np.ndarray,
    chunk: int,
    fill: Any,
    dtype: np.dtype,
    trailing: tuple[int, ...],
    block_id: tuple[int, ...],
) -> np.ndarray:
    """Block ``block_id`` of :func:`genome_array`'s array: chunk ``block_id[1]`` along
    ``pos`` of chromosome ``block_id[0]``, as its dask task reads it (also the batch
    engine's read of a view of the array, :func:`record_reader`).

    Examples
    --------
    >>> block = read_genome_chunk(lambda c, s, e: np.ones(e - s), ["a"], np.array([3]), 2,
    ...                           0.0, np.dtype("f4"), (), (0, 1))
    >>> block.tolist()
    [[1.0]]
    """
    ci, pj = block_id[0], block_id[1]
    start = pj * chunk
    stop = min(start + chunk, int(lengths.max()))
    out_shape = (1, stop - start, *trailing)
    if start >= lengths[ci]:  # past this chromosome's end: padding only (read-only, no memory)
        return np.broadcast_to(np.asarray(fill, dtype=dtype), out_shape)
    block = np.asarray(reader(chroms[ci], start, stop), dtype=dtype)
    if block.shape != out_shape[1:]:
        raise ValueError(
            f"reader returned shape {block.shape} for {chroms[ci]}:{start}-"
            f"{stop}, expected {out_shape[1:]}"
        )
    end = lengths[ci] - start
    if end < block.shape[0]:  # positions past the chromosome end hold the fill value
        block = block.copy()
        block[end:] = fill
    return block[None]


def genome_array(
    reader: Callable[[str, int, int], np.ndarray],
    chroms: Sequence[str],
    lengths: Sequence[int],
    dtype: Any,
    fill: Any = 0,
    trailing: tuple[int, ...] = (),
    chunk: int = DEFAULT_CHUNK,
) -> da.Array:
    """Return a lazy ``(chrom, pos, *trailing)`` dask array with one task per chunk.

    Parameters
    ----------
    reader
        Picklable callable returning the numpy block of ``chrom:start-end``, shape
        ``(end - start, *trailing)``.
    chroms, lengths
        Chromosomes and their lengths; ``pos`` is padded to the longest with ``fill``.
    dtype, fill
        Block dtype and the padding value.
    trailing
        Sizes of the dims after ``pos`` (each a single chunk).
    chunk
        Chunk length along ``pos``.

    Examples
    --------
    >>> import numpy as np
    >>> arr = genome_array(lambda c, s, e: np.ones(e - s), ["a", "b"], [3, 5], "f4",
    ...                    chunk=2)
    >>> arr.compute()[0].tolist()
    [1.0, 1.0, 1.0, 0.0, 0.0]
    """
    if chunk <= 0:
        raise ValueError(f"chunk must be positive, got {chunk}")
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.max()) if len(lengths) else 0
    pos_chunks = tuple(min(chunk, total - s) for s in range(0, total, chunk))
    chunks = ((1,) * len(chroms), pos_chunks, *((n,) for n in trailing))
    return da.map_blocks(
        read_genome_chunk,
        reader,
        list(chroms),
        lengths,
        chunk,
        fill,
        np.dtype(dtype),
        tuple(trailing),
        dtype=dtype,
        chunks=chunks,
        meta=np.empty((0,) * (2 + len(trailing)), dtype=dtype),
        name=f"genome-{uuid.uuid4().hex[:12]}",
    )


def record_reader(arr: Any, spec: dict[str, Any]) -> Any:
    """Record on ``arr`` (a genome-wide DataArray whose data is ``genome_array(**spec)``)
    how its blocks are read, so the batch engine reads views of it without a dask graph
    (:data:`genomarray.model.RECIPE_READER`; the stamp of
    :func:`genomarray.model.record_recipe` voids it once the data changes).

    Examples
    --------
    >>> from genomarray import model
    >>> spec = dict(reader=lambda c, s, e: np.zeros(e - s, np.uint8), chroms=["a"],
    ...             lengths=[5], dtype="uint8", fill=4, chunk=2)
    >>> g = record_reader(model.sequence_genome(genome_array(**spec), ["a"], [5]), spec)
    >>> model.recipe_of(g)["op"], model.recipe_of(g)["chunk"]
    ('reader', 2)
    """
    from genomarray import model

    model.record_recipe(
        arr,
        model.RECIPE_READER,
        reader=spec["reader"],
        chroms=list(spec["chroms"]),
        lengths=np.asarray(spec["lengths"], dtype=np.int64),
        dtype=np.dtype(spec["dtype"]).str,
        fill=spec.get("fill", 0),
        trailing=tuple(int(n) for n in spec.get("trailing", ())),
        chunk=int(spec.get("chunk", DEFAULT_CHUNK)),
    )
    return arr


# -- a fresh build's blocks, kept for its first reads ---------------------------------------

KEEP_BYTES = 256 << 20
"""At most this many bytes of a build's blocks are kept in memory (and never more than a
sixteenth of the machine's memory): a build that fits is served from memory instead of
being read back from the store it was just written to (:class:`KeptBlocks`); a bigger
one keeps nothing, so memory stays bounded by the chunks in flight."""


def keep_budget() -> int:
    """Bytes a build may keep: :data:`KEEP_BYTES`, at most 1/16 of physical memory.

    Examples
    --------
    >>> 0 < keep_budget() <= KEEP_BYTES
    True
    """
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        total = 16 * KEEP_BYTES
    return int(min(KEEP_BYTES, total // 16))


def _writes_run_here() -> bool:
    """Whether a build's write tasks run in this process (threads or synchronously): no
    ``distributed`` client and no process-pool scheduler, so the kept blocks are the ones
    written."""
    import dask

    if dask.config.get("scheduler", None) in ("processes", "multiprocessing"):
        return False
    if "distributed" not in sys.modules:  # no client can exist: skip the costly import
        return True
    try:
        from distributed import get_client

        get_client()
    except (ImportError, ValueError):
        return True
    return False


def decoded_as_stored(arr: Any) -> bool:
    """Whether xarray reads a store's variable back exactly as the numbers written: same
    dtype, no scale, offset or masked fill value (then a kept block equals the stored one).

    Examples
    --------
    >>> import xarray as xr
    >>> decoded_as_stored(xr.DataArray(np.zeros(2, np.int32)))
    True
    """
    enc = arr.encoding
    if np.dtype(enc.get("dtype", arr.dtype)) != arr.dtype or arr.dtype.kind not in "biuf":
        return False
    if any(k in enc for k in ("scale_factor", "add_offset", "missing_value", "units", "calendar")):
        return False
    fill = enc.get("_FillValue")
    return fill is None or (arr.dtype.kind == "f" and bool(np.isnan(fill)))


class KeptBlocks:
    """The blocks of a store build, kept as they are written, to serve the fresh store.

    ``wrap`` the lazy array before it is written: each block computed for the write is
    kept (the same numpy object, no copy) while the total stays within ``budget``; past
    it everything is dropped and nothing more is kept. ``serve`` the store once it is
    opened: if every block was kept, the returned array computes from those blocks instead
    of decompressing the chunks just written (same chunks, same dask name, same values: the
    bytes written are these blocks); otherwise the store's array is returned as it is.

    Only builds whose write tasks run in this process keep anything (not on a
    ``distributed`` cluster or a process pool). The blocks are held by the served array's
    graph, so they live as long as that array does (at most ``budget`` bytes).

    Examples
    --------
    >>> import xarray as xr
    >>> keep = KeptBlocks()
    >>> lazy = keep.wrap(da.arange(6, chunks=3))
    >>> stored = lazy.compute()  # the write
    >>> served = keep.serve(xr.DataArray(da.from_array(stored, chunks=3), dims="x"))
    >>> served.values.tolist(), keep.served
    ([0, 1, 2, 3, 4, 5], True)
    """

    def __init__(self, budget: int | None = None) -> None:
        self.budget = keep_budget() if budget is None else int(budget)
        self.blocks: dict[tuple[int, ...], np.ndarray] = {}
        self.nbytes = 0
        self.dropped = False
        self.served = False
        self.chunks: tuple | None = None
        self.dtype: np.dtype | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:  # a copy in another process keeps nothing
        return {"budget": 0}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["budget"])

    def wrap(self, data: da.Array) -> da.Array:
        """``data`` with each computed block kept (fused into the block's task)."""
        if not _writes_run_here() or data.nbytes > self.budget:
            self.dropped = True
            return data
        self.chunks, self.dtype = data.chunks, data.dtype
        return data.map_blocks(
            self._keep,
            dtype=data.dtype,
            meta=np.empty((0,) * data.ndim, dtype=data.dtype),
            name=f"kept-{uuid.uuid4().hex[:12]}",
        )

    def _keep(self, block: np.ndarray, block_id: tuple[int, ...] | None = None) -> np.ndarray:
        if self.dropped or block_id is None or type(block) is not np.ndarray:
            return block
        with self._lock:
            if self.dropped:
                return block
            old = self.blocks.get(block_id)
            self.nbytes += block.nbytes - (old.nbytes if old is not None else 0)
            if self.nbytes > self.budget:
                self.dropped = True
                self.blocks.clear()
            else:
                kept = block.view()
                kept.flags.writeable = False
                self.blocks[block_id] = kept
        return block

    def complete(self) -> bool:
        """Whether every block of the wrapped array is kept."""
        if self.dropped or self.chunks is None:
            return False
        return len(self.blocks) == int(np.prod([len(c) for c in self.chunks]))

    def serve(self, arr: Any) -> Any:
        """The opened store ``arr``, computing from the kept blocks where all were kept."""
        data = getattr(arr, "data", None)
        if (
            not self.complete()
            or not isinstance(data, da.Array)
            or data.chunks != self.chunks
            or data.dtype != self.dtype
            or not decoded_as_stored(arr)
        ):
            self.blocks = {}
            return arr
        name = data.name  # the store's own name: the blocks are its values
        graph = {(name, *idx): block for idx, block in self.blocks.items()}
        served = da.Array(graph, name, data.chunks, dtype=data.dtype, meta=data._meta)
        self.blocks = {}
        self.served = True
        return arr.copy(deep=False, data=served)
