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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from genomarray import model, store
from genomarray.errors import ChromosomeError, InputError, check_exists

STORAGES = ("zarr", "lazy", "memory", "sparse")


def condition_name(path: str | os.PathLike) -> str:
    """Return a condition label from a file name: its stem without genomics suffixes.

    Examples
    --------
    >>> condition_name("/data/rep1.sorted.bam")
    'rep1.sorted'
    >>> condition_name("peaks.narrowPeak.gz")
    'peaks'
    """
    name = Path(path).name
    for suffix in (".gz", ".bgz"):
        name = name.removesuffix(suffix)
    return name.rsplit(".", 1)[0] if "." in name else name


def _conditions(paths: Sequence[str], conditions: Sequence[str] | None) -> list[str]:
    if conditions is None:
        names = [condition_name(p) for p in paths]
        if len(set(names)) < len(names):  # same stem in different folders
            names = [f"{n}_{i}" for i, n in enumerate(names)]
        return names
    conditions = [str(c) for c in ([conditions] if isinstance(conditions, str) else conditions)]
    if len(conditions) != len(paths):
        raise InputError(f"{len(conditions)} condition names for {len(paths)} files")
    return conditions


def _paths(paths: str | os.PathLike | Sequence[str | os.PathLike], what: str) -> list[str]:
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    from genomarray.io.remote import is_url  # hook: URLs stay URLs

    paths = [p if is_url(p) else os.path.abspath(check_exists(p, what)) for p in paths]
    if not paths:
        raise InputError(f"no {what}s given")
    return paths


def check_same_chromosomes(sizes: dict[str, dict[str, int]]) -> dict[str, int]:
    """Check that several files name the same chromosomes; return the first file's sizes.

    Chromosomes missing from a later file are an error that names both spellings when
    they differ only by a ``chr`` prefix.

    Examples
    --------
    >>> check_same_chromosomes({"a.bam": {"chr1": 10}, "b.bam": {"chr1": 10}})
    {'chr1': 10}
    """
    (first, ref), *others = sizes.items()
    for other, got in others:
        missing = [c for c in ref if c not in got]
        if missing:
            c = missing[0]
            alt = c[3:] if c.startswith("chr") else f"chr{c}"
            hint = (
                (
                    f"; {other} spells it {alt!r}: the files name chromosomes differently "
                    f"({c!r} vs {alt!r})"
                )
                if alt in got
                else ""
            )
            raise ChromosomeError(f"chromosome {c!r} of {first} is not in {other}{hint}")
        for c in ref:
            if got[c] != ref[c]:
                raise InputError(
                    f"chromosome {c!r} is {ref[c]} bp in {first} but {got[c]} bp "
                    f"in {other} (different genome assemblies?)"
                )
    return ref


@dataclass(frozen=True)
class RoiMask:
    """Which bins of each chromosome overlap the regions of interest (flanks included)."""

    intervals: dict[str, tuple[np.ndarray, np.ndarray]]  # chrom -> sorted starts, ends (bins)

    @classmethod
    def from_regions(cls, roi: pd.DataFrame, resolution: int) -> RoiMask:
        flank = int(roi.attrs.get("flank", 0) or 0)
        out = {}
        for chrom, grp in roi.groupby("chrom", sort=False, observed=True):
            lo = np.maximum(grp["start"].to_numpy(np.int64) - flank, 0) // resolution
            hi = -(-(grp["end"].to_numpy(np.int64) + flank) // resolution)
            order = np.argsort(lo)
            out[str(chrom)] = (lo[order], np.maximum.accumulate(hi[order]))
        return cls(out)

    def mask(self, chrom: str, start: int, end: int) -> np.ndarray | None:
        """Boolean mask of bins [start, end) inside the ROI, or None if none is."""
        if chrom not in self.intervals:
            return None
        lo, hi = self.intervals[chrom]
        first = np.searchsorted(hi, start, side="right")
        last = np.searchsorted(lo, end, side="left")
        if first >= last:
            return None
        diff = np.zeros(end - start + 1, dtype=np.int32)
        np.add.at(diff, np.clip(lo[first:last] - start, 0, end - start), 1)
        np.add.at(diff, np.clip(hi[first:last] - start, 0, end - start), -1)
        return np.cumsum(diff[:-1]) > 0


def kept_intervals(roi: pd.DataFrame, sizes: dict[str, int]) -> dict[str, list[list[int]]]:
    """The merged bp intervals (flanks included, clipped to the chromosomes) an ROI-only
    track keeps, as ``{chrom: [[start, end], ...]}`` (JSON-able, stored in its attrs).

    Examples
    --------
    >>> import pandas as pd
    >>> roi = pd.DataFrame({"chrom": ["c", "c"], "start": [0, 10], "end": [10, 30]})
    >>> kept_intervals(roi, {"c": 25})
    {'c': [[0, 25]]}
    """
    flank = int(roi.attrs.get("flank", 0) or 0)
    out: dict[str, list[list[int]]] = {}
    for chrom, grp in roi.groupby("chrom", sort=False, observed=True):
        lo = np.maximum(grp["start"].to_numpy(np.int64) - flank, 0)
        hi = np.minimum(grp["end"].to_numpy(np.int64) + flank, sizes[str(chrom)])
        order = np.argsort(lo)
        merged: list[list[int]] = []
        for a, b in zip(lo[order].tolist(), hi[order].tolist(), strict=True):
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        out[str(chrom)] = merged
    return out


@dataclass(frozen=True)
class StackedReader:
    """Calls one reader per condition group and stacks them to ``(n, strand, condition)``.

    Each reader returns ``(n, strand)`` (one condition) or, when ``categorical``,
    ``(n, condition)`` (one strand).
    """

    readers: tuple[Callable[[str, int, int], np.ndarray], ...]
    n_strands: int
    n_conditions: int
    dtype: str
    categorical: bool = False
    roi: RoiMask | None = None

    def __call__(self, chrom: str, start: int, end: int) -> np.ndarray:
        out = np.zeros((end - start, self.n_strands, self.n_conditions), dtype=self.dtype)
        keep = None
        if self.roi is not None:
            keep = self.roi.mask(chrom, start, end)
            if keep is None:
                return out
        if self.categorical:
            out[:, 0, :] = self.readers[0](chrom, start, end)
        else:
            for i, reader in enumerate(self.readers):
                out[:, :, i] = reader(chrom, start, end)
        if keep is not None and not keep.all():
            out[~keep] = 0
        return out


def _to_sparse(block: np.ndarray) -> Any:
    import sparse

    return sparse.COO.from_numpy(block)


def build_track(
    readers: Sequence[Callable],
    sizes: dict[str, int],
    strands: Sequence[str],
    conditions: Sequence[str],
    dtype: Any,
    resolution: int,
    key_kind: str,
    inputs: Sequence[str],
    params: dict[str, Any],
    categorical: bool = False,
    roi: Any = None,
    store_whole_genome: bool = True,
    storage: str = "zarr",
    cache: bool | None = None,
    store_path: str | os.PathLike | None = None,
    chunk: int = store.DEFAULT_CHUNK,
    progress: bool = True,
    attrs: dict[str, Any] | None = None,
) -> xr.DataArray:
    """Turn per-file readers into a coverage track held as ``storage`` says.

    This is the shared back end of :func:`read_bam`, :func:`read_bigwig` and
    :func:`read_bed`; use it to plug in a reader of your own.

    Parameters
    ----------
    readers
        Picklable callables ``reader(chrom, start, end)`` (bins) per condition (or one
        categorical reader returning all conditions).
    sizes
        Chromosome sizes in bp.
    strands, conditions
        Labels of the strand and condition dims.
    dtype
        Track dtype.
    resolution
        Bin size in bp.
    key_kind, inputs, params
        Cache key parts: a kind name, the input files, every parameter that changes the data.
    categorical, roi, store_whole_genome, storage, cache, store_path, chunk, progress
        See :func:`read_bam`.
    attrs
        Extra attributes of the track.

    Examples
    --------
    >>> import numpy as np
    >>> ones = lambda chrom, start, end: np.ones((end - start, 1), np.int32)
    >>> t = build_track([ones], {"c": 10}, ["."], ["x"], np.int32, 1, "demo", [], {},
    ...                 storage="memory")
    >>> int(t.sum())
    10
    """
    if storage not in STORAGES:
        raise InputError(f"storage must be one of {STORAGES}, got {storage!r}")
    if not isinstance(resolution, int | np.integer) or resolution < 1:
        raise InputError(f"resolution must be a positive integer (bp per bin), got {resolution!r}")
    mask = None
    if not store_whole_genome:
        if roi is None:
            raise InputError("store_whole_genome=False needs the regions of interest: pass roi=")
        from genomarray.regions import check_chromosomes, read_regions

        roi_df = roi if isinstance(roi, pd.DataFrame) else read_regions(roi)
        check_chromosomes(
            roi_df,
            sizes,
            source=str(roi_df.attrs.get("source", "roi")),
            genome=str(inputs[0]) if inputs else "the genome",
        )
        mask = RoiMask.from_regions(roi_df, resolution)
        attrs = {**(attrs or {}), model.STORED_ROI: kept_intervals(roi_df, sizes)}
        params = {
            **params,
            "roi": pd.util.hash_pandas_object(roi_df[["chrom", "start", "end"]], index=False)
            .sum()
            .item(),
            "roi_flank": int(roi_df.attrs.get("flank", 0) or 0),
        }
    chroms = list(sizes)
    lengths_bp = np.array([sizes[c] for c in chroms], dtype=np.int64)
    lengths_bins = -(-lengths_bp // resolution)
    reader = StackedReader(
        tuple(readers), len(strands), len(conditions), np.dtype(dtype).str, categorical, mask
    )

    def build() -> xr.DataArray:
        values = store.genome_array(
            reader,
            chroms,
            lengths_bins,
            dtype,
            fill=0,
            trailing=(len(strands), len(conditions)),
            chunk=chunk,
        )
        return model.coverage_track(
            values,
            chroms,
            lengths_bp,
            strands,
            conditions,
            resolution=resolution,
            inputs=list(inputs),
            **(attrs or {}),
        )

    if storage == "sparse":
        import sparse  # noqa: F401  (fail here, not inside a dask task)
    if storage == "lazy":
        return build()
    if cache is None:
        cache = storage == "zarr"
    if storage == "zarr" or cache or store_path is not None:
        key = store.cache_key(
            key_kind,
            inputs,
            resolution=resolution,
            chunk=chunk,
            conditions=list(conditions),
            strands=list(strands),
            **params,
        )
        track = store.cached(key, build, path=store_path, progress=progress, rebuild=not cache)
    else:
        track = build()
    if storage == "memory":
        return track.compute()
    if storage == "sparse":
        data = track.data.map_blocks(_to_sparse, dtype=track.dtype)
        return track.copy(data=data)
    return track


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
    chunk: int = store.DEFAULT_CHUNK,
    progress: bool = True,
) -> xr.DataArray:
    """Read counts from BAM files as a track ``(chrom, pos, strand, condition)``.

    Parameters
    ----------
    paths
        One BAM or a list (one condition each); sorted and indexed.
    conditions
        Condition labels (default: the file stems).
    mode
        ``"5prime"``: count each read (fragment, for proper pairs) at its 5' end (a
        reverse read at its last aligned base); ``"coverage"``: per-base read depth,
        CIGAR-aware, as ``samtools depth -a``.
    stranded
        Keep ``+`` and ``-`` apart (strand dim ``("+", "-")``), else sum them (``"."``).
    min_mapq
        Skip reads with a lower mapping quality.
    pairedend
        Proper pairs counted once, via read 1: ``"5prime"`` at the fragment's 5' end,
        ``"midpoint"`` at its middle.
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
        Where to write the store (default: under the output root).
    chunk
        Bins per chunk along ``pos``.
    progress
        Show a progress bar while building.

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

    paths = _paths(paths, "BAM file")
    labels = _conditions(paths, conditions)
    for p in paths:
        bam.check_bam(p)
        if bam.mapped_reads(p) == 0:
            warnings.warn(f"{p}: no mapped reads; its condition is all zeros", stacklevel=2)
    sizes = check_same_chromosomes({p: bam.bam_chrom_sizes(p) for p in paths})
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
    readers = [bam.BamCounter(p, **options) for p in paths]
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
        attrs={"reader": "bam", "mode": mode},
    )


def _describe(like: Any) -> str:
    """A short name for where chromosome sizes came from (never a whole array repr)."""
    if isinstance(like, xr.DataArray | xr.Dataset):
        return str(like.attrs.get("path") or "the genome array")
    if isinstance(like, dict):
        return "the chromosome sizes"
    return os.fspath(like)


def _sizes_from(like: Any, what: str) -> dict[str, int]:
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
    chunk: int = store.DEFAULT_CHUNK,
    progress: bool = True,
) -> xr.DataArray:
    """Read bigWig signal as a track ``(chrom, pos, strand=".", condition)``.

    Parameters
    ----------
    paths
        One bigWig or a list (one condition each).
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
    roi, store_whole_genome, storage, cache, store_path, chunk, progress
        As in :func:`read_bam`.

    Examples
    --------
    >>> import genomarray as ga
    >>> sig = ga.read_bigwig(ga.example_path("sample.bw"), storage="lazy")
    >>> sig.sizes["condition"], str(sig.dtype)
    (1, 'float32')
    """
    from genomarray.io import bigwig

    paths = _paths(paths, "bigWig file")
    labels = _conditions(paths, conditions)
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
        attrs={"reader": "bigwig"},
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
    chunk: int = store.DEFAULT_CHUNK,
    progress: bool = True,
) -> xr.DataArray:
    """Read intervals (BED, narrowPeak, bedGraph, GFF/GTF) as a track.

    Parameters
    ----------
    paths
        One file (or DataFrame) or a list of files (one condition each).
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
    roi, store_whole_genome, storage, cache, store_path, chunk, progress
        As in :func:`read_bam`.

    Examples
    --------
    >>> import genomarray as ga
    >>> peaks = ga.read_bed(ga.example_path("peaks.narrowPeak"),
    ...                     like=ga.example_path("genome.fa"), storage="memory", progress=False)
    >>> int(peaks.sel(chrom="chr1").sum())   # 38 peaks of 200 bp on chr1
    7600
    """
    from genomarray.io import intervals
    from genomarray.regions import read_regions

    if isinstance(paths, pd.DataFrame):
        frames = {"regions": paths}
        inputs: list[str] = []
    else:
        file_list = _paths(paths, "interval file")
        from genomarray.io.remote import fetch, is_url  # hook: remote text, fetched once

        frames = {p: read_regions(fetch(p) if is_url(p) else p, feature=feature) for p in file_list}
        inputs = file_list
    sizes = _sizes_from(like, next(iter(frames)))
    for src, df in frames.items():
        if len(df):
            from genomarray.regions import check_chromosomes

            check_chromosomes(df, sizes, source=src, genome=_describe(like))
    categorical = mode.endswith("_category")
    column = category_column or ("score" if mode == "score_category" else "name")
    options = {
        "mode": mode,
        "resolution": resolution,
        "minoverlap": minoverlap,
        "category_column": column,
        "chrom_sizes": sizes,
    }
    if categorical:
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
    else:
        readers = [
            intervals.IntervalCoverage(_slim(df, column), source=src, **options)
            for src, df in frames.items()
        ]
        labels = (
            _conditions(list(frames), conditions) if inputs else list(conditions or ["regions"])
        )
    params = {
        "mode": mode,
        "minoverlap": minoverlap,
        "feature": feature,
        "category_column": column,
        "sizes": sorted(sizes.items()),
    }
    if not inputs:
        params["frame"] = int(
            pd.util.hash_pandas_object(next(iter(frames.values())), index=False).sum()
        )
    return build_track(
        readers,
        sizes,
        (".",),
        labels,
        np.float32,
        resolution,
        "intervals",
        inputs,
        params,
        categorical=categorical,
        roi=roi,
        store_whole_genome=store_whole_genome,
        storage=storage,
        cache=cache,
        store_path=store_path,
        chunk=chunk,
        progress=progress,
        attrs={"reader": "intervals", "mode": mode},
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
