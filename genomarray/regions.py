"""Regions of interest: read them, tile them into windows, check them against a genome.

Regions are plain pandas DataFrames with BED column names ``chrom, start, end, name,
score, strand`` (0-based, half-open), in that order, followed by any extra columns of the
source (``signalValue`` of a narrowPeak, ``feature`` of a GTF, ``ref``/``alt`` of a VCF).

- ``chrom``, ``name``, ``strand``: strings (``strand`` is one of ``+``, ``-``, ``.``);
- ``start``, ``end``: int64;
- ``score``: float64 (``0.0`` where the source has none).

:func:`read_regions` reads BED (3 to 12+ columns), narrowPeak, broadPeak, bedGraph, GFF3,
GTF and VCF files (gzipped or not), pandas DataFrames and PyRanges objects;
:func:`tile` cuts regions into windows with Janggu's ``GenomicIndexer`` rules;
:func:`check_chromosomes` checks them against a genome's chromosome sizes.

This module imports only pandas, numpy and the standard library.
"""

from __future__ import annotations

import gc
import gzip
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TextIO
from urllib.parse import unquote

import numpy as np
import pandas as pd

from genomarray.errors import ChromosomeError, InputError, check_exists
from genomarray.io.schemas import (
    BED_COLUMNS,
    BEDGRAPH_COLUMNS,
    GFF_COLUMNS,
    NARROWPEAK_COLUMNS,
    REGION_COLUMNS,
    VCF_COLUMNS,
)

__all__ = ["FORMATS", "check_chromosomes", "parse_region", "read_regions", "tile", "to_bed"]

STRANDS = ("+", "-", ".")
"""Valid values of the ``strand`` column."""

FORMATS = ("bed", "narrowpeak", "broadpeak", "bedgraph", "gff", "gtf", "vcf")
"""Formats :func:`read_regions` reads (``fmt=``); ``"gff3"`` and ``"bdg"`` are aliases."""

_ALIASES = {"gff3": "gff", "bdg": "bedgraph"}

_EXTENSIONS = {
    ".bed": "bed",
    ".narrowpeak": "narrowpeak",
    ".broadpeak": "broadpeak",
    ".bedgraph": "bedgraph",
    ".bdg": "bedgraph",
    ".gff": "gff",
    ".gff3": "gff",
    ".gtf": "gtf",
    ".vcf": "vcf",
}
_COMPRESSED = (".gz", ".bgz")

_FIXED_COLUMNS = {"narrowpeak": 10, "broadpeak": 9, "bedgraph": 4}
_NAME_KEYS = ("gene_name", "gene_id", "Name", "ID")
_ATTR_RE = {
    key: re.compile(
        r"(?:^|;)\s*" + re.escape(key) + r'(?:\s+"([^"]*)"|\s+([^;"\s]+)|\s*=\s*([^;]*))'
    )
    for key in _NAME_KEYS
}
_EXTRA_DTYPES: dict[str, Any] = {
    "thickStart": np.int64,
    "thickEnd": np.int64,
    "blockCount": np.int64,
    "itemRgb": str,
    "blockSizes": str,
    "blockStarts": str,
    "signalValue": np.float64,
    "pValue": np.float64,
    "qValue": np.float64,
    "peak": np.int64,
    "feature": str,
    "attribute": str,
    "ref": str,
    "alt": str,
}
_PYRANGES_NAMES = {
    "Chromosome": "chrom",
    "Start": "start",
    "End": "end",
    "Strand": "strand",
    "Name": "name",
    "Score": "score",
}
_REGION_RE = re.compile(r"(\d[\d,]*)(?:-(\d[\d,]*))?")

Source = str | os.PathLike | pd.DataFrame | Any
"""What :func:`read_regions` (and every function taking regions) accepts."""


# -- public API -------------------------------------------------------------------------
def read_regions(
    source: Source, *, fmt: str | None = None, feature: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """Read regions of interest into a BED-like DataFrame.

    Parameters
    ----------
    source
        A path to a BED (3 to 12+ columns), narrowPeak, broadPeak, bedGraph, GFF3, GTF or
        VCF file, optionally gzipped (detected from the content, not the name); a pandas
        DataFrame with BED column names (``chrom, start, end[, name, score, strand]``) or
        PyRanges names (``Chromosome, Start, End[, Name, Score, Strand]``); or a PyRanges
        object (v0 objects are read through their ``.df``, v1 objects are DataFrames).
    fmt
        One of :data:`FORMATS` (``"gff3"`` and ``"bdg"`` accepted). By default the format
        comes from the extension (``.bed``, ``.narrowPeak``, ``.broadPeak``,
        ``.bedGraph``/``.bdg``, ``.gff``/``.gff3``, ``.gtf``, ``.vcf``, each optionally
        followed by ``.gz``); an unknown extension is read as BED. Ignored for DataFrames.
    feature
        GFF/GTF only: keep the records of this feature type (or these types), e.g.
        ``"exon"``. For a DataFrame, filters on its ``feature`` column.

    Returns
    -------
    pandas.DataFrame
        Columns ``chrom, start, end, name, score, strand`` (0-based, half-open), then the
        source's extra columns: the BED columns past the sixth (``thickStart`` ...
        ``blockStarts``, then ``col13`` ...), narrowPeak's ``signalValue, pValue, qValue,
        peak``, GFF/GTF's ``feature, attribute``, VCF's ``ref, alt``. Missing names are
        ``"."``, missing scores ``0.0``, missing strands ``"."``. GFF/GTF coordinates are
        converted from 1-based inclusive (``start - 1``, ``end`` unchanged) and the name
        taken from ``gene_name``, ``gene_id``, ``Name`` or ``ID``. A VCF record gives
        ``start = POS - 1``, ``end = start + len(REF)``, ``name = ID``, ``score = QUAL``.
        A bedGraph's value is its ``score``. ``attrs["source"]`` holds the file path (a
        DataFrame's own ``attrs`` are kept).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    InputError
        A record is malformed (non-integer or negative start, ``end <= start``, wrong
        column count, bad strand ...); the message names the file and ``line N``
        (1-based, counting header lines), or ``row N`` (0-based position) of a DataFrame.

    Examples
    --------
    >>> import pandas as pd
    >>> roi = read_regions(pd.DataFrame({"chrom": ["chr1"], "start": [100], "end": [300]}))
    >>> roi.columns.tolist()
    ['chrom', 'start', 'end', 'name', 'score', 'strand']
    >>> print(roi.to_string(index=False))
    chrom  start  end name  score strand
     chr1    100  300    .    0.0      .
    """
    if isinstance(source, pd.DataFrame):
        roi = _from_frame(source, type(source).__name__, feature)
        roi.attrs = dict(source.attrs)
        return roi
    if isinstance(source, (str, os.PathLike)):
        path = check_exists(source, "regions file")
        fmt = _format_of(path, fmt)
        if feature is not None and fmt not in ("gff", "gtf"):
            raise InputError(
                f"feature={feature!r} selects GFF/GTF records, but the file is "
                f"read as {fmt} (pass fmt='gff' or fmt='gtf' if it is one)",
                source=path,
            )
        with _gc_paused():
            if fmt in ("gff", "gtf"):
                roi = _read_gff(path, feature)
            elif fmt == "vcf":
                roi = _read_vcf(path)
            else:
                roi = _read_bed(path, fmt)
        roi.attrs = {"source": path}
        return roi
    frame = getattr(source, "df", None)  # PyRanges v0
    if isinstance(frame, pd.DataFrame):
        return _from_frame(frame, type(source).__name__, feature)
    raise TypeError(
        "read_regions expects a file path, a pandas DataFrame or a PyRanges "
        f"object, got {type(source).__name__}"
    )


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
    roi = read_regions(regions)
    sizes = {str(k): int(v) for k, v in chrom_sizes.items()}
    chroms = [str(c) for c in pd.unique(roi["chrom"])]
    missing = [c for c in chroms if c not in sizes]
    if missing:
        raise ChromosomeError(_missing_message(missing, sizes, genome), source=source)
    length = roi["chrom"].map(sizes).to_numpy(np.int64)
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


# -- helpers: formats and files ---------------------------------------------------------
def _format_of(path: str, fmt: str | None) -> str:
    if fmt is not None:
        key = str(fmt).lower().lstrip(".")
        key = _ALIASES.get(key, key)
        if key not in FORMATS:
            raise InputError(
                f"unknown format fmt={fmt!r}; expected one of {', '.join(FORMATS)}", source=path
            )
        return key
    name = os.path.basename(path).lower()
    for suffix in _COMPRESSED:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return _EXTENSIONS.get(os.path.splitext(name)[1], "bed")


def _open_text(path: str) -> TextIO:
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: parsing allocates millions of small lists that
    hold no cycles, and its scans would otherwise triple the reading time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _lines(path: str) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, line without its newline)``, 1-based."""
    with _open_text(path) as fh:
        try:
            for number, line in enumerate(fh, 1):
                yield number, line.rstrip("\r\n")
        except (OSError, EOFError) as err:  # gzip.BadGzipFile is an OSError
            raise InputError(f"cannot decompress the file ({err})", source=path) from err


def _is_header(line: str) -> bool:
    if line.startswith("#"):
        return True
    word = line.split(None, 1)[0]
    return word in ("track", "browser")


def _read_bed(path: str, fmt: str) -> pd.DataFrame:
    expected = _FIXED_COLUMNS.get(fmt)
    rows: list[list[str]] = []
    lines: list[int] = []
    ncol = first = 0
    for number, raw in _lines(path):
        line = raw.strip()
        if not line or (line[0] in "#tb" and _is_header(line)):
            continue
        if "\t" not in line:
            fields = line.split()
        elif " " in line:
            fields = [f.strip() for f in line.split("\t")]
        else:
            fields = line.split("\t")
        if not ncol:
            if len(fields) > 2 and fields[1].lower() in ("start", "chromstart"):
                continue  # a column-name header line
            ncol, first = len(fields), number
            if expected is not None and ncol != expected:
                raise InputError(
                    f"expected {expected} columns ({fmt}: "
                    f"{' '.join(_bed_names(fmt, expected))}), got {ncol}",
                    source=path,
                    record=f"line {number}",
                )
            if ncol < 3:
                raise InputError(
                    f"expected at least 3 columns (chrom, start, end), got {ncol}",
                    source=path,
                    record=f"line {number}",
                )
        elif len(fields) != ncol:
            raise InputError(
                f"expected {ncol} columns (as on line {first}), got {len(fields)}",
                source=path,
                record=f"line {number}",
            )
        rows.append(fields)
        lines.append(number)
    if not ncol:
        ncol = expected or 3
    names = _bed_names(fmt, ncol)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    data = dict(zip(names, columns, strict=True))
    out = _build(data, _line_of(lines), path)
    out.attrs["has_score"] = "score" in names or fmt == "bedgraph"
    return out


def _bed_names(fmt: str, ncol: int) -> list[str]:
    if fmt == "bedgraph":
        return ["score" if c == "value" else c for c in BEDGRAPH_COLUMNS]
    if fmt in ("narrowpeak", "broadpeak"):
        return list(NARROWPEAK_COLUMNS[:ncol])
    return list(BED_COLUMNS[:ncol]) + [f"col{i + 1}" for i in range(len(BED_COLUMNS), ncol)]


def _read_gff(path: str, feature: str | Sequence[str] | None) -> pd.DataFrame:
    keep = None if feature is None else {feature} if isinstance(feature, str) else set(feature)
    chrom, feat, start, end, score, strand, attr, name = ([] for _ in range(8))
    lines: list[int] = []
    for number, line in _lines(path):
        if not line.strip():
            continue
        if line.startswith("#"):
            if line.startswith("##FASTA"):
                break
            continue
        fields = line.split("\t")
        if len(fields) == 8:
            fields.append("")
        if len(fields) != 9:
            raise InputError(
                f"expected 9 tab-separated columns ({' '.join(GFF_COLUMNS)}), got {len(fields)}",
                source=path,
                record=f"line {number}",
            )
        if keep is not None and fields[2] not in keep:
            continue
        chrom.append(fields[0])
        feat.append(fields[2])
        start.append(fields[3])
        end.append(fields[4])
        score.append(fields[5])
        strand.append("." if fields[6] == "?" else fields[6])
        attr.append(fields[8])
        name.append(_gff_name(fields[8]))
        lines.append(number)
    data = {
        "chrom": chrom,
        "start": start,
        "end": end,
        "name": name,
        "score": score,
        "strand": strand,
        "feature": feat,
        "attribute": attr,
    }
    return _build(data, _line_of(lines), path, one_based=True)


def _gff_name(attribute: str) -> str:
    for key in _NAME_KEYS:
        if key in attribute:
            match = _ATTR_RE[key].search(attribute)
            if match:
                quoted, bare, gff3 = match.groups()
                if gff3 is not None:
                    return unquote(gff3.strip()) if "%" in gff3 else gff3.strip()
                return quoted if quoted is not None else bare
    return "."


def _read_vcf(path: str) -> pd.DataFrame:
    chrom, pos, ident, ref, alt, qual = ([] for _ in range(6))
    lines: list[int] = []
    for number, line in _lines(path):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        if len(fields) < 5:
            raise InputError(
                f"expected at least 5 tab-separated columns "
                f"({' '.join(c.upper() for c in VCF_COLUMNS)}), got {len(fields)}",
                source=path,
                record=f"line {number}",
            )
        if not fields[3] or fields[3] == ".":
            raise InputError(
                f"REF must hold at least one base, got {fields[3]!r}",
                source=path,
                record=f"line {number}",
            )
        chrom.append(fields[0])
        pos.append(fields[1])
        ident.append(fields[2])
        ref.append(fields[3])
        alt.append(fields[4])
        qual.append(fields[5] if len(fields) > 5 else ".")
        lines.append(number)
    where = _line_of(lines)
    start = _ints(pos, "POS", where, path)
    bad = np.flatnonzero(start < 1)
    if len(bad):
        raise InputError(
            f"POS must be >= 1 (VCF positions are 1-based), got {start[bad[0]]}",
            source=path,
            record=where(int(bad[0])),
        )
    start = start - 1
    end = start + np.fromiter((len(r) for r in ref), dtype=np.int64, count=len(ref))
    data = {
        "chrom": chrom,
        "start": start,
        "end": end,
        "name": ident,
        "score": qual,
        "strand": ["."] * len(chrom),
        "ref": ref,
        "alt": alt,
    }
    return _build(data, where, path)


def _line_of(lines: list[int]) -> Callable[[int], str]:
    return lambda i: f"line {lines[i]}"


# -- helpers: columns -------------------------------------------------------------------
def _ints(
    values: Sequence[Any] | np.ndarray, what: str, where: Callable[[int], str], source: str
) -> np.ndarray:
    """Convert strings to int64, naming the first bad record."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        return values.astype(np.int64)
    try:
        return np.array(values, dtype=np.int64).reshape(len(values))
    except (ValueError, OverflowError, TypeError):
        pass
    for i, value in enumerate(values):
        try:
            int(value)
        except (ValueError, OverflowError, TypeError):
            raise InputError(
                f"{what} is not an integer: {value!r}", source=source, record=where(i)
            ) from None
    raise InputError(f"{what} holds values that are not integers", source=source)


def _floats(
    values: Sequence[Any], what: str, where: Callable[[int], str], source: str
) -> np.ndarray:
    """Convert strings to float64 (``"."`` -> 0.0), naming the first bad record."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return values.astype(np.float64)
    cleaned = ["0" if v == "." else v for v in values]
    try:
        return np.array(cleaned, dtype=np.float64).reshape(len(values))
    except (ValueError, TypeError):
        pass
    for i, value in enumerate(cleaned):
        try:
            float(value)
        except (ValueError, TypeError):
            raise InputError(
                f"{what} is not a number: {value!r}", source=source, record=where(i)
            ) from None
    raise InputError(f"{what} holds values that are not numbers", source=source)


def _auto(values: Sequence[str], name: str = "") -> pd.Series:
    """An extra column: its schema dtype if known and valid, else int64 if every value is an
    integer, else float64, else str."""
    known = _EXTRA_DTYPES.get(name)
    if known is str:
        return pd.Series(list(values), dtype=object).astype(str)
    for dtype in (known, np.int64, np.float64):
        if dtype is None:
            continue
        try:
            return pd.Series(np.array(values, dtype=dtype).reshape(len(values)))
        except (ValueError, OverflowError, TypeError):
            continue
    return pd.Series(list(values), dtype=str)


def _strings(values: Sequence[Any] | pd.Series) -> pd.Series:
    if isinstance(values, pd.Series):
        if pd.api.types.is_string_dtype(values) and values.dtype != object:
            return values.reset_index(drop=True)
        return values.astype(str).reset_index(drop=True)
    return pd.Series(list(values), dtype=object).astype(str)


def _build(
    data: dict[str, Any], where: Callable[[int], str], source: str, one_based: bool = False
) -> pd.DataFrame:
    """Assemble and validate a regions DataFrame from per-column values (strings)."""
    n = len(data["chrom"])
    start = _ints(data["start"], "start", where, source)
    end = _ints(data["end"], "end", where, source)
    if one_based:
        bad = np.flatnonzero(start < 1)
        if len(bad):
            raise InputError(
                f"start must be >= 1 (GFF/GTF coordinates are 1-based), got {start[bad[0]]}",
                source=source,
                record=where(int(bad[0])),
            )
        bad = np.flatnonzero(end < start)
        if len(bad):
            i = int(bad[0])
            raise InputError(f"end ({end[i]}) < start ({start[i]})", source=source, record=where(i))
        start = start - 1
    _check_bounds(start, end, where, source)

    strand = _strings(data["strand"]) if "strand" in data else pd.Series(["."] * n, dtype=str)
    bad = np.flatnonzero(~strand.isin(STRANDS).to_numpy())
    if len(bad):
        i = int(bad[0])
        raise InputError(
            f"strand must be one of '+', '-', '.', got {strand.iat[i]!r}",
            source=source,
            record=where(i),
        )
    score = (
        _floats(data["score"], "score", where, source)
        if "score" in data
        else np.zeros(n, dtype=np.float64)
    )
    name = _strings(data["name"]) if "name" in data else pd.Series(["."] * n, dtype=str)

    frame = {
        "chrom": _strings(data["chrom"]),
        "start": pd.Series(start, dtype=np.int64),
        "end": pd.Series(end, dtype=np.int64),
        "name": name,
        "score": pd.Series(score, dtype=np.float64),
        "strand": strand,
    }
    for key, values in data.items():
        if key not in frame:
            frame[key] = values if isinstance(values, pd.Series) else _auto(values, key)
    return pd.DataFrame(frame)


def _check_bounds(
    start: np.ndarray, end: np.ndarray, where: Callable[[int], str], source: str
) -> None:
    bad = np.flatnonzero(start < 0)
    if len(bad):
        raise InputError(
            f"start must be >= 0, got {start[bad[0]]}", source=source, record=where(int(bad[0]))
        )
    bad = np.flatnonzero(end <= start)
    if len(bad):
        i = int(bad[0])
        raise InputError(
            f"end ({end[i]}) <= start ({start[i]}); intervals are 0-based, "
            "half-open and must not be empty",
            source=source,
            record=where(i),
        )


def _from_frame(df: pd.DataFrame, source: str, feature: str | Sequence[str] | None) -> pd.DataFrame:
    rename = {k: v for k, v in _PYRANGES_NAMES.items() if k in df.columns and v not in df.columns}
    df = df.rename(columns=rename)
    missing = [c for c in ("chrom", "start", "end") if c not in df.columns]
    if missing:
        raise InputError(
            f"a regions DataFrame needs the columns chrom, start, end (or "
            f"Chromosome, Start, End); missing {missing}, found "
            f"{[str(c) for c in df.columns]}",
            source=source,
        )
    if feature is not None:
        if "feature" not in df.columns:
            raise InputError(f"feature={feature!r} needs a 'feature' column", source=source)
        keep = [feature] if isinstance(feature, str) else list(feature)
        df = df[df["feature"].isin(keep).to_numpy()]

    def where(i: int) -> str:
        return f"row {i}"

    data: dict[str, Any] = {}
    for col in ("chrom", "start", "end", "name", "score", "strand"):
        if col in df.columns:
            series = df[col]
            bad = np.flatnonzero(series.isna().to_numpy())
            if col in ("chrom", "start", "end") and len(bad):
                raise InputError(f"{col} is missing", source=source, record=where(int(bad[0])))
            if col in ("name", "strand") and len(bad):
                series = series.astype(object).where(series.notna(), ".")
            data[col] = _frame_values(series.reset_index(drop=True), col, where, source)
    for col in df.columns:
        if col not in data:
            data[col] = df[col].reset_index(drop=True)
    return _build(data, where, source)


def _frame_values(series: pd.Series, col: str, where: Callable[[int], str], source: str) -> Any:
    if col in ("start", "end"):
        if pd.api.types.is_bool_dtype(series):
            raise InputError(f"{col} must hold integers, got booleans", source=source)
        if pd.api.types.is_integer_dtype(series):
            return series.to_numpy(np.int64)
        number = pd.to_numeric(series, errors="coerce").to_numpy(np.float64)
        bad = np.flatnonzero(~np.isfinite(number) | (number != np.round(number)))
        if len(bad):
            i = int(bad[0])
            value = series.iat[i]
            value = value.item() if isinstance(value, np.generic) else value
            raise InputError(f"{col} is not an integer: {value!r}", source=source, record=where(i))
        return number.astype(np.int64)
    if col == "score":
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            return series.to_numpy(np.float64, na_value=np.nan)
        return ["0" if v is None or v == "." or v != v else v for v in series.tolist()]
    return series


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
        "binsize": binsize,
        "stepsize": stepsize,
        "flank": flank,
        "zero_padding": zero_padding,
        "collapse": collapse,
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
