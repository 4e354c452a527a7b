"""Build, train and inspect keras models from region views (Janggu's ``Janggu.create``).

A *template* is a plain function ``template(inputs, **params)`` that receives a dict
``{input name: keras Input tensor}`` and returns the model's outputs: a tensor (one
output), a list in the order of the outputs, or a dict ``{output name: tensor}``.
:func:`create_model` builds the ``Input`` layers from the per-example shapes of the views,
calls the template and wraps the result in a :class:`keras.Model` whose inputs and outputs
are named like the views, so that :class:`~genomarray.keras.GenomicSequence` batches (a
dict by name) feed it directly.

Per-example shapes (what :class:`~genomarray.keras.GenomicSequence` delivers):

=========================================  =========================================
view                                       keras ``Input`` shape
=========================================  =========================================
sequence codes ``(region, pos)`` with      ``(pos - order + 1, A ** order)``
``onehot_order=order``                     (``A`` = 4 for DNA, 20 for protein)
sequence codes without ``onehot_order``    ``(pos,)`` (the codes as numbers)
one-hot view ``(region, pos, base)``       ``(pos, base)``
coverage ``(region, pos, strand, cond.)``  ``(pos, strand, condition)``: kept 3-D, as
                                           stored; use ``keras.layers.Reshape((pos,
                                           strand * condition))`` in the template to
                                           feed a ``Conv1D``
labels ``(region, condition)``             ``(condition,)``
numpy array ``(n, ...)``                   ``(...)``
=========================================  =========================================

Decorators (Janggu's, as plain functions):

- :func:`outputdense` turns the template's hidden tensor into one ``Dense`` head per
  output, named like the output, with ``n_conditions`` units (reshaped to the output's
  per-example shape when that has several dims);
- :func:`inputlayer` marks a template that takes the ``Input`` tensors; it also lets the
  template be called on its own with a dict of shapes (the ``Input`` layers are then
  built for it). :func:`create_model` always passes ``Input`` tensors.

:func:`fit` trains with early stopping on the validation loss and logs to
``output_root()/models/<name>/training.log``; the trained model is saved to
``output_root()/models/<name>/model.keras``. :func:`predict_layer` returns the activations
of an inner layer.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from genomarray import encode, model
from genomarray.errors import InputError
from genomarray.paths import output_root

try:  # keras is an optional extra: the module imports (for doctests) without it
    import keras
except ImportError:  # pragma: no cover - exercised only without the extra
    keras = None

Shape = tuple[int, ...]
_INPUTLAYER = "_genomarray_inputlayer"
_AUTO = "auto"


def need_keras() -> Any:
    """Return the keras module, or raise naming the extra that installs it.

    Examples
    --------
    >>> need_keras().__name__
    'keras'
    """
    if keras is None:  # pragma: no cover
        raise ImportError("genomarray.keras needs keras 3: pip install 'genomarray[keras]'")
    return keras


# -- shapes ---------------------------------------------------------------------------------
def example_shape(arr: Any, onehot_order: int | None = None) -> Shape:
    """Return the per-example shape ``arr`` has in a batch (without the batch axis).

    Parameters
    ----------
    arr
        A region view, one-hot view, label array or numpy array (first axis: examples).
    onehot_order
        One-hot order applied to a sequence code view ``(region, pos)`` (as
        ``GenomicSequence(onehot_order=...)``); ignored for other arrays.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from genomarray import model
    >>> roi = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [10]})
    >>> codes = model.region_view(np.zeros((1, 10), np.uint8), roi)
    >>> example_shape(codes, onehot_order=2)
    (9, 16)
    >>> example_shape(np.zeros((5, 3)))
    (3,)
    """
    shape = tuple(int(n) for n in np.shape(arr)[1:])
    if onehot_order is None:
        return shape
    if isinstance(arr, xr.DataArray) and arr.ndim == 2 and arr.dims[0] == model.REGION:
        order = int(onehot_order)
        size = len(encode.letters(str(arr.attrs.get(model.ALPHABET, encode.DNA))))
        return (max(shape[0] - order + 1, 0), size**order)
    return shape


def _names(obj: Any, prefix: str) -> tuple[str, list[str], list[Any]]:
    """(structure, names, arrays) of a dict, list or single array."""
    if isinstance(obj, Mapping):
        if not obj:
            raise InputError(f"no {prefix}s given", source="create_model")
        return "dict", [str(k) for k in obj], list(obj.values())
    if isinstance(obj, list | tuple):
        if not obj:
            raise InputError(f"no {prefix}s given", source="create_model")
        return "list", [f"{prefix}_{i}" for i in range(len(obj))], list(obj)
    return "single", [prefix], [obj]


def _order_for(onehot_order: Any, key: Any, name: str) -> int | None:
    if onehot_order is None:
        return None
    if isinstance(onehot_order, Mapping):
        order = onehot_order.get(key, onehot_order.get(name))
        return None if order is None else int(order)
    return int(onehot_order)


def _specs_of_sequence(seq: Any) -> tuple[dict[str, Shape], dict[str, Shape], bool]:
    """Input and output shapes (and structure) of a GenomicSequence."""
    parts = seq._parts
    out: list[dict[str, Shape]] = []
    single_in = parts["x"][0] == "single"
    for part, prefix in (("x", "input"), ("y", "output")):
        if part not in parts:
            out.append({})
            continue
        structure, keys, arrays = parts[part]
        shapes: dict[str, Shape] = {}
        for i, (k, a) in enumerate(zip(keys, arrays, strict=True)):
            name = (
                str(k)
                if structure == "dict"
                else (prefix if structure == "single" else f"{prefix}_{i}")
            )
            shape = tuple(int(n) for n in a.data.shape[1:])
            if a.order is not None:
                size = len(encode.letters(a.alphabet))
                shape = (max(shape[0] - a.order + 1, 0), size**a.order)
            shapes[name] = shape
        out.append(shapes)
    return out[0], out[1], single_in


def _is_binary(arr: Any) -> bool:
    if isinstance(arr, xr.DataArray) and arr.attrs.get(model.MODE) == "binary":
        return True
    try:
        values = np.asarray(arr)
    except Exception:  # noqa: BLE001 - a lazy or odd array: do not guess
        return False
    if values.size == 0 or values.size > 10_000_000:
        return False
    values = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    return bool(np.isin(values, (0, 1)).all())


# -- decorators -----------------------------------------------------------------------------
def inputlayer(template: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a template as taking the keras ``Input`` tensors (Janggu's ``inputlayer``).

    :func:`create_model` always passes ``{name: Input tensor}``; the decorated template
    may also be called directly with ``{name: shape}``, and the ``Input`` layers are built
    for it.

    Examples
    --------
    >>> @inputlayer
    ... def template(inputs):
    ...     return keras.layers.GlobalMaxPooling1D()(inputs["dna"])  # doctest: +SKIP
    >>> template({"dna": (200, 4)}).shape  # doctest: +SKIP
    (None, 4)
    """

    @functools.wraps(template)
    def wrapper(inputs: Any, *args: Any, **params: Any) -> Any:
        if isinstance(inputs, Mapping) and all(
            isinstance(v, tuple | list) for v in inputs.values()
        ):
            k = need_keras()
            inputs = {
                name: k.Input(shape=tuple(shape), name=name) for name, shape in inputs.items()
            }
        return template(inputs, *args, **params)

    setattr(wrapper, _INPUTLAYER, True)
    return wrapper


class Heads:
    """A hidden tensor to be turned into one ``Dense`` head per output.

    Returned by templates decorated with :func:`outputdense`; :func:`create_model` builds
    the heads. ``activation="auto"`` picks sigmoid for binary labels and linear otherwise.
    """

    def __init__(self, hidden: Any, activation: str | None = "sigmoid") -> None:
        self.hidden = hidden
        self.activation = activation


def outputdense(
    activation: str | None = "sigmoid",
) -> Callable[[Callable[..., Any]], Callable[..., Heads]]:
    """Decorate a template so that its hidden tensor gets ``Dense`` output heads.

    Janggu's ``outputdense``: one ``Dense`` layer per output, named like the output, with
    as many units as the output has values per example (its ``condition`` count for
    labels ``(region, condition)``).

    Parameters
    ----------
    activation
        Activation of the heads: ``"sigmoid"`` (classification), ``"linear"``
        (regression), any keras activation, or ``"auto"`` (sigmoid where the labels are
        binary, linear otherwise).

    Examples
    --------
    >>> @outputdense("sigmoid")
    ... @inputlayer
    ... def template(inputs, filters=16):
    ...     x = keras.layers.Conv1D(filters, 7, activation="relu")(inputs["dna"])
    ...     return keras.layers.GlobalMaxPooling1D()(x)  # doctest: +SKIP
    >>> net = create_model(template, {"dna": x}, {"peaks": y},
    ...                    onehot_order=1)  # doctest: +SKIP
    """

    def decorate(template: Callable[..., Any]) -> Callable[..., Heads]:
        @functools.wraps(template)
        def wrapper(inputs: Any, *args: Any, **params: Any) -> Heads:
            return Heads(template(inputs, *args, **params), activation)

        if getattr(template, _INPUTLAYER, False):
            setattr(wrapper, _INPUTLAYER, True)
        return wrapper

    return decorate


def _head(hidden: Any, name: str, shape: Shape, activation: str | None) -> Any:
    k = need_keras()
    middle = tuple(hidden.shape[1:-1])
    if tuple(shape[: len(middle)]) != middle:
        raise InputError(
            f"the template's hidden tensor has shape {tuple(hidden.shape)}, which "
            f"does not lead to the output {name!r} of per-example shape {shape}",
            source="outputdense",
        )
    rest = shape[len(middle) :]
    units = int(math.prod(rest)) if rest else 1
    if len(rest) == 1:
        return k.layers.Dense(units, activation=activation, name=name)(hidden)
    x = k.layers.Dense(units, activation=activation, name=f"{name}_dense")(hidden)
    return k.layers.Reshape(shape, name=name)(x)


# -- the model ------------------------------------------------------------------------------
def create_model(
    template: Callable[..., Any],
    inputs: Any,
    outputs: Any = None,
    name: str | None = None,
    onehot_order: int | Mapping[Any, int] | None = None,
    **params: Any,
) -> Any:
    """Build a keras model from a template and the views it will be trained on.

    Parameters
    ----------
    template
        ``template(inputs, **params)``: ``inputs`` is ``{input name: keras Input}``; it
        returns the outputs (a tensor, a list in output order or a dict by output name)
        or, decorated with :func:`outputdense`, a hidden tensor that gets ``Dense`` heads.
    inputs
        A view, a list of views or a dict ``{name: view}`` (names as given to
        ``GenomicSequence``), or a :class:`~genomarray.keras.GenomicSequence`, whose
        inputs and outputs are then used (``outputs`` must be None).
    outputs
        The targets in the same forms; needed by :func:`outputdense` templates.
    name
        Model name (default: the template's name).
    onehot_order
        As for ``GenomicSequence``: the one-hot order of the sequence code views (an int
        or ``{name: order}``).
    **params
        Passed to the template.

    Returns
    -------
    keras.Model
        Inputs and outputs in the structure of ``inputs`` and ``outputs`` (a dict stays a
        dict keyed by the view names), not compiled.

    Examples
    --------
    >>> import keras  # doctest: +SKIP
    >>> @outputdense("sigmoid")
    ... def cnn(inputs, filters=16):
    ...     x = keras.layers.Conv1D(filters, 7, activation="relu")(inputs["dna"])
    ...     return keras.layers.GlobalMaxPooling1D()(x)  # doctest: +SKIP
    >>> net = create_model(cnn, {"dna": codes}, {"peaks": labels}, onehot_order=1,
    ...                    filters=8)  # doctest: +SKIP
    >>> net.compile("adam", "binary_crossentropy")  # doctest: +SKIP
    """
    k = need_keras()
    from genomarray.keras.dataset import GenomicSequence

    out_arrays: dict[str, Any] = {}
    if isinstance(inputs, GenomicSequence):
        if outputs is not None:
            raise InputError(
                "outputs are taken from the GenomicSequence; pass None", source="create_model"
            )
        in_shapes, out_shapes, _ = _specs_of_sequence(inputs)
        in_struct = inputs._parts["x"][0]
        out_struct = inputs._parts["y"][0] if "y" in inputs._parts else "dict"
        if "y" in inputs._parts:
            ys = inputs._parts["y"][2]
            out_arrays = {n: a.data for n, a in zip(out_shapes, ys, strict=True)}
    else:
        in_struct, in_names, in_arrays = _names(inputs, "input")
        keys = list(inputs) if in_struct == "dict" else list(range(len(in_names)))
        in_shapes = {
            n: example_shape(a, _order_for(onehot_order, key, n))
            for key, n, a in zip(keys, in_names, in_arrays, strict=True)
        }
        out_shapes = {}
        out_struct = "dict"
        if outputs is not None:
            out_struct, out_names, arrays = _names(outputs, "output")
            out_shapes = {n: example_shape(a) for n, a in zip(out_names, arrays, strict=True)}
            out_arrays = dict(zip(out_names, arrays, strict=True))

    tensors = {n: k.Input(shape=s, name=n) for n, s in in_shapes.items()}
    result = template(dict(tensors), **params)

    if isinstance(result, Heads):
        if not out_shapes:
            raise InputError(
                "an outputdense template needs the outputs (their shapes)", source="create_model"
            )
        heads = {}
        for n, shape in out_shapes.items():
            act = result.activation
            if act == _AUTO:
                act = "sigmoid" if _is_binary(out_arrays.get(n)) else "linear"
            heads[n] = _head(result.hidden, n, shape, act)
        result = heads
    elif not isinstance(result, Mapping):
        given = list(result) if isinstance(result, list | tuple) else [result]
        names = list(out_shapes) or [f"output_{i}" for i in range(len(given))]
        if len(given) != len(names):
            raise InputError(
                f"the template returned {len(given)} outputs for {len(names)} output views",
                source="create_model",
            )
        result = dict(zip(names, given, strict=True))
    result = {n: _named(t, n) for n, t in result.items()}

    model_inputs: Any = (
        tensors
        if in_struct == "dict"
        else next(iter(tensors.values()))
        if in_struct == "single"
        else list(tensors.values())
    )
    model_outputs: Any = (
        result
        if out_struct == "dict"
        else next(iter(result.values()))
        if out_struct == "single" and len(result) == 1
        else list(result.values())
    )
    return k.Model(
        model_inputs, model_outputs, name=name or getattr(template, "__name__", None) or "model"
    )


def _named(tensor: Any, name: str) -> Any:
    """``tensor``, passed through an ``Identity`` layer called ``name`` if its layer is not."""
    k = need_keras()
    history = getattr(tensor, "_keras_history", None)
    if history is not None and history[0].name == name:
        return tensor
    return k.layers.Identity(name=name)(tensor)


# -- training -------------------------------------------------------------------------------
def model_dir(name: str) -> Path:
    """Return ``output_root()/models/<name>`` (created), where :func:`fit` writes.

    Examples
    --------
    >>> model_dir("cnn").name
    'cnn'
    """
    if not name or "/" in name or name in (".", ".."):
        raise InputError(f"not a usable model name: {name!r}", source="model_dir")
    path = output_root() / "models" / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def fit(
    net: Any,
    train: Any,
    validation: Any = None,
    epochs: int = 10,
    patience: int = 5,
    name: str | None = None,
    callbacks: list[Any] | None = None,
    verbose: int | str = 0,
    warmup: int = 0,
    **kwargs: Any,
) -> Any:
    """Train a compiled model with early stopping and a CSV log, then save it.

    Parameters
    ----------
    net
        A compiled keras model.
    train
        A :class:`~genomarray.keras.GenomicSequence` (or any ``PyDataset``), or an
        ``(x, y)`` tuple of arrays.
    validation
        Validation data in the same forms, or None (early stopping then watches the
        training loss).
    epochs, patience
        At most ``epochs`` epochs; stop after ``patience`` epochs without improvement of
        the validation loss and restore the best weights.
    name
        Folder name under ``output_root()/models`` (default: the model's name).
    callbacks
        More keras callbacks, run after the early stopping and the logger.
    verbose
        Passed to ``model.fit``.
    warmup
        Epochs that early stopping ignores (keras' ``start_from_epoch``): neither counted
        against ``patience`` nor kept as best. On small data a model that has not found
        its features yet can have a lower validation loss in epoch 1 than for many
        epochs after it, and would otherwise be stopped and restored there.
    **kwargs
        Passed to ``model.fit`` (``class_weight``, ...).

    Returns
    -------
    keras.callbacks.History
        With ``history.params["model_path"]`` and ``history.params["log_path"]`` set.

    Examples
    --------
    >>> net.compile("adam", "binary_crossentropy")  # doctest: +SKIP
    >>> history = fit(net, train_seq, validation=val_seq, epochs=20)  # doctest: +SKIP
    >>> history.params["model_path"]  # doctest: +SKIP
    PosixPath('.../models/cnn/model.keras')
    """
    k = need_keras()
    if getattr(net, "optimizer", None) is None or not getattr(net, "compiled", True):
        raise InputError(
            "compile the model before fit (net.compile(optimizer, loss))", source="fit"
        )
    folder = model_dir(name or net.name)
    log_path = folder / "training.log"
    model_path = folder / "model.keras"
    monitor = "val_loss" if validation is not None else "loss"
    cbs = [
        k.callbacks.EarlyStopping(
            monitor=monitor,
            patience=int(patience),
            restore_best_weights=True,
            start_from_epoch=int(warmup),
        ),
        k.callbacks.CSVLogger(str(log_path)),
        *(callbacks or []),
    ]
    if isinstance(train, tuple) and len(train) == 2:
        x, y = train
    else:
        x, y = train, None
    history = net.fit(
        x,
        y,
        validation_data=validation,
        epochs=int(epochs),
        callbacks=cbs,
        verbose=verbose,
        **kwargs,
    )
    net.save(str(model_path))
    history.params = {**(history.params or {}), "model_path": model_path, "log_path": log_path}
    return history


def predict_layer(net: Any, data: Any, layer_name: str, **kwargs: Any) -> Any:
    """Return the output of the layer ``layer_name`` of ``net`` on ``data``.

    Parameters
    ----------
    net
        A keras functional model (as :func:`create_model` builds).
    data
        Inputs as for ``net.predict``: a ``GenomicSequence`` or arrays.
    layer_name
        Name of an inner layer (``net.summary()`` lists them).
    **kwargs
        Passed to ``predict`` (``batch_size``, ...).

    Returns
    -------
    numpy.ndarray
        One row per example.

    Examples
    --------
    >>> conv = predict_layer(net, test_seq, "conv")  # doctest: +SKIP
    >>> conv.shape  # doctest: +SKIP
    (100, 194, 16)
    """
    k = need_keras()
    try:
        layer = net.get_layer(layer_name)
    except ValueError as err:
        names = [lay.name for lay in net.layers]
        raise InputError(
            f"no layer {layer_name!r} in model {net.name!r}; layers: {names}",
            source="predict_layer",
        ) from err
    sub = k.Model(net.input, layer.output, name=f"{net.name}_{layer_name}")
    kwargs.setdefault("verbose", 0)
    return sub.predict(data, **kwargs)


__all__ = [
    "Heads",
    "create_model",
    "example_shape",
    "fit",
    "inputlayer",
    "model_dir",
    "outputdense",
    "predict_layer",
]
