"""Genome-browser-like figures of genomarray arrays (Janggu's ``plotGenomeTrack``).

One cohesive topic, kept in one module on purpose: the figure (layout, axes, shared x
axis) and its four track kinds share the region parsing, the colour and scale handling
and the letter glyphs, and split apart each would only make sense with the others.

:func:`plot_tracks` stacks several arrays over one genomic region on a shared x axis in bp;
:func:`plot_track` draws one. Each array is read only over the region's bins (a lazy
genome-wide track computes just those), and drawn as one of four kinds:

=========  ===================================================================  =========
kind       what is drawn                                                        default
=========  ===================================================================  =========
line       one step line per condition (filled below); ``-`` strand mirrored    <= 4
           below 0 in the condition's colour                                     conditions
heatmap    one row per condition (and strand), a colour bar on the right        > 4
seq        letters sized by value (A green, C blue, G orange, T red) when the   sequences
           region is <= 150 bp, stacked step areas otherwise; negative values
           (attributions) go below 0
bar        filled steps (signals) or stacked areas (sequences) at any length
=========  ===================================================================  =========

Accepted arrays: coverage tracks ``(chrom, pos, strand, condition)`` at any resolution;
region views ``(region, pos[, strand][, condition])`` (the windows overlapping the region
are placed on the genome with :func:`genomarray.views.predictions.to_genome`; uncovered bins are
gaps); one-hot views (order 1) or attribution scores of the same shape ``(region, pos,
base)``; sequence views ``(region, pos)`` and sequence genomes ``(chrom, pos)`` (codes are
shown as letters). The figure is a :class:`matplotlib.figure.Figure` built without
``pyplot`` (nothing is shown, no global figure is left open); Jupyter displays it when it
is the cell's value, ``fig.savefig(path)`` writes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import PathPatch
from matplotlib.path import Path
from matplotlib.textpath import TextPath
from matplotlib.ticker import FuncFormatter, MaxNLocator
from matplotlib.transforms import Affine2D

from genomarray import model
from genomarray.encode import DNA, letters
from genomarray.errors import InputError
from genomarray.regions import parse_region
from genomarray.transforms.onehot import onehot

KINDS = ("line", "heatmap", "seq", "bar")
"""Track kinds :func:`plot_tracks` draws."""

LETTER_MAX_BP = 150
"""Longest region (bp) whose sequence tracks are drawn as letters (stacked areas above)."""

HEATMAP_MIN_ROWS = 5
"""A signal track with this many condition/strand rows or more defaults to a heatmap."""

BASE_COLOURS = {"A": "#1a9641", "C": "#2166ac", "G": "#f28e1c", "T": "#d7191c"}
"""Colours of the DNA letters."""

WIDTH_IN = 10.0
TRACK_HEIGHT_IN = 1.2

Region = str | tuple[str, int, int]


@dataclass
class _Data:
    """The values of one track over the region, in the forward orientation.

    ``values`` is ``(n_bins, n_strand, n_cond)`` for a signal or ``(n_bp, n_letters)`` for
    a sequence; bin ``i`` covers ``[x0 + i * width, x0 + (i + 1) * width)`` bp.
    """

    values: np.ndarray
    x0: int
    width: int
    strands: list[str]
    conditions: list[str]
    is_seq: bool


# -- regions ----------------------------------------------------------------------------
def _parse(region: Region) -> tuple[str, int, int | None]:
    if isinstance(region, str):
        return parse_region(region)
    if isinstance(region, Sequence) and len(region) == 3:
        chrom, start, end = region
        start, end = int(start), int(end)
        if start < 0 or end <= start:
            raise InputError(f"region {tuple(region)!r} needs 0 <= start < end", source="plot")
        return str(chrom), start, end
    raise InputError(
        f"a region must be 'chrom:start-end' or (chrom, start, end), got {region!r}", source="plot"
    )


def _sizes(arr: xr.DataArray, kind: str) -> dict[str, int]:
    """``{chrom: length}`` of the genome of ``arr`` (a view's extent when unrecorded)."""
    if kind in (model.COVERAGE_TRACK, model.SEQUENCE_GENOME):
        return model.chrom_sizes(arr)
    recorded = arr.attrs.get(model.CHROM_SIZES)
    if recorded:
        return {str(k): int(v) for k, v in recorded.items()}
    flank = int(arr.attrs.get(model.FLANK, 0) or 0)
    regs = model.regions_of(arr)
    return {str(c): int(e) + flank for c, e in regs.groupby("chrom")["end"].max().items()}


def _resolve(
    region: Region, arrays: Sequence[tuple[str, xr.DataArray, str]]
) -> tuple[str, int, int]:
    """Parse ``region`` and check it against every array's chromosomes."""
    chrom, start, end = _parse(region)
    for name, arr, kind in arrays:
        sizes = _sizes(arr, kind)
        if chrom not in sizes:
            shown = list(sizes)[:10]
            more = f" and {len(sizes) - 10} more" if len(sizes) > 10 else ""
            raise InputError(
                f"chromosome {chrom!r} of the region is not in the track "
                f"{name!r} (its chromosomes: {shown}{more})",
                source="plot",
                record=_label(chrom, start, end),
            )
        if end is None:
            end = sizes[chrom]
        if start >= sizes[chrom]:
            raise InputError(
                f"the region starts past the end of {chrom} ({sizes[chrom]:,} bp)"
                f" in the track {name!r}",
                source="plot",
                record=_label(chrom, start, end),
            )
    if end is None:
        raise InputError("no track to take the chromosome's length from", source="plot")
    return chrom, start, end


def _label(chrom: str, start: int, end: int | None) -> str:
    return f"{chrom}:{start:,}" + ("" if end is None else f"-{end:,}")


# -- reading the region's values ----------------------------------------------------------
def _kind_of(arr: Any, name: str) -> str:
    if not isinstance(arr, xr.DataArray):
        raise InputError(
            f"track {name!r} is a {type(arr).__name__}, not an xarray.DataArray", source="plot"
        )
    try:
        kind = model.validate(arr)
    except ValueError as err:
        raise InputError(f"track {name!r} cannot be plotted: {err}", source="plot") from None
    if kind == model.REGION_VIEW:
        extra = [d for d in arr.dims[2:] if d not in (model.STRAND, model.CONDITION)]
        if extra:
            raise InputError(
                f"track {name!r} has the dims {tuple(arr.dims)}; plots take "
                f"(region, pos[, strand][, condition]) views, one-hot views "
                f"(region, pos, base) and genome-wide arrays",
                source="plot",
            )
    return kind


def _coverage(arr: xr.DataArray, chrom: str, start: int, end: int) -> _Data:
    res = int(arr.attrs.get(model.RESOLUTION, 1) or 1)
    i0 = start // res
    i1 = min(-(-end // res), arr.sizes[model.POS])
    sub = arr.sel({model.CHROM: chrom}).isel({model.POS: slice(i0, i1)})
    sub = sub.transpose(model.POS, model.STRAND, model.CONDITION)
    return _Data(
        np.asarray(sub.values, dtype=np.float64),
        i0 * res,
        res,
        [str(s) for s in arr[model.STRAND].values],
        [str(c) for c in arr[model.CONDITION].values],
        False,
    )


def _sequence_genome(arr: xr.DataArray, chrom: str, start: int, end: int) -> _Data:
    alpha = letters(arr.attrs.get(model.ALPHABET, DNA))
    codes = np.asarray(
        arr.sel({model.CHROM: chrom})
        .isel({model.POS: slice(start, min(end, arr.sizes[model.POS]))})
        .values
    )
    table = np.eye(len(alpha) + 1, len(alpha))  # unknown code -> all-zero row
    return _Data(table[np.minimum(codes, len(alpha))], start, 1, [], list(alpha), True)


def _overlapping(arr: xr.DataArray, name: str, chrom: str, start: int, end: int) -> xr.DataArray:
    flank = int(arr.attrs.get(model.FLANK, 0) or 0)
    regs = model.regions_of(arr)
    hit = (
        (regs["chrom"] == chrom) & (regs["start"] - flank < end) & (regs["end"] + flank > start)
    ).to_numpy()
    if not hit.any():
        on = regs[regs["chrom"] == chrom]
        where = f"it has no region on {chrom}"
        if len(on):
            span = _label(chrom, int(on["start"].min()), int(on["end"].max()))
            where = f"its regions on {chrom} span {span}"
        raise InputError(
            f"no region of the track {name!r} overlaps the region ({where})",
            source="plot",
            record=_label(chrom, start, end),
        )
    return arr.isel({model.REGION: np.flatnonzero(hit)})


def _onehot_as_view(sub: xr.DataArray, name: str) -> xr.DataArray:
    """A one-hot (or attribution) view as a coverage-like view with letters as conditions."""
    order = int(sub.attrs.get(model.ORDER, 1) or 1)
    if order != 1:
        raise InputError(
            f"track {name!r} is a one-hot view of order {order}; plots draw order 1 only",
            source="plot",
        )
    if model.STRAND in sub.dims:
        sub = sub.isel({model.STRAND: 0}, drop=True)
    values = np.asarray(sub.values, dtype=np.float64)
    labels = [str(b) for b in sub[model.BASE].values]
    minus = np.zeros(sub.sizes[model.REGION], dtype=bool)
    if sub.attrs.get(model.STRAND_AWARE, False):
        minus = sub[model.REGION_STRAND].values.astype(str) == "-"
    if minus.any() and labels == list(letters(DNA)):
        values = values.copy()
        values[minus] = values[minus][..., ::-1]  # complement: ACGT -> TGCA
    attrs = {k: v for k, v in sub.attrs.items() if k not in (model.KIND, model.ORDER)}
    attrs[model.KIND] = model.REGION_VIEW
    coords = {k: sub[k].variable for k in model.REGION_COORDS}
    coords[model.POS] = np.arange(sub.sizes[model.POS])
    coords[model.CONDITION] = np.array(labels, dtype=object)
    return xr.DataArray(
        values,
        dims=(model.REGION, model.POS, model.CONDITION),
        coords=coords,
        attrs=attrs,
        name=name,
    )


def _view(arr: xr.DataArray, kind: str, name: str, chrom: str, start: int, end: int) -> _Data:
    from genomarray.views.predictions import to_genome

    sub = _overlapping(arr, name, chrom, start, end)
    is_seq = kind == model.ONEHOT_VIEW
    if (
        not is_seq
        and sub.ndim == 2
        and model.ALPHABET in sub.attrs
        and np.issubdtype(sub.dtype, np.integer)
    ):
        sub, is_seq = onehot(sub, order=1, dtype="float32"), True
    if is_seq:
        sub = _onehot_as_view(sub, name)
    track = to_genome(sub, _sizes(arr, kind), fill=np.nan)
    data = _coverage(track, chrom, start, end)
    if is_seq:
        res = data.width
        values = np.nan_to_num(np.repeat(data.values[:, 0, :], res, axis=0))
        lo = start - data.x0
        return _Data(values[lo : lo + end - start], start, 1, [], data.conditions, True)
    return data


def _read(arr: xr.DataArray, kind: str, name: str, chrom: str, start: int, end: int) -> _Data:
    if kind == model.COVERAGE_TRACK:
        return _coverage(arr, chrom, start, end)
    if kind == model.SEQUENCE_GENOME:
        return _sequence_genome(arr, chrom, start, end)
    return _view(arr, kind, name, chrom, start, end)


# -- drawing ------------------------------------------------------------------------------
def _edges(data: _Data, start: int, end: int) -> np.ndarray:
    n = data.values.shape[0]
    return np.clip(data.x0 + np.arange(n + 1) * data.width, start, end).astype(np.float64)


def _signal(data: _Data) -> tuple[np.ndarray, list[str], list[str]]:
    """``(n_bins, n_strand, n_cond)`` values, strands and conditions of any track."""
    if data.is_seq:
        return data.values[:, None, :], ["."], data.conditions
    return data.values, data.strands, data.conditions


def _colours(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _draw_line(ax: Any, data: _Data, start: int, end: int, bar: bool) -> None:
    values, strands, conditions = _signal(data)
    edges = _edges(data, start, end)
    xs = np.repeat(edges, 2)[1:-1]
    colours = (
        _colours(len(conditions))
        if not data.is_seq
        else [BASE_COLOURS.get(c, "grey") for c in conditions]
    )
    mirrored = False
    for k, cond in enumerate(conditions):
        for s, strand in enumerate(strands):
            sign = -1.0 if strand == "-" else 1.0
            mirrored |= strand == "-"
            ys = np.repeat(sign * values[:, s, k], 2)
            label = cond if s == 0 else None
            if bar:
                ax.fill_between(xs, 0, ys, color=colours[k], alpha=0.6, lw=0, label=label)
            else:
                ax.fill_between(xs, 0, ys, color=colours[k], alpha=0.2, lw=0)
                ax.plot(xs, ys, color=colours[k], lw=1.0, label=label)
    if mirrored:
        ax.axhline(0, color="black", lw=0.5)
        ax.text(0.003, 0.97, "+", transform=ax.transAxes, va="top", fontsize=8)
        ax.text(0.003, 0.03, "\u2212", transform=ax.transAxes, va="bottom", fontsize=8)
    if len(conditions) > 1 or conditions[0] not in ("", "."):
        ax.legend(
            loc="upper right",
            fontsize=7,
            frameon=False,
            ncol=min(len(conditions), 6),
            handlelength=1.2,
            columnspacing=1.0,
            borderaxespad=0.1,
        )
    top = np.nanmax(np.abs(values)) if np.isfinite(values).any() else 1.0
    top = float(top) if top > 0 else 1.0
    ax.set_ylim(-1.1 * top if mirrored else 0, 1.25 * top)
    ax.yaxis.set_major_locator(MaxNLocator(3))


def _draw_heatmap(ax: Any, data: _Data, start: int, end: int) -> None:
    values, strands, conditions = _signal(data)
    rows = [f"{c} ({s})" if len(strands) > 1 else c for c in conditions for s in strands]
    matrix = values.transpose(2, 1, 0).reshape(len(rows), -1)
    edges = _edges(data, start, end)
    image = ax.pcolormesh(
        edges,
        np.arange(len(rows) + 1),
        np.ma.masked_invalid(matrix),
        cmap="viridis",
        shading="flat",
        rasterized=True,
    )
    ax.set_ylim(len(rows), 0)
    step = max(1, int(np.ceil(len(rows) / 8)))
    ticks = np.arange(0, len(rows), step)
    ax.set_yticks(ticks + 0.5, [rows[i] for i in ticks], fontsize=7)
    ax.tick_params(axis="y", length=0)
    cax = ax.inset_axes((1.008, 0.0, 0.012, 1.0))
    bar = ax.figure.colorbar(image, cax=cax)
    bar.ax.tick_params(labelsize=7)
    bar.locator = MaxNLocator(3)
    bar.update_ticks()


@cache
def _glyph(letter: str) -> Path:
    """The outline of ``letter`` scaled to the unit square."""
    path = TextPath(
        (0, 0), letter, size=1, prop=FontProperties(family="DejaVu Sans", weight="bold")
    )
    box = path.get_extents()
    return (
        Affine2D()
        .translate(-box.x0, -box.y0)
        .scale(1 / box.width, 1 / box.height)
        .transform_path(path)
    )


def _draw_letters(ax: Any, data: _Data) -> None:
    values = data.values
    patches, colours = [], []
    for i in range(values.shape[0]):
        x = data.x0 + i
        for sign in (1.0, -1.0):
            part = np.where(sign * values[i] > 0, np.abs(values[i]), 0.0)
            y = 0.0
            for b in np.argsort(part):  # smallest nearest the axis
                h = part[b]
                if h <= 0:
                    continue
                letter = data.conditions[b]
                shape = Affine2D().scale(0.9, h).translate(x + 0.05, y if sign > 0 else -y - h)
                patches.append(PathPatch(shape.transform_path(_glyph(letter))))
                colours.append(BASE_COLOURS.get(letter, "grey"))
                y += h
    ax.add_collection(PatchCollection(patches, facecolors=colours, edgecolors="none"))


def _draw_stacked(ax: Any, data: _Data, start: int, end: int) -> None:
    values = data.values
    edges = _edges(data, start, end)
    xs = np.repeat(edges, 2)[1:-1]
    for sign in (1.0, -1.0):
        part = np.clip(sign * values, 0, None)
        if not part.any():
            continue
        tops = np.cumsum(part, axis=1)
        for b, letter in enumerate(data.conditions):
            lo = tops[:, b] - part[:, b]
            ax.fill_between(
                xs,
                sign * np.repeat(lo, 2),
                sign * np.repeat(tops[:, b], 2),
                color=BASE_COLOURS.get(letter, "grey"),
                lw=0,
                label=letter if sign > 0 or not (values > 0).any() else None,
            )
    ax.legend(
        loc="upper right",
        fontsize=7,
        frameon=False,
        ncol=len(data.conditions),
        handlelength=1.0,
        columnspacing=0.8,
        borderaxespad=0.1,
    )


def _draw_seq(ax: Any, data: _Data, start: int, end: int, letters_ok: bool) -> None:
    values = data.values
    if letters_ok:
        _draw_letters(ax, data)
    else:
        _draw_stacked(ax, data, start, end)
    up = float(np.clip(values, 0, None).sum(axis=1).max(initial=0))
    down = float(np.clip(-values, 0, None).sum(axis=1).max(initial=0))
    ax.set_ylim(-1.05 * down if down > 0 else 0, (1.05 if letters_ok else 1.3) * up or 1)
    if down > 0:
        ax.axhline(0, color="black", lw=0.5)
    ax.yaxis.set_major_locator(MaxNLocator(3))


def _default_kind(data: _Data) -> str:
    if data.is_seq:
        return "seq"
    return "heatmap" if len(data.strands) * len(data.conditions) >= HEATMAP_MIN_ROWS else "line"


# -- public API ---------------------------------------------------------------------------
def _named(
    tracks: Mapping[str, xr.DataArray] | Sequence[xr.DataArray] | xr.DataArray,
) -> list[tuple[str, xr.DataArray]]:
    if isinstance(tracks, xr.DataArray):
        tracks = [tracks]
    if isinstance(tracks, Mapping):
        return [(str(k), v) for k, v in tracks.items()]
    named = []
    for i, arr in enumerate(tracks):
        name = getattr(arr, "name", None)
        named.append((str(name) if name is not None else f"track {i}", arr))
    return named


def plot_tracks(
    tracks: Mapping[str, xr.DataArray] | Sequence[xr.DataArray],
    region: Region,
    *,
    kinds: Mapping[str, str] | str | None = None,
    figsize: tuple[float, float] | None = None,
    title: str | None = None,
) -> Figure:
    """Draw several tracks over one genomic region, stacked on a shared x axis in bp.

    Parameters
    ----------
    tracks
        ``{label: array}``, or a list of arrays (labelled by their ``name``): coverage
        tracks, region views, one-hot or attribution views ``(region, pos, base)``,
        sequence views and sequence genomes. Only the region's bins are computed.
    region
        ``"chr1:1,000-2,000"`` (0-based, half-open, as :func:`genomarray.regions.parse_region`
        reads it; ``"chr1"`` is the whole chromosome) or ``(chrom, start, end)``.
    kinds
        ``{label: kind}`` overriding the default kind of some tracks, or one kind for all:
        ``"line"``, ``"heatmap"``, ``"seq"`` (sequence tracks only) or ``"bar"``. By
        default sequences are ``"seq"``, signals with more than 4 condition/strand rows
        ``"heatmap"`` and the others ``"line"``.
    figsize
        Figure size in inches; default 10 wide and 1.2 per track (plus the axis).
    title
        Figure title; default none.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per track, in order, sharing the x axis, whose limits are the region.
        Nothing is shown: save it with ``fig.savefig(path)`` (Jupyter displays it).

    Raises
    ------
    InputError
        A region that cannot be parsed, on a chromosome an array lacks (the message names
        the array's chromosomes) or that no region of a view overlaps; an array whose dims
        no plot takes; an unknown kind, or ``"seq"`` for a signal track.

    Examples
    --------
    >>> import genomarray as ga
    >>> from genomarray.export.plot import plot_tracks
    >>> bw = ga.read_bigwig(ga.example_path("sample.bw"), storage="memory", progress=False)
    >>> dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    >>> fig = plot_tracks({"coverage": bw, "DNA": dna}, "chr1:1,000-1,100")
    >>> len(fig.axes), [float(x) for x in fig.axes[0].get_xlim()]
    (2, [1000.0, 1100.0])
    >>> fig.savefig("tracks.png")  # doctest: +SKIP
    """
    named = _named(tracks)
    if not named:
        raise InputError("no track to plot", source="plot")
    typed = [(name, arr, _kind_of(arr, name)) for name, arr in named]
    chrom, start, end = _resolve(region, typed)
    chosen = {}
    if isinstance(kinds, str):
        chosen = {name: kinds for name, _ in named}
    elif kinds is not None:
        unknown = sorted(set(kinds) - {name for name, _ in named})
        if unknown:
            raise InputError(
                f"kinds= names no track {unknown} (the tracks: {[name for name, _ in named]})",
                source="plot",
            )
        chosen = dict(kinds)
    for name, kind in chosen.items():
        if kind not in KINDS:
            raise InputError(
                f"unknown kind {kind!r} for track {name!r}; expected one of {list(KINDS)}",
                source="plot",
            )

    datas = [_read(arr, kind, name, chrom, start, end) for name, arr, kind in typed]
    n = len(datas)
    fig = Figure(
        figsize=figsize or (WIDTH_IN, TRACK_HEIGHT_IN * n + 0.7 + 0.3 * bool(title)),
        layout="constrained",
    )
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    for ax, (name, _), data in zip(axes, named, datas, strict=True):
        kind = chosen.get(name) or _default_kind(data)
        if kind == "seq" and not data.is_seq:
            raise InputError(
                f"track {name!r} holds a signal, not a sequence: draw it as "
                f"'line', 'heatmap' or 'bar'",
                source="plot",
            )
        if kind == "seq":
            _draw_seq(ax, data, start, end, letters_ok=end - start <= LETTER_MAX_BP)
        elif kind == "bar" and data.is_seq:
            _draw_seq(ax, data, start, end, letters_ok=False)
        elif kind == "heatmap":
            _draw_heatmap(ax, data, start, end)
        else:
            _draw_line(ax, data, start, end, bar=kind == "bar")
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_xlim(start, end)
    bottom = axes[-1]
    bottom.xaxis.set_major_locator(MaxNLocator(8, integer=True))
    bottom.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{int(round(x)):,}"))
    bottom.tick_params(axis="x", labelsize=8)
    bottom.set_xlabel(f"{_label(chrom, start, end)} ({end - start:,} bp)", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def plot_track(
    track: xr.DataArray,
    region: Region,
    *,
    kind: str | None = None,
    label: str | None = None,
    figsize: tuple[float, float] | None = None,
    title: str | None = None,
) -> Figure:
    """Draw one array over a genomic region (see :func:`plot_tracks`).

    Parameters
    ----------
    track
        Any array :func:`plot_tracks` takes.
    region
        ``"chr1:1,000-2,000"`` or ``(chrom, start, end)``.
    kind
        ``"line"``, ``"heatmap"``, ``"seq"`` or ``"bar"``; default by the array.
    label
        The track's label; default the array's ``name``.
    figsize, title
        As for :func:`plot_tracks`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import genomarray as ga
    >>> from genomarray.export.plot import plot_track
    >>> dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    >>> fig = plot_track(dna, ("chr1", 0, 40))
    >>> [float(x) for x in fig.axes[0].get_xlim()]
    [0.0, 40.0]
    """
    name = label if label is not None else str(track.name if track.name is not None else "track")
    return plot_tracks(
        {name: track},
        region,
        kinds=None if kind is None else {name: kind},
        figsize=figsize,
        title=title,
    )


def _make_doc_images(outdir: str) -> list[str]:
    """Write the PNGs of ``docs/plots.md`` into ``outdir``; return their paths."""
    import os

    from genomarray.data import example_path
    from genomarray.genome.coverage import read_bam, read_bigwig
    from genomarray.genome.sequences import read_fasta
    from genomarray.io.regions import read_regions
    from genomarray.model import coverage_track
    from genomarray.regions import tile
    from genomarray.views.windows import view

    os.makedirs(outdir, exist_ok=True)
    bam = read_bam(example_path("sample.bam"), storage="memory", progress=False)
    bw = read_bigwig(example_path("sample.bw"), storage="memory", progress=False)
    dna = read_fasta(example_path("genome.fa"), cache=False)
    roi = tile(read_regions(example_path("roi.bed")), binsize=200)
    seq = onehot(view(dna, roi))
    rng = np.random.default_rng(0)
    scores = rng.normal(0, 1, seq.shape[:2]) * np.hanning(seq.shape[1])
    attribution = seq.copy(data=np.asarray(seq.values) * scores[..., None])
    x = np.linspace(0, 6 * np.pi, 400)
    rows = [np.clip(np.sin(x + k) + rng.normal(0, 0.3, x.size), 0, None) for k in range(6)]
    values = np.stack(rows, axis=-1)[None, :, None, :].astype(np.float32)
    six = coverage_track(
        values, ["chr1"], [4000], ["."], [f"cell{k}" for k in range(6)], resolution=10
    )
    figures = {
        "plot_line.png": plot_track(bam, "chr1:600-1,600", label="BAM 5'"),
        "plot_heatmap.png": plot_track(six, "chr1:0-4,000", label="6 cells"),
        "plot_seq.png": plot_tracks({"one-hot": seq, "attribution": attribution}, "chr1:700-760"),
        "plot_stacked.png": plot_tracks(
            {"bigWig": bw, "BAM 5'": bam, "6 cells": six, "DNA": dna},
            "chr1:600-1,600",
            title="chr1 around roi_peak_0",
        ),
    }
    paths = []
    for fname, fig in figures.items():
        path = os.path.join(outdir, fname)
        fig.savefig(path, dpi=80)
        paths.append(path)
    return paths


__all__ = ["KINDS", "plot_track", "plot_tracks"]
