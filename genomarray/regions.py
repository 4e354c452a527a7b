"""Regions of interest: tile them into windows, check them against a genome.

Regions are BED-like DataFrames (:func:`genomarray.io.regions.read_regions` reads them
from files, DataFrames and PyRanges); :func:`tile` cuts them into windows with Janggu's
``GenomicIndexer`` rules and :func:`check_chromosomes` checks them against a genome's
chromosome sizes.

This module imports only pandas, numpy and the standard library.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from genomarray import model
from genomarray.errors import ChromosomeError, InputError
from genomarray.io.regions import Source, read_regions
from genomarray.io.schemas import (
    REGION_COLUMNS,
)

__all__ = ["check_chromosomes", "chrom_codes", "chromosome_index", "parse_region", "tile", "to_bed"]


_REGION_RE = re.compile(r"(\d[\d,]*)(?:-(\d[\d,]*))?")


def tile(
    regions: Source,
    binsize: int | None = None,
    stepsize: int | None = None,
    flank: int = 0,
    zero_padding: bool = True,
    collapse: bool = False,
) -> pd.DataFrame:
    """Cut regions into windows, following Janggu's ``GenomicIndexer`` rules.

    For a region of length ``L``, ``val = L - binsize + stepsize`` and ``n = max(val //
    stepsize, 0)`` full windows of length ``binsize`` start at ``start + i * stepsize``
    (every window that fits). If bases at the region's end are covered by no full window
    (``val % stepsize > 0`` with the next start still inside the region, or the region is
    shorter than ``binsize``), one more short window ``[start + n * stepsize, end)`` is kept
    when ``zero_padding`` (views pad it to ``binsize``) and dropped otherwise. This is the
    walk ``pos = start; while pos + binsize <= end: emit; pos += stepsize`` plus the tail.

    For ``stepsize <= binsize`` this is exactly Janggu's rule. For ``stepsize > binsize``
    Janggu takes ``n = L // stepsize`` and a rest ``[start + n * stepsize, end)``, which may
    hold ``binsize`` bases or more; here such a rest is a full window (Janggu would make it
    longer than ``binsize`` with padding, and drop it without).

    Parameters
    ----------
    regions
        Regions, or anything :func:`read_regions` reads (path, DataFrame, PyRanges).
    binsize
        Window length in bp; by default the longest region's length (so each region
        becomes one window, shorter ones padded by views).
    stepsize
        Offset between window starts; by default ``binsize`` (adjacent windows).
    flank
        Bases added on both sides by the views (recorded in ``attrs``, not applied to
        ``start``/``end``; views pad, never shift, at chromosome ends).
    zero_padding
        Keep the short last window of each region (``True``) or drop it.
    collapse
        Keep each region whole as one window of its own length (``binsize`` and
        ``stepsize`` must then be None).

    Returns
    -------
    pandas.DataFrame
        One row per window, in region order then position order, with the region's
        ``name``, ``score``, ``strand`` and extra columns, and ``attrs`` ``{"binsize",
        "stepsize", "flank", "zero_padding", "collapse"}`` (``binsize``/``stepsize`` are
        None when collapsed) added to those of the regions (``"source"``).

    Raises
    ------
    InputError
        ``binsize`` or ``stepsize`` not a positive integer, ``flank`` not a non-negative
        integer, or ``collapse`` combined with a ``binsize``/``stepsize``.

    Examples
    --------
    >>> import pandas as pd
    >>> roi = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [250]})
    >>> tile(roi, binsize=100)[["start", "end"]].values.tolist()
    [[0, 100], [100, 200], [200, 250]]
    >>> tile(roi, binsize=100, zero_padding=False)["end"].tolist()
    [100, 200]
    >>> tile(roi, binsize=100, stepsize=50, flank=10).attrs["flank"]
    10
    """
    if binsize is not None:
        binsize = _check_int("binsize", binsize, 1)
    if stepsize is not None:
        stepsize = _check_int("stepsize", stepsize, 1)
    flank = _check_int("flank", flank, 0)
    zero_padding = bool(zero_padding)
    collapse = bool(collapse)
    roi = read_regions(regions)

    if collapse:
        if binsize is not None or stepsize is not None:
            raise InputError(
                f"collapse=True keeps each region whole, so binsize and stepsize "
                f"must be None (got binsize={binsize!r}, stepsize={stepsize!r})",
                source="tile",
            )
        out = roi.reset_index(drop=True)
        out.attrs = {**roi.attrs, **_tile_attrs(None, None, flank, zero_padding, collapse)}
        return out

    start = roi["start"].to_numpy(np.int64)
    end = roi["end"].to_numpy(np.int64)
    length = end - start
    if binsize is None and len(roi):
        binsize = int(length.max())
    if stepsize is None:
        stepsize = binsize
    if not len(roi):
        out = roi.reset_index(drop=True)
        out.attrs = {**roi.attrs, **_tile_attrs(binsize, stepsize, flank, zero_padding, collapse)}
        return out

    n_full = np.maximum((length - binsize + stepsize) // stepsize, 0)
    next_start = n_full * stepsize
    covered = np.where(n_full > 0, next_start - stepsize + binsize, 0)
    short = (next_start < length) & (covered < length)
    counts = n_full + (short & zero_padding)
    which = np.repeat(np.arange(len(roi)), counts)
    first = np.cumsum(counts) - counts
    k = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(first, counts)
    tile_start = start[which] + k * stepsize
    tile_end = np.minimum(tile_start + binsize, end[which])

    out = roi.iloc[which].reset_index(drop=True)
    out["start"] = tile_start
    out["end"] = tile_end
    out.attrs = {**roi.attrs, **_tile_attrs(binsize, stepsize, flank, zero_padding, collapse)}
    return out


def check_chromosomes(
    regions: Source, chrom_sizes: Mapping[str, int], source: str = "regions", genome: str = "genome"
) -> None:
    """Check that every region lies on a chromosome of the genome.

    Regions may end past their chromosome's end (views pad them) but not start there.

    Parameters
    ----------
    regions
        Regions, or anything :func:`read_regions` reads.
    chrom_sizes
        ``{chrom: length}`` of the genome.
    source, genome
        Names of the regions and of the genome used in messages (e.g. file names).

    Raises
    ------
    ChromosomeError
        A region's chromosome is not in ``chrom_sizes``; the message names the missing
        chromosomes, the genome's chromosomes (the first 10), and explains a ``chr``
        prefix mismatch (``'1' vs 'chr1'``).
    InputError
        A region starts at or past its chromosome's end; the message names the region
        (``chr1:50000-50200``) and the chromosome length.

    Examples
    --------
    >>> import pandas as pd
    >>> roi = pd.DataFrame({"chrom": ["1"], "start": [0], "end": [10]})
    >>> from genomarray.errors import ChromosomeError
    >>> try:
    ...     check_chromosomes(roi, {"chr1": 100}, genome="genome.fa")
    ... except ChromosomeError as err:
    ...     print(str(err).split("?")[0])
    regions: '1' is not in genome.fa; did you mean 'chr1'
    """
    chromosome_index(regions, chrom_sizes, source, genome)


def chromosome_index(
    regions: Source,
    chrom_sizes: Mapping[str, int],
    source: str = "regions",
    genome: str = "genome",
    *,
    read: bool = True,
) -> np.ndarray:
    """Each region's chromosome as its index in ``chrom_sizes``, once
    :func:`check_chromosomes` passes (its errors are raised here).

    Parameters
    ----------
    regions, chrom_sizes, source, genome
        As for :func:`check_chromosomes`.
    read
        Read ``regions`` with :func:`read_regions` first (False: it is a DataFrame that
        :func:`read_regions` returned).

    Examples
    --------
    >>> roi = pd.DataFrame({"chrom": ["chr2", "chr1"], "start": [0, 5], "end": [10, 9]})
    >>> chromosome_index(roi, {"chr1": 100, "chr2": 50}).tolist()
    [1, 0]
    """
    roi = read_regions(regions) if read else regions
    sizes = {str(k): int(v) for k, v in chrom_sizes.items()}
    index = chrom_codes(roi["chrom"], list(sizes))
    if len(index) and index.min() < 0:
        chroms = [str(c) for c in pd.unique(roi["chrom"])]
        missing = [c for c in chroms if c not in sizes]
        raise ChromosomeError(_missing_message(missing, sizes, genome), source=source)
    length = np.fromiter(sizes.values(), np.int64, len(sizes))[index]
    beyond = np.flatnonzero(roi["start"].to_numpy(np.int64) >= length)
    if len(beyond):
        i = int(beyond[0])
        chrom, start, end = roi["chrom"].iat[i], int(roi["start"].iat[i]), int(roi["end"].iat[i])
        more = f" ({len(beyond)} regions do)" if len(beyond) > 1 else ""
        raise InputError(
            f"starts beyond the end of {chrom}, whose length is {length[i]} bp in {genome}{more}",
            source=source,
            record=f"{chrom}:{start}-{end}",
        )
    return index


def chrom_codes(chroms: Any, names: list[str]) -> np.ndarray:
    """Index of each region's chromosome in ``names`` (-1 where it is not there), one
    hash per distinct name rather than a dict lookup per region.

    Parameters
    ----------
    chroms
        The regions' chromosome names (a Series or array).
    names
        The genome's chromosomes, in order.

    Examples
    --------
    >>> chrom_codes(pd.Series(["chr2", "chr1", "chrX", "chr2"]), ["chr1", "chr2"]).tolist()
    [1, 0, -1, 1]
    """
    codes, uniques = pd.factorize(np.asarray(chroms, dtype=object))
    where = {str(c): i for i, c in enumerate(names)}
    lookup = np.array([where.get(str(u), -1) for u in uniques] + [-1], np.int64)
    return lookup[codes]  # a missing value (code -1) picks the trailing -1


def parse_region(region: str) -> tuple[str, int, int | None]:
    """Parse ``"chr1:1,000-2,000"`` into ``(chrom, start, end)``.

    Coordinates are read as 0-based, half-open, like BED (not UCSC's 1-based display);
    commas are allowed. ``"chr1:1000"`` is the single base ``(chr1, 1000, 1001)``;
    ``"chr1"`` is the whole chromosome ``("chr1", 0, None)``.

    Raises
    ------
    InputError
        The string is not of the form ``chrom[:start[-end]]`` or ``end <= start``.

    Examples
    --------
    >>> parse_region("chr1:1,000-2,000")
    ('chr1', 1000, 2000)
    >>> parse_region("chr1:1000")
    ('chr1', 1000, 1001)
    >>> parse_region("chrX")
    ('chrX', 0, None)
    """
    expected = "expected 'chrom', 'chrom:start' or 'chrom:start-end' (0-based, half-open)"
    if not isinstance(region, str):
        raise InputError(f"a region must be a string, got {type(region).__name__}; {expected}")
    text = region.strip()
    chrom, sep, coords = text.rpartition(":")
    if not sep:
        chrom, coords = text, ""
    if not chrom or any(c.isspace() for c in chrom):
        raise InputError(f"cannot parse region {region!r}: {expected}")
    if not sep:
        return chrom, 0, None
    match = _REGION_RE.fullmatch(coords)
    if match is None:
        raise InputError(f"cannot parse region {region!r}: {expected}")
    start = int(match.group(1).replace(",", ""))
    end = start + 1 if match.group(2) is None else int(match.group(2).replace(",", ""))
    if end <= start:
        raise InputError(f"region {region!r} has end ({end}) <= start ({start})")
    return chrom, start, end


def to_bed(regions: Source, path: str | os.PathLike) -> None:
    """Write regions as a 6-column BED file (gzipped if ``path`` ends in ``.gz``).

    Integral scores are written as integers (``5``, not ``5.0``); extra columns are not
    written.

    Examples
    --------
    >>> import os, tempfile, pandas as pd
    >>> roi = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [10], "name": ["a"]})
    >>> path = os.path.join(tempfile.mkdtemp(), "roi.bed")
    >>> to_bed(roi, path)
    >>> open(path).read()
    'chr1\\t0\\t10\\ta\\t0\\t.\\n'
    """
    roi = read_regions(regions)
    out = roi.loc[:, list(REGION_COLUMNS)].copy()
    score = out["score"].to_numpy(np.float64)
    integral = np.isfinite(score) & (score == np.round(score))
    out["score"] = [
        str(int(v)) if whole else repr(float(v)) for v, whole in zip(score, integral, strict=True)
    ]
    out.to_csv(os.fspath(path), sep="\t", header=False, index=False, lineterminator="\n")


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _tile_attrs(
    binsize: int | None, stepsize: int | None, flank: int, zero_padding: bool, collapse: bool
) -> dict[str, Any]:
    return {
        model.BINSIZE: binsize,
        model.STEPSIZE: stepsize,
        model.FLANK: flank,
        model.ZERO_PADDING: zero_padding,
        model.TILE_COLLAPSE: collapse,
    }


def _missing_message(missing: list[str], sizes: dict[str, int], genome: str) -> str:
    shown = ", ".join(repr(c) for c in missing[:10])
    if len(missing) > 10:
        shown += f" and {len(missing) - 10} more"
    verb = "is" if len(missing) == 1 else "are"
    message = f"{shown} {verb} not in {genome}"
    pairs = [(c, s) for c in missing if (s := _spelling(c, sizes)) is not None]
    if pairs:
        suggested = ", ".join(repr(s) for _, s in pairs[:10])
        one, other = pairs[0]
        message += (
            f"; did you mean {suggested}? The ROI and the genome spell chromosome "
            f"names differently ({one!r} vs {other!r})"
        )
    names = list(sizes)
    listed = ", ".join(repr(c) for c in names[:10])
    more = f", ... ({len(names)} in all)" if len(names) > 10 else ""
    return f"{message}. {genome} has the chromosomes {listed}{more}"


def _spelling(chrom: str, sizes: dict[str, int]) -> str | None:
    """The name ``chrom`` has in ``sizes`` under another spelling (chr prefix, chrM/MT)."""
    candidates = [chrom[3:]] if chrom.lower().startswith("chr") else ["chr" + chrom]
    mito = ("chrM", "chrMT", "M", "MT")
    if chrom in mito:
        candidates += [m for m in mito if m != chrom]
    for candidate in candidates:
        if candidate in sizes:
            return candidate
    return None
