"""Building blocks of the published architectures: shapes from views, the both-strand first
convolution, order-aware kernels, output heads.

Shared by :mod:`genomarray.keras.architectures`; every builder takes its input shapes from
the views it will be fed (:func:`input_shape`, :func:`n_outputs`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from genomarray.errors import InputError
from genomarray.keras import models as _models
from genomarray.keras.models import Shape, need_keras
from genomarray.keras.recipe import compile_like_paper

try:  # keras is an optional extra: the module imports (for doctests) without it
    import keras
except ImportError:  # pragma: no cover - exercised only without the extra
    keras = None


# -- shapes ---------------------------------------------------------------------------------
def is_shape(x: Any) -> bool:
    return isinstance(x, tuple | list) and all(
        isinstance(n, int | np.integer) and not isinstance(n, bool) for n in x
    )


def input_shape(x: Any, onehot_order: int | None = None) -> Shape:
    """Return the per-example shape a model input gets from a view, array or shape.

    Parameters
    ----------
    x
        A view (one-hot, codes, coverage), a numpy array (first axis: examples), or the
        per-example shape itself as a tuple.
    onehot_order
        For a sequence code view ``(region, pos)``: the one-hot order it will be fed with
        (as ``GenomicSequence(onehot_order=...)``).

    Examples
    --------
    >>> input_shape((500, 16))
    (500, 16)
    >>> import numpy as np, pandas as pd
    >>> from genomarray import model
    >>> roi = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [500]})
    >>> codes = model.region_view(np.zeros((1, 500), np.uint8), roi)
    >>> input_shape(codes, onehot_order=3)
    (498, 64)
    """
    if is_shape(x):
        return tuple(int(n) for n in x)
    return _models.example_shape(x, onehot_order)


def n_outputs(labels: Any) -> int:
    """Return the number of output units for a label view, array, shape or int.

    Examples
    --------
    >>> n_outputs(919)
    919
    >>> import numpy as np
    >>> n_outputs(np.zeros((10, 4)))
    4
    """
    if isinstance(labels, int | np.integer) and not isinstance(labels, bool):
        if labels < 1:
            raise InputError(
                f"the number of outputs must be >= 1, got {labels}", source="architectures"
            )
        return int(labels)
    shape = input_shape(labels)
    return int(math.prod(shape)) if shape else 1


def named_input(x: Any, default: str) -> tuple[str, Any]:
    if isinstance(x, Mapping):
        if len(x) != 1:
            raise InputError(
                f"expected one {{name: view}} entry, got {len(x)}: {list(x)}",
                source="architectures",
            )
        ((key, value),) = x.items()
        return str(key), value
    return default, x


def order_of(shape: Shape, what: str) -> int:
    if len(shape) != 2:
        raise InputError(
            f"{what}: expected a one-hot shape (length, 4**order), got {shape}; "
            "pass a one-hot view, or a code view with onehot_order=k",
            source="architectures",
        )
    channels = shape[-1]
    order = round(math.log(channels, 4)) if channels > 0 else 0
    if order < 1 or 4**order != channels:
        raise InputError(
            f"{what}: {channels} channels is not a DNA one-hot (4**order)", source="architectures"
        )
    return order


def kernel_for_order(kernel_bases: int, order: int) -> int:
    """Return the kernel length in k-mers that spans ``kernel_bases`` bases at ``order``.

    Examples
    --------
    >>> [kernel_for_order(26, k) for k in (1, 2, 3)]
    [26, 25, 24]
    """
    if kernel_bases - order + 1 < 1:
        raise InputError(
            f"a kernel of {kernel_bases} bases is shorter than order {order}",
            source="architectures",
        )
    return int(kernel_bases) - int(order) + 1


def dna_input(dna: Any, onehot_order: int | None, default: str, what: str) -> tuple[Any, Any, int]:
    """(name -> Input tensor dict, Input tensor, order) of a one-hot DNA input."""
    k = need_keras()
    name, value = named_input(dna, default)
    shape = input_shape(value, onehot_order)
    order = order_of(shape, what)
    tensor = k.Input(shape=shape, name=name)
    return {name: tensor}, tensor, order


def first_conv(
    x: Any, filters: int, kernel_bases: int, order: int, kernel_in: str, merge: str, name: str
) -> Any:
    from genomarray.keras.layers import BothStrandConv1D

    if kernel_in not in ("bases", "kmers"):
        raise InputError(
            f"kernel_in must be 'bases' or 'kmers', got {kernel_in!r}", source="architectures"
        )
    kernel = kernel_for_order(kernel_bases, order) if kernel_in == "bases" else kernel_bases
    check_length(x, kernel, name)
    return BothStrandConv1D(
        filters, kernel, merge=merge, order=order, activation="relu", name=name
    )(x)


def check_length(x: Any, need: int, layer: str) -> None:
    length = x.shape[1]
    if length is not None and length < need:
        raise InputError(
            f"the input of layer {layer!r} has {length} positions, fewer than "
            f"its window of {need}; use a longer context or smaller sizes",
            source="architectures",
        )


def pool(x: Any, size: int, name: str) -> Any:
    k = need_keras()
    check_length(x, size, name)
    return k.layers.MaxPooling1D(size, strides=size, name=name)(x)


def conv(x: Any, filters: int, kernel: int, name: str) -> Any:
    k = need_keras()
    check_length(x, kernel, name)
    return k.layers.Conv1D(filters, kernel, activation="relu", name=name)(x)


def finish(
    inputs: dict[str, Any],
    hidden: Any,
    labels: Any,
    default_out: str,
    activation: str,
    name: str,
    compile: bool,
) -> Any:
    k = need_keras()
    out_name, value = named_input(labels, default_out)
    if out_name in inputs:
        raise InputError(
            f"the output and an input are both called {out_name!r}", source="architectures"
        )
    out = output_layer(hidden, value, out_name, activation)
    net = k.Model(inputs, {out_name: out}, name=name)
    return compile_like_paper(net) if compile else net


def output_layer(hidden: Any, labels: Any, out_name: str, activation: str | None) -> Any:
    """The output layer for ``labels``: ``Dense`` named ``out_name``, reshaped to the label's
    per-example shape when it has more than one axis (e.g. ``(pos, strand, condition)`` of a
    collapsed coverage view), so the loss compares like with like."""
    k = need_keras()
    units = n_outputs(labels)
    shape = None if isinstance(labels, int | np.integer) else input_shape(labels)
    if shape is None or len(shape) <= 1:
        return k.layers.Dense(units, activation=activation, name=out_name)(hidden)
    dense = k.layers.Dense(units, activation=activation, name=f"{out_name}_dense")(hidden)
    return k.layers.Reshape(shape, name=out_name)(dense)


def pair(value: Any, n: int, what: str) -> tuple[Any, ...]:
    if isinstance(value, list | tuple):
        if len(value) != n:
            raise InputError(f"{what} needs {n} values, got {len(value)}", source="architectures")
        return tuple(value)
    return (value,) * n
