"""Dask arrays whose ``np.asarray`` (``.values``) skips dask's look for a client.

Every dask compute asks for the scheduler to run on (``dask.base.get_scheduler``); with
none configured, that look imports ``distributed`` (0.2-0.45 s here, once per process)
to ask whether a ``distributed`` client is running. A client needs ``distributed``
imported, so while it is not, and no scheduler is configured, the answer is known: none,
and dask then runs the array on its default scheduler, the threaded one.
:class:`QuickValuesArray` is a ``dask.array.Array`` whose ``__array__`` (what
``DataArray.values`` and ``np.asarray`` call) passes that scheduler itself in exactly
that case, so the look and its import are skipped; in every other case (``distributed``
imported, a scheduler configured with ``dask.config.set``) it computes as dask does.

Genome stores opened lazily (:func:`genomarray.genome.store.open_zarr`), region views
(:func:`genomarray.views.windows.view`) and their one-hot (:func:`genomarray.onehot`)
hold such arrays. Anything derived from them (arithmetic, ``isel``, ...) is a plain dask
array again, and ``.compute()`` goes through xarray's ``dask.compute``, which looks as
usual: ``genomarray.load`` is the fast way from a view to numpy.
"""

from __future__ import annotations

import sys
from typing import Any

import dask
import dask.array as da
import numpy as np

__all__ = ["QuickValuesArray", "no_client_possible", "quick_values"]


def no_client_possible() -> bool:
    """Whether dask's default scheduler choice is known without importing
    ``distributed``: it is not imported (so no client exists) and no scheduler is
    configured.

    Examples
    --------
    >>> import dask
    >>> with dask.config.set(scheduler="sync"):
    ...     no_client_possible()
    False
    """
    if "distributed" in sys.modules:
        return False
    return dask.config.get("scheduler", None) is None and dask.config.get("get", None) is None


class QuickValuesArray(da.Array):
    """A dask array whose ``np.asarray`` skips dask's client look when no client can exist.

    The same array (graph, name, chunks, meta) as the one it was made from
    (:func:`quick_values`); only ``__array__`` differs, and only in how the scheduler is
    found.

    Examples
    --------
    >>> import numpy as np
    >>> x = quick_values(da.arange(6, chunks=2) * 2)
    >>> type(x).__name__, np.asarray(x).tolist(), type(x + 1).__name__
    ('QuickValuesArray', [0, 2, 4, 6, 8, 10], 'Array')
    """

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return type(self), super().__reduce__()[1]  # pickled copies stay quick

    def __array__(self, dtype: Any = None, copy: Any = None, **kwargs: Any) -> np.ndarray:
        if kwargs or copy is False or not no_client_possible():
            return super().__array__(dtype, copy=copy, **kwargs)  # dask's own (and warnings)
        # the scheduler dask itself would choose here: the collection's default
        x = self.compute(scheduler=self.__dask_scheduler__)
        return np.asarray(x, dtype=dtype)


def quick_values(data: Any) -> Any:
    """``data`` as a :class:`QuickValuesArray` if it is a dask array (else as it is).

    Examples
    --------
    >>> type(quick_values(da.zeros(3, chunks=1))).__name__, quick_values([1])
    ('QuickValuesArray', [1])
    """
    if type(data) is not da.Array:  # numpy, or already quick (or another subclass)
        return data
    return QuickValuesArray(data.dask, data.name, data.chunks, meta=data._meta)
