"""Keras 3 adapter: feed region views to ``model.fit`` / ``evaluate`` / ``predict``.

Importing this package does not import keras or tensorflow: :class:`GenomicSequence` is
loaded from :mod:`genomarray.keras.dataset` on first access.

Examples
--------
>>> import genomarray.keras
>>> genomarray.keras.__all__
['GenomicSequence']
"""

from __future__ import annotations

from typing import Any

__all__ = ["GenomicSequence"]


def __getattr__(name: str) -> Any:
    if name == "GenomicSequence":
        from genomarray.keras.dataset import GenomicSequence

        return GenomicSequence
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
