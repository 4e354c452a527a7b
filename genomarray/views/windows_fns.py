"""Numpy kernels that cut fixed-length windows out of genome-wide blocks.

Kept apart from the dask graph code in :mod:`genomarray.views.windows` so they are testable on
plain numpy. A *flat buffer* is a ``(T, *rest)`` array holding the positions a batch needs;
``base[i]`` is the buffer row of the first valid position of window ``i``. Positions of a
window that are valid are contiguous in the buffer (the chunks a window touches are laid
out consecutively), so one :func:`numpy.take` gathers a whole batch.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

PER_REGION_KEYS = ("ci", "win_start", "valid_lo", "valid_hi", "base", "minus")
"""Keys of a view's geometry, orientation and recipe that hold one value per region
(reordered or subset with the regions; the others, such as the complement table, are
not, whatever their length)."""


def _whole_windows(flat: np.ndarray, base: np.ndarray, width: int) -> np.ndarray:
    """Rows ``[base[i], base[i] + width)`` of ``flat`` for every ``i``.

    Indexes a strided window view of the buffer (one copy of each window, row by row)
    instead of building a ``(n, width)`` index array: measured 3-9x faster for 20,000
    windows of 1 kb of codes or stranded coverage.
    """
    n_rest = int(np.prod(flat.shape[1:], dtype=np.int64))
    if (
        not flat.flags.c_contiguous
        or n_rest == 0
        or len(flat) < width
        or int(base.max()) + width > len(flat)
        or int(base.min()) < 0
    ):
        return np.take(flat, base[:, None] + np.arange(width, dtype=np.int64), axis=0)
    rows = flat.reshape(len(flat), n_rest)
    view = as_strided(
        rows,
        shape=(len(flat) - width + 1, width, n_rest),
        strides=(rows.strides[0], rows.strides[0], rows.strides[1]),
        writeable=False,
    )
    return view[base].reshape(len(base), width, *flat.shape[1:])


def gather(
    flat: np.ndarray,
    base: np.ndarray,
    win_start: np.ndarray,
    valid_lo: np.ndarray,
    valid_hi: np.ndarray,
    width: int,
    fill: float | int,
) -> np.ndarray:
    """Gather windows ``[win_start, win_start + width)`` from a flat buffer.

    Positions outside ``[valid_lo, valid_hi)`` of each window (before a chromosome start,
    past its end, or past a short tile's end) get ``fill``.

    Parameters
    ----------
    flat
        ``(T, *rest)`` buffer.
    base
        Buffer row of position ``valid_lo[i]`` for each window.
    win_start, valid_lo, valid_hi
        Genomic start of each window and its valid range (int64 arrays, one per window).
    width
        Window length.
    fill
        Padding value.

    Returns
    -------
    numpy.ndarray
        ``(n_windows, width, *rest)``.

    Examples
    --------
    >>> import numpy as np
    >>> flat = np.arange(10)
    >>> gather(flat, np.array([0]), np.array([-2]), np.array([0]), np.array([10]), 4, -1)
    array([[-1, -1,  0,  1]])
    """
    n = len(base)
    out_shape = (n, width, *flat.shape[1:])
    if n == 0 or width == 0:
        return np.empty(out_shape, dtype=flat.dtype)
    offsets = np.arange(width, dtype=np.int64)
    inside = (win_start >= valid_lo) & (win_start + width <= valid_hi)
    if inside.all():  # fast path: every window lies in its valid range
        return _whole_windows(flat, base, width)
    if inside.any():
        out = np.empty(out_shape, dtype=flat.dtype)
        out[inside] = _whole_windows(flat, base[inside], width)
        edge = ~inside
        out[edge] = gather(
            flat, base[edge], win_start[edge], valid_lo[edge], valid_hi[edge], width, fill
        )
        return out
    pos = win_start[:, None] + offsets[None, :]
    valid = (pos >= valid_lo[:, None]) & (pos < valid_hi[:, None])
    if len(flat) == 0:
        return np.full(out_shape, fill, dtype=flat.dtype)
    rows = base[:, None] + (
        np.clip(pos, valid_lo[:, None], np.maximum(valid_hi - 1, valid_lo)[:, None])
        - valid_lo[:, None]
    )
    np.clip(rows, 0, len(flat) - 1, out=rows)
    out = np.take(flat, rows, axis=0)
    if not valid.all():
        out[~valid] = fill
    return out


def orient(
    windows: np.ndarray,
    minus: np.ndarray,
    complement: np.ndarray | None = None,
    strand_axis: int | None = None,
) -> np.ndarray:
    """Turn minus-strand windows around, in place where possible.

    Rows flagged in ``minus`` are reversed along axis 1; then their values are mapped
    through ``complement`` (sequence codes) or their ``strand_axis`` is reversed (stranded
    coverage: ``+`` and ``-`` swap).

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([[0, 0, 1], [0, 0, 1]], np.uint8)
    >>> orient(w, np.array([False, True]), complement=np.array([3, 2, 1, 0, 4], np.uint8))
    array([[0, 0, 1],
           [2, 3, 3]], dtype=uint8)
    """
    if not minus.any():
        return windows
    rows = np.flatnonzero(minus)
    flipped = windows[rows, ::-1]
    if complement is not None:
        flipped = np.take(complement, flipped)
    if strand_axis is not None:
        flipped = np.flip(flipped, axis=strand_axis)
    windows = windows.copy() if not windows.flags.writeable else windows
    windows[rows] = flipped
    return windows
