"""Janggu's normalizers and ``GenomicArray``, on genomarray's normalizer classes.

``LogTransform``, ``ZScore``, ``ZScoreLog`` and ``PercentileTrimming`` are genomarray's
classes (:mod:`genomarray.transforms.normalizers`) with Janggu's constructor and call
signatures: an object fits its statistics on first use and reuses them (one ``ZScore()``
on the training data, then on the test data). They take a DataArray (a view or a track);
a Janggu :class:`GenomicArray` is accepted too and normalized in place.

``RegionLengthNormalization`` (``"binsizenorm"``) divides as Janggu did: with
``store_whole_genome=False`` (the default of the ``Cover`` constructors) every bin of a
window by the **window's length** in bp (``binsize + 2 * flank``, shorter for a clipped or
zero-padded window), with ``store_whole_genome=True`` by the resolution. genomarray's
native ``"binsizenorm"`` always divides by the bin length (a per-bp density); see
``docs/migration.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from genomarray import model
from genomarray.errors import InputError
from genomarray.transforms import normalizers as native
from genomarray.transforms.normalizers import Normalizer


def _apply(step: Normalizer, garray: Any, mask: Any = None) -> Any:
    if isinstance(garray, GenomicArray):
        out = Normalizer.__call__(step, garray.as_dataarray(), mask)
        garray.set_from_dataarray(out)
        return garray
    return Normalizer.__call__(step, garray, mask)


class LogTransform(native.LogTransform):
    """Janggu's ``LogTransform()``: ``ln(x + 1)``.

    Examples
    --------
    >>> t = model.coverage_track(np.array([0.0, np.e - 1]).reshape(1, 2, 1, 1), ["a"],
    ...                          [2], ["."], ["x"])
    >>> LogTransform()(garray=t).values.ravel().round(6).tolist()
    [0.0, 1.0]
    """

    def __call__(self, garray: Any, mask: Any = None) -> Any:
        return _apply(self, garray, mask)


class ZScore(native.ZScore):
    """Janggu's ``ZScore(mean=None, std=None)``: ``(x - mean) / std`` per condition,
    fitted on first use and kept (genomarray's statistics exclude padding).

    Examples
    --------
    >>> t = model.coverage_track(np.array([1.0, 3.0]).reshape(1, 2, 1, 1), ["a"], [2],
    ...                          ["."], ["x"])
    >>> z = ZScore()
    >>> z(t).values.ravel().round(4).tolist(), z.fitted
    ([-0.7071, 0.7071], True)
    """

    def __call__(self, garray: Any, mask: Any = None) -> Any:
        return _apply(self, garray, mask)


class ZScoreLog(native.ZScoreLog):
    """Janggu's ``ZScoreLog(mean=None, std=None)``: :class:`ZScore` of ``ln(x + 1)``."""

    def __call__(self, garray: Any, mask: Any = None) -> Any:
        return _apply(self, garray, mask)


class PercentileTrimming(native.PercentileTrimming):
    """Janggu's ``PercentileTrimming(percentile)``: values above the per-condition
    percentile are set to it (``"perctrim"`` is ``PercentileTrimming(99)``).

    Examples
    --------
    >>> t = model.coverage_track(np.arange(5.0).reshape(1, 5, 1, 1), ["a"], [5], ["."],
    ...                          ["x"])
    >>> PercentileTrimming(50)(t).values.ravel().tolist()
    [0.0, 1.0, 2.0, 2.0, 2.0]
    """

    def __init__(self, percentile: float, threshold: Any = None) -> None:
        super().__init__(percentile, threshold)

    def __call__(self, garray: Any, mask: Any = None) -> Any:
        return _apply(self, garray, mask)


def _window_lengths(x: xr.DataArray) -> xr.DataArray:
    """Janggu's region length: ``(end + flank) - max(0, start - flank)`` per window."""
    flank = int(x.attrs.get(model.FLANK, 0) or 0)
    start = np.maximum(x[model.REGION_START].values - flank, 0)
    end = x[model.REGION_END].values + flank
    return xr.DataArray((end - start).astype(np.float64), dims=[model.REGION])


class RegionLengthNormalization(Normalizer):
    """Janggu's ``RegionLengthNormalization(regionmask=None)`` (``"binsizenorm"``).

    Divides a view's values by the length of each window in bp (Janggu with
    ``store_whole_genome=False``), or by the resolution when ``store_whole_genome=True``
    (the constructors pass theirs); a genome-wide track is divided by its resolution.
    ``regionmask`` is accepted and unused, as in Janggu.

    Examples
    --------
    >>> import pandas as pd
    >>> roi = pd.DataFrame({"chrom": ["c"], "start": [0], "end": [200]})
    >>> v = model.region_view(np.full((1, 4, 1, 1), 10.0), roi, ("strand", "condition"),
    ...                       resolution=50, binsize=200)
    >>> RegionLengthNormalization()(v).values.ravel().tolist()
    [0.05, 0.05, 0.05, 0.05]
    >>> RegionLengthNormalization(store_whole_genome=True)(v).values.ravel().tolist()
    [0.2, 0.2, 0.2, 0.2]
    """

    name: ClassVar[str] = "janggu_binsizenorm"

    def __init__(self, regionmask: Any = None, store_whole_genome: bool = False) -> None:
        self.regionmask = regionmask
        self.store_whole_genome = bool(store_whole_genome)

    @property
    def params(self) -> dict[str, Any]:
        return {"store_whole_genome": self.store_whole_genome}

    def _forward(self, x: xr.DataArray) -> xr.DataArray:
        res = x.attrs.get(model.RESOLUTION, 1)
        if model.REGION not in x.dims or (
            self.store_whole_genome and res not in (None, model.REGION_RESOLUTION)
        ):
            return x / float(res)
        return x / _window_lengths(x)

    def __call__(self, garray: Any, mask: Any = None) -> Any:
        return _apply(self, garray, mask)


def normalize_garray_tpm(garray: Any) -> Any:
    """Janggu's ``normalize_garray_tpm``: per-kb density scaled so that each condition
    sums to one million (genomarray's :class:`~genomarray.transforms.normalizers.TPM`)."""
    return _apply(native.TPM(), garray)


_NAMED: dict[str, Callable[[bool], Normalizer]] = {
    "binsizenorm": lambda whole: RegionLengthNormalization(store_whole_genome=whole),
    "perctrim": lambda whole: PercentileTrimming(99),
    "zscore": lambda whole: ZScore(),
    "zscorelog": lambda whole: ZScoreLog(),
    "tpm": lambda whole: native.TPM(),
}


def janggu_steps(spec: Any, store_whole_genome: bool = False) -> list[Any]:
    """The normalizer steps of Janggu's ``normalizer=`` for a dataset.

    Names map to Janggu's normalizers (``"binsizenorm"`` with Janggu's divisor for
    ``store_whole_genome``); objects and functions are passed through (a
    :class:`RegionLengthNormalization` gets the dataset's ``store_whole_genome``).

    Examples
    --------
    >>> janggu_steps(["binsizenorm", "zscore"])
    [RegionLengthNormalization(store_whole_genome=False), ZScore(mean=None, std=None)]
    >>> janggu_steps("minmax")
    Traceback (most recent call last):
    ...
    ValueError: unknown normalizer: minmax
    """
    items = list(spec) if isinstance(spec, list | tuple) else [spec]
    out: list[Any] = []
    for item in items:
        if isinstance(item, str):
            if item not in _NAMED:
                raise ValueError(f"unknown normalizer: {item}")
            out.append(_NAMED[item](store_whole_genome))
        elif isinstance(item, RegionLengthNormalization):
            item.store_whole_genome = bool(store_whole_genome)
            out.append(item)
        else:
            out.append(item)
    return out


# -- GenomicArray -------------------------------------------------------------------------
def _key(chrom: str, start: int, end: int) -> str:
    return f"{chrom}:{start}-{end}"


class GenomicArray:
    """Janggu's ``GenomicArray``: values in numpy, per chromosome or per region.

    With ``store_whole_genome=True``, ``handle[chrom]`` is a ``(bins, strands,
    conditions)`` array of ``resolution``-bp bins; otherwise ``handle["data"]`` is
    ``(regions, bins, strands, conditions)`` and ``region2index`` maps
    ``"chrom:start-end"`` to a row. ``garray[interval]`` (or ``garray[chrom, start, end]``)
    reads, ``garray[interval, condition] = values`` writes. Janggu's normalizers take it;
    genomarray's own functions take DataArrays (:meth:`as_dataarray`).

    Examples
    --------
    >>> g = create_genomic_array({"chr1": 100}, stranded=False, conditions=["x"],
    ...                          storage="ndarray", resolution=10)
    >>> g["chr1", 0, 20, 0] = np.array([[1.0], [3.0]])
    >>> g["chr1", 0, 30][:, 0, 0].tolist()
    [1.0, 3.0, 0.0]
    >>> round(float(g.weighted_mean()[0]), 2)
    0.4
    """

    def __init__(
        self,
        stranded: bool = True,
        conditions: Sequence[str] | None = None,
        typecode: str = "d",
        resolution: int | None = 1,
        padding_value: float = 0.0,
        order: int = 1,
        store_whole_genome: bool = True,
        collapser: Any = None,
    ) -> None:
        if resolution is not None and (resolution != 1) and collapser is None:
            raise ValueError("Requiring collapser due to resolution > 1 or resolution=None")
        self.stranded = bool(stranded)
        self.condition = list(conditions) if conditions is not None else None
        self.typecode = typecode
        self.resolution = resolution
        self.padding_value = padding_value
        self.order = int(order)
        self._full_genome_stored = bool(store_whole_genome)
        self.collapser = collapser
        self.handle: dict[str, np.ndarray] = {}
        self.region2index: dict[str, int] = {}
        self._regions: pd.DataFrame | None = None
        self._view_attrs: dict[str, Any] = {}

    @property
    def n_strands(self) -> int:
        return 2 if self.stranded else 1

    # -- construction from / to genomarray -----------------------------------------------
    @classmethod
    def from_view(cls, view: xr.DataArray) -> GenomicArray:
        """The windows of a coverage view as a region-mode GenomicArray (a copy)."""
        native_view = xr.DataArray(
            view.variable, view._coords, name=view.name, indexes=view._indexes, fastpath=True
        )
        if model.REGION not in native_view.dims:
            raise InputError(f"{view.name!r} is not a region view", source="garray")
        values = np.asarray(native_view.values)
        while values.ndim < 4:
            values = values[..., None] if values.ndim > 1 else values[:, None]
        res = native_view.attrs.get(model.RESOLUTION, 1)
        g = cls(
            stranded=values.shape[2] == 2,
            conditions=None
            if model.CONDITION not in native_view.coords
            else [str(c) for c in native_view[model.CONDITION].values],
            typecode=values.dtype.str,
            resolution=None if res == model.REGION_RESOLUTION else res,
            padding_value=float(native_view.attrs.get(model.FILL_VALUE, 0.0) or 0.0),
            order=int(native_view.attrs.get(model.ORDER, 1)),
            store_whole_genome=False,
            collapser="sum",
        )
        g.handle["data"] = values.copy()
        g._regions = model.regions_of(native_view)
        g._view_attrs = {k: v for k, v in native_view.attrs.items() if k != model.KIND}
        flank = int(native_view.attrs.get(model.FLANK, 0) or 0)
        for i, row in enumerate(g._regions.itertuples(index=False)):
            g.region2index[_key(row.chrom, max(0, row.start - flank), row.end + flank)] = i
        return g

    def as_dataarray(self) -> xr.DataArray:
        """The values as a genomarray view (region mode) or coverage track (whole genome)."""
        conds = self.condition or [str(i) for i in range(self._n_cond())]
        strands = list(model.STRANDS_STRANDED) if self.stranded else [model.STRAND_UNSTRANDED]
        if not self._full_genome_stored:
            regions = self._regions
            if regions is None:
                raise InputError("this GenomicArray holds no regions yet", source="garray")
            data = self.handle["data"]
            return model.region_view(
                data,
                regions,
                (model.STRAND, model.CONDITION),
                coords={model.STRAND: strands, model.CONDITION: conds},
                name="garray",
                **{
                    **self._view_attrs,
                    model.RESOLUTION: self.resolution or model.REGION_RESOLUTION,
                },
            )
        chroms = list(self.handle)
        longest = max((a.shape[0] for a in self.handle.values()), default=0)
        data = np.full((len(chroms), longest, self.n_strands, len(conds)), self.padding_value)
        for i, c in enumerate(chroms):
            data[i, : self.handle[c].shape[0]] = self.handle[c]
        res = int(self.resolution or 1)
        return model.coverage_track(
            data,
            chroms,
            [self.handle[c].shape[0] * res for c in chroms],
            strands,
            conds,
            resolution=res,
        )

    def set_from_dataarray(self, arr: xr.DataArray) -> None:
        """Write normalized values (from :meth:`as_dataarray`'s layout) back."""
        values = np.asarray(arr.values)
        if not self._full_genome_stored:
            self.handle["data"] = values.astype(self.handle["data"].dtype, copy=False)
            return
        for i, c in enumerate(self.handle):
            n = self.handle[c].shape[0]
            self.handle[c] = values[i, :n].astype(self.handle[c].dtype, copy=False)

    def _n_cond(self) -> int:
        for a in self.handle.values():
            return int(a.shape[-1])
        return len(self.condition or [])

    # -- Janggu's methods -------------------------------------------------------------------
    def _locate(self, index: Any) -> tuple[str, int, int, str, Any]:
        cond: Any = slice(None)
        if isinstance(index, tuple) and len(index) == 2 and hasattr(index[0], "chrom"):
            index, cond = index
        if isinstance(index, tuple) and len(index) >= 3 and isinstance(index[0], str):
            chrom, start, end = str(index[0]), int(index[1]), int(index[2])
            strand = "."
            if len(index) == 4:
                cond = index[3]
            return chrom, start, end, strand, cond
        if hasattr(index, "chrom"):
            return str(index.chrom), int(index.start), int(index.end), str(index.strand), cond
        raise IndexError(f"Cannot interpret index: {index!r}")

    def __getitem__(self, index: Any) -> np.ndarray:
        chrom, start, end, _, cond = self._locate(index)
        if not self._full_genome_stored:
            key = _key(chrom, start, end)
            if key not in self.region2index:
                raise KeyError(f"{key} is not among the stored regions")
            return self.handle["data"][self.region2index[key]][..., cond]
        arr = self.handle[chrom]
        lo, hi = self.get_iv_start(start), self.get_iv_end(end)
        out = np.full((hi - lo, *arr.shape[1:]), self.padding_value, dtype=arr.dtype)
        a, b = max(lo, 0), min(hi, arr.shape[0])
        if b > a:
            out[a - lo : b - lo] = arr[a:b]
        return out[..., cond]

    def __setitem__(self, index: Any, value: Any) -> None:
        chrom, start, end, _, cond = self._locate(index)
        value = np.asarray(value, dtype=np.float64)
        if value.ndim == 2 and not self.stranded and value.shape[1] != 1:
            value = value.sum(axis=1, keepdims=True)
        if not self._full_genome_stored:
            key = _key(chrom, start, end)
            if key not in self.region2index:
                raise KeyError(f"{key} is not among the stored regions")
            row = self.handle["data"][self.region2index[key]]
            row[..., cond] = value.reshape(row[..., cond].shape)
            return
        arr = self.handle[chrom]
        lo, hi = self.get_iv_start(start), self.get_iv_end(end)
        a, b = max(lo, 0), min(hi, arr.shape[0])
        if value.ndim == 2 and isinstance(cond, int | np.integer):
            arr[a:b, :, cond] = value[a - lo : b - lo]
        else:
            arr[a:b, ..., cond] = value[a - lo : b - lo]

    def get_iv_start(self, start: int) -> int:
        return int(start) // int(self.resolution or 1)

    def get_iv_end(self, end: int) -> int:
        return int(math.ceil(int(end) / int(self.resolution or 1)))

    def interval_length(self, chrom: str) -> int:
        """The length in bp a stored value spans: a region key's length, else the
        resolution."""
        if ":" in chrom:
            span = chrom.rsplit(":", 1)[1]
            lo, hi = span.split("-")
            return int(hi) - int(lo)
        return int(self.resolution or 1)

    def scale_by_region_length(self) -> None:
        for chrom in self.handle:
            if self._full_genome_stored:
                self.handle[chrom] = self.handle[chrom] / self.interval_length(chrom)
            else:
                for key, idx in self.region2index.items():
                    self.handle[chrom][idx] = self.handle[chrom][idx] / self.interval_length(key)

    def weighted_mean(self) -> np.ndarray:
        total = sum(a.reshape(-1, a.shape[-1]).sum(axis=0) for a in self.handle.values())
        count = sum(math.prod(a.shape[:-1]) for a in self.handle.values())
        return np.asarray(total, dtype=np.float64) / max(count, 1)

    def shift(self, means: Any) -> None:
        for chrom in self.handle:
            self.handle[chrom] = self.handle[chrom] - np.asarray(means)

    def rescale(self, scale: Any) -> None:
        for chrom in self.handle:
            self.handle[chrom] = self.handle[chrom] / np.asarray(scale)

    def sum(self, chrom: str | None = None) -> np.ndarray:
        arrays = [self.handle[chrom]] if chrom is not None else list(self.handle.values())
        return np.stack([a.reshape(-1, a.shape[-1]).sum(axis=0) for a in arrays])

    def weighted_sd(self) -> np.ndarray:
        total = sum((a.reshape(-1, a.shape[-1]) ** 2).sum(axis=0) for a in self.handle.values())
        count = sum(math.prod(a.shape[:-1]) for a in self.handle.values())
        return np.sqrt(np.asarray(total, dtype=np.float64) / max(count - 1, 1))


def create_genomic_array(
    chroms: Any,
    stranded: bool = True,
    conditions: Sequence[str] | None = None,
    typecode: str = "float32",
    storage: str = "hdf5",
    resolution: int | None = 1,
    order: int = 1,
    padding_value: float = 0.0,
    store_whole_genome: bool = True,
    datatags: Any = None,
    cache: Any = None,
    overwrite: bool = False,
    loader: Callable[[GenomicArray], Any] | None = None,
    normalizer: Any = None,
    collapser: Any = None,
    verbose: bool = False,
) -> GenomicArray:
    """Janggu's ``create_genomic_array``: a :class:`GenomicArray` in memory.

    ``chroms`` is ``{chrom: length}`` (whole genome) or a GenomicIndexer / DataFrame of
    regions (``store_whole_genome=False``); ``loader(garray)`` fills it and the
    ``normalizer`` steps then apply. Every ``storage`` (``"ndarray"``, ``"hdf5"``,
    ``"sparse"``) holds the values in memory here; for a lazy, cached genome-wide array
    use :func:`genomarray.read_bam` and friends.
    """
    if storage not in ("ndarray", "hdf5", "sparse"):
        raise ValueError(f"Unknown storage: {storage}")
    if resolution is None:
        store_whole_genome = False
    g = GenomicArray(
        stranded,
        conditions,
        typecode,
        resolution,
        padding_value,
        order,
        store_whole_genome,
        collapser if collapser is not None or resolution == 1 else "sum",
    )
    n_cond = len(conditions) if conditions is not None else 1
    if store_whole_genome:
        sizes = dict(chroms)
        for chrom, length in sizes.items():
            bins = g.get_iv_end(int(length))
            g.handle[str(chrom)] = np.full(
                (bins, g.n_strands, n_cond), padding_value, dtype=np.dtype(typecode)
            )
    else:
        from genomarray.compat.gindexer import GenomicIndexer

        gi = chroms if isinstance(chroms, GenomicIndexer) else None
        if gi is None:
            raise InputError(
                "store_whole_genome=False needs the regions as a GenomicIndexer",
                source="create_genomic_array",
            )
        width = max((iv.length for iv in gi), default=0)
        bins = 1 if resolution is None else g.get_iv_end(width)
        g.handle["data"] = np.full(
            (len(gi), bins, g.n_strands, n_cond), padding_value, dtype=np.dtype(typecode)
        )
        for i, iv in enumerate(gi):
            g.region2index[_key(iv.chrom, iv.start, iv.end)] = i
        g._regions = gi.tiles()
    if loader is not None:
        loader(g)
    if normalizer is not None:
        for step in janggu_steps(normalizer, store_whole_genome):
            out = _apply(step, g) if isinstance(step, Normalizer) else step(g)
            g = out if isinstance(out, GenomicArray) else g
    return g
