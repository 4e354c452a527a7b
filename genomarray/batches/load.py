"""A region view into memory through the batch engine: the fast way from a store to numpy.

Through dask, a lazy view computes a task per chunk of regions, then one concatenation of
all of them into the result (a full extra copy of it), and in a fresh process dask's
scheduler lookup (which imports ``distributed`` when installed). For lazy views of genome
stores, their one-hot, and views reopened from zarr, :func:`load` reads the same values
as the batch engine does: each zarr chunk the windows touch decoded once (several in
parallel threads), the windows gathered straight into one array, the one-hot written
once. Any other array is computed by dask, as ``.compute()`` does.

``.values`` of a view of a genome store (or its one-hot) reads the same way where dask
would use its own threads: :func:`recorded_values`, called by
:mod:`genomarray.genome.quick_values`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from genomarray import model
from genomarray.batches.engine import BatchEngine, Request


def load(arr: xr.DataArray | xr.Dataset, *, threads: int | None = None) -> Any:
    """``arr`` with its values in memory (numpy), read straight from its zarr chunks.

    The result equals ``arr.compute()`` exactly (same values, dtype, coordinates and
    attrs); ``arr`` itself stays lazy. Region views whose making was recorded (``view``
    of a genome store, its ``onehot``, ``open_zarr`` of a written view, and ``subset`` /
    ``shuffle`` of those) skip dask; anything else (a normalised view, arithmetic on a
    view, a genome-wide array) is computed by dask. A damaged chunk is a
    :class:`~genomarray.errors.StoreError`, as it is through dask.

    Parameters
    ----------
    arr
        A DataArray, lazy or not, or a Dataset (each variable loaded).
    threads
        Threads decoding chunks (default: up to 4, one per core).

    Returns
    -------
    xarray.DataArray or xarray.Dataset
        The numpy-backed array (or Dataset).

    Examples
    --------
    >>> import genomarray as ga
    >>> dna = ga.read_fasta(ga.example_path("genome.fa"), progress=False)
    >>> x = dna.janggu.view(ga.tile(ga.example_path("roi.bed"), binsize=200)).janggu.onehot()
    >>> y = ga.load(x)
    >>> type(y.data).__name__, bool((y == x.compute()).all())
    ('ndarray', True)
    """
    if isinstance(arr, xr.Dataset):
        data = {k: load(v, threads=threads).data for k, v in arr.data_vars.items()}
        return arr.copy(deep=False, data=data)
    if not isinstance(arr, xr.DataArray):
        raise TypeError(f"load expects an xarray DataArray or Dataset, got {type(arr).__name__}")
    data = arr.data
    lazy = hasattr(data, "dask") and hasattr(data, "chunks")
    if not lazy:
        return arr
    n = int(data.shape[0]) if data.ndim else 0
    if not arr.dims or arr.dims[0] != model.REGION or n == 0:
        return arr.compute()
    return arr.copy(deep=False, data=_engine_values(arr, threads, "load"))


def _engine_values(arr: xr.DataArray, threads: int | None, who: str) -> np.ndarray:
    """Every region of the view ``arr``, read by a batch engine in one batch (its recipe's
    fast source; without one, the engine computes the dask graph)."""
    n = int(arr.shape[0])
    engine = BatchEngine(
        [Request("array", arr, None, None, False)],
        batch_size=n,
        max_memory_bytes=np.iinfo(np.int64).max,
        threads=threads,
        who=who,
    )
    try:
        return engine.take(slice(0, n))["array"]
    finally:
        engine.close()


def recorded_values(data: Any, recipe: dict[str, Any]) -> np.ndarray:
    """The values of a region view's dask data ``data`` made by ``recipe`` (see
    :func:`genomarray.model.record_recipe`), read as :func:`load` reads them: what
    ``np.asarray`` of such data does (:mod:`genomarray.genome.quick_values`).

    Parameters
    ----------
    data
        The dask array of a region view, ``(region, ...)``, whose name ``recipe`` carries.
    recipe
        The recipe recorded for it.

    Returns
    -------
    numpy.ndarray
        Equal to ``data.compute()``.

    Examples
    --------
    >>> import genomarray as ga
    >>> dna = ga.read_fasta(ga.example_path("genome.fa"), progress=False)
    >>> x = dna.janggu.view(ga.tile(ga.example_path("roi.bed"), binsize=200))
    >>> got = recorded_values(x.data, model.recipe_of(x))
    >>> bool((got == x.data.compute()).all())
    True
    """
    if int(data.shape[0]) == 0:
        return np.empty(data.shape, data.dtype)
    arr = xr.DataArray(data, dims=(model.REGION, *(f"dim_{i}" for i in range(1, data.ndim))))
    arr.encoding[model.RECIPE] = recipe
    return _engine_values(arr, None, "values")


__all__ = ["load", "recorded_values"]
