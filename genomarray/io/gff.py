"""GFF3 and GTF records (1-based, inclusive coordinates; names from the attributes)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import unquote

import pandas as pd

from genomarray.errors import InputError
from genomarray.io.columns import (
    build_regions,
    line_of,
)
from genomarray.io.schemas import (
    GFF_COLUMNS,
)
from genomarray.io.text import numbered_lines

_NAME_KEYS = ("gene_name", "gene_id", "Name", "ID")


_ATTR_RE = {
    key: re.compile(
        r"(?:^|;)\s*" + re.escape(key) + r'(?:\s+"([^"]*)"|\s+([^;"\s]+)|\s*=\s*([^;]*))'
    )
    for key in _NAME_KEYS
}


_GTF_ATTRIBUTES = re.compile(r'\s*(?:[^\s";]+(?:\s+(?:"[^"]*"|[^\s";]+))*\s*(?:;\s*|$))*')
"""A whole GTF attribute column: ``key "value";`` or ``key value;`` pairs."""


def read_gff_records(
    path: str, feature: str | Sequence[str] | None, gtf: bool = False
) -> pd.DataFrame:
    """Parse a GFF3 or GTF file into regions (see :func:`genomarray.read_regions`).

    ``gtf``: the file is read as GTF, whose attribute column is checked on every line
    (balanced double quotes); in a GFF3 file the lines that use GTF syntax are.
    """
    keep = None if feature is None else {feature} if isinstance(feature, str) else set(feature)
    chrom, feat, start, end, score, strand, attr, name = ([] for _ in range(8))
    lines: list[int] = []
    for number, line in numbered_lines(path):
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
        attribute = fields[8]
        try:
            name.append(gff_name(attribute, gtf))
        except ValueError as err:
            raise InputError(str(err), source=path, record=f"line {number}") from None
        chrom.append(fields[0])
        feat.append(fields[2])
        start.append(fields[3])
        end.append(fields[4])
        score.append(fields[5])
        strand.append("." if fields[6] == "?" else fields[6])
        attr.append(attribute)
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
    return build_regions(data, line_of(lines), path, one_based=True)


def gff_name(attribute: str, gtf: bool = False) -> str:
    """The feature name from a GFF3 or GTF attribute column (``"."`` if none).

    Taken from ``gene_name``, ``gene_id``, ``Name`` or ``ID``, in that order. A GTF
    attribute column (``gtf``, or a column written in GTF syntax) must balance its
    double quotes, and a quoted name must not run into the next pair: either would give
    a garbled name and is a ``ValueError``.

    Examples
    --------
    >>> gff_name('gene_id "g1"; transcript_id "t1";'), gff_name("ID=g2;Name=abc")
    ('g1', 'abc')
    >>> gff_name('gene_id "g1; transcript_id "t1";')
    Traceback (most recent call last):
    ...
    ValueError: an unbalanced double quote in the attribute column (column 9): ...
    """
    found, gtf_syntax = ".", gtf
    for key in _NAME_KEYS:
        if key in attribute:
            match = _ATTR_RE[key].search(attribute)
            if match:
                quoted, bare, gff3 = match.groups()
                if gff3 is not None:
                    return unquote(gff3.strip()) if "%" in gff3 else gff3.strip()
                found, gtf_syntax = (quoted if quoted is not None else bare), True
                break
    if gtf_syntax and '"' in attribute:
        problem = None
        if attribute.count('"') % 2:
            problem = "an unbalanced double quote"
        elif ";" in found and not _GTF_ATTRIBUTES.fullmatch(attribute):
            problem = "a quoted value that runs into the next pair"
        if problem is not None:
            raise ValueError(
                f"{problem} in the attribute column (column 9): {_short(attribute)}; "
                'expected GTF attributes as key "value"; pairs (e.g. gene_id "g1"; '
                'transcript_id "t1";)'
            )
    return found


def _short(text: str, n: int = 80) -> str:
    return repr(text if len(text) <= n else text[: n - 3] + "...")
