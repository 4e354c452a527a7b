"""Janggu's dataset protocol on genomarray arrays: :class:`Dataset` and :class:`Array`.

Every object ``genomarray.compat`` builds (``Cover``, ``Bioseq``, ``Array`` and the
wrappers ``ReduceDim``, ``Transpose``, ...) is an :class:`xarray.DataArray` (a subclass),
so it goes into any genomarray or xarray function as it is. On top, it speaks Janggu's
dataset protocol:

- ``x[i]``, ``x[a:b]``, ``x[[i, j]]`` return **numpy** batches with the region axis kept
  (``x[3].shape == (1, ...)``), as Janggu's datasets did; ``x["chrom"]`` and other string
  keys are xarray's coordinate access, ``x[{"region": ...}]`` xarray's ``isel``;
- ``x["chr1", start, end]`` (or ``(chrom, start, end, strand)``, or an interval object)
  returns the signal at base-pair resolution, ``(1, end - start, strands, conditions)``;
- ``len(x)``, ``x.shape``, ``x.name``, ``x.conditions``, ``x.gindexer`` (a
  :class:`~genomarray.compat.gindexer.GenomicIndexer`), ``x.garray`` and ``str(x)``
  (``Cover("name")``, ``ReduceDim(Cover("name"))``) as in Janggu.

Whatever is derived from such an object with xarray or genomarray (``x.isel(...)``,
``x + 1``, ``x.janggu.collapse(...)``) is a plain DataArray again, so genomarray's own
code never sees the Janggu indexing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from genomarray import model
from genomarray.errors import InputError

JANGGU_CALL = model.JANGGU_CALL
JANGGU_WRAPPERS = model.JANGGU_WRAPPERS

_DEFAULT: Any = getattr(xr.core.dataarray, "_default", None)


def plain(x: xr.DataArray) -> xr.DataArray:
    """``x`` as a plain :class:`xarray.DataArray` (no copy of the data).

    Examples
    --------
    >>> import numpy as np
    >>> type(plain(Array("y", np.zeros((3, 1))))).__name__
    'DataArray'
    """
    if type(x) is xr.DataArray:
        return x
    return xr.DataArray(x.variable, x._coords, name=x.name, indexes=x._indexes, fastpath=True)


def adopt(cls: type, x: xr.DataArray) -> Any:
    """``x`` as a ``cls`` dataset if it is a region view; genome-wide arrays stay plain."""
    if model.REGION not in x.dims:
        return x
    return cls.adopt(x)


def batch_key(key: Any, n: int) -> Any:
    """Janggu's positional index: an int becomes a one-element slice (the axis is kept)."""
    if isinstance(key, bool):
        raise IndexError(f"cannot index a dataset with {key!r}")
    if isinstance(key, int | np.integer):
        i = int(key)
        if not -n <= i < n:
            raise IndexError(f"index {i} is out of range for a dataset of {n} regions")
        i = i % n
        return slice(i, i + 1)
    if isinstance(key, slice):
        return key
    if isinstance(key, np.ndarray) and key.dtype == bool:
        return np.flatnonzero(key)
    return [int(i) for i in np.asarray(key).ravel()]


def is_interval_key(key: Any) -> bool:
    """Whether ``key`` names a genomic interval: ``(chrom, start, end[, strand])`` or an
    object with ``chrom``, ``start`` and ``end`` attributes."""
    if isinstance(key, tuple) and len(key) in (3, 4) and isinstance(key[0], str):
        return isinstance(key[1], int | np.integer) and isinstance(key[2], int | np.integer)
    return all(hasattr(key, a) for a in ("chrom", "start", "end")) and not isinstance(
        key, xr.DataArray
    )


def interval_of(key: Any) -> tuple[str, int, int, str]:
    if isinstance(key, tuple):
        strand = str(key[3]) if len(key) == 4 else "."
        return str(key[0]), int(key[1]), int(key[2]), strand
    return str(key.chrom), int(key.start), int(key.end), str(getattr(key, "strand", "."))


def record_wrapper(x: xr.DataArray, inner: xr.DataArray, name: str, **args: Any) -> None:
    """Append ``(name, args)`` to the wrapper chain recorded in ``x.attrs``."""
    chain = json.loads(inner.attrs.get(JANGGU_WRAPPERS, "[]"))
    chain.append([name, args])
    x.attrs[JANGGU_WRAPPERS] = json.dumps(chain)


def wrappers_of(x: xr.DataArray) -> list[tuple[str, dict[str, Any]]]:
    """The wrappers (class name, arguments) applied to ``x``, innermost first."""
    return [(n, a) for n, a in json.loads(x.attrs.get(JANGGU_WRAPPERS, "[]"))]


def janggu_name(x: xr.DataArray) -> str:
    """Janggu's repr of a dataset: ``Bioseq("dna")``, ``ReduceDim(Cover("peaks"))``."""
    call = x.attrs.get(JANGGU_CALL)
    base = json.loads(call)["fn"].split(".")[0] if call else type(x).__name__
    if base in {n for n, _ in wrappers_of(x)} or base == "Dataset":
        base = "Array"
    text = f'{base}("{x.name}")'
    for name, _ in wrappers_of(x):
        text = f"{name}({text})"
    return text


class Dataset(xr.DataArray):
    """Base of Janggu's datasets in ``genomarray.compat``: a DataArray with Janggu's
    indexing (see the module documentation).

    Not instantiated itself (Janggu's ``Dataset(name)`` is abstract): the constructors of
    :class:`~genomarray.compat.Cover`, :class:`~genomarray.compat.Bioseq`,
    :class:`Array` and the wrappers return its subclasses.

    Examples
    --------
    >>> import numpy as np
    >>> y = Array("y", np.arange(6).reshape(3, 2), conditions=["a", "b"])
    >>> isinstance(y, Dataset), y[1], y.conditions
    (True, array([[2, 3]]), ['a', 'b'])
    """

    __slots__ = ()

    def __init__(self, name: str) -> None:
        raise TypeError(
            "Dataset is Janggu's abstract base; build datasets with Cover.create_from_*, "
            "Bioseq.create_from_*, Array(name, array) or a wrapper"
        )

    # -- construction: anything derived is a plain DataArray ------------------------------
    @classmethod
    def adopt(cls, x: xr.DataArray) -> Any:
        """Return ``x`` (its data, coordinates and attrs, not copied) as a ``cls``."""
        obj = object.__new__(cls)
        xr.DataArray.__init__(
            obj, x.variable, x._coords, name=x.name, indexes=x._indexes, fastpath=True
        )
        return obj

    def _replace(
        self,
        variable: Any = None,
        coords: Any = None,
        name: Any = _DEFAULT,
        attrs: Any = _DEFAULT,
        indexes: Any = None,
    ) -> xr.DataArray:
        return plain(self)._replace(variable, coords, name, attrs, indexes)

    @classmethod
    def _dask_finalize(cls, results: Any, name: Any, func: Any, *args: Any, **kwargs: Any) -> Any:
        return xr.DataArray._dask_finalize(results, name, func, *args, **kwargs)

    # -- Janggu's protocol ----------------------------------------------------------------
    @property
    def native(self) -> xr.DataArray:
        """This dataset as a plain DataArray (genomarray's own indexing)."""
        return plain(self)

    def batch(self, key: Any) -> np.ndarray:
        """The numpy batch Janggu's ``dataset[key]`` returns (region axis kept)."""
        sel = batch_key(key, self.sizes[self.dims[0]])
        return self._values_of(plain(self).isel({self.dims[0]: sel}))

    def _values_of(self, sub: xr.DataArray) -> np.ndarray:
        return self.finish_batch(np.asarray(sub.values))

    def finish_batch(self, values: np.ndarray) -> np.ndarray:
        """Turn the stored values of a batch into what ``dataset[idx]`` returns (the
        random wrappers draw here; ``SqueezeDim`` squeezes)."""
        return values

    def interval(self, chrom: str, start: int, end: int, strand: str = ".") -> np.ndarray:
        """The values over ``chrom:start-end`` at base-pair resolution,
        ``(1, end - start, strands, conditions)`` (Janggu's ``cover[chrom, start, end]``)."""
        from genomarray.compat.intervals import interval_values

        return interval_values(self, chrom, start, end, strand)

    def __getitem__(self, idxs: Any) -> Any:
        if isinstance(idxs, str | dict) or (isinstance(idxs, tuple) and not is_interval_key(idxs)):
            return super().__getitem__(idxs)
        if is_interval_key(idxs):
            return self.interval(*interval_of(idxs))
        return self.batch(idxs)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        values = self.batch(slice(None))
        return values if dtype is None else values.astype(dtype)

    def __str__(self) -> str:
        return janggu_name(self)

    @property
    def conditions(self) -> list[str] | None:
        """Condition labels (Cover), k-mer labels (Bioseq), or ``Array``'s conditions."""
        for dim in (model.CONDITION, model.BASE):
            if dim in self.coords:
                return [str(c) for c in self[dim].values]
        return None

    @property
    def gindexer(self) -> Any:
        """The regions as Janggu's :class:`~genomarray.compat.gindexer.GenomicIndexer`."""
        from genomarray.compat.gindexer import GenomicIndexer

        if model.REGION_START not in self.coords:
            raise ValueError(f"{self} has no regions (no gindexer)")
        return GenomicIndexer.from_view(self)

    @gindexer.setter
    def gindexer(self, value: Any) -> None:
        raise TypeError(
            "a genomarray.compat dataset cannot change its regions in place; "
            "use view(dataset, regions) to see it through other regions"
        )

    @property
    def garray(self) -> Any:
        """The stored values as Janggu's :class:`~genomarray.compat.normalizers.GenomicArray`
        (the windows of this dataset, one entry per region)."""
        from genomarray.compat.normalizers import GenomicArray

        return GenomicArray.from_view(self)


def _array_dims(ndim: int, has_conditions: bool) -> tuple[str, ...]:
    if ndim == 1:
        return (model.REGION,)
    middle = tuple(f"dim_{i}" for i in range(1, ndim - 1))
    return (model.REGION, *middle, model.CONDITION if has_conditions else f"dim_{ndim - 1}")


class Array(Dataset):
    """Janggu's ``Array(name, array, conditions=None)``: a named array of examples.

    The first axis indexes the examples (dim ``region``), the last the conditions (dim
    ``condition``, labelled by ``conditions``). A 1-D array keeps its shape ``(N,)``
    (Janggu reported ``(N, 1)``); a model template sees it as one value per example.

    Parameters
    ----------
    name
        The name (a keras output or input of that name takes it).
    array
        numpy-like values, examples first.
    conditions
        Labels of the last axis (its length must match).

    Examples
    --------
    >>> import numpy as np
    >>> y = Array("y", np.array([1, 0, 1]))
    >>> y.shape, y[0:2], len(y)
    ((3,), array([1, 0]), 3)
    """

    __slots__ = ()

    def __init__(self, name: str, array: Any, conditions: Sequence[str] | None = None) -> None:
        if not isinstance(name, str):
            raise TypeError(f"name must be a string, got {type(name).__name__}")
        values = np.asarray(array)
        if values.ndim == 0:
            raise InputError("Array needs at least one axis (the examples)", source="Array")
        coords: dict[str, Any] = {}
        if conditions is not None:
            conditions = [str(c) for c in conditions]
            if values.ndim < 2 or len(conditions) != values.shape[-1]:
                raise InputError(
                    f"{len(conditions)} conditions for an array of shape {values.shape}; "
                    "the last axis must have one entry per condition",
                    source="Array",
                )
            coords[model.CONDITION] = np.array(conditions, dtype=object)
        dims = _array_dims(values.ndim, conditions is not None)
        xr.DataArray.__init__(self, values, dims=dims, coords=coords, name=name)
