"""BED (3 to 12+ columns), narrowPeak, broadPeak and bedGraph records."""

from __future__ import annotations

import pandas as pd

from genomarray import model
from genomarray.errors import InputError
from genomarray.io.columns import (
    build_regions,
    line_of,
)
from genomarray.io.schemas import (
    BED_COLUMNS,
    BEDGRAPH_COLUMNS,
    NARROWPEAK_COLUMNS,
)
from genomarray.io.text import is_header, numbered_lines

_FIXED_COLUMNS = {"narrowpeak": 10, "broadpeak": 9, "bedgraph": 4}


def read_bed_records(path: str, fmt: str) -> pd.DataFrame:
    expected = _FIXED_COLUMNS.get(fmt)
    rows: list[list[str]] = []
    lines: list[int] = []
    ncol = first = 0
    for number, raw in numbered_lines(path):
        line = raw.strip()
        if not line or (line[0] in "#tb" and is_header(line)):
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
                    f"{' '.join(bed_names(fmt, expected))}), got {ncol}",
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
    names = bed_names(fmt, ncol)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    data = dict(zip(names, columns, strict=True))
    out = build_regions(data, line_of(lines), path)
    out.attrs[model.HAS_SCORE] = "score" in names or fmt == "bedgraph"
    return out


def bed_names(fmt: str, ncol: int) -> list[str]:
    if fmt == "bedgraph":
        return ["score" if c == "value" else c for c in BEDGRAPH_COLUMNS]
    if fmt in ("narrowpeak", "broadpeak"):
        return list(NARROWPEAK_COLUMNS[:ncol])
    return list(BED_COLUMNS[:ncol]) + [f"col{i + 1}" for i in range(len(BED_COLUMNS), ncol)]
