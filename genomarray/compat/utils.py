"""Janggu's exporters (``janggu.utils``): what a ``Scorer`` writes.

An exporter is a callable ``exporter(output_dir, name, results)``; ``results`` maps a key
(a tuple such as ``("TF-binding",)``, or ``(layer, condition)`` for several outputs) to
``{"date": ..., "value": score}``. The file names are Janggu's:

==========================  ==============================================================
exporter                    writes
==========================  ==============================================================
:class:`ExportJson`         ``<name>.json``: ``{"-".join(key): value, "annot", "row_names"}``
:class:`ExportTsv`          ``<name>.tsv``: one column per key, ``annot.<k>``, ``row_names``
:class:`ExportScorePlot`    ``<name>.png``: one curve ``(x, y, label)`` per key
:class:`ExportBigwig`       ``<name>.<key>.bigwig`` per key, values on the windows
:class:`ExportBed`          ``<name>.<key>.bed`` per key (``chrom start end . score``)
:class:`ExportClustermap`   ``<name>.png``: clustered heat map of the columns
:class:`ExportTsne`         ``<name>.png``: 2-D t-SNE of the rows (needs scikit-learn)
==========================  ==============================================================

matplotlib (and scipy / scikit-learn for the clustering plots) are imported when an
exporter runs, so this module stays light. Janggu drew the clustermap with seaborn; here
scipy's hierarchical clustering and matplotlib draw the same four axes (row and column
dendrograms, heat map, colour bar).
"""

from __future__ import annotations

import colorsys
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SCORE_PLOT_DPI = 1000
"""Resolution of :class:`ExportScorePlot` figures (Janggu's)."""

CLUSTER_PLOT_DPI = 700
"""Resolution of the clustermap and t-SNE figures (Janggu's)."""


def _label(key: Any) -> str:
    return "-".join(str(k) for k in key) if isinstance(key, tuple) else str(key)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


def _frame(results: Mapping[Any, Any]) -> pd.DataFrame:
    columns = {}
    for key, res in results.items():
        value = res["value"]
        arr = np.asarray(value)
        columns[_label(key)] = arr.ravel() if arr.ndim else np.array([value])
    return pd.DataFrame(columns)


def _figure(figsize: Any = None) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=figsize)


class ExportJson:
    """Write ``<output_dir>/<name>.<filesuffix>`` as JSON (Janggu's ``ExportJson``).

    Examples
    --------
    >>> import tempfile
    >>> out = tempfile.mkdtemp()
    >>> ExportJson()(out, "auc", {("c1",): {"date": "now", "value": 0.5}})
    >>> json.load(open(os.path.join(out, "auc.json")))
    {'c1': 0.5, 'annot': None, 'row_names': None}
    """

    def __init__(self, filesuffix: str = "json", annot: Any = None, row_names: Any = None) -> None:
        self.filesuffix = filesuffix
        self.annot = annot
        self.row_names = row_names

    def __call__(
        self, output_dir: str | os.PathLike, name: str, results: Mapping[Any, Any]
    ) -> None:
        content = {_label(k): _jsonable(v["value"]) for k, v in results.items()}
        content["annot"] = _jsonable(self.annot)
        content["row_names"] = _jsonable(self.row_names)
        with open(Path(output_dir) / f"{name}.{self.filesuffix}", "w") as handle:
            json.dump(content, handle)


class ExportTsv:
    """Write ``<output_dir>/<name>.<filesuffix>``: a tab-separated table with one column
    per result (a scalar score is one row), then ``annot.<key>`` columns and
    ``row_names`` (Janggu's ``ExportTsv``).

    Examples
    --------
    >>> import tempfile
    >>> out = tempfile.mkdtemp()
    >>> ExportTsv()(out, "auc", {("TF-binding",): {"date": "now", "value": 0.9}})
    >>> pd.read_csv(os.path.join(out, "auc.tsv"), sep="\\t").to_dict("list")
    {'TF-binding': [0.9]}
    """

    def __init__(self, filesuffix: str = "tsv", annot: Any = None, row_names: Any = None) -> None:
        self.filesuffix = filesuffix
        self.annot = annot
        self.row_names = row_names

    def __call__(
        self, output_dir: str | os.PathLike, name: str, results: Mapping[Any, Any]
    ) -> None:
        table = _frame(results)
        if self.annot is not None:
            for key, values in dict(self.annot).items():
                table[f"annot.{key}"] = list(values)
        if self.row_names is not None:
            table["row_names"] = list(self.row_names)
        table.to_csv(Path(output_dir) / f"{name}.{self.filesuffix}", sep="\t", index=False)


class ExportScorePlot:
    """Plot curves: every result is ``(x, y, label)`` (e.g. a ROC curve), drawn as one
    line labelled ``"<key> <label>"``, to ``<name>.<fform or png>`` (Janggu's
    ``ExportScorePlot``)."""

    def __init__(
        self,
        figsize: Any = None,
        xlabel: str | None = None,
        ylabel: str | None = None,
        fform: str | None = None,
    ) -> None:
        self.figsize = figsize
        self.xlabel = xlabel
        self.ylabel = ylabel
        self.fform = fform or "png"

    def __call__(
        self, output_dir: str | os.PathLike, name: str, results: Mapping[Any, Any]
    ) -> None:
        fig = _figure(self.figsize)
        ax = fig.add_axes([0.1, 0.1, 0.55, 0.5])
        ax.set_title(name)
        for key, res in results.items():
            x, y, aux = res["value"]
            ax.plot(x, y, label=f"{_label(key)} {aux}")
        ax.legend(bbox_to_anchor=(1.05, 1), loc=2, prop={"size": 10})
        if self.xlabel is not None:
            ax.set_xlabel(self.xlabel, size=14)
        if self.ylabel is not None:
            ax.set_ylabel(self.ylabel, size=14)
        fig.savefig(
            Path(output_dir) / f"{name}.{self.fform}", dpi=SCORE_PLOT_DPI, bbox_inches="tight"
        )


class ExportBigwig:
    """Write ``<output_dir>/<name>.<key>.bigwig`` per result: the values laid out along the
    (non-overlapping) windows of ``gindexer``, as many bins per window as the values
    give (Janggu's ``ExportBigwig``)."""

    def __init__(self, gindexer: Any) -> None:
        self.gindexer = gindexer

    def __call__(
        self, output_dir: str | os.PathLike, name: str, results: Mapping[Any, Any]
    ) -> None:
        from genomarray.compat.cover import Cover, window_sizes
        from genomarray.export.tracks import to_bigwig

        n = len(self.gindexer)
        for key, res in results.items():
            values = np.asarray(res["value"], dtype=np.float32).ravel()
            if n == 0 or values.size % n:
                raise ValueError(
                    f"ExportBigwig: {values.size} values do not split evenly over {n} windows"
                )
            pred = values.reshape(n, values.size // n, 1, 1)
            cov = Cover.create_from_array(name, pred, self.gindexer)
            tag = ".".join(str(k) for k in key) if isinstance(key, tuple) else str(key)
            to_bigwig(
                cov.native,
                Path(output_dir) / f"{name}.{tag}.bigwig",
                overwrite=True,
                chrom_sizes=window_sizes(cov.native),
            )


class ExportBed:
    """Write ``<output_dir>/<name>.<key>.bed`` per result: ``chrom, start, end, ".",
    score`` for every ``resolution``-bp bin of the windows of ``gindexer`` (Janggu's
    ``ExportBed``)."""

    def __init__(self, gindexer: Any, resolution: int) -> None:
        self.gindexer = gindexer
        self.resolution = int(resolution)

    def __call__(
        self, output_dir: str | os.PathLike, name: str, results: Mapping[Any, Any]
    ) -> None:
        rows = []
        for iv in self.gindexer:
            for lo in range(
                iv.start, iv.start + iv.length // self.resolution * self.resolution, self.resolution
            ):
                rows.append((iv.chrom, lo, lo + self.resolution))
        for key, res in results.items():
            values = np.asarray(res["value"], dtype=np.float64).ravel()
            if values.size != len(rows):
                raise ValueError(
                    f"ExportBed: {values.size} values for {len(rows)} bins of {self.resolution} bp"
                )
            tag = ".".join(str(k) for k in key) if isinstance(key, tuple) else str(key)
            table = pd.DataFrame(rows, columns=["chrom", "start", "end"])
            table["name"] = "."
            table["score"] = values
            table.to_csv(
                Path(output_dir) / f"{name}.{tag}.bed", sep="\t", header=False, index=False
            )


def _annot_colours(annot: Mapping[str, Any]) -> np.ndarray:
    labels = list(next(iter(annot.values())))
    kinds = sorted(set(map(str, labels)))
    palette = {
        k: colorsys.hls_to_rgb(i / max(len(kinds), 1), 0.6, 0.65) for i, k in enumerate(kinds)
    }
    return np.array([palette[str(v)] for v in labels])


class ExportClustermap:
    """Clustered heat map of the results' columns (e.g. a hidden layer's activations) to
    ``<name>.<fform or png>`` (Janggu's ``ExportClustermap``, drawn with scipy and
    matplotlib instead of seaborn: row and column dendrograms, the heat map and a colour
    bar). ``z_score`` (0 rows, 1 columns) standardizes, ``standard_scale`` scales to
    [0, 1]; ``annot`` (``{label: values per row}``) colours the rows."""

    def __init__(
        self,
        fform: str | None = None,
        figsize: Any = None,
        annot: Any = None,
        method: str = "ward",
        metric: str = "euclidean",
        z_score: Any = None,
        standard_scale: Any = None,
        row_cluster: bool = True,
        col_cluster: bool = True,
        row_linkage: Any = None,
        col_linkage: Any = None,
        row_colors: Any = None,
        col_colors: Any = None,
        mask: Any = None,
    ) -> None:
        self.fform = fform or "png"
        self.figsize = figsize or (10, 10)
        self.annot = annot
        self.method = method
        self.metric = metric
        self.z_score = z_score
        self.standard_scale = standard_scale
        self.row_cluster = row_cluster
        self.col_cluster = col_cluster
        self.row_linkage = row_linkage
        self.col_linkage = col_linkage
        self.row_colors = row_colors
        self.col_colors = col_colors
        self.mask = mask

    def _data(self, results: Mapping[Any, Any]) -> np.ndarray:
        data = _frame(results).to_numpy(np.float64)
        if self.z_score is not None:
            axis = 0 if int(self.z_score) == 1 else 1
            sd = data.std(axis=axis, keepdims=True)
            data = (data - data.mean(axis=axis, keepdims=True)) / np.where(sd == 0, 1, sd)
        elif self.standard_scale is not None:
            axis = 0 if int(self.standard_scale) == 1 else 1
            lo, hi = data.min(axis=axis, keepdims=True), data.max(axis=axis, keepdims=True)
            data = (data - lo) / np.where(hi == lo, 1, hi - lo)
        return data

    def _order(self, data: np.ndarray, linkage: Any, cluster: bool, ax: Any) -> np.ndarray:
        from scipy.cluster import hierarchy

        ax.set_axis_off()
        if not cluster or len(data) < 2:
            return np.arange(len(data))
        link = (
            linkage
            if linkage is not None
            else hierarchy.linkage(data, method=self.method, metric=self.metric)
        )
        orient = "left" if ax.get_label() == "rows" else "top"
        tree = hierarchy.dendrogram(
            link,
            ax=ax,
            orientation=orient,
            no_labels=True,
            color_threshold=0,
            above_threshold_color="k",
        )
        return np.asarray(tree["leaves"])

    def __call__(
        self, output_dir: str | os.PathLike, name: str, results: Mapping[Any, Any]
    ) -> None:
        data = self._data(results)
        fig = _figure(self.figsize)
        row_ax = fig.add_axes([0.02, 0.1, 0.15, 0.7], label="rows")
        col_ax = fig.add_axes([0.2, 0.82, 0.65, 0.15], label="cols")
        heat_ax = fig.add_axes([0.2, 0.1, 0.65, 0.7])
        bar_ax = fig.add_axes([0.9, 0.1, 0.03, 0.7])
        rows = self._order(data, self.row_linkage, self.row_cluster, row_ax)
        cols = self._order(data.T, self.col_linkage, self.col_cluster, col_ax)
        shown = data[rows][:, cols]
        if self.mask is not None:
            shown = np.ma.masked_array(shown, np.asarray(self.mask)[rows][:, cols])
        image = heat_ax.pcolormesh(shown[::-1], cmap="viridis")
        heat_ax.set_yticks([])
        labels = list(_frame(results).columns)
        heat_ax.set_xticks(np.arange(len(cols)) + 0.5)
        heat_ax.set_xticklabels([labels[c] for c in cols], rotation=90, fontsize=6)
        colours = None
        if self.annot is not None:
            colours = _annot_colours(self.annot)
        elif self.row_colors is not None:
            colours = np.asarray(self.row_colors)
        if colours is not None:
            heat_ax.scatter(
                np.full(len(rows), -0.5),
                np.arange(len(rows))[::-1] + 0.5,
                c=colours[rows],
                marker="s",
                s=8,
                clip_on=False,
            )
        fig.colorbar(image, cax=bar_ax)
        fig.savefig(Path(output_dir) / f"{name}.{self.fform}", dpi=CLUSTER_PLOT_DPI)


class ExportTsne:
    """2-D t-SNE embedding of the result rows, scattered (coloured by ``annot``'s labels,
    with a legend), to ``<name>.<fform or png>`` (Janggu's ``ExportTsne``; needs
    scikit-learn)."""

    def __init__(
        self,
        figsize: Any = None,
        cmap: Any = None,
        colors: Any = None,
        norm: Any = None,
        alpha: Any = None,
        fform: str | None = None,
        annot: Any = None,
    ) -> None:
        self.figsize = figsize or (10, 10)
        self.cmap = cmap
        self.colors = colors
        self.norm = norm
        self.alpha = alpha
        self.fform = fform or "png"
        self.annot = annot

    def __call__(
        self, output_dir: str | os.PathLike, name: str, results: Mapping[Any, Any]
    ) -> None:
        try:
            from sklearn.manifold import TSNE
        except ImportError as err:  # pragma: no cover - optional
            raise ImportError("ExportTsne needs scikit-learn: pip install scikit-learn") from err
        data = _frame(results).to_numpy(np.float64)
        perplexity = min(30.0, max(1.0, (len(data) - 1) / 3))
        emb = TSNE(perplexity=perplexity, init="pca", random_state=0).fit_transform(data)
        fig = _figure(self.figsize)
        ax = fig.add_subplot(1, 1, 1)
        if self.annot is not None:
            labels = np.asarray(list(next(iter(dict(self.annot).values()))), dtype=object)
            for label in sorted(set(labels.tolist()), key=str):
                sel = labels == label
                ax.scatter(emb[sel, 0], emb[sel, 1], label=str(label), alpha=self.alpha)
            ax.legend()
        else:
            ax.scatter(
                emb[:, 0],
                emb[:, 1],
                c=self.colors,
                cmap=self.cmap,
                norm=self.norm,
                alpha=self.alpha,
            )
        ax.set_axis_off()
        fig.savefig(Path(output_dir) / f"{name}.{self.fform}", dpi=CLUSTER_PLOT_DPI)
