"""Region views: genome-wide arrays seen through a set of regions.

``view(genome_array, regions)`` returns ``(region, pos, ...)``: one fixed-length window
per region (tile plus flank), padded where it runs past a chromosome end (never shifted),
minus-strand windows reverse-complemented (sequence) or reversed with strands swapped
(coverage) when strand-aware.

For a dask-backed array the view is lazy: one task per batch of regions, depending only
on the chunks its windows touch, so memory is bounded by the batch and the chunk size
whatever the genome size, and the same graph runs on threads or a ``distributed.Client``.
For a numpy-backed array the view is computed at once (in memory in, in memory out).
"""

from __future__ import annotations

import uuid
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from genomarray import encode, model
from genomarray.errors import InputError
from genomarray.genome.compute import rechunk
from genomarray.genome.quick_values import QuickValuesArray, quick_values, with_recipe
from genomarray.views import windows_fns
from genomarray.views.geometry import cut_layout

BATCH_BYTES = 32 << 20
"""Budget per view task: window bytes plus the chunk bytes its windows touch. Blocks
under 32 MB are recycled by the allocator; larger ones pay page faults on every call
(measured here: 64 MB first touch 40 ms vs 5 ms reused)."""

BATCH_REGIONS = 4096
"""At most this many regions per view task, so a view has tasks for every thread."""


def _check_stored_roi(arr: xr.DataArray, roi: pd.DataFrame, flank: int) -> None:
    """A track built with ``store_whole_genome=False`` holds zeros outside its ROI: refuse
    windows that reach outside what it kept rather than return those zeros as data."""
    kept = arr.attrs.get(model.STORED_ROI)
    if not kept:
        return
    sizes = model.chrom_sizes(arr)
    for chrom, grp in roi.groupby("chrom", sort=False, observed=True):
        lo = np.maximum(grp["start"].to_numpy(np.int64) - flank, 0)
        hi = np.minimum(grp["end"].to_numpy(np.int64) + flank, sizes.get(str(chrom), 0))
        spans = np.asarray(kept.get(str(chrom), []), dtype=np.int64).reshape(-1, 2)
        k = np.searchsorted(spans[:, 0], lo, side="right") - 1
        inside = (k >= 0) & (hi <= spans[np.maximum(k, 0), 1]) if len(spans) else lo >= hi
        if not inside.all():
            bad = int(np.flatnonzero(~inside)[0])
            row = grp.iloc[bad]
            raise InputError(
                f"this track keeps only the regions it was built with "
                f"(store_whole_genome=False); {row['chrom']}:{row['start']}-{row['end']} "
                f"with a {flank} bp flank reaches outside them. Build it with roi= covering "
                "these windows (and their flanks), or with store_whole_genome=True"
            )


def _orientation(arr: xr.DataArray, roi: pd.DataFrame, strand_aware: bool) -> dict[str, Any]:
    minus = np.zeros(len(roi), dtype=bool)
    if strand_aware and "strand" in roi:
        minus = (roi["strand"].astype(str) == "-").to_numpy()
    kind = model.kind_of(arr)
    if kind == model.SEQUENCE_GENOME:
        if arr.attrs.get(model.ALPHABET, encode.DNA) != encode.DNA:
            return {
                "minus": np.zeros(len(roi), dtype=bool),
                "complement": None,
                "strand_axis": None,
            }
        return {"minus": minus, "complement": encode.COMPLEMENT_CODES, "strand_axis": None}
    stranded = model.STRAND in arr.dims and arr.sizes[model.STRAND] == 2
    return {"minus": minus, "complement": None, "strand_axis": 2 if stranded else None}


def _assemble(
    geo: dict[str, Any],
    orient: dict[str, Any],
    fill: Any,
    dtype: Any,
    trailing: tuple[int, ...],
    *chunks: np.ndarray,
) -> np.ndarray:
    """Task body: gather this batch's windows from the chunks they touch.

    ``geo["base"]`` counts rows of the touched chunks laid end to end. A batch inside one
    chunk gathers from it directly; otherwise only the rows its windows use are copied
    out of the chunks (a batch of windows straddling a chunk boundary: ~2 windows' rows).
    """
    chunks = tuple(c.todense() if hasattr(c, "todense") else c for c in chunks)  # sparse
    base = geo["base"]
    if len(chunks) == 1:
        flat = chunks[0][0]
    elif chunks:
        span = np.maximum(geo["valid_hi"] - geo["valid_lo"], 0)
        used = span > 0
        lo = int(base[used].min()) if used.any() else 0
        hi = int((base + span)[used].max()) if used.any() else 0
        starts = np.cumsum([0] + [c.shape[1] for c in chunks])
        pieces = [
            c[0, max(lo - s, 0) : max(min(hi - s, c.shape[1]), 0)]
            for c, s in zip(chunks, starts[:-1], strict=True)
            if s < hi and s + c.shape[1] > lo
        ]
        flat = np.concatenate(pieces, axis=0) if pieces else chunks[0][0, :0]
        base = np.where(used, base - lo, 0)
    else:
        flat = np.empty((0, *trailing), dtype=dtype)
    out = windows_fns.gather(
        flat, base, geo["win_start"], geo["valid_lo"], geo["valid_hi"], geo["width"], fill
    )
    return windows_fns.orient(out, orient["minus"], orient["complement"], orient["strand_axis"])


def _batches(
    geo: dict[str, Any], bounds: np.ndarray, n_pos_chunks: int, row_bytes: int, budget: int
) -> list[slice]:
    """Cut regions (in genome order) into consecutive batches that each read one chunk.

    A batch holds the windows that lie inside one chunk, or a run of windows straddling
    one chunk boundary, and at most ``budget`` bytes (its windows plus its chunk) and
    :data:`BATCH_REGIONS` regions: so a batch gathers from its chunk without copying it,
    and each chunk is read by the batches of its own windows (and its boundaries').
    """
    n = len(geo["ci"])
    if n == 0:
        return []
    lo, hi = geo["valid_lo"], np.maximum(geo["valid_hi"] - 1, geo["valid_lo"])
    has = geo["valid_hi"] > geo["valid_lo"]
    k0 = geo["ci"] * n_pos_chunks + np.searchsorted(bounds, lo, side="right") - 1
    k1 = geo["ci"] * n_pos_chunks + np.searchsorted(bounds, hi, side="right") - 1
    key = np.where(k0 == k1, 2 * k0, 2 * k0 + 1)  # inside chunk k0, or past its end
    if not has.all():  # windows without data (all padding) join the batch before them
        idx = np.where(has, np.arange(n), 0)
        key = key[np.maximum.accumulate(idx)]
    cuts = np.flatnonzero(key[1:] != key[:-1]) + 1
    chunk_bytes = int(np.diff(bounds).max(initial=1)) * row_bytes
    per_batch = max(
        1, min(BATCH_REGIONS, (budget - chunk_bytes) // max(geo["width"] * row_bytes, 1))
    )
    out = []
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, n], strict=True):
        for start in range(int(a), int(b), per_batch):
            out.append(slice(start, min(start + per_batch, int(b))))
    return out


def _take(geo: dict[str, Any], order: np.ndarray) -> dict[str, Any]:
    """The per-region arrays of a geometry or orientation dict, reordered."""
    return {k: v[order] if k in windows_fns.PER_REGION_KEYS else v for k, v in geo.items()}


def _lazy_windows(
    arr: xr.DataArray, geo: dict[str, Any], orient: dict[str, Any], fill: Any, budget: int
) -> da.Array:
    """The windows as a dask array: one task per batch (:func:`_batches`), depending on
    the chunks its windows touch, built as one graph layer (no per-task delayed objects)."""
    from dask.highlevelgraph import HighLevelGraph

    data = arr.data
    trailing = tuple(arr.shape[2:])
    data = rechunk(data, {0: 1, **{i: -1 for i in range(2, data.ndim)}})
    bounds = np.concatenate([[0], np.cumsum(data.chunks[1])]).astype(np.int64)
    n_pos_chunks = len(data.chunks[1])
    row_bytes = data.dtype.itemsize * int(np.prod(trailing, dtype=np.int64))
    name = f"windows-{uuid.uuid4().hex}"
    rest = (0,) * (data.ndim - 2)
    tasks: dict = {}
    sizes = []
    for i, sl in enumerate(_batches(geo, bounds, n_pos_chunks, row_bytes, budget)):
        ci = geo["ci"][sl]
        lo, hi = geo["valid_lo"][sl], geo["valid_hi"][sl]
        has = hi > lo
        k0 = np.searchsorted(bounds, lo, side="right") - 1
        k1 = np.searchsorted(bounds, np.maximum(hi - 1, lo), side="right") - 1
        reps = np.where(has, k1 - k0 + 1, 0)
        first = np.repeat(ci * n_pos_chunks + k0, reps)
        step = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
        needed = np.unique(first + step)
        chunk_len = np.diff(bounds)[needed % n_pos_chunks]
        offset = np.concatenate([[0], np.cumsum(chunk_len)[:-1]]).astype(np.int64)
        where = np.searchsorted(needed, ci * n_pos_chunks + k0)
        where = np.minimum(where, max(len(needed) - 1, 0))
        base = np.where(has, offset[where] + lo - bounds[k0], 0) if len(needed) else lo * 0
        batch_geo = {
            "base": base,
            "win_start": geo["win_start"][sl],
            "valid_lo": lo,
            "valid_hi": hi,
            "width": geo["width"],
        }
        batch_orient = {**orient, "minus": orient["minus"][sl]}
        deps = [(data.name, int(k // n_pos_chunks), int(k % n_pos_chunks), *rest) for k in needed]
        key = (name, i, 0, *rest)
        tasks[key] = (_assemble, batch_geo, batch_orient, fill, data.dtype, trailing, *deps)
        sizes.append(sl.stop - sl.start)
    if not tasks:  # no regions: explicit chunks (dask cannot size "auto" chunks of 0 rows)
        shape = (0, geo["width"], *trailing)
        return da.empty(shape, dtype=data.dtype, chunks=tuple(max(n, 1) for n in shape))
    graph = HighLevelGraph.from_collections(name, tasks, dependencies=[data])
    chunks = (tuple(sizes), (geo["width"],), *((t,) for t in trailing))
    meta = np.empty((0,) * data.ndim, data.dtype)
    return QuickValuesArray(graph, name, chunks, dtype=data.dtype, meta=meta)


def view(
    arr: xr.DataArray | xr.Dataset,
    regions: Any,
    flank: int | None = None,
    strand_aware: bool = True,
    batch_bytes: int = BATCH_BYTES,
) -> xr.DataArray:
    """View a genome-wide sequence or coverage array through regions.

    Parameters
    ----------
    arr
        A sequence genome ``(chrom, pos)`` or coverage track ``(chrom, pos, strand,
        condition)``; or a Dataset, whose genome-wide variables are all viewed through
        the same regions (other variables are kept).
    regions
        Regions (a DataFrame from :func:`genomarray.regions.tile` or
        :func:`~genomarray.io.regions.read_regions`, or anything ``read_regions`` accepts).
        Windows are ``binsize + 2 * flank`` long (``binsize`` from the tiling, else the
        longest region); shorter regions are padded at their end.
    flank
        Flank in bp on both sides; default: the tiling's flank, else 0. A flank that runs
        past a chromosome end is padded (N for sequence, 0 for coverage), never shifted.
    strand_aware
        Reverse-complement (sequence) or reverse and swap strands (coverage) of regions on
        the minus strand, as Janggu does.
    batch_bytes
        Memory budget of one lazy task (windows plus the chunks they touch).

    Returns
    -------
    xarray.DataArray
        ``(region, pos, ...)`` with per-region ``chrom``, ``start``, ``end``,
        ``region_strand`` and ``name`` coordinates; lazy if ``arr`` is.

    Examples
    --------
    >>> import genomarray as ga
    >>> dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    >>> roi = ga.tile(ga.read_regions(ga.example_path("roi.bed")), binsize=200, flank=50)
    >>> view(dna, roi).sizes["pos"]
    300
    """
    if isinstance(arr, xr.Dataset):
        return model.map_variables(
            arr,
            (model.SEQUENCE_GENOME, model.COVERAGE_TRACK),
            lambda v: view(v, regions, flank, strand_aware, batch_bytes),
            "view",
        )
    from genomarray.io.regions import read_regions

    kind = model.validate(arr, (model.SEQUENCE_GENOME, model.COVERAGE_TRACK))
    roi = read_regions(regions)  # checked once here (a DataFrame too)
    if flank is None:
        flank = int(roi.attrs.get(model.FLANK, 0) or 0)
    if not isinstance(flank, int | np.integer) or flank < 0:
        raise InputError(f"flank must be a non-negative integer, got {flank!r}")
    roi = roi.reset_index(drop=True)
    _check_stored_roi(arr, roi, int(flank))
    orient = _orientation(arr, roi, strand_aware)
    geo = cut_layout(arr, roi, int(flank), orient["minus"])
    fill = model.fill_value(arr)
    if isinstance(arr.data, da.Array):
        order = np.lexsort((geo["win_start"], geo["ci"]))
        if np.all(order[1:] > order[:-1]):
            values = _lazy_windows(arr, geo, orient, fill, batch_bytes)
        else:  # batch regions in genome order (each chunk read by few tasks), then restore
            values = _lazy_windows(arr, _take(geo, order), _take(orient, order), fill, batch_bytes)
            values = quick_values(values[np.argsort(order)])
    else:
        data = np.asarray(arr.data)
        n_pos = data.shape[1]
        flat = data.reshape(-1, *data.shape[2:])
        geo = {**geo, "base": geo["ci"] * n_pos + geo["valid_lo"]}
        values = windows_fns.orient(
            windows_fns.gather(
                flat,
                geo["base"],
                geo["win_start"],
                geo["valid_lo"],
                geo["valid_hi"],
                geo["width"],
                fill,
            ),
            orient["minus"],
            orient["complement"],
            orient["strand_axis"],
        )
    trailing = tuple(arr.dims[2:])
    keep = {
        k: v for k, v in arr.attrs.items() if k not in (model.KIND, model.CACHE_KEY, model.SOURCE)
    }
    attrs = {
        **keep,
        model.BINSIZE: geo["binsize"],
        model.STEPSIZE: roi.attrs.get(model.STEPSIZE),
        model.FLANK: int(flank),
        model.RESOLUTION: geo["resolution"],
        model.STRAND_AWARE: bool(strand_aware),
        model.VIEW_OF: kind,
        model.CHROM_SIZES: model.chrom_sizes(arr),
    }
    attrs = {k: v for k, v in attrs.items() if v is not None}
    out = model.region_view(
        values,
        roi,
        trailing_dims=trailing,
        coords={d: arr[d].variable for d in trailing if d in arr.coords},
        name=arr.name,
        **attrs,
    )
    stored = model.recipe_of(arr)
    if (
        isinstance(values, da.Array)
        and stored is not None
        and stored["op"] in (model.RECIPE_STORE, model.RECIPE_READER)
    ):
        # how the batch engine gathers these windows straight from the store's chunks
        # (or from the reader's blocks, for a genome-wide array without a store)
        model.record_recipe(
            out,
            model.RECIPE_WINDOWS,
            of=stored,
            **{k: geo[k] for k in ("ci", "win_start", "valid_lo", "valid_hi", "width")},
            **orient,
            fill=fill,
        )
        with_recipe(out)  # its .values reads as genomarray.load does
    return out
