"""Keras layers: Reverse, Complement, BothStrands, LocalAveragePooling, save/load."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from genomarray.encode import onehot, revcomp_codes, revcomp_onehot  # noqa: E402
from genomarray.keras.layers import (  # noqa: E402
    BothStrandConv1D,
    BothStrands,
    Complement,
    LocalAveragePooling,
    Reverse,
    complement_permutation,
)

pytestmark = pytest.mark.backends  # all of it runs under every keras backend


def _codes(rng: np.random.Generator, n: int = 4, length: int = 40) -> np.ndarray:
    """Random DNA codes (0-3) with some N (4)."""
    codes = rng.integers(0, 4, size=(n, length)).astype(np.uint8)
    codes[rng.random((n, length)) < 0.1] = 4
    return codes


def _np(x) -> np.ndarray:
    return keras.ops.convert_to_numpy(x)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_reverse_complement_is_revcomp_onehot(order):
    codes = _codes(np.random.default_rng(order))
    x = onehot(codes, order)
    expected = onehot(revcomp_codes(codes), order)
    assert (_np(Reverse()(Complement(order)(x))) == expected).all()
    assert (_np(Complement(order)(Reverse()(x))) == expected).all()
    assert (_np(Complement(None)(Reverse()(x))) == expected).all()  # order inferred
    # an involution
    assert (_np(Complement(order)(Complement(order)(x))) == x).all()
    perm = complement_permutation(order)
    assert (perm[perm] == np.arange(4**order)).all()


def test_reverse_flips_length_only():
    x = np.arange(24, dtype="float32").reshape(2, 4, 3)
    np.testing.assert_array_equal(_np(Reverse()(x)), x[:, ::-1])


def test_complement_rejects_wrong_channels():
    with pytest.raises(ValueError, match="channels"):
        Complement(2)(np.zeros((1, 5, 4), "float32"))
    with pytest.raises(ValueError, match="4\\*\\*order"):
        Complement(None)(np.zeros((1, 5, 5), "float32"))
    with pytest.raises(ValueError, match="order"):
        Complement(0)
    with pytest.raises(ValueError, match="merge"):
        BothStrands(keras.layers.Conv1D(2, 3), merge="sum")


def _manual(conv, x: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    forward = _np(conv(x))
    reverse = _np(conv(revcomp_onehot(x, order)))[:, ::-1]
    return forward, reverse


@pytest.mark.parametrize("order", [1, 3])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_both_strands_equals_manual(order, padding):
    x = onehot(_codes(np.random.default_rng(10 + order), length=30), order, dtype="float32")
    conv = keras.layers.Conv1D(5, 7, padding=padding, bias_initializer="glorot_uniform")
    layers = {m: BothStrands(conv, merge=m, order=order) for m in ("max", "mean", "concat", "both")}
    outs = {m: layer(x) for m, layer in layers.items()}
    forward, reverse = _manual(conv, x, order)  # same (shared) conv weights
    assert len(layers["max"].trainable_weights) == 2
    assert forward.shape == (x.shape[0], x.shape[1] - (6 if padding == "valid" else 0), 5)
    assert not np.allclose(forward, reverse)  # the two strands do differ
    np.testing.assert_allclose(_np(outs["max"]), np.maximum(forward, reverse), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(outs["mean"]), (forward + reverse) / 2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        _np(outs["concat"]), np.concatenate([forward, reverse], -1), rtol=1e-5, atol=1e-6
    )
    both = outs["both"]
    assert isinstance(both, list | tuple) and len(both) == 2
    np.testing.assert_allclose(_np(both[0]), forward, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(both[1]), reverse, rtol=1e-5, atol=1e-6)


def test_symbolic_shapes():
    inp = keras.Input((50, 16))
    assert BothStrandConv1D(8, 5, order=2)(inp).shape == (None, 46, 8)
    assert BothStrandConv1D(8, 5, merge="concat", order=2)(inp).shape == (None, 46, 16)
    both = BothStrandConv1D(8, 5, merge="both", order=None)(inp)
    assert [tuple(t.shape) for t in both] == [(None, 46, 8)] * 2
    assert LocalAveragePooling(4)(inp).shape == (None, 47, 16)


@pytest.mark.parametrize("merge", ["max", "mean"])
@pytest.mark.parametrize("order", [1, 3])
def test_revcomp_invariance(order, merge):
    inp = keras.Input((None, 4**order))
    h = BothStrandConv1D(
        6, 5, merge=merge, order=order, activation="relu", bias_initializer="glorot_uniform"
    )(inp)
    out = keras.layers.GlobalMaxPooling1D()(h)
    model = keras.Model(inp, out)
    codes = _codes(np.random.default_rng(20 + order), length=33)
    x = onehot(codes, order, dtype="float32")
    x_rc = onehot(revcomp_codes(codes), order, dtype="float32")
    y, y_rc = model.predict(x, verbose=0), model.predict(x_rc, verbose=0)
    np.testing.assert_allclose(y, y_rc, rtol=1e-5, atol=1e-6)
    # a plain convolution is not invariant
    plain = keras.Model(
        inp,
        keras.layers.GlobalMaxPooling1D()(
            keras.layers.Conv1D(6, 5, bias_initializer="glorot_uniform")(inp)
        ),
    )
    assert not np.allclose(plain.predict(x, verbose=0), plain.predict(x_rc, verbose=0))


@pytest.mark.parametrize("pool", [1, 2, 5])
def test_local_average_pooling_matches_numpy(pool):
    x = np.random.default_rng(pool).normal(size=(3, 17, 4)).astype("float32")
    expected = np.stack([x[:, i : i + pool].mean(axis=1) for i in range(17 - pool + 1)], axis=1)
    np.testing.assert_allclose(_np(LocalAveragePooling(pool)(x)), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="pool_size"):
        LocalAveragePooling(0)


def test_save_load_round_trip(tmp_path):
    order = 2
    inp = keras.Input((39, 4**order))
    flipped = Reverse()(Complement(order)(inp))
    fwd, rev = BothStrandConv1D(4, 3, merge="both", order=order, name="bs_both")(flipped)
    h = keras.layers.Concatenate()(
        [
            BothStrandConv1D(
                4, 5, merge="max", order=order, name="bs_max", bias_initializer="glorot_uniform"
            )(inp)[:, 1:-1],
            BothStrands(keras.layers.Conv1D(3, 5), merge="mean", order=None)(inp)[:, 1:-1],
            BothStrandConv1D(2, 3, merge="concat", order=order)(inp)[:, 2:-2],
            fwd[:, 2:-2],
            rev[:, 2:-2],
        ]
    )
    h = LocalAveragePooling(3)(h)
    out = keras.layers.Dense(1)(keras.layers.GlobalAveragePooling1D()(h))
    model = keras.Model(inp, out)
    x = onehot(_codes(np.random.default_rng(5), length=40), order, dtype="float32")
    expected = model.predict(x, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    kinds = {type(layer).__name__ for layer in loaded.layers}
    assert {"Reverse", "Complement", "BothStrands", "LocalAveragePooling"} <= kinds
    merges = sorted(layer.merge for layer in loaded.layers if isinstance(layer, BothStrands))
    assert merges == ["both", "concat", "max", "mean"]


def test_order_is_inferred_by_default():
    """No order given: taken from the channel count (16 -> order 2), so order-2/3 inputs
    need no extra argument; a given order that disagrees is a clear error."""
    from genomarray.keras.layers import BothStrandConv1D

    x = np.random.default_rng(0).random((2, 30, 16)).astype("float32")
    layer = BothStrandConv1D(3, 5)
    assert tuple(layer(x).shape) == (2, 26, 3)
    with pytest.raises(ValueError, match="order=1 needs 4 channels"):
        BothStrandConv1D(3, 5, order=1)(x)


# -- OneHot: codes to one-hot inside the model ------------------------------------------------
def _codes_with_unknowns(rng: np.random.Generator, n: int = 5, length: int = 37) -> np.ndarray:
    codes = _codes(rng, n, length)
    codes[0, :3] = 4  # an N run at the start
    codes[1, -1] = 4  # N at the end
    codes[2, 5] = 255  # any code >= 4 is unknown, as in encode.onehot
    return codes


@pytest.mark.parametrize("order", [1, 2, 3])
def test_onehot_layer_equals_encode_onehot(order):
    from genomarray.keras.layers import OneHot

    codes = _codes_with_unknowns(np.random.default_rng(30 + order))
    got = _np(OneHot(order=order)(codes))
    expected = onehot(codes, order)
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)
    assert (got[0, :3] == 0).all()  # k-mers touching the N run are all zero
    # another compute dtype and the protein alphabet
    np.testing.assert_array_equal(_np(OneHot(order, dtype="float16")(codes)), expected)
    prot = np.random.default_rng(order).integers(0, 21, size=(3, 12)).astype(np.uint8)
    np.testing.assert_array_equal(
        _np(OneHot(order, alphabet="protein")(prot)), onehot(prot, order, "protein")
    )


@pytest.mark.parametrize("order", [1, 2, 3])
def test_onehot_then_conv_equals_conv_on_onehot(order, tmp_path):
    """A model OneHot(order) -> Conv1D gives exactly the outputs of the same Conv1D fed
    encode.onehot of the same codes, and survives save/load."""
    from genomarray.keras.layers import OneHot

    keras.utils.set_random_seed(order)
    length = 40
    codes = _codes_with_unknowns(np.random.default_rng(order), length=length)
    conv = keras.layers.Conv1D(6, 5, bias_initializer="glorot_uniform")
    inp = keras.Input((length,), dtype="uint8")
    inner = OneHot(order=order)(inp)
    assert tuple(inner.shape) == (None, length - order + 1, 4**order)
    from_codes = keras.Model(inp, conv(inner))
    hot = keras.Input((length - order + 1, 4**order))
    from_onehot = keras.Model(hot, conv(hot))
    expected = from_onehot.predict(onehot(codes, order), verbose=0)
    got = from_codes.predict(codes, verbose=0)
    np.testing.assert_array_equal(got, expected)
    assert np.abs(expected).max() > 0
    path = tmp_path / "onehot.keras"
    from_codes.save(path)
    loaded = keras.models.load_model(path)
    layer = next(lay for lay in loaded.layers if isinstance(lay, OneHot))
    assert layer.order == order and layer.get_config()["alphabet"] == "dna"
    np.testing.assert_array_equal(loaded.predict(codes, verbose=0), expected)


def test_onehot_layer_bad_arguments():
    from genomarray.keras.layers import OneHot

    with pytest.raises(ValueError, match="order"):
        OneHot(order=0)
    with pytest.raises(ValueError, match="order"):
        OneHot(order=None)
    with pytest.raises(ValueError, match="alphabet"):
        OneHot(order=1, alphabet="rna")
    with pytest.raises(ValueError, match="shorter than order"):
        OneHot(order=3)(keras.Input((2,), dtype="uint8"))
    with pytest.raises(ValueError, match="batch, length"):
        OneHot(order=1)(keras.Input((5, 4)))


def test_onehot_model_on_genomic_sequence_codes():
    """GenomicSequence batches of uint8 codes (no onehot_order) through OneHot give exactly the
    predictions of the same convolution on GenomicSequence's own one-hot batches."""
    import genomarray as ga
    from genomarray.keras import GenomicSequence
    from genomarray.keras.layers import OneHot

    dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    codes = dna.janggu.view(ga.tile(ga.example_path("roi.bed"), binsize=100)).isel(
        region=slice(0, 40)
    )
    keras.utils.set_random_seed(4)
    order = 2
    conv = keras.layers.Conv1D(4, 5, activation="relu", bias_initializer="glorot_uniform")
    pool = keras.layers.GlobalMaxPooling1D()
    inp = keras.Input((100,), dtype="uint8", name="dna")
    from_codes = keras.Model({"dna": inp}, pool(conv(OneHot(order)(inp))))
    hot = keras.Input((100 - order + 1, 4**order), name="dna")
    from_onehot = keras.Model({"dna": hot}, pool(conv(hot)))
    raw = GenomicSequence({"dna": codes}, batch_size=16)  # default dtype: codes stay uint8
    assert raw[0]["dna"].dtype == np.uint8 and raw[0]["dna"].shape == (16, 100)
    hot_batch = GenomicSequence({"dna": codes}, onehot_order=order, batch_size=16)[0]["dna"]
    assert hot_batch.nbytes == 4 * 4**order * raw[0]["dna"].nbytes * (99 / 100)
    expected = from_onehot.predict(
        GenomicSequence({"dna": codes}, onehot_order=order, batch_size=16), verbose=0
    )
    np.testing.assert_array_equal(from_codes.predict(raw, verbose=0), expected)
    assert expected.shape == (40, 4) and expected.max() > 0
