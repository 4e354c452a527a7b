"""The normalizer classes: fitted per condition on first use, reused afterwards.

See :mod:`genomarray.transforms.normalize` for the table of names, formulas and how
fitting, padding and provenance work; the statistics are computed by the kernels of
:mod:`genomarray.transforms.normalize_fns`.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import xarray as xr

from genomarray import model
from genomarray.errors import InputError
from genomarray.transforms.normalize_fns import condition_moments, condition_percentile
from genomarray.views.geometry import bin_lengths, padding_mask

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

    def fit(self, arr: xr.DataArray, mask: Any = None) -> Normalizer:
        """Compute the statistics; an array without cells (e.g. a view of 0 regions)
        cannot give any, which is an error (transforming an empty array is fine)."""
        check_coverage(arr)
        if arr.size == 0:
            raise InputError(
                f"cannot fit {self.name!r} on an empty array (dims {dict(arr.sizes)}): "
                "there are no values to compute its statistics from; fit it on data "
                "(or pass the statistics) and transform the empty array with it",
                source=_SOURCE,
            )
        return super().fit(arr, mask)

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
