"""Janggu's ``plotGenomeTrack`` with ``Track``, ``LineTrack``, ``HeatTrack``, ``SeqTrack``.

The figure has Janggu's layout: a grid of ``2 + sum(track heights) + (tracks - 1)`` rows
by 10 columns; one title axis on top (the chromosome, the interval's start and end as x
ticks), then per track a side bar (column 0, the track's name) and the track's axes
(columns 1-9): one axis per condition for a :class:`LineTrack`, one for a
:class:`HeatTrack` or :class:`SeqTrack`. Two Covers give 6 axes with 2 + 1 conditions,
``[HeatTrack(a), LineTrack(b)]`` 5, ``SeqTrack(attr)`` alone 3, as in Janggu's notebooks.

Data is read with Janggu's interval indexing ``data[chrom, start, end]`` (base-pair
resolution). genomarray's own :func:`genomarray.export.plot.plot_tracks` draws any
genomarray array with its own layout. matplotlib is imported when a figure is drawn; the
figure is a :class:`matplotlib.figure.Figure` made without ``pyplot``.
"""

from __future__ import annotations

import colorsys
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from genomarray import model
from genomarray.errors import InputError

LETTERS = ("A", "C", "G", "T")


def _bp_values(data: Any, chrom: str, start: int, end: int) -> np.ndarray:
    """``(end - start, strands, conditions)`` of ``data`` over the interval."""
    from genomarray.compat.base import Dataset
    from genomarray.compat.intervals import interval_values

    if isinstance(data, Dataset):
        return np.asarray(data[chrom, int(start), int(end)])[0]
    if isinstance(data, xr.DataArray):
        return interval_values(data, chrom, int(start), int(end))[0]
    raise InputError(
        f"a track needs a dataset (Cover, a genomarray view), got {type(data).__name__}",
        source="plotGenomeTrack",
    )


def _conditions(data: Any) -> list[str]:
    if isinstance(data, xr.DataArray):
        for dim in (model.CONDITION, model.BASE):
            if dim in data.coords:
                return [str(c) for c in data[dim].values]
    conds = getattr(data, "conditions", None)
    return [str(c) for c in conds] if conds is not None else ["0"]


def _strands(data: Any) -> int:
    if isinstance(data, xr.DataArray) and model.STRAND in data.dims:
        return int(data.sizes[model.STRAND])
    return 1


class Track:
    """Janggu's ``Track(data, height)``: base class of the tracks.

    Parameters
    ----------
    data
        A Cover (or any genomarray region view) read at base-pair resolution.
    height
        Rows of the figure's grid the track takes.
    """

    def __init__(self, data: Any, height: int) -> None:
        self.data = data
        self.height = int(height)

    @property
    def name(self) -> str:
        return str(getattr(self.data, "name", "track"))

    def add_side_bar(self, fig: Any, grid: Any, offset: int) -> Any:
        """The side bar (grid column 0) labelled with the track's name."""
        ax = fig.add_subplot(grid[offset : offset + self.height, 0])
        ax.set_xticks([])
        ax.set_yticks([0.5])
        ax.set_yticklabels([self.name])
        ax.set_ylim(0, 1)
        for side in ("top", "right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        return ax

    def get_track_axis(self, fig: Any, grid: Any, offset: int, height: int) -> Any:
        """An axis over grid rows ``offset .. offset + height``, columns 1-9."""
        return fig.add_subplot(grid[offset : offset + height, 1:])

    def get_data(self, chrom: str, start: int, end: int) -> np.ndarray:
        """``(end - start, strands, conditions)``: ``data[chrom, start, end][0]``."""
        return _bp_values(self.data, chrom, start, end)

    def plot(self, fig: Any, grid: Any, offset: int, chrom: str, start: int, end: int) -> None:
        raise NotImplementedError


class LineTrack(Track):
    """Janggu's ``LineTrack(data, height=3, linestyle='-', marker='o', color='b',
    linewidth=2)``: one line axis per condition; stranded data gets a ``+`` and a ``-``
    line with a legend. The track's ``height`` is ``height`` rows per condition."""

    def __init__(
        self,
        data: Any,
        height: int = 3,
        linestyle: str = "-",
        marker: Any = "o",
        color: str = "b",
        linewidth: float = 2,
    ) -> None:
        super().__init__(data, height * len(_conditions(data)))
        self.row_height = int(height)
        self.linestyle = linestyle
        self.marker = marker
        self.color = color
        self.linewidth = linewidth

    def plot(self, fig: Any, grid: Any, offset: int, chrom: str, start: int, end: int) -> None:
        cov = self.get_data(chrom, start, end)
        conds = _conditions(self.data)
        for i, cond in enumerate(conds):
            ax = self.get_track_axis(fig, grid, offset + i * self.row_height, self.row_height)
            values = cov[:, :, i] if cov.ndim == 3 else cov[:, None]
            stranded = values.shape[1] == 2
            for s in range(values.shape[1]):
                y = values[:, s]
                x = np.flatnonzero(np.isfinite(y))
                ax.plot(
                    x,
                    y[x],
                    linewidth=self.linewidth,
                    linestyle=self.linestyle,
                    color=self.color,
                    label=("+" if s == 0 else "-") if stranded else None,
                    marker=(("+" if s == 0 else 1) if stranded else self.marker),
                )
            if stranded:
                ax.legend()
            ax.set_xticks([])
            ax.set_xlim(0, end - start)
            if len(conds) > 1:
                ax.set_ylabel(cond, labelpad=12)
            ax.spines["right"].set_visible(False)
            ax.spines["top"].set_visible(False)


class HeatTrack(Track):
    """Janggu's ``HeatTrack(data, height=3)``: one heat map of (strand, condition) rows
    by position."""

    def __init__(self, data: Any, height: int = 3) -> None:
        super().__init__(data, height)

    def plot(self, fig: Any, grid: Any, offset: int, chrom: str, start: int, end: int) -> None:
        cov = self.get_data(chrom, start, end)
        ax = self.get_track_axis(fig, grid, offset, self.height)
        length = cov.shape[0]
        rows = np.transpose(cov, (1, 2, 0)).reshape(-1, length)  # strands first, then conds
        ax.pcolor(rows)
        conds = _conditions(self.data)
        if cov.shape[1] == 2:
            labels = [f"{c}:+" for c in conds] + [f"{c}:-" for c in conds]
        else:
            labels = conds
        ax.set_yticks(np.arange(len(labels)) + 0.5)
        ax.set_yticklabels(labels)
        ax.set_xticks([])
        ax.set_xlim(0, end - start)


class SeqTrack(Track):
    """Janggu's ``SeqTrack(data, height=3)``: stacked bars of per-letter scores (an
    attribution of a one-hot input); k-mer scores are summed back onto their letters."""

    def __init__(self, data: Any, height: int = 3) -> None:
        super().__init__(data, height)

    def plot(self, fig: Any, grid: Any, offset: int, chrom: str, start: int, end: int) -> None:
        cov = self.get_data(chrom, start, end)[:, 0, :]
        n = cov.shape[-1]
        order = int(round(np.log(n) / np.log(4))) if n > 0 else 0
        if order < 1 or 4**order != n:
            raise InputError(
                f"SeqTrack draws DNA letters; {self.name!r} has {n} conditions, not 4**order",
                source="SeqTrack",
            )
        if order > 1:  # the first letter of each k-mer is the most significant
            cov = cov.reshape(cov.shape[0], 4, 4 ** (order - 1)).sum(axis=-1)
        ax = self.get_track_axis(fig, grid, offset, self.height)
        colours = [colorsys.hls_to_rgb(i / 4 + 0.01, 0.6, 0.65) for i in range(4)]
        x = np.arange(cov.shape[0])
        bottom = np.zeros(cov.shape[0])
        for i, letter in enumerate(LETTERS):
            ax.bar(x, cov[:, i], bottom=bottom, color=colours[i], label=letter)
            bottom = bottom + cov[:, i]
        ax.set_xticks([])
        ax.set_xlim(0, end - start)
        ax.legend(ncol=4, fontsize="small")


def _as_tracks(tracks: Any, plottypes: Sequence[str] | None) -> list[Track]:
    items = list(tracks) if isinstance(tracks, list | tuple) else [tracks]
    if not all(isinstance(t, Track) for t in items):
        warnings.warn(
            "Convert the Dataset object to proper Track objects. In the future, only "
            "Track objects will be supported.",
            FutureWarning,
            stacklevel=3,
        )
    if plottypes is None:
        plottypes = ["line"] * len(items)
    if len(plottypes) != len(items):
        raise AssertionError(
            "The number of cover objects must be the same as the number of plottyes."
        )
    out: list[Track] = []
    for item, kind in zip(items, plottypes, strict=True):
        if isinstance(item, Track):
            out.append(item)
        elif kind == "heatmap":
            out.append(HeatTrack(item))
        elif kind == "seqplot":
            out.append(SeqTrack(item))
        else:
            out.append(LineTrack(item))
    return out


def plotGenomeTrack(  # noqa: N802 - Janggu's name
    tracks: Any,
    chrom: str,
    start: int,
    end: int,
    figsize: tuple[float, float] = (10, 5),
    plottypes: Sequence[str] | None = None,
) -> Any:
    """Plot tracks over ``chrom:start-end`` in Janggu's layout (see the module docs).

    Parameters
    ----------
    tracks
        A :class:`Track`, a dataset, or a list of them; datasets become
        :class:`LineTrack` (or per ``plottypes``: ``"line"``, ``"heatmap"``,
        ``"seqplot"``) with a ``FutureWarning``, as in Janggu.
    chrom, start, end
        The interval.
    figsize
        Figure size in inches.
    plottypes
        One kind per dataset in ``tracks``.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import genomarray as ga
    >>> from genomarray.compat import Cover
    >>> cov = Cover.create_from_bigwig("cov", ga.example_path("sample.bw"),
    ...                                roi=ga.example_path("roi.bed"), binsize=200,
    ...                                resolution=50)
    >>> fig = plotGenomeTrack([HeatTrack(cov), LineTrack(cov)], "chr1", 1000, 3000)
    >>> len(fig.axes)
    5
    """
    from matplotlib.figure import Figure

    items = _as_tracks(tracks, plottypes)
    rows = 2 + sum(t.height for t in items) + len(items) - 1
    fig = Figure(figsize=figsize)
    grid = fig.add_gridspec(rows, 10, wspace=0.4, hspace=0.3)
    title = fig.add_subplot(grid[0, 1:])
    title.set_title(chrom)
    title.set_xlim(0, end - start)
    title.set_xticks([0, end - start])
    title.set_xticklabels([str(start), str(end)])
    title.set_yticks([])
    for side in ("right", "top", "left"):
        title.spines[side].set_visible(False)
    offset = 1
    for track in items:
        offset += 1
        track.add_side_bar(fig, grid, offset)
        track.plot(fig, grid, offset, chrom, start, end)
        offset += track.height
    return fig
