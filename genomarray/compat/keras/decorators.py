"""Janggu's model-template decorators: ``inputlayer``, ``outputdense``, ``outputconv``.

A Janggu template is ``template(inputs, inp, oup, params)``: ``inp`` and ``oup`` are dicts
``{dataset name: {"shape": per-example shape}}`` of the input and output datasets,
``params`` the ``modelparams`` given to ``Janggu.create``; it returns ``(inputs,
outputs)``. ``@inputlayer`` builds one keras ``Input`` per input dataset, named after it,
and hands them to the template as an :class:`InputList` (``inputs["dna"]``,
``with inputs.use("dna") as layer:``); ``@outputdense(activation)`` (``@outputconv``)
appends one ``Dense`` (1x1 ``Conv2D``) layer per output dataset, named after it, with as
many units as the dataset has conditions. ``@inputlayer`` goes outermost.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any


class InputList:
    """The keras ``Input`` tensors of a template, found by (part of) their name.

    ``inputs["dna"]`` is the first input whose name contains ``"dna"``; ``inputs[0]`` the
    first; ``inputs.use("dna")`` selects one for a ``with`` block (``with
    inputs.use("dna") as layer:``); ``inputs()`` is the list of all of them.
    """

    def __init__(self, inputs: list[Any]) -> None:
        self.inputlist = list(inputs)
        self.name: str | None = None

    def __getitem__(self, name: Any) -> Any:
        if isinstance(name, str):
            for tensor in self.inputlist:
                if name in _name_of(tensor):
                    return tensor
            raise IndexError(f"No input with name {name!r}")
        if isinstance(name, int):
            return self.inputlist[name]
        raise IndexError("Wrong index type: use a name (str) or a position (int)")

    def __call__(self) -> list[Any]:
        return self.inputlist

    def __len__(self) -> int:
        return len(self.inputlist)

    def use(self, name: str) -> InputList:
        self.name = name
        return self

    def __enter__(self) -> Any:
        return self[self.name]

    def __exit__(self, *exc: Any) -> None:
        return None


def _name_of(tensor: Any) -> str:
    history = getattr(tensor, "_keras_history", None)
    if history is not None:
        return str(history[0].name)
    return str(getattr(tensor, "name", ""))


def _keras() -> Any:
    import keras

    return keras


def inputlayer(func: Callable[..., Any]) -> Callable[..., Any]:
    """Janggu's ``@inputlayer``: build the ``Input`` layers for a template.

    Examples
    --------
    >>> @inputlayer
    ... def template(inputs, inp, oup, params):
    ...     return inputs, inputs["x"]
    >>> ins, out = template(None, {"x": {"shape": (10,)}}, None, None)  # doctest: +SKIP
    >>> out.shape  # doctest: +SKIP
    (None, 10)
    """

    @functools.wraps(func)
    def wrapper(
        inputs: Any = None, inshapes: Any = None, outshapes: Any = None, params: Any = None
    ) -> Any:
        if inputs is None:
            keras = _keras()
            inputs = InputList(
                [
                    keras.Input(shape=tuple(spec["shape"]), name=name)
                    for name, spec in inshapes.items()
                ]
            )
        inputs, outputs = func(inputs, inshapes, outshapes, params)
        return inputs() if isinstance(inputs, InputList) else inputs, outputs

    return wrapper


def _activations(activation: Any, outshapes: Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(activation, Mapping):
        return {name: activation[name] for name in outshapes}
    return {name: activation for name in outshapes}


def _output_layers(make: Callable[[int, Any, str], Any]) -> Callable[[Any], Any]:
    def factory(activation: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(func)
            def wrapper(
                inputs: Any = None, inshapes: Any = None, outshapes: Any = None, params: Any = None
            ) -> Any:
                inputs, body = func(inputs, inshapes, outshapes, params)
                if not outshapes:
                    raise ValueError(
                        "an outputdense/outputconv template needs the output datasets "
                        "(outputs=) to size its output layers"
                    )
                acts = _activations(activation, outshapes)
                outputs = [
                    make(int(spec["shape"][-1]), acts[name], name)(body)
                    for name, spec in outshapes.items()
                ]
                return inputs, outputs

            return wrapper

        return decorate

    return factory


def _dense(units: int, activation: Any, name: str) -> Any:
    return _keras().layers.Dense(units, activation=activation, name=name)


def _conv(units: int, activation: Any, name: str) -> Any:
    return _keras().layers.Conv2D(units, (1, 1), activation=activation, name=name)


outputdense = _output_layers(_dense)
outputdense.__doc__ = """Janggu's ``@outputdense(activation)``: one ``Dense`` output layer per
output dataset, named after it, with as many units as its last axis (``activation``: a
name, a function, or a dict by output name)."""
outputdense.__name__ = "outputdense"

outputconv = _output_layers(_conv)
outputconv.__doc__ = """Janggu's ``@outputconv(activation)``: one 1x1 ``Conv2D`` output layer
per output dataset, named after it (for outputs of shape ``(length, 1, conditions)``)."""
outputconv.__name__ = "outputconv"
