"""Integrated gradients: completeness, sign, baselines, alignment with the input view.

Run under every keras backend (``KERAS_BACKEND=tensorflow|jax|torch``): each takes its
gradients its own way (``tf.GradientTape``, ``jax.grad``, ``torch.autograd``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

keras = pytest.importorskip("keras")

from genomarray import encode, model  # noqa: E402
from genomarray.keras.attribution import integrated_gradients  # noqa: E402

pytestmark = pytest.mark.backends  # all of it runs under every keras backend


def _view(order: int, n: int = 6, length: int = 40):
    rng = np.random.default_rng(order)
    codes = rng.integers(0, 4, size=(n, length)).astype(np.uint8)
    roi = pd.DataFrame(
        {
            "chrom": ["chr1"] * n,
            "start": np.arange(n) * 100,
            "end": np.arange(n) * 100 + length,
            "strand": ["+", "-"] * (n // 2),
        }
    )
    seq = model.region_view(codes, roi)
    x = encode.onehot(codes, order)
    return model.onehot_view(x, seq, encode.kmer_labels(order), order)


def _conv_model(width: int, channels: int, outputs: int = 1):
    keras.utils.set_random_seed(0)
    inp = keras.Input((width, channels))
    h = keras.layers.Conv1D(8, 5, activation="tanh")(inp)
    h = keras.layers.GlobalAveragePooling1D()(h)
    out = keras.layers.Dense(outputs)(h)
    return keras.Model(inp, out)


def _np(x) -> np.ndarray:
    return keras.ops.convert_to_numpy(x)


def _target(m, x: np.ndarray, condition: int | None = None) -> np.ndarray:
    y = _np(m(x.astype(np.float32), training=False))
    return y[:, condition] if condition is not None else y.sum(axis=1)


@pytest.mark.parametrize("order", [1, 2])
def test_completeness_and_sign(order):
    x = _view(order)
    m = _conv_model(x.sizes[model.POS], x.sizes[model.BASE])
    attr = integrated_gradients(m, x, steps=64)
    expected = _target(m, x.values) - _target(m, np.zeros(x.shape))
    total = attr.sum([model.POS, model.BASE]).values
    np.testing.assert_allclose(total, expected, rtol=0.03, atol=1e-3 * np.abs(expected).max())
    assert (attr.values < 0).any() and (attr.values > 0).any()
    # attributions only where the one-hot is set (zero baseline)
    assert np.all(attr.values[x.values == 0] == 0)
    assert attr.attrs["ig_steps"] == 64 and attr.attrs["ig_baseline"] == "zeros"
    assert attr.attrs[model.ORDER] == order


def test_alignment_with_input_view():
    x = _view(1)
    m = _conv_model(x.sizes[model.POS], 4)
    attr = integrated_gradients(m, x, steps=8)
    assert attr.dims == x.dims and attr.shape == x.shape
    for name in x.coords:
        np.testing.assert_array_equal(attr[name].values, x[name].values)
    assert attr.name == "attribution"


def test_shuffle_and_array_baselines():
    x = _view(1)
    m = _conv_model(x.sizes[model.POS], 4, outputs=3)
    zero = integrated_gradients(m, x, baseline="zeros", steps=32, condition=1)
    shuf = integrated_gradients(m, x, baseline="shuffle", steps=32, condition=1, seed=3)
    assert zero.shape == shuf.shape == x.shape
    assert shuf.attrs["ig_baseline"] == "shuffle"
    # the shuffle baseline keeps composition: rebuild it and check completeness
    rng = np.random.default_rng(3)
    xv = x.values.astype(np.float32)
    order = rng.permuted(np.broadcast_to(np.arange(xv.shape[1]), xv.shape[:2]), axis=1)
    base = np.take_along_axis(xv, order[..., None], axis=1)
    expected = _target(m, xv, 1) - _target(m, base, 1)
    np.testing.assert_allclose(
        shuf.sum([model.POS, model.BASE]).values,
        expected,
        rtol=0.05,
        atol=0.02 * np.abs(expected).max(),
    )
    quarter = integrated_gradients(m, x, baseline=np.full(x.shape[1:], 0.25), steps=32)
    assert quarter.attrs["ig_baseline"] == "array"
    expected = _target(m, xv) - _target(m, np.full(xv.shape, 0.25))
    np.testing.assert_allclose(
        quarter.sum([model.POS, model.BASE]).values,
        expected,
        rtol=0.05,
        atol=0.02 * np.abs(expected).max(),
    )


def test_numpy_and_multi_input():
    x = _view(1)
    xv = x.values.astype(np.float32)
    keras.utils.set_random_seed(1)
    a = keras.Input((xv.shape[1], 4), name="dna")
    b = keras.Input((3,), name="extra")
    h = keras.layers.GlobalAveragePooling1D()(keras.layers.Conv1D(4, 3, activation="tanh")(a))
    out = keras.layers.Dense(1)(keras.layers.Concatenate()([h, b]))
    m = keras.Model({"dna": a, "extra": b}, out)
    extra = np.random.default_rng(0).normal(size=(xv.shape[0], 3)).astype(np.float32)
    attr = integrated_gradients(m, {"dna": x, "extra": extra}, steps=50)
    assert set(attr) == {"dna", "extra"} and attr["dna"].dims == x.dims
    total = attr["dna"].sum([model.POS, model.BASE]).values + attr["extra"].sum("dim_1").values
    fx = _np(m({"dna": xv, "extra": extra})).ravel()
    f0 = _np(m({"dna": np.zeros_like(xv), "extra": np.zeros_like(extra)})).ravel()
    np.testing.assert_allclose(total, fx - f0, rtol=0.03, atol=1e-3)
    plain = integrated_gradients(_conv_model(xv.shape[1], 4), xv, steps=4)
    assert plain.dims == (model.REGION, model.POS, model.BASE)


def test_bad_arguments():
    x = _view(1)
    m = _conv_model(x.sizes[model.POS], 4)
    with pytest.raises(ValueError, match="baseline"):
        integrated_gradients(m, x, baseline="dinuc")
    with pytest.raises(ValueError, match="steps"):
        integrated_gradients(m, x, steps=0)
    with pytest.raises(ValueError, match="broadcast"):
        integrated_gradients(m, x, baseline=np.zeros((3, 3)))


def test_plot_tracks_draws_attributions():
    pytest.importorskip("matplotlib")
    from genomarray.export.plot import plot_tracks

    x = _view(1)
    attr = integrated_gradients(_conv_model(x.sizes[model.POS], 4), x, steps=4)
    start = int(x[model.REGION_START].values[1])
    fig = plot_tracks({"ig": attr}, ("chr1", start, start + 40))
    assert len(fig.axes) >= 1


def test_linear_model_exact():
    """For f(x) = sum(w * x) + b the path gradient is w everywhere, so the attributions
    are exactly (x - baseline) * w, whatever the steps (independent of the backend)."""
    x = _view(1, n=4, length=12)
    xv = x.values.astype(np.float32)
    w = np.random.default_rng(7).normal(size=(12 * 4, 2)).astype(np.float32)
    inp = keras.Input((12, 4))
    dense = keras.layers.Dense(2)
    m = keras.Model(inp, dense(keras.layers.Flatten()(inp)))
    dense.set_weights([w, np.array([0.5, -1.0], np.float32)])
    base = np.full(xv.shape[1:], 0.25, np.float32)
    attr = integrated_gradients(m, x, baseline=base, steps=3, condition=1, batch_size=5)
    expected = (xv - base) * w[:, 1].reshape(12, 4)
    np.testing.assert_allclose(attr.values, expected, rtol=1e-5, atol=1e-6)
    both = integrated_gradients(m, xv, steps=2)  # condition=None: the sum of both outputs
    np.testing.assert_allclose(both.values, xv * w.sum(axis=1).reshape(12, 4), rtol=1e-5, atol=1e-6)
