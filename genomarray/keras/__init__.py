"""Keras 3 side of genomarray: the batch adapter, genomics layers, model helpers,
evaluation, attribution and variant effects.

Importing this package does not import keras or tensorflow: each name is loaded from its
module on first access (``genomarray.keras.GenomicSequence`` loads
:mod:`genomarray.keras.dataset`, and so on). Where the keras backend is torch and torch is
not loaded yet, it sets ``OMP_WAIT_POLICY=PASSIVE`` unless already set, so that torch's idle
CPU threads sleep instead of spinning on shared cores (:mod:`genomarray.threads`).

Examples
--------
>>> import genomarray.keras
>>> "GenomicSequence" in genomarray.keras.__all__
True
"""

from __future__ import annotations

import importlib
from typing import Any

from genomarray.threads import configured_keras_backend, prefer_passive_openmp

if configured_keras_backend() == "torch":
    prefer_passive_openmp()

_EXPORTS = {
    "GenomicSequence": "dataset",
    "Reverse": "layers",
    "Complement": "layers",
    "BothStrands": "layers",
    "BothStrandConv1D": "layers",
    "LocalAveragePooling": "layers",
    "OneHot": "layers",
    "create_model": "models",
    "fit": "models",
    "predict_layer": "models",
    "inputlayer": "models",
    "outputdense": "models",
    "score": "evaluate",
    "report": "evaluate",
    "SCORERS": "evaluate",
    "integrated_gradients": "attribution",
    "variant_effects": "variants",
    "write_variant_effects": "variants",
    "variant_table": "variants",
    "deepsea": "architectures",
    "danq": "architectures",
    "jund_dna": "architectures",
    "jund_dnase": "architectures",
    "jund_joint": "architectures",
    "cage_dna": "architectures",
    "cage_chromatin": "architectures",
    "cage_joint": "architectures",
    "join_models": "joining",
    "compile_like_paper": "recipe",
    "fit_like_paper": "recipe",
    "split_like_paper": "recipe",
    "paper_optimizer": "recipe",
    "RECIPES": "recipe",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
