"""Storage-time shuffling: views written to zarr in one random order, read back in order.

:func:`write_shuffled` writes views permuted by one permutation, so a training loop reads
contiguous chunks that are already in random order; :func:`open_shuffled` reopens them.
It lives with the views (not with the genome-wide stores) because what it writes are views.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from genomarray import model
from genomarray.atomic import atomic_dir, atomic_scratch
from genomarray.errors import InputError
from genomarray.genome.compute import compute_writes, rechunk
from genomarray.genome.store import open_zarr, write_zarr
from genomarray.views.aligned import (
    Arrays,
    check_aligned,
    coord_values,
    has_regions,
    permutation,
    permute,
)

SHUFFLE_CHUNK_BYTES = 8 << 20
"""Target size of one region chunk written by :func:`write_shuffled` (uncompressed)."""


SPILL_ABOVE_CHUNKS = 8
"""Dask-backed inputs of more region chunks than this are spilled before shuffling.

Permuting a dask array lazily makes every output chunk depend on every input chunk (a graph
of chunks² tasks). Above this many chunks, :func:`write_shuffled` instead writes the input
once, in order, to uncompressed ``.npy`` chunk files in a scratch folder next to the target
(one task per chunk, on the active scheduler or cluster) and gathers each output chunk's
rows from them (one task per chunk). The scratch folder needs as much free disk as the
uncompressed input and is removed afterwards; on a multi-node cluster it must be on storage
every worker sees, like the target. Object and string arrays keep the lazy permutation."""


MANIFEST = "shuffled.json"
"""File naming the stores of a folder written by :func:`write_shuffled`."""


def _dense(block: Any) -> np.ndarray:
    return block.todense() if hasattr(block, "todense") else np.asarray(block)


def _prepare(arr: xr.DataArray, rows: int) -> xr.DataArray:
    """Region chunks of ``rows``, other dims whole, dense blocks, coordinates in memory."""
    data = arr.data
    if not isinstance(data, da.Array):
        data = da.from_array(np.asarray(data), chunks=-1)
    if not isinstance(data._meta, np.ndarray):
        data = data.map_blocks(
            _dense, dtype=data.dtype, meta=np.empty((0,) * data.ndim, dtype=data.dtype)
        )
    axis = arr.dims.index(model.REGION)
    data = rechunk(data, {i: (rows if i == axis else -1) for i in range(data.ndim)})
    loaded = {
        k: arr[k].variable.compute()
        for k in arr.coords
        if k not in arr.indexes and isinstance(arr[k].variable.data, da.Array)
    }
    return arr.copy(data=data).assign_coords(loaded)


def _save_block(block: Any, file: str) -> int:
    """Task body: write one region chunk, dense, to an uncompressed ``.npy``."""
    np.save(file, _dense(block))
    return 0


def _take_rows(idx: np.ndarray, folder: str, bounds: np.ndarray, axis: int) -> np.ndarray:
    """Task body: rows ``idx`` (along ``axis``) of the chunk files ``folder/<i>.npy`` (chunk
    ``i`` holds rows ``bounds[i]:bounds[i + 1]``), read in ascending order from memory maps
    and put back in the order asked."""
    order = np.argsort(idx, kind="stable")
    wanted = idx[order]
    which = np.searchsorted(bounds, wanted, side="right") - 1
    parts = []
    for i in np.unique(which).tolist():
        mm = np.load(os.path.join(folder, f"{i}.npy"), mmap_mode="r")
        parts.append(np.take(mm, wanted[which == i] - bounds[i], axis=axis))
    rows = np.concatenate(parts, axis=axis)
    out = np.empty_like(rows)
    index: list[Any] = [slice(None)] * rows.ndim
    index[axis] = order
    out[tuple(index)] = rows
    return out


def _needs_spill(arr: xr.DataArray) -> bool:
    data = arr.data
    return (
        isinstance(data, da.Array)
        and np.dtype(data.dtype).kind in "biufc"
        and len(data.chunks[arr.dims.index(model.REGION)]) > SPILL_ABOVE_CHUNKS
    )


def _spill_permuted(
    arr: xr.DataArray, perm: np.ndarray, rows: int, scratch: Path, progress: bool
) -> xr.DataArray:
    """``permute(arr, perm)`` in two linear passes through uncompressed chunk files."""
    import dask

    axis = arr.dims.index(model.REGION)
    data = rechunk(arr.data, {i: -1 for i in range(arr.ndim) if i != axis})
    folder = scratch / f"spill{len(list(scratch.iterdir()))}"
    folder.mkdir()
    blocks = data.to_delayed().reshape(-1)
    saves = [
        dask.delayed(_save_block, pure=False)(b, str(folder / f"{i}.npy"))
        for i, b in enumerate(blocks)
    ]
    compute_writes(dask.delayed(list)(saves), progress, f"spilling to {folder}")
    bounds = np.cumsum((0, *data.chunks[axis]))
    index = da.from_array(perm.astype(np.int64), chunks=rows)
    gathered = da.map_blocks(
        _take_rows,
        index,
        folder=str(folder),
        bounds=bounds,
        axis=axis,
        dtype=data.dtype,
        new_axis=[i for i in range(data.ndim) if i != axis],
        chunks=tuple(index.chunks[0] if i == axis else (n,) for i, n in enumerate(data.shape)),
        meta=np.empty((0,) * data.ndim, dtype=data.dtype),
    )
    before = (
        coord_values(arr, model.REGION_INDEX)
        if model.REGION_INDEX in arr.coords
        else np.arange(arr.sizes[model.REGION], dtype=np.int64)
    )
    coords = arr.coords.to_dataset().isel({model.REGION: perm})
    out = xr.DataArray(
        gathered, dims=arr.dims, coords=coords.coords, attrs=dict(arr.attrs), name=arr.name
    )
    return out.assign_coords({model.REGION_INDEX: (model.REGION, before[perm])})


def _rows(arrays: list[xr.DataArray], chunk_regions: int | None) -> int:
    if chunk_regions is not None:
        if (
            isinstance(chunk_regions, bool)
            or not isinstance(chunk_regions, int | np.integer)
            or chunk_regions < 1
        ):
            raise InputError(
                f"chunk_regions must be a positive integer, got {chunk_regions!r}",
                source="write_shuffled",
            )
        return int(chunk_regions)
    per_region = max(
        int(a.dtype.itemsize * a.size // max(a.sizes[model.REGION], 1)) for a in arrays
    )
    return max(1, SHUFFLE_CHUNK_BYTES // max(per_region, 1))


def _flat(arrays: Any) -> tuple[str, list[str], list[xr.DataArray]]:
    """(kind, keys, arrays) of what write_shuffled takes: one level of container."""
    if isinstance(arrays, xr.DataArray):
        return "array", [str(arrays.name or "data")], [arrays]
    if isinstance(arrays, xr.Dataset):
        keys = [str(k) for k in arrays.data_vars]
        return "dataset", keys, [arrays[k] for k in arrays.data_vars]
    if isinstance(arrays, Mapping):
        kind, items = "dict", list(arrays.items())
    elif isinstance(arrays, list | tuple):
        kind, items = ("tuple" if isinstance(arrays, tuple) else "list"), list(enumerate(arrays))
    else:
        raise TypeError(
            "write_shuffled expects a DataArray, a Dataset, or a list, tuple or "
            f"dict of DataArrays; got {type(arrays).__name__}"
        )
    for key, value in items:
        if not isinstance(value, xr.DataArray):
            raise TypeError(
                f"arrays[{key!r}]: write_shuffled writes DataArrays, got {type(value).__name__}"
            )
        text = str(key)
        if not text or text.startswith(".") or any(c in text for c in "/\\:"):
            raise InputError(
                f"arrays[{key!r}]: the key names a store file, so it must not "
                "be empty, start with '.' or hold '/', '\\' or ':'",
                source="write_shuffled",
            )
    return kind, [str(k) for k, _ in items], [v for _, v in items]


def write_shuffled(
    arrays: Arrays,
    path: str | os.PathLike,
    random_state: Any = None,
    *,
    chunk_regions: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> Any:
    """Write views permuted by one permutation to zarr, and reopen them lazily.

    Janggu's ``random_state=`` for HDF5 storage: regions are shuffled once, when stored,
    so a training loop that reads whole chunks in order (fast) still sees them in random
    order. The region coordinates (and ``region_index``, each region's position before
    shuffling) are stored with the values, so reopening gives the same permutation. The
    write is lazy and chunked (memory bounded by the chunks) and atomic: on error nothing
    is left at ``path``. Dask-backed views of many chunks pass through an uncompressed
    scratch copy next to ``path`` (see :data:`SPILL_ABOVE_CHUNKS`; plan the disk space).

    Parameters
    ----------
    arrays
        One view (written to the store ``path``), or a Dataset, list, tuple or dict of
        views sharing their regions (written to ``path/<key>.zarr``, key = variable name,
        dict key or list position, with a ``shuffled.json`` manifest).
    path
        Target store (one array) or folder.
    random_state
        Integer seed, numpy ``Generator`` / ``RandomState``, or None (see
        :func:`permutation`).
    chunk_regions
        Regions per zarr chunk, the same for every array (so chunk ``i`` of each holds
        the same regions); default: about 8 MB for the largest array.
    overwrite
        Replace an existing ``path``.
    progress
        Show a progress bar while writing.

    Returns
    -------
    The reopened arrays (:func:`open_shuffled`), in the structure of ``arrays``.

    Examples
    --------
    >>> import genomarray as ga, tempfile, os
    >>> dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    >>> roi = ga.tile(ga.example_path("roi.bed"), binsize=200)
    >>> data = {"dna": dna.janggu.view(roi).janggu.onehot(),
    ...         "peaks": ga.read_bed(ga.example_path("peaks.narrowPeak"), like=dna,
    ...                              storage="memory", progress=False).janggu.view(roi)}
    >>> out = write_shuffled(data, os.path.join(tempfile.mkdtemp(), "train"), 7,
    ...                      progress=False)
    >>> bool((out["dna"].start.values == out["peaks"].start.values).all())
    True
    """
    kind, keys, items = _flat(arrays)
    n = check_aligned(items)
    if n is None or any(not has_regions(a) for a in items):
        raise InputError(
            "write_shuffled writes region views (arrays with a 'region' dim)",
            source="write_shuffled",
        )
    if len(set(keys)) != len(keys):
        raise InputError(f"two arrays would share a store name: {keys}", source="write_shuffled")
    perm = permutation(n, random_state)
    rows = _rows(items, chunk_regions)
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    with contextlib.ExitStack() as stack:
        scratch = None
        if any(_needs_spill(a) for a in items):
            scratch = stack.enter_context(atomic_scratch(path))
        prepared = [
            _prepare(
                _spill_permuted(a, perm, rows, scratch, progress)
                if scratch is not None and _needs_spill(a)
                else permute(a, perm),
                rows,
            )
            for a in items
        ]
        seed = int(random_state) if isinstance(random_state, int | np.integer) else None
        for arr in prepared:
            arr.attrs[model.SHUFFLE_SEED] = seed
        if kind == "array":
            write_zarr(prepared[0], path, overwrite=overwrite, progress=progress)
            return open_shuffled(path)
        manifest = {
            "format": 1,
            "kind": kind,
            "keys": keys,
            "n_regions": n,
            "chunk_regions": rows,
            "random_state": seed,
        }
        with atomic_dir(path, overwrite=overwrite) as tmp:
            for key, arr in zip(keys, prepared, strict=True):
                write_zarr(arr, Path(tmp) / f"{key}.zarr", progress=progress)
            (Path(tmp) / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return open_shuffled(path)


def _open_one(path: str | os.PathLike) -> xr.DataArray:
    arr = open_zarr(path)
    small = {
        k: arr[k].variable.compute()
        for k in arr.coords
        if k not in arr.indexes and model.REGION in arr[k].dims
    }
    return arr.assign_coords(small)


def open_shuffled(path: str | os.PathLike) -> Any:
    """Reopen what :func:`write_shuffled` wrote, lazily, in the structure it was given.

    Region coordinates are loaded into memory (they are small); values stay on disk.

    Examples
    --------
    >>> import genomarray as ga, tempfile, os
    >>> seqs = ga.read_sequences(ga.example_path("seqs.fa"))
    >>> p = os.path.join(tempfile.mkdtemp(), "seqs.zarr")
    >>> _ = write_shuffled(seqs, p, random_state=0, progress=False)
    >>> open_shuffled(p).region_index.values[:3].tolist()
    [2, 28, 13]
    """
    folder = Path(path)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return _open_one(folder)
    manifest = json.loads(manifest_path.read_text())
    opened = [_open_one(folder / f"{key}.zarr") for key in manifest["keys"]]
    kind = manifest["kind"]
    if kind == "dataset":
        return xr.Dataset(dict(zip(manifest["keys"], opened, strict=True)))
    if kind == "dict":
        return dict(zip(manifest["keys"], opened, strict=True))
    return tuple(opened) if kind == "tuple" else opened
