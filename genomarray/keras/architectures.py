"""Published architectures of the Janggu paper, built from the views they will be fed.

Kopp et al. (2020), "Deep learning for genomics using Janggu", Nat Commun 11:3488, trains
published and new models on Janggu datasets. This module rebuilds them for keras 3:

- :func:`deepsea`: both-strand conv 320x8 relu, max-pool 4, dropout 0.2; conv 480x8 relu,
  max-pool 4, dropout 0.2; conv 960x8 relu, dropout 0.5; flatten; dense 925 relu; sigmoid
  outputs (919 in the paper). Zhou & Troyanskaya (2015), Nat Methods 12:931.
- :func:`danq`: both-strand conv 320x26 relu, max-pool 13 (stride 13), dropout 0.2;
  bidirectional LSTM 320 per direction (all steps), dropout 0.5; flatten; dense 925 relu;
  sigmoid outputs. Quang & Xie (2016), NAR 44:e107.
- :func:`jund_dna`: [input dropout]; both-strand conv 10x11 relu; max-pool 30; batch norm;
  conv 8x3 relu; global max-pool; batch norm; sigmoid output (JunD peaks).
- :func:`jund_dnase`: conv 10x(5 bins x strands) relu on 50 bp DNase coverage bins;
  max-pool 2; conv 5x3 relu; global max-pool; batch norm; sigmoid output.
- :func:`jund_joint`: :func:`join_models` of the two above: their top hidden layers (the
  batch norms) concatenated under a new sigmoid output.
- :func:`cage_dna`: [input dropout]; both-strand conv 10x15 relu; max-pool 5; batch norm;
  conv 8x5 relu; global max-pool; batch norm; linear output (CAGE at the TSS).
- :func:`cage_chromatin`: each chromatin summary (DNase, H3K4me3 summed at the promoter)
  flattened, concatenated, batch norm; linear output.
- :func:`cage_joint`: :func:`join_models` of the two above, linear output.

Sources. DeepSEA and DanQ follow their papers and the Janggu authors' re-implementation
(``github.com/wkopp/janggu_usecases``, ``02_deepsea_danq_prediction/genomic_models.py``);
the JunD and CAGE models follow the same repository (``01_jund_prediction/model_utils.py``,
``dna_only.py``, ``dnase_only.py``, ``dnase_dna_model.py``,
``03_cage_prediction/cage_prediction.py``): those are the sizes the authors' scripts used
for the paper; we did not check them against the supplement's text, so read them as our
reading of the paper. Every size is a parameter.

Deviations, all deliberate and documented:

- **Order-aware first kernel.** ``kernel_size`` of the first (both-strand) convolution is
  given in *bases*; on an order-``k`` one-hot (``4**k`` channels, ``pos - k + 1`` k-mers)
  the kernel is ``kernel_size - k + 1`` k-mers long (:func:`kernel_for_order`), so it
  spans the same bases at every order and the layers after it see the same lengths. The
  paper's scripts kept the kernel length in k-mers (pass ``kernel_in="kmers"`` for that).
- DeepSEA's L2 / L1 / max-norm regularisation is not included (Janggu's re-implementation
  left it out too).
- The paper's optimizer is ``Adam(amsgrad=True, clipvalue=0.5, clipnorm=1.0)``; keras 3
  accepts one clipping option only, so :func:`paper_optimizer` clips the norm at 1.0.
- Janggu's ``DnaConv2D`` is :func:`~genomarray.keras.layers.BothStrandConv1D` with
  ``merge="max"``: the same weights scan both strands, the maximum is kept per position.

Every builder takes its inputs as region views (a one-hot view from
``.janggu.onehot(order=k)``, a code view ``(region, pos)`` plus ``onehot_order=k``, a
coverage view), a per-example shape tuple, or a one-item dict ``{input name: view}``; and
its labels as a label view ``(region, condition)``, an int or ``{output name: view}``. The
models have dict inputs and outputs keyed by those names (defaults ``"dna"``, ``"dnase"``,
``"labels"``, ``"peaks"``, ``"cage"``), so ``GenomicSequence({"dna": x}, {"labels": y})``
feeds them as they are. They are compiled with :func:`compile_like_paper` unless
``compile=False``.

Examples
--------
>>> kernel_for_order(11, 3)
9
>>> RECIPES["jund"].validation_chroms, RECIPES["jund"].test_chroms
(('chr2',), ('chr3',))
>>> net = danq(x_train.janggu.onehot(order=3), y_train)  # doctest: +SKIP
>>> small = danq(x_train, y_train, onehot_order=1, filters=32, lstm_units=16,
...              dense_units=32)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from genomarray.errors import InputError
from genomarray.keras import models as _models

try:  # keras is an optional extra: the module imports (for doctests) without it
    import keras
except ImportError:  # pragma: no cover - exercised only without the extra
    keras = None

Shape = tuple[int, ...]

__all__ = [
    "RECIPES",
    "PaperRecipe",
    "cage_chromatin",
    "cage_dna",
    "cage_joint",
    "compile_like_paper",
    "danq",
    "deepsea",
    "fit_like_paper",
    "input_shape",
    "join_models",
    "jund_dna",
    "jund_dnase",
    "jund_joint",
    "kernel_for_order",
    "n_outputs",
    "paper_optimizer",
    "split_like_paper",
    "top_hidden",
]


def _need_keras() -> Any:
    if keras is None:  # pragma: no cover
        raise ImportError(
            "genomarray.keras.architectures needs keras 3: pip install 'genomarray[keras]'"
        )
    return keras


# -- the training recipe --------------------------------------------------------------------
@dataclass(frozen=True)
class PaperRecipe:
    """How the Janggu paper trained one family of models.

    Attributes
    ----------
    loss
        ``"binary_crossentropy"`` (classification) or ``"mae"`` (CAGE regression).
    batch_size, epochs, patience
        Batch size, maximum epochs and early-stopping patience (epochs without a better
        validation loss; the best weights are restored).
    validation_chroms, test_chroms
        Held-out chromosomes (see :func:`split_like_paper`).
    source
        Where the values come from.

    Examples
    --------
    >>> RECIPES["cage"].loss, RECIPES["cage"].patience
    ('mae', 5)
    """

    loss: str
    batch_size: int
    epochs: int
    patience: int
    validation_chroms: tuple[str, ...]
    test_chroms: tuple[str, ...]
    source: str


RECIPES: dict[str, PaperRecipe] = {
    "deepsea": PaperRecipe(
        "binary_crossentropy",
        128,
        30,
        5,
        ("chr7",),
        ("chr8", "chr9"),
        "janggu_usecases run_genomics_model.py; DeepSEA's split (chr8/chr9 test, a held-out "
        "part of the training set, here chr7, for validation)",
    ),
    "danq": PaperRecipe(
        "binary_crossentropy",
        128,
        30,
        5,
        ("chr7",),
        ("chr8", "chr9"),
        "as deepsea (DanQ used DeepSEA's data set)",
    ),
    "jund": PaperRecipe(
        "binary_crossentropy",
        64,
        30,
        5,
        ("chr2",),
        ("chr3",),
        "janggu_usecases 01_jund_prediction: train chr1, validate chr2, test chr3; "
        "the joint model ran up to 100 epochs",
    ),
    "cage": PaperRecipe(
        "mae",
        64,
        100,
        5,
        ("chr2",),
        ("chr1",),
        "janggu_usecases 03_cage_prediction: test chr1, validation chromosome cycled over "
        "chr2..chr22",
    ),
}
"""The paper's recipes, by model family (``deepsea``, ``danq``, ``jund``, ``cage``)."""


def _recipe(recipe: str | PaperRecipe) -> PaperRecipe:
    if isinstance(recipe, PaperRecipe):
        return recipe
    if recipe not in RECIPES:
        raise InputError(
            f"unknown recipe {recipe!r}; one of {sorted(RECIPES)}", source="architectures"
        )
    return RECIPES[recipe]


def paper_optimizer(learning_rate: float = 1e-3, clipnorm: float | None = 1.0) -> Any:
    """Return the paper's optimizer: Adam with the AMSGrad variant, gradient norm clipped.

    Parameters
    ----------
    learning_rate
        Keras' default, as in the paper.
    clipnorm
        Gradient norm clipping (the paper also clipped values at 0.5; keras 3 allows one
        clipping option only). None: no clipping.

    Examples
    --------
    >>> opt = paper_optimizer()  # doctest: +SKIP
    >>> opt.amsgrad, opt.clipnorm  # doctest: +SKIP
    (True, 1.0)
    """
    k = _need_keras()
    return k.optimizers.Adam(learning_rate=learning_rate, amsgrad=True, clipnorm=clipnorm)


def _output_layers(net: Any) -> dict[str, Any]:
    """``{output key: layer}``: the keys of a dict-output model (what ``fit`` and ``compile``
    match losses on), else the output layers' names."""
    structure = getattr(net, "_outputs_struct", None)
    if structure is None:
        with contextlib.suppress(Exception):
            structure = net.output
    if isinstance(structure, Mapping):
        return {str(key): t._keras_history.operation for key, t in structure.items()}
    outs = net.outputs
    names = list(net.output_names) if hasattr(net, "output_names") else []
    layers = [t._keras_history.operation for t in outs]
    if len(names) != len(layers):
        names = [lay.name for lay in layers]
    return dict(zip(names, layers, strict=True))


def _head_layer(layer: Any) -> Any:
    """The layer before any Identity / Reshape naming layers after an output head."""
    k = _need_keras()
    while isinstance(layer, k.layers.Identity | k.layers.Reshape):
        layer = layer.input._keras_history.operation
    return layer


def _loss_for(layer: Any) -> str:
    act = getattr(_head_layer(layer), "activation", None)
    act_name = getattr(act, "__name__", str(act))
    if act_name == "sigmoid":
        return "binary_crossentropy"
    if act_name == "softmax":
        return "categorical_crossentropy"
    return "mae"


def compile_like_paper(
    net: Any,
    loss: str | Mapping[str, str] | None = None,
    learning_rate: float = 1e-3,
    metrics: Any = None,
    clipnorm: float | None = 1.0,
) -> Any:
    """Compile ``net`` as the paper did: AMSGrad, and BCE for sigmoid / MAE for linear heads.

    Parameters
    ----------
    net
        A keras model.
    loss
        A loss for every output, a dict by output name, or None: binary cross-entropy for
        sigmoid outputs (classification), categorical cross-entropy for softmax, mean
        absolute error otherwise (the CAGE regression).
    learning_rate, clipnorm
        See :func:`paper_optimizer`.
    metrics
        Passed to ``compile``.

    Returns
    -------
    keras.Model
        ``net``, compiled.

    Examples
    --------
    >>> net = compile_like_paper(jund_dna((500, 4), 1, compile=False))  # doctest: +SKIP
    >>> net.loss  # doctest: +SKIP
    {'peaks': 'binary_crossentropy'}
    """
    heads = _output_layers(net)
    if loss is None:
        loss = {name: _loss_for(layer) for name, layer in heads.items()}
    net.compile(optimizer=paper_optimizer(learning_rate, clipnorm), loss=loss, metrics=metrics)
    return net


def _chroms(names: str | Sequence[str]) -> tuple[str, ...]:
    """One chromosome name or several (a bare string is one name, never its letters)."""
    return (names,) if isinstance(names, str) else tuple(str(n) for n in names)


def split_like_paper(
    arrays: Any,
    recipe: str | PaperRecipe = "jund",
    validation_chroms: Sequence[str] | None = None,
    test_chroms: Sequence[str] | None = None,
) -> tuple[Any, Any, Any]:
    """Split views into training, validation and test sets by held-out chromosomes.

    Parameters
    ----------
    arrays
        Views as for :func:`genomarray.split_train_test` (one, a list, a dict, nested).
    recipe
        A name of :data:`RECIPES` or a :class:`PaperRecipe`: its chromosomes are used
        unless given explicitly.
    validation_chroms, test_chroms
        Override the recipe's chromosomes.

    Returns
    -------
    tuple
        ``(train, validation, test)``, each with the structure of ``arrays``.

    Examples
    --------
    >>> import genomarray as ga
    >>> dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    >>> x = dna.janggu.view(ga.tile(ga.example_path("roi.bed"), binsize=200))
    >>> train, val, test = split_like_paper(x, "jund")
    >>> sorted(set(train.chrom.values)), sorted(set(val.chrom.values))
    (['chr1'], ['chr2'])
    """
    from genomarray.transforms.split import split_train_test

    rec = _recipe(recipe)
    val = _chroms(validation_chroms) if validation_chroms is not None else rec.validation_chroms
    test = _chroms(test_chroms) if test_chroms is not None else rec.test_chroms
    rest, test_set = split_train_test(arrays, list(test))
    train_set, val_set = split_train_test(rest, list(val))
    return train_set, val_set, test_set


def fit_like_paper(
    net: Any, train: Any, validation: Any = None, recipe: str | PaperRecipe = "jund", **kwargs: Any
) -> Any:
    """Train with the recipe's epochs and early stopping (:func:`genomarray.keras.fit`).

    Parameters
    ----------
    net
        A compiled model (see :func:`compile_like_paper`).
    train, validation
        As for :func:`genomarray.keras.fit`; build ``GenomicSequence`` objects with the
        recipe's ``batch_size``.
    recipe
        A name of :data:`RECIPES` or a :class:`PaperRecipe`.
    **kwargs
        Passed to :func:`genomarray.keras.fit` (``epochs`` and ``patience`` override the
        recipe's; ``name``, ``callbacks``, ``verbose``, ...).

    Returns
    -------
    keras.callbacks.History
        As :func:`genomarray.keras.fit` returns it.

    Examples
    --------
    >>> history = fit_like_paper(net, train_seq, val_seq, "jund")  # doctest: +SKIP
    """
    rec = _recipe(recipe)
    kwargs.setdefault("epochs", rec.epochs)
    kwargs.setdefault("patience", rec.patience)
    return _models.fit(net, train, validation=validation, **kwargs)


# -- shapes ---------------------------------------------------------------------------------
def _is_shape(x: Any) -> bool:
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
    if _is_shape(x):
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


def _named(x: Any, default: str) -> tuple[str, Any]:
    if isinstance(x, Mapping):
        if len(x) != 1:
            raise InputError(
                f"expected one {{name: view}} entry, got {len(x)}: {list(x)}",
                source="architectures",
            )
        ((key, value),) = x.items()
        return str(key), value
    return default, x


def _order_of(shape: Shape, what: str) -> int:
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


def _dna_input(dna: Any, onehot_order: int | None, default: str, what: str) -> tuple[Any, Any, int]:
    """(name -> Input tensor dict, Input tensor, order) of a one-hot DNA input."""
    k = _need_keras()
    name, value = _named(dna, default)
    shape = input_shape(value, onehot_order)
    order = _order_of(shape, what)
    tensor = k.Input(shape=shape, name=name)
    return {name: tensor}, tensor, order


def _first_conv(
    x: Any, filters: int, kernel_bases: int, order: int, kernel_in: str, merge: str, name: str
) -> Any:
    from genomarray.keras.layers import BothStrandConv1D

    if kernel_in not in ("bases", "kmers"):
        raise InputError(
            f"kernel_in must be 'bases' or 'kmers', got {kernel_in!r}", source="architectures"
        )
    kernel = kernel_for_order(kernel_bases, order) if kernel_in == "bases" else kernel_bases
    _check_length(x, kernel, name)
    return BothStrandConv1D(
        filters, kernel, merge=merge, order=order, activation="relu", name=name
    )(x)


def _check_length(x: Any, need: int, layer: str) -> None:
    length = x.shape[1]
    if length is not None and length < need:
        raise InputError(
            f"the input of layer {layer!r} has {length} positions, fewer than "
            f"its window of {need}; use a longer context or smaller sizes",
            source="architectures",
        )


def _pool(x: Any, size: int, name: str) -> Any:
    k = _need_keras()
    _check_length(x, size, name)
    return k.layers.MaxPooling1D(size, strides=size, name=name)(x)


def _conv(x: Any, filters: int, kernel: int, name: str) -> Any:
    k = _need_keras()
    _check_length(x, kernel, name)
    return k.layers.Conv1D(filters, kernel, activation="relu", name=name)(x)


def _finish(
    inputs: dict[str, Any],
    hidden: Any,
    labels: Any,
    default_out: str,
    activation: str,
    name: str,
    compile: bool,
) -> Any:
    k = _need_keras()
    out_name, value = _named(labels, default_out)
    if out_name in inputs:
        raise InputError(
            f"the output and an input are both called {out_name!r}", source="architectures"
        )
    out = _output(hidden, value, out_name, activation)
    net = k.Model(inputs, {out_name: out}, name=name)
    return compile_like_paper(net) if compile else net


def _output(hidden: Any, labels: Any, out_name: str, activation: str | None) -> Any:
    """The output layer for ``labels``: ``Dense`` named ``out_name``, reshaped to the label's
    per-example shape when it has more than one axis (e.g. ``(pos, strand, condition)`` of a
    collapsed coverage view), so the loss compares like with like."""
    k = _need_keras()
    units = n_outputs(labels)
    shape = None if isinstance(labels, int | np.integer) else input_shape(labels)
    if shape is None or len(shape) <= 1:
        return k.layers.Dense(units, activation=activation, name=out_name)(hidden)
    dense = k.layers.Dense(units, activation=activation, name=f"{out_name}_dense")(hidden)
    return k.layers.Reshape(shape, name=out_name)(dense)


def _pair(value: Any, n: int, what: str) -> tuple[Any, ...]:
    if isinstance(value, list | tuple):
        if len(value) != n:
            raise InputError(f"{what} needs {n} values, got {len(value)}", source="architectures")
        return tuple(value)
    return (value,) * n


# -- DeepSEA and DanQ -----------------------------------------------------------------------
def deepsea(
    dna: Any,
    labels: Any = 919,
    *,
    onehot_order: int | None = None,
    filters: Sequence[int] = (320, 480, 960),
    kernel_size: int | Sequence[int] = 8,
    pool_size: int = 4,
    dropout: Sequence[float] = (0.2, 0.2, 0.5),
    dense_units: int = 925,
    merge: str = "max",
    kernel_in: str = "bases",
    name: str = "deepsea",
    compile: bool = True,
) -> Any:
    """DeepSEA (Zhou & Troyanskaya 2015) with a both-strand first convolution.

    Three blocks of convolution (relu, valid), max-pooling (the first two) and dropout,
    then flatten, a dense relu layer and sigmoid outputs, one per label condition.

    Parameters
    ----------
    dna
        One-hot view of any order, code view (with ``onehot_order``), shape
        ``(length, 4**order)``, or ``{input name: view}`` (default name ``"dna"``).
    labels
        Label view ``(region, condition)``, int, or ``{output name: view}`` (default
        ``"labels"``). 919 chromatin features in the paper.
    onehot_order
        One-hot order for a code view.
    filters, kernel_size, pool_size, dropout, dense_units
        Sizes; defaults are the published ones. ``kernel_size`` of the first layer is in
        bases (see ``kernel_in``); one int applies to all three convolutions.
    merge
        How :class:`~genomarray.keras.layers.BothStrands` merges the two strands.
    kernel_in
        ``"bases"``: the first kernel spans ``kernel_size`` bases at every order;
        ``"kmers"``: ``kernel_size`` k-mers (the paper's scripts).
    name
        Model name and prefix of its layer names.
    compile
        Compile with :func:`compile_like_paper`.

    Returns
    -------
    keras.Model
        Dict inputs and outputs keyed by the input and output names.

    Examples
    --------
    >>> net = deepsea((1000, 4), 919)  # doctest: +SKIP
    >>> net.count_params()  # doctest: +SKIP
    52843119
    >>> small = deepsea(x.janggu.onehot(order=2), y, filters=(16, 16, 16),
    ...                 dense_units=32)  # doctest: +SKIP
    """
    k = _need_keras()
    inputs, x, order = _dna_input(dna, onehot_order, "dna", "deepsea")
    filters = _pair(filters, 3, "filters")
    kernels = _pair(kernel_size, 3, "kernel_size")
    drops = _pair(dropout, 3, "dropout")
    x = _first_conv(x, filters[0], kernels[0], order, kernel_in, merge, f"{name}_conv1")
    x = _pool(x, pool_size, f"{name}_pool1")
    x = k.layers.Dropout(drops[0], name=f"{name}_dropout1")(x)
    x = _conv(x, filters[1], kernels[1], f"{name}_conv2")
    x = _pool(x, pool_size, f"{name}_pool2")
    x = k.layers.Dropout(drops[1], name=f"{name}_dropout2")(x)
    x = _conv(x, filters[2], kernels[2], f"{name}_conv3")
    x = k.layers.Dropout(drops[2], name=f"{name}_dropout3")(x)
    x = k.layers.Flatten(name=f"{name}_flatten")(x)
    x = k.layers.Dense(dense_units, activation="relu", name=f"{name}_dense")(x)
    return _finish(inputs, x, labels, "labels", "sigmoid", name, compile)


def danq(
    dna: Any,
    labels: Any = 919,
    *,
    onehot_order: int | None = None,
    filters: int = 320,
    kernel_size: int = 26,
    pool_size: int = 13,
    conv_dropout: float = 0.2,
    lstm_units: int = 320,
    lstm_dropout: float = 0.5,
    dense_units: int = 925,
    merge: str = "max",
    kernel_in: str = "bases",
    name: str = "danq",
    compile: bool = True,
) -> Any:
    """DanQ (Quang & Xie 2016) with a both-strand first convolution.

    Convolution (relu, valid), max-pooling (``pool_size``, same stride), dropout, a
    bidirectional LSTM returning every step (``lstm_units`` per direction, outputs
    concatenated), dropout, flatten, a dense relu layer and sigmoid outputs.

    Parameters
    ----------
    dna, labels, onehot_order, merge, kernel_in, name, compile
        As for :func:`deepsea`.
    filters, kernel_size, pool_size, conv_dropout, lstm_units, lstm_dropout, dense_units
        Sizes; defaults are the published ones.

    Returns
    -------
    keras.Model
        Dict inputs and outputs keyed by the input and output names.

    Examples
    --------
    >>> net = danq((1000, 4), 919)  # doctest: +SKIP
    >>> net.count_params()  # doctest: +SKIP
    46926479
    >>> small = danq(x, y, onehot_order=3, filters=32, lstm_units=16,
    ...              dense_units=32)  # doctest: +SKIP
    """
    k = _need_keras()
    inputs, x, order = _dna_input(dna, onehot_order, "dna", "danq")
    x = _first_conv(x, filters, kernel_size, order, kernel_in, merge, f"{name}_conv1")
    x = _pool(x, pool_size, f"{name}_pool1")
    x = k.layers.Dropout(conv_dropout, name=f"{name}_dropout1")(x)
    x = k.layers.Bidirectional(
        k.layers.LSTM(lstm_units, return_sequences=True), name=f"{name}_bilstm"
    )(x)
    x = k.layers.Dropout(lstm_dropout, name=f"{name}_dropout2")(x)
    x = k.layers.Flatten(name=f"{name}_flatten")(x)
    x = k.layers.Dense(dense_units, activation="relu", name=f"{name}_dense")(x)
    return _finish(inputs, x, labels, "labels", "sigmoid", name, compile)


# -- the JunD and CAGE sequence models ------------------------------------------------------
def _motif_cnn(
    dna: Any,
    onehot_order: int | None,
    input_dropout: float,
    filters: int,
    kernel_size: int,
    pool_size: int,
    filters2: int,
    kernel_size2: int,
    merge: str,
    kernel_in: str,
    name: str,
) -> tuple[dict[str, Any], Any]:
    """The paper's two-layer motif CNN, up to its top hidden layer (a batch norm)."""
    k = _need_keras()
    inputs, x, order = _dna_input(dna, onehot_order, "dna", name)
    if input_dropout:
        x = k.layers.Dropout(input_dropout, name=f"{name}_input_dropout")(x)
    x = _first_conv(x, filters, kernel_size, order, kernel_in, merge, f"{name}_conv1")
    x = _pool(x, pool_size, f"{name}_pool1")
    x = k.layers.BatchNormalization(name=f"{name}_batchnorm1")(x)
    x = _conv(x, filters2, kernel_size2, f"{name}_conv2")
    x = k.layers.GlobalMaxPooling1D(name=f"{name}_global_max")(x)
    x = k.layers.BatchNormalization(name=f"{name}_batchnorm2")(x)
    return inputs, x


def jund_dna(
    dna: Any,
    labels: Any = 1,
    *,
    onehot_order: int | None = None,
    input_dropout: float = 0.0,
    filters: int = 10,
    kernel_size: int = 11,
    pool_size: int = 30,
    filters2: int = 8,
    kernel_size2: int = 3,
    merge: str = "max",
    kernel_in: str = "bases",
    name: str = "jund_dna",
    compile: bool = True,
) -> Any:
    """The paper's JunD binding model from DNA sequence (order 1-3).

    [dropout on the one-hot]; both-strand convolution (``filters`` x ``kernel_size`` bases,
    relu); max-pooling ``pool_size``; batch norm; convolution ``filters2`` x
    ``kernel_size2`` relu; global max-pooling over positions; batch norm (the top hidden
    layer); sigmoid output. The paper used 500 bp windows (200 bp bins with 150 bp flanks)
    and input dropout 0 or 0.2.

    Parameters
    ----------
    dna, labels, onehot_order, merge, kernel_in, name, compile
        As for :func:`deepsea` (default output name ``"peaks"``).
    input_dropout, filters, kernel_size, pool_size, filters2, kernel_size2
        Sizes (the paper's defaults).

    Returns
    -------
    keras.Model
        Dict inputs and outputs keyed by the input and output names.

    Examples
    --------
    >>> net = jund_dna(x_dna, y, onehot_order=3, input_dropout=0.2)  # doctest: +SKIP
    """
    inputs, x = _motif_cnn(
        dna,
        onehot_order,
        input_dropout,
        filters,
        kernel_size,
        pool_size,
        filters2,
        kernel_size2,
        merge,
        kernel_in,
        name,
    )
    return _finish(inputs, x, labels, "peaks", "sigmoid", name, compile)


def jund_dnase(
    dnase: Any,
    labels: Any = 1,
    *,
    filters: int = 10,
    kernel_size: int = 5,
    pool_size: int = 2,
    filters2: int = 5,
    kernel_size2: int = 3,
    name: str = "jund_dnase",
    compile: bool = True,
) -> Any:
    """The paper's JunD binding model from DNase-seq coverage in 50 bp bins with flanks.

    Input: a coverage view ``(region, pos, strand, condition)`` (e.g.
    ``reads.janggu.view(ga.tile(roi, 200, flank=450)).janggu.collapse(50, how="sum")
    .janggu.normalize(["zscorelog"])``: 22 bins x 2 strands x samples). A ``(pos,
    condition)`` shape is read as one strand. Layers: convolution of ``filters`` kernels
    spanning ``kernel_size`` bins and all strands, the samples as channels (relu);
    max-pooling ``pool_size`` bins; convolution ``filters2`` x ``kernel_size2`` (relu);
    global max-pooling; batch norm (the top hidden layer); sigmoid output.

    Parameters
    ----------
    dnase
        Coverage view, shape tuple or ``{input name: view}`` (default ``"dnase"``).
    labels, name, compile
        As for :func:`jund_dna`.
    filters, kernel_size, pool_size, filters2, kernel_size2
        Sizes (the paper's defaults).

    Returns
    -------
    keras.Model
        Dict inputs and outputs keyed by the input and output names.

    Examples
    --------
    >>> net = jund_dnase(cov, y)  # doctest: +SKIP
    """
    k = _need_keras()
    in_name, value = _named(dnase, "dnase")
    shape = input_shape(value)
    inp = k.Input(shape=shape, name=in_name)
    x = inp
    if len(shape) == 2:
        x = k.layers.Reshape((shape[0], 1, shape[1]), name=f"{name}_one_strand")(x)
    elif len(shape) != 3:
        raise InputError(
            f"jund_dnase: expected a coverage shape (pos, strand, condition), got {shape}",
            source="architectures",
        )
    strands = int(x.shape[2])
    _check_length(x, kernel_size, f"{name}_conv1")
    x = k.layers.Conv2D(filters, (kernel_size, strands), activation="relu", name=f"{name}_conv1")(x)
    _check_length(x, pool_size, f"{name}_pool1")
    x = k.layers.MaxPooling2D((pool_size, 1), name=f"{name}_pool1")(x)
    _check_length(x, kernel_size2, f"{name}_conv2")
    x = k.layers.Conv2D(filters2, (kernel_size2, 1), activation="relu", name=f"{name}_conv2")(x)
    x = k.layers.GlobalMaxPooling2D(name=f"{name}_global_max")(x)
    x = k.layers.BatchNormalization(name=f"{name}_batchnorm")(x)
    return _finish({in_name: inp}, x, labels, "peaks", "sigmoid", name, compile)


def jund_joint(
    dna: Any,
    dnase: Any,
    labels: Any = 1,
    *,
    onehot_order: int | None = None,
    dna_params: Mapping[str, Any] | None = None,
    dnase_params: Mapping[str, Any] | None = None,
    name: str = "jund_joint",
    compile: bool = True,
) -> Any:
    """The paper's joint JunD model: DNA and DNase sub-models under one sigmoid output.

    Builds :func:`jund_dna` and :func:`jund_dnase` (fresh weights) and joins them with
    :func:`join_models`. To start from trained sub-models, call :func:`join_models` on
    them instead (the paper compared both).

    Parameters
    ----------
    dna, dnase, labels, onehot_order
        As for :func:`jund_dna` and :func:`jund_dnase`.
    dna_params, dnase_params
        Keyword arguments of the two sub-model builders (sizes).
    name, compile
        As for :func:`deepsea`.

    Returns
    -------
    keras.Model
        Dict inputs (``"dna"``, ``"dnase"``) and output.

    Examples
    --------
    >>> net = jund_joint(x_dna, cov, y, onehot_order=2)  # doctest: +SKIP
    """
    sub_dna = jund_dna(
        dna,
        labels,
        onehot_order=onehot_order,
        compile=False,
        **{"name": f"{name}_dna", **(dna_params or {})},
    )
    sub_dnase = jund_dnase(
        dnase, labels, compile=False, **{"name": f"{name}_dnase", **(dnase_params or {})}
    )
    return join_models(
        [sub_dna, sub_dnase],
        labels,
        output_name=_named(labels, "peaks")[0],
        activation="sigmoid",
        name=name,
        compile=compile,
    )


def cage_dna(
    dna: Any,
    labels: Any = 1,
    *,
    onehot_order: int | None = None,
    input_dropout: float | None = None,
    filters: int = 10,
    kernel_size: int = 15,
    pool_size: int = 5,
    filters2: int = 8,
    kernel_size2: int = 5,
    merge: str = "max",
    kernel_in: str = "bases",
    name: str = "cage_dna",
    compile: bool = True,
) -> Any:
    """The paper's CAGE regression model from the promoter sequence.

    The JunD sequence architecture with the CAGE sizes (10 x 15 bp both-strand kernels,
    pool 5, 8 x 5 second kernels) and a linear output; the paper used 701 bp around each
    TSS (350 bp flanks). ``input_dropout=None`` means 0 at order 1 and 0.2 at higher
    orders, as in the paper.

    Parameters
    ----------
    dna, labels, onehot_order, merge, kernel_in, name, compile
        As for :func:`deepsea` (default output name ``"cage"``).
    input_dropout, filters, kernel_size, pool_size, filters2, kernel_size2
        Sizes (the paper's defaults).

    Returns
    -------
    keras.Model
        Dict inputs and outputs keyed by the input and output names.

    Examples
    --------
    >>> net = cage_dna(x_tss, cage, onehot_order=3)  # doctest: +SKIP
    """
    if input_dropout is None:
        _, value = _named(dna, "dna")
        order = _order_of(input_shape(value, onehot_order), name)
        input_dropout = 0.0 if order == 1 else 0.2
    inputs, x = _motif_cnn(
        dna,
        onehot_order,
        input_dropout,
        filters,
        kernel_size,
        pool_size,
        filters2,
        kernel_size2,
        merge,
        kernel_in,
        name,
    )
    return _finish(inputs, x, labels, "cage", "linear", name, compile)


def cage_chromatin(
    tracks: Mapping[str, Any],
    labels: Any = 1,
    *,
    name: str = "cage_chromatin",
    compile: bool = True,
) -> Any:
    """The paper's CAGE regression model from chromatin signals summed at promoters.

    Every input (e.g. ``{"dnase": ..., "h3k4me3": ...}``: coverage views collapsed to one
    value per region with ``.janggu.collapse(None, how="sum")``, log-transformed and
    z-scored) is flattened; they are concatenated, batch-normalised (the top hidden layer)
    and fed to a linear output.

    Parameters
    ----------
    tracks
        ``{input name: view or shape}``, one entry per chromatin signal.
    labels, name, compile
        As for :func:`cage_dna`.

    Returns
    -------
    keras.Model
        Dict inputs (one per track) and output.

    Examples
    --------
    >>> net = cage_chromatin({"dnase": dnase_tss, "h3k4me3": h3k4_tss}, cage)  # doctest: +SKIP
    """
    k = _need_keras()
    if not isinstance(tracks, Mapping) or not tracks:
        raise InputError(
            "cage_chromatin takes {input name: view}, one entry per signal", source="architectures"
        )
    inputs, flat = {}, []
    for key, value in tracks.items():
        inp = k.Input(shape=input_shape(value), name=str(key))
        inputs[str(key)] = inp
        flat.append(k.layers.Flatten(name=f"{name}_{key}_flatten")(inp))
    x = flat[0] if len(flat) == 1 else k.layers.Concatenate(name=f"{name}_concat")(flat)
    x = k.layers.BatchNormalization(name=f"{name}_batchnorm")(x)
    return _finish(inputs, x, labels, "cage", "linear", name, compile)


def cage_joint(
    dna: Any,
    tracks: Mapping[str, Any],
    labels: Any = 1,
    *,
    onehot_order: int | None = None,
    dna_params: Mapping[str, Any] | None = None,
    name: str = "cage_joint",
    compile: bool = True,
) -> Any:
    """The paper's joint CAGE model: sequence and chromatin sub-models, linear output.

    Parameters
    ----------
    dna, tracks, labels, onehot_order
        As for :func:`cage_dna` and :func:`cage_chromatin`.
    dna_params
        Keyword arguments of :func:`cage_dna` (sizes).
    name, compile
        As for :func:`deepsea`.

    Returns
    -------
    keras.Model
        Dict inputs (``"dna"`` and the tracks) and output, MAE loss when compiled.

    Examples
    --------
    >>> net = cage_joint(x_tss, {"dnase": d, "h3k4me3": h}, cage,
    ...                  onehot_order=2)  # doctest: +SKIP
    """
    sub_dna = cage_dna(
        dna,
        labels,
        onehot_order=onehot_order,
        compile=False,
        **{"name": f"{name}_dna", **(dna_params or {})},
    )
    sub_chrom = cage_chromatin(tracks, labels, name=f"{name}_chromatin", compile=False)
    return join_models(
        [sub_dna, sub_chrom],
        labels,
        output_name=_named(labels, "cage")[0],
        activation="linear",
        name=name,
        compile=compile,
    )


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
    _need_keras()
    if len(net.outputs) != 1:
        raise InputError(
            f"model {net.name!r} has {len(net.outputs)} outputs; join models "
            "with one output each, or pass hidden= tensors",
            source="join_models",
        )
    layer = _head_layer(net.outputs[0]._keras_history.operation)
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
    k = _need_keras()
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
            heads.update({id(op), id(_head_layer(op))})
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
    first_name, first_layer = next(iter(_output_layers(nets[0]).items()))
    if labels is None:
        value: Any = tuple(int(n) for n in first_layer.output.shape[1:])
        out_name = output_name or first_name
    else:
        label_name, value = _named(labels, first_name)
        out_name = output_name or label_name
    if activation is None:
        act = getattr(_head_layer(first_layer), "activation", None)
        activation = getattr(act, "__name__", "linear")
    flat = [
        h if len(h.shape) == 2 else k.layers.Flatten(name=f"{name}_flatten{i}")(h)
        for i, h in enumerate(hiddens)
    ]
    x = flat[0] if len(flat) == 1 else k.layers.Concatenate(name=f"{name}_concat")(flat)
    out = _output(x, value, out_name, activation)
    joint = k.Model(inputs, {out_name: out}, name=name)
    if reinitialize:
        joint = k.Model.from_config(joint.get_config())
    return compile_like_paper(joint) if compile else joint
