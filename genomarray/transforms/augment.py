"""Data augmentation: orientation flip, signal scaling and random shifts.

One set of numpy kernels serves two paths:

- **per batch**, the training hot path (plain numpy, no dask or xarray): an
  :class:`ArraySpec` built once per input and output array says how to treat it, and
  :func:`augment_batch` draws the random parameters once per example and applies the *same*
  draw to every array of that example (sequence, coverage and labels stay consistent);
- **on DataArrays** (:func:`augment`, :func:`augment_dataset`), lazy on dask through
  ``map_blocks``. Each region's draw depends only on ``(random_state, region index)``
  (the counter-based :class:`RegionRandom`), so chunking never changes the result and every
  variable of a Dataset gets the same draws.

What each augmentation does to each kind of array
-------------------------------------------------
=============  ================================  ===================  ==================
``kind``       ``flip``                          ``scale``            ``shift``
=============  ================================  ===================  ==================
one-hot        reverse complement: positions     no                   yes, all-zero rows
               reversed, channels permuted by
               ``revcomp_permutation(order)``
codes          reverse complement of the codes   never                yes, ``N`` code
coverage       positions reversed, ``+`` and     yes                  yes, fill value (0)
               ``-`` swapped (if stranded)
per region     ``+`` and ``-`` swapped if        no                   unchanged
               stranded, else unchanged
=============  ================================  ===================  ==================

``scale`` applies to arrays whose spec has ``scale=True``: by default coverage views,
except binary and categorical interval tracks (labels). Ask for it on any other array
(not codes) with ``ArraySpec.of(arr, scale=True)``, or turn it off for a coverage target
with ``scale=False``. A per-region array is one whose ``pos`` has size 1 (or that has no
``pos``): its window has no positions to reverse or shift. Flipping still swaps its
strands, so a stranded per-region target stays true to the flipped input.

Shifts
------
A shift of ``t`` bp moves the content of a window towards higher ``pos``:
``out[j] = in[j - t]``, as if the window had been cut ``t`` bp further left; the positions
uncovered at the other end get the array's fill value. ``t`` is drawn once per example,
in bp, and converted to each array's resolution by rounding **toward zero**
(``int(t / resolution)``: 7 bp is 1 bin of 5 bp, -7 bp is -1 bin), so a coarser array
moves up to ``resolution - 1`` bp less than a 1 bp one; draw shifts in multiples of the
coarsest resolution (``Shift(max_bp, step=resolution)``) to keep them exactly aligned.

Augmenting codes, then one-hot encoding, gives exactly the one-hot augmented (any order,
flips and shifts alike): an adapter that one-hot encodes per batch should augment the
small uint8 codes first (a one-hot of order 3 is 64 times bigger to move).

Signal scaling draws its factor uniformly from ``[1 - d, 1 + d]`` (Janggu documents this
range but draws from a different one).

Examples
--------
>>> import numpy as np
>>> from genomarray.encode import decode, encode, onehot
>>> spec = ArraySpec(kind=ONEHOT, order=1)
>>> x = onehot(encode("AACG"))[None]
>>> y = augment_batch({"dna": x}, {"dna": spec}, Flip(p=1.0), np.random.default_rng(0))
>>> decode(y["dna"][0].argmax(-1))
'CGTT'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr
from dask.base import tokenize

from genomarray import model
from genomarray.errors import InputError
from genomarray.genome.compute import rechunk
from genomarray.transforms.augment_fns import (
    CODES,
    COVERAGE,
    KINDS,
    ONEHOT,
    PER_REGION,
    ArraySpec,
    Random,
    RegionRandom,
    flip_batch,
    rng_of,
    scale_batch,
    scaled_dtype,
    seed_of,
    shift_batch,
    specs_of,
)

NAMES = ("flip", "scale", "shift")
"""Augmentations accepted by name (see :func:`as_augmentation`)."""


Params = Any
"""Random parameters of a batch: a dict of per-example numpy arrays (a tuple of them for
:class:`Compose`)."""


# -- augmentation objects -----------------------------------------------------------------
class Augmentation:
    """Base class: ``draw`` random parameters for ``n`` examples, ``apply`` them to a batch.

    ``draw`` may only call ``rng.random(n)`` (so that :class:`RegionRandom` can stand in for
    a :class:`numpy.random.Generator`), exactly once per leaf augmentation.
    """

    def draw(self, n: int, rng: Random) -> Params:
        """Random parameters of ``n`` examples."""
        raise NotImplementedError

    def apply(self, batch: np.ndarray, params: Params, spec: ArraySpec) -> np.ndarray:
        """Apply drawn ``params`` to ``batch`` (axis 0: examples), treated as ``spec`` says."""
        raise NotImplementedError

    def out_dtype(self, dtype: np.dtype, spec: ArraySpec) -> np.dtype:
        """Dtype of ``apply`` on an array of ``dtype`` (for lazy results)."""
        return np.dtype(dtype)


@dataclass(frozen=True)
class Flip(Augmentation):
    """Flip the orientation of each example with probability ``p`` (see :func:`flip_batch`).

    Examples
    --------
    >>> import numpy as np
    >>> Flip(p=1.0).draw(3, np.random.default_rng(0))["flip"].tolist()
    [True, True, True]
    """

    p: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.p) <= 1.0:
            raise InputError(f"flip probability must lie in [0, 1], got {self.p!r}", source="flip")

    def draw(self, n: int, rng: Random) -> Params:
        """``{"flip": bool mask}``."""
        return {"flip": rng.random(n) < self.p}

    def apply(self, batch: np.ndarray, params: Params, spec: ArraySpec) -> np.ndarray:
        """Flip the examples whose mask is set."""
        return flip_batch(batch, spec, params["flip"])


@dataclass(frozen=True)
class Scale(Augmentation):
    """Multiply scaled arrays by a factor drawn uniformly from ``[1 - d, 1 + d]``.

    Examples
    --------
    >>> import numpy as np
    >>> f = Scale(0.2).draw(10_000, np.random.default_rng(0))["scale"]
    >>> bool(f.min() >= 0.8 and f.max() <= 1.2)
    True
    """

    d: float = 0.1

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.d) < 1.0:
            raise InputError(
                f"scale d must lie in [0, 1) (factors in [1 - d, 1 + d]), got {self.d!r}",
                source="scale",
            )

    def draw(self, n: int, rng: Random) -> Params:
        """``{"scale": factors}``."""
        return {"scale": 1.0 - self.d + 2.0 * self.d * rng.random(n)}

    def apply(self, batch: np.ndarray, params: Params, spec: ArraySpec) -> np.ndarray:
        """Scale the batch if ``spec.scale``."""
        return scale_batch(batch, spec, params["scale"])

    def out_dtype(self, dtype: np.dtype, spec: ArraySpec) -> np.dtype:
        """float32 for scaled integer arrays, else unchanged."""
        return scaled_dtype(dtype) if spec.scale else np.dtype(dtype)


@dataclass(frozen=True)
class Shift(Augmentation):
    """Shift by a whole number of ``step`` bp drawn uniformly from ``[-max_bp, max_bp]``.

    Examples
    --------
    >>> import numpy as np
    >>> s = Shift(10, step=5).draw(1000, np.random.default_rng(0))["shift"]
    >>> sorted(set(s.tolist()))
    [-10, -5, 0, 5, 10]
    """

    max_bp: int = 10
    step: int = 1

    def __post_init__(self) -> None:
        for name, value, low in (("shift", self.max_bp, 0), ("step", self.step, 1)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
                raise InputError(
                    f"{name} must be an integer >= {low} (bp), got {value!r}", source="shift"
                )

    def draw(self, n: int, rng: Random) -> Params:
        """``{"shift": shifts in bp}`` (int64)."""
        k = int(self.max_bp) // int(self.step)
        steps = np.floor(rng.random(n) * (2 * k + 1)).astype(np.int64) - k
        return {"shift": steps * int(self.step)}

    def apply(self, batch: np.ndarray, params: Params, spec: ArraySpec) -> np.ndarray:
        """Shift the batch (converted to the array's resolution)."""
        return shift_batch(batch, spec, params["shift"])


class Compose(Augmentation):
    """Several augmentations in turn; each draws its parameters once per example.

    Parameters
    ----------
    augmentations
        :class:`Augmentation` objects or names (``"flip"``, ``"scale"``, ``"shift"`` with
        their default settings).

    Examples
    --------
    >>> Compose(["flip", Scale(0.2)])
    Compose([Flip(p=0.5), Scale(d=0.2)])
    """

    def __init__(self, augmentations: Sequence[Augmentation | str]) -> None:
        self.augmentations = tuple(as_augmentation(a) for a in augmentations)

    def __repr__(self) -> str:
        return f"Compose([{', '.join(repr(a) for a in self.augmentations)}])"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Compose) and other.augmentations == self.augmentations

    def __hash__(self) -> int:
        return hash(self.augmentations)

    def draw(self, n: int, rng: Random) -> Params:
        """A tuple of each augmentation's parameters, drawn in order."""
        return tuple(a.draw(n, rng) for a in self.augmentations)

    def apply(self, batch: np.ndarray, params: Params, spec: ArraySpec) -> np.ndarray:
        """Apply each augmentation in order."""
        for a, p in zip(self.augmentations, params, strict=True):
            batch = a.apply(batch, p, spec)
        return batch

    def out_dtype(self, dtype: np.dtype, spec: ArraySpec) -> np.dtype:
        """Dtype after every augmentation."""
        for a in self.augmentations:
            dtype = a.out_dtype(dtype, spec)
        return np.dtype(dtype)


def as_augmentation(
    augmentation: Augmentation | str | Sequence[Augmentation | str] | None,
    *,
    scale: float = 0.1,
    shift: int = 10,
    p: float = 0.5,
) -> Augmentation:
    """Turn a name, a list of names/objects, or None into an :class:`Augmentation`.

    Parameters
    ----------
    augmentation
        ``"flip"``, ``"scale"``, ``"shift"``, an :class:`Augmentation`, a list of these
        (composed in order), or None (no augmentation).
    scale
        ``d`` of a ``"scale"`` given by name (factors in ``[1 - d, 1 + d]``).
    shift
        Largest shift in bp of a ``"shift"`` given by name.
    p
        Flip probability of a ``"flip"`` given by name.

    Examples
    --------
    >>> as_augmentation(["flip", "shift"], shift=20)
    Compose([Flip(p=0.5), Shift(max_bp=20, step=1)])
    >>> as_augmentation("rotate")
    Traceback (most recent call last):
    ...
    genomarray.errors.InputError: augment: unknown augmentation 'rotate'; expected one of ['flip', 'scale', 'shift'], an Augmentation, or a list of them
    """  # noqa: E501
    if isinstance(augmentation, Augmentation):
        return augmentation
    if augmentation is None:
        return Compose([])
    if isinstance(augmentation, str):
        makers: dict[str, Callable[[], Augmentation]] = {
            "flip": lambda: Flip(p),
            "scale": lambda: Scale(scale),
            "shift": lambda: Shift(shift),
        }
        if augmentation not in makers:
            raise InputError(
                f"unknown augmentation {augmentation!r}; expected one of "
                f"{list(NAMES)}, an Augmentation, or a list of them",
                source="augment",
            )
        return makers[augmentation]()
    if isinstance(augmentation, Sequence):
        return Compose([as_augmentation(a, scale=scale, shift=shift, p=p) for a in augmentation])
    raise InputError(
        f"cannot use {augmentation!r} as an augmentation; expected one of "
        f"{list(NAMES)}, an Augmentation, or a list of them",
        source="augment",
    )


# -- per batch ----------------------------------------------------------------------------
def augment_batch(
    batch: Mapping[str, np.ndarray],
    specs: Mapping[str, ArraySpec],
    augmentation: Augmentation | str | Sequence[Augmentation | str],
    rng: Random | int | None = None,
    *,
    params: Params | None = None,
) -> dict[str, np.ndarray]:
    """Augment one batch: draw once per example, apply the same draw to every array.

    The hot path of a training adapter: plain numpy in, plain numpy out, no dask.

    Parameters
    ----------
    batch
        ``{name: array}``, axis 0 = the batch's examples, laid out as the specs say.
    specs
        ``{name: ArraySpec}`` for every array in ``batch`` (built once, see
        :func:`specs_of`).
    augmentation
        An :class:`Augmentation`, a name or a list (see :func:`as_augmentation`).
    rng
        A :class:`numpy.random.Generator`, a :class:`RegionRandom` (to reproduce
        :func:`augment` of the same seed: pass the examples' region indices) or a seed.
    params
        Parameters drawn beforehand (``augmentation.draw``); then ``rng`` is unused.

    Returns
    -------
    dict
        ``{name: augmented array}``; input arrays are never modified.

    Examples
    --------
    >>> import numpy as np
    >>> specs = {"x": ArraySpec(kind=COVERAGE), "y": ArraySpec(kind=PER_REGION,
    ...                                                        pos_axis=None)}
    >>> out = augment_batch({"x": np.arange(4.0)[None], "y": np.ones((1, 1))}, specs,
    ...                     Flip(p=1.0), rng=0)
    >>> out["x"], out["y"]
    (array([[3., 2., 1., 0.]]), array([[1.]]))
    """
    aug = as_augmentation(augmentation)
    missing = [k for k in batch if k not in specs]
    if missing:
        raise InputError(
            f"no ArraySpec for {missing}; specs are given for {list(specs)}", source="augment_batch"
        )
    sizes = {k: np.shape(v)[0] for k, v in batch.items()}
    if len(set(sizes.values())) > 1:
        raise InputError(
            f"arrays of one batch hold different numbers of examples: {sizes}",
            source="augment_batch",
        )
    n = next(iter(sizes.values()), 0)
    if params is None:
        params = aug.draw(n, rng_of(rng))
    return {k: aug.apply(np.asarray(v), params, specs[k]) for k, v in batch.items()}


# -- DataArrays -----------------------------------------------------------------------------
def _map_regions(
    arr: xr.DataArray,
    fn: Callable[[np.ndarray, int, int], np.ndarray],
    dtype: np.dtype,
    label: str,
    *key: Any,
) -> Any:
    """Apply ``fn(block, first_region, stop_region)`` to region blocks (lazy on dask).

    The dask name is ``label`` plus a token of the input and ``key`` (everything ``fn``
    depends on), so it never relies on tokenizing a closure."""
    data = arr.data
    if not isinstance(data, da.Array):
        return fn(np.asarray(data), 0, arr.shape[0])
    data = rechunk(data, {i: -1 for i in range(1, data.ndim)})

    def block(x: np.ndarray, block_info: dict | None = None) -> np.ndarray:
        r0, r1 = block_info[0]["array-location"][0]
        return fn(x, r0, r1)

    name = f"{label}-{tokenize(data.name, *key)}"
    return data.map_blocks(block, dtype=dtype, meta=np.empty((0,) * data.ndim, dtype), name=name)


def augment(
    arr: xr.DataArray,
    augmentation: Augmentation | str | Sequence[Augmentation | str] = "flip",
    random_state: int | np.random.Generator | None = None,
    *,
    spec: ArraySpec | None = None,
    **options: Any,
) -> xr.DataArray:
    """Augment every region of a view with its own random draw; lazy on dask.

    Region ``i`` is augmented with the draw of ``RegionRandom(seed, [i])``: the result
    depends on ``random_state`` and the region's index only, never on the chunking, and
    equals :func:`augment_batch` with ``rng=RegionRandom(seed, range(n))``.

    Parameters
    ----------
    arr
        A view with ``region`` first (one-hot, codes, coverage or per-region).
    augmentation
        An :class:`Augmentation`, a name or a list (see :func:`as_augmentation`).
    random_state
        Seed (int) for reproducible draws; a Generator or None draws a seed.
    spec
        How to treat ``arr`` (default ``ArraySpec.of(arr)``).
    **options
        ``scale=``, ``shift=``, ``p=`` for augmentations given by name.

    Returns
    -------
    xarray.DataArray
        Same dims, coordinates and attrs (plus ``attrs["augmentation"]``); coordinates are
        not changed (a flipped region keeps its ``region_strand``).

    Examples
    --------
    >>> import genomarray as ga
    >>> x = ga.onehot(ga.read_sequences(ga.example_path("seqs.fa")))
    >>> a = augment(x, ["flip", "shift"], random_state=1, shift=5)
    >>> b = augment(x.chunk({"region": 7}), ["flip", "shift"], random_state=1, shift=5)
    >>> bool((a == b).all())
    True
    """
    aug = as_augmentation(augmentation, **options)
    spec = ArraySpec.of(arr) if spec is None else spec
    seed = seed_of(random_state)
    dtype = aug.out_dtype(arr.dtype, spec)

    def fn(x: np.ndarray, r0: int, r1: int) -> np.ndarray:
        params = aug.draw(r1 - r0, RegionRandom(seed, np.arange(r0, r1)))
        return aug.apply(x, params, spec).astype(dtype, copy=False)

    out = arr.copy(data=_map_regions(arr, fn, dtype, "augment", repr(aug), seed, spec))
    out.attrs[model.AUGMENTATION] = f"{aug!r}, random_state={seed}"
    if spec.scale and _scales(aug):
        from genomarray.transforms.normalize import invalidate

        out = invalidate(out, "signal scaling")
    return out


def _scales(aug: Augmentation) -> bool:
    """Whether ``aug`` (or a part of a Compose) scales the signal."""
    if isinstance(aug, Compose):
        return any(_scales(a) for a in aug.augmentations)
    return isinstance(aug, Scale)


def _is_view(var: xr.DataArray) -> bool:
    return bool(var.dims) and var.dims[0] == model.REGION


def _each(
    obj: xr.Dataset | Mapping[str, xr.DataArray], fn: Callable[[str, xr.DataArray], xr.DataArray]
) -> Any:
    """Apply ``fn`` to every view of a Dataset or a mapping; keep the other variables."""
    if isinstance(obj, xr.Dataset):
        return xr.Dataset(
            {n: fn(str(n), v) if _is_view(v) else v for n, v in obj.data_vars.items()},
            attrs=obj.attrs,
        )
    return {n: fn(str(n), v) if _is_view(v) else v for n, v in obj.items()}


def augment_dataset(
    ds: xr.Dataset | Mapping[str, xr.DataArray],
    augmentation: Augmentation | str | Sequence[Augmentation | str] = "flip",
    random_state: int | np.random.Generator | None = None,
    *,
    specs: Mapping[str, ArraySpec] | None = None,
    **options: Any,
) -> xr.Dataset | dict[str, xr.DataArray]:
    """Augment every view of a Dataset (or a dict of views) with the same per-region draws.

    Variables with ``region`` as first dim are augmented (region ``i`` of each gets the
    same flip, factor and shift in bp); other variables are kept. Views of different
    lengths or resolutions do not fit one Dataset (xarray aligns their ``pos``, padding
    with NaN): pass them as a dict, which gives a dict back.

    Examples
    --------
    >>> import genomarray as ga, xarray as xr
    >>> seqs = ga.read_sequences(ga.example_path("seqs.fa"))
    >>> ds = augment_dataset(xr.Dataset({"x": ga.onehot(seqs), "s": seqs}), "flip", 0)
    >>> bool((ga.onehot(ds["s"]) == ds["x"]).all())
    True
    """
    aug = as_augmentation(augmentation, **options)
    seed = seed_of(random_state)
    specs = dict(specs or {})
    return _each(ds, lambda name, var: augment(var, aug, seed, spec=specs.get(name)))


def _swap_strands(values: np.ndarray) -> np.ndarray:
    swap = {"+": "-", "-": "+"}
    return np.array([swap.get(str(s), str(s)) for s in values], dtype=object)


def _flip_array(arr: xr.DataArray) -> xr.DataArray:
    spec = ArraySpec.of(arr)
    data = _map_regions(arr, lambda x, r0, r1: flip_batch(x, spec), arr.dtype, "flip", spec)
    out = arr.copy(data=data)
    if model.REGION_STRAND in arr.coords:
        out = out.assign_coords(
            {model.REGION_STRAND: (model.REGION, _swap_strands(arr[model.REGION_STRAND].values))}
        )
    return out


def flip(arr: xr.DataArray | xr.Dataset | Mapping[str, xr.DataArray]) -> Any:
    """Flip the orientation of every region; ``region_strand`` swaps (``+`` <-> ``-``).

    One-hot (any order) and codes are reverse-complemented, coverage reversed with strands
    swapped, per-region arrays only have their strands swapped (see the module table).
    On a Dataset (or a dict) every variable with ``region`` first is flipped. Lazy on
    dask.

    Examples
    --------
    >>> import genomarray as ga
    >>> x = ga.onehot(ga.read_sequences(ga.example_path("seqs.fa")), order=2)
    >>> bool((flip(flip(x)) == x).all()), bool((flip(x) == ga.revcomp(x)).all())
    (True, True)
    """
    if isinstance(arr, xr.DataArray):
        return _flip_array(arr)
    return _each(arr, lambda name, var: _flip_array(var))


def with_reverse_complement(arr: xr.DataArray | xr.Dataset | Mapping[str, xr.DataArray]) -> Any:
    """Double the data with the flipped copy of every region (Janggu's ``ReverseComplement``
    wrapper: training on both strands).

    The first ``n`` regions are the originals, the next ``n`` their flipped copies in the
    same order (:func:`flip`), with the same region coordinates except ``region_strand``,
    which is swapped. Apply it to inputs and labels alike (a Dataset or a dict doubles
    every variable with ``region`` first): per-region labels are repeated (strands
    swapped).

    Examples
    --------
    >>> import genomarray as ga
    >>> x = ga.onehot(ga.read_sequences(ga.example_path("seqs.fa")))
    >>> d = with_reverse_complement(x)
    >>> d.sizes["region"], list(d.region_strand.values[[0, 30]])
    (60, ['+', '-'])
    """
    if not isinstance(arr, xr.DataArray):
        return _each(arr, lambda name, var: with_reverse_complement(var))
    n = arr.sizes[model.REGION]
    flipped = _flip_array(arr)
    doubled = arr.isel({model.REGION: np.concatenate([np.arange(n), np.arange(n)])})
    if isinstance(arr.data, da.Array):
        data = da.concatenate([arr.data, flipped.data], axis=0)
    else:
        data = np.concatenate([np.asarray(arr.data), np.asarray(flipped.data)], axis=0)
    out = doubled.copy(data=data)
    if model.REGION_STRAND in arr.coords:
        strands = np.concatenate(
            [arr[model.REGION_STRAND].values.astype(object), flipped[model.REGION_STRAND].values]
        )
        out = out.assign_coords({model.REGION_STRAND: (model.REGION, strands)})
    return out


__all__ = [
    "CODES",
    "COVERAGE",
    "KINDS",
    "NAMES",
    "ONEHOT",
    "PER_REGION",
    "ArraySpec",
    "Augmentation",
    "Compose",
    "Flip",
    "RegionRandom",
    "Scale",
    "Shift",
    "as_augmentation",
    "augment",
    "augment_batch",
    "augment_dataset",
    "flip",
    "flip_batch",
    "scale_batch",
    "shift_batch",
    "specs_of",
    "with_reverse_complement",
]
