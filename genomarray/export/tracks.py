"""Export coverage tracks and predictions to bigWig, bedGraph and BED files.

:func:`to_bigwig` and :func:`to_bedgraph` write a genome-wide coverage track
``(chrom, pos, strand, condition)`` or a region view (predictions placed on the genome by
their coordinates with :func:`genomarray.views.predictions.to_genome`), one file per condition
(and per strand). :func:`to_bed` writes the regions of a view with one score column per
condition.

Conventions shared by the writers
---------------------------------
- Entries are bedGraph-style: bin ``i`` of a chromosome covers
  ``[i * resolution, (i + 1) * resolution)`` bp, the last bin clipped to the chromosome's
  length; runs of equal values are merged into one entry.
- Chromosomes are written in sorted (lexicographic) order, the order ``bedtools sort``
  and the bigWig header use.
- NaN values are not written; nor are positions no window covers (a view is placed with
  ``fill=NaN``) or positions outside the stored regions of an ROI-only track.
- One chromosome, one ``pos`` chunk at a time is computed: the genome is never held in
  memory at once.
- Outputs are atomic: they are written to temporary files renamed into place at the end;
  on error nothing is left. An existing output raises :class:`FileExistsError` unless
  ``overwrite=True``.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, TextIO

import dask
import dask.array as da
import numpy as np
import xarray as xr

from genomarray import model
from genomarray.atomic import AtomicFiles
from genomarray.errors import ChromosomeError, InputError

CHUNK = 1 << 20
"""``pos`` chunk (bins) read at a time from arrays that are not dask-backed."""

BIGWIG_SUFFIXES = (".bw", ".bigwig")
BEDGRAPH_SUFFIXES = (".bedgraph", ".bg", ".bdg", ".bedgraph.gz", ".bg.gz", ".bdg.gz")

How = Literal["mean", "max"] | None
Strands = Literal["separate", "sum"]


# -- preparing the track ----------------------------------------------------------------
def refuse_sequence(arr: xr.DataArray, source: str) -> None:
    """Raise if ``arr`` is a view of sequence codes: its values are letters, not a signal.

    Examples
    --------
    >>> import genomarray as ga
    >>> refuse_sequence(ga.read_sequences(ga.example_path("seqs.fa")), "to_bigwig")
    Traceback (most recent call last):
    ...
    genomarray.errors.InputError: to_bigwig: this is a view of DNA sequence codes ...
    """
    if model.is_codes_view(arr):
        alphabet = str(arr.attrs.get(model.ALPHABET, "dna"))
        letters = "A,C,G,T,N = 0..4" if alphabet == "dna" else "amino acids = 0..20"
        raise InputError(
            f"this is a view of {alphabet.upper() if alphabet == 'dna' else alphabet} "
            f"sequence codes ({letters}), not a signal: writing it would store the letters' "
            "codes as values; export a coverage track or predictions "
            "(e.g. ga.from_array(model.predict(...), like=view))",
            source=source,
        )


def _track(arr: xr.DataArray, how: How, chrom_sizes: Any, source: str) -> xr.DataArray:
    """Return ``arr`` as a coverage track (a view is placed with ``fill=NaN``)."""
    kind = model.validate(arr, (model.COVERAGE_TRACK, model.REGION_VIEW))
    refuse_sequence(arr, source)
    if kind == model.REGION_VIEW:
        from genomarray.views.predictions import to_genome

        return to_genome(arr, chrom_sizes, how=how, fill=np.nan)
    if chrom_sizes is not None:
        from genomarray.views.predictions import chrom_sizes_for

        sizes = chrom_sizes_for(chrom_sizes, arr)
        missing = [c for c in model.chrom_sizes(arr) if c not in sizes]
        if missing:
            raise ChromosomeError(
                f"chromosome(s) {missing} of the track are not in "
                f"chrom_sizes (it has {list(sizes)[:10]})",
                source=source,
            )
    res = arr.attrs.get(model.RESOLUTION, 1)
    if isinstance(res, bool) or not isinstance(res, int | np.integer) or res < 1:
        raise InputError(f"the track's resolution {res!r} is not a bin size in bp", source=source)
    return arr


def _dense(block: Any) -> np.ndarray:
    if isinstance(block, da.Array):
        block = block.compute()
    if hasattr(block, "todense"):  # sparse.COO
        block = block.todense()
    return np.asarray(block)


PREFETCH = 2 * (os.cpu_count() or 1)
"""Chunks computed together by one scheduler call while writing (bounded memory, parallel)."""


def _computed(
    track: xr.DataArray, index: dict[str, int], spans: list[tuple[str, int, int]]
) -> Iterator[tuple[str, int, np.ndarray]]:
    """``(chrom, first, values)`` per span in order; dask chunks are computed
    ``PREFETCH`` at a time, so a lazy track is written in parallel."""
    for k in range(0, len(spans), PREFETCH):
        group = spans[k : k + PREFETCH]
        blocks = [track.data[index[c], a:b] for c, a, b in group]
        if isinstance(track.data, da.Array):
            blocks = list(dask.compute(*blocks))
        for (chrom, first, _), block in zip(group, blocks, strict=True):
            yield chrom, first, _dense(block)


def _chunk_bounds(track: xr.DataArray, n_bins: int) -> list[int]:
    if isinstance(track.data, da.Array):
        edges = np.cumsum((0, *track.data.chunks[1]))
        inner = [int(e) for e in edges if 0 < e < n_bins]
        return [0, *inner, n_bins]
    return [*range(0, n_bins, CHUNK), n_bins]


def _roi_mask(
    track: xr.DataArray, chrom: str, first: int, n: int, resolution: int
) -> np.ndarray | None:
    """Bins ``[first, first + n)`` of ``chrom`` that an ROI-only track stores (None: all)."""
    stored = track.attrs.get(model.STORED_ROI)
    if stored is None:
        return None
    keep = np.zeros(n, dtype=bool)
    for start, end in stored.get(chrom, []):
        lo = max(int(start) // resolution - first, 0)
        hi = min(-(-int(end) // resolution) - first, n)
        if hi > lo:
            keep[lo:hi] = True
    return keep


def _blocks(track: xr.DataArray, strands: Strands) -> Iterator[tuple[str, int, np.ndarray]]:
    """Yield ``(chrom, first_bin, values (n, outputs))`` per chromosome (sorted) and chunk."""
    resolution = int(track.attrs.get(model.RESOLUTION, 1))
    sizes = model.chrom_sizes(track)
    index = {c: i for i, c in enumerate(sizes)}
    spans = []
    for chrom in sorted(sizes):
        bounds = _chunk_bounds(track, -(-sizes[chrom] // resolution))
        spans += [(chrom, a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]
    for chrom, first, block in _computed(track, index, spans):
        block = block.astype(np.float64, copy=False)
        if strands == "sum":  # (n, strand, condition) -> (n, condition)
            nan_all = np.isnan(block).all(axis=1)
            with np.errstate(invalid="ignore"):
                block = np.where(nan_all, np.nan, np.nansum(block, axis=1))
        else:  # (n, strand, condition) -> (n, condition * strand), condition-major
            block = block.transpose(0, 2, 1).reshape(block.shape[0], -1)
        keep = _roi_mask(track, chrom, first, block.shape[0], resolution)
        if keep is not None:
            block = block.copy()
            block[~keep] = np.nan
        yield chrom, first, block


def _runs(
    values: np.ndarray, first: int, resolution: int, length: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge equal neighbouring bins into ``(starts, ends, values)`` in bp, NaN dropped."""
    v = values.astype(np.float32).astype(np.float64)
    if len(v) == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0)
    change = np.flatnonzero(v[1:] != v[:-1]) + 1  # NaN != NaN: every NaN its own run
    lo = np.concatenate(([0], change))
    hi = np.concatenate((change, [len(v)]))
    vals = v[lo]
    ok = ~np.isnan(vals)
    lo, hi, vals = lo[ok], hi[ok], vals[ok]
    starts = (lo + first).astype(np.int64) * resolution
    ends = np.minimum((hi + first).astype(np.int64) * resolution, length)
    return starts, ends, vals


# -- output files -----------------------------------------------------------------------
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")
_STRAND_NAMES = {"+": "plus", "-": "minus"}


def _outputs(track: xr.DataArray, strands: Strands, base: str) -> list[str]:
    """Base names (without suffix) of the outputs, in column order of :func:`_blocks`."""
    conds = [_UNSAFE.sub("_", str(c)) for c in track[model.CONDITION].values]
    strand_labels = [str(s) for s in track[model.STRAND].values]
    per_strand = strands == "separate" and strand_labels != [model.STRAND_UNSTRANDED]
    names = []
    for c in conds:
        if per_strand:
            names += [
                f"{base}.{c}.{_UNSAFE.sub('_', _STRAND_NAMES.get(s, s))}" for s in strand_labels
            ]
        else:
            names.append(f"{base}.{c}")
    if len(set(names)) != len(names):
        raise InputError(f"output names collide: {names}; rename the conditions", source="export")
    return names


def _targets(
    path: str | os.PathLike,
    names: Sequence[str],
    suffixes: Sequence[str],
    suffix: str,
    overwrite: bool,
) -> list[Path]:
    path = Path(path)
    as_file = not path.is_dir() and path.name.lower().endswith(tuple(suffixes))
    if as_file:
        if len(names) != 1:
            raise InputError(
                f"{len(names)} outputs ({', '.join(names)}); pass a folder, not a file name",
                source=str(path),
            )
        targets = [path]
    else:
        targets = [path / f"{n}{suffix}" for n in names]
    if not overwrite:
        for t in targets:
            if t.exists():
                raise FileExistsError(f"{t} exists; pass overwrite=True to replace it")
    return targets


def _check_strands(strands: str) -> None:
    if strands not in ("separate", "sum"):
        raise InputError(
            f"unknown strands={strands!r}; expected 'separate' or 'sum'", source="export"
        )


def _write(track: xr.DataArray, strands: Strands, sinks: Sequence[Any]) -> None:
    """Stream the runs of every output column of ``track`` to ``sinks[k].add(...)``."""
    resolution = int(track.attrs.get(model.RESOLUTION, 1))
    sizes = model.chrom_sizes(track)
    pending: list[tuple[str, np.ndarray, np.ndarray, np.ndarray] | None] = [None] * len(sinks)

    def flush(k: int) -> None:
        if pending[k] is not None and len(pending[k][1]):
            sinks[k].add(*pending[k])
            pending[k] = None

    for chrom, first, block in _blocks(track, strands):
        for k in range(len(sinks)):
            run = (chrom, *_runs(block[:, k], first, resolution, sizes[chrom]))
            prev = pending[k]
            if (
                prev is not None
                and prev[0] == chrom
                and len(run[1])
                and prev[2][-1] == run[1][0]
                and prev[3][-1] == run[3][0]
            ):
                # a run continues across the chunk boundary: merge it into this chunk's
                run[1][0] = prev[1][-1]
                pending[k] = (chrom, prev[1][:-1], prev[2][:-1], prev[3][:-1])
            flush(k)
            pending[k] = run
    for k in range(len(sinks)):
        flush(k)


class _BigWigSink:
    def __init__(self, path: Path, sizes: dict[str, int]) -> None:
        import pyBigWig

        self.bw = pyBigWig.open(str(path), "w")
        if self.bw is None:
            raise OSError(f"cannot open {path} for writing")
        self.bw.addHeader([(c, int(sizes[c])) for c in sorted(sizes)])

    def add(self, chrom: str, starts: np.ndarray, ends: np.ndarray, vals: np.ndarray) -> None:
        if len(starts):
            self.bw.addEntries(
                [chrom] * len(starts),
                starts.astype(np.int64),
                ends=ends.astype(np.int64),
                values=vals.astype(np.float64),
            )

    def close(self) -> None:
        self.bw.close()


def _format(value: float) -> str:
    if value == int(value) and abs(value) < 2**53:
        return str(int(value))
    return str(np.float32(value))


class _BedGraphSink:
    def __init__(self, path: Path, gz: bool) -> None:
        self.fh: TextIO = gzip.open(path, "wt") if gz else open(path, "w")  # noqa: SIM115

    def add(self, chrom: str, starts: np.ndarray, ends: np.ndarray, vals: np.ndarray) -> None:
        self.fh.writelines(
            f"{chrom}\t{s}\t{e}\t{_format(v)}\n"
            for s, e, v in zip(starts.tolist(), ends.tolist(), vals.tolist(), strict=True)
        )

    def close(self) -> None:
        self.fh.close()


def _export(
    arr: xr.DataArray,
    path: str | os.PathLike,
    fmt: str,
    how: How,
    strands: Strands,
    overwrite: bool,
    chrom_sizes: Any,
    prefix: str | None,
) -> list[Path]:
    _check_strands(strands)
    track = _track(arr, how, chrom_sizes, source=f"to_{fmt}")
    base = prefix if prefix is not None else (str(arr.name) if arr.name else "track")
    names = _outputs(track, strands, base)
    if fmt == "bigwig":
        targets = _targets(path, names, BIGWIG_SUFFIXES, ".bw", overwrite)
    else:
        targets = _targets(path, names, BEDGRAPH_SUFFIXES, ".bedGraph", overwrite)
    sizes = model.chrom_sizes(track)
    atomic = AtomicFiles(targets, overwrite)
    with atomic as temps:
        sinks: list[Any] = []
        try:
            for tmp, target in zip(temps, targets, strict=True):
                sinks.append(
                    _BigWigSink(tmp, sizes)
                    if fmt == "bigwig"
                    else _BedGraphSink(tmp, target.name.lower().endswith(".gz"))
                )
            _write(track, strands, sinks)
        finally:
            for s in sinks:
                s.close()
        atomic.commit()
    return targets


# -- public API -------------------------------------------------------------------------
def to_bigwig(
    arr: xr.DataArray,
    path_or_dir: str | os.PathLike,
    *,
    how: How = "mean",
    strands: Strands = "separate",
    overwrite: bool = False,
    chrom_sizes: Any = None,
    prefix: str | None = None,
) -> list[Path]:
    """Write a coverage track or a region view to bigWig files, one per condition/strand.

    Parameters
    ----------
    arr
        A coverage track ``(chrom, pos, strand, condition)`` or a region view
        ``(region, pos[, strand][, condition])`` (e.g. predictions from
        :func:`genomarray.from_array`), placed on the genome by its regions' coordinates
        with :func:`genomarray.to_genome` (positions no window covers are not written).
    path_or_dir
        A folder (created if needed) receiving ``<prefix>.<condition>[.<plus|minus>].bw``,
        or a file name ending in ``.bw``/``.bigwig`` when there is exactly one output.
    how
        For a view: how bins covered by several windows are stitched, ``"mean"`` or
        ``"max"``; ``None`` requires non-overlapping windows.
    strands
        ``"separate"``: one file per strand of a stranded track; ``"sum"``: one file per
        condition holding the sum over strands.
    overwrite
        Replace existing outputs (default: :class:`FileExistsError`).
    chrom_sizes
        ``{chrom: length}``, a genome-wide array or a sizes/FASTA/BAM/bigWig file; needed
        for a view that does not record ``attrs["chrom_sizes"]``. For a track, it must
        contain the track's chromosomes (the track's own lengths are written).
    prefix
        Start of the file names in a folder; default: the array's name.

    Returns
    -------
    list of pathlib.Path
        The files written, in condition-major order.

    Raises
    ------
    InputError
        Chromosome sizes unknown, overlapping windows with ``how=None``, several outputs
        for one file name, an unknown ``strands``.
    ChromosomeError
        A region (or track chromosome) on a chromosome ``chrom_sizes`` lacks.
    FileExistsError
        An output exists and ``overwrite`` is False.

    Examples
    --------
    >>> import os, tempfile, numpy as np, pyBigWig
    >>> from genomarray import model
    >>> t = model.coverage_track(np.array([1., 1, np.nan, 0, 2]).reshape(1, 5, 1, 1),
    ...                          ["chr1"], [5], ["."], ["rep1"])
    >>> out = to_bigwig(t, tempfile.mkdtemp())
    >>> [p.name for p in out]
    ['coverage.rep1.bw']
    >>> pyBigWig.open(str(out[0])).intervals("chr1")
    ((0, 2, 1.0), (3, 4, 0.0), (4, 5, 2.0))
    """
    return _export(arr, path_or_dir, "bigwig", how, strands, overwrite, chrom_sizes, prefix)


def to_bedgraph(
    arr: xr.DataArray,
    path: str | os.PathLike,
    *,
    how: How = "mean",
    strands: Strands = "separate",
    overwrite: bool = False,
    chrom_sizes: Any = None,
    prefix: str | None = None,
) -> list[Path]:
    """Write a coverage track or a region view to bedGraph files, one per condition/strand.

    The semantics are those of :func:`to_bigwig`: sorted chromosomes, entries of
    ``resolution`` bp merged where equal, NaN and uncovered positions skipped, atomic
    outputs. ``path`` is a folder receiving ``<prefix>.<condition>[.<plus|minus>].bedGraph``
    or, for exactly one output, a file name ending in ``.bedGraph``, ``.bg`` or ``.bdg``
    (``.gz`` added: gzipped). Values are written in their shortest float32 form, integral
    ones as integers. No ``track`` line is written.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from genomarray import model
    >>> t = model.coverage_track(np.array([1., 1, np.nan, 0.5, 2]).reshape(1, 5, 1, 1),
    ...                          ["chr1"], [5], ["."], ["rep1"])
    >>> path = os.path.join(tempfile.mkdtemp(), "t.bedGraph")
    >>> print(open(to_bedgraph(t, path)[0]).read(), end="")
    chr1	0	2	1
    chr1	3	4	0.5
    chr1	4	5	2
    """
    return _export(arr, path, "bedgraph", how, strands, overwrite, chrom_sizes, prefix)


def to_bed(
    view: xr.DataArray,
    path: str | os.PathLike,
    *,
    scores: bool = True,
    how: Literal["mean", "max"] = "mean",
    strands: Strands = "separate",
    overwrite: bool = False,
) -> Path:
    """Write the regions of a view as BED6 with one extra score column per condition.

    Parameters
    ----------
    view
        A region view ``(region, pos, ...)``; with ``scores``, a coverage view
        ``(region, pos[, strand][, condition])`` such as predictions.
    path
        Output file (gzipped if it ends in ``.gz``).
    scores
        Add one column per condition (per condition and strand for a two-strand view with
        ``strands="separate"``), named ``<condition>`` or ``<condition>.<plus|minus>``.
        The value is a region's ``how`` (``"mean"`` or ``"max"``) over its window bins,
        NaN ignored; for a per-region view (``pos`` of size 1) it is the value itself.
        BED column 5 (``score``) holds the first score column (``0`` without scores).
    how
        Summary of a window's bins: ``"mean"`` or ``"max"``.
    strands
        ``"separate"`` or ``"sum"`` (strands summed before the summary).
    overwrite
        Replace an existing file (default: :class:`FileExistsError`).

    Returns
    -------
    pathlib.Path
        The file written. Its first line is a ``#``-comment naming the columns; regions
        are written in the view's order, at their tile coordinates (without flank), with
        their name and strand.

    Examples
    --------
    >>> import os, tempfile, numpy as np, pandas as pd
    >>> from genomarray import model
    >>> roi = pd.DataFrame({"chrom": ["chr1", "chr2"], "start": [0, 5], "end": [4, 9],
    ...                     "name": ["a", "b"], "strand": ["+", "-"]})
    >>> v = model.region_view(np.array([[1., 3], [2, 2]]), roi, resolution=2)
    >>> path = os.path.join(tempfile.mkdtemp(), "roi.bed")
    >>> print(open(to_bed(v, path)).read(), end="")
    #chrom	start	end	name	score	strand	view
    chr1	0	4	a	2	+	2
    chr2	5	9	b	2	-	2
    """
    model.validate(view, (model.REGION_VIEW, model.ONEHOT_VIEW))
    if scores:
        if model.kind_of(view) == model.ONEHOT_VIEW:
            raise InputError(
                "this is a one-hot sequence view, not a signal: its scores would be base "
                "frequencies; pass scores=False to write the regions only",
                source="to_bed",
            )
        refuse_sequence(view, "to_bed")
    _check_strands(strands)
    if how not in ("mean", "max"):
        raise InputError(f"unknown how={how!r}; expected 'mean' or 'max'", source="to_bed")
    names: list[str] = []
    columns = np.zeros((view.sizes[model.REGION], 0))
    if scores:
        from genomarray.views.predictions import as_coverage_view

        v = as_coverage_view(view)
        values = v.max(model.POS, skipna=True) if how == "max" else v.mean(model.POS, skipna=True)
        values = values.astype(np.float64)
        strand_labels = [str(s) for s in v[model.STRAND].values]
        conds = [str(c) for c in v[model.CONDITION].values]
        if strands == "sum" or strand_labels == [model.STRAND_UNSTRANDED]:
            if strands == "sum":
                values = values.sum(model.STRAND, min_count=1)
            else:
                values = values.isel({model.STRAND: 0})
            columns = _dense(values.transpose(model.REGION, model.CONDITION).data)
            names = conds
        else:
            arr3 = _dense(values.transpose(model.REGION, model.CONDITION, model.STRAND).data)
            columns = arr3.reshape(arr3.shape[0], arr3.shape[1] * arr3.shape[2])  # 0 rows too
            names = [f"{c}.{_STRAND_NAMES.get(s, s)}" for c in conds for s in strand_labels]
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass overwrite=True to replace it")
    regions = model.regions_of(view)
    header = "#" + "\t".join(["chrom", "start", "end", "name", "score", "strand", *names])
    atomic = AtomicFiles([target], overwrite)
    with atomic as (tmp,):
        gz = target.name.lower().endswith(".gz")
        with gzip.open(tmp, "wt") if gz else open(tmp, "w") as fh:
            fh.write(header + "\n")
            rows = zip(
                regions["chrom"].tolist(),
                regions["start"].tolist(),
                regions["end"].tolist(),
                regions["name"].tolist(),
                regions["strand"].tolist(),
                columns.tolist(),
                strict=True,
            )
            for chrom, start, end, name, strand, row in rows:
                text = ["." if np.isnan(x) else _format(x) for x in row]
                score = text[0] if text else "0"
                fh.write(
                    "\t".join([chrom, str(int(start)), str(int(end)), name, score, strand, *text])
                    + "\n"
                )
        atomic.commit()
    return target


__all__ = ["to_bed", "to_bedgraph", "to_bigwig"]
