"""VCF records as regions: ``start = POS - 1``, ``end = start + len(REF)``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from genomarray.errors import InputError
from genomarray.io.columns import (
    build_regions,
    ints,
    line_of,
)
from genomarray.io.schemas import (
    VCF_COLUMNS,
)
from genomarray.io.text import numbered_lines


def read_vcf_records(path: str) -> pd.DataFrame:
    chrom, pos, ident, ref, alt, qual = ([] for _ in range(6))
    lines: list[int] = []
    for number, line in numbered_lines(path):
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
    where = line_of(lines)
    start = ints(pos, "POS", where, path)
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
    return build_regions(data, where, path)
