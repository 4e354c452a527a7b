"""Janggu's ``GenomicIndexer``: the windows of a dataset, as lists of coordinates.

A :class:`GenomicIndexer` holds the tiles of a dataset (``chrs``, ``starts``, ``ends``,
``strand``, without flank) and its tiling (``binsize``, ``stepsize``, ``flank``,
``zero_padding``, ``collapse``); ``gi[i]`` is the window ``i`` as an :class:`Interval`
with the flank added (clipped at 0, as Janggu). Tiling follows
:func:`genomarray.regions.tile` (Janggu's rules; see ``docs/migration.md`` for
``stepsize > binsize``). ``dataset.gindexer`` of every ``genomarray.compat`` dataset
returns one, and :meth:`GenomicIndexer.tiles` gives the DataFrame genomarray's views take.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from genomarray import model
from genomarray.errors import InputError


class Interval:
    """A genomic interval (the fields of ``pybedtools.Interval`` that Janggu used).

    Examples
    --------
    >>> iv = Interval("chr1", 10, 30, strand="-")
    >>> iv.length, iv
    (20, Interval(chr1:10-30(-)))
    """

    __slots__ = ("chrom", "end", "name", "score", "start", "strand")

    def __init__(
        self,
        chrom: str,
        start: int,
        end: int,
        name: str = ".",
        score: str = ".",
        strand: str = ".",
    ) -> None:
        self.chrom = str(chrom)
        self.start = int(start)
        self.end = int(end)
        self.name = name
        self.score = score
        self.strand = str(strand)

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def fields(self) -> list[str]:
        return [self.chrom, str(self.start), str(self.end), self.name, self.score, self.strand]

    def __repr__(self) -> str:
        strand = "" if self.strand == "." else f"({self.strand})"
        return f"Interval({self.chrom}:{self.start}-{self.end}{strand})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Interval) and self.fields == other.fields

    def __hash__(self) -> int:
        return hash(tuple(self.fields))


def _positive(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"{name}>0 required, got {value!r}")
    return int(value)


class GenomicIndexer:
    """Windows of a dataset (Janggu's ``GenomicIndexer``).

    Parameters
    ----------
    binsize, stepsize
        Window length and step in bp (None: the region's own length).
    flank
        Bases added to both sides of every window by ``gi[i]`` and by the datasets.
    zero_padding
        Keep a region's short last window (padded to ``binsize`` by the datasets).
    collapse
        One window per region whatever its length (one value per region).
    random_state
        Seed of a permutation of the windows: ``gi[i]`` is window ``randomidx[i]``.

    Examples
    --------
    >>> import pandas as pd
    >>> roi = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [500]})
    >>> gi = GenomicIndexer.create_from_file(roi, binsize=200, stepsize=200, flank=10)
    >>> len(gi), gi[0], gi.tostr()
    (3, Interval(chr1:0-210), ['chr1:0-210', 'chr1:190-410', 'chr1:390-510'])
    >>> len(GenomicIndexer.create_from_file(roi, 600, 600, zero_padding=False))
    0
    """

    def __init__(
        self,
        binsize: int | None,
        stepsize: int | None,
        flank: int = 0,
        zero_padding: bool = True,
        collapse: bool = False,
        random_state: Any = None,
    ) -> None:
        self.binsize = _positive("binsize", binsize)
        self.stepsize = _positive("stepsize", stepsize)
        if isinstance(flank, bool) or not isinstance(flank, int | np.integer) or flank < 0:
            raise ValueError(f"flank>=0 required, got {flank!r}")
        self.flank = int(flank)
        self.zero_padding = bool(zero_padding)
        self.collapse = bool(collapse)
        self.chrs: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.strand: list[str] = []
        self._random_state = random_state
        self._randomidx: np.ndarray | None = None

    # -- Janggu's constructors --------------------------------------------------------------
    @classmethod
    def create_from_file(
        cls,
        regions: Any,
        binsize: int | None,
        stepsize: int | None,
        flank: int = 0,
        zero_padding: bool = True,
        collapse: bool = False,
        random_state: Any = None,
    ) -> GenomicIndexer:
        """Tile regions (a BED/GFF path, ``.bed.gz`` too, a DataFrame, PyRanges, a list of
        intervals, or another GenomicIndexer) into windows.

        ``binsize=None`` takes the longest region (each region one window, unless
        ``collapse``), ``stepsize=None`` the binsize.
        """
        from genomarray.io.regions import read_regions

        roi = _regions_frame(regions)
        roi = read_regions(roi) if not isinstance(roi, pd.DataFrame) else roi
        lengths = (roi["end"] - roi["start"]).to_numpy(np.int64)
        if binsize is None and not collapse and len(roi):
            binsize = int(lengths.max())
        if stepsize is None:
            stepsize = binsize if binsize is not None else 1
        gi = cls(
            binsize,
            stepsize,
            flank,
            zero_padding=zero_padding,
            collapse=collapse,
            random_state=random_state,
        )
        gi._extend(roi)
        return gi

    @classmethod
    def create_from_genomesize(cls, gsize: Any) -> GenomicIndexer:
        """One window per chromosome ``(chrom, 0, length)`` of ``{chrom: length}`` (or a
        sizes/FASTA file)."""
        from genomarray.io.chromsizes import chrom_sizes

        sizes = gsize if isinstance(gsize, dict) else chrom_sizes(gsize)
        gi = cls(None, None, 0, zero_padding=False, collapse=False)
        for chrom, length in sizes.items():
            gi.add_interval(str(chrom), 0, int(length), ".")
        return gi

    @classmethod
    def create_from_region(
        cls,
        chrom: str,
        start: int,
        end: int,
        strand: str,
        binsize: int | None,
        stepsize: int | None,
        flank: int = 0,
        zero_padding: bool = True,
    ) -> GenomicIndexer:
        """Tile one region."""
        binsize = int(end) - int(start) if binsize is None else binsize
        stepsize = binsize if stepsize is None else stepsize
        gi = cls(binsize, stepsize, flank, zero_padding=zero_padding)
        return gi.add_interval(chrom, start, end, strand)

    @classmethod
    def from_view(cls, view: xr.DataArray) -> GenomicIndexer:
        """The windows of a genomarray view (shuffled views keep Janggu's ``randomidx``)."""
        import json

        call = json.loads(view.attrs.get(model.JANGGU_CALL, '{"kwargs": {}}'))["kwargs"]
        binsize = view.attrs.get(model.BINSIZE)
        collapse = bool(call.get("resolution", 1) is None and call.get("binsize") is None)
        gi = cls(
            None if collapse else binsize,
            None if collapse else (view.attrs.get(model.STEPSIZE) or binsize),
            int(view.attrs.get(model.FLANK, 0) or 0),
            zero_padding=call.get("zero_padding", True),
            collapse=collapse,
        )
        frame = model.regions_of(view)
        if model.REGION_INDEX in view.coords:
            index = np.asarray(view[model.REGION_INDEX].values, dtype=np.int64)
            order = np.empty_like(index)
            order[index] = np.arange(len(index))
            frame = frame.iloc[order].reset_index(drop=True)
            gi._randomidx = index
            gi._random_state = call.get("random_state")
        gi._append(frame)
        return gi

    # -- Janggu's methods -----------------------------------------------------------------
    def add_interval(self, chrom: str, start: int, end: int, strand: str) -> GenomicIndexer:
        """Tile one more region with this indexer's binsize and stepsize; returns self."""
        roi = pd.DataFrame(
            {"chrom": [str(chrom)], "start": [int(start)], "end": [int(end)], "strand": [strand]}
        )
        self._extend(roi)
        return self

    def add_gindexer(self, othergindexer: GenomicIndexer) -> GenomicIndexer:
        """Add the windows of another indexer, re-tiled with this one's binsize."""
        for i in range(len(othergindexer.chrs)):
            self.add_interval(
                othergindexer.chrs[i],
                othergindexer.starts[i],
                othergindexer.ends[i],
                othergindexer.strand[i],
            )
        return self

    def idx_by_region(
        self,
        include: str | Sequence[str] | None = None,
        exclude: str | Sequence[str] | None = None,
        start: int | None = None,
        end: int | None = None,
    ) -> list[int]:
        """Sorted indices of the windows on ``include`` (not on ``exclude``) chromosomes
        whose flank-extended window overlaps ``[start, end)``."""
        chrs = np.asarray(self.chrs, dtype=object)
        keep = np.ones(len(chrs), dtype=bool)
        if include:
            keep &= np.isin(chrs, [include] if isinstance(include, str) else list(include))
        if exclude:
            keep &= ~np.isin(chrs, [exclude] if isinstance(exclude, str) else list(exclude))
        if start is not None:
            keep &= np.asarray(self.ends, dtype=np.int64) + self.flank > start
        if end is not None:
            keep &= np.asarray(self.starts, dtype=np.int64) - self.flank < end
        return np.flatnonzero(keep).tolist()

    def filter_by_region(
        self,
        include: str | Sequence[str] | None = None,
        exclude: str | Sequence[str] | None = None,
        start: int | None = None,
        end: int | None = None,
    ) -> GenomicIndexer:
        """A new indexer with the windows :meth:`idx_by_region` selects."""
        idxs = self.idx_by_region(include, exclude, start, end)
        new = GenomicIndexer(
            self.binsize,
            self.stepsize,
            self.flank,
            zero_padding=self.zero_padding,
            collapse=self.collapse,
            random_state=self.random_state,
        )
        new.chrs = [self.chrs[i] for i in idxs]
        new.starts = [self.starts[i] for i in idxs]
        new.ends = [self.ends[i] for i in idxs]
        new.strand = [self.strand[i] for i in idxs]
        return new

    def export_to_bed(self, filename: str | os.PathLike) -> None:
        """Write the flank-extended windows as 6-column BED (name and score ``-``)."""
        with open(filename, "w") as handle:
            for i in range(len(self.chrs)):
                handle.write(
                    f"{self.chrs[i]}\t{max(0, self.starts[i] - self.flank)}\t"
                    f"{self.ends[i] + self.flank}\t-\t-\t{self.strand[i]}\n"
                )

    def tostr(self) -> list[str]:
        """``'chrom:start-end'`` of every window (flank included), in index order."""
        return [f"{iv.chrom}:{iv.start}-{iv.end}" for iv in self]

    @property
    def random_state(self) -> Any:
        return self._random_state

    @random_state.setter
    def random_state(self, value: Any) -> None:
        self._random_state = value
        self._randomidx = None

    @property
    def randomidx(self) -> np.ndarray | None:
        """The permutation ``gi[i]`` reads through (None without ``random_state``)."""
        if self._randomidx is None and self._random_state is not None:
            from genomarray.views.aligned import permutation

            self._randomidx = permutation(len(self), self._random_state)
        return self._randomidx

    def __len__(self) -> int:
        return len(self.chrs)

    def __iter__(self) -> Iterator[Interval]:
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, index_: Any) -> Interval:
        if isinstance(index_, bool) or not isinstance(index_, int | np.integer):
            raise IndexError(f"Cannot interpret index: {type(index_)}")
        index = int(index_)
        if self.randomidx is not None:
            index = int(self.randomidx[index])
        start, end = self.starts[index], self.ends[index]
        if end == start:
            end += 1
        return Interval(
            self.chrs[index],
            max(0, start - self.flank),
            end + self.flank,
            strand=self.strand[index],
        )

    def __repr__(self) -> str:
        return (
            f"GenomicIndexer(<{len(self)} regions>, binsize={self.binsize}, "
            f"stepsize={self.stepsize}, flank={self.flank})"
        )

    # -- genomarray's side ------------------------------------------------------------------
    def tiles(self) -> pd.DataFrame:
        """The windows (in index order, without flank) as the tiled DataFrame genomarray's
        views take (:func:`genomarray.views.windows.view`)."""
        frame = pd.DataFrame(
            {
                "chrom": pd.Series(self.chrs, dtype=object),
                "start": np.asarray(self.starts, dtype=np.int64),
                "end": np.asarray(self.ends, dtype=np.int64),
                "name": ".",
                "score": 0.0,
                "strand": pd.Series(self.strand, dtype=object),
            }
        )
        if self.randomidx is not None and len(frame):
            frame = frame.iloc[self.randomidx].reset_index(drop=True)
        frame.attrs = {
            model.BINSIZE: self.binsize,
            model.STEPSIZE: self.stepsize,
            model.FLANK: self.flank,
            model.ZERO_PADDING: self.zero_padding,
            model.TILE_COLLAPSE: self.collapse,
        }
        return frame

    def _extend(self, roi: pd.DataFrame) -> None:
        from genomarray.regions import tile

        if not len(roi):
            return
        if self.collapse or self.binsize is None:
            lengths = (roi["end"] - roi["start"]).to_numpy(np.int64)
            if self.collapse or self.stepsize is None:
                self._append(roi)
                return
            parts = [
                tile(roi.iloc[[i]], int(lengths[i]), self.stepsize, 0, self.zero_padding)
                for i in range(len(roi))
            ]
            self._append(pd.concat(parts, ignore_index=True))
            return
        self._append(tile(roi, self.binsize, self.stepsize, 0, self.zero_padding))

    def _append(self, frame: pd.DataFrame) -> None:
        n = len(frame)
        strand = frame["strand"] if "strand" in frame else pd.Series(["."] * n)
        self.chrs += frame["chrom"].astype(str).tolist()
        self.starts += frame["start"].astype(np.int64).tolist()
        self.ends += frame["end"].astype(np.int64).tolist()
        self.strand += strand.astype(str).tolist()
        self._randomidx = None if self._random_state is not None else self._randomidx


def _regions_frame(regions: Any) -> Any:
    """Janggu's region inputs genomarray's reader does not take, as a DataFrame."""
    if isinstance(regions, GenomicIndexer):
        return pd.DataFrame(
            {
                "chrom": regions.chrs,
                "start": regions.starts,
                "end": regions.ends,
                "strand": regions.strand,
            }
        )
    if isinstance(regions, list | tuple) and regions and hasattr(regions[0], "chrom"):
        return pd.DataFrame(
            {
                "chrom": [str(r.chrom) for r in regions],
                "start": [int(r.start) for r in regions],
                "end": [int(r.end) for r in regions],
                "strand": [str(getattr(r, "strand", ".")) for r in regions],
            }
        )
    return regions


def check_gindexer_compatibility(gindexer: Any, resolution: Any, store_whole_genome: bool) -> None:
    """Janggu's sanity check of an indexer: a dataset that stores only its regions needs
    them.

    Janggu also required, with ``store_whole_genome=True`` and ``resolution > 1``,
    window starts on the resolution grid; genomarray counts bins from each window's start,
    so any start works (``docs/migration.md``).

    Examples
    --------
    >>> check_gindexer_compatibility(None, 1, store_whole_genome=True)
    >>> check_gindexer_compatibility(None, 1, store_whole_genome=False)
    Traceback (most recent call last):
    ...
    ValueError: Either roi must be supplied or store_whole_genome must be True
    """
    if gindexer is None and not store_whole_genome:
        raise ValueError("Either roi must be supplied or store_whole_genome must be True")
    if gindexer is not None and not isinstance(gindexer, GenomicIndexer):
        raise InputError(
            f"gindexer must be a GenomicIndexer, got {type(gindexer).__name__}",
            source="check_gindexer_compatibility",
        )
