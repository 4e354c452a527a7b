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

Where the bins of a view lie on the genome is :mod:`genomarray.views.geometry`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import dask.array as da
import numpy as np
import xarray as xr

from genomarray import model
from genomarray.errors import InputError
from genomarray.genome.compute import rechunk
from genomarray.transforms.collapse_fns import HOWS, Reduction, bin_reduce, masked_reduce
from genomarray.views.geometry import resolution_of, view_grid, window_layout


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
    arr: xr.DataArray | xr.Dataset,
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
    if isinstance(arr, xr.Dataset):  # every coverage view and track; codes are kept
        return model.map_variables(
            arr,
            (model.REGION_VIEW, model.COVERAGE_TRACK),
            lambda v: (
                v
                if model.kind_of(v) == model.REGION_VIEW and v.ndim == 2
                else collapse(v, resolution, how=how, fill=fill, partial=partial)
            ),
            "collapse",
        )
    kind = model.validate(arr, (model.REGION_VIEW, model.COVERAGE_TRACK))
    if kind == model.REGION_VIEW and model.is_codes_view(arr):
        raise InputError(
            "collapse reduces coverage, not sequence codes; one-hot the "
            "sequence and sum over 'pos' instead",
            source="collapse",
        )
    _check_how(how)
    if partial not in ("pad", "ignore"):
        raise InputError(f"partial must be 'pad' or 'ignore', got {partial!r}", source="collapse")
    current = resolution_of(arr)
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
            data = rechunk(data, {1: -1})

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
                data = rechunk(data, {1: max(k, (max(pos_chunks) // k) * k)})
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


__all__ = [
    "HOWS",
    "bin_reduce",
    "collapse",
    "masked_reduce",
]
