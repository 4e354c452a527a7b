"""Collapse ``pos`` into coarser bins, or into one value per region.

:func:`collapse` reduces groups of bins along ``pos`` of a region view
``(region, pos, ...)`` or a coverage track ``(chrom, pos, strand, condition)`` with a
named reduction (``"sum"``, ``"mean"``, ``"max"``, ``"min"``) or any numpy-style reduction
function. It is Janggu's ``resolution=``/``collapser=`` of ``Cover``, rebuilt lazily.

Padding, not repetition
-----------------------
When the length of ``pos`` is not a multiple of the group size, the last group is
*padded at its end* with the padding value (``fill``; by default the array's fill value,
0 for coverage) before it is reduced, exactly as a view pads a window that runs past a
chromosome end. Janggu reshaped with ``np.resize``, which repeats the array cyclically,
so its last bin mixed in values from the window's start; genomarray never does.

With the default ``partial="pad"`` the padding *counts*: ``"mean"`` of the last bin is
``(sum of its real values + padding) / k``, so ``"mean"`` is always ``"sum" / k`` (a
per-bp density in which the missing bases are ``fill``, as the bins beyond a
chromosome's end of a genome-wide track are). ``partial="ignore"`` reduces the last bin
over its real positions only (``"mean"`` is then the mean of the values it holds,
``"max"``/``"min"`` ignore the padding, ``fill`` is unused).

Window geometry
---------------
A view's windows start at ``floor((start - flank) / grid) * grid`` bp, where ``grid`` is
the resolution of the track the view was cut from. Collapsing a view records that grid
(``attrs["window_grid"]``) and the window span in bp before collapsing
(``attrs["window_bp"]``) so that :func:`window_layout` (used by ``resolution=None`` and
by :func:`genomarray.predictions.to_genome`) can still place every bin on the genome.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import dask.array as da
import numpy as np
import xarray as xr

from genomarray import model
from genomarray.errors import InputError

HOWS = ("sum", "mean", "max", "min")

Reduction = Literal["sum", "mean", "max", "min"] | Callable[..., Any]


# -- numpy kernels ----------------------------------------------------------------------
def _reduce(groups: np.ndarray, how: Reduction, axis: int) -> np.ndarray:
    """Reduce ``groups`` along ``axis`` (callables see that axis last, as ``axis=-1``)."""
    if callable(how):
        moved = np.moveaxis(groups, axis, -1)
        out = np.asarray(how(moved, axis=-1))
        expect = moved.shape[:-1]
        if out.shape != expect:
            name = getattr(how, "__name__", repr(how))
            raise InputError(
                f"the reduction {name} returned shape {out.shape}; expected "
                f"{expect} (the input's shape without its last axis)",
                source="collapse",
            )
        return out
    return getattr(np, how)(groups, axis=axis)


def _padding(x: np.ndarray, n: int, fill: Any) -> np.ndarray:
    shape = (x.shape[0], n, *x.shape[2:])
    if np.issubdtype(x.dtype, np.integer) or x.dtype == np.bool_:
        value = float(fill)
        if not value.is_integer():
            raise InputError(
                f"cannot pad an array of dtype {x.dtype} with fill={fill!r}; "
                "pass an integer fill or partial='ignore'",
                source="collapse",
            )
    return np.full(shape, fill, dtype=x.dtype)


def bin_reduce(
    x: np.ndarray, k: int, how: Reduction = "sum", fill: Any = 0, partial: str = "pad"
) -> np.ndarray:
    """Reduce groups of ``k`` consecutive positions along axis 1 of a numpy array.

    A last group shorter than ``k`` is padded at its end with ``fill`` (``partial="pad"``)
    or reduced as it is (``partial="ignore"``); never filled by cyclic repetition.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1, 2, 3, 4, 5]])
    >>> bin_reduce(x, 2, "mean")
    array([[1.5, 3.5, 2.5]])
    >>> bin_reduce(x, 2, "mean", partial="ignore")
    array([[1.5, 3.5, 5. ]])
    """
    n_full, tail = divmod(x.shape[1], k)
    parts = []
    if n_full:
        groups = x[:, : n_full * k].reshape(x.shape[0], n_full, k, *x.shape[2:])
        parts.append(_reduce(groups, how, axis=2))
    if tail:
        last = x[:, n_full * k :]
        if partial == "pad":
            last = np.concatenate([last, _padding(x, k - tail, fill)], axis=1)
        parts.append(_reduce(last[:, None], how, axis=2))
    if not parts:
        return _reduce(x.reshape(x.shape[0], 0, k, *x.shape[2:]), how, axis=2)
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


def masked_reduce(
    x: np.ndarray, lo: np.ndarray, hi: np.ndarray, how: Reduction = "sum"
) -> np.ndarray:
    """Reduce positions ``[lo[i], hi[i])`` along axis 1 of row ``i``; keep axis 1 (size 1).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1., 2., 3., 0.], [0., 4., 5., 6.]])
    >>> masked_reduce(x, np.array([0, 1]), np.array([3, 4]), "mean")
    array([[2.],
           [5.]])
    """
    if callable(how):
        out = None
        pairs = np.stack([lo, hi], axis=1)
        uniq, which = np.unique(pairs, axis=0, return_inverse=True)
        which = which.reshape(-1)
        for u, (a, b) in enumerate(uniq):
            rows = np.flatnonzero(which == u)
            got = _reduce(x[rows, a:b], how, axis=1)
            if out is None:
                out = np.empty((x.shape[0], *got.shape[1:]), dtype=got.dtype)
            out[rows] = got
        if out is None:  # no rows: infer the dtype on a dummy group
            got = _reduce(np.zeros((1, 1, *x.shape[2:]), x.dtype), how, axis=1)
            out = np.empty((0, *got.shape[1:]), dtype=got.dtype)
        return out[:, None]
    idx = np.arange(x.shape[1])
    mask = (idx >= lo[:, None]) & (idx < hi[:, None])
    mask = mask.reshape(*mask.shape, *([1] * (x.ndim - 2)))
    mask = np.broadcast_to(mask, x.shape)
    kwargs: dict[str, Any] = {"axis": 1, "where": mask, "keepdims": True}
    if how in ("max", "min"):
        if np.issubdtype(x.dtype, np.integer):
            info = np.iinfo(x.dtype)
            kwargs["initial"] = info.min if how == "max" else info.max
        else:
            kwargs["initial"] = -np.inf if how == "max" else np.inf
    return getattr(np, how)(x, **kwargs)


# -- geometry ---------------------------------------------------------------------------
def _resolution(arr: xr.DataArray) -> int | str:
    res = arr.attrs.get(model.RESOLUTION, 1)
    if res is None or res == model.REGION_RESOLUTION:
        return model.REGION_RESOLUTION
    return int(res)


def window_layout(view: xr.DataArray) -> dict[str, Any]:
    """Where each bin of a region view lies on the genome.

    Returns a dict of per-region numpy arrays (and scalars):

    - ``origin``: bp where bin 0 starts once a minus-strand window of a strand-aware view
      is turned back to the forward orientation (reverse ``pos``),
    - ``bin``: bp per bin (``window_bp`` for one value per region),
    - ``valid_start``, ``valid_end``: bp extent of the region's own window,
      ``[start - flank, end + flank)`` on the view's grid, clipped to the window (the rest
      of a shorter region's window is padding),
    - ``lo``, ``hi``: the bins of ``pos`` (as the view stores them, minus-strand windows
      reversed) that overlap that extent; ``forward_lo``, ``forward_hi``: the same bins
      counted in the forward orientation,
    - ``minus``: whether the window is stored reversed,
    - ``n_pos``, ``window_bp``, ``grid``: bins per window, the span (bp) the window was
      cut with, and the grid (bp) window starts lie on.

    A minus-strand window of a strand-aware view is anchored at its *end* (position 0 is
    the region's 5' end, as in :func:`genomarray.views.view`): a shorter region's padding,
    and padding added by collapsing past ``window_bp``, lie before its start once it is
    turned back.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from genomarray import model
    >>> roi = pd.DataFrame({"chrom": ["c", "c"], "start": [10, 50], "end": [16, 60],
    ...                     "strand": ["+", "-"]})
    >>> v = model.region_view(np.zeros((2, 14)), roi, resolution=1, flank=2,
    ...                       strand_aware=True)
    >>> lay = window_layout(v)
    >>> lay["origin"].tolist(), lay["lo"].tolist(), lay["hi"].tolist()
    ([8, 48], [0, 0], [10, 14])
    """
    res = _resolution(view)
    n_pos = view.sizes[model.POS]
    flank = int(view.attrs.get(model.FLANK, 0) or 0)
    grid = view.attrs.get(model.WINDOW_GRID)
    if grid is None:
        if res == model.REGION_RESOLUTION:
            raise InputError(
                "this view holds one value per region but does not record "
                f"its window grid (attrs[{model.WINDOW_GRID!r}])",
                source="view",
            )
        grid = res
    grid = int(grid)
    window = view.attrs.get(model.WINDOW_BP)
    if window is None:
        if res == model.REGION_RESOLUTION:
            raise InputError(
                "this view holds one value per region but does not record "
                f"its window span (attrs[{model.WINDOW_BP!r}])",
                source="view",
            )
        window = n_pos * int(res)
    window = int(window)
    width = window if res == model.REGION_RESOLUTION else int(res)
    span = n_pos * width
    start = view[model.REGION_START].values.astype(np.int64)
    end = view[model.REGION_END].values.astype(np.int64)
    first = ((start - flank) // grid) * grid
    last = -(-(end + flank) // grid) * grid
    minus = np.zeros(len(start), dtype=bool)
    if view.attrs.get(model.STRAND_AWARE, False):
        minus = view[model.REGION_STRAND].values.astype(str) == "-"
    win_lo = np.where(minus, last - window, first)  # the window as the view cut it
    ws = np.clip(first, win_lo, win_lo + window - min(grid, window))
    ve = np.clip(last, ws + min(grid, window), win_lo + window)
    origin = np.where(minus, win_lo + window - span, win_lo)
    lo_f = np.maximum((ws - origin) // width, 0)
    hi_f = np.minimum(-(-(ve - origin) // width), n_pos)
    hi_f = np.maximum(hi_f, lo_f + 1)
    return {
        "origin": origin,
        "bin": width,
        "n_pos": n_pos,
        "window_bp": window,
        "valid_start": ws,
        "valid_end": ve,
        "minus": minus,
        "lo": np.where(minus, n_pos - hi_f, lo_f),
        "hi": np.where(minus, n_pos - lo_f, hi_f),
        "forward_lo": lo_f,
        "forward_hi": hi_f,
        "grid": grid,
    }


# -- the public function ----------------------------------------------------------------
def _check_how(how: Any) -> None:
    if callable(how):
        return
    if how not in HOWS:
        raise InputError(
            f"unknown how={how!r}; expected one of {list(HOWS)} or a function "
            "called as fn(values, axis=-1)",
            source="collapse",
        )


def _result_dtype(
    kernel: Callable[[np.ndarray], np.ndarray], dtype: np.dtype, trailing: tuple[int, ...], n: int
) -> np.dtype:
    """Dtype of ``kernel`` on a dummy ``(1, n, 1, ...)`` block (a lazy result's dtype)."""
    sample = np.ones((1, n, *[1] * len(trailing)), dtype=dtype)
    return kernel(sample).dtype


def collapse(
    arr: xr.DataArray,
    resolution: int | None,
    how: Reduction = "sum",
    fill: Any = None,
    partial: Literal["pad", "ignore"] = "pad",
) -> xr.DataArray:
    """Reduce ``pos`` of a region view or coverage track to a coarser resolution.

    Parameters
    ----------
    arr
        A region view ``(region, pos, ...)`` of coverage, or a coverage track
        ``(chrom, pos, strand, condition)``.
    resolution
        New bin size in bp: a positive multiple of the current ``attrs["resolution"]``
        (1 when absent).
        Groups of ``resolution / attrs["resolution"]`` bins are reduced; a last, shorter
        group is padded at its end (see ``partial``). ``None``: one value per region
        (views only), reduced over the region's own window ``[start - flank, end +
        flank)``: the padding that a view adds after a region shorter than the window
        (variable-length regions of ``tile(..., collapse=True)``, short last tiles) is
        left out, whatever the strand. Padding past a chromosome end counts as data (the
        view's padding value, 0 for coverage), as it does in the view.
    how
        ``"sum"``, ``"mean"``, ``"max"``, ``"min"``, or a function called like a numpy
        reduction, ``fn(values, axis=-1)``, where ``values`` is a numpy array holding the
        groups along its *last* axis; it must return ``values`` without that axis
        (``np.median``, ``functools.partial(np.percentile, q=90)``, ``lambda v, axis:
        v.std(axis=axis)``). It is called once more, on a small dummy block, to learn
        its output dtype.
    fill
        Padding of a last partial group; default: the array's fill value
        (:func:`genomarray.model.fill_value`, 0 for coverage).
    partial
        ``"pad"``: the last partial group is padded with ``fill`` and reduced like the
        others (padding counts: ``"mean"`` stays ``"sum" / k``). ``"ignore"``: it is
        reduced over its real positions only.

    Returns
    -------
    xarray.DataArray
        Same dims and coordinates, ``pos`` of ``ceil(n / k)`` bins (1 for ``None``);
        ``attrs["resolution"]`` updated (``"region"`` for ``None``). A view's ``pos``
        coordinate is the bin offset ``0..n-1``; a track keeps ``chrom_length``. Lazy if
        ``arr`` is dask-backed, numpy otherwise.

    Raises
    ------
    InputError
        ``resolution`` not a positive integer multiple of the current resolution, an
        unknown ``how``, ``None`` on a track, or an array that is not coverage.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from genomarray import model
    >>> roi = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [5]})
    >>> v = model.region_view(np.arange(1.0, 6.0)[None], roi, resolution=1)
    >>> collapse(v, 2, "sum").values
    array([[3., 7., 5.]])
    >>> collapse(v, 2, "max", partial="ignore").values
    array([[2., 4., 5.]])
    >>> collapse(v, None, "mean").values
    array([[3.]])
    """
    kind = model.validate(arr, (model.REGION_VIEW, model.COVERAGE_TRACK))
    if kind == model.REGION_VIEW and (
        arr.ndim == 2 and arr.attrs.get("view_of") in (model.SEQUENCE_GENOME, "sequences")
    ):
        raise InputError(
            "collapse reduces coverage, not sequence codes; one-hot the "
            "sequence and sum over 'pos' instead",
            source="collapse",
        )
    _check_how(how)
    if partial not in ("pad", "ignore"):
        raise InputError(f"partial must be 'pad' or 'ignore', got {partial!r}", source="collapse")
    current = _resolution(arr)
    fill = model.fill_value(arr) if fill is None else fill
    attrs = dict(arr.attrs)
    if kind == model.REGION_VIEW and (
        attrs.get(model.WINDOW_GRID) is None or attrs.get(model.WINDOW_BP) is None
    ):
        attrs[model.WINDOW_GRID] = view_grid(arr)
        attrs[model.WINDOW_BP] = window_layout(arr)["window_bp"]
    data = arr.data
    trailing = tuple(arr.shape[2:])

    if resolution is None:
        if kind != model.REGION_VIEW:
            raise InputError(
                "resolution=None (one value per region) needs a region view; "
                "a coverage track takes an integer resolution",
                source="collapse",
            )
        lay = window_layout(arr)
        lo, hi = lay["lo"], lay["hi"]

        def kernel(x: np.ndarray, rows: slice = slice(None)) -> np.ndarray:
            return masked_reduce(x, lo[rows], hi[rows], how)

        dtype = _result_dtype(
            lambda x: masked_reduce(x, np.zeros(1, np.int64), np.ones(1, np.int64), how),
            data.dtype,
            trailing,
            1,
        )
        if isinstance(data, da.Array):
            data = data.rechunk({1: -1})

            def block(x: np.ndarray, block_info: dict | None = None) -> np.ndarray:
                r0, r1 = block_info[0]["array-location"][0]
                return kernel(x, slice(r0, r1))

            out = data.map_blocks(
                block,
                chunks=(data.chunks[0], (1,), *data.chunks[2:]),
                dtype=dtype,
                meta=np.empty((0,) * data.ndim, dtype),
            )
        else:
            out = kernel(np.asarray(data))
        attrs[model.RESOLUTION] = model.REGION_RESOLUTION
    else:
        if current == model.REGION_RESOLUTION:
            raise InputError(
                "this array already holds one value per region; it cannot be "
                f"collapsed to resolution={resolution!r}",
                source="collapse",
            )
        if (
            isinstance(resolution, bool)
            or not isinstance(resolution, int | np.integer)
            or resolution <= 0
            or resolution % current
        ):
            raise InputError(
                f"resolution must be a positive integer multiple of the "
                f"current resolution ({current} bp) or None, got "
                f"{resolution!r}",
                source="collapse",
            )
        k = int(resolution) // current

        def kernel(x: np.ndarray) -> np.ndarray:
            return bin_reduce(x, k, how, fill, partial)

        dtype = _result_dtype(kernel, data.dtype, trailing, k)
        if isinstance(data, da.Array):
            pos_chunks = data.chunks[1]
            if any(c % k for c in pos_chunks[:-1]):
                data = data.rechunk({1: max(k, (max(pos_chunks) // k) * k)})
            out_chunks = tuple(-(-c // k) for c in data.chunks[1])
            out = data.map_blocks(
                kernel,
                chunks=(data.chunks[0], out_chunks, *data.chunks[2:]),
                dtype=dtype,
                meta=np.empty((0,) * data.ndim, dtype),
            )
        else:
            out = kernel(np.asarray(data))
        attrs[model.RESOLUTION] = int(resolution)

    coords = {name: c.variable for name, c in arr.coords.items() if model.POS not in c.dims}
    if kind == model.REGION_VIEW:
        coords[model.POS] = np.arange(out.shape[1], dtype=np.int64)
    result = xr.DataArray(out, dims=arr.dims, coords=coords, name=arr.name, attrs=attrs)
    model.validate(result, kind)
    return result


def view_grid(view: xr.DataArray) -> int:
    """The grid (bp) a view's windows start on: ``attrs["window_grid"]``, else its resolution.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from genomarray import model
    >>> roi = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [4]})
    >>> view_grid(model.region_view(np.zeros((1, 4)), roi, resolution=5))
    5
    """
    grid = view.attrs.get(model.WINDOW_GRID)
    if grid is not None:
        return int(grid)
    res = _resolution(view)
    if res == model.REGION_RESOLUTION:
        raise InputError(
            f"this view does not record its window grid (attrs[{model.WINDOW_GRID!r}])",
            source="view",
        )
    return int(res)


def gcd_resolution(*values: Any) -> int:
    """Greatest common divisor of bp values (ignoring zeros); 1 if there are none.

    Examples
    --------
    >>> gcd_resolution(100, [200, -300, 0])
    100
    """
    flat = np.concatenate([np.atleast_1d(np.asarray(v, dtype=np.int64)) for v in values])
    g = int(np.gcd.reduce(np.abs(flat))) if flat.size else 0
    return g or 1


__all__ = [
    "HOWS",
    "bin_reduce",
    "collapse",
    "gcd_resolution",
    "masked_reduce",
    "view_grid",
    "window_layout",
]
