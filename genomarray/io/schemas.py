"""Column schemas of the interval formats, declared once.

Regions are plain pandas DataFrames with BED column names (``chrom, start, end, name,
score, strand``), 0-based and half-open.
"""

from __future__ import annotations

REGION_COLUMNS = ("chrom", "start", "end", "name", "score", "strand")
"""Columns every regions DataFrame returned by :func:`genomarray.io.regions.read_regions` has."""

BED_COLUMNS = (
    "chrom",
    "start",
    "end",
    "name",
    "score",
    "strand",
    "thickStart",
    "thickEnd",
    "itemRgb",
    "blockCount",
    "blockSizes",
    "blockStarts",
)

NARROWPEAK_COLUMNS = (
    "chrom",
    "start",
    "end",
    "name",
    "score",
    "strand",
    "signalValue",
    "pValue",
    "qValue",
    "peak",
)

BEDGRAPH_COLUMNS = ("chrom", "start", "end", "value")

GFF_COLUMNS = (
    "chrom",
    "source",
    "feature",
    "start",
    "end",
    "score",
    "strand",
    "frame",
    "attribute",
)

VCF_COLUMNS = ("chrom", "pos", "id", "ref", "alt", "qual", "filter", "info")
