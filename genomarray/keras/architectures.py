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

from collections.abc import Mapping, Sequence
from typing import Any

from genomarray.errors import InputError
from genomarray.keras.arch_parts import (
    check_length,
    conv,
    dna_input,
    finish,
    first_conv,
    input_shape,
    kernel_for_order,
    n_outputs,
    named_input,
    order_of,
    pair,
    pool,
)
from genomarray.keras.joining import join_models, top_hidden
from genomarray.keras.models import need_keras
from genomarray.keras.recipe import (
    RECIPES,
    PaperRecipe,
    compile_like_paper,
    fit_like_paper,
    paper_optimizer,
    split_like_paper,
)

try:  # keras is an optional extra: the module imports (for doctests) without it
    import keras
except ImportError:  # pragma: no cover - exercised only without the extra
    keras = None


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
    k = need_keras()
    inputs, x, order = dna_input(dna, onehot_order, "dna", "deepsea")
    filters = pair(filters, 3, "filters")
    kernels = pair(kernel_size, 3, "kernel_size")
    drops = pair(dropout, 3, "dropout")
    x = first_conv(x, filters[0], kernels[0], order, kernel_in, merge, f"{name}_conv1")
    x = pool(x, pool_size, f"{name}_pool1")
    x = k.layers.Dropout(drops[0], name=f"{name}_dropout1")(x)
    x = conv(x, filters[1], kernels[1], f"{name}_conv2")
    x = pool(x, pool_size, f"{name}_pool2")
    x = k.layers.Dropout(drops[1], name=f"{name}_dropout2")(x)
    x = conv(x, filters[2], kernels[2], f"{name}_conv3")
    x = k.layers.Dropout(drops[2], name=f"{name}_dropout3")(x)
    x = k.layers.Flatten(name=f"{name}_flatten")(x)
    x = k.layers.Dense(dense_units, activation="relu", name=f"{name}_dense")(x)
    return finish(inputs, x, labels, "labels", "sigmoid", name, compile)


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
    k = need_keras()
    inputs, x, order = dna_input(dna, onehot_order, "dna", "danq")
    x = first_conv(x, filters, kernel_size, order, kernel_in, merge, f"{name}_conv1")
    x = pool(x, pool_size, f"{name}_pool1")
    x = k.layers.Dropout(conv_dropout, name=f"{name}_dropout1")(x)
    x = k.layers.Bidirectional(
        k.layers.LSTM(lstm_units, return_sequences=True), name=f"{name}_bilstm"
    )(x)
    x = k.layers.Dropout(lstm_dropout, name=f"{name}_dropout2")(x)
    x = k.layers.Flatten(name=f"{name}_flatten")(x)
    x = k.layers.Dense(dense_units, activation="relu", name=f"{name}_dense")(x)
    return finish(inputs, x, labels, "labels", "sigmoid", name, compile)


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
    k = need_keras()
    inputs, x, order = dna_input(dna, onehot_order, "dna", name)
    if input_dropout:
        x = k.layers.Dropout(input_dropout, name=f"{name}_input_dropout")(x)
    x = first_conv(x, filters, kernel_size, order, kernel_in, merge, f"{name}_conv1")
    x = pool(x, pool_size, f"{name}_pool1")
    x = k.layers.BatchNormalization(name=f"{name}_batchnorm1")(x)
    x = conv(x, filters2, kernel_size2, f"{name}_conv2")
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
    return finish(inputs, x, labels, "peaks", "sigmoid", name, compile)


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
    k = need_keras()
    in_name, value = named_input(dnase, "dnase")
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
    check_length(x, kernel_size, f"{name}_conv1")
    x = k.layers.Conv2D(filters, (kernel_size, strands), activation="relu", name=f"{name}_conv1")(x)
    check_length(x, pool_size, f"{name}_pool1")
    x = k.layers.MaxPooling2D((pool_size, 1), name=f"{name}_pool1")(x)
    check_length(x, kernel_size2, f"{name}_conv2")
    x = k.layers.Conv2D(filters2, (kernel_size2, 1), activation="relu", name=f"{name}_conv2")(x)
    x = k.layers.GlobalMaxPooling2D(name=f"{name}_global_max")(x)
    x = k.layers.BatchNormalization(name=f"{name}_batchnorm")(x)
    return finish({in_name: inp}, x, labels, "peaks", "sigmoid", name, compile)


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
        output_name=named_input(labels, "peaks")[0],
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
        _, value = named_input(dna, "dna")
        order = order_of(input_shape(value, onehot_order), name)
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
    return finish(inputs, x, labels, "cage", "linear", name, compile)


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
    k = need_keras()
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
    return finish(inputs, x, labels, "cage", "linear", name, compile)


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
        output_name=named_input(labels, "cage")[0],
        activation="linear",
        name=name,
        compile=compile,
    )
