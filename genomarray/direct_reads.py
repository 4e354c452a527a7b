"""Ground floor: the slot through which the batch engine reads recorded arrays' values.

A region view of a genome store (and its one-hot, subsets and shuffles) records how it
was made (:func:`genomarray.model.record_recipe`); the batch engine (stage 5,
:func:`genomarray.batches.load.recorded_values`) reads such an array straight from its
store's chunks, faster than its dask graph. The arrays themselves are made at stage 2
(:mod:`genomarray.genome.quick_values`), which may not import a later stage. So the
engine's read is plugged in here, on the ground floor both stages may import, by the
package itself (``genomarray/__init__.py`` registers a function that imports the engine
on first use): no stage imports a later one, and without a reader registered the arrays
compute through dask.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_READER: list[Callable[[Any, dict[str, Any]], Any]] = []


def set_values_reader(reader: Callable[[Any, dict[str, Any]], Any] | None) -> None:
    """Register ``reader(data, recipe) -> numpy.ndarray`` (None: remove it).

    Examples
    --------
    >>> before = values_reader()
    >>> set_values_reader(lambda data, recipe: None)
    >>> values_reader() is not None
    True
    >>> set_values_reader(before)
    """
    _READER.clear()
    if reader is not None:
        _READER.append(reader)


def values_reader() -> Callable[[Any, dict[str, Any]], Any] | None:
    """The registered reader of recorded arrays' values, or None.

    Examples
    --------
    >>> import genomarray
    >>> values_reader() is not None  # the package registers the batch engine's
    True
    """
    return _READER[0] if _READER else None
