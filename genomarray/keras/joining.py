"""Joining models: the top hidden layers of several models under one new output.

The joint JunD and CAGE models of the Janggu paper are built this way
(:func:`genomarray.keras.architectures.jund_joint`, ``cage_joint``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from genomarray.errors import InputError
from genomarray.keras.arch_parts import named_input, output_layer
from genomarray.keras.models import need_keras
from genomarray.keras.recipe import compile_like_paper, head_layer, output_layers

try:  # keras is an optional extra: the module imports (for doctests) without it
    import keras
except ImportError:  # pragma: no cover - exercised only without the extra
    keras = None


# -- joining models -------------------------------------------------------------------------
def top_hidden(net: Any) -> Any:
    """Return the tensor that feeds the single output layer of ``net`` (its top hidden layer).

    An ``Identity`` or ``Reshape`` naming layer after the output ``Dense`` (as
    :func:`genomarray.keras.create_model` adds) is looked through.

    Examples
    --------
    >>> hidden = top_hidden(jund_dna((500, 4), 1))  # doctest: +SKIP
    >>> hidden.shape  # doctest: +SKIP
    (None, 8)
    """
    need_keras()
    if len(net.outputs) != 1:
        raise InputError(
            f"model {net.name!r} has {len(net.outputs)} outputs; join models "
            "with one output each, or pass hidden= tensors",
            source="join_models",
        )
    layer = head_layer(net.outputs[0]._keras_history.operation)
    hidden = layer.input
    if isinstance(hidden, list | tuple):
        raise InputError(
            f"the output layer {layer.name!r} of {net.name!r} has several "
            "inputs; pass hidden= tensors",
            source="join_models",
        )
    return hidden


def _input_layers(net: Any) -> dict[str, Any]:
    return {t._keras_history.operation.name: t for t in net.inputs}


def join_models(
    nets: Sequence[Any],
    labels: Any = None,
    *,
    output_name: str | None = None,
    activation: str | None = None,
    hidden: Sequence[Any] | None = None,
    reinitialize: bool = False,
    name: str = "joint",
    compile: bool = True,
) -> Any:
    """Join models as the paper does: drop their outputs, concatenate their top hidden
    layers, add a new output layer.

    Parameters
    ----------
    nets
        Keras functional models with one output each and distinct input and layer names
        (build them with different ``name=``; a shared input must be the same tensor).
    labels
        Label view, int or ``{output name: view}`` for the new output; None: as many units
        as the first model's output.
    output_name
        Name of the new output (default: the label dict's key, else the first model's
        output name).
    activation
        Of the new output (default: the first model's output activation).
    hidden
        The tensors to concatenate, one per model (default: :func:`top_hidden`).
    reinitialize
        False: the joint model shares the sub-models' layers and weights (fine-tuning
        pre-trained models); True: the same architecture with fresh random weights (the
        paper's "random init" comparison).
    name, compile
        Model name; compile with :func:`compile_like_paper`.

    Returns
    -------
    keras.Model
        Dict inputs (all models' inputs, by name) and a dict output.

    Examples
    --------
    >>> dna_net = jund_dna(x_dna, y, onehot_order=3, name="dna")  # doctest: +SKIP
    >>> dnase_net = jund_dnase(cov, y, name="dnase")  # doctest: +SKIP
    >>> # ... train both, then fine-tune them together
    >>> joint = join_models([dna_net, dnase_net], y, name="joint")  # doctest: +SKIP
    """
    k = need_keras()
    nets = list(nets)
    if not nets:
        raise InputError("no models to join", source="join_models")
    hiddens = list(hidden) if hidden is not None else [top_hidden(n) for n in nets]
    if len(hiddens) != len(nets):
        raise InputError(
            f"{len(hiddens)} hidden tensors for {len(nets)} models", source="join_models"
        )
    inputs: dict[str, Any] = {}
    for net in nets:
        for in_name, tensor in _input_layers(net).items():
            if in_name in inputs and inputs[in_name] is not tensor:
                raise InputError(
                    f"two models have an input called {in_name!r}; build them "
                    "with distinct input names ({name: view})",
                    source="join_models",
                )
            inputs[in_name] = tensor
    seen: dict[str, tuple[int, str]] = {}
    for i, net in enumerate(nets):
        heads = set()
        for t in net.outputs:
            op = t._keras_history.operation
            heads.update({id(op), id(head_layer(op))})
        for layer in net.layers:
            if isinstance(layer, k.layers.InputLayer) or id(layer) in heads:
                continue
            if layer.name in seen and seen[layer.name][0] != i:
                raise InputError(
                    f"layer name {layer.name!r} is in models "
                    f"{seen[layer.name][1]!r} and {net.name!r}; build them with "
                    "different name=",
                    source="join_models",
                )
            seen[layer.name] = (i, net.name)
    first_name, first_layer = next(iter(output_layers(nets[0]).items()))
    if labels is None:
        value: Any = tuple(int(n) for n in first_layer.output.shape[1:])
        out_name = output_name or first_name
    else:
        label_name, value = named_input(labels, first_name)
        out_name = output_name or label_name
    if activation is None:
        act = getattr(head_layer(first_layer), "activation", None)
        activation = getattr(act, "__name__", "linear")
    flat = [
        h if len(h.shape) == 2 else k.layers.Flatten(name=f"{name}_flatten{i}")(h)
        for i, h in enumerate(hiddens)
    ]
    x = flat[0] if len(flat) == 1 else k.layers.Concatenate(name=f"{name}_concat")(flat)
    out = output_layer(x, value, out_name, activation)
    joint = k.Model(inputs, {out_name: out}, name=name)
    if reinitialize:
        joint = k.Model.from_config(joint.get_config())
    return compile_like_paper(joint) if compile else joint
