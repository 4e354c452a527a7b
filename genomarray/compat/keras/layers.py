"""Janggu's keras layers (``janggu.layers``) for its 4-d one-hot ``(batch, length, 1, 4**order)``.

- ``DnaConv2D(layer, merge_mode="max")``: the wrapped ``Conv2D`` scans both strands with
  one set of weights (genomarray's :class:`~genomarray.keras.layers.BothStrands`; the
  parameter count is the ``Conv2D``'s). ``merge_mode`` ``"max"``, ``"ave"``, ``"concat"``
  or ``None`` (both outputs).
- ``Complement()``: the one-hot of the other strand's k-mers (any order, inferred from
  the channels); ``Reverse(axis=1)`` flips an axis; together the reverse complement.
- ``LocalAveragePooling2D(window_size=1)``: mean over ``window_size`` positions along the
  length (stride 1, valid padding), no weights.

The classes are built when first used (keras is imported then), and registered for
``keras.models.load_model`` (package ``janggu``).
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["Complement", "DnaConv2D", "LocalAveragePooling2D", "Reverse"]  # noqa: F822 - module __getattr__ builds them

MERGE_MODES = {"max": "max", "ave": "mean", "concat": "concat", None: "both"}
"""Janggu's ``merge_mode`` and the ``BothStrands`` merge it is."""


@functools.cache
def classes() -> dict[str, type]:
    """Build (once) and return the layer classes by name."""
    import keras
    from keras import ops

    from genomarray.keras import layers as native

    register = keras.saving.register_keras_serializable(package="janggu")

    @register
    class DnaConv2D(native.BothStrands):
        """Janggu's ``DnaConv2D(layer, merge_mode='max')``: scan both DNA strands with the
        wrapped ``Conv2D``'s weights (see the module documentation).

        Examples
        --------
        >>> import keras  # doctest: +SKIP
        >>> conv = DnaConv2D(keras.layers.Conv2D(30, (21, 1)))  # doctest: +SKIP
        >>> conv(keras.Input((198, 1, 64))).shape, conv.count_params()  # doctest: +SKIP
        ((None, 178, 1, 30), 40350)
        """

        def __init__(self, layer: Any, merge_mode: str | None = "max", **kwargs: Any) -> None:
            if merge_mode not in MERGE_MODES:
                raise ValueError(
                    f"Invalid merge mode {merge_mode}. Merge mode should be one of "
                    '{"max", "ave", "concat", None}'
                )
            kwargs.pop("merge", None)
            kwargs.pop("order", None)
            super().__init__(layer, merge=MERGE_MODES[merge_mode], **kwargs)
            self.merge_mode = merge_mode

        def get_config(self) -> dict[str, Any]:
            config = super().get_config()
            config.pop("merge", None)
            config.pop("order", None)
            return {**config, "merge_mode": self.merge_mode}

        @classmethod
        def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Any:
            config = dict(config)
            layer = keras.layers.deserialize(config.pop("layer"), custom_objects=custom_objects)
            return cls(layer, **config)

    @register
    class Complement(native.Complement):
        """Janggu's ``Complement()``: the one-hot of the other strand's k-mers."""

        def __init__(self, **kwargs: Any) -> None:
            kwargs.pop("order", None)
            super().__init__(order=None, **kwargs)

        def get_config(self) -> dict[str, Any]:
            config = super().get_config()
            config.pop("order", None)
            return config

    @register
    class Reverse(keras.layers.Layer):
        """Janggu's ``Reverse(axis=1)``: flip ``axis``."""

        def __init__(self, axis: int = 1, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.axis = int(axis)

        def call(self, inputs: Any) -> Any:
            return ops.flip(inputs, axis=self.axis)

        def compute_output_shape(self, input_shape: Any) -> Any:
            return tuple(input_shape)

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "axis": self.axis}

    @register
    class LocalAveragePooling2D(keras.layers.Layer):
        """Janggu's ``LocalAveragePooling2D(window_size=1)``: mean over ``window_size``
        positions along axis 1 (valid): ``(batch, L, 1, C)`` -> ``(batch, L - w + 1, 1,
        C)``."""

        def __init__(self, window_size: int = 1, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            if int(window_size) < 1:
                raise ValueError(f"window_size must be >= 1, got {window_size!r}")
            self.window_size = int(window_size)

        def call(self, inputs: Any) -> Any:
            if self.window_size == 1:
                return inputs
            return ops.average_pool(
                inputs, pool_size=(self.window_size, 1), strides=(1, 1), padding="valid"
            )

        def compute_output_shape(self, input_shape: Any) -> Any:
            length = input_shape[1]
            if length is not None:
                length = length - self.window_size + 1
            return (input_shape[0], length, *input_shape[2:])

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "window_size": self.window_size}

    return {
        "DnaConv2D": DnaConv2D,
        "Complement": Complement,
        "Reverse": Reverse,
        "LocalAveragePooling2D": LocalAveragePooling2D,
    }


def custom_objects() -> dict[str, type]:
    """The layers by name, for ``keras.models.load_model(..., custom_objects=...)``."""
    return dict(classes())


def __getattr__(name: str) -> Any:
    if name in __all__:
        return classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
