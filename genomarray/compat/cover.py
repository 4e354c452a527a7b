"""Janggu's ``Cover``: coverage views ``(region, pos, strand, condition)`` from BAM, bigWig,
BED files or arrays, with Janggu's constructor names, defaults and shapes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from genomarray import model
from genomarray.compat.base import Dataset, adopt, plain
from genomarray.compat.common import (
    check_name,
    file_list,
    finish,
    like_from_regions,
    record_call,
    storage_name,
    warn_ignored,
)
from genomarray.compat.normalizers import janggu_steps
from genomarray.errors import InputError

COLLAPSERS = ("sum", "mean", "max")
"""Janggu's named collapsers (a callable ``f(values)`` reducing axis 1 of a
``(bins, resolution, strands)`` array is accepted too, and a numpy reduction such as
``np.sum``, which is then called with ``axis=1``)."""


_BED_MODES = {"categorical": "score_category"}


def _collapser(collapser: Any, default: str) -> Any:
    """A genomarray reduction for Janggu's ``collapser`` (name or ``f(values)``)."""
    if collapser is None:
        return default
    if callable(collapser):

        def reduce(values: np.ndarray, axis: int = -1) -> np.ndarray:
            moved = np.moveaxis(values, axis, -1)
            flat = moved.reshape(-1, moved.shape[-1])[:, :, None]  # (bins, resolution, 1)
            out = np.asarray(collapser(flat))
            if out.size != flat.shape[0]:  # a numpy reduction such as np.sum: along axis 1
                out = np.asarray(collapser(flat, axis=1))
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


def _normalize(x: xr.DataArray, normalizer: Any, store_whole_genome: bool) -> xr.DataArray:
    if normalizer is None or (isinstance(normalizer, list | tuple) and not normalizer):
        return x
    from genomarray.transforms.normalize import normalize

    return normalize(x, janggu_steps(normalizer, store_whole_genome))


def _minoverlap_mask(
    x: xr.DataArray, coverage: xr.DataArray, resolution: int | None, minoverlap: float
) -> xr.DataArray:
    """Zero the bins that features cover by less than ``minoverlap`` of their length."""
    from genomarray.transforms.collapse import collapse

    frac = collapse(coverage, resolution, how="mean")
    mask = frac.data >= minoverlap
    return x.copy(data=x.data * mask.astype(x.dtype))


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
    from genomarray.views.windows import view as view_of

    resolution = _resolution(resolution)
    native = storage_name(storage)
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
        track = _normalize(track, normalizer, True)
        return finish(track, name, dtype=dtype, materialize=materialize)
    x = view_of(_densified(track), tiles)
    if resolution != 1:
        x = collapse(x, resolution, how=how)
    if minoverlap is not None and resolution != 1 and coverage is not None:
        cov = view_of(_densified(_restrict(coverage(**options), genomesize)), tiles)
        x = _minoverlap_mask(x, cov, resolution, minoverlap)
    x = _normalize(x, normalizer, store_whole_genome)
    return finish(
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
    from genomarray.genome.coverage import sizes_from
    from genomarray.io.regions import read_regions

    if genomesize is not None:
        return sizes_from(genomesize, "genomesize")
    frames = [read_regions(p) for p in bedfiles]
    if tiles is not None:
        flank = int(tiles.attrs.get(model.FLANK, 0) or 0)
        frames.append(tiles.assign(end=tiles["end"] + flank))
    ends = pd.concat([f[["chrom", "end"]] for f in frames], ignore_index=True)
    if not len(ends):
        raise InputError(
            "cannot tell the chromosome sizes: pass genomesize=", source="create_from_bed"
        )
    sizes = ends.groupby("chrom", sort=False)["end"].max()
    return {str(k): int(v) for k, v in sizes.items()}


# -- Cover ------------------------------------------------------------------------------
class Cover(Dataset):
    """Janggu's ``Cover``: a coverage view ``(region, pos, strand, condition)``.

    A :class:`~genomarray.compat.base.Dataset` (an :class:`xarray.DataArray` named
    ``name``, with Janggu's indexing). Build it with a ``create_from_*`` constructor, or
    as Janggu did from a genome-wide track and a ``GenomicIndexer``:
    ``Cover(name, garray=track, gindexer=gi)`` views ``track`` (a genomarray coverage
    track, e.g. from :func:`genomarray.read_bam`) through ``gi``'s windows. With
    ``roi=None`` and ``store_whole_genome=True`` the constructors return the genome-wide
    track itself (a plain DataArray).

    Examples
    --------
    >>> import genomarray as ga
    >>> x = Cover.create_from_bam("reads", bamfiles=ga.example_path("sample.bam"),
    ...                           roi=ga.example_path("roi.bed"), binsize=200,
    ...                           resolution=50)
    >>> x.shape, x.dims, x[0].shape
    ((230, 4, 2, 1), ('region', 'pos', 'strand', 'condition'), (1, 4, 2, 1))
    """

    __slots__ = ()

    def __init__(self, name: str, garray: Any, gindexer: Any) -> None:
        from genomarray.views.windows import view as view_of

        check_name(name)
        if not isinstance(garray, xr.DataArray) or model.CHROM not in garray.dims:
            raise InputError(
                "Cover(name, garray, gindexer) takes a genome-wide coverage track "
                "(chrom, pos, strand, condition) as garray",
                source="Cover",
            )
        x = view_of(_densified(garray), gindexer.tiles()).rename(name)
        xr.DataArray.__init__(
            self, x.variable, x._coords, name=name, indexes=x._indexes, fastpath=True
        )

    def export_to_bigwig(self, output_dir: str | Any, genomesize: Any = None) -> None:
        """Write one bigWig per condition, ``<output_dir>/<name>.<condition>.bigwig``, the
        strands summed (Janggu's ``export_to_bigwig``; existing files are replaced).

        Parameters
        ----------
        output_dir
            Folder (created).
        genomesize
            ``{chrom: length}`` (or a sizes/FASTA file); default: the genome the dataset
            was cut from, else the furthest window end per chromosome.

        Examples
        --------
        >>> import os, tempfile, genomarray as ga
        >>> x = Cover.create_from_bigwig("cov", ga.example_path("sample.bw"),
        ...                              roi=ga.example_path("roi.bed"), binsize=200)
        >>> out = tempfile.mkdtemp()
        >>> x.export_to_bigwig(out)
        >>> os.listdir(out)
        ['cov.sample.bigwig']
        """
        export_to_bigwig(self, output_dir, genomesize)

    @classmethod
    def create_from_bam(
        cls,
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
            As in :func:`genomarray.genome.coverage.read_bam` (``mode="coverage"`` is new).
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
        from genomarray.genome.coverage import read_bam

        check_name(name)
        warn_ignored(datatags, overwrite)
        files = file_list(bamfiles)

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
        return adopt(cls, record_call(x, "Cover.create_from_bam", args))

    @classmethod
    def create_from_bigwig(
        cls,
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
        from genomarray.genome.coverage import read_bigwig

        check_name(name)
        warn_ignored(datatags, overwrite)
        files = file_list(bigwigfiles)
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
        return adopt(cls, record_call(x, "Cover.create_from_bigwig", args))

    @classmethod
    def create_from_bed(
        cls,
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
        from genomarray.genome.coverage import read_bed
        from genomarray.io.regions import read_regions

        check_name(name)
        warn_ignored(datatags, overwrite)
        files = file_list(bedfiles)
        how = _collapser(collapser, "max")
        native_mode = _BED_MODES.get(mode, mode)
        if native_mode == "bedgraph":  # Janggu: on overlaps the last record wins
            from genomarray.compat.bedgraph import last_record_wins

            files = [last_record_wins(f) for f in files]
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
        return adopt(cls, record_call(x, "Cover.create_from_bed", args))

    @classmethod
    def create_from_array(
        cls,
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
            ``{chrom: length}`` recorded for :func:`genomarray.views.predictions.to_genome`.
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
        from genomarray.compat.gindexer import GenomicIndexer
        from genomarray.views.predictions import from_array

        check_name(name)
        warn_ignored(datatags, overwrite)
        storage_name(storage)
        like = gindexer if gindexer is not None else roi
        if like is None:
            raise InputError(
                "create_from_array needs the regions: pass gindexer= (a view) or roi=",
                source="create_from_array",
            )
        known_sizes = like.attrs.get(model.CHROM_SIZES) if isinstance(like, xr.DataArray) else None
        if isinstance(like, xr.DataArray) and model.POS not in like.dims:
            like = Dataset.adopt(like).gindexer  # a reduced dataset: its windows
        if isinstance(like, GenomicIndexer):
            like = like_from_regions(like.tiles())
        elif isinstance(like, xr.DataArray):
            like = plain(like)
        else:
            like = like_from_regions(like)
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
            x.attrs[model.FILL_VALUE] = padding_value
        if genomesize is not None:
            from genomarray.io.chromsizes import chrom_sizes

            x.attrs[model.CHROM_SIZES] = chrom_sizes(genomesize)
        elif known_sizes is not None:
            x.attrs[model.CHROM_SIZES] = known_sizes
        order = (model.REGION, model.CONDITION, model.POS, model.STRAND)
        x = finish(x, name, channel_last=channel_last, channel_first_dims=order)
        return cls.adopt(x)


def window_sizes(x: xr.DataArray) -> dict[str, int]:
    """The furthest window end (flank included) per chromosome, in order of appearance."""
    flank = int(x.attrs.get(model.FLANK, 0) or 0)
    ends = pd.DataFrame(
        {"chrom": x[model.REGION_CHROM].values.astype(str), "end": x[model.REGION_END].values}
    )
    sizes = ends.groupby("chrom", sort=False)["end"].max() + flank
    return {str(k): int(v) for k, v in sizes.items()}


def export_to_bigwig(x: xr.DataArray, output_dir: Any, genomesize: Any = None) -> None:
    """Janggu's ``Cover.export_to_bigwig``: ``<output_dir>/<name>.<condition>.bigwig``."""
    import os
    from pathlib import Path

    from genomarray.export.tracks import to_bigwig

    native = plain(x)
    if model.REGION not in native.dims or model.CONDITION not in native.dims:
        raise InputError(
            f"export_to_bigwig writes a coverage view (region, pos, strand, condition); "
            f"{x.name!r} has the dims {tuple(native.dims)}",
            source="export_to_bigwig",
        )
    os.makedirs(output_dir, exist_ok=True)
    if genomesize is not None:
        from genomarray.io.chromsizes import chrom_sizes

        sizes = dict(chrom_sizes(genomesize))
    else:
        sizes = dict(native.attrs.get(model.CHROM_SIZES) or {}) or window_sizes(native)
    for cond in native[model.CONDITION].values:
        target = Path(output_dir) / f"{native.name}.{cond}.bigwig"
        one = native.sel({model.CONDITION: [cond]})
        to_bigwig(one, target, strands="sum", overwrite=True, chrom_sizes=sizes)
