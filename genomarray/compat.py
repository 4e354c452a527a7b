"""Janggu-compatible constructors: ``Cover`` and ``Bioseq`` that return DataArrays.

A Janggu script runs after changing its import line::

    # from janggu.data import Bioseq, Cover, split_train_test
    from genomarray.compat import Bioseq, Cover, split_train_test

``Cover.create_from_bam``, ``create_from_bigwig``, ``create_from_bed``,
``create_from_array``, ``Bioseq.create_from_refgenome`` and ``create_from_seq`` take
Janggu's parameter names and defaults and return :class:`xarray.DataArray` views, named
``name``, whose values have Janggu's shapes:

- ``Cover``: ``(region, pos, strand, condition)``, i.e. ``(N, L, strands, conditions)``,
  with ``L = ceil((binsize + 2 * flank) / resolution)`` (1 for ``resolution=None``);
- ``Bioseq``: ``(region, pos, strand, base)``, i.e. ``(N, L - order + 1, 1, 4**order)``
  (``20**order`` for protein), the singleton ``strand`` axis labelled ``"."``.

``len(x)``, ``x.shape``, ``x[0:4]``, ``np.asarray(x)`` behave as on a numpy array, and the
labels (``x.chrom``, ``x.start``, ``x.condition``, ``x.base``) name regions and channels.
The constructors are thin: each is the native pipeline
``read_*(...) -> view(tile(roi, ...)) -> collapse(...) -> normalize(...)`` plus a reshape.
``random_state=`` permutes the regions as Janggu's does (the same order for the same seed).

Janggu's ``view``, ``subset`` and ``split_train_test`` are here too. Every deliberate
difference from Janggu is listed in ``docs/migration.md``.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from genomarray import model
from genomarray.errors import InputError

__all__ = ["COLLAPSERS", "STORAGE_NAMES", "Bioseq", "Cover", "split_train_test", "subset", "view"]

STORAGE_NAMES: dict[str, str] = {"ndarray": "memory", "sparse": "sparse", "hdf5": "zarr"}
"""Janggu's ``storage=`` names and the genomarray storage each maps to (genomarray's own
names, ``"memory"``, ``"sparse"``, ``"zarr"``, ``"lazy"``, are accepted too)."""

COLLAPSERS = ("sum", "mean", "max")
"""Janggu's named collapsers (a callable ``f(values)`` reducing axis 1 of a
``(bins, resolution, strands)`` array is accepted too)."""

JANGGU_CALL = "janggu_call"
"""Attribute recording the constructor call (JSON), so that :func:`view` can repeat it."""

_NATIVE_STORAGES = ("memory", "sparse", "zarr", "lazy")
_BED_MODES = {"categorical": "score_category"}


# -- argument handling ------------------------------------------------------------------
def _check_name(name: Any) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    return name


def _storage(storage: str, allowed: Sequence[str] = (*STORAGE_NAMES, *_NATIVE_STORAGES)) -> str:
    if storage not in allowed:
        raise InputError(
            f"storage must be one of {list(allowed)} (Janggu's ndarray, sparse, "
            f"hdf5 map to memory, sparse, zarr), got {storage!r}",
            source="compat",
        )
    return STORAGE_NAMES.get(storage, storage)


def _ignored(datatags: Any, overwrite: bool) -> None:
    """Janggu's ``datatags``/``overwrite`` have no effect (caches are keyed by content)."""
    if datatags is not None:
        warnings.warn(
            "datatags has no effect: genomarray keys caches by the content of the "
            "inputs and the parameters",
            DeprecationWarning,
            stacklevel=3,
        )
    if overwrite:
        warnings.warn(
            "overwrite has no effect: genomarray keys caches by the content of the "
            "inputs and the parameters, so a changed input builds a new cache",
            DeprecationWarning,
            stacklevel=3,
        )


def _collapser(collapser: Any, default: str) -> Any:
    """A genomarray reduction for Janggu's ``collapser`` (name or ``f(values)``)."""
    if collapser is None:
        return default
    if callable(collapser):

        def reduce(values: np.ndarray, axis: int = -1) -> np.ndarray:
            moved = np.moveaxis(values, axis, -1)
            flat = moved.reshape(-1, moved.shape[-1])[:, :, None]  # (bins, resolution, 1)
            out = np.asarray(collapser(flat))
            return out.reshape(moved.shape[:-1])

        reduce.__name__ = getattr(collapser, "__name__", "collapser")
        return reduce
    if collapser not in COLLAPSERS:
        raise InputError(
            f"unknown collapser {collapser!r}; expected one of "
            f"{list(COLLAPSERS)} or a function f(values) reducing axis 1 of a "
            "(bins, resolution, strands) array",
            source="compat",
        )
    return collapser


def _resolution(resolution: Any) -> int | None:
    if resolution is None:
        return None
    if (
        isinstance(resolution, bool)
        or not isinstance(resolution, int | np.integer)
        or resolution < 1
    ):
        raise InputError(
            f"resolution must be a positive integer or None, got {resolution!r}", source="compat"
        )
    return int(resolution)


def _tiles(
    roi: Any,
    binsize: int | None,
    stepsize: int | None,
    flank: int,
    zero_padding: bool,
    resolution: int | None,
) -> pd.DataFrame:
    from genomarray.regions import tile

    if resolution is None and binsize is None:  # one value per whole region
        return tile(roi, flank=flank, collapse=True)
    return tile(roi, binsize=binsize, stepsize=stepsize, flank=flank, zero_padding=zero_padding)


def _dense(block: Any) -> np.ndarray:
    return block.todense() if hasattr(block, "todense") else block


def _densified(track: xr.DataArray) -> xr.DataArray:
    """A sparse-chunked track whose chunks a view reads densified, one at a time."""
    data = track.data
    if isinstance(data, da.Array) and not isinstance(data._meta, np.ndarray):
        data = data.map_blocks(
            _dense, dtype=data.dtype, meta=np.empty((0,) * data.ndim, dtype=data.dtype)
        )
        return track.copy(data=data)
    return track


def _read_storage(native: str, store_whole_genome: bool, cache: bool) -> str:
    """Storage of the genome-wide track behind a view (memory views are computed after)."""
    if native == "memory" and not store_whole_genome:
        return "zarr" if cache else "lazy"  # keep only the ROI's windows in memory
    return native


def _restrict(track: xr.DataArray, genomesize: Any) -> xr.DataArray:
    """Keep the chromosomes named by Janggu's ``genomesize``."""
    if genomesize is None:
        return track
    from genomarray.io.chromsizes import chrom_sizes
    from genomarray.regions import check_chromosomes

    sizes = chrom_sizes(genomesize)
    have = model.chrom_sizes(track)
    check_chromosomes(
        pd.DataFrame({"chrom": list(sizes), "start": 0, "end": 1}),
        have,
        source="genomesize",
        genome="the input files",
    )
    for chrom, length in sizes.items():
        if length != have[chrom]:
            raise InputError(
                f"genomesize gives {chrom} {length} bp but the input files {have[chrom]} bp",
                source="genomesize",
            )
    keep = [i for i, c in enumerate(have) if c in sizes]
    return track.isel({model.CHROM: keep})


def _normalize(x: xr.DataArray, normalizer: Any) -> xr.DataArray:
    if normalizer is None or (isinstance(normalizer, list | tuple) and not normalizer):
        return x
    try:
        from genomarray.transforms.normalize import normalize
    except ImportError as err:  # pragma: no cover - the module ships with genomarray
        raise ImportError("normalizer= needs genomarray.transforms.normalize") from err
    spec = list(normalizer) if isinstance(normalizer, list | tuple) else [normalizer]
    return normalize(x, spec)


def _minoverlap_mask(
    x: xr.DataArray, coverage: xr.DataArray, resolution: int | None, minoverlap: float
) -> xr.DataArray:
    """Zero the bins that features cover by less than ``minoverlap`` of their length."""
    from genomarray.transforms.collapse import collapse

    frac = collapse(coverage, resolution, how="mean")
    mask = frac.data >= minoverlap
    return x.copy(data=x.data * mask.astype(x.dtype))


def _record(x: xr.DataArray, fn: str, args: dict[str, Any]) -> xr.DataArray:
    """Record the call in ``attrs`` (JSON) when its arguments allow, for :func:`view`."""
    kwargs = {k: v for k, v in args.items() if k not in ("name", "roi")}
    kwargs = {k: os.fspath(v) if isinstance(v, os.PathLike) else v for k, v in kwargs.items()}
    try:
        text = json.dumps({"fn": fn, "kwargs": kwargs})
    except (TypeError, ValueError):
        x.attrs.pop(JANGGU_CALL, None)
        return x
    x.attrs[JANGGU_CALL] = text
    return x


def _finish(
    x: xr.DataArray,
    name: str,
    *,
    dtype: Any = None,
    random_state: Any = None,
    materialize: bool = False,
    channel_last: bool = True,
    channel_first_dims: Sequence[str] = (),
) -> xr.DataArray:
    from genomarray.transforms.split import shuffle

    if dtype is not None and x.dtype != np.dtype(dtype):
        x = x.astype(dtype)
    if random_state is not None and model.REGION in x.dims:
        x = shuffle(x, random_state)
    if materialize:
        x = x.compute()
    x = x.rename(name)
    if not channel_last and model.REGION in x.dims:
        x = x.transpose(*channel_first_dims)
    return x


def _cover(
    name: str,
    read: Callable[..., xr.DataArray],
    *,
    roi: Any,
    binsize: int | None,
    stepsize: int | None,
    flank: int,
    resolution: Any,
    zero_padding: bool,
    storage: str,
    cache: bool,
    store_whole_genome: bool,
    genomesize: Any,
    how: Any,
    normalizer: Any,
    dtype: Any,
    random_state: Any,
    channel_last: bool,
    minoverlap: float | None = None,
    coverage: Callable[..., xr.DataArray] | None = None,
) -> xr.DataArray:
    """The shared pipeline of the ``Cover`` constructors."""
    from genomarray.transforms.collapse import collapse
    from genomarray.views import view as view_of

    resolution = _resolution(resolution)
    native = _storage(storage)
    if roi is None and not store_whole_genome:
        raise InputError(
            "either roi must be supplied or store_whole_genome must be True", source="compat"
        )
    tiles = None if roi is None else _tiles(roi, binsize, stepsize, flank, zero_padding, resolution)
    read_storage = _read_storage(native, store_whole_genome, cache)
    materialize = native == "memory" and read_storage != "memory"
    options = {
        "storage": read_storage,
        "cache": cache,
        "store_whole_genome": store_whole_genome,
        "roi": None if store_whole_genome else tiles,
    }
    track = _restrict(read(**options), genomesize)
    order = (model.REGION, model.CONDITION, model.POS, model.STRAND)
    if tiles is None:  # Janggu's Cover without a ROI: the genome-wide track
        track = _normalize(track, normalizer)
        return _finish(track, name, dtype=dtype, materialize=materialize)
    x = view_of(_densified(track), tiles)
    if resolution != 1:
        x = collapse(x, resolution, how=how)
    if minoverlap is not None and resolution != 1 and coverage is not None:
        cov = view_of(_densified(_restrict(coverage(**options), genomesize)), tiles)
        x = _minoverlap_mask(x, cov, resolution, minoverlap)
    x = _normalize(x, normalizer)
    return _finish(
        x,
        name,
        dtype=dtype,
        random_state=random_state,
        materialize=materialize,
        channel_last=channel_last,
        channel_first_dims=order,
    )


def _bed_sizes(genomesize: Any, bedfiles: list[str], tiles: pd.DataFrame | None) -> dict[str, int]:
    """Janggu's genome size for BED input: given, else the furthest end seen per chrom."""
    from genomarray.coverage import _sizes_from
    from genomarray.regions import read_regions

    if genomesize is not None:
        return _sizes_from(genomesize, "genomesize")
    frames = [read_regions(p) for p in bedfiles]
    if tiles is not None:
        flank = int(tiles.attrs.get("flank", 0) or 0)
        frames.append(tiles.assign(end=tiles["end"] + flank))
    ends = pd.concat([f[["chrom", "end"]] for f in frames], ignore_index=True)
    if not len(ends):
        raise InputError(
            "cannot tell the chromosome sizes: pass genomesize=", source="create_from_bed"
        )
    sizes = ends.groupby("chrom", sort=False)["end"].max()
    return {str(k): int(v) for k, v in sizes.items()}


def _files(paths: Any) -> list[str]:
    if isinstance(paths, str | os.PathLike):
        return [os.fspath(paths)]
    return [os.fspath(p) for p in paths]


def _add_strand(x: xr.DataArray) -> xr.DataArray:
    """``(region, pos, base)`` -> ``(region, pos, strand=".", base)``, Janggu's layout."""
    out = x.expand_dims({model.STRAND: np.array([model.STRAND_UNSTRANDED], dtype=object)}, axis=2)
    model.validate(out, model.ONEHOT_VIEW)
    return out


def _onehot(codes: xr.DataArray, order: int, materialize: bool) -> xr.DataArray:
    """One-hot (with Janggu's strand axis) of a codes view; shuffling coordinates kept."""
    from genomarray.sequences import onehot

    if materialize:  # the codes (1 byte/base) in memory, one-hot computed per access
        values = np.asarray(codes.values)
        codes = codes.copy(data=da.from_array(values, chunks=-1))
    x = onehot(codes, order=order)
    if model.REGION_INDEX in codes.coords:
        x = x.assign_coords({model.REGION_INDEX: codes[model.REGION_INDEX].variable})
    return _add_strand(x)


# -- Cover ------------------------------------------------------------------------------
class Cover:
    """Janggu's ``Cover`` constructors, returning ``(region, pos, strand, condition)`` views.

    Not instantiable: call a ``create_from_*`` method. Each returns an
    :class:`xarray.DataArray` named ``name`` (a genome-wide track when ``roi`` is None and
    ``store_whole_genome=True``).

    Examples
    --------
    >>> import genomarray as ga
    >>> x = Cover.create_from_bam("reads", bamfiles=ga.example_path("sample.bam"),
    ...                           roi=ga.example_path("roi.bed"), binsize=200,
    ...                           resolution=50)
    >>> x.shape, x.dims
    ((230, 4, 2, 1), ('region', 'pos', 'strand', 'condition'))
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Cover:
        raise TypeError(
            "genomarray.compat.Cover is not instantiated: call "
            "Cover.create_from_bam/_bigwig/_bed/_array, which return DataArrays"
        )

    @staticmethod
    def create_from_bam(
        name: str,
        bamfiles: str | Sequence[str],
        roi: Any = None,
        genomesize: Any = None,
        conditions: Sequence[str] | None = None,
        min_mapq: int | None = None,
        binsize: int | None = None,
        stepsize: int | None = None,
        flank: int = 0,
        resolution: int | None = 1,
        storage: str = "ndarray",
        dtype: str = "float32",
        stranded: bool = True,
        overwrite: bool = False,
        pairedend: str = "5prime",
        template_extension: int = 0,
        datatags: Any = None,
        cache: bool = False,
        channel_last: bool = True,
        normalizer: Any = None,
        zero_padding: bool = True,
        random_state: Any = None,
        store_whole_genome: bool = False,
        verbose: bool = False,
        mode: str = "5prime",
    ) -> xr.DataArray:
        """Read counts from BAM files (Janggu's ``Cover.create_from_bam``).

        Reads are counted at their 5' end (each mate of a proper pair at its own, or with
        ``pairedend="midpoint"`` each fragment once at its middle), summed per
        ``resolution`` bin of each window.

        Parameters
        ----------
        name
            Name of the returned DataArray.
        bamfiles
            BAM file or list (one condition each); sorted and indexed.
        roi
            Regions of interest (BED/GFF path, DataFrame, PyRanges), tiled with
            ``binsize``, ``stepsize``, ``flank``, ``zero_padding``. None with
            ``store_whole_genome=True`` returns the genome-wide track.
        genomesize
            ``{chrom: length}`` (or a sizes/FASTA file) restricting the chromosomes.
        conditions
            Condition labels (default: the file names without extension).
        min_mapq
            Minimum mapping quality (None: 0).
        binsize, stepsize, flank, zero_padding
            Tiling of ``roi`` (see :func:`genomarray.regions.tile`).
        resolution
            Bin size in bp; None gives one value per region (summed over the region).
        storage
            ``"ndarray"`` (numpy in memory), ``"hdf5"`` (lazy over a zarr store),
            ``"sparse"`` (sparse chunks in memory), or a genomarray storage name.
        dtype
            dtype of the values (Janggu's default float32).
        stranded
            Two strands ``+``/``-`` or one ``.``.
        pairedend, template_extension, mode
            As in :func:`genomarray.coverage.read_bam` (``mode="coverage"`` is new).
        cache
            Reuse a store built from the same files and parameters.
        normalizer
            Name, callable or list, applied by
            :func:`genomarray.transforms.normalize.normalize` to the result.
        random_state
            Shuffle the regions (Janggu's permutation for an integer seed).
        store_whole_genome
            Read the whole genome; else only what the ROI's windows overlap.
        channel_last
            False gives Janggu's channel-first layout ``(region, condition, pos, strand)``.
        overwrite, datatags
            No effect (DeprecationWarning when set): caches are keyed by content.
        verbose
            Show progress bars.

        Examples
        --------
        >>> import genomarray as ga
        >>> x = Cover.create_from_bam("reads", ga.example_path("sample.bam"),
        ...                           roi=ga.example_path("roi.bed"), resolution=None,
        ...                           stranded=False)
        >>> x.shape, x.name
        ((23, 1, 1, 1), 'reads')
        """
        args = dict(locals())
        from genomarray.coverage import read_bam

        _check_name(name)
        _ignored(datatags, overwrite)
        files = _files(bamfiles)

        def read(**options: Any) -> xr.DataArray:
            return read_bam(
                files,
                conditions,
                mode=mode,
                stranded=stranded,
                min_mapq=0 if min_mapq is None else min_mapq,
                pairedend=pairedend,
                template_extension=template_extension,
                resolution=1,
                progress=verbose,
                **options,
            )

        x = _cover(
            name,
            read,
            roi=roi,
            binsize=binsize,
            stepsize=stepsize,
            flank=flank,
            resolution=resolution,
            zero_padding=zero_padding,
            storage=storage,
            cache=cache,
            store_whole_genome=store_whole_genome,
            genomesize=genomesize,
            how="sum",
            normalizer=normalizer,
            dtype=dtype,
            random_state=random_state,
            channel_last=channel_last,
        )
        return _record(x, "Cover.create_from_bam", args)

    @staticmethod
    def create_from_bigwig(
        name: str,
        bigwigfiles: str | Sequence[str],
        roi: Any = None,
        genomesize: Any = None,
        conditions: Sequence[str] | None = None,
        binsize: int | None = None,
        stepsize: int | None = None,
        resolution: int | None = 1,
        flank: int = 0,
        storage: str = "ndarray",
        dtype: str = "float32",
        overwrite: bool = False,
        datatags: Any = None,
        cache: bool = False,
        store_whole_genome: bool = False,
        channel_last: bool = True,
        zero_padding: bool = True,
        normalizer: Any = None,
        collapser: Any = None,
        random_state: Any = None,
        nan_to_num: bool = True,
        verbose: bool = False,
    ) -> xr.DataArray:
        """Read signal from bigWig files (Janggu's ``Cover.create_from_bigwig``).

        Per-base values are summarised per ``resolution`` bin of each window by
        ``collapser`` (default ``"mean"``). Parameters as in :meth:`create_from_bam`, plus:

        Parameters
        ----------
        bigwigfiles
            bigWig file or list (one condition each).
        collapser
            ``"sum"``, ``"mean"``, ``"max"`` or a function ``f(values)`` reducing axis 1
            of a ``(bins, resolution, strands)`` array.
        nan_to_num
            Uncovered bases read as 0 (else NaN).

        Examples
        --------
        >>> import genomarray as ga
        >>> x = Cover.create_from_bigwig("signal", ga.example_path("sample.bw"),
        ...                              roi=ga.example_path("roi.bed"), binsize=200,
        ...                              resolution=100, collapser="max")
        >>> x.shape
        (230, 2, 1, 1)
        """
        args = dict(locals())
        from genomarray.coverage import read_bigwig

        _check_name(name)
        _ignored(datatags, overwrite)
        files = _files(bigwigfiles)
        how = _collapser(collapser, "mean")

        def read(**options: Any) -> xr.DataArray:
            return read_bigwig(
                files, conditions, resolution=1, nan_to_num=nan_to_num, progress=verbose, **options
            )

        x = _cover(
            name,
            read,
            roi=roi,
            binsize=binsize,
            stepsize=stepsize,
            flank=flank,
            resolution=resolution,
            zero_padding=zero_padding,
            storage=storage,
            cache=cache,
            store_whole_genome=store_whole_genome,
            genomesize=genomesize,
            how=how,
            normalizer=normalizer,
            dtype=dtype,
            random_state=random_state,
            channel_last=channel_last,
        )
        return _record(x, "Cover.create_from_bigwig", args)

    @staticmethod
    def create_from_bed(
        name: str,
        bedfiles: str | Sequence[str],
        roi: Any = None,
        genomesize: Any = None,
        conditions: Sequence[str] | None = None,
        binsize: int | None = None,
        stepsize: int | None = None,
        resolution: int | None = 1,
        flank: int = 0,
        storage: str = "ndarray",
        dtype: str = "float32",
        mode: str = "binary",
        store_whole_genome: bool = False,
        overwrite: bool = False,
        channel_last: bool = True,
        zero_padding: bool = True,
        normalizer: Any = None,
        collapser: Any = None,
        minoverlap: float | None = None,
        random_state: Any = None,
        datatags: Any = None,
        cache: bool = False,
        verbose: bool = False,
    ) -> xr.DataArray:
        """Labels or scores from BED-like files (Janggu's ``Cover.create_from_bed``).

        Parameters as in :meth:`create_from_bam`, plus:

        Parameters
        ----------
        bedfiles
            BED, narrowPeak, bedGraph or GFF file, or a list (one condition each).
        genomesize
            Chromosome sizes (dict, sizes/FASTA/BAM/bigWig file or genome array); default:
            the furthest end per chromosome of the files and the ROI's windows.
        mode
            ``"binary"``, ``"score"``, ``"bedgraph"``, ``"score_category"`` (Janggu's
            ``"categorical"``) or ``"name_category"``.
        collapser
            Summary per bin (default ``"max"``), as in :meth:`create_from_bigwig`.
        minoverlap
            Fraction (0-1] of a bin (of a region for ``resolution=None``) that features
            must cover for the bin to keep its value; else it is 0.

        Examples
        --------
        >>> import genomarray as ga
        >>> y = Cover.create_from_bed("peaks", ga.example_path("peaks.narrowPeak"),
        ...                           roi=ga.example_path("roi.bed"), binsize=200,
        ...                           resolution=200)
        >>> y.shape, int(y.sum())
        ((230, 1, 1, 1), 92)
        """
        args = dict(locals())
        from genomarray.coverage import read_bed
        from genomarray.regions import read_regions

        _check_name(name)
        _ignored(datatags, overwrite)
        files = _files(bedfiles)
        how = _collapser(collapser, "max")
        native_mode = _BED_MODES.get(mode, mode)
        if minoverlap is not None and not 0 < float(minoverlap) <= 1:
            raise InputError(
                f"minoverlap must be a fraction in (0, 1], got {minoverlap!r}",
                source="create_from_bed",
            )
        res = _resolution(resolution)
        tiles = (
            None
            if roi is None
            else _tiles(read_regions(roi), binsize, stepsize, flank, zero_padding, res)
        )
        sizes = _bed_sizes(genomesize, files, tiles)

        def reader(bed_mode: str) -> Callable[..., xr.DataArray]:
            def read(**options: Any) -> xr.DataArray:
                return read_bed(
                    files,
                    bed_mode,
                    like=sizes,
                    conditions=conditions if bed_mode == native_mode else None,
                    resolution=1,
                    progress=verbose,
                    **options,
                )

            return read

        x = _cover(
            name,
            reader(native_mode),
            roi=roi,
            binsize=binsize,
            stepsize=stepsize,
            flank=flank,
            resolution=resolution,
            zero_padding=zero_padding,
            storage=storage,
            cache=cache,
            store_whole_genome=store_whole_genome,
            genomesize=None,
            how=how,
            normalizer=normalizer,
            dtype=dtype,
            random_state=random_state,
            channel_last=channel_last,
            minoverlap=None if minoverlap is None else float(minoverlap),
            coverage=reader("binary"),
        )
        return _record(x, "Cover.create_from_bed", args)

    @staticmethod
    def create_from_array(
        name: str,
        array: Any,
        gindexer: Any = None,
        genomesize: Any = None,
        conditions: Sequence[str] | None = None,
        resolution: int | None = None,
        storage: str = "ndarray",
        overwrite: bool = False,
        cache: bool = False,
        datatags: Any = None,
        padding_value: float = 0.0,
        store_whole_genome: bool = False,
        channel_last: bool = True,
        verbose: bool = False,
        roi: Any = None,
    ) -> xr.DataArray:
        """Label an array of predictions with regions (Janggu's ``Cover.create_from_array``).

        Parameters
        ----------
        name
            Name of the returned DataArray.
        array
            ``(N, C)`` or ``(N, L, S, C)`` values (``(N, L, C)`` too), numpy or dask; with
            ``channel_last=False``, ``(N, C, L, S)``.
        gindexer, roi
            The view the predictions were made from (its regions and window geometry),
            or regions (a tiled DataFrame from :func:`genomarray.regions.tile`, or a BED
            path / DataFrame taken as one window per region).
        genomesize
            ``{chrom: length}`` recorded for :func:`genomarray.predictions.to_genome`.
        conditions
            Condition labels (default ``Cond_0``, ``Cond_1``, ... as Janggu).
        resolution
            Bin size in bp; checked against the one the array's length implies.
        padding_value
            Recorded as the array's fill value.
        storage
            Checked but not acted on: the values stay as given (numpy or dask).
        store_whole_genome, cache, overwrite, datatags, verbose
            No effect (``overwrite``/``datatags``: DeprecationWarning when set).

        Examples
        --------
        >>> import numpy as np, genomarray as ga
        >>> x = Cover.create_from_bam("reads", ga.example_path("sample.bam"),
        ...                           roi=ga.example_path("roi.bed"), binsize=200)
        >>> p = Cover.create_from_array("pred", np.zeros((len(x), 4, 1, 2)), gindexer=x)
        >>> p.shape, list(p.condition.values), p.attrs["resolution"]
        ((230, 4, 1, 2), ['Cond_0', 'Cond_1'], 50)
        """
        from genomarray.predictions import from_array

        _check_name(name)
        _ignored(datatags, overwrite)
        _storage(storage)
        like = gindexer if gindexer is not None else roi
        if like is None:
            raise InputError(
                "create_from_array needs the regions: pass gindexer= (a view) or roi=",
                source="create_from_array",
            )
        if not isinstance(like, xr.DataArray):
            like = _like_from_regions(like)
        values = array if isinstance(array, da.Array) else np.asarray(array)
        if not channel_last and values.ndim == 4:
            values = values.transpose(0, 2, 3, 1)
        n_cond = values.shape[-1]
        labels = [f"Cond_{i}" for i in range(n_cond)] if conditions is None else list(conditions)
        x = from_array(values, like=like, conditions=labels)
        res = _resolution(resolution)
        if res is not None and x.attrs.get(model.RESOLUTION) != res:
            raise InputError(
                f"resolution={res} does not match the array: "
                f"{values.shape[1] if values.ndim > 2 else 1} bins per window of "
                f"{x.attrs.get(model.WINDOW_BP)} bp make "
                f"{x.attrs.get(model.RESOLUTION)} bp bins",
                source="create_from_array",
            )
        if padding_value:
            x.attrs["fill_value"] = padding_value
        if genomesize is not None:
            from genomarray.io.chromsizes import chrom_sizes

            x.attrs[model.CHROM_SIZES] = chrom_sizes(genomesize)
        order = (model.REGION, model.CONDITION, model.POS, model.STRAND)
        return _finish(x, name, channel_last=channel_last, channel_first_dims=order)


def _like_from_regions(regions: Any) -> xr.DataArray:
    """A stand-in view (lazy zeros) with the windows of ``regions``."""
    from genomarray.regions import tile

    tiles = (
        regions
        if isinstance(regions, pd.DataFrame) and "binsize" in regions.attrs
        else tile(regions)
    )
    flank = int(tiles.attrs.get("flank", 0) or 0)
    lengths = (tiles["end"] - tiles["start"]).to_numpy(np.int64)
    binsize = tiles.attrs.get("binsize") or int(lengths.max(initial=1))
    width = int(binsize) + 2 * flank
    zeros = da.zeros((len(tiles), width), dtype=np.uint8, chunks=(max(len(tiles), 1), width))
    return model.region_view(
        zeros,
        tiles,
        resolution=1,
        binsize=int(binsize),
        flank=flank,
        stepsize=tiles.attrs.get("stepsize") or int(binsize),
    )


# -- Bioseq -----------------------------------------------------------------------------
class Bioseq:
    """Janggu's ``Bioseq`` constructors, returning ``(region, pos, strand, base)`` one-hot.

    Not instantiable: call a ``create_from_*`` method. Values have Janggu's shape
    ``(N, L - order + 1, 1, 4**order)``; ``base`` labels the k-mers (``AA``, ``AC``, ...).

    Examples
    --------
    >>> import genomarray as ga
    >>> x = Bioseq.create_from_refgenome("dna", refgenome=ga.example_path("genome.fa"),
    ...                                  roi=ga.example_path("roi.bed"), binsize=200,
    ...                                  order=2)
    >>> x.shape, list(x.base.values[:3])
    ((230, 199, 1, 16), ['AA', 'AC', 'AG'])
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Bioseq:
        raise TypeError(
            "genomarray.compat.Bioseq is not instantiated: call "
            "Bioseq.create_from_refgenome/_seq, which return DataArrays"
        )

    @staticmethod
    def create_from_refgenome(
        name: str,
        refgenome: Any,
        roi: Any = None,
        binsize: int | None = None,
        stepsize: int | None = None,
        flank: int = 0,
        order: int = 1,
        storage: str = "ndarray",
        datatags: Any = None,
        cache: bool = False,
        overwrite: bool = False,
        random_state: Any = None,
        store_whole_genome: bool = False,
        verbose: bool = False,
        channel_last: bool = True,
        zero_padding: bool = True,
    ) -> xr.DataArray:
        """One-hot sequence of regions of a reference genome.

        Janggu's ``Bioseq.create_from_refgenome``: minus-strand regions are
        reverse-complemented; windows past a chromosome end are padded with N (all-zero
        rows).

        Parameters
        ----------
        name
            Name of the returned DataArray.
        refgenome
            FASTA path, or a genome array from :func:`genomarray.sequences.read_fasta`.
        roi
            Regions of interest (BED/GFF path, DataFrame, PyRanges); None with
            ``store_whole_genome=True`` returns the genome's ``(chrom, pos)`` codes.
        binsize, stepsize, flank, zero_padding
            Tiling of ``roi`` (see :func:`genomarray.regions.tile`).
        order
            k-mer order of the one-hot encoding.
        storage
            ``"ndarray"`` (the window codes in memory, one-hot computed per access) or
            ``"hdf5"`` (lazy over the genome's zarr store).
        cache
            Keep the genome in the zarr cache (always so with ``"hdf5"``).
        random_state
            Shuffle the regions (Janggu's permutation for an integer seed).
        channel_last
            False gives Janggu's channel-first layout ``(region, base, pos, strand)``.
        store_whole_genome, verbose
            ``verbose`` shows progress bars; the genome is always read whole and lazily.
        datatags, overwrite
            No effect (DeprecationWarning when set).

        Examples
        --------
        >>> import genomarray as ga
        >>> x = Bioseq.create_from_refgenome("dna", ga.example_path("genome.fa"),
        ...                                  roi=ga.example_path("roi.bed"), binsize=100,
        ...                                  flank=10, storage="hdf5")
        >>> len(x), x[0:4].shape
        (460, (4, 120, 1, 4))
        """
        args = dict(locals())
        from genomarray.regions import tile
        from genomarray.sequences import read_fasta
        from genomarray.transforms.split import shuffle
        from genomarray.views import view as view_of

        _check_name(name)
        _ignored(datatags, overwrite)
        native = _storage(storage, ("ndarray", "hdf5", "memory", "zarr", "lazy"))
        if isinstance(refgenome, xr.DataArray):
            genome = refgenome
        else:
            genome = read_fasta(refgenome, cache=cache or native == "zarr", progress=verbose)
        if roi is None:
            if not store_whole_genome:
                raise InputError(
                    "either roi must be supplied or store_whole_genome must be True",
                    source="create_from_refgenome",
                )
            return genome.rename(name)
        tiles = tile(
            roi, binsize=binsize, stepsize=stepsize, flank=flank, zero_padding=zero_padding
        )
        codes = view_of(genome, tiles)
        if random_state is not None:
            codes = shuffle(codes, random_state)
        x = _onehot(codes, order, materialize=native == "memory")
        x = _finish(
            x,
            name,
            channel_last=channel_last,
            channel_first_dims=(model.REGION, model.BASE, model.POS, model.STRAND),
        )
        if isinstance(refgenome, xr.DataArray):
            return x
        return _record(x, "Bioseq.create_from_refgenome", args)

    @staticmethod
    def create_from_seq(
        name: str,
        fastafile: str | Sequence[str],
        storage: str = "ndarray",
        seqtype: str = "dna",
        order: int = 1,
        fixedlen: int | None = None,
        datatags: Any = None,
        cache: bool = False,
        channel_last: bool = True,
        overwrite: bool = False,
        verbose: bool = False,
    ) -> xr.DataArray:
        """One-hot of a FASTA of sequences (Janggu's ``Bioseq.create_from_seq``).

        Parameters
        ----------
        name
            Name of the returned DataArray.
        fastafile
            FASTA file or list of files; each record is one region (named by its ID).
        seqtype
            ``"dna"`` or ``"protein"`` (20 letters: ``20**order`` channels).
        order
            k-mer order of the one-hot encoding.
        fixedlen
            Truncate or pad (with N / X at the end) every sequence to this length; else
            all must be equally long.
        storage
            ``"ndarray"`` or ``"hdf5"`` (both hold the codes in memory here).
        channel_last
            False gives the channel-first layout ``(region, base, pos, strand)``.
        cache, datatags, overwrite, verbose
            No effect (``datatags``/``overwrite``: DeprecationWarning when set).

        Examples
        --------
        >>> import genomarray as ga
        >>> x = Bioseq.create_from_seq("seqs", ga.example_path("proteins.fa"),
        ...                            seqtype="protein", fixedlen=60)
        >>> x.shape
        (10, 60, 1, 20)
        """
        from genomarray.sequences import read_sequences

        _check_name(name)
        _ignored(datatags, overwrite)
        _storage(storage, ("ndarray", "hdf5", "memory", "zarr", "lazy"))
        parts = [read_sequences(p, fixedlen=fixedlen, alphabet=seqtype) for p in _files(fastafile)]
        widths = {p.sizes[model.POS] for p in parts}
        if len(widths) > 1:
            raise InputError(
                f"the files hold sequences of different lengths {sorted(widths)};"
                " pass fixedlen= to truncate or pad them",
                source="create_from_seq",
            )
        codes = (
            parts[0]
            if len(parts) == 1
            else xr.concat(parts, dim=model.REGION, combine_attrs="drop_conflicts")
        )
        ids = pd.Series(codes[model.REGION_NAME].values)
        if ids.duplicated().any():
            raise InputError(
                f"sequence IDs must be unique; {ids[ids.duplicated()].iloc[0]!r} "
                "appears more than once",
                source="create_from_seq",
            )
        x = _onehot(codes, order, materialize=True)
        return _finish(
            x,
            name,
            channel_last=channel_last,
            channel_first_dims=(model.REGION, model.BASE, model.POS, model.STRAND),
        )


# -- Janggu's view, subset and split_train_test -----------------------------------------
_CONSTRUCTORS: dict[str, Callable[..., xr.DataArray]] = {
    "Cover.create_from_bam": Cover.create_from_bam,
    "Cover.create_from_bigwig": Cover.create_from_bigwig,
    "Cover.create_from_bed": Cover.create_from_bed,
    "Bioseq.create_from_refgenome": Bioseq.create_from_refgenome,
}


def view(dataset: xr.DataArray, use_regions: Any) -> xr.DataArray:
    """The same data through other regions, tiled like ``dataset`` (Janggu's ``view``).

    Repeats the constructor call that built ``dataset`` (recorded in
    ``attrs["janggu_call"]``) with ``roi=use_regions``; the cached genome-wide store is
    reused, not copied. For arrays built otherwise, view the genome-wide array directly:
    ``genome.janggu.view(genomarray.transforms.split.retile(use_regions, like=dataset))``.

    Examples
    --------
    >>> import genomarray as ga, pandas as pd
    >>> x = Bioseq.create_from_refgenome("dna", ga.example_path("genome.fa"),
    ...                                  roi=ga.example_path("roi.bed"), binsize=200)
    >>> new = pd.DataFrame({"chrom": ["chr2"], "start": [0], "end": [1000]})
    >>> view(x, new).shape
    (5, 200, 1, 4)
    """
    call = dataset.attrs.get(JANGGU_CALL)
    if call is None:
        raise InputError(
            "this array does not record the genomarray.compat call that built "
            "it (one of its arguments was not JSON-serializable, or it was "
            "built otherwise); view the genome-wide array instead: "
            "genome.janggu.view(retile(use_regions, like=dataset))",
            source="view",
        )
    spec = json.loads(call)
    kwargs = {**spec["kwargs"], "roi": use_regions}
    return _CONSTRUCTORS[spec["fn"]](str(dataset.name), **kwargs)


def subset(
    dataset: xr.DataArray | xr.Dataset,
    include_regions: str | Sequence[str] | None = None,
    exclude_regions: str | Sequence[str] | None = None,
) -> xr.DataArray | xr.Dataset:
    """Keep the regions on some chromosomes (Janggu's ``subset``).

    See :func:`genomarray.transforms.split.subset` (which also selects by overlap).

    Examples
    --------
    >>> import genomarray as ga
    >>> x = Bioseq.create_from_refgenome("dna", ga.example_path("genome.fa"),
    ...                                  roi=ga.example_path("roi.bed"), binsize=200)
    >>> len(subset(x, include_regions="chr3"))
    50
    """
    from genomarray.transforms import split

    return split.subset(dataset, include=include_regions, exclude=exclude_regions)


def split_train_test(datasets: Any, holdout_chroms: str | Sequence[str]) -> tuple[Any, Any]:
    """Hold out chromosomes as a test set (Janggu's ``split_train_test``).

    ``datasets`` is one array, a list, a dict or Janggu's ``(inputs, outputs)`` tuple;
    ``(train, test)`` keep its structure (a dict stays a dict). See
    :func:`genomarray.transforms.split.split_train_test`.

    Examples
    --------
    >>> import genomarray as ga
    >>> x = Bioseq.create_from_refgenome("dna", ga.example_path("genome.fa"),
    ...                                  roi=ga.example_path("roi.bed"), binsize=200)
    >>> train, test = split_train_test(x, holdout_chroms=["chr3"])
    >>> len(train), len(test)
    (180, 50)
    """
    from genomarray.transforms import split

    return split.split_train_test(datasets, holdout_chroms)
