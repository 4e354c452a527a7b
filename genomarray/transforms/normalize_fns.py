"""Numpy and dask kernels of the normalizers: per-condition moments and exact percentiles.

Moments
-------
:func:`condition_moments` computes per-condition count, mean and variance in one dask pass
(a chunk kernel and a tree combine, :func:`reduce_blocks`), skipping NaN and masked cells.

Percentiles out of core
-----------------------
:func:`condition_percentile` is exact (``numpy.percentile`` with linear interpolation, up
to the rounding of that interpolation: tested at 1e-12 relative) without sorting: a radix
selection on the bit patterns of the float64 values, 16 bits per pass (one dask pass over
the data computes a 65,536-bin histogram per condition, merged in a tree), until the
candidates around the wanted rank are at most :data:`GATHER_MAX` values, which are then
gathered and sorted. Typical data takes 2 passes, 4 at most.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import dask
import dask.array as da
import numpy as np
import xarray as xr

from genomarray import model
from genomarray.errors import InputError
from genomarray.genome.compute import rechunk
from genomarray.views.geometry import padding_mask

_SOURCE = "normalize"

GATHER_MAX = 1 << 20
"""Radix selection gathers the candidates of a rank once they are at most this many."""


DIGIT_BITS = 16
"""Bits of the float64 sort key resolved per percentile pass (65,536-bin histograms)."""


FAN_IN = 16
"""Partial results merged per task in the reduction tree."""


# -- numpy kernels: per-condition moments ------------------------------------------------
def _present(row: np.ndarray) -> np.ndarray:
    """``row`` without its NaN (no copy when there is none)."""
    nan = np.isnan(row)
    return row[~nan] if nan.any() else row


def moments_chunk(values: np.ndarray) -> np.ndarray:
    """Count, mean and sum of squared deviations per row (condition), NaN skipped.

    ``values`` is ``(conditions, cells)``; returns ``(3, conditions)``.

    Examples
    --------
    >>> moments_chunk(np.array([[1.0, 3.0], [np.nan, 2.0]])).tolist()
    [[2.0, 1.0], [2.0, 2.0], [2.0, 0.0]]
    """
    out = np.zeros((3, values.shape[0]))
    for i, row in enumerate(values):
        row = _present(row)
        if row.size:
            dev = row - row.mean()
            out[:, i] = row.size, row.mean(), np.dot(dev, dev)
    return out


def moments_combine(parts: Sequence[np.ndarray]) -> np.ndarray:
    """Merge :func:`moments_chunk` results (Chan et al.'s pairwise update, in float64).

    Examples
    --------
    >>> x = np.array([[1.0, 2.0, 4.0, 7.0]])
    >>> both = moments_combine([moments_chunk(x[:, :1]), moments_chunk(x[:, 1:])])
    >>> np.allclose(both, moments_chunk(x))
    True
    """
    n, mean, m2 = (np.array(v) for v in parts[0])
    for nb, mb, m2b in parts[1:]:
        tot = n + nb
        delta = mb - mean
        frac = np.divide(nb, tot, out=np.zeros_like(tot), where=tot > 0)
        mean = mean + delta * frac
        m2 = m2 + m2b + delta * delta * n * frac
        n = tot
    return np.stack([n, mean, m2])


# -- numpy kernels: radix selection of order statistics ----------------------------------
_TOP = np.uint64(1 << 63)


_DIGITS = 1 << DIGIT_BITS


_NO_MIN = np.uint64(np.iinfo(np.uint64).max)


def float_keys(values: np.ndarray) -> np.ndarray:
    """uint64 keys that sort like the float64 ``values`` (NaN excluded beforehand).

    Examples
    --------
    >>> k = float_keys(np.array([-2.0, -0.5, 0.0, 3.0]))
    >>> bool(np.all(np.diff(k.astype(object)) > 0)), key_values(k).tolist()
    (True, [-2.0, -0.5, 0.0, 3.0])
    """
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
    return np.where(bits & _TOP, ~bits, bits | _TOP)


def key_values(keys: np.ndarray) -> np.ndarray:
    """Inverse of :func:`float_keys`."""
    keys = np.asarray(keys, dtype=np.uint64)
    bits = np.where(keys & _TOP, keys & ~_TOP, ~keys)
    return bits.view(np.float64)


def select_chunk(values: np.ndarray, queries: Sequence[tuple[int, int, int, bool]]) -> list:
    """One block's part of a selection pass over ``values`` ``(conditions, cells)``.

    Each query ``(row, nbits, prefix, gather)`` looks at the non-NaN values of a row
    whose key starts with the ``nbits``-bit ``prefix``: ``gather`` returns them, else the
    histogram of their next :data:`DIGIT_BITS` key bits with their smallest and largest key.

    Examples
    --------
    >>> x = np.array([[1.0, 2.0, np.nan]])
    >>> select_chunk(x, [(0, 0, 0, True)])[0].tolist()
    [1.0, 2.0]
    """
    keys_of: dict[int, np.ndarray] = {}
    out: list = []
    for row, nbits, prefix, gather in queries:
        if row not in keys_of:
            keys_of[row] = float_keys(_present(values[row]))
        keys = keys_of[row]
        if nbits:
            keys = keys[(keys >> np.uint64(64 - nbits)) == np.uint64(prefix)]
        if gather:
            out.append(key_values(keys))
            continue
        digit = (keys >> np.uint64(64 - nbits - DIGIT_BITS)) & np.uint64(_DIGITS - 1)
        hist = np.bincount(digit.astype(np.int64), minlength=_DIGITS)
        lo = keys.min() if keys.size else _NO_MIN
        hi = keys.max() if keys.size else np.uint64(0)
        out.append((hist, np.uint64(lo), np.uint64(hi)))
    return out


def select_combine(parts: Sequence[list]) -> list:
    """Merge :func:`select_chunk` results: histograms add, gathered values concatenate."""
    out = []
    for items in zip(*parts, strict=True):
        if isinstance(items[0], np.ndarray):
            out.append(np.concatenate(items))
        else:
            out.append(
                (sum(i[0] for i in items), min(i[1] for i in items), max(i[2] for i in items))
            )
    return out


# -- the dask driver ---------------------------------------------------------------------
def _masked(
    arr: xr.DataArray, mask: Any, pre: Callable[[xr.DataArray], xr.DataArray] | None
) -> Any:
    """float64 values, condition last, NaN where a cell does not count (numpy or dask)."""
    x = arr.astype(np.float64)
    if pre is not None:
        x = pre(x)
    keep = counted_cells(arr, mask)
    if keep is not None:
        x = x.where(keep)
    x = x.transpose(..., model.CONDITION)
    return x.data


def _rows(block: np.ndarray) -> np.ndarray:
    """A condition-last block as contiguous ``(conditions, cells)``."""
    return np.moveaxis(np.asarray(block), -1, 0).reshape(block.shape[-1], -1)


def _run_chunk(block: np.ndarray, fn: Callable, args: tuple) -> Any:
    return fn(_rows(block), *args)


def reduce_blocks(data: Any, chunk: Callable, combine: Callable, *args: Any) -> Any:
    """``combine`` of ``chunk(block, *args)`` over the blocks of ``data``, in one pass.

    ``data`` (numpy or dask, condition last) is cut into ``(conditions, cells)`` blocks;
    on dask, each block is one task and results merge in a tree of :data:`FAN_IN`, so
    memory is bounded by a chunk whatever the array's size.

    Examples
    --------
    >>> x = da.from_array(np.arange(12.0).reshape(6, 2), chunks=(2, 2))
    >>> reduce_blocks(x, moments_chunk, moments_combine)[1].tolist()
    [5.0, 6.0]
    """
    if not isinstance(data, da.Array):
        return chunk(_rows(data), *args)
    data = rechunk(data, {data.ndim - 1: -1})
    parts = [dask.delayed(_run_chunk, pure=True)(b, chunk, args) for b in data.to_delayed().ravel()]
    if not parts:
        return chunk(np.empty((data.shape[-1], 0)), *args)
    while len(parts) > 1:
        parts = [
            dask.delayed(combine, pure=True)(parts[i : i + FAN_IN])
            for i in range(0, len(parts), FAN_IN)
        ]
    (result,) = dask.compute(parts[0])
    return result


def condition_moments(
    arr: xr.DataArray, mask: Any = None, pre: Callable[[xr.DataArray], xr.DataArray] | None = None
) -> dict[str, np.ndarray]:
    """Count, mean and variance (``ddof=1``) per condition, padding and NaN skipped.

    One pass over the data (float64 accumulators, chunks merged with Chan's update).
    ``pre`` transforms the values first (e.g. ``numpy.log1p``).

    Examples
    --------
    >>> t = model.coverage_track(np.arange(8.0).reshape(2, 2, 1, 2), ["a", "b"], [2, 1],
    ...                          ["."], ["x", "y"])
    >>> st = condition_moments(t)  # cells (1, 0, 0, :) are padding
    >>> st["n"].tolist(), st["mean"].tolist()
    ([3.0, 3.0], [2.0, 3.0])
    """
    n, mean, m2 = reduce_blocks(_masked(arr, mask, pre), moments_chunk, moments_combine)
    var = np.divide(m2, n - 1, out=np.full_like(m2, np.nan), where=n > 1)
    return {"n": n, "mean": mean, "m2": m2, "var": var}


def _virtual_rank(n: int, q: float) -> tuple[int, int, float]:
    """numpy's ``method="linear"``: ranks either side of ``(n - 1) * q / 100`` and weight."""
    h = (n - 1) * (q / 100.0)
    k0 = min(int(math.floor(h)), n - 1)
    return k0, min(k0 + 1, n - 1), h - k0


def _lerp(a: float, b: float, t: float) -> float:
    if a == b:
        return a
    return b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t


def _advance(state: dict[str, Any], result: Any) -> None:
    """Narrow one rank's search with a pass result (histogram or gathered values)."""
    rank = state["rank"] - state["below"]
    if isinstance(result, np.ndarray):
        state["value"] = float(np.partition(result, rank)[rank])
        return
    hist, kmin, kmax = result
    if kmin == kmax:
        state["value"] = float(key_values(np.array([kmin]))[0])
        return
    cum = np.cumsum(hist)
    digit = int(np.searchsorted(cum, rank, side="right"))
    state["below"] += int(cum[digit - 1]) if digit else 0
    state["prefix"] = (state["prefix"] << DIGIT_BITS) | digit
    state["nbits"] += DIGIT_BITS
    state["gather"] = bool(hist[digit] <= GATHER_MAX)
    if state["nbits"] == 64:
        state["value"] = float(key_values(np.array([state["prefix"]], np.uint64))[0])


def _select(data: Any, states: list[dict[str, Any]]) -> None:
    """Run selection passes until every state holds its order statistic."""
    while True:
        todo = [s for s in states if s["value"] is None]
        if not todo:
            return
        queries = sorted({(s["col"], s["nbits"], s["prefix"], s["gather"]) for s in todo})
        results = dict(
            zip(queries, reduce_blocks(data, select_chunk, select_combine, queries), strict=True)
        )
        for s in todo:
            _advance(s, results[(s["col"], s["nbits"], s["prefix"], s["gather"])])


def condition_percentile(
    arr: xr.DataArray,
    percentile: float,
    mask: Any = None,
    pre: Callable[[xr.DataArray], xr.DataArray] | None = None,
) -> np.ndarray:
    """Exact percentile per condition (as ``numpy.percentile``), padding and NaN skipped.

    Out of core: a radix selection over the float64 bit patterns (see the module's
    notes), typically 2 dask passes over the data (4 at most); NaN for a condition without
    data.

    Examples
    --------
    >>> t = model.coverage_track(np.arange(10.0).reshape(1, 10, 1, 1), ["a"], [10], ["."],
    ...                          ["x"])
    >>> condition_percentile(t, 25).tolist(), float(np.percentile(np.arange(10.0), 25))
    ([2.25], 2.25)
    """
    data = _masked(arr, mask, pre)
    if not isinstance(data, da.Array):
        data = np.asarray(data)
    n_cond = data.shape[-1]
    first = reduce_blocks(
        data, select_chunk, select_combine, [(c, 0, 0, False) for c in range(n_cond)]
    )
    states, weights = [], []
    for col, result in enumerate(first):
        n = int(result[0].sum())
        if n == 0:
            weights.append(None)
            continue
        k0, k1, t = _virtual_rank(n, percentile)
        pair = [
            {
                "col": col,
                "rank": k,
                "nbits": 0,
                "prefix": 0,
                "below": 0,
                "gather": False,
                "value": None,
            }
            for k in (k0, k1)
        ]
        for s in pair:
            _advance(s, result)
        states.extend(pair)
        weights.append((pair, t))
    _select(data, states)
    return np.array(
        [np.nan if w is None else _lerp(w[0][0]["value"], w[0][1]["value"], w[1]) for w in weights]
    )


def _user_mask(arr: xr.DataArray, mask: Any) -> xr.DataArray:
    if isinstance(mask, xr.DataArray):
        extra = [d for d in mask.dims if d not in arr.dims]
        if extra:
            raise InputError(
                f"mask has dims {tuple(mask.dims)}; {extra} are not dims of the "
                f"array {tuple(arr.dims)}",
                source=_SOURCE,
            )
        return xr.DataArray(mask.data, dims=mask.dims).astype(bool)
    data = mask if isinstance(mask, da.Array) else np.asarray(mask, dtype=bool)
    try:
        data = (da if isinstance(data, da.Array) else np).broadcast_to(data, arr.shape)
    except ValueError as err:
        raise InputError(
            f"mask of shape {np.shape(mask)} does not broadcast to the array's "
            f"shape {arr.shape} {tuple(arr.dims)}",
            source=_SOURCE,
        ) from err
    return xr.DataArray(data, dims=arr.dims).astype(bool)


def counted_cells(arr: xr.DataArray, mask: Any) -> xr.DataArray | None:
    keep = padding_mask(arr)
    if mask is not None:
        user = _user_mask(arr, mask)
        keep = user if keep is None else keep & user
    return keep
