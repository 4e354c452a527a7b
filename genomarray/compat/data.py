"""Janggu's ``janggu.data.data``: ``JangguSequence`` and the ``Dataset`` base.

``from genomarray.compat.data import JangguSequence`` (a keras ``PyDataset``; keras is
imported on first use).
"""

from typing import Any

from genomarray.compat.base import Dataset

__all__ = ["Dataset", "JangguSequence"]  # noqa: F822 - module __getattr__ builds them


def __getattr__(name: str) -> Any:
    if name == "JangguSequence":
        from genomarray.compat.keras.sequence import JangguSequence

        return JangguSequence
    raise AttributeError(f"module 'genomarray.compat.data' has no attribute {name!r}")
