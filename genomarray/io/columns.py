"""Typed, checked columns of a regions DataFrame, built from text fields.

Every parser (BED, GFF/GTF, VCF, DataFrames) hands its per-column values to
:func:`build_regions`, which converts them and names the first bad record in its error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from genomarray.errors import InputError

STRANDS = ("+", "-", ".")
"""Valid values of the ``strand`` column."""


EXTRA_DTYPES: dict[str, Any] = {
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


def line_of(lines: list[int]) -> Callable[[int], str]:
    return lambda i: f"line {lines[i]}"


# -- helpers: columns -------------------------------------------------------------------
def ints(
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


def floats(
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


def extra_column(values: Sequence[str], name: str = "") -> pd.Series:
    """An extra column: its schema dtype if known and valid, else int64 if every value is an
    integer, else float64, else str."""
    known = EXTRA_DTYPES.get(name)
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


def strings(values: Sequence[Any] | pd.Series) -> pd.Series:
    if isinstance(values, pd.Series):
        if pd.api.types.is_string_dtype(values) and values.dtype != object:
            return values.reset_index(drop=True)
        return values.astype(str).reset_index(drop=True)
    return pd.Series(list(values), dtype=object).astype(str)


def build_regions(
    data: dict[str, Any], where: Callable[[int], str], source: str, one_based: bool = False
) -> pd.DataFrame:
    """Assemble and validate a regions DataFrame from per-column values (strings)."""
    n = len(data["chrom"])
    start = ints(data["start"], "start", where, source)
    end = ints(data["end"], "end", where, source)
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
    check_bounds(start, end, where, source)

    strand = strings(data["strand"]) if "strand" in data else pd.Series(["."] * n, dtype=str)
    bad = np.flatnonzero(~strand.isin(STRANDS).to_numpy())
    if len(bad):
        i = int(bad[0])
        raise InputError(
            f"strand must be one of '+', '-', '.', got {strand.iat[i]!r}",
            source=source,
            record=where(i),
        )
    score = (
        floats(data["score"], "score", where, source)
        if "score" in data
        else np.zeros(n, dtype=np.float64)
    )
    name = strings(data["name"]) if "name" in data else pd.Series(["."] * n, dtype=str)

    frame = {
        "chrom": strings(data["chrom"]),
        "start": pd.Series(start, dtype=np.int64),
        "end": pd.Series(end, dtype=np.int64),
        "name": name,
        "score": pd.Series(score, dtype=np.float64),
        "strand": strand,
    }
    for key, values in data.items():
        if key not in frame:
            frame[key] = values if isinstance(values, pd.Series) else extra_column(values, key)
    return pd.DataFrame(frame)


def check_bounds(
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
