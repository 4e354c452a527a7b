"""Janggu's dataset wrappers: ``ReduceDim``, ``SqueezeDim``, ``Transpose``,
``NanToNumConverter``, ``RandomOrientation``, ``RandomSignalScale``, ``RandomShift``.

Each wrapper is a :class:`~genomarray.compat.base.Dataset`: a DataArray holding the
wrapped dataset's values transformed (lazily where the dataset is lazy), with Janggu's
indexing, shape and ``str`` (``ReduceDim(Cover("peaks"))``). The wrapper is recorded in
``attrs``, so :func:`genomarray.compat.view` of a wrapped dataset gives the same wrapper
over the new regions (Janggu's ``view`` kept the wrapper too).

The random wrappers (orientation, scaling, shift) draw, like Janggu's, from numpy's global
random state at every access (``x[idx]``, ``np.asarray(x)``, each training batch); their
DataArray values are the unchanged ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import xarray as xr

from genomarray import model
from genomarray.compat.base import Dataset, plain, record_wrapper, wrappers_of
from genomarray.errors import InputError

AGGREGATORS = ("sum", "mean", "max")
"""Janggu's named ``ReduceDim`` aggregators (a function ``f(x, axis=...)`` works too)."""


def _init(obj: Dataset, x: xr.DataArray) -> None:
    xr.DataArray.__init__(
        obj, x.variable, x._coords, name=x.name, indexes=x._indexes, fastpath=True
    )


def _dataset(array: Any, wrapper: str) -> xr.DataArray:
    if not isinstance(array, xr.DataArray):
        raise InputError(
            f"{wrapper} wraps a dataset (Cover, Bioseq, Array or another wrapper), got "
            f"{type(array).__name__}",
            source=wrapper,
        )
    return array


def _axes(array: xr.DataArray, axis: Any, wrapper: str) -> list[int]:
    axes = [axis] if isinstance(axis, int | np.integer) else list(axis)
    ndim = array.ndim
    out = []
    for a in axes:
        a = int(a)
        if not -ndim < a < ndim or a % ndim == 0:
            raise InputError(
                f"axis {a} is not a non-example axis of a {ndim}-d dataset "
                f"(dims {tuple(array.dims)})",
                source=wrapper,
            )
        out.append(a % ndim)
    return out


class ReduceDim(Dataset):
    """Janggu's ``ReduceDim(array, aggregator=None, axis=None)``: reduce axes.

    ``aggregator`` is ``"sum"`` (default), ``"mean"``, ``"max"`` or ``f(x, axis=...)``;
    ``axis`` the axes to reduce (default ``(1, 2)``: length and strand), so a
    ``(N, L, S, C)`` Cover becomes ``(N, C)`` and a Bioseq ``(N, 4**order)`` k-mer counts.

    Examples
    --------
    >>> import genomarray as ga
    >>> from genomarray.compat import Cover
    >>> y = Cover.create_from_bed("peaks", ga.example_path("peaks.narrowPeak"),
    ...                           roi=ga.example_path("roi.bed"), binsize=200, resolution=200)
    >>> r = ReduceDim(y)
    >>> r.shape, str(r), r[0].shape
    ((230, 1), 'ReduceDim(Cover("peaks"))', (1, 1))
    """

    __slots__ = ()

    def __init__(self, array: Any, aggregator: Any = None, axis: Any = None) -> None:
        from genomarray.transforms.shape import reduce_dim

        array = _dataset(array, "ReduceDim")
        how = "sum" if aggregator is None else aggregator
        if isinstance(how, str) and how not in AGGREGATORS:
            raise ValueError(f'ReduceDim: aggregator must be one of {AGGREGATORS}, got "{how}"')
        if not isinstance(how, str) and not callable(how):
            raise ValueError(f"ReduceDim: unknown aggregator {how!r}")
        axes = _axes(array, (1, 2) if axis is None else axis, "ReduceDim")
        source = plain(array)
        dims = [source.dims[a] for a in axes]
        out = reduce_dim(source, dims, how=how)
        record_wrapper(
            out,
            array,
            "ReduceDim",
            aggregator=how if isinstance(how, str) else None,
            axis=axes,
            callable=not isinstance(how, str),
        )
        _init(self, out)

    @property
    def aggregator(self) -> str | None:
        """The aggregator's name (None for a function)."""
        return wrappers_of(self)[-1][1]["aggregator"]

    @property
    def axis(self) -> tuple[int, ...]:
        """The reduced axes of the wrapped dataset."""
        return tuple(wrappers_of(self)[-1][1]["axis"])


class SqueezeDim(Dataset):
    """Janggu's ``SqueezeDim(array, axis=None)``: drop size-1 axes.

    ``axis=None`` drops every size-1 axis but the examples (in a batch, numpy's
    ``np.squeeze`` drops the example axis of a one-example batch too, as Janggu's did).

    Examples
    --------
    >>> import numpy as np
    >>> from genomarray.compat import Array
    >>> s = SqueezeDim(Array("y", np.zeros((5, 1))))
    >>> s.shape, s[0:2].shape
    ((5,), (2,))
    """

    __slots__ = ()

    def __init__(self, array: Any, axis: Any = None) -> None:
        array = _dataset(array, "SqueezeDim")
        source = plain(array)
        if axis is None:
            dims = [d for d in source.dims[1:] if source.sizes[d] == 1]
            axes = None
        else:
            axes = _axes(source, axis, "SqueezeDim")
            dims = [source.dims[a] for a in axes]
            bad = [d for d in dims if source.sizes[d] != 1]
            if bad:
                raise ValueError(f"SqueezeDim: cannot squeeze the axes {bad} of size > 1")
        out = source.squeeze(dims, drop=True) if dims else source.copy()
        record_wrapper(out, array, "SqueezeDim", axis=axes)
        _init(self, out)

    def finish_batch(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values)
        whole = wrappers_of(self)[-1][1]["axis"] is None  # np.squeeze: the batch axis too
        return np.squeeze(values, axis=0) if whole and values.shape[:1] == (1,) else values


class Transpose(Dataset):
    """Janggu's ``Transpose(array, axis)``: permute the axes (``axis[0]`` must be 0).

    Examples
    --------
    >>> import numpy as np
    >>> from genomarray.compat import Array
    >>> Transpose(Array("x", np.zeros((4, 3, 2))), axis=(0, 2, 1)).shape
    (4, 2, 3)
    """

    __slots__ = ()

    def __init__(self, array: Any, axis: Sequence[int]) -> None:
        array = _dataset(array, "Transpose")
        source = plain(array)
        perm = [int(a) for a in axis]
        if sorted(perm) != list(range(source.ndim)) or perm[0] != 0:
            raise ValueError(
                f"Transpose: axis must permute the {source.ndim} axes keeping the example "
                f"axis first, got {tuple(axis)}"
            )
        out = source.transpose(*[source.dims[a] for a in perm])
        record_wrapper(out, array, "Transpose", axis=perm)
        _init(self, out)


class NanToNumConverter(Dataset):
    """Janggu's ``NanToNumConverter(array)``: NaN to 0 (and infinities to the largest
    finite numbers), as ``np.nan_to_num``.

    Examples
    --------
    >>> import numpy as np
    >>> from genomarray.compat import Array
    >>> NanToNumConverter(Array("x", np.array([[np.nan], [1.0]])))[:].ravel().tolist()
    [0.0, 1.0]
    """

    __slots__ = ()

    def __init__(self, array: Any) -> None:
        array = _dataset(array, "NanToNumConverter")
        source = plain(array)
        out = source.copy(data=np.nan_to_num(source.data))
        record_wrapper(out, array, "NanToNumConverter")
        _init(self, out)


class _Random(Dataset):
    __slots__ = ()

    def _augment(self, values: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def finish_batch(self, values: np.ndarray) -> np.ndarray:
        return self._augment(np.array(values))


def _four_d(array: xr.DataArray, wrapper: str) -> None:
    if array.ndim != 4:
        raise ValueError(
            f"{wrapper} needs a 4-d dataset (region, length, strand, condition), got dims "
            f"{tuple(array.dims)}"
        )


class RandomOrientation(_Random):
    """Janggu's ``RandomOrientation(array)``: each example turned to the other strand with
    probability 1/2 (numpy's global random state).

    Coverage is reversed along the length with its strands swapped, as Janggu did; a
    one-hot sequence (Bioseq) is **reverse-complemented** (Janggu only reversed it, which
    is not the other strand's sequence; see ``docs/migration.md``).

    Examples
    --------
    >>> import numpy as np, genomarray as ga
    >>> from genomarray.compat import Bioseq
    >>> x = Bioseq.create_from_seq("s", ga.example_path("seqs.fa"))
    >>> np.random.seed(0)
    >>> batch = RandomOrientation(x)[0:4]
    >>> batch.shape, bool((batch.sum(axis=-1) <= 1).all())
    ((4, 200, 1, 4), True)
    """

    __slots__ = ()

    def __init__(self, array: Any) -> None:
        array = _dataset(array, "RandomOrientation")
        _four_d(array, "RandomOrientation")
        out = plain(array).copy()
        record_wrapper(out, array, "RandomOrientation")
        _init(self, out)

    def _augment(self, values: np.ndarray) -> np.ndarray:
        from genomarray.encode import revcomp_permutation

        onehot = model.BASE in self.dims
        perm = None
        if onehot:
            order = int(self.attrs.get(model.ORDER, 1))
            perm = np.asarray(revcomp_permutation(order))
        for i in range(len(values)):
            if np.random.randint(2) == 1:  # noqa: NPY002 - Janggu drew from numpy's global state
                turned = values[i, ::-1, ::-1]
                values[i] = turned[..., perm] if perm is not None else turned
        return values


class RandomSignalScale(_Random):
    """Janggu's ``RandomSignalScale(array, deviance)``: each (example, condition) scaled
    by a factor drawn uniformly from ``[1 - deviance, 1 + deviance]`` (as Janggu's
    docstring says; its code drew from another range, see ``docs/migration.md``).

    Examples
    --------
    >>> import numpy as np
    >>> from genomarray.compat import Array
    >>> x = Array("x", np.ones((3, 2, 1, 2)))
    >>> np.random.seed(1)
    >>> v = RandomSignalScale(x, 0.1)[:]
    >>> bool(((v >= 0.9) & (v <= 1.1)).all()), bool((v[:, 0] == v[:, 1]).all())
    (True, True)
    """

    __slots__ = ()

    def __init__(self, array: Any, deviance: float) -> None:
        array = _dataset(array, "RandomSignalScale")
        _four_d(array, "RandomSignalScale")
        if not 0 <= float(deviance) < 1:
            raise ValueError(f"RandomSignalScale: deviance must be in [0, 1), got {deviance!r}")
        out = plain(array).copy()
        record_wrapper(out, array, "RandomSignalScale", deviance=float(deviance))
        _init(self, out)

    def _augment(self, values: np.ndarray) -> np.ndarray:
        d = float(wrappers_of(self)[-1][1]["deviance"])
        scale = 1.0 + np.random.uniform(-d, d, size=(len(values), 1, 1, values.shape[-1]))  # noqa: NPY002 - Janggu drew from numpy's global state
        return values * scale


class RandomShift(_Random):
    """Janggu's ``RandomShift(array, shift, batchwise=False)``: each example (or the whole
    batch) shifted along the length by a number of positions drawn from
    ``[-shift, shift]`` (Janggu: ``[-shift, shift - 1]``), the uncovered end filled with 0
    (an unknown base for one-hot).

    Examples
    --------
    >>> import numpy as np
    >>> from genomarray.compat import Array
    >>> x = Array("x", np.arange(10.0).reshape(1, 10, 1, 1))
    >>> np.random.seed(0)
    >>> RandomShift(x, 2)[0].ravel().tolist()
    [0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    """

    __slots__ = ()

    def __init__(self, array: Any, shift: int, batchwise: bool = False) -> None:
        array = _dataset(array, "RandomShift")
        if array.ndim < 2:
            raise ValueError("RandomShift needs a dataset with a length axis")
        if isinstance(shift, bool) or not isinstance(shift, int | np.integer) or shift < 0:
            raise ValueError(f"RandomShift: shift must be a non-negative integer, got {shift!r}")
        out = plain(array).copy()
        record_wrapper(out, array, "RandomShift", shift=int(shift), batchwise=bool(batchwise))
        _init(self, out)

    def _augment(self, values: np.ndarray) -> np.ndarray:
        args = wrappers_of(self)[-1][1]
        shift, batchwise = int(args["shift"]), bool(args["batchwise"])
        if shift == 0 or not len(values):
            return values
        draws = (
            np.repeat(np.random.randint(-shift, shift + 1), len(values))  # noqa: NPY002 - Janggu drew from numpy's global state
            if batchwise
            else np.random.randint(-shift, shift + 1, size=len(values))  # noqa: NPY002 - Janggu drew from numpy's global state
        )
        out = np.zeros_like(values)
        n = values.shape[1]
        for i, s in enumerate(draws):
            s = int(s)
            if s >= 0:
                out[i, s:] = values[i, : n - s]
            else:
                out[i, : n + s] = values[i, -s:]
        return out


WRAPPERS: dict[str, Callable[..., Dataset]] = {
    "ReduceDim": lambda x, aggregator=None, axis=None, callable=False: ReduceDim(
        x, aggregator, axis
    ),
    "SqueezeDim": lambda x, axis=None: SqueezeDim(x, axis),
    "Transpose": lambda x, axis: Transpose(x, axis),
    "NanToNumConverter": lambda x: NanToNumConverter(x),
    "RandomOrientation": lambda x: RandomOrientation(x),
    "RandomSignalScale": lambda x, deviance: RandomSignalScale(x, deviance),
    "RandomShift": lambda x, shift, batchwise=False: RandomShift(x, shift, batchwise),
}
"""The wrappers by name, called with the arguments recorded in ``attrs`` (for ``view``)."""
