"""Genome-wide tracks from per-file readers: conditions, ROI masks, storage choices.

:func:`build_track` turns readers (numpy blocks for ``(chrom, start, end)``, one per file or
category) into one ``(chrom, pos, strand, condition)`` track and decides how it is held
(``"zarr"``, ``"lazy"``, ``"memory"``, ``"sparse"``; see :mod:`genomarray.genome.coverage`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from genomarray import model
from genomarray.errors import ChromosomeError, InputError, check_exists
from genomarray.genome import graph
from genomarray.genome.cache import cache_key, cached

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


def condition_names(paths: Sequence[str], conditions: Sequence[str] | None) -> list[str]:
    if conditions is None:
        names = [condition_name(p) for p in paths]
        if len(set(names)) < len(names):  # same stem in different folders
            names = [f"{n}_{i}" for i, n in enumerate(names)]
        return names
    conditions = [str(c) for c in ([conditions] if isinstance(conditions, str) else conditions)]
    if len(conditions) != len(paths):
        raise InputError(f"{len(conditions)} condition names for {len(paths)} files")
    return conditions


def input_paths(
    paths: str | os.PathLike | Sequence[str | os.PathLike], what: str, random_access: bool = False
) -> list[str]:
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    from genomarray.io.remote import is_url, local_path  # URLs stay URLs

    paths = [local_path(p) for p in paths]
    paths = [
        p if is_url(p) else os.path.abspath(check_exists(p, what, random_access=random_access))
        for p in paths
    ]
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
        flank = int(roi.attrs.get(model.FLANK, 0) or 0)
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
    flank = int(roi.attrs.get(model.FLANK, 0) or 0)
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
    ``(n, condition)`` (one strand): a new array on every call (a single reader's block is
    used as it is, not copied).
    """

    readers: tuple[Callable[[str, int, int], np.ndarray], ...]
    n_strands: int
    n_conditions: int
    dtype: str
    categorical: bool = False
    roi: RoiMask | None = None

    def __call__(self, chrom: str, start: int, end: int) -> np.ndarray:
        keep = None
        if self.roi is not None:
            keep = self.roi.mask(chrom, start, end)
            if keep is None:
                return np.zeros((end - start, self.n_strands, self.n_conditions), self.dtype)
        if len(self.readers) == 1 and (self.categorical or self.n_conditions == 1):
            # one reader: its block is the track's block (no zeroed buffer, no copy)
            out = np.asarray(self.readers[0](chrom, start, end), dtype=self.dtype)
            out = out.reshape(end - start, self.n_strands, self.n_conditions)
            return out if keep is None or keep.all() else np.where(keep[:, None, None], out, 0)
        out = np.zeros((end - start, self.n_strands, self.n_conditions), dtype=self.dtype)
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
    readers: Sequence[Callable] | Callable[[], Sequence[Callable]],
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
    chunk: int | None = None,
    progress: bool = True,
    attrs: dict[str, Any] | None = None,
    key_inputs: Sequence[str] | None = None,
    storage_options: dict[str, Any] | None = None,
) -> xr.DataArray:
    """Turn per-file readers into a coverage track held as ``storage`` says.

    This is the shared back end of :func:`read_bam`, :func:`read_bigwig` and
    :func:`read_bed`; use it to plug in a reader of your own.

    Parameters
    ----------
    readers
        Picklable callables ``reader(chrom, start, end)`` (bins) per condition (or one
        categorical reader returning all conditions); or a function returning them,
        called only when the track is built (not when its store is in the cache).
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
    key_inputs
        The files whose content keys the cache (default: ``inputs``); a reader that has
        already parsed an input it cannot read twice (a pipe) keys on what it parsed
        through ``params`` instead.
    storage_options
        fsspec options for a ``store_path`` URL (``s3://...``).

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
        from genomarray.io.regions import read_regions
        from genomarray.regions import check_chromosomes

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
            "roi_flank": int(roi_df.attrs.get(model.FLANK, 0) or 0),
        }
    if chunk is None:  # 1 Mb, fewer bins where a bin holds many conditions
        chunk = graph.chunk_length(np.dtype(dtype).itemsize * len(strands) * len(conditions))
    chroms = list(sizes)
    lengths_bp = np.array([sizes[c] for c in chroms], dtype=np.int64)
    lengths_bins = -(-lengths_bp // resolution)
    keep = graph.KeptBlocks()  # a fresh store's first reads come from the blocks written

    def build(kept: bool = True) -> xr.DataArray:
        parts = readers if isinstance(readers, Sequence) else readers()
        reader = StackedReader(
            tuple(parts), len(strands), len(conditions), np.dtype(dtype).str, categorical, mask
        )
        spec = dict(
            reader=reader,
            chroms=chroms,
            lengths=lengths_bins,
            dtype=dtype,
            fill=0,
            trailing=(len(strands), len(conditions)),
            chunk=chunk,
        )
        values = graph.genome_array(**spec)
        if kept:
            values = keep.wrap(values)
        track = model.coverage_track(
            values,
            chroms,
            lengths_bp,
            strands,
            conditions,
            resolution=resolution,
            inputs=list(inputs),
            **(attrs or {}),
        )
        return track if kept else graph.record_reader(track, spec)  # views: read without dask

    if storage == "sparse":
        import sparse  # noqa: F401  (fail here, not inside a dask task)
    if storage == "lazy":
        return build(kept=False)
    if cache is None:
        cache = storage == "zarr"
    if storage == "zarr" or cache or store_path is not None:
        key = cache_key(
            key_kind,
            inputs if key_inputs is None else key_inputs,
            resolution=resolution,
            chunk=chunk,
            conditions=list(conditions),
            strands=list(strands),
            **params,
        )
        track = keep.serve(
            cached(
                key,
                build,
                path=store_path,
                progress=progress,
                rebuild=not cache,
                storage_options=storage_options,
            )
        )
    else:
        track = build(kept=False)
    if storage == "memory":
        return track.compute()
    if storage == "sparse":
        data = track.data.map_blocks(_to_sparse, dtype=track.dtype)
        return track.copy(data=data)
    return track
