"""Numba kernel of the bigWig section reader: lay inflated data sections out per base.

:func:`paint` runs with ``nogil=True`` (threads lay out chunks side by side while others
inflate theirs) and ``cache=True`` (compiled once per installation, then loaded from
numba's cache). Importing this module imports numba; :mod:`genomarray.io.bigwig_blocks`
is not used where that fails. Item layouts are those of UCSC's ``bwgInternal.h``: bedGraph
items are (start, end, value), varStep items (start, value) spanning ``itemSpan`` bases,
fixedStep items a value each, ``itemStep`` bases apart.
"""

from __future__ import annotations

import numpy as np
from numba import njit

OK = 0
UNORDERED = 1  # records that overlap, are empty or are out of order: not laid out here

BEDGRAPH, VARSTEP, FIXEDSTEP = 1, 2, 3


@njit(nogil=True, cache=True)
def paint(words, values, first, kinds, counts, starts, steps, spans, lo, hi, fill, out):
    """Write bases ``[lo, hi)`` of one chromosome into ``out`` (float32, ``hi - lo``).

    ``words`` / ``values``: the inflated sections joined, as native uint32 / float32 (one
    buffer, two views); section ``k`` has its first item at word ``first[k]``, ``kinds[k]``
    (:data:`BEDGRAPH`, ...), ``counts[k]`` items, header start ``starts[k]``, ``steps[k]``,
    ``spans[k]``. Bases no record covers get ``fill``. Returns :data:`OK`, or
    :data:`UNORDERED` (``out`` then holds nothing useful).
    """
    last = np.int64(-1)  # end of the previous record: records must be sorted, disjoint
    cursor = np.int64(lo)  # bases [lo, cursor) are written
    for k in range(len(first)):
        w = np.int64(first[k])
        kind = kinds[k]
        span = np.int64(spans[k])
        for i in range(counts[k]):
            if kind == BEDGRAPH:
                s = np.int64(words[w + 3 * i])
                e = np.int64(words[w + 3 * i + 1])
                v = values[w + 3 * i + 2]
            elif kind == VARSTEP:
                s = np.int64(words[w + 2 * i])
                e = s + span
                v = values[w + 2 * i + 1]
            else:
                s = np.int64(starts[k]) + np.int64(steps[k]) * i
                e = s + span
                v = values[w + i]
            if e <= s or s < last:
                return UNORDERED
            last = e
            if s >= hi:
                break
            if e <= cursor:
                continue
            a = max(s, cursor)
            b = min(e, hi)
            for p in range(cursor, a):
                out[p - lo] = fill
            for p in range(a, b):
                out[p - lo] = v
            cursor = b
    for p in range(cursor, hi):
        out[p - lo] = fill
    return OK
