"""Predictions back onto the genome.

:func:`from_array` labels a model's output with the regions of the view it was predicted
from; :func:`to_genome` stitches such a view (or any coverage view) into a genome-wide
coverage track ``(chrom, pos, strand, condition)`` that exporters and plots take.

Placement rules
---------------
Bin ``j`` of a region's window covers ``[origin + j * bin, origin + (j + 1) * bin)`` bp,
where ``origin = floor((start - flank) / grid) * grid`` is where the view's window starts
(see :func:`genomarray.views.geometry.window_layout`). Only the region's own extent
``[start - flank, end + flank)`` is placed (a shorter region's padding is not) and
nothing past a chromosome's end. Minus-strand windows of a strand-aware view are reversed
back, and their ``+``/``-`` strands swapped back, before they are placed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import dask.array as da
import numpy as np
import xarray as xr
from dask.highlevelgraph import HighLevelGraph

from genomarray import model
from genomarray.errors import ChromosomeError, InputError
from genomarray.views.geometry import (
    gcd_resolution,
    grid_of,
    window_bp,
    window_layout,
)

CHUNK = 1 << 20
"""Default ``pos`` chunk (bins) of the track :func:`to_genome` returns."""

_COPIED_ATTRS = (model.BINSIZE, model.STEPSIZE, model.FLANK, model.STRAND_AWARE, model.CHROM_SIZES)


def _labels(
    given: Sequence[str] | None, like: xr.DataArray, dim: str, n: int, default: list[str]
) -> list[str]:
    if given is not None:
        labels = [str(c) for c in given]
        if len(labels) != n:
            raise InputError(
                f"{len(labels)} {dim} labels for {n} {dim} columns", source="from_array"
            )
        return labels
    if dim in like.coords and like.sizes.get(dim) == n:
        return [str(c) for c in like[dim].values]
    return default


def from_array(
    values: Any, like: xr.DataArray, conditions: Sequence[str] | None = None
) -> xr.DataArray:
    """Label predictions with the regions of the view they were predicted from.

    Parameters
    ----------
    values
        numpy or dask array, one row per region of ``like``, in its order:

        - ``(N, C)``: one value per region (``pos`` of size 1, resolution ``"region"``),
        - ``(N, L, C)``: ``L`` bins per window,
        - ``(N, L, S, C)``: ``S`` = 1 or 2 strands per bin (kept, never summed).

        ``L`` may differ from ``like``'s ``pos`` length: the bin size is then the window
        span divided by ``L`` (it must divide evenly).
    like
        The region view (or one-hot view) the predictions were made from.
    conditions
        Condition labels; default: ``like``'s condition labels when the counts match, else
        ``c0``, ``c1``, ...

    Returns
    -------
    xarray.DataArray
        A region view ``(region, pos, strand, condition)``, lazy if ``values`` is, with
        ``like``'s per-region coordinates and window geometry; strand labels are
        ``like``'s when it has as many, else ``"."`` (S = 1) or ``"+", "-"`` (S = 2).

    Raises
    ------
    InputError
        A row count that differs from ``like``'s region count, a shape of another rank,
        S not 1 or 2, or a window span not divisible by ``L``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from genomarray import model
    >>> roi = pd.DataFrame({"chrom": ["chr1", "chr1"], "start": [0, 100], "end": [100, 200]})
    >>> x = model.region_view(np.zeros((2, 100, 4)), roi, trailing_dims=["base"],
    ...                       resolution=1)
    >>> p = from_array(np.ones((2, 10, 1)), like=x)
    >>> p.dims, p.attrs["resolution"]
    (('region', 'pos', 'strand', 'condition'), 10)
    >>> from_array(np.ones((2, 3)), like=x).sizes["pos"]
    1
    """
    kind = model.validate(like, (model.REGION_VIEW, model.ONEHOT_VIEW))
    if not isinstance(values, da.Array):
        values = np.asarray(values)
    n_regions = like.sizes[model.REGION]
    if values.ndim not in (2, 3, 4):
        raise InputError(
            f"predictions must have shape (N, C), (N, L, C) or (N, L, S, C); "
            f"got {values.ndim} dims {tuple(values.shape)}",
            source="from_array",
        )
    if values.shape[0] != n_regions:
        raise InputError(
            f"predictions have {values.shape[0]} rows but the view has {n_regions} regions",
            source="from_array",
        )
    window = window_bp(like)
    if values.ndim == 2:
        values = values[:, None, None, :]
        resolution: int | str = model.REGION_RESOLUTION
    else:
        if values.ndim == 3:
            values = values[:, :, None, :]
        n_bins = values.shape[1]
        like_res = like.attrs.get(model.RESOLUTION, 1)
        if (
            kind == model.REGION_VIEW
            and n_bins == like.sizes[model.POS]
            and like_res not in (None, model.REGION_RESOLUTION)
        ):
            resolution = int(like_res)
        elif n_bins > 0 and window % n_bins == 0:
            resolution = window // n_bins
        else:
            raise InputError(
                f"predictions have {n_bins} bins per window, which does not "
                f"divide the window of {window} bp into whole bins",
                source="from_array",
            )
    n_strands = values.shape[2]
    if n_strands not in (1, 2):
        raise InputError(
            f"predictions have {n_strands} strands; expected 1 or 2", source="from_array"
        )
    strands = _labels(
        None,
        like,
        model.STRAND,
        n_strands,
        [model.STRAND_UNSTRANDED] if n_strands == 1 else list(model.STRANDS_STRANDED),
    )
    n_cond = values.shape[3]
    conds = _labels(conditions, like, model.CONDITION, n_cond, [f"c{i}" for i in range(n_cond)])

    coords = {k: like[k].variable for k in model.REGION_COORDS}
    if model.REGION in like.coords:
        coords[model.REGION] = like[model.REGION].variable
    coords[model.STRAND] = np.array(strands, dtype=object)
    coords[model.CONDITION] = np.array(conds, dtype=object)
    attrs = {k: like.attrs[k] for k in _COPIED_ATTRS if like.attrs.get(k) is not None}
    attrs.update(
        {
            model.RESOLUTION: resolution,
            model.WINDOW_GRID: grid_of(like),
            model.WINDOW_BP: window,
            model.VIEW_OF: model.COVERAGE_TRACK,
        }
    )
    return model.region_view(
        values,
        model.regions_of(like),
        trailing_dims=(model.STRAND, model.CONDITION),
        coords=coords,
        name="prediction",
        **attrs,
    )


def chrom_sizes_for(chrom_sizes: Any, view: xr.DataArray) -> dict[str, int]:
    """``{chrom: length}`` from a dict, a genome-wide array, a FASTA/BAM/bigWig/sizes file,
    or (``chrom_sizes=None``) the genome ``view`` was cut from (``attrs["chrom_sizes"]``).

    Raises
    ------
    InputError
        None was given and the view does not record its genome's sizes.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from genomarray import model
    >>> roi = pd.DataFrame({"chrom": ["c"], "start": [0], "end": [4]})
    >>> v = model.region_view(np.zeros((1, 4)), roi, chrom_sizes={"c": 10})
    >>> chrom_sizes_for(None, v), chrom_sizes_for({"c": 20}, v)
    ({'c': 10}, {'c': 20})
    """
    if chrom_sizes is None:
        chrom_sizes = view.attrs.get(model.CHROM_SIZES)
        if chrom_sizes is None:
            raise InputError(
                "chromosome sizes unknown; pass chrom_sizes= (a dict, a "
                "genome-wide array or a FASTA/BAM/bigWig/sizes file)",
                source="to_genome",
            )
    if isinstance(chrom_sizes, xr.DataArray | xr.Dataset):
        return model.chrom_sizes(chrom_sizes)
    if isinstance(chrom_sizes, str | os.PathLike):
        from genomarray.io.chromsizes import chrom_sizes as read_sizes

        return {str(k): int(v) for k, v in read_sizes(chrom_sizes).items()}
    if isinstance(chrom_sizes, Mapping):
        return {str(k): int(v) for k, v in chrom_sizes.items()}
    raise TypeError(
        "chrom_sizes must be a dict, a genome-wide array or a path, got "
        f"{type(chrom_sizes).__name__}"
    )


def as_coverage_view(view: xr.DataArray) -> xr.DataArray:
    """Return ``view`` with dims exactly ``(region, pos, strand, condition)``.

    A missing ``strand`` dim is added as ``"."``, a missing ``condition`` dim named after
    the view; any other trailing dim is an error.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from genomarray import model
    >>> roi = pd.DataFrame({"chrom": ["c"], "start": [0], "end": [4]})
    >>> as_coverage_view(model.region_view(np.zeros((1, 4)), roi, name="pred")).dims
    ('region', 'pos', 'strand', 'condition')
    """
    extra = [d for d in view.dims[2:] if d not in (model.STRAND, model.CONDITION)]
    if extra:
        raise InputError(
            f"to_genome places coverage views (region, pos, strand, condition);"
            f" this view has the dims {tuple(view.dims)}",
            source="to_genome",
        )
    if model.STRAND not in view.dims:
        view = view.expand_dims({model.STRAND: [model.STRAND_UNSTRANDED]}, axis=-1)
    if model.CONDITION not in view.dims:
        label = str(view.name) if view.name is not None else "c0"
        view = view.expand_dims({model.CONDITION: [label]}, axis=-1)
    return view.transpose(model.REGION, model.POS, model.STRAND, model.CONDITION)


def _place(
    values: np.ndarray,
    origin: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    width: int,
    resolution: int,
    first: int,
    n: int,
    how: str,
    fill: float,
    dtype: np.dtype,
) -> np.ndarray:
    """Task body: stitch the windows ``values`` (forward orientation) into output bins
    ``[first, first + n)``; window ``i``'s bin ``j`` covers bp ``[origin + j * width, ...)``
    clipped to ``[a, b)``, for ``j`` in ``[lo, hi)``."""
    s, c = values.shape[2:]
    counts = hi - lo
    which = np.repeat(np.arange(len(lo)), counts)
    j = lo[which] + np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    x = np.maximum(origin[which] + j * width, a[which])
    y = np.minimum(origin[which] + (j + 1) * width, b[which])
    o0 = np.maximum(x // resolution, first)
    o1 = np.minimum(-(-y // resolution), first + n)
    keep = o1 > o0
    which, j, o0, o1 = which[keep], j[keep], o0[keep], o1[keep]
    reps = o1 - o0
    idx = (
        np.repeat(o0 - first, reps)
        + np.arange(int(reps.sum()))
        - np.repeat(np.cumsum(reps) - reps, reps)
    )
    vals = values[np.repeat(which, reps), np.repeat(j, reps)].reshape(len(idx), s * c)
    hits = np.bincount(idx, minlength=n)
    if how == "max":
        acc = np.full((n, s * c), -np.inf)
        np.maximum.at(acc, idx, vals)
    else:
        acc = (
            np.stack(
                [np.bincount(idx, weights=vals[:, k], minlength=n) for k in range(s * c)], axis=1
            )
            if s * c
            else np.zeros((n, 0))
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            acc = acc / hits[:, None]
    out = np.where(hits[:, None] > 0, acc, fill).astype(dtype, copy=False)
    return out.reshape(1, n, s, c)


def _filled(shape: tuple[int, ...], fill: float, dtype: np.dtype) -> np.ndarray:
    return np.full(shape, fill, dtype=dtype)


def to_genome(
    view: xr.DataArray,
    chrom_sizes: Any = None,
    how: Literal["mean", "max"] | None = "mean",
    fill: float = 0.0,
    resolution: int | None = None,
    chunk: int = CHUNK,
) -> xr.DataArray:
    """Place the windows of a region view on a genome-wide coverage track.

    Parameters
    ----------
    view
        A region view ``(region, pos[, strand][, condition])``, e.g. from
        :func:`from_array` or :func:`genomarray.views.windows.view` of a coverage track.
    chrom_sizes
        ``{chrom: length}``, a genome-wide array, or a FASTA/BAM/bigWig/sizes file;
        default: ``view.attrs["chrom_sizes"]`` when the view records it. Every chromosome
        is in the result, in this order, those without regions holding ``fill``.
    how
        Stitching of bins covered by several windows: ``"mean"`` (average of all windows
        covering the bin) or ``"max"``. ``None``: windows must not overlap (checked at
        once, in output bins).
    fill
        Value of positions no window covers (``np.nan`` allowed).
    resolution
        Output bin size in bp; default: the coarsest one at which every window bin starts
        on an output bin boundary (the view's resolution when its windows are aligned to
        it; the window grid for one value per region), so that placement is exact. An
        output bin that a window bin covers only in part (a short region's end, a
        chromosome's end, or a ``resolution`` given here that does not align) still gets
        that window bin's value, stitched with the others by ``how``.
    chunk
        ``pos`` chunk of the result, in bins.

    Returns
    -------
    xarray.DataArray
        Coverage track ``(chrom, pos, strand, condition)``, float32 (float64 for float64
        input), dask-backed: one task per chunk that windows touch, the other chunks are
        ``fill`` and cost nothing until written. The view's values are held in memory
        (computed once if they are dask-backed).

    Raises
    ------
    InputError
        Unknown chromosome sizes, an unknown ``how``, or overlapping windows with
        ``how=None`` (``"regions overlap; choose how='mean' or 'max'"``).
    ChromosomeError
        A region on a chromosome that ``chrom_sizes`` lacks.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from genomarray import model
    >>> roi = pd.DataFrame({"chrom": ["chr1", "chr1"], "start": [0, 2], "end": [4, 6]})
    >>> v = model.region_view(np.array([[1., 1, 1, 1], [3, 3, 3, 3]]), roi, resolution=1)
    >>> to_genome(v, {"chr1": 8}).values[0, :, 0, 0]
    array([1., 1., 2., 2., 3., 3., 0., 0.])
    >>> to_genome(v, {"chr1": 8}, how="max", fill=np.nan).values[0, :, 0, 0]
    array([ 1.,  1.,  3.,  3.,  3.,  3., nan, nan])
    """
    model.validate(view, model.REGION_VIEW)
    if how not in ("mean", "max", None):
        raise InputError(f"unknown how={how!r}; expected 'mean', 'max' or None", source="to_genome")
    if isinstance(chunk, bool) or not isinstance(chunk, int | np.integer) or chunk <= 0:
        raise InputError(f"chunk must be a positive integer, got {chunk!r}", source="to_genome")
    sizes = chrom_sizes_for(chrom_sizes, view)
    view = as_coverage_view(view)
    lay = window_layout(view)
    width = int(lay["bin"])
    if resolution is None:
        resolution = (
            lay["grid"]
            if view.attrs.get(model.RESOLUTION) == model.REGION_RESOLUTION
            else gcd_resolution(width, lay["origin"])
        )
    if (
        isinstance(resolution, bool)
        or not isinstance(resolution, int | np.integer)
        or resolution <= 0
    ):
        raise InputError(
            f"resolution must be a positive integer, got {resolution!r}", source="to_genome"
        )
    resolution = int(resolution)

    chroms = view[model.REGION_CHROM].values.astype(str)
    unknown = sorted(set(chroms) - set(sizes))
    if unknown:
        raise ChromosomeError(
            f"regions on chromosome(s) {unknown} that the chromosome sizes "
            f"lack (they have {list(sizes)[:10]})",
            source="to_genome",
        )
    chrom_index = {c: i for i, c in enumerate(sizes)}
    ci = np.array([chrom_index[c] for c in chroms], dtype=np.int64)
    lengths = np.array(list(sizes.values()), dtype=np.int64)
    origin = lay["origin"]
    lo, hi = lay["forward_lo"], lay["forward_hi"]
    a = np.maximum(np.maximum(origin + lo * width, lay["valid_start"]), 0)
    b = np.minimum(np.minimum(origin + hi * width, lay["valid_end"]), lengths[ci])
    placed = b > a
    out_lo = a // resolution
    out_hi = -(-b // resolution)

    if how is None:
        for c in np.unique(ci[placed]):
            sel = np.flatnonzero(placed & (ci == c))
            order = sel[np.argsort(out_lo[sel], kind="stable")]
            reach = np.maximum.accumulate(out_hi[order])
            if np.any(out_lo[order][1:] < reach[:-1]):
                raise InputError("regions overlap; choose how='mean' or 'max'", source="to_genome")
        how = "mean"

    values = np.asarray(view.values)
    dtype = np.dtype(np.float64 if values.dtype == np.float64 else np.float32)
    minus = lay["minus"]
    if minus.any():
        values = values.copy()
        turned = values[minus, ::-1]
        if values.shape[2] == 2:
            turned = turned[:, :, ::-1]
        values[minus] = turned

    n_strand, n_cond = values.shape[2:]
    n_bins = -(-lengths // resolution)
    total = int(n_bins.max(initial=0))
    bounds = list(range(0, total, chunk)) + [total]
    pos_chunks = tuple(np.diff(bounds).tolist())
    # One graph layer of raw tasks (a block array per (chrom, chunk) would make assemblies
    # with thousands of contigs take minutes just to build the graph).
    name = f"to-genome-{uuid.uuid4().hex[:12]}"
    dsk: dict[tuple[Any, ...], Any] = {}
    for c in np.unique(ci[placed]).tolist():
        sel = np.flatnonzero(placed & (ci == c))
        k0 = out_lo[sel] // chunk
        k1 = (out_hi[sel] - 1) // chunk
        for k in range(int(k0.min()), int(k1.max()) + 1):
            touch = sel[(k0 <= k) & (k1 >= k)]
            if len(touch):
                dsk[(name, c, k, 0, 0)] = (
                    _place,
                    values[touch],
                    origin[touch],
                    lo[touch],
                    hi[touch],
                    a[touch],
                    b[touch],
                    width,
                    resolution,
                    bounds[k],
                    pos_chunks[k],
                    how,
                    fill,
                    dtype,
                )
    for c in range(len(lengths)):
        for k, n in enumerate(pos_chunks):
            dsk.setdefault((name, c, k, 0, 0), (_filled, (1, n, n_strand, n_cond), fill, dtype))
    if pos_chunks and len(lengths):
        graph = HighLevelGraph.from_collections(name, dsk, dependencies=())
        data = da.Array(
            graph,
            name,
            chunks=((1,) * len(lengths), pos_chunks, (n_strand,), (n_cond,)),
            meta=np.empty((0, 0, 0, 0), dtype),
        )
    else:  # no chromosomes, or only empty ones
        data = da.full((len(lengths), total, n_strand, n_cond), fill, dtype=dtype)
    attrs = {model.HOW: how, model.FILL_VALUE: fill}
    normalizers = view.attrs.get(model.NORMALIZERS, ())
    return model.coverage_track(
        data,
        list(sizes),
        list(lengths),
        [str(s) for s in view[model.STRAND].values],
        [str(s) for s in view[model.CONDITION].values],
        resolution=resolution,
        normalizers=normalizers,
        **attrs,
    )


__all__ = ["from_array", "to_genome"]
