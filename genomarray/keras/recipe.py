"""The Janggu paper's training recipe: optimizer, losses, held-out chromosomes, fitting.

:data:`RECIPES` holds, per model family, the batch size, epochs, early-stopping patience and
the validation and test chromosomes; :func:`compile_like_paper` compiles a model with
AMSGrad and a loss per output (binary cross-entropy for sigmoid outputs, MAE for linear
ones), :func:`split_like_paper` and :func:`fit_like_paper` apply the rest. See
:mod:`genomarray.keras.architectures` for the models and the deviations from the paper.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from genomarray.errors import InputError
from genomarray.keras import models as _models
from genomarray.keras.models import need_keras

try:  # keras is an optional extra: the module imports (for doctests) without it
    import keras
except ImportError:  # pragma: no cover - exercised only without the extra
    keras = None


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


def recipe_of(recipe: str | PaperRecipe) -> PaperRecipe:
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
    k = need_keras()
    return k.optimizers.Adam(learning_rate=learning_rate, amsgrad=True, clipnorm=clipnorm)


def output_layers(net: Any) -> dict[str, Any]:
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


def head_layer(layer: Any) -> Any:
    """The layer before any Identity / Reshape naming layers after an output head."""
    k = need_keras()
    while isinstance(layer, k.layers.Identity | k.layers.Reshape):
        layer = layer.input._keras_history.operation
    return layer


def _loss_for(layer: Any) -> str:
    act = getattr(head_layer(layer), "activation", None)
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
    heads = output_layers(net)
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

    rec = recipe_of(recipe)
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
    rec = recipe_of(recipe)
    kwargs.setdefault("epochs", rec.epochs)
    kwargs.setdefault("patience", rec.patience)
    return _models.fit(net, train, validation=validation, **kwargs)
