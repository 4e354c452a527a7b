"""View geometry: where each window of a view lies on the genome, in one place.

Two directions of one idea. :func:`cut_layout` says which bins of a genome-wide array each
region's window covers when a view is cut (:func:`genomarray.views.windows.view`);
:func:`window_layout` says, from a view alone (its regions and attrs), where each of its bins
lies on the genome, as collapsing, normalizing and placing predictions back
(:func:`genomarray.views.predictions.to_genome`) need it.

Window geometry
---------------
A view's windows start at ``floor((start - flank) / grid) * grid`` bp, where ``grid`` is the
resolution of the track the view was cut from. Collapsing a view records that grid
(``attrs["window_grid"]``) and the window span in bp before collapsing
(``attrs["window_bp"]``) so that :func:`window_layout` can still place every bin on the
genome after the bins have changed.
"""

from __future__ import annotations

import math
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from genomarray import model
from genomarray.errors import InputError


# -- geometry ---------------------------------------------------------------------------
def resolution_of(arr: xr.DataArray) -> int | str:
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
    the region's 5' end, as in :func:`genomarray.views.windows.view`): a shorter region's padding,
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
    res = resolution_of(view)
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
    res = resolution_of(view)
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


def cut_layout(
    arr: xr.DataArray, roi: pd.DataFrame, flank: int, minus: np.ndarray
) -> dict[str, Any]:
    """Per-region window geometry in ``pos`` units (bins of ``resolution`` bp).

    A window covers every bin its region (flanks included) touches: on a binned track
    bins are genome-aligned, so a region whose start is not a multiple of the resolution
    gets one more bin rather than losing its tail. Windows are ``width`` bins long (the
    tiling's ``binsize + 2 * flank``, or more where needed); a shorter region is padded at
    its 3' side: at the end of a plus-strand window, at the start of a minus-strand window
    before it is turned around, so that position 0 is always the region's 5' end.
    """
    from genomarray.regions import chromosome_index

    sizes = model.chrom_sizes(arr)
    ci = chromosome_index(
        roi,
        sizes,
        source=roi.attrs.get("source", "regions"),
        genome=str(arr.attrs.get(model.PATH, "the genome")),
        read=False,  # the view read them
    )
    res = int(arr.attrs.get(model.RESOLUTION, 1))
    binsize = roi.attrs.get(model.BINSIZE)
    lengths = (roi["end"] - roi["start"]).to_numpy(np.int64)
    if binsize and len(lengths) and lengths.max() > int(binsize):
        longest = int(np.argmax(lengths))
        raise InputError(
            f"region {roi['chrom'].iloc[longest]}:{roi['start'].iloc[longest]}-"
            f"{roi['end'].iloc[longest]} is longer than the tiling's binsize "
            f"({binsize} bp); tile the regions again or drop attrs['binsize']"
        )
    width_bp = (int(binsize) if binsize else int(lengths.max(initial=0))) + 2 * flank
    chrom_len = arr[model.CHROM_LENGTH].values.astype(np.int64)
    chrom_bins = -(-chrom_len // res)
    first = (roi["start"].to_numpy(np.int64) - flank) // res
    last = -(-(roi["end"].to_numpy(np.int64) + flank) // res)
    width = max(math.ceil(width_bp / res), int((last - first).max(initial=0)))
    return {
        "ci": ci,
        "win_start": np.where(minus, last - width, first),
        "valid_lo": np.maximum(first, 0),
        "valid_hi": np.minimum(last, chrom_bins[ci]),
        "width": width,
        "binsize": binsize,
        "resolution": res,
    }


def window_bp(like: xr.DataArray) -> int:
    """Span in bp of the windows of ``like`` (the data it was cut with)."""
    if like.attrs.get(model.WINDOW_BP) is not None:
        return int(like.attrs[model.WINDOW_BP])
    res = like.attrs.get(model.RESOLUTION, 1)
    if res is None or res == model.REGION_RESOLUTION:
        raise InputError(
            "the view holds one value per region and does not record its window "
            f"span (attrs[{model.WINDOW_BP!r}])",
            source="like",
        )
    n_pos = like.sizes[model.POS]
    if model.kind_of(like) == model.ONEHOT_VIEW:
        n_pos += int(like.attrs.get(model.ORDER, 1)) - 1
    return n_pos * int(res)


def grid_of(like: xr.DataArray) -> int:
    """The grid (bp) the windows of ``like`` start on (its resolution unless recorded)."""
    if like.attrs.get(model.WINDOW_GRID) is None and like.attrs.get(model.RESOLUTION) is None:
        return 1
    return view_grid(like)


# -- geometry: which cells are padding ---------------------------------------------------
def _track_bins(arr: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    res = arr.attrs.get(model.RESOLUTION, 1)
    res = int(res) if isinstance(res, int | np.integer) else 1
    lengths = arr[model.CHROM_LENGTH].values.astype(np.int64)
    hi = np.minimum(-(-lengths // res), arr.sizes[model.POS])
    return np.zeros_like(hi), hi


def _view_bins(view: xr.DataArray) -> tuple[np.ndarray, np.ndarray] | None:
    from genomarray.views.geometry import window_layout

    try:
        lay = window_layout(view)
    except InputError:
        return None
    lo_bp, hi_bp = lay["valid_start"], lay["valid_end"]
    sizes = view.attrs.get(model.CHROM_SIZES)
    if sizes:
        chroms = view[model.REGION_CHROM].values.astype(str)
        ends = np.array([int(sizes.get(c, np.iinfo(np.int64).max)) for c in chroms], np.int64)
        lo_bp, hi_bp = np.maximum(lo_bp, 0), np.minimum(hi_bp, ends)
    width, n_pos = int(lay["bin"]), int(lay["n_pos"])
    lo = np.clip((lo_bp - lay["origin"]) // width, 0, n_pos)
    hi = np.clip(-(-(hi_bp - lay["origin"]) // width), 0, n_pos)
    hi = np.maximum(hi, lo)
    return np.where(lay["minus"], n_pos - hi, lo), np.where(lay["minus"], n_pos - lo, hi)


def valid_bins(arr: xr.DataArray) -> tuple[np.ndarray, np.ndarray] | None:
    """Per row (chromosome or region), the bins ``[lo, hi)`` of ``pos`` that are not padding.

    A track's padding lies past each chromosome's last bin; a view's outside the region's
    own window ``[start - flank, end + flank)`` (a shorter region's tail, a collapse's
    padding) or outside its chromosome (needs ``attrs["chrom_sizes"]``). None when a view
    does not record its geometry (every cell then counts).

    Examples
    --------
    >>> import numpy as np
    >>> t = model.coverage_track(np.zeros((2, 10, 1, 1)), ["a", "b"], [10, 4], ["."], ["x"])
    >>> lo, hi = valid_bins(t)
    >>> lo.tolist(), hi.tolist()
    ([0, 0], [10, 4])
    """
    if model.kind_of(arr) == model.COVERAGE_TRACK:
        return _track_bins(arr)
    return _view_bins(arr)


def padding_mask(arr: xr.DataArray) -> xr.DataArray | None:
    """Boolean ``(row, pos)`` array, True where a cell holds data; None if nothing is padding.

    Lazy (chunked like ``arr``) when ``arr`` is dask-backed.

    Examples
    --------
    >>> import numpy as np
    >>> t = model.coverage_track(np.zeros((2, 3, 1, 1)), ["a", "b"], [3, 1], ["."], ["x"])
    >>> padding_mask(t).values.astype(int).tolist()
    [[1, 1, 1], [1, 0, 0]]
    """
    bins = valid_bins(arr)
    n_pos = arr.sizes[model.POS]
    if bins is None or (np.all(bins[0] == 0) and np.all(bins[1] == n_pos)):
        return None
    lo, hi = bins
    if isinstance(arr.data, da.Array):
        pos = da.arange(n_pos, chunks=(arr.data.chunks[1],))
        lo = da.from_array(lo, chunks=(arr.data.chunks[0],))
        hi = da.from_array(hi, chunks=(arr.data.chunks[0],))
    else:
        pos = np.arange(n_pos)
    keep = (pos[None, :] >= lo[:, None]) & (pos[None, :] < hi[:, None])
    return xr.DataArray(keep, dims=arr.dims[:2])


def bin_lengths(arr: xr.DataArray) -> float | xr.DataArray:
    """Length in bp of each bin: the resolution, or per region for one value per region.

    One value per region (``attrs["resolution"] == "region"``) has the length of the
    region's window ``[start - flank, end + flank)`` on the view's grid (padding past a
    chromosome end counts, as it does in ``collapse(resolution=None)``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from genomarray.transforms.collapse import collapse
    >>> roi = pd.DataFrame({"chrom": ["c", "c"], "start": [0, 10], "end": [4, 12]})
    >>> v = model.region_view(np.ones((2, 4, 1, 1)), roi, trailing_dims=["strand",
    ...                       "condition"], resolution=1)
    >>> bin_lengths(v), bin_lengths(collapse(v, None)).values.tolist()
    (1.0, [4, 2])
    """
    res = arr.attrs.get(model.RESOLUTION, 1)
    if res is None or res == model.REGION_RESOLUTION:
        from genomarray.views.geometry import window_layout

        lay = window_layout(arr)
        return xr.DataArray(lay["valid_end"] - lay["valid_start"], dims=[model.REGION])
    return float(res)
