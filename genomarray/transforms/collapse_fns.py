"""Numpy kernels of :func:`genomarray.transforms.collapse.collapse`: reduce groups of bins.

Padding, not repetition: when the length of ``pos`` is not a multiple of the group size, the
last group is padded at its end with ``fill`` before it is reduced (Janggu's ``np.resize``
repeated the array cyclically instead).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np

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
