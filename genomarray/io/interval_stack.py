"""Many interval sets (files) read as one reader: one column per set, one condition each.

:class:`IntervalStack` is what :func:`genomarray.genome.coverage.read_bed` uses for many
files in the ``"binary"`` and ``"score"`` modes: each file is checked and indexed as
:class:`~genomarray.io.intervals.IntervalCoverage` does, then only its intervals'
coordinates are kept, merged per chromosome, so thousands of files are read one at a time
and never held as tables at once. A block equals the per-file readers' blocks side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from genomarray.errors import InputError
from genomarray.io.intervals import IntervalCoverage, counting_range

__all__ = ["STACK_MODES", "IntervalStack"]

STACK_MODES = ("binary", "score")
"""Modes in which :class:`IntervalStack` reads many interval sets as one reader."""


@dataclass(frozen=True, eq=False)
class IntervalStack:
    """Coverage of many interval sets (files) as one reader: column ``k`` of a block is
    the :class:`IntervalCoverage` of set ``k``, equal to it value for value.

    Built set by set with :meth:`add` (each set is checked and indexed as
    :class:`IntervalCoverage` does, then only its ``start, end, value`` arrays are kept,
    ~20 bytes per interval), so thousands of files never need their tables in memory at
    once; :meth:`freeze` merges them per chromosome. A call finds the intervals of every
    set overlapping its range with two binary searches on the merged arrays and paints
    their bins into the block's columns (no loop over sets or intervals).

    Parameters
    ----------
    mode
        One of :data:`STACK_MODES`.
    resolution, minoverlap, chrom_sizes
        As in :class:`IntervalCoverage`.
    dtype
        Block dtype (float32; an integer or bool dtype for ``"binary"`` labels).

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"chrom": "c", "start": [2], "end": [6]})
    >>> b = pd.DataFrame({"chrom": "c", "start": [5], "end": [8]})
    >>> stack = IntervalStack(resolution=2)
    >>> stack.add(a, source="a.bed"); stack.add(b, source="b.bed")
    >>> stack.freeze()("c", 0, 4).tolist()
    [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
    """

    mode: str = "binary"
    resolution: int = 1
    minoverlap: float | None = None
    chrom_sizes: Mapping[str, int] | None = None
    dtype: str = "float32"

    def __post_init__(self) -> None:
        if self.mode not in STACK_MODES:
            raise InputError(f"IntervalStack reads the modes {STACK_MODES}, got {self.mode!r}")
        dtype = np.dtype(self.dtype)
        if self.mode == "score" and dtype.kind != "f":
            raise InputError(f"mode='score' needs a float dtype, got {dtype}")
        object.__setattr__(self, "dtype", dtype.str)
        object.__setattr__(self, "_parts", {})  # chrom -> list of (starts, ends, payload, col)
        object.__setattr__(self, "_index", None)
        object.__setattr__(self, "n_columns", 0)

    def add(self, regions: pd.DataFrame, source: str = "regions") -> None:
        """Check and index one interval set as the next column (its table is not kept)."""
        if self._index is not None:  # type: ignore[attr-defined]
            raise RuntimeError("IntervalStack.add after freeze()")
        one = IntervalCoverage(
            regions,
            mode=self.mode,
            resolution=self.resolution,
            minoverlap=self.minoverlap,
            source=source,
            chrom_sizes=self.chrom_sizes,
        )
        col = self.n_columns  # type: ignore[attr-defined]
        for chrom, (starts, ends, _, payload) in one._index.items():  # type: ignore[attr-defined]
            cols = np.full(len(starts), col, np.int32)
            pay = payload.astype(np.float32) if self.mode == "score" else None
            self._parts.setdefault(chrom, []).append((starts, ends, pay, cols))  # type: ignore[attr-defined]
        object.__setattr__(self, "n_columns", col + 1)
        if col == 0:  # the resolution and minoverlap as IntervalCoverage validated them
            object.__setattr__(self, "resolution", one.resolution)
            object.__setattr__(self, "minoverlap", one.minoverlap)
            object.__setattr__(self, "chrom_sizes", one.chrom_sizes)

    def freeze(self) -> IntervalStack:
        """Merge the sets per chromosome (sorted by start); returns ``self``, now callable."""
        index = {}
        for chrom, parts in self._parts.items():  # type: ignore[attr-defined]
            starts = np.concatenate([p[0] for p in parts])
            order = np.argsort(starts, kind="stable")
            ends = np.concatenate([p[1] for p in parts])[order]
            payload = np.concatenate([p[2] for p in parts])[order] if self.mode == "score" else None
            index[chrom] = (
                starts[order],
                ends,
                np.maximum.accumulate(ends),
                np.concatenate([p[3] for p in parts])[order],
                payload,
            )
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_parts", {})
        return self

    @property
    def intervals(self) -> int:
        """Number of intervals held (all sets)."""
        return sum(len(v[0]) for v in (self._index or {}).values())  # type: ignore[attr-defined]

    def __call__(self, chrom: str, start: int, end: int) -> np.ndarray:
        """Bins ``[start, end)`` of ``chrom`` for every set: ``(end - start, n_columns)``."""
        if self._index is None:  # type: ignore[attr-defined]
            raise RuntimeError("IntervalStack is called before freeze()")
        start, end = int(start), int(end)
        if start < 0 or end < start:
            raise InputError(f"invalid bin range {start}-{end}", record=str(chrom))
        out = np.zeros((end - start, self.n_columns), dtype=self.dtype)  # type: ignore[attr-defined]
        entry = self._index.get(chrom)  # type: ignore[attr-defined]
        res = self.resolution
        lo, hi = start * res, end * res
        if self.chrom_sizes is not None and chrom in self.chrom_sizes:
            hi = min(hi, self.chrom_sizes[chrom])
        if entry is None or hi <= lo:
            return out
        starts, ends, maxend, cols, payload = entry
        i0 = int(np.searchsorted(maxend, lo, side="right"))
        i1 = int(np.searchsorted(starts, hi, side="left"))
        if i1 <= i0:
            return out
        s, e = starts[i0:i1], ends[i0:i1]
        hit = e > lo
        cs, ce = np.maximum(s[hit], lo) - lo, np.minimum(e[hit], hi) - lo
        col = cols[i0:i1][hit]
        span = hi - lo
        first, last = cs // res, (ce - 1) // res
        a, b = first, last + 1
        if self.minoverlap is not None:
            a, b = counting_range(cs, ce, first, last, res, span, self.minoverlap)
        ok = b > a
        a, b, col = a[ok], b[ok], col[ok]
        lengths = b - a
        total = int(lengths.sum())
        if not total:
            return out
        rows = np.arange(total) + np.repeat(a - (np.cumsum(lengths) - lengths), lengths)
        cells = rows * self.n_columns + np.repeat(col, lengths)  # type: ignore[attr-defined]
        flat = out.reshape(-1)
        if self.mode == "binary":
            flat[cells] = 1
            return out
        values = np.repeat(payload[i0:i1][hit][ok], lengths)
        order = np.lexsort((values, cells))  # per cell, the largest value last
        cells, values = cells[order], values[order]
        last_of = np.r_[cells[1:] != cells[:-1], True]
        flat[cells[last_of]] = values[last_of]
        return out
