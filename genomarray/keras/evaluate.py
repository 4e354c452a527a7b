"""Score predictions per output and per condition, and write reports (numpy only).

Scorers (``y_true``, ``y_score`` are 1-D; NaN pairs are dropped):

- ``auroc``: area under the ROC curve (ties count one half, as
  ``sklearn.metrics.roc_auc_score``);
- ``auprc``: average precision, ``sum_n (R_n - R_{n-1}) P_n`` over the distinct
  thresholds (as ``sklearn.metrics.average_precision_score``);
- ``pearson``, ``explained_variance`` (``1 - Var(y - p) / Var(y)``), ``mse``, ``mae``.

``auroc`` and ``auprc`` take labels of 0 and 1 (values ``>= 0.5`` count as positive); a
condition whose labels hold one class only scores NaN, with a warning.

:func:`score` returns a labelled ``(scorer, condition)`` DataArray for one output, or a
Dataset with one such variable per output; :func:`report` writes it as TSV and JSON and
draws ROC and precision-recall curves as PNG.

This module does not import keras: it works on any arrays.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from genomarray import model
from genomarray.errors import InputError
from genomarray.paths import output_root

SCORER = "scorer"
"""Dimension of the scorer names in the results of :func:`score`."""

BINARY_SCORERS = ("auroc", "auprc")
"""Scorers that take binary labels (and draw curves in :func:`report`)."""

Scorer = Callable[[np.ndarray, np.ndarray], float]


def _numpy(values: Any, dtype: Any = None) -> np.ndarray:
    """``values`` as numpy, also a framework tensor (a torch tensor that records gradients
    or lives on a GPU, a jax or tensorflow array), so that ``score(y, model(x))`` works on
    every keras backend."""
    if hasattr(values, "detach") and hasattr(values, "cpu"):  # torch, without importing it
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=dtype)


# -- curves -----------------------------------------------------------------------------
def _binary(y_true: np.ndarray, name: str) -> np.ndarray | None:
    """Labels as bool, or None (with a warning) when only one class is present."""
    pos = np.asarray(y_true, dtype=np.float64) >= 0.5
    n_pos = int(pos.sum())
    if n_pos == 0 or n_pos == pos.size:
        warnings.warn(
            f"{name}: the labels hold a single class ({n_pos} positives of "
            f"{pos.size}); the score is NaN",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    return pos


def _counts(pos: np.ndarray, y_score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True and false positives at each distinct threshold, highest first."""
    y_score = np.asarray(y_score, dtype=np.float64)
    order = np.argsort(-y_score, kind="mergesort")
    s, p = y_score[order], pos[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]  # last index of each tie group
    tps = np.cumsum(p)[last].astype(np.float64)
    fps = (last + 1) - tps
    return tps, fps, s[last]


def _clean(y_true: Any, y_score: Any) -> tuple[np.ndarray, np.ndarray]:
    t = _numpy(y_true, np.float64).ravel()
    p = _numpy(y_score, np.float64).ravel()
    if t.shape != p.shape:
        raise InputError(f"labels have {t.size} values but predictions {p.size}", source="evaluate")
    keep = np.isfinite(t) & np.isfinite(p)
    return t[keep], p[keep]


def roc_curve(y_true: Any, y_score: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(fpr, tpr, thresholds)`` of the ROC curve, starting at (0, 0).

    Examples
    --------
    >>> fpr, tpr, _ = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> fpr.tolist(), tpr.tolist()
    ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0])
    """
    t, p = _clean(y_true, y_score)
    pos = _binary(t, "roc_curve")
    if pos is None:
        return np.array([np.nan]), np.array([np.nan]), np.array([np.nan])
    tps, fps, thr = _counts(pos, p)
    return (np.r_[0.0, fps / fps[-1]], np.r_[0.0, tps / tps[-1]], np.r_[np.inf, thr])


def precision_recall_curve(y_true: Any, y_score: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(precision, recall, thresholds)``, by decreasing threshold.

    Examples
    --------
    >>> prec, rec, _ = precision_recall_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> prec.tolist(), rec.tolist()
    ([1.0, 0.5, 0.6666666666666666, 0.5], [0.5, 0.5, 1.0, 1.0])
    """
    t, p = _clean(y_true, y_score)
    pos = _binary(t, "precision_recall_curve")
    if pos is None:
        return np.array([np.nan]), np.array([np.nan]), np.array([np.nan])
    tps, fps, thr = _counts(pos, p)
    return tps / (tps + fps), tps / tps[-1], thr


# -- scorers ----------------------------------------------------------------------------
def auroc(y_true: Any, y_score: Any) -> float:
    """Area under the ROC curve (Mann-Whitney U with ties counted one half).

    Examples
    --------
    >>> auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    t, p = _clean(y_true, y_score)
    pos = _binary(t, "auroc")
    if pos is None:
        return math.nan
    order = np.argsort(p, kind="mergesort")
    s = p[order]
    ranks = np.empty(s.size, dtype=np.float64)
    starts = np.r_[0, np.flatnonzero(np.diff(s)) + 1]
    ends = np.r_[starts[1:], s.size]
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)  # average ranks
    n_pos = int(pos.sum())
    n_neg = pos.size - n_pos
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def auprc(y_true: Any, y_score: Any) -> float:
    """Average precision (area under the precision-recall curve, step-wise).

    Examples
    --------
    >>> round(auprc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
    0.8333
    """
    t, p = _clean(y_true, y_score)
    pos = _binary(t, "auprc")
    if pos is None:
        return math.nan
    tps, fps, _ = _counts(pos, p)
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def pearson(y_true: Any, y_pred: Any) -> float:
    """Pearson correlation (NaN if either side is constant).

    Examples
    --------
    >>> pearson([1, 2, 3], [2, 4, 6.5]) > 0.99
    True
    """
    t, p = _clean(y_true, y_pred)
    if t.size < 2 or t.std() == 0 or p.std() == 0:
        warnings.warn(
            "pearson: a constant or too short input; the score is NaN", RuntimeWarning, stacklevel=2
        )
        return math.nan
    tc, pc = t - t.mean(), p - p.mean()
    return float(np.sum(tc * pc) / math.sqrt(np.sum(tc * tc) * np.sum(pc * pc)))


def explained_variance(y_true: Any, y_pred: Any) -> float:
    """``1 - Var(y_true - y_pred) / Var(y_true)`` (NaN if ``y_true`` is constant).

    Examples
    --------
    >>> explained_variance([1, 2, 3], [1, 2, 3])
    1.0
    """
    t, p = _clean(y_true, y_pred)
    if t.size == 0 or t.var() == 0:
        warnings.warn(
            "explained_variance: constant labels; the score is NaN", RuntimeWarning, stacklevel=2
        )
        return math.nan
    return float(1.0 - np.var(t - p) / np.var(t))


def mse(y_true: Any, y_pred: Any) -> float:
    """Mean squared error.

    Examples
    --------
    >>> mse([0, 1], [1, 1])
    0.5
    """
    t, p = _clean(y_true, y_pred)
    return float(np.mean((t - p) ** 2)) if t.size else math.nan


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error.

    Examples
    --------
    >>> mae([0, 1], [1, 1])
    0.5
    """
    t, p = _clean(y_true, y_pred)
    return float(np.mean(np.abs(t - p))) if t.size else math.nan


SCORERS: dict[str, Scorer] = {
    "auroc": auroc,
    "auprc": auprc,
    "pearson": pearson,
    "explained_variance": explained_variance,
    "mse": mse,
    "mae": mae,
}
"""The scorers :func:`score` knows by name."""


def _scorer(s: str | Scorer) -> tuple[str, Scorer]:
    if callable(s):
        return getattr(s, "__name__", "scorer"), s
    if s not in SCORERS:
        raise InputError(f"unknown scorer {s!r}; known: {sorted(SCORERS)}", source="score")
    return s, SCORERS[s]


# -- per output, per condition ----------------------------------------------------------
def _table(arr: Any) -> tuple[np.ndarray, list[str] | None]:
    """``(n_examples, n_conditions)`` values and the condition labels if known."""
    if isinstance(arr, xr.DataArray):
        if model.CONDITION in arr.dims:
            labels = (
                [str(c) for c in arr[model.CONDITION].values]
                if model.CONDITION in arr.coords
                else None
            )
            other = [d for d in arr.dims if d != model.CONDITION]
            values = np.asarray(arr.transpose(*other, model.CONDITION).values)
            return values.reshape(-1, values.shape[-1]), labels
        arr = arr.values
    values = _numpy(arr)
    if values.ndim == 0:
        raise InputError("expected an array of predictions, got a scalar", source="score")
    if values.ndim == 1:
        return values[:, None], None
    return values.reshape(-1, values.shape[-1]), None


def _score_one(
    y_true: Any, y_pred: Any, scorers: Sequence[str | Scorer], name: str
) -> xr.DataArray:
    t, t_labels = _table(y_true)
    p, p_labels = _table(y_pred)
    if t.shape != p.shape:
        raise InputError(
            f"labels have shape {t.shape} (examples, conditions) but the predictions {p.shape}",
            source="score",
            record=name,
        )
    labels = t_labels or p_labels or [f"c{i}" for i in range(t.shape[1])]
    named = [_scorer(s) for s in scorers]
    out = np.full((len(named), t.shape[1]), np.nan)
    for j, cond in enumerate(labels):
        for i, (sname, fn) in enumerate(named):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                value = fn(t[:, j], p[:, j])
            if not np.isfinite(value):
                warnings.warn(
                    f"{name}, condition {cond!r}: {sname} is NaN (a single "
                    "class, constant values or no labels)",
                    RuntimeWarning,
                    stacklevel=3,
                )
            out[i, j] = value
    return xr.DataArray(
        out,
        dims=(SCORER, model.CONDITION),
        coords={SCORER: [n for n, _ in named], model.CONDITION: np.array(labels, dtype=object)},
        name=name,
        attrs={model.SOURCE: model.source_stamp()},
    )


def score(
    y_true: Any, y_pred: Any, scorers: Sequence[str | Scorer] = BINARY_SCORERS
) -> xr.DataArray | xr.Dataset:
    """Score predictions per condition (and per output).

    Parameters
    ----------
    y_true, y_pred
        Labels and predictions: DataArrays (labels ``(region, condition)``, views,
        predictions labelled by :func:`genomarray.from_array`) or numpy arrays whose last
        axis is the condition (all other axes are pooled as examples), or dicts
        ``{output name: array}`` (``model.predict`` of a multi-output model) with the
        same keys. NaN labels or predictions are ignored.
    scorers
        Names from :data:`SCORERS` or callables ``f(y_true, y_pred) -> float``.

    Returns
    -------
    xarray.DataArray or xarray.Dataset
        ``(scorer, condition)`` scores, condition labels from the DataArrays when present
        (else ``c0``, ``c1``, ...); a Dataset with one variable per output for dicts.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[0, 1], [1, 1], [0, 0], [1, 0]])
    >>> p = np.array([[0.1, 0.9], [0.8, 0.7], [0.3, 0.1], [0.7, 0.2]])
    >>> res = score(y, p, scorers=("auroc", "mse"))
    >>> res.dims, res.sel(scorer="auroc").values.tolist()
    (('scorer', 'condition'), [1.0, 1.0])
    """
    if isinstance(y_true, Mapping) or isinstance(y_pred, Mapping):
        if not (isinstance(y_true, Mapping) and isinstance(y_pred, Mapping)):
            raise InputError(
                "pass dicts for both labels and predictions, or neither", source="score"
            )
        if set(map(str, y_true)) != set(map(str, y_pred)):
            raise InputError(
                f"outputs differ: labels {sorted(map(str, y_true))}, "
                f"predictions {sorted(map(str, y_pred))}",
                source="score",
            )
        preds = {str(k): v for k, v in y_pred.items()}
        return xr.Dataset(
            {str(k): _score_one(v, preds[str(k)], scorers, str(k)) for k, v in y_true.items()}
        )
    return _score_one(y_true, y_pred, scorers, "score")


# -- reports ----------------------------------------------------------------------------
def _as_dataset(results: xr.DataArray | xr.Dataset) -> xr.Dataset:
    if isinstance(results, xr.DataArray):
        return results.to_dataset(name=str(results.name or "score"))
    return results


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _plot_curves(
    t: np.ndarray, p: np.ndarray, labels: list[str], title: str, path: Path, kind: str
) -> Path:
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, Agg-safe

    fig = Figure(figsize=(5, 5), dpi=100)
    ax = fig.add_subplot()
    for j, cond in enumerate(labels):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if kind == "roc":
                x, y, _ = roc_curve(t[:, j], p[:, j])
                value = auroc(t[:, j], p[:, j])
            else:
                y, x, _ = precision_recall_curve(t[:, j], p[:, j])
                value = auprc(t[:, j], p[:, j])
        if np.isfinite(value):
            step = "post" if kind == "roc" else "pre"
            if kind == "pr":
                x, y = np.r_[0.0, x], np.r_[y[0], y]
            ax.step(x, y, where=step, label=f"{cond} ({value:.3f})")
    if kind == "roc":
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.set_title(f"{title}: ROC (auROC)")
    else:
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_title(f"{title}: precision-recall (auPRC)")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.grid(True, linewidth=0.3)
    if ax.get_lines():
        ax.legend(loc="lower right" if kind == "roc" else "lower left", fontsize="small")
    fig.savefig(path, format="png")
    return path


def report(
    results: xr.DataArray | xr.Dataset,
    outdir: str | os.PathLike | None = None,
    y_true: Any = None,
    y_pred: Any = None,
    name: str = "evaluation",
) -> dict[str, Path]:
    """Write scores as TSV and JSON and, given the data, ROC and PR curves as PNG.

    Parameters
    ----------
    results
        The output of :func:`score`.
    outdir
        Folder to write to (created); default ``output_root()/"evaluation"``.
    y_true, y_pred
        The labels and predictions that were scored (same forms as for :func:`score`):
        when given, ``roc_<output>.png`` and ``pr_<output>.png`` are drawn, one curve per
        condition. matplotlib is imported only then.
    name
        Stem of the TSV and JSON files.

    Returns
    -------
    dict
        ``{"tsv": path, "json": path, "roc_<output>": path, "pr_<output>": path, ...}``.

    Notes
    -----
    ``<name>.tsv`` has the columns ``output, condition, scorer, value`` (NaN written as
    ``nan``); ``<name>.json`` maps ``{output: {condition: {scorer: value}}}`` (NaN as
    null).

    Examples
    --------
    >>> import numpy as np
    >>> y, p = np.array([0, 1, 1, 0]), np.array([0.2, 0.9, 0.6, 0.4])
    >>> paths = report(score(y, p), y_true=y, y_pred=p)
    >>> sorted(paths)
    ['json', 'pr_score', 'roc_score', 'tsv']
    """
    ds = _as_dataset(results)
    out = Path(outdir) if outdir is not None else output_root() / "evaluation"
    out.mkdir(parents=True, exist_ok=True)
    rows = ["output\tcondition\tscorer\tvalue"]
    tree: dict[str, dict[str, dict[str, float | None]]] = {}
    for var in ds.data_vars:
        da = ds[var]
        tree[str(var)] = {}
        for cond in da[model.CONDITION].values:
            tree[str(var)][str(cond)] = {}
            for sc in da[SCORER].values:
                value = float(da.sel({SCORER: sc, model.CONDITION: cond}).values)
                rows.append(f"{var}\t{cond}\t{sc}\t{value!r}")
                tree[str(var)][str(cond)][str(sc)] = _finite(value)
    paths: dict[str, Path] = {"tsv": out / f"{name}.tsv", "json": out / f"{name}.json"}
    paths["tsv"].write_text("\n".join(rows) + "\n")
    paths["json"].write_text(json.dumps(tree, indent=2) + "\n")

    if y_true is not None and y_pred is not None:
        if isinstance(y_true, Mapping):
            pairs = [
                (str(k), v, {str(a): b for a, b in y_pred.items()}[str(k)])
                for k, v in y_true.items()
            ]
        else:
            pairs = [(str(next(iter(ds.data_vars))), y_true, y_pred)]
        for output, t_arr, p_arr in pairs:
            t, t_labels = _table(t_arr)
            p, p_labels = _table(p_arr)
            labels = t_labels or p_labels or [f"c{i}" for i in range(t.shape[1])]
            for kind in ("roc", "pr"):
                paths[f"{kind}_{output}"] = _plot_curves(
                    t, p, labels, output, out / f"{kind}_{output}.png", kind
                )
    return paths


__all__ = [
    "BINARY_SCORERS",
    "SCORER",
    "SCORERS",
    "auprc",
    "auroc",
    "explained_variance",
    "mae",
    "mse",
    "pearson",
    "precision_recall_curve",
    "report",
    "roc_curve",
    "score",
]
