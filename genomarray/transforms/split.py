"""Subsets, train/test splits and storage-time shuffling of region views.

Janggu's ``subset``, ``split_train_test`` and ``random_state=`` rebuilt on labelled arrays:

- :func:`subset` keeps the regions of a view (or of a Dataset of views) on some
  chromosomes, or overlapping some regions; a genome-wide array keeps whole chromosomes.
- :func:`split_train_test` splits one view, a list, a dict or a tuple of views that share
  their regions into ``(train, test)`` of the same structure, holding out chromosomes.
- :func:`shuffle` permutes the regions of views lazily (labels travel with the values);
  :func:`write_shuffled` writes views permuted by one permutation to zarr, so a training
  loop reads contiguous chunks that are already in random order; :func:`open_shuffled`
  reopens them.
- :func:`retile` tiles new regions with the geometry of an existing view, for viewing a
  genome-wide array through another region set without copying it (Janggu's ``view``):
  ``genome.janggu.view(retile(new_roi, like=x))``.

Everything here selects along ``region`` (or ``chrom``) with ``isel``: numpy-backed arrays
stay numpy, dask-backed arrays stay lazy and memory stays bounded by their chunks.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from genomarray import model, store
from genomarray.errors import InputError

__all__ = [
    "check_aligned",
    "open_shuffled",
    "permutation",
    "retile",
    "shuffle",
    "split_train_test",
    "subset",
    "write_shuffled",
]

"""Coordinate on ``region`` that :func:`shuffle` adds: each region's position before the
first shuffle (``x.isel(region=np.argsort(x.region_index.values))`` undoes it)."""

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

_ALIGN_COORDS = (model.REGION_CHROM, model.REGION_START, model.REGION_END, model.REGION_STRAND)

Arrays = xr.DataArray | xr.Dataset | Mapping[str, Any] | Sequence[Any]
"""One array, or a list, tuple or dict of arrays (nested containers allowed)."""


# -- helpers ----------------------------------------------------------------------------
def _names(value: str | Sequence[str] | None, what: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Sequence | np.ndarray | pd.Index | set):
        raise InputError(
            f"{what} must be a chromosome name or a list of them, got {type(value).__name__}",
            source="subset",
        )
    return [str(v) for v in value]


def _is_array(obj: Any) -> bool:
    return isinstance(obj, xr.DataArray | xr.Dataset)


def _has_regions(obj: xr.DataArray | xr.Dataset) -> bool:
    return model.REGION in obj.dims


def _values(obj: xr.DataArray | xr.Dataset, name: str) -> np.ndarray:
    return np.asarray(obj[name].values)


def _known_chroms(obj: xr.DataArray | xr.Dataset) -> dict[str, int]:
    """Chromosomes an array knows: its genome's for a view (when recorded), else its own."""
    if _has_regions(obj):
        sizes = obj.attrs.get(model.CHROM_SIZES)
        if not sizes and isinstance(obj, xr.Dataset):
            sizes = next(
                (
                    v.attrs[model.CHROM_SIZES]
                    for v in obj.data_vars.values()
                    if v.attrs.get(model.CHROM_SIZES)
                ),
                None,
            )
        if sizes:
            return {str(k): int(v) for k, v in sizes.items()}
        chroms = pd.unique(_values(obj, model.REGION_CHROM).astype(str))
        return {str(c): 1 for c in chroms}
    return {str(c): 1 for c in obj[model.CHROM].values}


def _check_known(names: list[str], obj: xr.DataArray | xr.Dataset, what: str) -> None:
    from genomarray.regions import check_chromosomes

    if not names:
        return
    probe = pd.DataFrame({"chrom": names, "start": 0, "end": 1})
    check_chromosomes(probe, _known_chroms(obj), source=what, genome="the array")


def _overlaps(obj: xr.DataArray | xr.Dataset, regions: Any) -> np.ndarray:
    """Mask of the view's regions (tile coordinates) that overlap any of ``regions``."""
    from genomarray.regions import check_chromosomes, read_regions

    other = read_regions(regions)
    chrom = _values(obj, model.REGION_CHROM).astype(str)
    start = _values(obj, model.REGION_START).astype(np.int64)
    end = _values(obj, model.REGION_END).astype(np.int64)
    keep = np.zeros(len(chrom), dtype=bool)
    if not len(other):
        return keep
    known = _known_chroms(obj)
    if not other["chrom"].astype(str).isin(list(known)).any():
        check_chromosomes(
            other, known, source=str(other.attrs.get("source", "regions")), genome="the view"
        )
    for name, grp in other.groupby("chrom", sort=False, observed=True):
        rows = np.flatnonzero(chrom == str(name))
        if not len(rows):
            continue
        order = np.argsort(grp["start"].to_numpy(np.int64), kind="stable")
        o_start = grp["start"].to_numpy(np.int64)[order]
        o_end = np.maximum.accumulate(grp["end"].to_numpy(np.int64)[order])
        n_before = np.searchsorted(o_start, end[rows], side="left")
        hit = n_before > 0
        hit[hit] = o_end[n_before[hit] - 1] > start[rows][hit]
        keep[rows] = hit
    return keep


def _label(path: tuple[Any, ...]) -> str:
    return "arrays" + "".join(f"[{p!r}]" for p in path)


def _leaves(arrays: Any, path: tuple[Any, ...] = ()) -> list[tuple[str, Any]]:
    if _is_array(arrays):
        return [(_label(path), arrays)]
    if isinstance(arrays, Mapping):
        return [leaf for k, v in arrays.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(arrays, list | tuple):
        return [leaf for i, v in enumerate(arrays) for leaf in _leaves(v, (*path, i))]
    raise TypeError(
        f"{_label(path)}: expected an xarray DataArray or Dataset (or a list, "
        f"tuple or dict of them), got {type(arrays).__name__}"
    )


def _map(arrays: Any, fn: Callable[[Any], Any]) -> Any:
    if _is_array(arrays):
        return fn(arrays)
    if isinstance(arrays, Mapping):
        return {k: _map(v, fn) for k, v in arrays.items()}
    if isinstance(arrays, tuple):
        return tuple(_map(v, fn) for v in arrays)
    return [_map(v, fn) for v in arrays]


def _region_text(obj: xr.DataArray | xr.Dataset, i: int) -> str:
    return (
        f"{obj[model.REGION_CHROM].values[i]}:{int(obj[model.REGION_START].values[i])}-"
        f"{int(obj[model.REGION_END].values[i])}({obj[model.REGION_STRAND].values[i]})"
    )


def check_aligned(arrays: Arrays) -> int | None:
    """Check that every view in ``arrays`` has the same regions, in the same order.

    Regions are compared by ``chrom``, ``start``, ``end`` and ``region_strand`` (names
    are labels and may differ). Genome-wide arrays are skipped.

    Returns
    -------
    int or None
        The number of regions (None if no array has regions).

    Raises
    ------
    InputError
        Naming both arrays and the first region where they differ.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from genomarray import model
    >>> roi = pd.DataFrame({"chrom": ["c", "c"], "start": [0, 10], "end": [10, 20]})
    >>> a = model.region_view(np.zeros((2, 10)), roi)
    >>> check_aligned({"a": a, "b": a.isel(region=[1, 0])})
    Traceback (most recent call last):
    ...
    genomarray.errors.InputError: split: arrays['b'] does not share the regions of ...
    """
    views = [(label, obj) for label, obj in _leaves(arrays) if _has_regions(obj)]
    if not views:
        return None
    first_label, first = views[0]
    missing = [c for c in _ALIGN_COORDS if c not in first.coords]
    if missing:
        raise InputError(
            f"{first_label} has a region dim but lacks the coordinates {missing}", source="split"
        )
    ref = {c: _values(first, c) for c in _ALIGN_COORDS}
    n = first.sizes[model.REGION]
    for label, obj in views[1:]:
        if obj.sizes[model.REGION] != n:
            raise InputError(
                f"{label} has {obj.sizes[model.REGION]} regions but "
                f"{first_label} has {n}; views split or shuffled together must "
                "share their regions",
                source="split",
            )
        differs = np.zeros(n, dtype=bool)
        for c in _ALIGN_COORDS:
            if c not in obj.coords:
                raise InputError(f"{label} lacks the region coordinate {c!r}", source="split")
            differs |= np.asarray(_values(obj, c) != ref[c], dtype=bool)
        if differs.any():
            i = int(np.flatnonzero(differs)[0])
            raise InputError(
                f"{label} does not share the regions of {first_label}: region "
                f"{i} is {_region_text(first, i)} in {first_label} but "
                f"{_region_text(obj, i)} in {label}",
                source="split",
            )
    return n


# -- subset and split -------------------------------------------------------------------
def subset(
    arr: xr.DataArray | xr.Dataset,
    include: str | Sequence[str] | None = None,
    exclude: str | Sequence[str] | None = None,
    regions: Any = None,
) -> xr.DataArray | xr.Dataset:
    """Keep the regions of a view on some chromosomes, or overlapping some regions.

    Janggu's ``subset(dataset, include_regions, exclude_regions)``, plus selection by
    overlap. The result keeps the kept regions' values and labels, in their order; it is
    lazy if ``arr`` is.

    Parameters
    ----------
    arr
        A region or one-hot view, a Dataset of views sharing their regions, or a
        genome-wide array (``chrom`` dim; only ``include``/``exclude`` apply).
    include
        Chromosome name(s) to keep (default: all).
    exclude
        Chromosome name(s) to drop.
    regions
        Keep the regions whose tile (``start``-``end``, without flank) overlaps one of
        these by at least 1 bp: anything :func:`genomarray.regions.read_regions` reads
        (BED path, DataFrame, PyRanges).

    Returns
    -------
    xarray.DataArray or xarray.Dataset
        Same kind, dims and attrs; fewer regions (or chromosomes).

    Raises
    ------
    ChromosomeError
        A name in ``include``/``exclude`` is not a chromosome of the array's genome (the
        message suggests the other spelling, ``chr1`` vs ``1``), or no chromosome of
        ``regions`` is.
    InputError
        No filter given, or ``regions`` with a genome-wide array.

    Examples
    --------
    >>> import genomarray as ga
    >>> dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    >>> x = dna.janggu.view(ga.tile(ga.example_path("roi.bed"), binsize=200))
    >>> sorted(set(subset(x, exclude=["chr1", "chr2"]).chrom.values))
    ['chr3']
    >>> import pandas as pd
    >>> peak = pd.DataFrame({"chrom": ["chr1"], "start": [1000], "end": [1001]})
    >>> subset(x, regions=peak).sizes["region"]
    1
    """
    if not _is_array(arr):
        raise TypeError(f"subset expects an xarray DataArray or Dataset, got {type(arr).__name__}")
    inc, exc = _names(include, "include"), _names(exclude, "exclude")
    if inc is None and exc is None and regions is None:
        raise InputError("no filter given: pass include=, exclude= or regions=", source="subset")
    _check_known(inc or [], arr, "include")
    _check_known(exc or [], arr, "exclude")
    if _has_regions(arr):
        chrom = _values(arr, model.REGION_CHROM).astype(str)
        keep = np.ones(len(chrom), dtype=bool)
        if inc is not None:
            keep &= np.isin(chrom, inc)
        if exc is not None:
            keep &= ~np.isin(chrom, exc)
        if regions is not None:
            keep &= _overlaps(arr, regions)
        return arr.isel({model.REGION: np.flatnonzero(keep)})
    if model.CHROM in arr.dims:
        if regions is not None:
            raise InputError(
                "regions= selects regions of a view; a genome-wide array is "
                "viewed through regions with .janggu.view(regions)",
                source="subset",
            )
        chrom = np.asarray(arr[model.CHROM].values).astype(str)
        keep = np.ones(len(chrom), dtype=bool)
        if inc is not None:
            keep &= np.isin(chrom, inc)
        if exc is not None:
            keep &= ~np.isin(chrom, exc)
        return arr.isel({model.CHROM: np.flatnonzero(keep)})
    raise InputError(
        f"subset needs a {model.REGION!r} or {model.CHROM!r} dim, got dims {tuple(arr.dims)}",
        source="subset",
    )


def split_train_test(arrays: Arrays, holdout_chroms: str | Sequence[str]) -> tuple[Any, Any]:
    """Split views into a training set and a test set of held-out chromosomes.

    Janggu's ``split_train_test``: the training set excludes ``holdout_chroms``, the test
    set holds only them. Every view must have the same regions in the same order (checked),
    so inputs and labels stay aligned.

    Parameters
    ----------
    arrays
        One view (or Dataset of views), or a list, tuple or dict of them (nested
        containers, e.g. Janggu's ``(inputs, outputs)`` tuple, are fine). Genome-wide
        arrays are split by chromosome too.
    holdout_chroms
        Chromosome name(s) of the test set.

    Returns
    -------
    tuple
        ``(train, test)``, each with the structure of ``arrays`` (a dict stays a dict).

    Raises
    ------
    InputError
        The views do not share their regions (the message names both arrays and the
        first region that differs), or ``holdout_chroms`` is empty.
    ChromosomeError
        A held-out name is not a chromosome of the arrays' genome.

    Examples
    --------
    >>> import genomarray as ga
    >>> dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    >>> roi = ga.tile(ga.example_path("roi.bed"), binsize=200)
    >>> x = dna.janggu.view(roi).janggu.onehot()
    >>> y = ga.read_bed(ga.example_path("peaks.narrowPeak"), like=dna, storage="memory",
    ...                 progress=False).janggu.view(roi)
    >>> train, test = split_train_test({"dna": x, "peaks": y}, holdout_chroms="chr3")
    >>> train["dna"].sizes["region"] + test["dna"].sizes["region"] == x.sizes["region"]
    True
    >>> set(test["peaks"].chrom.values)
    {'chr3'}
    """
    holdout = _names(holdout_chroms, "holdout_chroms")
    if not holdout:
        raise InputError(
            "holdout_chroms is empty; name the chromosome(s) of the test set",
            source="split_train_test",
        )
    check_aligned(arrays)
    train = _map(arrays, lambda a: subset(a, exclude=holdout))
    test = _map(arrays, lambda a: subset(a, include=holdout))
    return train, test


# -- re-tiling --------------------------------------------------------------------------
def retile(
    regions: Any, like: xr.DataArray | xr.Dataset, zero_padding: bool = True
) -> pd.DataFrame:
    """Tile new regions with the ``binsize``, ``stepsize`` and ``flank`` of a view.

    Janggu's ``view(dataset, use_regions)``: view the same genome-wide array through
    another region set, without copying it, as
    ``genome.janggu.view(retile(new_roi, like=x))``; the new view has the windows of ``x``.

    Parameters
    ----------
    regions
        New regions: anything :func:`genomarray.regions.read_regions` reads.
    like
        A view whose tiling to reuse (``attrs`` ``binsize``, ``stepsize``, ``flank``; a
        view without ``binsize`` was tiled with ``collapse=True``).
    zero_padding
        Keep the short last tile of each region (as :func:`genomarray.regions.tile`).

    Examples
    --------
    >>> import genomarray as ga
    >>> dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    >>> x = dna.janggu.view(ga.tile(ga.example_path("roi.bed"), binsize=200, flank=50))
    >>> import pandas as pd
    >>> new = pd.DataFrame({"chrom": ["chr2"], "start": [0], "end": [1000]})
    >>> dna.janggu.view(retile(new, like=x)).shape
    (5, 300)
    """
    from genomarray.regions import tile

    binsize = like.attrs.get(model.BINSIZE)
    stepsize = like.attrs.get(model.STEPSIZE)
    flank = int(like.attrs.get(model.FLANK, 0) or 0)
    if binsize is None:
        return tile(regions, flank=flank, collapse=True)
    return tile(
        regions,
        binsize=int(binsize),
        stepsize=None if stepsize is None else int(stepsize),
        flank=flank,
        zero_padding=zero_padding,
    )


# -- shuffling --------------------------------------------------------------------------
def permutation(n: int, random_state: Any = None) -> np.ndarray:
    """Return a permutation of ``range(n)`` drawn from ``random_state``.

    An integer seed gives ``numpy.random.RandomState(seed).permutation(n)``, the order
    Janggu's ``random_state=`` gives (scikit-learn's ``check_random_state``), so a seed
    reproduces a Janggu shuffle. A ``numpy.random.Generator`` or ``RandomState`` is used
    as is; None draws a fresh permutation.

    Examples
    --------
    >>> permutation(5, 1).tolist()
    [2, 1, 4, 0, 3]
    """
    if isinstance(random_state, np.random.Generator | np.random.RandomState):
        return random_state.permutation(n)
    if random_state is None:
        return np.random.default_rng().permutation(n)
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer):
        raise InputError(
            f"random_state must be an integer seed, a numpy Generator or "
            f"RandomState, or None; got {random_state!r}",
            source="shuffle",
        )
    return np.random.RandomState(int(random_state)).permutation(n)


def _permute(obj: xr.DataArray | xr.Dataset, perm: np.ndarray) -> xr.DataArray | xr.Dataset:
    if not _has_regions(obj):
        raise InputError(
            f"shuffle permutes regions; this array has dims {tuple(obj.dims)}", source="shuffle"
        )
    before = (
        _values(obj, model.REGION_INDEX)
        if model.REGION_INDEX in obj.coords
        else np.arange(obj.sizes[model.REGION], dtype=np.int64)
    )
    out = obj.isel({model.REGION: perm})
    return out.assign_coords({model.REGION_INDEX: (model.REGION, before[perm])})


def shuffle(arrays: Arrays, random_state: Any = None) -> Any:
    """Permute the regions of views, lazily; every array by the same permutation.

    Values and per-region labels move together, and a coordinate ``region_index`` records
    each region's position before shuffling (shuffling again composes). With the same
    integer ``random_state``, separate calls on views of as many regions give the same
    permutation, Janggu's (see :func:`permutation`).

    Parameters
    ----------
    arrays
        A view, a Dataset of views, or a list, tuple or dict of views sharing their
        regions (checked).
    random_state
        Integer seed, numpy ``Generator`` / ``RandomState``, or None (a fresh permutation).

    Returns
    -------
    Same structure as ``arrays``: lazy where the input is.

    Examples
    --------
    >>> import genomarray as ga
    >>> dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    >>> x = dna.janggu.view(ga.tile(ga.example_path("roi.bed"), binsize=500))
    >>> s = shuffle(x, random_state=3)
    >>> bool((s.isel(region=0) == x.isel(region=int(s.region_index[0]))).all())
    True
    """
    n = check_aligned(arrays)
    if n is None:
        raise InputError(
            "shuffle permutes regions; no array given has a 'region' dim", source="shuffle"
        )
    perm = permutation(n, random_state)
    return _map(arrays, lambda a: _permute(a, perm))


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
    data = data.rechunk({i: (rows if i == axis else -1) for i in range(data.ndim)})
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
    """``_permute(arr, perm)`` in two linear passes through uncompressed chunk files."""
    import dask

    axis = arr.dims.index(model.REGION)
    data = arr.data.rechunk({i: -1 for i in range(arr.ndim) if i != axis})
    folder = scratch / f"spill{len(list(scratch.iterdir()))}"
    folder.mkdir()
    blocks = data.to_delayed().reshape(-1)
    saves = [
        dask.delayed(_save_block, pure=False)(b, str(folder / f"{i}.npy"))
        for i, b in enumerate(blocks)
    ]
    store._compute(dask.delayed(list)(saves), progress, f"spilling to {folder}")
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
        _values(arr, model.REGION_INDEX)
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
    if n is None or any(not _has_regions(a) for a in items):
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
            scratch = stack.enter_context(store.atomic_scratch(path))
        prepared = [
            _prepare(
                _spill_permuted(a, perm, rows, scratch, progress)
                if scratch is not None and _needs_spill(a)
                else _permute(a, perm),
                rows,
            )
            for a in items
        ]
        seed = int(random_state) if isinstance(random_state, int | np.integer) else None
        for arr in prepared:
            arr.attrs["shuffle_random_state"] = seed
        if kind == "array":
            store.write_zarr(prepared[0], path, overwrite=overwrite, progress=progress)
            return open_shuffled(path)
        manifest = {
            "format": 1,
            "kind": kind,
            "keys": keys,
            "n_regions": n,
            "chunk_regions": rows,
            "random_state": seed,
        }
        with store.atomic_dir(path, overwrite=overwrite) as tmp:
            for key, arr in zip(keys, prepared, strict=True):
                store.write_zarr(arr, Path(tmp) / f"{key}.zarr", progress=progress)
            (Path(tmp) / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return open_shuffled(path)


def _open_one(path: str | os.PathLike) -> xr.DataArray:
    arr = store.open_zarr(path)
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
