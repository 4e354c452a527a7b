"""Shape helpers against numpy: reduce_dim, squeeze, channel order, numpy batches, errors."""

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import genomarray as ga
from genomarray import model
from genomarray.errors import InputError
from genomarray.transforms.shape import as_numpy_batch, channel_order, reduce_dim, squeeze

ROI = pd.DataFrame(
    {
        "chrom": ["c1", "c1", "c2"],
        "start": [0, 10, 5],
        "end": [6, 16, 11],
        "strand": ["+", "-", "."],
        "name": ["a", "b", "c"],
    }
)


def cov_view(lazy=False):
    rng = np.random.default_rng(0)
    values = rng.integers(0, 10, size=(3, 6, 2, 3)).astype(np.float32)
    if lazy:
        values = da.from_array(values, chunks=(2, 3, 2, 3))
    return model.region_view(
        values,
        ROI,
        ("strand", "condition"),
        coords={"strand": ["+", "-"], "condition": ["x", "y", "z"]},
        resolution=1,
        flank=0,
        binsize=6,
    )


@pytest.fixture(scope="module")
def onehot():
    return ga.onehot(ga.read_sequences(ga.example_path("seqs.fa")), order=2)


# -- reduce_dim -----------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize("lazy", [False, True])
def test_reduce_dim_matches_numpy(how, lazy):
    v = cov_view(lazy)
    values = np.asarray(v.values)
    out = reduce_dim(v, "condition", how)
    assert out.dims == ("region", "pos", "strand")
    assert isinstance(out.data, da.Array) is lazy
    np.testing.assert_allclose(out.values, getattr(np, how)(values, axis=3), rtol=1e-6)
    assert list(out.strand.values) == ["+", "-"] and list(out["name"].values) == ["a", "b", "c"]
    assert out.attrs[model.KIND] == model.REGION_VIEW and out.attrs["binsize"] == 6
    both = reduce_dim(v, ["strand", "condition"], how)
    np.testing.assert_allclose(both.values, getattr(np, how)(values, axis=(2, 3)), rtol=1e-6)


def test_reduce_dim_callable_and_keepdims():
    v = cov_view(lazy=True)
    med = reduce_dim(v, ["strand", "condition"], np.median)
    assert isinstance(med.data, da.Array)
    np.testing.assert_allclose(med.values, np.median(v.values.reshape(3, 6, 6), axis=-1))
    kept = reduce_dim(v, "strand", "sum", keepdims=True)
    assert kept.dims == v.dims and list(kept.strand.values) == ["."]
    np.testing.assert_allclose(kept.values, v.values.sum(axis=2, keepdims=True))
    assert model.validate(kept) == model.REGION_VIEW
    cond = reduce_dim(v, "condition", "max", keepdims=True)
    assert list(cond.condition.values) == ["max"]
    per_region = reduce_dim(v, "pos", "sum", keepdims=True)
    assert per_region.sizes["pos"] == 1 and per_region.attrs["resolution"] == "region"
    np.testing.assert_allclose(per_region.values, v.values.sum(axis=1, keepdims=True))


def test_reduce_dim_on_tracks_and_onehot(onehot):
    track = model.coverage_track(
        np.arange(24, dtype=np.float32).reshape(1, 6, 2, 2), ["c"], [6], ["+", "-"], ["a", "b"]
    )
    unstranded = reduce_dim(track, "strand", keepdims=True)
    assert unstranded.janggu.kind == model.COVERAGE_TRACK
    np.testing.assert_array_equal(unstranded.values, track.values.sum(2, keepdims=True))
    flat = reduce_dim(track, "strand")
    assert model.KIND not in flat.attrs  # (chrom, pos, condition) is no kind of the model
    counts = reduce_dim(onehot, "base")  # k-mers per position: 1, or 0 at N
    assert counts.janggu.kind == model.REGION_VIEW and model.ORDER not in counts.attrs
    assert counts.attrs["view_of"] == model.ONEHOT_VIEW and model.fill_value(counts) == 0
    np.testing.assert_array_equal(counts.values, onehot.values.sum(-1))


def test_reduce_dim_errors(onehot):
    v = cov_view()
    with pytest.raises(InputError, match=r"\['sum', 'mean', 'max', 'min'\]"):
        reduce_dim(v, "condition", "median")
    with pytest.raises(
        InputError,
        match=r"\['cell'\].*\('region', 'pos', 'strand', "
        r"'condition'\)",
    ):
        reduce_dim(v, "cell")
    with pytest.raises(InputError, match="indexes the examples"):
        reduce_dim(v, "region")
    with pytest.raises(InputError, match="sequence codes"):
        reduce_dim(ga.read_sequences(ga.example_path("seqs.fa")), "pos")
    with pytest.raises(InputError, match="returned shape"):
        reduce_dim(v, "condition", lambda x, axis: x)


# -- squeeze --------------------------------------------------------------------------------
def test_squeeze_keeps_region_and_labels():
    v = cov_view().isel(region=[0], strand=[1])
    out = squeeze(v)
    assert out.dims == ("region", "pos", "condition")
    assert out.strand.item() == "-" and out.janggu.kind == model.REGION_VIEW
    np.testing.assert_array_equal(out.values, v.values[:, :, 0])
    label = reduce_dim(cov_view(), "pos", "max", keepdims=True).isel(strand=[0])
    table = squeeze(label)
    assert table.dims == ("region", "condition") and model.KIND not in table.attrs
    np.testing.assert_array_equal(table.values, label.values[:, 0, 0])
    assert squeeze(label, "strand").dims == ("region", "pos", "condition")
    v = cov_view()
    assert squeeze(v) is v  # nothing of size 1


def test_squeeze_errors():
    v = cov_view().isel(region=[0])
    with pytest.raises(InputError, match=r"strand \(size 2\)"):
        squeeze(v, "strand")
    with pytest.raises(InputError, match=r"region \(size 1\)"):
        squeeze(v, "region")
    with pytest.raises(InputError, match=r"\['cell'\].*dims \('region'"):
        squeeze(v, "cell")


# -- channel order and numpy batches --------------------------------------------------------
def test_channel_order_matches_moveaxis(onehot):
    v = cov_view(lazy=True)
    first = channel_order(v, "first")
    assert first.dims == ("region", "strand", "condition", "pos")
    assert isinstance(first.data, da.Array)
    np.testing.assert_array_equal(first.values, np.moveaxis(v.values, 1, -1))
    back = channel_order(first, "last")
    assert back.dims == v.dims and back.janggu.kind == model.REGION_VIEW
    xr.testing.assert_identical(back.compute(), v.compute())
    assert channel_order(v, "last") is v
    oh = channel_order(channel_order(onehot, "first"), "last")
    assert oh.janggu.kind == model.ONEHOT_VIEW
    table = squeeze(reduce_dim(v, "pos", keepdims=True))
    assert channel_order(table.transpose("condition", "region", "strand"), "first").dims == (
        "region",
        "condition",
        "strand",
    )


def test_as_numpy_batch(onehot):
    v = cov_view(lazy=True)
    last = as_numpy_batch(v)
    assert isinstance(last, np.ndarray) and last.shape == (3, 6, 2, 3)
    np.testing.assert_array_equal(as_numpy_batch(v, channel="first"), np.moveaxis(last, 1, -1))
    got = as_numpy_batch(xr.Dataset({"x": onehot}), channel="first")
    np.testing.assert_array_equal(got["x"], onehot.values.transpose(0, 2, 1))


def test_channel_order_errors():
    with pytest.raises(InputError, match=r"\['last', 'first'\]"):
        channel_order(cov_view(), "middle")
    track = model.coverage_track(np.zeros((1, 4, 1, 1)), ["c"], [4], ["."], ["a"])
    with pytest.raises(
        InputError,
        match=r"got dims \('chrom', 'pos', 'strand', "
        r"'condition'\)",
    ):
        channel_order(track, "first")
    with pytest.raises(TypeError, match="DataArray"):
        as_numpy_batch(np.zeros(3))
