"""Janggu's ``janggu.layers``: ``from genomarray.compat.layers import DnaConv2D``.

The layers are :mod:`genomarray.compat.keras.layers` (built, and keras imported, on first
use).
"""

from typing import Any

__all__ = ["Complement", "DnaConv2D", "LocalAveragePooling2D", "Reverse"]  # noqa: F822 - module __getattr__ builds them


def __getattr__(name: str) -> Any:
    if name in __all__:
        from genomarray.compat.keras import layers

        return getattr(layers, name)
    raise AttributeError(f"module 'genomarray.compat.layers' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
