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
usual.

A region view of a genome store, its one-hot, a ``subset`` or ``shuffle`` of those and a
view reopened from its store also carry the recipe their maker recorded
(:func:`with_recipe`; :func:`genomarray.model.record_recipe`). Their
``np.asarray`` then reads the values as :func:`genomarray.load` does, with no dask graph,
wherever dask would run the graph on its own threads (no scheduler configured, no
``distributed`` client running, whether or not ``distributed`` is imported):
each zarr chunk the windows touch decoded once, the windows gathered straight into the
result (:func:`genomarray.batches.load.recorded_values`, a later stage, reached through
the ground floor's slot :mod:`genomarray.direct_reads` that the package fills, as dask
hands a graph to whichever scheduler is set). Same values, same dtype; without a recipe
or a registered reader, or where a client may exist, it computes as above.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import dask
import dask.array as da
import numpy as np

from genomarray import direct_reads, model
from genomarray.genome.compute import distributed_client

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "QuickValuesArray",
    "no_client_possible",
    "quick_recorded",
    "quick_values",
    "with_recipe",
]


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
    return "distributed" not in sys.modules and _no_scheduler_configured()


def _no_scheduler_configured() -> bool:
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

    __slots__ = ("recipe",)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return type(self), super().__reduce__()[1]  # pickled copies stay quick

    def __array__(self, dtype: Any = None, copy: Any = None, **kwargs: Any) -> np.ndarray:
        if kwargs or copy is False:
            return super().__array__(dtype, copy=copy, **kwargs)  # dask's own (and warnings)
        recipe = getattr(self, "recipe", None)
        reader = direct_reads.values_reader() if recipe is not None else None
        if (
            reader is not None
            and recipe.get("name") == self.name
            and _no_scheduler_configured()
            and distributed_client() is None
        ):  # dask would run it on its threads here: the engine reads it without a graph
            x = reader(self, recipe)
        elif no_client_possible():  # the scheduler dask itself would choose here
            x = self.compute(scheduler=self.__dask_scheduler__)
        else:
            return super().__array__(dtype, copy=copy)
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


def quick_recorded(obj: Any) -> Any:
    """``obj`` (a DataArray or Dataset) with each variable whose data has a recorded
    recipe (:func:`genomarray.model.recipe_of`) held as a :class:`QuickValuesArray`
    carrying it (:func:`with_recipe`): ``subset`` and ``shuffle`` of a view, whose
    ``isel`` made a plain dask array, read their ``.values`` as the view does. The data
    (graph, name) is unchanged, so the recipe's stamp still holds.

    Examples
    --------
    >>> import xarray as xr
    >>> a = xr.DataArray(da.zeros((2, 3), chunks=1), dims=("region", "pos"))
    >>> model.record_recipe(a, "store", path="a.zarr", var="v")
    >>> type(quick_recorded(a).data).__name__
    'QuickValuesArray'
    """
    import xarray as xr

    if isinstance(obj, xr.Dataset):
        names = [k for k in obj.data_vars if model.recipe_of(obj[k]) is not None]
        if not names:
            return obj
        out = obj.copy(deep=False)
        for k in names:
            out[k] = quick_recorded(obj[k])
        return out
    if model.recipe_of(obj) is None or not isinstance(obj.data, da.Array):
        return obj
    out = obj.copy(deep=False, data=quick_values(obj.data))
    out.encoding = dict(obj.encoding)
    return with_recipe(out)


def with_recipe(arr: xr.DataArray) -> xr.DataArray:
    """Give ``arr``'s data the recipe recorded for it, so its ``np.asarray`` (``.values``)
    reads it as :func:`genomarray.load` does (see the module notes). Changes nothing
    where the data is not a :class:`QuickValuesArray` or no recipe is recorded.

    Examples
    --------
    >>> import xarray as xr
    >>> a = xr.DataArray(quick_values(da.zeros((2, 3), chunks=1)), dims=("region", "pos"))
    >>> model.record_recipe(a, "store", path="a.zarr", var="v")
    >>> with_recipe(a).data.recipe["op"]
    'store'
    """
    data = arr.data
    recipe = model.recipe_of(arr)
    if isinstance(data, QuickValuesArray) and recipe is not None:
        data.recipe = recipe
    return arr
