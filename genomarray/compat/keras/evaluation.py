"""Janggu's ``Scorer`` and its named scorers (``'auc'``, ``'prc'``, ``'roc'``, ...).

A :class:`Scorer` holds a score function and an exporter. ``Janggu.evaluate(...,
callbacks=[...])`` calls ``score_fct(y_true[:, i], y_pred[:, i])`` per output layer and
condition, ``Janggu.predict(..., callbacks=[...])`` ``score_fct(y_pred[:, i])`` (the
predictions themselves without a function), and the exporter writes the results to
``<output root>/<subdir or 'evaluation'>/<model name>/[<'-'.join(datatags)>/]<name>.<ext>``.

The named scorers use genomarray's numpy scores (:mod:`genomarray.keras.evaluate`,
checked against scikit-learn): ``'roc'``/``'ROC'`` and ``'prc'``/``'PRC'`` curves with
:class:`~genomarray.compat.utils.ExportScorePlot`, and, as TSV tables, ``'auc'``
(``'AUC'``, ``'auROC'``, ``'auroc'``), ``'auprc'`` (``'auPRC'``, ``'ap'``, ``'AP'``),
``'cor'``/``'pearson'``, ``'var_explained'``, ``'mse'``/``'MSE'``, ``'mae'``/``'MAE'``.
"""

from __future__ import annotations

import datetime
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from genomarray.compat.utils import ExportJson, ExportScorePlot, ExportTsv
from genomarray.keras import evaluate as ev


def _table(data: Any, percondition: bool) -> np.ndarray:
    values = np.asarray(data[:] if not isinstance(data, np.ndarray) else data, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if percondition:
        return values.reshape(int(np.prod(values.shape[:-1])), values.shape[-1])
    return values.reshape(int(np.prod(values.shape)), 1)


def _conditions_of(data: Any) -> list[str] | None:
    conds = getattr(data, "conditions", None)
    return None if conds is None else [str(c) for c in conds]


class Scorer:
    """Janggu's ``Scorer(name, score_fct=None, conditions=None, exporter=ExportJson(),
    immediate_export=True, percondition=True, subdir=None)``.

    Examples
    --------
    >>> import numpy as np
    >>> s = Scorer("auc", ev.auroc, immediate_export=False)
    >>> class Model:  # what score() reads of a Janggu model
    ...     name, outputdir = "m", "."
    ...     output_names = ["y"]
    >>> s.score(Model(), {"y": np.array([[0.1], [0.9]])}, outputs={"y": np.array([[0], [1]])})
    >>> s.results[("m", "0")]["value"]
    1.0
    """

    def __init__(
        self,
        name: str,
        score_fct: Callable[..., Any] | None = None,
        conditions: list[str] | None = None,
        exporter: Any = None,
        immediate_export: bool = True,
        percondition: bool = True,
        subdir: str | None = None,
    ) -> None:
        self.score_name = name
        self.score_fct = score_fct
        self.conditions = conditions
        self._exporter = ExportJson() if exporter is None else exporter
        self.immediate_export = immediate_export
        self.percondition = percondition
        self.subdir = "evaluation" if subdir is None else subdir
        self.results: dict[tuple[str, ...], dict[str, Any]] = {}
        self.logger = logging.getLogger("scorer")

    def export(self, path: str, collection_name: str, datatags: list[str] | None = None) -> None:
        """Write the results with the exporter to ``path/collection_name[/tags]``."""
        output_path = os.path.join(path, collection_name)
        if datatags:
            output_path = os.path.join(output_path, "-".join(datatags))
        os.makedirs(output_path, exist_ok=True)
        if self.results:
            self.logger.info("exporting %s to %s", self.score_name, output_path)
            self._exporter(output_path, self.score_name, self.results)

    def score(
        self,
        model: Any,
        predicted: Mapping[str, Any],
        outputs: Mapping[str, Any] | None = None,
        datatags: list[str] | None = None,
    ) -> None:
        """Score the predictions (against ``outputs`` when given) per layer and
        condition; export at once if ``immediate_export``."""
        if self.score_fct is None and outputs is not None:
            raise ValueError("Scorer: without outputs a score_fct must be supplied.")
        fct = self.score_fct if self.score_fct is not None else (lambda value: value)
        names = list(getattr(model, "output_names", None) or predicted)
        for layer in names:
            pred = _table(predicted[layer], self.percondition)
            true = None if outputs is None else _table(outputs[layer], self.percondition)
            known = None if outputs is None else _conditions_of(outputs[layer])
            for idx in range(pred.shape[-1]):
                value = fct(pred[:, idx]) if true is None else fct(true[:, idx], pred[:, idx])
                if not self.percondition:
                    condition = "across"
                elif self.conditions is not None and len(self.conditions) == pred.shape[-1]:
                    condition = str(self.conditions[idx])
                elif known is not None and len(known) == pred.shape[-1]:
                    condition = known[idx]
                else:
                    condition = str(idx)
                if not isinstance(value, tuple) and np.ndim(value) == 0:
                    self.logger.info(
                        "%s %s %s %s : %s", self.score_name, model.name, layer, condition, value
                    )
                key: tuple[str, ...] = (condition,)
                if len(names) > 1:
                    key = (layer, *key)
                if not self.immediate_export:
                    key = (model.name, *key)
                self.results[key] = {"date": str(datetime.datetime.utcnow()), "value": value}
        if self.immediate_export:
            self.export(os.path.join(model.outputdir, self.subdir), model.name, datatags)
            self.results = {}


def _roc(y_true: Any, y_pred: Any) -> tuple[Any, Any, str]:
    fpr, tpr, _ = ev.roc_curve(y_true, y_pred)
    return fpr, tpr, f"({ev.auroc(y_true, y_pred):.2%})"


def _prc(y_true: Any, y_pred: Any) -> tuple[Any, Any, str]:
    precision, recall, _ = ev.precision_recall_curve(y_true, y_pred)
    return recall, precision, f"({ev.auprc(y_true, y_pred):.2%})"


_NAMED: dict[tuple[str, ...], Callable[[str], Scorer]] = {
    ("ROC", "roc"): lambda n: Scorer(n, _roc, exporter=ExportScorePlot(xlabel="FPR", ylabel="TPR")),
    ("PRC", "prc"): lambda n: Scorer(
        n, _prc, exporter=ExportScorePlot(xlabel="Recall", ylabel="Precision")
    ),
    ("auc", "AUC", "auROC", "auroc"): lambda n: Scorer(n, ev.auroc, exporter=ExportTsv()),
    ("auprc", "auPRC", "ap", "AP"): lambda n: Scorer(n, ev.auprc, exporter=ExportTsv()),
    ("cor", "pearson"): lambda n: Scorer(n, ev.pearson, exporter=ExportTsv()),
    ("var_explained",): lambda n: Scorer(n, ev.explained_variance, exporter=ExportTsv()),
    ("mse", "MSE"): lambda n: Scorer(n, ev.mse, exporter=ExportTsv()),
    ("mae", "MAE"): lambda n: Scorer(n, ev.mae, exporter=ExportTsv()),
}


def get_scorer(scorer: Any) -> Scorer:
    """A :class:`Scorer` by name (see the module documentation), or ``scorer`` itself.

    Examples
    --------
    >>> get_scorer("auroc").score_name, type(get_scorer("roc")._exporter).__name__
    ('auroc', 'ExportScorePlot')
    """
    if isinstance(scorer, Scorer):
        return scorer
    for names, make in _NAMED.items():
        if scorer in names:
            return make(scorer)
    raise ValueError(f"scoring callback {scorer} unknown.")
