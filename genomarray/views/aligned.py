"""Views that travel together: the same regions in the same order, one permutation.

Inputs and labels of one model are separate views of the same regions; splitting,
subsetting and shuffling them must keep them aligned. :func:`check_aligned` checks it,
:func:`leaves` and :func:`map_leaves` walk a nested list, tuple or dict of arrays, and
:func:`permutation` draws the one permutation that :func:`permute` applies to each.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from genomarray import model
from genomarray.errors import InputError

_ALIGN_COORDS = (model.REGION_CHROM, model.REGION_START, model.REGION_END, model.REGION_STRAND)


Arrays = xr.DataArray | xr.Dataset | Mapping[str, Any] | Sequence[Any]
"""One array, or a list, tuple or dict of arrays (nested containers allowed)."""


def is_array(obj: Any) -> bool:
    return isinstance(obj, xr.DataArray | xr.Dataset)


def has_regions(obj: xr.DataArray | xr.Dataset) -> bool:
    return model.REGION in obj.dims


def coord_values(obj: xr.DataArray | xr.Dataset, name: str) -> np.ndarray:
    return np.asarray(obj[name].values)


def _label(path: tuple[Any, ...]) -> str:
    return "arrays" + "".join(f"[{p!r}]" for p in path)


def leaves(arrays: Any, path: tuple[Any, ...] = ()) -> list[tuple[str, Any]]:
    if is_array(arrays):
        return [(_label(path), arrays)]
    if isinstance(arrays, Mapping):
        return [leaf for k, v in arrays.items() for leaf in leaves(v, (*path, k))]
    if isinstance(arrays, list | tuple):
        return [leaf for i, v in enumerate(arrays) for leaf in leaves(v, (*path, i))]
    raise TypeError(
        f"{_label(path)}: expected an xarray DataArray or Dataset (or a list, "
        f"tuple or dict of them), got {type(arrays).__name__}"
    )


def map_leaves(arrays: Any, fn: Callable[[Any], Any]) -> Any:
    if is_array(arrays):
        return fn(arrays)
    if isinstance(arrays, Mapping):
        return {k: map_leaves(v, fn) for k, v in arrays.items()}
    if isinstance(arrays, tuple):
        return tuple(map_leaves(v, fn) for v in arrays)
    return [map_leaves(v, fn) for v in arrays]


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
    views = [(label, obj) for label, obj in leaves(arrays) if has_regions(obj)]
    if not views:
        return None
    first_label, first = views[0]
    missing = [c for c in _ALIGN_COORDS if c not in first.coords]
    if missing:
        raise InputError(
            f"{first_label} has a region dim but lacks the coordinates {missing}", source="split"
        )
    ref = {c: coord_values(first, c) for c in _ALIGN_COORDS}
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
            differs |= np.asarray(coord_values(obj, c) != ref[c], dtype=bool)
        if differs.any():
            i = int(np.flatnonzero(differs)[0])
            raise InputError(
                f"{label} does not share the regions of {first_label}: region "
                f"{i} is {_region_text(first, i)} in {first_label} but "
                f"{_region_text(obj, i)} in {label}",
                source="split",
            )
    return n


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


def permute(obj: xr.DataArray | xr.Dataset, perm: np.ndarray) -> xr.DataArray | xr.Dataset:
    if not has_regions(obj):
        raise InputError(
            f"shuffle permutes regions; this array has dims {tuple(obj.dims)}", source="shuffle"
        )
    before = (
        coord_values(obj, model.REGION_INDEX)
        if model.REGION_INDEX in obj.coords
        else np.arange(obj.sizes[model.REGION], dtype=np.int64)
    )
    out = obj.isel({model.REGION: perm})
    model.record_rows(out, obj, perm)  # the batch engine still reads it from its store
    from genomarray.genome.quick_values import quick_recorded

    out = quick_recorded(out)  # and so does its .values
    return out.assign_coords({model.REGION_INDEX: (model.REGION, before[perm])})
