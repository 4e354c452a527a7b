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

The classes are in :mod:`genomarray.transforms.normalizers`, their kernels in
:mod:`genomarray.transforms.normalize_fns`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import xarray as xr

from genomarray import model
from genomarray.errors import InputError
from genomarray.transforms.normalizers import (
    TPM,
    FunctionStep,
    LogTransform,
    Normalizer,
    PercentileTrimming,
    RegionLengthNormalization,
    ZScore,
    ZScoreLog,
    check_coverage,
)

_SOURCE = "normalize"

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


def normalize(
    arr: xr.DataArray | xr.Dataset, spec: Spec, mask: Any = None
) -> xr.DataArray | xr.Dataset:
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
    >>> import numpy as np
    >>> t = model.coverage_track(np.array([0.0, 1.0, 3.0, 8.0]).reshape(1, 4, 1, 1), ["a"],
    ...                          [4], ["."], ["x"])
    >>> z = normalize(t, ["log", "zscore"])
    >>> [s["name"] for s in z.attrs["normalizers"]], round(float(z.mean()), 6)
    (['log', 'zscore'], 0.0)
    """
    if isinstance(arr, xr.Dataset):  # every coverage variable, each fitted on its own data
        return model.map_variables(
            arr,
            (model.REGION_VIEW, model.COVERAGE_TRACK),
            lambda v: normalize(v, spec, mask) if model.CONDITION in v.dims else v,
            "normalize",
        )
    check_coverage(arr)
    for step in steps_of(spec):
        arr = step(arr, mask)
    return arr


def from_params(entries: Any) -> Normalizer | list[Normalizer]:
    """Rebuild fitted normalizers from ``attrs["normalizers"]`` (a list) or one entry.

    Examples
    --------
    >>> import numpy as np
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


NORMALIZERS_INVALID = model.NORMALIZERS_INVALID
"""attrs key set by operations (reduce_dim, signal scaling) after which the recorded
normalizers no longer invert the values; :func:`denormalize` refuses such arrays."""


def invalidate(arr: xr.DataArray, operation: str) -> xr.DataArray:
    """Mark ``arr``'s recorded normalizers as no longer invertible (after ``operation``).

    Examples
    --------
    >>> import numpy as np
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
    >>> import numpy as np
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
    "NAMES",
    "TPM",
    "FunctionStep",
    "LogTransform",
    "Normalizer",
    "PercentileTrimming",
    "RegionLengthNormalization",
    "ZScore",
    "ZScoreLog",
    "check_coverage",
    "denormalize",
    "from_params",
    "normalize",
    "steps_of",
]
