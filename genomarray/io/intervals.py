"""Coverage from intervals (BED, narrowPeak, bedGraph, GFF/GTF): float32 blocks in bins.

:class:`IntervalCoverage` is a picklable callable for :func:`genomarray.genome.graph.genome_array`:
``reader(chrom, start, end)`` returns the ``(end - start, n)`` float32 block of bins
``[start, end)`` of ``resolution`` bp each (bin ``p`` covers bp ``[p * resolution,
(p + 1) * resolution)``), ``n`` being 1 or the number of categories. A block always equals
the same slice of the whole-chromosome result, whatever the chunking.

The regions are sorted once per chromosome; a call finds the features overlapping its
range with two binary searches (on the starts, and on the running maximum of the ends, so
that overlapping and nested features are found too) and fills the bins with vectorised
difference arrays, ``np.bincount`` and painting of disjoint runs: no Python loop over
features or bins.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from genomarray import model
from genomarray.errors import InputError

__all__ = [
    "MODES",
    "IntervalCoverage",
    "categories_of",
    "category_label",
    "check_mode",
    "counting_range",
]

MODES = ("binary", "score", "bedgraph", "score_category", "name_category")
"""Values of ``IntervalCoverage.mode``."""

SCORE_MODES = ("score", "score_category")
CATEGORY_MODES = ("score_category", "name_category")
_PAIR_LIMIT = 1 << 24  # (feature, segment) pairs expanded at once for overlapping maxima


# -- helpers ------------------------------------------------------------------------------
def category_label(value: Any) -> str:
    """Return the category label of a score: integral numbers without ``.0``.

    Examples
    --------
    >>> category_label(3.0), category_label(0.5), category_label("b")
    ('3', '0.5', 'b')
    """
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    ):
        number = float(value)
        if number.is_integer() and abs(number) < 2**53:
            return str(int(number))
        return repr(number)
    return str(value)


def categories_of(
    regions: pd.DataFrame, mode: str = "name_category", column: str = "name"
) -> tuple[str, ...]:
    """Return the sorted category labels of regions (the conditions of a categorical track).

    Parameters
    ----------
    regions
        A regions DataFrame (:func:`genomarray.io.regions.read_regions`).
    mode
        ``"score_category"``: the distinct scores, sorted numerically, labelled as
        strings (``3.0`` -> ``"3"``); ``"name_category"``: the distinct values of
        ``column``, sorted as strings.
    column
        The column holding the categories in ``"name_category"`` mode (``"feature"`` for
        GFF feature types).

    Examples
    --------
    >>> import pandas as pd
    >>> roi = pd.DataFrame({"chrom": "c", "start": [0, 5, 9], "end": [3, 8, 12],
    ...                     "name": ["b", "a", "b"], "score": [10.0, 2.0, 2.5]})
    >>> categories_of(roi, "name_category")
    ('a', 'b')
    >>> categories_of(roi, "score_category")
    ('2', '2.5', '10')
    """
    if mode == "score_category":
        scores = np.unique(regions["score"].to_numpy(np.float64))
        return tuple(category_label(s) for s in scores[~np.isnan(scores)])
    if mode == "name_category":
        if column not in regions.columns:
            raise InputError(
                f"name_category mode reads the column {column!r}, which the "
                f"regions lack (they have {list(map(str, regions.columns))})"
            )
        return tuple(sorted({str(v) for v in regions[column].tolist()}))
    raise InputError(
        f"categories exist only in the modes {', '.join(CATEGORY_MODES)}, got mode={mode!r}"
    )


def check_mode(
    regions: pd.DataFrame, mode: str, source: str = "regions", column: str = "name"
) -> None:
    """Check that ``regions`` can make a coverage track in ``mode``.

    Rules:

    - no regions at all: a warning naming ``source`` (the track will be all zeros);
    - ``"score"``, ``"score_category"``: the regions must carry scores. A BED with fewer
      than 5 columns, or a GFF with ``.`` scores, reads as score 0 everywhere, so a track
      whose every score is 0 is taken as having none (``attrs["has_score"]``, where the
      reader sets it, decides instead); a missing (NaN) score is an error;
    - ``"bedgraph"``: values must be finite numbers and records must not overlap (one
      value per base, as ``bedGraphToBigWig`` requires);
    - ``"name_category"``: ``column`` must exist (and, for ``"name"``, not be ``.``
      everywhere, as in a BED without names).

    Raises
    ------
    InputError
        The message names ``source``, the rule and the offending record.

    Examples
    --------
    >>> import pandas as pd
    >>> roi = pd.DataFrame({"chrom": ["c"], "start": [0], "end": [5], "score": [0.0]})
    >>> check_mode(roi, "binary")
    >>> check_mode(roi, "score", source="peaks.bed")
    Traceback (most recent call last):
    ...
    genomarray.errors.InputError: peaks.bed: mode='score' needs scores, but ...
    """
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}", source=source)
    missing = [c for c in ("chrom", "start", "end") if c not in regions.columns]
    if missing:
        raise InputError(
            f"regions need the columns chrom, start, end; missing {missing}", source=source
        )
    if mode == "name_category" and column not in regions.columns:
        raise InputError(
            f"mode='name_category' reads categories from the column {column!r}, "
            f"which the regions lack (they have {list(map(str, regions.columns))})",
            source=source,
        )
    if mode in SCORE_MODES or mode == "bedgraph":
        if "score" not in regions.columns:
            raise InputError(f"mode={mode!r} needs a 'score' column", source=source)
        if not pd.api.types.is_numeric_dtype(regions["score"]) or pd.api.types.is_bool_dtype(
            regions["score"]
        ):
            raise InputError(
                f"mode={mode!r} needs numeric scores, got dtype {regions['score'].dtype}",
                source=source,
            )
    if not len(regions):
        warnings.warn(
            f"{source}: no regions; the coverage track (mode={mode!r}) is all zeros",
            UserWarning,
            stacklevel=2,
        )
        return
    if mode in SCORE_MODES or mode == "bedgraph":
        score = regions["score"].to_numpy(np.float64)
        bad = np.flatnonzero(~np.isfinite(score))
        if len(bad):
            i = int(bad[0])
            raise InputError(
                f"mode={mode!r} needs a finite score on every record, got {score[i]}",
                source=source,
                record=_where(regions, i),
            )
        has = regions.attrs.get(model.HAS_SCORE)
        if mode in SCORE_MODES and (not has if has is not None else not score.any()):
            raise InputError(
                f"mode={mode!r} needs scores, but every score is 0 (a BED with "
                "fewer than 5 columns or a GFF with '.' scores has none); use "
                "mode='binary', or a file with a score column",
                source=source,
            )
    if mode == "name_category" and column == "name" and (regions["name"].astype(str) == ".").all():
        raise InputError(
            "mode='name_category' needs names, but every name is '.' (a BED "
            "with fewer than 4 columns has none); use mode='binary', or "
            "category_column= another column",
            source=source,
        )
    if mode == "bedgraph":
        frame = regions.sort_values(["chrom", "start"], kind="stable")
        chrom = frame["chrom"].to_numpy()
        start = frame["start"].to_numpy(np.int64)
        end = frame["end"].to_numpy(np.int64)
        same = chrom[1:] == chrom[:-1]
        bad = np.flatnonzero(same & (start[1:] < end[:-1]))
        if len(bad):
            i = int(bad[0])
            raise InputError(
                f"bedGraph records overlap: {chrom[i]}:{start[i]}-{end[i]} and "
                f"{chrom[i + 1]}:{start[i + 1]}-{end[i + 1]} (a bedGraph holds "
                "one value per base)",
                source=source,
            )


def _where(regions: pd.DataFrame, i: int) -> str:
    row = regions.iloc[i]
    return f"row {i} ({row['chrom']}:{row['start']}-{row['end']})"


# -- the reader -------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class IntervalCoverage:
    """Coverage of intervals as float32 blocks of bins: ``reader(chrom, start, end)``.

    Parameters
    ----------
    regions
        Regions from :func:`genomarray.io.regions.read_regions` (BED, narrowPeak, bedGraph,
        GFF/GTF); anything else ``read_regions`` accepts is read through it. Only the
        columns the mode needs are kept.
    mode
        One of :data:`MODES`:

        - ``"binary"``: 1 in every bin for which a feature counts, else 0;
        - ``"score"``: the score of the features that count for the bin; where features
          overlap, the largest score (uncovered bins: 0);
        - ``"bedgraph"``: the value per base; at ``resolution > 1`` the mean over the
          bin's bases, uncovered bases counting as 0 (records must not overlap);
        - ``"score_category"`` / ``"name_category"``: one-hot over :attr:`categories`: a
          bin gets 1 in the category of each feature that counts for it (several where
          features of different categories overlap it).
    resolution
        Bin size in bp.
    minoverlap
        A feature counts for a bin if it covers at least ``ceil(minoverlap x bin length)``
        bp of it; the bin length is ``resolution``, or the real length of a chromosome's
        partial last bin (when ``chrom_sizes`` gives it). ``None``: 1 bp suffices. Must be
        in ``(0, 1]``; not used by ``"bedgraph"``.
    categories
        Category labels = the track's conditions (``*_category`` modes); default: all of
        them, sorted (:func:`categories_of`). Features of other categories are ignored.
    source
        Name of the regions in messages (default: ``regions.attrs["source"]``, the file).
    category_column
        Column of the categories in ``"name_category"`` mode: ``"name"``, or
        ``"feature"`` for GFF/GTF feature types.
    chrom_sizes
        ``{chrom: length}``: gives a chromosome's partial last bin its real length (for
        ``minoverlap`` and bedGraph means) and drops features past the chromosome end.
        Without it every bin counts ``resolution`` bp.

    Examples
    --------
    >>> import pandas as pd
    >>> roi = pd.DataFrame({"chrom": "c", "start": [2, 4], "end": [6, 5],
    ...                     "score": [1.0, 3.0]})
    >>> IntervalCoverage(roi)("c", 0, 8).ravel().tolist()
    [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    >>> IntervalCoverage(roi, mode="score")("c", 0, 8).ravel().tolist()
    [0.0, 0.0, 1.0, 1.0, 3.0, 1.0, 0.0, 0.0]
    >>> IntervalCoverage(roi, resolution=4, minoverlap=0.75)("c", 0, 2).ravel().tolist()
    [0.0, 0.0]
    """

    regions: pd.DataFrame
    mode: str = "binary"
    resolution: int = 1
    minoverlap: float | None = None
    categories: tuple = ()
    source: str = "regions"
    category_column: str = "name"
    chrom_sizes: Mapping[str, int] | None = None

    def __post_init__(self) -> None:
        regions = self.regions
        if not isinstance(regions, pd.DataFrame) or not {"chrom", "start", "end"} <= set(
            regions.columns
        ):
            from genomarray.io.regions import read_regions

            regions = read_regions(regions)
        source = self.source
        if source == "regions" and regions.attrs.get("source"):
            source = str(regions.attrs["source"])
        set_ = object.__setattr__
        set_(self, "source", source)
        res = self.resolution
        if isinstance(res, (bool, np.bool_)) or not isinstance(res, (int, np.integer)) or res < 1:
            raise InputError(f"resolution must be an integer >= 1, got {res!r}", source=source)
        set_(self, "resolution", int(res))
        if self.minoverlap is not None:
            f = self.minoverlap
            if (
                isinstance(f, (bool, np.bool_))
                or not isinstance(f, (int, float, np.number))
                or not 0 < f <= 1
            ):
                raise InputError(
                    f"minoverlap must be a fraction in (0, 1] of the bin, or None, got {f!r}",
                    source=source,
                )
            if self.mode == "bedgraph":
                raise InputError(
                    "minoverlap does not apply to mode='bedgraph' (bins hold "
                    "the mean over their bases)",
                    source=source,
                )
            set_(self, "minoverlap", float(f))
        check_mode(regions, self.mode, source, self.category_column)

        if self.mode in CATEGORY_MODES:
            labels = tuple(str(c) for c in self.categories) or categories_of(
                regions, self.mode, self.category_column
            )
            if len(set(labels)) != len(labels):
                raise InputError(f"categories must be distinct, got {labels}", source=source)
        elif self.categories:
            raise InputError(
                f"categories apply to the modes {', '.join(CATEGORY_MODES)}, "
                f"not mode={self.mode!r}",
                source=source,
            )
        else:
            labels = ()
        set_(self, "categories", labels)
        if self.chrom_sizes is not None:
            set_(self, "chrom_sizes", {str(k): int(v) for k, v in self.chrom_sizes.items()})

        keep = ["chrom", "start", "end"]
        if self.mode in SCORE_MODES or self.mode == "bedgraph":
            keep.append("score")
        elif self.mode == "name_category":
            keep.append(self.category_column)
        trimmed = regions.loc[:, keep].reset_index(drop=True)
        trimmed.attrs = {"source": source}
        set_(self, "regions", trimmed)
        set_(self, "_index", self._build_index(trimmed))

    @property
    def n_columns(self) -> int:
        """Number of columns of a block: ``len(categories)``, or 1."""
        return len(self.categories) if self.mode in CATEGORY_MODES else 1

    def _build_index(self, regions: pd.DataFrame) -> dict[str, tuple[np.ndarray, ...]]:
        """Per chromosome: starts (sorted), ends, running max of ends, payload."""
        if self.mode in SCORE_MODES or self.mode == "bedgraph":
            payload = regions["score"].to_numpy(np.float64)
        else:
            payload = np.zeros(len(regions), dtype=np.float64)
        if self.mode in CATEGORY_MODES:
            if self.mode == "score_category":
                labels = [category_label(v) for v in payload]
            else:
                labels = regions[self.category_column].astype(str).tolist()
            codes = pd.Index(list(self.categories)).get_indexer(labels)
            payload = codes.astype(np.float64)
            regions = regions[codes >= 0]
            payload = payload[codes >= 0]
        index: dict[str, tuple[np.ndarray, ...]] = {}
        chroms = regions["chrom"].astype(str).to_numpy()
        starts = regions["start"].to_numpy(np.int64)
        ends = regions["end"].to_numpy(np.int64)
        order = np.lexsort((starts, chroms))
        chroms, starts, ends, payload = chroms[order], starts[order], ends[order], payload[order]
        bounds = np.flatnonzero(chroms[1:] != chroms[:-1]) + 1
        for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(chroms)], strict=True):
            if hi > lo:
                e = ends[lo:hi].copy()
                index[str(chroms[lo])] = (
                    starts[lo:hi].copy(),
                    e,
                    np.maximum.accumulate(e),
                    payload[lo:hi].copy(),
                )
        return index

    def __call__(self, chrom: str, start: int, end: int) -> np.ndarray:
        """Return bins ``[start, end)`` of ``chrom``: float32, ``(end - start, n_columns)``.

        A chromosome without features gives zeros.
        """
        start, end = int(start), int(end)
        if start < 0 or end < start:
            raise InputError(
                f"invalid bin range {start}-{end}", source=self.source, record=str(chrom)
            )
        out = np.zeros((end - start, self.n_columns), dtype=np.float32)
        entry = self._index.get(chrom)  # type: ignore[attr-defined]
        res = self.resolution
        lo, hi = start * res, end * res
        if self.chrom_sizes is not None and chrom in self.chrom_sizes:
            hi = min(hi, self.chrom_sizes[chrom])
        if entry is None or hi <= lo:
            return out
        starts, ends, maxend, payload = entry
        i0 = int(np.searchsorted(maxend, lo, side="right"))  # before i0 every end <= lo
        i1 = int(np.searchsorted(starts, hi, side="left"))  # from i1 every start >= hi
        if i1 <= i0:
            return out
        s, e, v = starts[i0:i1], ends[i0:i1], payload[i0:i1]
        hit = e > lo
        cs = np.maximum(s[hit], lo) - lo  # clipped to the range, relative to lo (bp)
        ce = np.minimum(e[hit], hi) - lo
        v = v[hit]
        span = hi - lo
        n_bins = -(-span // res)
        first, last = cs // res, (ce - 1) // res  # first and last bin touched (inclusive)

        if self.mode == "bedgraph":
            out[:n_bins, 0] = _bin_means(cs, ce, first, last, v, res, span, n_bins)
            return out
        a, b = first, last + 1
        if self.minoverlap is not None:
            a, b = counting_range(cs, ce, first, last, res, span, self.minoverlap)
        ok = b > a
        a, b, v = a[ok], b[ok], v[ok]
        if self.mode == "binary":
            depth = np.cumsum(
                np.bincount(a, minlength=n_bins + 1) - np.bincount(b, minlength=n_bins + 1)
            )
            out[:n_bins, 0] = depth[:n_bins] > 0
        elif self.mode == "score":
            out[:n_bins, 0] = _range_max(a, b, v, n_bins)
        else:
            code = v.astype(np.int64)
            for k in np.unique(code):
                sel = code == k
                depth = np.cumsum(
                    np.bincount(a[sel], minlength=n_bins + 1)
                    - np.bincount(b[sel], minlength=n_bins + 1)
                )
                out[:n_bins, k] = depth[:n_bins] > 0
        return out


# -- vectorised kernels ---------------------------------------------------------------------------
def _bin_length(bins: np.ndarray, res: int, span: int) -> np.ndarray:
    return np.minimum(res, span - bins * res)


def counting_range(
    cs: np.ndarray,
    ce: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    res: int,
    span: int,
    fraction: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Bins ``[a, b)`` for which each feature covers >= ceil(fraction x bin length) bp.

    Features are clipped to a range of ``span`` bp (``cs, ce``: bp from its start) and
    touch bins ``first..last``. Interior bins are covered whole; only the first and last
    bin can fall short.

    Examples
    --------
    >>> import numpy as np
    >>> a, b = counting_range(np.array([5]), np.array([26]), np.array([0]), np.array([2]),
    ...                       10, 30, 0.5)
    >>> a.tolist(), b.tolist()  # bin 0 gets 5 bp (counts), bin 2 gets 6 bp (counts)
    ([0], [3])
    """
    need_first = np.ceil(fraction * _bin_length(first, res, span) - 1e-9)
    need_last = np.ceil(fraction * _bin_length(last, res, span) - 1e-9)
    single = first == last
    ov_first = np.where(single, ce - cs, (first + 1) * res - cs)
    ov_last = np.where(single, ce - cs, ce - last * res)
    a = first + (ov_first < need_first)
    b = last + 1 - (ov_last < need_last)
    return a, b


def _paint(a: np.ndarray, b: np.ndarray, values: np.ndarray, out: np.ndarray) -> None:
    """``out[a_i:b_i] = values_i`` for disjoint runs, vectorised."""
    lengths = b - a
    total = int(lengths.sum())
    if not total:
        return
    offsets = np.repeat(a - (np.cumsum(lengths) - lengths), lengths)
    out[np.arange(total) + offsets] = np.repeat(values, lengths)


def _range_max(a: np.ndarray, b: np.ndarray, values: np.ndarray, n_bins: int) -> np.ndarray:
    """Per bin, the max of ``values_i`` over runs ``[a_i, b_i)`` covering it (else 0)."""
    out = np.zeros(n_bins, dtype=np.float64)
    if not len(a):
        return out
    order = np.argsort(a, kind="stable")
    a, b, values = a[order], b[order], values[order]
    if len(a) == 1 or (a[1:] >= np.maximum.accumulate(b)[:-1]).all():  # disjoint runs
        _paint(a, b, values, out)
        return out
    # overlapping runs: split at every run boundary into elementary segments
    marks = np.zeros(int(b.max()) + 1, dtype=bool)
    marks[a] = True
    marks[b] = True
    bounds = np.flatnonzero(marks)  # sorted distinct run boundaries (np.unique hashes: slow)
    ka, kb = np.searchsorted(bounds, a), np.searchsorted(bounds, b)
    counts = kb - ka
    seg_max = np.full(len(bounds) - 1, -np.inf)
    if int(counts.sum()) <= _PAIR_LIMIT:
        total = int(counts.sum())
        seg = np.arange(total) + np.repeat(ka - (np.cumsum(counts) - counts), counts)
        np.maximum.at(seg_max, seg, np.repeat(values, counts))
    else:  # deeply nested features: paint in increasing order, the largest wins
        for i in np.argsort(values, kind="stable"):
            seg_max[ka[i] : kb[i]] = values[i]
    covered = np.isfinite(seg_max)
    _paint(bounds[:-1][covered], bounds[1:][covered], seg_max[covered], out)
    return out


def _bin_means(
    cs: np.ndarray,
    ce: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    values: np.ndarray,
    res: int,
    span: int,
    n_bins: int,
) -> np.ndarray:
    """Mean over each bin's bases of non-overlapping records (uncovered = 0)."""
    single = first == last
    sums = np.zeros(n_bins, dtype=np.float64)
    # bins inside a record are covered whole: paint value x res (records are disjoint)
    inner_a, inner_b = first + 1, np.maximum(last, first + 1)
    multi = ~single
    _paint(inner_a[multi], inner_b[multi], values[multi] * res, sums)
    # the first and last bin of each record get value x overlap
    ov_first = np.where(single, ce - cs, (first + 1) * res - cs)
    sums += np.bincount(first, weights=values * ov_first, minlength=n_bins)[:n_bins]
    sums += np.bincount(
        last[multi], weights=values[multi] * (ce - last * res)[multi], minlength=n_bins
    )[:n_bins]
    return sums / _bin_length(np.arange(n_bins), res, span)
