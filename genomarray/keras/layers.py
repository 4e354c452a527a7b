"""Keras 3 layers for one-hot DNA: strand flips, both-strand convolutions, local averaging.

Janggu's ``Reverse``, ``Complement``, ``DnaConv2D`` and ``LocalAveragePooling2D``, rebuilt
for keras 3 with ``keras.ops`` only (any backend) on the 1-D sequence layout
``(batch, length, channels)``, where ``channels = 4**order`` k-mers with the first letter
most significant (:func:`genomarray.encode.kmer_labels`).

- :class:`Reverse` flips the length axis.
- :class:`Complement` permutes the k-mer channels so that ``Reverse()(Complement(order)(x))``
  is the one-hot of the reverse-complemented sequence, for any order.
- :class:`BothStrands` applies one layer (shared weights) to a sequence and to its reverse
  complement and merges the two, aligned position by position; :func:`BothStrandConv1D`
  wraps a new ``Conv1D``.
- :class:`LocalAveragePooling` averages ``pool_size`` neighbouring positions (stride 1,
  valid padding).
- :class:`OneHot` expands uint8 sequence codes ``(batch, length)`` into the one-hot of
  order ``k`` inside the model, equal to :func:`genomarray.encode.onehot`: a batch of codes
  crosses to the device ``4 * 4**k`` times smaller than its float32 one-hot.

All layers are registered as ``genomarray>NAME`` for ``keras.models.load_model``. The module
imports without keras (for doctests); building a layer then raises ``ImportError``.

Examples
--------
>>> import keras  # doctest: +SKIP
>>> from genomarray.keras.layers import BothStrandConv1D, LocalAveragePooling
>>> inp = keras.Input((200, 4))  # doctest: +SKIP
>>> h = BothStrandConv1D(16, 11, merge="max", activation="relu")(inp)  # doctest: +SKIP
>>> h = LocalAveragePooling(5)(h)  # doctest: +SKIP
>>> out = keras.layers.Dense(1)(keras.layers.GlobalMaxPooling1D()(h))  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np

from genomarray.encode import DNA, letters, revcomp_permutation

try:  # keras is an optional extra: the module imports (for doctests) without it
    import keras
    from keras import ops

    _Layer: Any = keras.layers.Layer
    _Wrapper: Any = keras.layers.Wrapper
    _register: Any = keras.saving.register_keras_serializable(package="genomarray")
except ImportError:  # pragma: no cover
    keras = None
    ops = None

    class _Layer:  # type: ignore[no-redef]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise ImportError(
                "genomarray.keras.layers needs keras 3: pip install 'genomarray[keras]'"
            )

    _Wrapper = _Layer

    def _register(cls: Any) -> Any:
        return cls


__all__ = [
    "BothStrandConv1D",
    "BothStrands",
    "Complement",
    "LocalAveragePooling",
    "MERGES",
    "OneHot",
    "Reverse",
    "complement_permutation",
]

MERGES = ("max", "mean", "concat", "both")
"""Merge modes of :class:`BothStrands`."""


def _check_order(order: int | None) -> None:
    if order is not None and (
        isinstance(order, bool) or not isinstance(order, int | np.integer) or order < 1
    ):
        raise ValueError(f"one-hot order must be an integer >= 1 or None, got {order!r}")


def _infer_order(channels: int | None, order: int | None, layer: str) -> int:
    """Return the one-hot order of ``channels`` k-mer channels (checked against ``order``)."""
    if channels is None:
        if order is None:
            raise ValueError(f"{layer}: the channel axis must be known to infer the order")
        return int(order)
    inferred = round(float(np.log(channels) / np.log(4))) if channels > 0 else 0
    if inferred < 1 or 4**inferred != channels:
        raise ValueError(f"{layer}: {channels} channels is not a DNA one-hot (4**order)")
    if order is not None and inferred != order:
        raise ValueError(f"{layer}: order={order} needs {4**order} channels, got {channels}")
    return inferred


def complement_permutation(order: int) -> np.ndarray:
    """Return the channel permutation used by :class:`Complement` for one-hot ``order``.

    ``perm[c]`` is the channel of the reverse complement of k-mer ``c``
    (:func:`genomarray.encode.revcomp_permutation`). A k-mer at position ``p`` of a sequence
    of ``n`` k-mers becomes, on the reverse strand, the *reverse complement* k-mer at
    position ``n - 1 - p``; hence the permutation that pairs with :class:`Reverse` is the
    reverse-complement one, not the letter-wise complement (they agree for ``order=1``).
    It is an involution: ``perm[perm] == arange(4**order)``.

    Examples
    --------
    >>> from genomarray.encode import kmer_labels
    >>> [kmer_labels(2)[i] for i in complement_permutation(2)[:4]]
    ['TT', 'GT', 'CT', 'AT']
    >>> complement_permutation(1).tolist()
    [3, 2, 1, 0]
    """
    _check_order(order)
    return np.asarray(revcomp_permutation(int(order)), dtype=np.int32)


def _revcomp(x: Any, perm: np.ndarray) -> Any:
    return ops.take(ops.flip(x, axis=1), ops.convert_to_tensor(perm, dtype="int32"), axis=-1)


@_register
class Reverse(_Layer):
    """Reverse the length axis (axis 1) of ``(batch, length, ...)`` inputs.

    Examples
    --------
    >>> import numpy as np  # doctest: +SKIP
    >>> Reverse()(np.arange(3.0).reshape(1, 3, 1))[0, :, 0].numpy().tolist()  # doctest: +SKIP
    [2.0, 1.0, 0.0]
    """

    def call(self, inputs: Any) -> Any:
        return ops.flip(inputs, axis=1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape)


@_register
class Complement(_Layer):
    """Permute the k-mer channels of a DNA one-hot to those of the opposite strand.

    ``Reverse()(Complement(order)(x))`` (or the other way round) equals the one-hot of the
    reverse-complemented sequence, for one-hot ``x`` of any ``order``
    (see :func:`complement_permutation`). Positions of unknown k-mers (all zero) stay zero.

    Parameters
    ----------
    order
        One-hot order (``4**order`` channels). ``None`` (default) infers it from the channel
        count; a given order is checked against it.
    **kwargs
        Passed to :class:`keras.layers.Layer`.

    Examples
    --------
    >>> from genomarray.encode import encode, onehot, revcomp_codes
    >>> x = onehot(encode("AACGN"), 2)[None]
    >>> y = Reverse()(Complement(order=2)(x))  # doctest: +SKIP
    >>> bool((y.numpy() == onehot(revcomp_codes(encode("AACGN")), 2)).all())  # doctest: +SKIP
    True
    """

    def __init__(self, order: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _check_order(order)
        self.order = None if order is None else int(order)

    def build(self, input_shape: Any) -> None:
        self._perm = complement_permutation(_infer_order(input_shape[-1], self.order, "Complement"))
        self.built = True

    def call(self, inputs: Any) -> Any:
        perm = getattr(self, "_perm", None)
        if perm is None:
            perm = complement_permutation(_infer_order(inputs.shape[-1], self.order, "Complement"))
        return ops.take(inputs, ops.convert_to_tensor(perm, dtype="int32"), axis=-1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "order": self.order}


@_register
class BothStrands(_Wrapper):
    """Apply one layer, with shared weights, to both strands of a DNA one-hot and merge.

    For inputs ``x`` of shape ``(batch, length, 4**order)`` the wrapped ``layer`` is called
    on ``x`` and on its reverse complement ``rc(x)`` (:class:`Reverse` after
    :class:`Complement`); the second output is reversed back along length, so that both are
    aligned position by position with ``x``, and the two are merged:

    - ``"max"``: ``maximum(layer(x), reverse(layer(rc(x))))`` (Janggu's ``DnaConv2D``);
    - ``"mean"``: their average;
    - ``"concat"``: concatenated along channels (forward first), twice the filters;
    - ``"both"``: the list ``[forward, reverse]``.

    Alignment is exact when the wrapped layer maps ``length`` to the same positions on a
    reversed input: ``Conv1D`` with ``padding="valid"``, or ``"same"`` with an odd kernel.
    With ``"max"`` or ``"mean"`` the output of ``rc(x)`` is the reverse of that of ``x``, so
    a following global pooling makes the model reverse-complement invariant.

    Parameters
    ----------
    layer
        A keras layer taking ``(batch, length, channels)``, typically ``Conv1D``.
    merge
        One of ``"max"``, ``"mean"``, ``"concat"``, ``"both"``.
    order
        One-hot order of the input. ``None`` (default) infers it from the channel count; a
        given order is checked against it.
    **kwargs
        Passed to :class:`keras.layers.Wrapper`.

    Examples
    --------
    >>> import keras  # doctest: +SKIP
    >>> conv = keras.layers.Conv1D(8, 5)  # doctest: +SKIP
    >>> BothStrands(conv, merge="concat")(keras.Input((100, 4))).shape  # doctest: +SKIP
    (None, 96, 16)
    """

    def __init__(
        self, layer: Any, merge: str = "max", order: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(layer, **kwargs)
        if merge not in MERGES:
            raise ValueError(f"merge must be one of {MERGES}, got {merge!r}")
        _check_order(order)
        self.merge = merge
        self.order = None if order is None else int(order)

    def build(self, input_shape: Any) -> None:
        self._perm = complement_permutation(
            _infer_order(input_shape[-1], self.order, "BothStrands")
        )
        super().build(input_shape)
        self.built = True

    def call(self, inputs: Any, training: Any = None) -> Any:
        perm = getattr(self, "_perm", None)
        if perm is None:
            perm = complement_permutation(_infer_order(inputs.shape[-1], self.order, "BothStrands"))
        kwargs = {"training": training} if training is not None else {}
        forward = self.layer(inputs, **kwargs)
        reverse = ops.flip(self.layer(_revcomp(inputs, perm), **kwargs), axis=1)
        if self.merge == "max":
            return ops.maximum(forward, reverse)
        if self.merge == "mean":
            return (forward + reverse) / 2
        if self.merge == "concat":
            return ops.concatenate([forward, reverse], axis=-1)
        return [forward, reverse]

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = tuple(self.layer.compute_output_shape(tuple(input_shape)))
        if self.merge == "concat":
            channels = None if shape[-1] is None else 2 * shape[-1]
            return (*shape[:-1], channels)
        if self.merge == "both":
            return [shape, shape]
        return shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "merge": self.merge, "order": self.order}


def BothStrandConv1D(
    filters: int,
    kernel_size: int,
    merge: str = "max",  # noqa: N802
    order: int | None = None,
    name: str | None = None,
    **conv_kwargs: Any,
) -> BothStrands:
    """Return :class:`BothStrands` around a new ``keras.layers.Conv1D`` (Janggu's DnaConv2D).

    Parameters
    ----------
    filters, kernel_size
        Passed to ``Conv1D``.
    merge
        See :class:`BothStrands`.
    order
        One-hot order of the input (``None``, the default: inferred from the channels).
    name
        Name of the wrapper layer (the convolution is named ``NAME_conv``).
    **conv_kwargs
        Other ``Conv1D`` arguments (``activation``, ``padding``, ``use_bias``, ...).

    Examples
    --------
    >>> import keras  # doctest: +SKIP
    >>> layer = BothStrandConv1D(8, 5, merge="max", order=2)  # doctest: +SKIP
    >>> layer(keras.Input((99, 16))).shape  # doctest: +SKIP
    (None, 95, 8)
    """
    if keras is None:  # pragma: no cover
        raise ImportError("BothStrandConv1D needs keras 3: pip install 'genomarray[keras]'")
    conv = keras.layers.Conv1D(
        filters, kernel_size, name=None if name is None else f"{name}_conv", **conv_kwargs
    )
    return BothStrands(conv, merge=merge, order=order, name=name)


@_register
class LocalAveragePooling(_Layer):
    """Average ``pool_size`` neighbouring positions, stride 1, valid padding.

    For inputs of shape ``(batch, length, channels)`` the output has shape
    ``(batch, length - pool_size + 1, channels)`` with
    ``out[:, i, c] = mean(x[:, i:i + pool_size, c])`` (Janggu's ``LocalAveragePooling2D``
    along the sequence). It has no weights.

    Parameters
    ----------
    pool_size
        Window length, ``>= 1``.
    **kwargs
        Passed to :class:`keras.layers.Layer`.

    Examples
    --------
    >>> import numpy as np  # doctest: +SKIP
    >>> x = np.arange(5.0).reshape(1, 5, 1)  # doctest: +SKIP
    >>> LocalAveragePooling(2)(x)[0, :, 0].numpy().tolist()  # doctest: +SKIP
    [0.5, 1.5, 2.5, 3.5]
    """

    def __init__(self, pool_size: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if (
            isinstance(pool_size, bool)
            or not isinstance(pool_size, int | np.integer)
            or pool_size < 1
        ):
            raise ValueError(f"pool_size must be an integer >= 1, got {pool_size!r}")
        self.pool_size = int(pool_size)

    def call(self, inputs: Any) -> Any:
        if self.pool_size == 1:
            return inputs
        return ops.average_pool(inputs, pool_size=self.pool_size, strides=1, padding="valid")

    def compute_output_shape(self, input_shape: Any) -> Any:
        length = input_shape[1]
        if length is not None:
            length = length - self.pool_size + 1
        return (input_shape[0], length, *input_shape[2:])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pool_size": self.pool_size}


@_register
class OneHot(_Layer):
    """One-hot encode sequence codes inside the model, as :func:`genomarray.encode.onehot`.

    Inputs are integer codes ``(batch, length)`` (uint8 as genomarray stores them: DNA
    ``A,C,G,T = 0..3``, ``N`` and anything else ``>= 4``); the output is
    ``(batch, length - order + 1, A**order)`` in the layer's compute dtype (float32 by
    default), k-mers labelled with the first letter most significant
    (:func:`genomarray.encode.kmer_labels`). A k-mer that contains an unknown code is an
    all-zero row. The values equal ``encode.onehot(codes, order, alphabet)`` exactly, on
    every keras backend (``keras.ops`` only). It has no weights.

    Feeding the codes instead of their one-hot moves ``4 * A**order`` times fewer bytes
    per batch to the model (16x at order 1, 256x at order 3 for DNA): declare the input
    as ``keras.Input((length,), dtype="uint8")``.

    Parameters
    ----------
    order
        k-mer order, ``>= 1``.
    alphabet
        ``"dna"`` (4 letters) or ``"protein"`` (20).
    **kwargs
        Passed to :class:`keras.layers.Layer` (``name``, ``dtype``, ...).

    Examples
    --------
    >>> import keras  # doctest: +SKIP
    >>> inp = keras.Input((200,), dtype="uint8")  # doctest: +SKIP
    >>> OneHot(order=2)(inp).shape  # doctest: +SKIP
    (None, 199, 16)
    >>> from genomarray.encode import encode, onehot
    >>> codes = encode("ACGN")[None]
    >>> y = OneHot(order=2)(codes)  # doctest: +SKIP
    >>> bool((keras.ops.convert_to_numpy(y) == onehot(codes, 2)).all())  # doctest: +SKIP
    True
    """

    def __init__(self, order: int = 1, alphabet: str = DNA, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if order is None:
            raise ValueError("OneHot needs an order (an integer >= 1)")
        _check_order(order)
        self.order = int(order)
        self.alphabet = str(alphabet)
        self.size = len(letters(self.alphabet))
        self.channels = self.size**self.order

    def build(self, input_shape: Any) -> None:
        if len(input_shape) != 2:
            raise ValueError(
                f"OneHot takes codes of shape (batch, length), got {tuple(input_shape)}"
            )
        length = input_shape[1]
        if length is not None and length < self.order:
            raise ValueError(f"OneHot: length {length} is shorter than order={self.order}")
        self.built = True

    def call(self, inputs: Any) -> Any:
        codes = ops.cast(inputs, "int32")
        k = self.order
        index = None
        known = None
        for j in range(k):  # k-mer index, first letter most significant
            end = j - (k - 1)
            part = codes[:, j:end] if end < 0 else codes[:, j:]
            ok = ops.less(part, self.size)
            digit = ops.minimum(part, self.size - 1)  # no overflow from codes like 255
            index = digit if index is None else index * self.size + digit
            known = ok if known is None else ops.logical_and(known, ok)
        # a k-mer with an unknown code gets the index `channels`, matching no channel
        index = ops.where(known, index, self.channels)
        channel = ops.arange(self.channels, dtype="int32")
        return ops.cast(ops.equal(ops.expand_dims(index, -1), channel), self.compute_dtype)

    def compute_output_shape(self, input_shape: Any) -> Any:
        length = input_shape[1]
        if length is not None:
            length = length - self.order + 1
        return (input_shape[0], length, self.channels)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "order": self.order, "alphabet": self.alphabet}
