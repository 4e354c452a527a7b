"""Numpy kernels of the augmentations: the per-batch hot path (no dask, no xarray).

An :class:`ArraySpec`, built once per array, says how to treat a batch; :func:`flip_batch`,
:func:`shift_batch` and :func:`scale_batch` apply one draw per example; :class:`RegionRandom`
draws per region from ``(seed, region index)`` so that chunking never changes a result. The
table of what each augmentation does to each kind of array is in
:mod:`genomarray.transforms.augment`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from genomarray import encode, model
from genomarray.errors import InputError

ONEHOT = "onehot"


CODES = "codes"


COVERAGE = "coverage"


PER_REGION = "per_region"


KINDS = (ONEHOT, CODES, COVERAGE, PER_REGION)
"""The kinds of array an :class:`ArraySpec` distinguishes."""


# -- how to treat an array ----------------------------------------------------------------
@dataclass(frozen=True)
class ArraySpec:
    """How augmentations treat one array: built once (:meth:`of`), used on every batch.

    Axes refer to the numpy batch, whose axis 0 is ``region`` (one example per row).

    Attributes
    ----------
    kind
        ``"onehot"``, ``"codes"``, ``"coverage"`` or ``"per_region"``.
    pos_axis
        Axis of ``pos`` (None for a per-region array without ``pos``).
    base_axis
        Axis of the one-hot channels (one-hot only).
    strand_axis
        Axis of a *stranded* ``strand`` dim (size 2: ``+``, ``-``); None when unstranded.
    order
        One-hot k-mer order.
    alphabet
        ``"dna"`` or ``"protein"`` (only DNA can be flipped).
    resolution
        bp per ``pos`` step (None for per-region arrays: never shifted).
    fill
        Padding value of shifts: the unknown code for codes, 0 otherwise.
    scale
        Whether :class:`Scale` multiplies this array.

    Examples
    --------
    >>> import genomarray as ga
    >>> seqs = ga.read_sequences(ga.example_path("seqs.fa"))
    >>> ArraySpec.of(seqs).kind, ArraySpec.of(seqs).fill
    ('codes', 4)
    >>> ArraySpec.of(ga.onehot(seqs, order=2)).base_axis
    2
    """

    kind: str
    pos_axis: int | None = 1
    base_axis: int | None = None
    strand_axis: int | None = None
    order: int = 1
    alphabet: str = encode.DNA
    resolution: int | None = 1
    fill: Any = 0
    scale: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(
                f"unknown array kind {self.kind!r}; expected one of {list(KINDS)}",
                source="ArraySpec",
            )
        if self.kind == ONEHOT and self.base_axis is None:
            object.__setattr__(self, "base_axis", 2)
        if self.kind == CODES and self.scale:
            raise InputError(
                "sequence codes cannot be scaled (scale=True); one-hot them first",
                source="ArraySpec",
            )
        if self.kind != PER_REGION and self.pos_axis is None:
            raise InputError(f"a {self.kind} array needs a pos axis", source="ArraySpec")

    @property
    def stranded(self) -> bool:
        """Whether flipping swaps the ``+`` and ``-`` strands."""
        return self.strand_axis is not None

    @classmethod
    def of(cls, arr: xr.DataArray, scale: bool | None = None) -> ArraySpec:
        """Build the spec of a view (channel-last or channel-first; ``region`` first).

        Parameters
        ----------
        arr
            A one-hot view, a sequence view of codes, a coverage view or a per-region
            array (``pos`` of size 1, or squeezed away), with ``region`` as its first dim.
        scale
            Whether :class:`Scale` applies; default: coverage views only (not binary or
            categorical interval tracks).

        Raises
        ------
        InputError
            ``arr`` does not start with ``region`` (a genome-wide array, for example).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from genomarray import model
        >>> roi = pd.DataFrame({"chrom": ["c"], "start": [0], "end": [4]})
        >>> cov = model.region_view(np.zeros((1, 4, 2, 1)), roi, ("strand", "condition"),
        ...                         coords={"strand": ["+", "-"]}, resolution=1)
        >>> s = ArraySpec.of(cov)
        >>> s.kind, s.strand_axis, s.scale
        ('coverage', 2, True)
        """
        if not isinstance(arr, xr.DataArray):
            raise TypeError(f"expected an xarray.DataArray, got {type(arr).__name__}")
        dims = tuple(arr.dims)
        if not dims or dims[0] != model.REGION:
            raise InputError(
                f"augmentations work on views with dims ({model.REGION!r}, "
                f"{model.POS!r}, ...); got dims {dims}",
                source="augment",
            )
        attrs = arr.attrs
        content = model.content_of(arr)
        pos_axis = dims.index(model.POS) if model.POS in dims else None
        alphabet = str(attrs.get(model.ALPHABET, encode.DNA))
        if content == ONEHOT:
            order = int(attrs.get(model.ORDER, 1))
            return cls(
                ONEHOT, pos_axis, dims.index(model.BASE), None, order, alphabet, 1, 0, bool(scale)
            )
        if content == CODES:
            return cls(CODES, 1, None, None, 1, alphabet, 1, model.fill_value(arr), bool(scale))
        stranded = model.STRAND in dims and arr.sizes[model.STRAND] == 2
        strand_axis = dims.index(model.STRAND) if stranded else None
        per_region = content == PER_REGION
        if scale is None:
            scale = not per_region and not model.is_label_track(arr)
        resolution = None if per_region else int(attrs.get(model.RESOLUTION, 1))
        return cls(
            content,
            pos_axis,
            None,
            strand_axis,
            1,
            alphabet,
            resolution,
            model.fill_value(arr),
            bool(scale),
        )


def specs_of(
    arrays: Mapping[str, xr.DataArray] | xr.Dataset, **scale: bool
) -> dict[str, ArraySpec]:
    """Build the :class:`ArraySpec` of each named array (``name=False`` overrides scale).

    Examples
    --------
    >>> import genomarray as ga
    >>> seqs = ga.read_sequences(ga.example_path("seqs.fa"))
    >>> {k: s.kind for k, s in specs_of({"dna": ga.onehot(seqs), "seq": seqs}).items()}
    {'dna': 'onehot', 'seq': 'codes'}
    """
    items = arrays.data_vars.items() if isinstance(arrays, xr.Dataset) else arrays.items()
    return {str(k): ArraySpec.of(v, scale=scale.get(str(k))) for k, v in items}


# -- counter-based random numbers ---------------------------------------------------------
_M64 = (1 << 64) - 1


def _splitmix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (wrapping arithmetic)."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


class RegionRandom:
    """Random numbers keyed by ``(seed, region index)``: one stream per region.

    The ``k``-th call of :meth:`random` returns, for each index ``i``, a uniform number in
    ``[0, 1)`` that depends only on ``(seed, i, k)`` (a SplitMix64 hash), so any subset of
    regions, in any chunking, gets the same draws. It implements the only method the
    augmentations use of :class:`numpy.random.Generator`.

    Examples
    --------
    >>> a = RegionRandom(7, [0, 1, 2, 3]).random(4)
    >>> b = RegionRandom(7, [2, 3]).random(2)
    >>> bool((a[2:] == b).all())
    True
    """

    def __init__(self, seed: int, indices: Sequence[int] | np.ndarray) -> None:
        self.seed = int(seed) & _M64
        self.indices = np.asarray(indices, dtype=np.int64).astype(np.uint64)
        self._calls = 0
        self._key = _splitmix(np.array([self.seed], dtype=np.uint64))

    def random(self, size: int | None = None) -> np.ndarray:
        """Next uniform ``[0, 1)`` draw of every region (``size`` must be their number)."""
        n = len(self.indices)
        if size is not None and int(size) != n:
            raise ValueError(f"RegionRandom holds {n} regions; cannot draw {size}")
        call = np.uint64(self._calls)
        self._calls += 1
        h = _splitmix(_splitmix(self._key ^ self.indices) ^ call)
        return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


Random = np.random.Generator | RegionRandom


def seed_of(random_state: int | np.random.Generator | None) -> int:
    if random_state is None:
        return int(np.random.default_rng().integers(1 << 63))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(1 << 63))
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer):
        raise InputError(
            f"random_state must be an int, a numpy Generator or None, got {random_state!r}",
            source="augment",
        )
    return int(random_state)


def rng_of(rng: Random | int | None) -> Random:
    if isinstance(rng, np.random.Generator | RegionRandom):
        return rng
    return np.random.default_rng(rng)


# -- numpy kernels (the hot path) ---------------------------------------------------------
def _flip_all(x: np.ndarray, spec: ArraySpec) -> np.ndarray:
    if spec.kind in (ONEHOT, CODES) and spec.alphabet != encode.DNA:
        raise InputError(
            f"a reverse complement needs a DNA array, got alphabet {spec.alphabet!r}", source="flip"
        )
    if spec.kind == ONEHOT:
        if spec.order == 1:  # A,C,G,T -> T,G,C,A: the channels reversed
            return np.ascontiguousarray(np.flip(x, (spec.pos_axis, spec.base_axis)))
        return np.take(
            np.flip(x, spec.pos_axis), encode.revcomp_permutation(spec.order), axis=spec.base_axis
        )
    if spec.kind == CODES:
        return encode.revcomp_codes(x, axis=spec.pos_axis)
    if spec.pos_axis is not None:
        x = np.flip(x, spec.pos_axis)
    if spec.strand_axis is not None:
        x = np.flip(x, spec.strand_axis)
    return np.ascontiguousarray(x)


def flip_batch(batch: np.ndarray, spec: ArraySpec, mask: np.ndarray | None = None) -> np.ndarray:
    """Flip the orientation of the examples in ``mask`` (all if None); a new array.

    One-hot (any order) and codes are reverse-complemented; coverage is reversed along
    ``pos`` with ``+`` and ``-`` swapped; a per-region array only has its strands swapped.

    Examples
    --------
    >>> import numpy as np
    >>> from genomarray.encode import decode, encode
    >>> codes = np.stack([encode("AACG"), encode("AACG")])
    >>> out = flip_batch(codes, ArraySpec(kind=CODES, fill=4), np.array([False, True]))
    >>> [decode(r) for r in out]
    ['AACG', 'CGTT']
    """
    x = np.asarray(batch)
    if mask is None:
        return _flip_all(x, spec)
    rows = np.flatnonzero(mask)
    if len(rows) == 0:
        return x
    out = x.copy()
    out[rows] = _flip_all(x[rows], spec)
    return out


def _bins(shift_bp: np.ndarray, spec: ArraySpec) -> np.ndarray:
    """Shifts in bp to ``pos`` steps of the array, rounded toward zero."""
    shift_bp = np.asarray(shift_bp, dtype=np.int64)
    if spec.resolution is None or spec.pos_axis is None or spec.kind == PER_REGION:
        return np.zeros_like(shift_bp)
    res = int(spec.resolution)
    return np.sign(shift_bp) * (np.abs(shift_bp) // res)


def shift_batch(batch: np.ndarray, spec: ArraySpec, shift_bp: np.ndarray) -> np.ndarray:
    """Shift each example by ``shift_bp[i]`` bp along ``pos``, padding with ``spec.fill``.

    ``out[:, j] = in[:, j - t]`` with ``t`` the shift in ``pos`` steps (bp divided by the
    resolution, rounded toward zero); per-region arrays are returned unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(1, 6)[None]
    >>> shift_batch(x, ArraySpec(kind=COVERAGE), np.array([2]))
    array([[0, 0, 1, 2, 3]])
    >>> shift_batch(x, ArraySpec(kind=COVERAGE, resolution=2), np.array([-3]))
    array([[2, 3, 4, 5, 0]])
    """
    x = np.asarray(batch)
    t = _bins(shift_bp, spec)
    if len(t) != x.shape[0]:
        raise InputError(f"{len(t)} shifts for a batch of {x.shape[0]} examples", source="shift")
    if not t.any():
        return x
    out = x.copy()
    src = np.moveaxis(x, spec.pos_axis, 1)
    dst = np.moveaxis(out, spec.pos_axis, 1)
    n_pos = src.shape[1]
    for step in np.unique(t[t != 0]):  # one slice copy per distinct shift (few)
        rows = np.flatnonzero(t == step)
        k = min(abs(int(step)), n_pos)
        if step > 0:
            dst[rows, k:] = src[rows, : n_pos - k]
            dst[rows, :k] = spec.fill
        else:
            dst[rows, : n_pos - k] = src[rows, k:]
            dst[rows, n_pos - k :] = spec.fill
    return out


def scaled_dtype(dtype: np.dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float32)


def scale_batch(batch: np.ndarray, spec: ArraySpec, factors: np.ndarray) -> np.ndarray:
    """Multiply each example by ``factors[i]`` if ``spec.scale`` (else return it as is).

    Integer arrays (raw counts) become float32; float arrays keep their dtype.

    Examples
    --------
    >>> import numpy as np
    >>> scale_batch(np.ones((2, 3), np.int32), ArraySpec(kind=COVERAGE, scale=True),
    ...             np.array([0.5, 2.0]))
    array([[0.5, 0.5, 0.5],
           [2. , 2. , 2. ]], dtype=float32)
    """
    x = np.asarray(batch)
    if not spec.scale:
        return x
    dtype = scaled_dtype(x.dtype)
    f = np.asarray(factors, dtype=dtype)
    if len(f) != x.shape[0]:
        raise InputError(f"{len(f)} factors for a batch of {x.shape[0]} examples", source="scale")
    flat = x.astype(dtype, copy=False).reshape(x.shape[0], -1)  # contiguous inner loop
    return (flat * f[:, None]).reshape(x.shape)
