"""Coverage tracks ``(chrom, pos, strand, condition)`` from BAM, bigWig and interval files.

This is Janggu's ``Cover``. Each ``read_*`` function turns per-file readers (numpy blocks
for ``(chrom, start, end)`` in bins, see :mod:`genomarray.io`) into one genome-wide track,
one condition per file (or per category), and decides how the result is held:

============  ==========================================================================
storage       what you get
============  ==========================================================================
``"zarr"``    lazy over a zarr store written once (the cache, or ``store_path``); default
``"lazy"``    lazy over the input files, nothing written
``"memory"``  numpy in RAM
``"sparse"``  dask array of ``sparse.COO`` chunks (mostly-zero label tracks)
============  ==========================================================================

``cache=True`` (the default for ``storage="zarr"``) reuses a store built from the same
input content and parameters; a change of either builds a new one. ``"memory"`` and
``"sparse"`` touch no disk unless ``cache=True`` or ``store_path`` is given.
``store_whole_genome=False`` keeps only what overlaps the regions of interest (``roi``,
flanks included); everything else is 0 and, being the fill value, costs nothing on disk.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from genomarray import model
from genomarray.errors import InputError
from genomarray.genome.tracks import (
    build_track,
    check_same_chromosomes,
    condition_names,
    input_paths,
)
from genomarray.io.text import is_stream


def read_bam(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    conditions: Sequence[str] | None = None,
    *,
    mode: str = "5prime",
    stranded: bool = True,
    min_mapq: int = 0,
    pairedend: str = "5prime",
    template_extension: int = 0,
    exclude_flags: int | None = None,
    resolution: int = 1,
    roi: Any = None,
    store_whole_genome: bool = True,
    storage: str = "zarr",
    cache: bool | None = None,
    store_path: str | os.PathLike | None = None,
    chunk: int | None = None,
    progress: bool = True,
    reference: str | os.PathLike | None = None,
    storage_options: dict[str, Any] | None = None,
) -> xr.DataArray:
    """Read counts from BAM files as a track ``(chrom, pos, strand, condition)``.

    Parameters
    ----------
    paths
        One BAM or a list (one condition each); sorted and indexed. ``http(s)://`` URLs
        are read by range requests (their index, next to them on the server, is
        downloaded once).
    conditions
        Condition labels (default: the file stems).
    mode
        ``"5prime"``: count each read at its 5' end (a reverse read at its last aligned
        base; both mates of a proper pair, each at its own); ``"coverage"``: per-base read depth,
        CIGAR-aware, as ``samtools depth -a``.
    stranded
        Keep ``+`` and ``-`` apart (strand dim ``("+", "-")``), else sum them (``"."``).
    min_mapq
        Skip reads with a lower mapping quality.
    pairedend
        Proper pairs (both mates on one chromosome): ``"5prime"`` counts every mate at its
        own 5' end on its own strand (as Janggu and ``bedtools genomecov -5``);
        ``"midpoint"`` counts each fragment once, at its middle, on read 1's strand.
    template_extension
        ``mode="coverage"``: extend each read 3'-ward by this many bp.
    exclude_flags
        SAM flags to skip (default: unmapped, secondary, QC-fail, duplicate,
        supplementary).
    resolution
        Bin size in bp; counts are summed per bin.
    roi, store_whole_genome
        With ``store_whole_genome=False`` only bins overlapping ``roi`` (and its flanks)
        are kept.
    storage
        ``"zarr"`` (default), ``"lazy"``, ``"memory"`` or ``"sparse"``.
    cache
        Reuse a store built from the same files and parameters (default: on for
        ``storage="zarr"``, off otherwise; ``False`` with ``"zarr"`` rebuilds the store).
    store_path
        Where to write the store (default: under the output root): a folder or an fsspec
        URL (``s3://bucket/track.zarr``).
    chunk
        Bins per chunk along ``pos`` (default: :func:`~genomarray.genome.graph.chunk_length`,
        1 Mb, or fewer bins where a bin holds many conditions).
    progress
        Show a progress bar while building.
    reference
        CRAM only: the FASTA the CRAM was written against (required for a CRAM URL).
    storage_options
        fsspec options for a ``store_path`` URL (credentials, ``endpoint_url``, ...).

    Returns
    -------
    xarray.DataArray
        int32 counts.

    Examples
    --------
    >>> import genomarray as ga
    >>> cov = ga.read_bam(ga.example_path("sample.bam"), storage="lazy")
    >>> cov.dims, list(cov.strand.values), list(cov.condition.values)
    (('chrom', 'pos', 'strand', 'condition'), ['+', '-'], ['sample'])
    """
    from genomarray.io import bam

    paths = input_paths(paths, "BAM file", random_access=True)
    labels = condition_names(paths, conditions)
    ref = None if reference is None else os.fspath(reference)
    for p in paths:
        bam.check_bam(p, ref)
        if bam.mapped_reads(p, ref) == 0:
            warnings.warn(f"{p}: no mapped reads; its condition is all zeros", stacklevel=2)
    sizes = check_same_chromosomes({p: bam.bam_chrom_sizes(p, ref) for p in paths})
    options = {
        "mode": mode,
        "stranded": stranded,
        "min_mapq": min_mapq,
        "pairedend": pairedend,
        "template_extension": template_extension,
        "resolution": resolution,
    }
    if exclude_flags is not None:
        options["exclude_flags"] = exclude_flags
    readers = [bam.BamCounter(p, reference=ref, **options) for p in paths]
    params = {k: v for k, v in options.items() if k != "resolution"}
    params["exclude_flags"] = readers[0].exclude_flags
    return build_track(
        readers,
        sizes,
        ("+", "-") if stranded else (".",),
        labels,
        np.int32,
        resolution,
        "bam",
        paths,
        params,
        roi=roi,
        store_whole_genome=store_whole_genome,
        storage=storage,
        cache=cache,
        store_path=store_path,
        chunk=chunk,
        progress=progress,
        storage_options=storage_options,
        attrs={model.READER: "bam", model.MODE: mode},
    )


def _describe(like: Any) -> str:
    """A short name for where chromosome sizes came from (never a whole array repr)."""
    if isinstance(like, xr.DataArray | xr.Dataset):
        return str(like.attrs.get(model.PATH) or "the genome array")
    if isinstance(like, dict):
        return "the chromosome sizes"
    return os.fspath(like)


def sizes_from(like: Any, what: str) -> dict[str, int]:
    from genomarray.io.chromsizes import chrom_sizes

    if like is None:
        raise InputError(
            f"chromosome sizes unknown for {what}: pass like= (a genome array, "
            "FASTA, BAM or bigWig) or chrom_sizes= (a dict or sizes file)"
        )
    if isinstance(like, xr.DataArray | xr.Dataset):
        return model.chrom_sizes(like)
    return chrom_sizes(like)


def read_bigwig(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    conditions: Sequence[str] | None = None,
    *,
    resolution: int = 1,
    how: str = "mean",
    nan_to_num: bool = True,
    exact: bool = False,
    roi: Any = None,
    store_whole_genome: bool = True,
    storage: str = "zarr",
    cache: bool | None = None,
    store_path: str | os.PathLike | None = None,
    chunk: int | None = None,
    progress: bool = True,
    storage_options: dict[str, Any] | None = None,
) -> xr.DataArray:
    """Read bigWig signal as a track ``(chrom, pos, strand=".", condition)``.

    Parameters
    ----------
    paths
        One bigWig or a list (one condition each); ``http(s)://`` URLs are read by range
        requests.
    conditions
        Condition labels (default: the file stems).
    resolution
        Bin size in bp. Above 1, bins are summarised by ``how`` (``"mean"``, ``"max"``,
        ``"min"``, ``"sum"``, ``"coverage"``), from the file's zoom levels unless
        ``exact``.
    nan_to_num
        Uncovered bases read as 0 (else NaN).
    exact
        Exact per-base statistics instead of zoom-level summaries.
    roi, store_whole_genome, storage, cache, store_path, chunk, progress, storage_options
        As in :func:`read_bam`.

    Examples
    --------
    >>> import genomarray as ga
    >>> sig = ga.read_bigwig(ga.example_path("sample.bw"), storage="lazy")
    >>> sig.sizes["condition"], str(sig.dtype)
    (1, 'float32')
    """
    from genomarray.io import bigwig

    paths = input_paths(paths, "bigWig file", random_access=True)
    labels = condition_names(paths, conditions)
    sizes = check_same_chromosomes({p: bigwig.bigwig_chrom_sizes(p) for p in paths})
    options = {"resolution": resolution, "how": how, "nan_to_num": nan_to_num, "exact": exact}
    readers = [bigwig.BigWigReader(p, **options) for p in paths]
    params = {k: v for k, v in options.items() if k != "resolution"}
    params["backend"] = bigwig.resolved_backend(readers[0].backend)
    return build_track(
        readers,
        sizes,
        (".",),
        labels,
        np.float32,
        resolution,
        "bigwig",
        paths,
        params,
        roi=roi,
        store_whole_genome=store_whole_genome,
        storage=storage,
        cache=cache,
        store_path=store_path,
        chunk=chunk,
        progress=progress,
        storage_options=storage_options,
        attrs={model.READER: "bigwig"},
    )


def read_bed(
    paths: str | os.PathLike | pd.DataFrame | Sequence[str | os.PathLike],
    mode: str = "binary",
    *,
    like: Any = None,
    conditions: Sequence[str] | None = None,
    resolution: int = 1,
    minoverlap: float | None = None,
    feature: Any = None,
    category_column: str | None = None,
    roi: Any = None,
    store_whole_genome: bool = True,
    storage: str = "zarr",
    cache: bool | None = None,
    store_path: str | os.PathLike | None = None,
    chunk: int | None = None,
    progress: bool = True,
    storage_options: dict[str, Any] | None = None,
    dtype: Any = "float32",
) -> xr.DataArray:
    """Read intervals (BED, narrowPeak, bedGraph, GFF/GTF) as a track.

    Parameters
    ----------
    paths
        One file (or DataFrame) or a list of files (one condition each); URLs
        (``http(s)://``, ``s3://``) are downloaded once into the output root.
    mode
        ``"binary"`` (1 where a feature is), ``"score"`` (its score), ``"bedgraph"``
        (its value), ``"score_category"`` / ``"name_category"`` (one condition per
        distinct score / name, sorted; one file only).
    like
        Where chromosome sizes come from: a genome array, FASTA, BAM, bigWig, sizes file
        or ``{chrom: length}`` dict.
    conditions
        Condition labels (default: file stems, or the categories).
    resolution
        Bin size in bp.
    minoverlap
        Fraction of a bin a feature must cover to count for it (default: 1 bp).
    feature
        GFF/GTF feature type(s) to keep (e.g. ``"exon"``).
    category_column
        Column of the categories for ``name_category`` (default ``"name"``; use
        ``"feature"`` for a track per GFF feature type).
    roi, store_whole_genome, storage, cache, store_path, chunk, progress, storage_options
        As in :func:`read_bam`.
    dtype
        Track dtype: ``float32``, or an integer (``"uint8"``) or bool dtype for labels
        (``"binary"`` and ``*_category`` modes): a store of 919 conditions over hg19 at
        200 bp is 57 GB raw as float32, 14 GB as uint8, and its chunks decode ~10x faster.

    Notes
    -----
    Many files (``"binary"`` and ``"score"`` modes) are read one at a time into a single
    reader of all conditions (:class:`~genomarray.io.interval_stack.IntervalStack`), only when
    the track is built: only their intervals' coordinates are held (~20 bytes each), never
    their tables at once.

    Examples
    --------
    >>> import genomarray as ga
    >>> peaks = ga.read_bed(ga.example_path("peaks.narrowPeak"),
    ...                     like=ga.example_path("genome.fa"), storage="memory", progress=False)
    >>> int(peaks.sel(chrom="chr1").sum())   # 38 peaks of 200 bp on chr1
    7600
    """
    from genomarray.io import interval_stack, intervals

    dtype = _label_dtype(dtype, mode)
    categorical = mode.endswith("_category")
    column = category_column or ("score" if mode == "score_category" else "name")
    if isinstance(paths, pd.DataFrame):
        inputs: list[str] = []
        first = "regions"
    else:
        inputs = input_paths(paths, "interval file")
        first = inputs[0]
    sizes = sizes_from(like, first)
    options = {
        "mode": mode,
        "resolution": resolution,
        "minoverlap": minoverlap,
        "category_column": column,
        "chrom_sizes": sizes,
    }
    if len(inputs) > 1 and mode in interval_stack.STACK_MODES:  # many files: stream them

        def readers() -> list[Any]:  # read when the track is built, not on a cache hit
            stack = interval_stack.IntervalStack(
                mode=mode,
                resolution=resolution,
                minoverlap=minoverlap,
                chrom_sizes=sizes,
                dtype=dtype,
            )
            for src in inputs:
                stack.add(_regions_of(src, feature, sizes, like), source=src)
            return [stack.freeze()]

        frames: dict[str, pd.DataFrame] = {}
        labels = condition_names(inputs, conditions)
        categorical = True  # one reader gives every condition
    elif isinstance(paths, pd.DataFrame):
        frames = {"regions": _checked(paths, "regions", sizes, like)}
    else:
        frames = {p: _regions_of(p, feature, sizes, like) for p in inputs}
    if frames and categorical:
        if len(frames) != 1:
            raise InputError(
                f"mode={mode!r} reads one file (its categories are the "
                f"conditions), got {len(frames)}"
            )
        ((src, df),) = frames.items()
        cats = intervals.categories_of(df, mode, column)
        readers = [
            intervals.IntervalCoverage(_slim(df, column), categories=cats, source=src, **options)
        ]
        labels = list(conditions) if conditions is not None else list(cats)
    elif frames:
        readers = [
            intervals.IntervalCoverage(_slim(df, column), source=src, **options)
            for src, df in frames.items()
        ]
        labels = (
            condition_names(list(frames), conditions) if inputs else list(conditions or ["regions"])
        )
    params = {
        "mode": mode,
        "minoverlap": minoverlap,
        "feature": feature,
        "category_column": column,
        "sizes": sorted(sizes.items()),
    }
    if dtype != np.float32:  # float32 stores keep the keys they always had
        params["dtype"] = dtype.str
    if not inputs:
        params["frame"] = int(
            pd.util.hash_pandas_object(next(iter(frames.values())), index=False).sum()
        )
    streamed = [p for p in inputs if is_stream(p)]
    if streamed:  # a pipe was read once: key on what was parsed, not on the (spent) stream
        params["streamed"] = {
            p: int(pd.util.hash_pandas_object(frames[p], index=False).sum()) for p in streamed
        }
    return build_track(
        readers,
        sizes,
        (".",),
        labels,
        dtype,
        resolution,
        "intervals",
        inputs,
        params,
        key_inputs=[p for p in inputs if p not in streamed],
        categorical=categorical,
        roi=roi,
        store_whole_genome=store_whole_genome,
        storage=storage,
        cache=cache,
        store_path=store_path,
        chunk=chunk,
        progress=progress,
        storage_options=storage_options,
        attrs={model.READER: "intervals", model.MODE: mode},
    )


def _label_dtype(dtype: Any, mode: str) -> np.dtype:
    """The dtype of an interval track: float32, or an integer/bool dtype for labels."""
    try:
        out = np.dtype(dtype)
    except TypeError as err:
        raise InputError(f"dtype must be a numpy dtype, got {dtype!r}") from err
    if out.kind not in "fiub":
        raise InputError(f"dtype must be a float, integer or bool dtype, got {out}")
    if out.kind != "f" and not (mode == "binary" or mode.endswith("_category")):
        raise InputError(
            f"mode={mode!r} holds scores or values: it needs a float dtype, got {out} "
            "(integer and bool dtypes are for the label modes: binary, *_category)"
        )
    return out


def _checked(df: pd.DataFrame, source: str, sizes: dict[str, int], like: Any) -> pd.DataFrame:
    """``df`` once its regions are checked to lie on the genome's chromosomes."""
    if not len(df):
        return df
    if {"chrom", "start"} <= set(df.columns):  # the usual case, fast: all on the genome
        length = df["chrom"].map(sizes)
        if not length.isna().any() and (df["start"].to_numpy() < length.to_numpy()).all():
            return df
    from genomarray.regions import check_chromosomes  # says what is wrong, and where

    check_chromosomes(df, sizes, source=source, genome=_describe(like))
    return df


def _regions_of(path: str, feature: Any, sizes: dict[str, int], like: Any) -> pd.DataFrame:
    """One interval file read and checked against the chromosome sizes."""
    from genomarray.io.regions import read_regions
    from genomarray.io.remote import fetch, is_url  # remote text, fetched once

    return _checked(
        read_regions(fetch(path) if is_url(path) else path, feature=feature), path, sizes, like
    )


def _slim(df: pd.DataFrame, column: str) -> pd.DataFrame:
    keep = [
        c
        for c in ("chrom", "start", "end", "name", "score", "strand", column, "feature")
        if c in df.columns
    ]
    out = df[list(dict.fromkeys(keep))].copy()
    out.attrs = dict(df.attrs)
    return out


def read_gff(
    path: str | os.PathLike, feature: Any = None, mode: str = "binary", **kwargs: Any
) -> xr.DataArray:
    """Read GFF/GTF features as a binary track, or one condition per feature type.

    ``mode="binary"`` marks where any of ``feature`` (e.g. ``"exon"``) lies;
    ``mode="feature_category"`` gives one condition per feature type.

    Examples
    --------
    >>> import genomarray as ga
    >>> exons = ga.read_gff(ga.example_path("genes.gtf"), feature="exon",
    ...                     like=ga.example_path("genome.fa"), storage="memory", progress=False)
    >>> exons.sizes["condition"]
    1
    """
    if mode == "feature_category":
        return read_bed(path, "name_category", feature=feature, category_column="feature", **kwargs)
    return read_bed(path, mode, feature=feature, **kwargs)


def is_empty(track: xr.DataArray) -> bool:
    """True if a track holds only zeros (computes it).

    Examples
    --------
    >>> import numpy as np
    >>> t = model.coverage_track(np.zeros((1, 3, 1, 1)), ["c"], [3], ["."], ["x"])
    >>> is_empty(t)
    True
    """
    return not bool((track != 0).any())
