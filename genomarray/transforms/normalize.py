"""Normalizers of coverage: TPM, z-score, log, bin-size and percentile trimming.

:func:`normalize` applies a normalizer, given by name, as an object or as a function, or
a list of them in order, to a coverage track ``(chrom, pos, strand, condition)`` or a
coverage view ``(region, pos, strand, condition)`` (collapsed or not). It is Janggu's
``normalizer=`` of ``Cover``, rebuilt lazily.

=================  ===================================  ==================================
name               class                                formula (per condition ``c``)
=================  ===================================  ==================================
``"log"``          :class:`LogTransform`                ``ln(x + 1)``
``"binsizenorm"``  :class:`RegionLengthNormalization`   ``x / L`` (``L``: bin or region bp)
``"tpm"``          :class:`TPM`                         ``(x / L * 1000) / (T_c / 1e6)``
``"zscore"``       :class:`ZScore`                      ``(x - mean_c) / std_c``
``"zscorelog"``    :class:`ZScoreLog`                   ``(ln(x + 1) - mean_c) / std_c``
``"perctrim"``     :class:`PercentileTrimming`          ``min(x, P99_c)``
=================  ===================================  ==================================

Fitting and reuse
-----------------
Statistics (``mean_c``, ``std_c``, ``T_c``, ``P99_c``) are computed per condition over all
other dims, and, as in Janggu, a normalizer object fits them on first use and reuses them
afterwards: one ``ZScore()`` applied to the training data, then to the test data, scales
the test data with the training statistics. A name creates a fresh object on every call
(no hidden global state). ``fit`` computes (one dask pass over the data for moments);
``transform`` stays lazy: elementwise, dask-backed in gives dask-backed out, numpy gives
numpy. Output is float32 (float64 if the input is float64).

Padding
-------
Padding cells (positions past a chromosome's end in a track; in a view, bins outside the
region's own window ``[start - flank, end + flank)`` or past a chromosome end) do not
count in any statistic, and NaN cells are skipped too; ``mask=`` (True = counts)
narrows the cells further. After a transform, padding cells hold the fill value (0)
again, as they would in a view cut from an already normalized track (Janggu pads views
after normalizing): a padded flank then reads as "no signal", which after a z-score is the
mean, and genome-wide stores keep their padding chunks empty. Values inside the padding
are never looked at.

Provenance
----------
Each step appends ``{"name": ..., "params": {...}}`` (JSON, per condition) to
``attrs["normalizers"]``: :func:`from_params` rebuilds the fitted normalizers from it, and
:func:`denormalize` inverts them.

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

import json
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import dask
import dask.array as da
import numpy as np
import xarray as xr

from genomarray import model
from genomarray.errors import InputError

GATHER_MAX = 1 << 20
"""Radix selection gathers the candidates of a rank once they are at most this many."""

DIGIT_BITS = 16
"""Bits of the float64 sort key resolved per percentile pass (65,536-bin histograms)."""

FAN_IN = 16
"""Partial results merged per task in the reduction tree."""

_SOURCE = "normalize"


# -- checks and small helpers -----------------------------------------------------------
def check_coverage(arr: Any) -> str:
    """Check that ``arr`` is a coverage track or coverage view; return its kind.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> roi = pd.DataFrame({"chrom": ["c"], "start": [0], "end": [4]})
    >>> check_coverage(model.region_view(np.zeros((1, 4), np.uint8), roi))
    Traceback (most recent call last):
    ...
    genomarray.errors.InputError: normalize: expected a coverage track ... got a region_view \
with dims ('region', 'pos')
    """
    try:
        kind = model.validate(arr)
    except (TypeError, ValueError) as err:
        raise InputError(str(err), source=_SOURCE) from err
    if kind not in (model.COVERAGE_TRACK, model.REGION_VIEW) or model.CONDITION not in arr.dims:
        view_dims = (model.REGION, model.POS, model.STRAND, model.CONDITION)
        raise InputError(
            f"expected a coverage track {model.SPECS[model.COVERAGE_TRACK]} or a "
            f"coverage view {view_dims}; got a {kind} with dims "
            f"{tuple(arr.dims)}",
            source=_SOURCE,
        )
    return kind


def _labels(arr: xr.DataArray) -> list[str]:
    if model.CONDITION in arr.coords:
        return [str(c) for c in arr[model.CONDITION].values]
    return [str(i) for i in range(arr.sizes[model.CONDITION])]


def _out_dtype(arr: xr.DataArray) -> np.dtype:
    return np.dtype(np.float64) if arr.dtype == np.float64 else np.dtype(np.float32)


def _per_condition(values: Any, labels: Sequence[str], what: str) -> xr.DataArray:
    """Fitted ``values`` (a number, or ``{condition: number}``) in the order of ``labels``."""
    if isinstance(values, Mapping):
        missing = [c for c in labels if c not in values]
        if missing:
            raise InputError(
                f"{what} was fitted for the conditions {list(values)} but this "
                f"array also has {missing}",
                source=_SOURCE,
            )
        got = [values[c] for c in labels]
    else:
        got = [values] * len(labels)
    got = [np.inf if v is None else float(v) for v in got]
    return xr.DataArray(np.array(got, dtype=np.float64), dims=[model.CONDITION])


def _jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars and arrays turned into plain JSON types."""

    def default(o: Any) -> Any:
        if isinstance(o, np.generic | np.ndarray):
            return o.tolist()
        raise TypeError(f"not JSON-serialisable: {type(o).__name__}")

    return json.loads(json.dumps(obj, default=default, allow_nan=False))


# -- geometry: which cells are padding ---------------------------------------------------
def _track_bins(arr: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    res = arr.attrs.get(model.RESOLUTION, 1)
    res = int(res) if isinstance(res, int | np.integer) else 1
    lengths = arr[model.CHROM_LENGTH].values.astype(np.int64)
    hi = np.minimum(-(-lengths // res), arr.sizes[model.POS])
    return np.zeros_like(hi), hi


def _view_bins(view: xr.DataArray) -> tuple[np.ndarray, np.ndarray] | None:
    from genomarray.transforms.collapse import window_layout

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


def _keep(arr: xr.DataArray, mask: Any) -> xr.DataArray | None:
    keep = padding_mask(arr)
    if mask is not None:
        user = _user_mask(arr, mask)
        keep = user if keep is None else keep & user
    return keep


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
        from genomarray.transforms.collapse import window_layout

        lay = window_layout(arr)
        return xr.DataArray(lay["valid_end"] - lay["valid_start"], dims=[model.REGION])
    return float(res)


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
    keep = _keep(arr, mask)
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
    data = data.rechunk({data.ndim - 1: -1})
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


# -- the normalizers ----------------------------------------------------------------------
class Normalizer:
    """Base class: fit on first use, then reuse; JSON ``params``; lazy ``transform``.

    Subclasses set ``name`` (the spec name), ``invertible``, and implement ``_forward``
    (and ``_fit``, ``_inverse`` where they apply) on float64 DataArrays.
    """

    name: ClassVar[str] = ""
    invertible: ClassVar[bool] = False

    @property
    def fitted(self) -> bool:
        """Whether the statistics are known (always True for stateless normalizers)."""
        return True

    @property
    def params(self) -> dict[str, Any]:
        """The fitted statistics and options, JSON-able (``from_params`` takes them back)."""
        return {}

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Normalizer:
        """Rebuild a normalizer from its ``params``."""
        return cls(**params)

    def entry(self) -> dict[str, Any]:
        """The provenance record appended to ``attrs["normalizers"]``."""
        return _jsonable({"name": self.name, "params": self.params})

    def fit(self, arr: xr.DataArray, mask: Any = None) -> Normalizer:
        """Compute the statistics from ``arr`` (cells where ``mask`` is True, no padding)."""
        check_coverage(arr)
        self._fit(arr, mask)
        return self

    def transform(self, arr: xr.DataArray) -> xr.DataArray:
        """Apply the fitted normalizer (lazy); record it in ``attrs["normalizers"]``."""
        check_coverage(arr)
        if not self.fitted:
            raise InputError(
                f"{self!r} is not fitted: call fit(arr) first, or call the "
                "normalizer itself (it fits on first use)",
                source=_SOURCE,
            )
        return _finish(arr, self._forward(arr.astype(np.float64)), add=self.entry())

    def fit_transform(self, arr: xr.DataArray, mask: Any = None) -> xr.DataArray:
        """``fit(arr, mask)`` then ``transform(arr)``."""
        return self.fit(arr, mask).transform(arr)

    def __call__(self, arr: xr.DataArray, mask: Any = None) -> xr.DataArray:
        """Fit on first use (Janggu's semantics), then transform."""
        if not self.fitted:
            self.fit(arr, mask)
        return self.transform(arr)

    def inverse_transform(self, arr: xr.DataArray) -> xr.DataArray:
        """Undo the transform; drops this step from the end of ``attrs["normalizers"]``."""
        check_coverage(arr)
        if not self.invertible:
            raise InputError(f"{self.name!r} is not invertible", source=_SOURCE)
        if not self.fitted:
            raise InputError(f"{self!r} is not fitted", source=_SOURCE)
        return _finish(arr, self._inverse(arr.astype(np.float64)), drop=self.name)

    def _fit(self, arr: xr.DataArray, mask: Any) -> None:
        pass

    def _forward(self, x: xr.DataArray) -> xr.DataArray:
        raise NotImplementedError

    def _inverse(self, x: xr.DataArray) -> xr.DataArray:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"


def _finish(
    arr: xr.DataArray, out: xr.DataArray, add: dict[str, Any] | None = None, drop: str | None = None
) -> xr.DataArray:
    """Cast, put the fill value back into padding cells, and update the provenance."""
    out = out.astype(_out_dtype(arr))
    keep = padding_mask(arr)
    if keep is not None:
        out = out.where(keep, model.fill_value(arr))
    steps = list(arr.attrs.get(model.NORMALIZERS) or [])
    if add is not None:
        steps.append(add)
    if (
        drop is not None
        and steps
        and isinstance(steps[-1], Mapping)
        and steps[-1].get("name") == drop
    ):
        steps.pop()
    out.attrs = {**arr.attrs, model.NORMALIZERS: steps}
    out.name = arr.name
    return out.transpose(*arr.dims)


class LogTransform(Normalizer):
    """``ln(x + 1)``; inverse ``exp(x) - 1``. Stateless.

    Examples
    --------
    >>> t = model.coverage_track(np.array([0.0, np.e - 1]).reshape(1, 2, 1, 1), ["a"], [2],
    ...                          ["."], ["x"])
    >>> LogTransform()(t).values.ravel().tolist()
    [0.0, 1.0]
    """

    name = "log"
    invertible = True

    def _forward(self, x: xr.DataArray) -> xr.DataArray:
        return np.log1p(x)

    def _inverse(self, x: xr.DataArray) -> xr.DataArray:
        return np.expm1(x)


class RegionLengthNormalization(Normalizer):
    """Divide by the length in bp of each bin (``binsizenorm``): a per-bp density.

    The length is the array's resolution, or, for one value per region, the region's
    window ``[start - flank, end + flank)`` (:func:`bin_lengths`). Stateless.

    Examples
    --------
    >>> t = model.coverage_track(np.full((1, 2, 1, 1), 50.0), ["a"], [200], ["."], ["x"],
    ...                          resolution=100)
    >>> RegionLengthNormalization()(t).values.ravel().tolist()
    [0.5, 0.5]
    """

    name = "binsizenorm"
    invertible = True

    def _forward(self, x: xr.DataArray) -> xr.DataArray:
        return x / bin_lengths(x)

    def _inverse(self, x: xr.DataArray) -> xr.DataArray:
        return x * bin_lengths(x)


class _Fitted(Normalizer):
    """A normalizer with per-condition statistics held in ``self._stats``."""

    _keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **stats: Any) -> None:
        self._stats = {k: stats.get(k) for k in self._keys}

    @property
    def fitted(self) -> bool:
        return all(self._stats[k] is not None for k in self._keys)

    @property
    def params(self) -> dict[str, Any]:
        return dict(self._stats)

    def _get(self, x: xr.DataArray, key: str) -> xr.DataArray:
        return _per_condition(self._stats[key], _labels(x), f"{self.name} {key}")


class ZScore(_Fitted):
    """``(x - mean) / std`` per condition; ``std`` with ``ddof=1`` as Janggu.

    Parameters
    ----------
    mean, std
        Known statistics (a number for every condition, or ``{condition: number}``);
        what is None is fitted on first use. With a given ``mean`` only, ``std`` is the
        spread around it.

    Notes
    -----
    A condition with zero variance (or fewer than 2 cells) is centred but not scaled
    (``std`` taken as 1, with a ``RuntimeWarning``); one without data keeps mean 0.

    Examples
    --------
    >>> t = model.coverage_track(np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1, 1), ["a"], [3],
    ...                          ["."], ["x"])
    >>> z = ZScore()
    >>> z(t).values.ravel().tolist(), z.params
    ([-1.0, 0.0, 1.0], {'mean': {'x': 2.0}, 'std': {'x': 1.0}})
    """

    name = "zscore"
    invertible = True
    _keys = ("mean", "std")

    def __init__(self, mean: Any = None, std: Any = None) -> None:
        super().__init__(mean=mean, std=std)

    def _values(self, x: xr.DataArray) -> xr.DataArray:
        return x

    def _fit(self, arr: xr.DataArray, mask: Any) -> None:
        labels = _labels(arr)
        st = condition_moments(arr, mask, pre=self._values)
        n, m2 = st["n"], st["m2"]
        mean = (
            st["mean"]
            if self._stats["mean"] is None
            else _per_condition(self._stats["mean"], labels, "mean").values
        )
        if self._stats["std"] is None:
            m2 = m2 + n * (st["mean"] - mean) ** 2
            var = np.divide(m2, n - 1, out=np.zeros_like(m2), where=n > 1)
            std = np.sqrt(var)
        else:
            std = _per_condition(self._stats["std"], labels, "std").values
        flat = ~(std > 1e-12 * np.abs(mean)) | ~np.isfinite(std)
        if flat.any():
            warnings.warn(
                f"{self.name}: the conditions {[labels[i] for i in np.flatnonzero(flat)]}"
                " have zero variance (or fewer than 2 cells); they are centred but "
                "not scaled (std taken as 1)",
                RuntimeWarning,
                stacklevel=4,
            )
        std = np.where(flat, 1.0, std)
        self._stats = {
            "mean": dict(zip(labels, mean.tolist(), strict=True)),
            "std": dict(zip(labels, std.tolist(), strict=True)),
        }

    def _forward(self, x: xr.DataArray) -> xr.DataArray:
        return (self._values(x) - self._get(x, "mean")) / self._get(x, "std")

    def _inverse(self, x: xr.DataArray) -> xr.DataArray:
        return x * self._get(x, "std") + self._get(x, "mean")


class ZScoreLog(ZScore):
    """``(ln(x + 1) - mean) / std`` per condition, statistics of ``ln(x + 1)``.

    Same parameters and zero-variance rule as :class:`ZScore`.

    Examples
    --------
    >>> t = model.coverage_track(np.array([0.0, np.e - 1]).reshape(1, 2, 1, 1), ["a"], [2],
    ...                          ["."], ["x"])
    >>> ZScoreLog()(t).values.ravel().round(4).tolist()
    [-0.7071, 0.7071]
    """

    name = "zscorelog"

    def _values(self, x: xr.DataArray) -> xr.DataArray:
        return np.log1p(x)

    def _inverse(self, x: xr.DataArray) -> xr.DataArray:
        return np.expm1(super()._inverse(x))


class PercentileTrimming(_Fitted):
    """Clip each condition at its ``percentile`` (values above it are set to it).

    Parameters
    ----------
    percentile
        In ``(0, 100]``; 99 by default, as ``"perctrim"``.
    threshold
        Known thresholds (a number, or ``{condition: number}``); fitted on first use
        when None. The percentile is exact (see :func:`condition_percentile`).

    Notes
    -----
    Not invertible.

    Examples
    --------
    >>> t = model.coverage_track(np.arange(5.0).reshape(1, 5, 1, 1), ["a"], [5], ["."], ["x"])
    >>> PercentileTrimming(50)(t).values.ravel().tolist()
    [0.0, 1.0, 2.0, 2.0, 2.0]
    """

    name = "perctrim"
    _keys = ("threshold",)

    def __init__(self, percentile: float = 99, threshold: Any = None) -> None:
        if (
            isinstance(percentile, bool)
            or not isinstance(percentile, int | float | np.number)
            or not 0 < float(percentile) <= 100
        ):
            raise InputError(
                f"percentile must be a number in (0, 100], got {percentile!r}", source=_SOURCE
            )
        self.percentile = float(percentile)
        super().__init__(threshold=threshold)

    @property
    def params(self) -> dict[str, Any]:
        return {"percentile": self.percentile, **self._stats}

    def _fit(self, arr: xr.DataArray, mask: Any) -> None:
        labels = _labels(arr)
        values = condition_percentile(arr, self.percentile, mask)
        if np.isnan(values).any():
            warnings.warn(
                f"perctrim: no data in the conditions "
                f"{[labels[i] for i in np.flatnonzero(np.isnan(values))]}; they are "
                "not clipped",
                RuntimeWarning,
                stacklevel=4,
            )
        self._stats = {
            "threshold": {
                c: None if np.isnan(v) else float(v) for c, v in zip(labels, values, strict=True)
            }
        }

    def _forward(self, x: xr.DataArray) -> xr.DataArray:
        return np.minimum(x, self._get(x, "threshold"))


class TPM(_Fitted):
    """Transcripts per million: ``x / L * 1000``, then divided by ``total / 1e6``.

    ``L`` is the bin length in bp (:func:`bin_lengths`); ``total`` the sum per condition
    of ``x / L * 1000`` over the fitted array (padding excluded). Fitted on first use
    like the others: a reused ``TPM()`` scales later arrays by the first one's total
    (the name ``"tpm"`` rescales every array by its own, as Janggu does).

    Examples
    --------
    >>> t = model.coverage_track(np.array([1.0, 3.0]).reshape(1, 2, 1, 1), ["a"], [2000],
    ...                          ["."], ["x"], resolution=1000)
    >>> TPM()(t).values.ravel().tolist()
    [250000.0, 750000.0]
    """

    name = "tpm"
    invertible = True
    _keys = ("total",)

    def __init__(self, total: Any = None) -> None:
        super().__init__(total=total)

    @staticmethod
    def _per_kb(x: xr.DataArray) -> xr.DataArray:
        return x / bin_lengths(x) * 1000.0

    def _fit(self, arr: xr.DataArray, mask: Any) -> None:
        labels = _labels(arr)
        st = condition_moments(arr, mask, pre=self._per_kb)
        total = st["n"] * st["mean"]
        if (total == 0).any():
            warnings.warn(
                f"tpm: the conditions {[labels[i] for i in np.flatnonzero(total == 0)]}"
                " sum to 0; they are not rescaled",
                RuntimeWarning,
                stacklevel=4,
            )
        total = np.where(total == 0, 1e6, total)
        self._stats = {"total": dict(zip(labels, total.tolist(), strict=True))}

    def _forward(self, x: xr.DataArray) -> xr.DataArray:
        return self._per_kb(x) / (self._get(x, "total") / 1e6)

    def _inverse(self, x: xr.DataArray) -> xr.DataArray:
        return x * (self._get(x, "total") / 1e6) * bin_lengths(x) / 1000.0


class FunctionStep(Normalizer):
    """A user function ``arr -> arr`` as a normalization step (recorded by its name).

    The function gets the whole DataArray (padding included) and may return a DataArray
    or a bare numpy/dask array of the same shape. It cannot be rebuilt from ``params``.
    """

    name = "function"

    def __init__(self, function: Callable[[xr.DataArray], Any]) -> None:
        self.function = function

    @property
    def params(self) -> dict[str, Any]:
        fn = self.function
        return {
            "function": f"{getattr(fn, '__module__', '?')}."
            f"{getattr(fn, '__qualname__', type(fn).__name__)}"
        }

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Normalizer:
        raise InputError(
            f"the function step {params.get('function')!r} cannot be rebuilt "
            "from attrs; pass the function again",
            source=_SOURCE,
        )

    def transform(self, arr: xr.DataArray) -> xr.DataArray:
        check_coverage(arr)
        out = self.function(arr)
        if not isinstance(out, xr.DataArray):
            if np.shape(out) != arr.shape:
                raise InputError(
                    f"the function {self.params['function']} returned shape "
                    f"{np.shape(out)}; expected the array's {arr.shape}",
                    source=_SOURCE,
                )
            out = arr.copy(data=out)
        steps = [*list(arr.attrs.get(model.NORMALIZERS) or []), self.entry()]
        return out.assign_attrs({**arr.attrs, **out.attrs, model.NORMALIZERS: steps})


NAMES: dict[str, type[Normalizer]] = {
    cls.name: cls
    for cls in (TPM, ZScore, ZScoreLog, RegionLengthNormalization, PercentileTrimming, LogTransform)
}
"""Normalizer classes by spec name."""


# -- public functions ---------------------------------------------------------------------
Spec = str | Callable[[xr.DataArray], Any] | Normalizer | Sequence[Any] | None


def steps_of(spec: Spec) -> list[Normalizer]:
    """The normalizers a spec stands for, in order (a name creates a fresh object).

    Examples
    --------
    >>> steps_of(["log", ZScore()])
    [LogTransform(), ZScore(mean=None, std=None)]
    >>> steps_of("minmax")
    Traceback (most recent call last):
    ...
    genomarray.errors.InputError: normalize: unknown normalizer 'minmax'; expected one of \
['tpm', 'zscore', 'zscorelog', 'binsizenorm', 'perctrim', 'log'], ...
    """
    if spec is None:
        return []
    if isinstance(spec, str):
        if spec not in NAMES:
            raise InputError(
                f"unknown normalizer {spec!r}; expected one of {list(NAMES)}, a "
                "Normalizer object or a function arr -> arr",
                source=_SOURCE,
            )
        return [NAMES[spec]()]
    if isinstance(spec, Normalizer):
        return [spec]
    if isinstance(spec, type) and issubclass(spec, Normalizer):
        return [spec()]
    if isinstance(spec, Mapping):  # an entry of attrs["normalizers"]
        return [from_params(spec)]
    if callable(spec):
        return [FunctionStep(spec)]
    if isinstance(spec, Sequence):
        return [step for item in spec for step in steps_of(item)]
    raise InputError(
        f"cannot use {spec!r} as a normalizer; expected a name from "
        f"{list(NAMES)}, a Normalizer, a function or a list of them",
        source=_SOURCE,
    )


def normalize(arr: xr.DataArray, spec: Spec, mask: Any = None) -> xr.DataArray:
    """Normalize a coverage track or coverage view.

    Parameters
    ----------
    arr
        A coverage track ``(chrom, pos, strand, condition)`` or coverage view
        ``(region, pos, strand, condition)``, numpy- or dask-backed.
    spec
        A name (``"tpm"``, ``"zscore"``, ``"zscorelog"``, ``"binsizenorm"``,
        ``"perctrim"``, ``"log"``), a :class:`Normalizer` (fitted on first use, then
        reused), a function ``arr -> arr``, an entry of ``attrs["normalizers"]`` (the
        fitted normalizer it records), or a list of these applied in order; None does
        nothing.
    mask
        Boolean, True where a cell counts in the statistics of every step fitted here
        (a DataArray over some of ``arr``'s dims, matched by dim name and position, or
        an array broadcasting to ``arr.shape``); padding and NaN never count. Every cell
        is transformed whatever the mask.

    Returns
    -------
    xarray.DataArray
        Same dims and coordinates, float32 (float64 in, float64 out), lazy if ``arr`` is;
        ``attrs["normalizers"]`` extended with one ``{"name", "params"}`` entry per step.

    Raises
    ------
    InputError
        An unknown name (the error lists the valid ones), a percentile outside
        ``(0, 100]``, or an array that is not coverage (sequence codes, one-hot).

    Examples
    --------
    >>> t = model.coverage_track(np.array([0.0, 1.0, 3.0, 8.0]).reshape(1, 4, 1, 1), ["a"],
    ...                          [4], ["."], ["x"])
    >>> z = normalize(t, ["log", "zscore"])
    >>> [s["name"] for s in z.attrs["normalizers"]], round(float(z.mean()), 6)
    (['log', 'zscore'], 0.0)
    """
    check_coverage(arr)
    for step in steps_of(spec):
        arr = step(arr, mask)
    return arr


def from_params(entries: Any) -> Normalizer | list[Normalizer]:
    """Rebuild fitted normalizers from ``attrs["normalizers"]`` (a list) or one entry.

    Examples
    --------
    >>> t = model.coverage_track(np.array([1.0, 3.0]).reshape(1, 2, 1, 1), ["a"], [2],
    ...                          ["."], ["x"])
    >>> from_params(normalize(t, "zscore").attrs["normalizers"])
    [ZScore(mean={'x': 2.0}, std={'x': 1.4142135623730951})]
    """
    if isinstance(entries, Sequence) and not isinstance(entries, str | Mapping):
        return [from_params(e) for e in entries]
    if isinstance(entries, str):
        return steps_of(entries)[0]
    name = entries.get("name")
    if name == FunctionStep.name:
        return FunctionStep.from_params(entries.get("params", {}))
    if name not in NAMES:
        raise InputError(
            f"unknown normalizer {name!r} in attrs; expected one of {list(NAMES)}", source=_SOURCE
        )
    return NAMES[name].from_params(entries.get("params", {}))


NORMALIZERS_INVALID = "normalizers_invalid"
"""attrs key set by operations (reduce_dim, signal scaling) after which the recorded
normalizers no longer invert the values; :func:`denormalize` refuses such arrays."""


def invalidate(arr: xr.DataArray, operation: str) -> xr.DataArray:
    """Mark ``arr``'s recorded normalizers as no longer invertible (after ``operation``).

    Examples
    --------
    >>> t = model.coverage_track(np.ones((1, 2, 1, 1)), ["a"], [2], ["."], ["x"])
    >>> invalidate(normalize(t, "log"), "reduce_dim").attrs["normalizers_invalid"]
    'reduce_dim'
    """
    if arr.attrs.get(model.NORMALIZERS):
        arr.attrs[NORMALIZERS_INVALID] = operation
    return arr


def denormalize(arr: xr.DataArray) -> xr.DataArray:
    """Undo every step recorded in ``attrs["normalizers"]``, last first.

    Examples
    --------
    >>> t = model.coverage_track(np.array([1.0, 3.0]).reshape(1, 2, 1, 1), ["a"], [2],
    ...                          ["."], ["x"])
    >>> back = denormalize(normalize(t, ["log", "zscore"]))
    >>> back.values.ravel().round(5).tolist(), back.attrs["normalizers"]
    ([1.0, 3.0], [])
    """
    check_coverage(arr)
    changed = arr.attrs.get(NORMALIZERS_INVALID)
    if changed:
        raise InputError(
            f"cannot undo the recorded normalizers: the array was changed by "
            f"{changed} after normalizing, so their inverse no longer applies",
            source=_SOURCE,
        )
    steps = from_params(list(arr.attrs.get(model.NORMALIZERS) or []))
    stuck = [s.name for s in steps if not s.invertible]
    if stuck:
        raise InputError(f"cannot invert the normalizers {stuck} (not invertible)", source=_SOURCE)
    for step in reversed(steps):
        arr = step.inverse_transform(arr)
    return arr


__all__ = [
    "GATHER_MAX",
    "NAMES",
    "TPM",
    "FunctionStep",
    "LogTransform",
    "Normalizer",
    "PercentileTrimming",
    "RegionLengthNormalization",
    "ZScore",
    "ZScoreLog",
    "bin_lengths",
    "check_coverage",
    "condition_moments",
    "condition_percentile",
    "denormalize",
    "from_params",
    "normalize",
    "padding_mask",
    "reduce_blocks",
    "steps_of",
    "valid_bins",
]
