"""Janggu's ``janggu`` namespace (the model side) on genomarray.

::

    # from janggu import Janggu, Scorer, inputlayer, outputdense
    from genomarray.compat.keras import Janggu, Scorer, inputlayer, outputdense

Every public name of ``janggu`` (0.10.2): the model wrapper :class:`Janggu` (``create``,
``create_by_name``, ``compile``, ``fit``, ``evaluate``, ``predict``,
``predict_variant_effect``, ``summary``, ``save``), ``create_model``, the template
decorators ``inputlayer``, ``outputdense``, ``outputconv``, the layers ``DnaConv2D``,
``Complement``, ``Reverse``, ``LocalAveragePooling2D``, ``input_attribution``,
``predict_variant_effect``, ``model_from_json``, ``model_from_yaml``, ``Scorer`` and the
exporters ``ExportTsv``, ``ExportJson``, ``ExportScorePlot``, ``ExportBigwig``,
``ExportBed``, ``ExportClustermap``, ``ExportTsne``. ``__version__`` is the Janggu
version whose API this mirrors (``"0.10.2"``).

Importing this package does not import keras: the layers, ``JangguSequence`` and the
models load it when they are first used.
"""

from typing import Any

from genomarray.compat.keras.decorators import InputList, inputlayer, outputconv, outputdense
from genomarray.compat.keras.evaluation import Scorer, get_scorer
from genomarray.compat.keras.model import (
    Janggu,
    create_model,
    input_attribution,
    model_from_json,
    model_from_yaml,
    predict_variant_effect,
)
from genomarray.compat.utils import (
    ExportBed,
    ExportBigwig,
    ExportClustermap,
    ExportJson,
    ExportScorePlot,
    ExportTsne,
    ExportTsv,
)

__version__ = "0.10.2"
"""The Janggu release whose public API this namespace mirrors (genomarray's own version
is ``genomarray.__version__``)."""

_LAYERS = ("Complement", "DnaConv2D", "LocalAveragePooling2D", "Reverse")

__all__ = [
    "Complement",
    "DnaConv2D",
    "ExportBed",
    "ExportBigwig",
    "ExportClustermap",
    "ExportJson",
    "ExportScorePlot",
    "ExportTsne",
    "ExportTsv",
    "InputList",
    "Janggu",
    "LocalAveragePooling2D",
    "Reverse",
    "Scorer",
    "__version__",
    "create_model",
    "get_scorer",
    "input_attribution",
    "inputlayer",
    "model_from_json",
    "model_from_yaml",
    "outputconv",
    "outputdense",
    "predict_variant_effect",
]


def __getattr__(name: str) -> Any:
    if name in _LAYERS:  # keras layer classes: built (and keras imported) on first use
        from genomarray.compat.keras import layers

        return getattr(layers, name)
    raise AttributeError(f"module 'genomarray.compat.keras' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
