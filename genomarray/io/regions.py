"""Read regions of interest into BED-like DataFrames, whatever the source.

Regions are plain pandas DataFrames with BED column names ``chrom, start, end, name,
score, strand`` (0-based, half-open), in that order, followed by any extra columns of the
source (``signalValue`` of a narrowPeak, ``feature`` of a GTF, ``ref``/``alt`` of a VCF).

- ``chrom``, ``name``, ``strand``: strings (``strand`` is one of ``+``, ``-``, ``.``);
- ``start``, ``end``: int64;
- ``score``: float64 (``0.0`` where the source has none).

:func:`read_regions` reads BED (3 to 12+ columns), narrowPeak, broadPeak, bedGraph, GFF3,
GTF and VCF files (gzipped or not; parsers in :mod:`genomarray.io.bed`,
:mod:`~genomarray.io.gff`, :mod:`~genomarray.io.vcf`), pandas DataFrames and PyRanges
objects. Tiling and chromosome checks are in :mod:`genomarray.regions`.

This module imports only pandas, numpy and the standard library.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from genomarray.errors import InputError, check_exists
from genomarray.io.bed import read_bed_records
from genomarray.io.columns import build_regions
from genomarray.io.gff import read_gff_records
from genomarray.io.text import gc_paused
from genomarray.io.vcf import read_vcf_records

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

_PYRANGES_NAMES = {
    "Chromosome": "chrom",
    "Start": "start",
    "End": "end",
    "Strand": "strand",
    "Name": "name",
    "Score": "score",
}

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
        with gc_paused():
            if fmt in ("gff", "gtf"):
                roi = read_gff_records(path, feature, gtf=fmt == "gtf")
            elif fmt == "vcf":
                roi = read_vcf_records(path)
            else:
                roi = read_bed_records(path, fmt)
        roi.attrs = {"source": path}
        return roi
    frame = getattr(source, "df", None)  # PyRanges v0
    if isinstance(frame, pd.DataFrame):
        return _from_frame(frame, type(source).__name__, feature)
    raise TypeError(
        "read_regions expects a file path, a pandas DataFrame or a PyRanges "
        f"object, got {type(source).__name__}"
    )


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
    return build_regions(data, where, source)


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
