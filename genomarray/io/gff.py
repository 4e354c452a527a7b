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


def read_gff_records(path: str, feature: str | Sequence[str] | None) -> pd.DataFrame:
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
        chrom.append(fields[0])
        feat.append(fields[2])
        start.append(fields[3])
        end.append(fields[4])
        score.append(fields[5])
        strand.append("." if fields[6] == "?" else fields[6])
        attr.append(fields[8])
        name.append(gff_name(fields[8]))
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


def gff_name(attribute: str) -> str:
    for key in _NAME_KEYS:
        if key in attribute:
            match = _ATTR_RE[key].search(attribute)
            if match:
                quoted, bare, gff3 = match.groups()
                if gff3 is not None:
                    return unquote(gff3.strip()) if "%" in gff3 else gff3.strip()
                return quoted if quoted is not None else bare
    return "."
