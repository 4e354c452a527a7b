"""Normalizers against direct numpy computations: padding excluded from the statistics,
fit-on-first-use reuse, lists and functions as specs, lazy (zarr) equals eager, exact
out-of-core percentiles, provenance in attrs (zarr round trip, from_params, inverse), bad
input."""

import re
import warnings

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import genomarray as ga
from genomarray import model
from genomarray.errors import InputError
from genomarray.genome import store
from genomarray.transforms import normalize as nz
from genomarray.transforms import normalize_fns
from genomarray.transforms.collapse import collapse
from genomarray.transforms.normalize_fns import condition_moments, condition_percentile
from genomarray.views.geometry import padding_mask

LENGTHS = [50, 20]  # chrom "b" is short: pos 20..49 of its row is padding


def make_track(seed=0, resolution=1, padding_value=0.0, dtype=np.float32):
    """Random counts; the padding cells hold ``padding_value`` (0 in real tracks)."""
    rng = np.random.default_rng(seed)
    n_bins = [-(-n // resolution) for n in LENGTHS]
    values = np.full((2, max(n_bins), 2, 2), padding_value, dtype=dtype)
    for i, n in enumerate(n_bins):
        values[i, :n] = rng.poisson([[2.0, 9.0]], size=(n, 2, 2))
    return model.coverage_track(
        values, ["a", "b"], LENGTHS, ["+", "-"], ["c1", "c2"], resolution=resolution
    )


def data_cells(track):
    """The non-padding cells of a track, ``(cells, condition)`` float64 (numpy reference)."""
    res = track.attrs["resolution"]
    x = np.asarray(track.values, dtype=np.float64)
    rows = [x[i, : -(-n // res)] for i, n in enumerate(LENGTHS)]
    return np.concatenate(rows).reshape(-1, x.shape[-1])


def padding(track):
    res = track.attrs["resolution"]
    pad = np.zeros(track.shape, bool)
    for i, n in enumerate(LENGTHS):
        pad[i, -(-n // res) :] = True
    return pad


def zarr_copy(arr, tmp_path, name="t.zarr", chunks=None):
    path = store.write_zarr(arr, tmp_path / name, chunks=chunks or {"pos": 16}, progress=False)
    return store.open_zarr(path)


# -- each normalizer against numpy --------------------------------------------------------
def test_zscore_matches_numpy_and_ignores_padding():
    t = make_track(padding_value=1000.0)  # garbage in the padding must not matter
    ref = data_cells(t)
    mean, std = ref.mean(axis=0), ref.std(axis=0, ddof=1)
    out = nz.normalize(t, "zscore")
    expect = (t.values.astype(np.float64) - mean) / std
    pad = padding(t)
    np.testing.assert_allclose(out.values[~pad], expect[~pad], rtol=1e-6)
    assert np.all(out.values[pad] == 0)  # padding is put back to the fill value
    assert out.dtype == np.float32 and out.dims == t.dims
    got = out.attrs["normalizers"][-1]["params"]
    np.testing.assert_allclose([got["mean"]["c1"], got["mean"]["c2"]], mean, rtol=1e-12)
    np.testing.assert_allclose([got["std"]["c1"], got["std"]["c2"]], std, rtol=1e-12)


def test_zscorelog_and_log_match_numpy():
    t = make_track()
    pad = padding(t)
    logged = np.log1p(t.values.astype(np.float64))
    np.testing.assert_allclose(nz.normalize(t, "log").values, logged, rtol=1e-6)
    ref = np.log1p(data_cells(t))
    expect = (logged - ref.mean(axis=0)) / ref.std(axis=0, ddof=1)
    out = nz.normalize(t, "zscorelog").values
    np.testing.assert_allclose(out[~pad], expect[~pad], rtol=1e-5)
    assert np.all(out[pad] == 0)


def test_tpm_and_binsizenorm_match_numpy():
    t = make_track(resolution=10)
    pad = padding(t)
    x = t.values.astype(np.float64)
    np.testing.assert_allclose(nz.normalize(t, "binsizenorm").values, x / 10, rtol=1e-6)
    per_kb = data_cells(t) / 10 * 1000
    expect = x / 10 * 1000 / (per_kb.sum(axis=0) / 1e6)
    out = nz.normalize(t, "tpm")
    np.testing.assert_allclose(out.values, expect, rtol=1e-5)
    sums = out.values.astype(np.float64)[~pad].reshape(-1, 2).sum(axis=0)
    np.testing.assert_allclose(sums, [1e6, 1e6], rtol=1e-5)


@pytest.mark.parametrize("q", [99, 50, 0.5, 100])
def test_perctrim_matches_numpy_percentile(q):
    t = make_track(padding_value=1000.0)
    ref = data_cells(t)
    thr = np.percentile(ref, q, axis=0)
    out = nz.normalize(t, nz.PercentileTrimming(q)).values
    pad = padding(t)
    expect = np.minimum(t.values.astype(np.float64), thr)
    np.testing.assert_allclose(out[~pad], expect[~pad], rtol=1e-6)
    params = out_params = nz.PercentileTrimming(q).fit(t).params
    assert params["percentile"] == q
    np.testing.assert_allclose(list(out_params["threshold"].values()), thr, rtol=1e-12)


def test_perctrim_default_is_99():
    t = make_track()
    entry = nz.normalize(t, "perctrim").attrs["normalizers"][0]
    assert entry["name"] == "perctrim" and entry["params"]["percentile"] == 99
    np.testing.assert_allclose(
        list(entry["params"]["threshold"].values()),
        np.percentile(data_cells(t), 99, axis=0),
        rtol=1e-12,
    )


# -- exact out-of-core percentiles ---------------------------------------------------------
@pytest.mark.parametrize("gather_max", [1 << 20, 3])
def test_percentile_is_exact_on_ties_negatives_and_chunks(monkeypatch, gather_max):
    """Tolerance: 1e-12 relative (the selection is exact; only the interpolation rounds).

    ``gather_max=3`` forces every histogram pass down to the last of the 64 key bits."""
    monkeypatch.setattr(normalize_fns, "GATHER_MAX", gather_max)
    rng = np.random.default_rng(5)
    values = np.zeros((2, 300, 1, 3))
    values[..., 0] = rng.normal(0, 1e-3, (2, 300, 1))  # continuous, negative and positive
    values[..., 1] = np.where(rng.random((2, 300, 1)) < 0.9, 0.0, rng.integers(1, 4, (2, 300, 1)))
    values[..., 2] = -rng.exponential(1e6, (2, 300, 1))
    values[1, 250:] = np.nan  # NaN cells are skipped like padding
    t = model.coverage_track(values, ["a", "b"], [300, 300], ["."], ["x", "y", "z"])
    lazy = t.chunk({"pos": 37})
    flat = values.reshape(-1, 3)
    for q in (0.1, 25, 50, 99, 99.9, 100):
        expect = np.nanpercentile(flat, q, axis=0)
        np.testing.assert_allclose(condition_percentile(lazy, q), expect, rtol=1e-12)
    np.testing.assert_allclose(
        condition_percentile(t, 99), np.nanpercentile(flat, 99, 0), rtol=1e-12
    )


def test_percentile_of_an_empty_condition_is_nan_and_not_clipped():
    t = make_track()
    mask = xr.DataArray(np.array([True, False]), dims=[model.CONDITION])
    assert np.isnan(condition_percentile(t, 99, mask=mask)[1])
    with pytest.warns(RuntimeWarning, match="no data"):
        out = nz.PercentileTrimming(50)(t, mask=mask)
    np.testing.assert_allclose(out.values[..., 1], t.values[..., 1])


# -- fitting once, reusing -----------------------------------------------------------------
def test_fit_on_first_use_then_reuse_on_test_data():
    train, test = make_track(seed=1), make_track(seed=2)
    z = nz.ZScore()
    assert not z.fitted
    z(train)
    ref = data_cells(train)
    out = z(test)  # test data scaled with the training statistics
    expect = (test.values.astype(np.float64) - ref.mean(0)) / ref.std(0, ddof=1)
    pad = padding(test)
    np.testing.assert_allclose(out.values[~pad], expect[~pad], rtol=1e-6)
    # a name creates a fresh normalizer each call: the test data's own statistics
    own = nz.normalize(test, "zscore").attrs["normalizers"][0]["params"]["mean"]["c1"]
    assert own == pytest.approx(data_cells(test)[:, 0].mean())
    assert own != pytest.approx(ref[:, 0].mean())


def test_explicit_fit_transform_and_fit_transform():
    train, test = make_track(seed=1), make_track(seed=2)
    a = nz.ZScoreLog().fit(train)
    b = nz.ZScoreLog()
    np.testing.assert_allclose(a.transform(test).values, nz.ZScoreLog(**a.params)(test).values)
    np.testing.assert_allclose(b.fit_transform(train).values, a.transform(train).values)
    with pytest.raises(InputError, match="not fitted"):
        nz.ZScore().transform(test)


def test_tpm_object_reuses_the_first_total():
    train, test = make_track(seed=1), make_track(seed=2)
    tpm = nz.TPM()
    tpm(train)
    total = data_cells(train).sum(0) * 1000
    np.testing.assert_allclose(tpm(test).values, test.values * 1000 / (total / 1e6), rtol=1e-5)


def test_given_mean_fits_the_spread_around_it():
    t = make_track()
    ref = data_cells(t)
    z = nz.ZScore(mean=0.0).fit(t)
    expect = np.sqrt((ref**2).sum(0) / (len(ref) - 1))
    np.testing.assert_allclose(list(z.params["std"].values()), expect, rtol=1e-12)


def test_conditions_must_match_the_fitted_ones():
    t = make_track()
    z = nz.ZScore().fit(t)
    other = t.assign_coords({model.CONDITION: ["c1", "c3"]})
    with pytest.raises(InputError, match=r"c3"):
        z.transform(other)


# -- specs: lists, functions, masks ------------------------------------------------------
def test_list_spec_applies_in_order():
    t = make_track(resolution=10)
    both = nz.normalize(t, ["binsizenorm", "log", "zscore"])
    by_hand = nz.normalize(nz.normalize(nz.normalize(t, "binsizenorm"), "log"), "zscore")
    np.testing.assert_allclose(both.values, by_hand.values)
    assert [s["name"] for s in both.attrs["normalizers"]] == ["binsizenorm", "log", "zscore"]
    other = nz.normalize(t, ["zscore", "binsizenorm"])
    assert not np.allclose(other.values, nz.normalize(t, ["binsizenorm", "zscore"]).values)


def test_callable_spec_and_numpy_result():
    t = make_track()

    def double(arr):
        return arr * 2

    out = nz.normalize(t, [double, lambda arr: np.asarray(arr.values) + 1])
    np.testing.assert_allclose(out.values, t.values * 2 + 1)
    names = [s["params"]["function"] for s in out.attrs["normalizers"]]
    assert names[0].endswith("double") and "lambda" in names[1]
    with pytest.raises(InputError, match="cannot be rebuilt"):
        nz.from_params(out.attrs["normalizers"])


def test_user_mask_restricts_the_statistics():
    t = make_track()
    keep = np.zeros((2, 50), bool)
    keep[0, :25] = True  # only the first half of chrom a
    mask = xr.DataArray(keep, dims=[model.CHROM, model.POS])
    z = nz.ZScore().fit(t, mask=mask)
    ref = t.values[0, :25].astype(np.float64).reshape(-1, 2)
    np.testing.assert_allclose(list(z.params["mean"].values()), ref.mean(0), rtol=1e-12)
    full = np.broadcast_to(keep[:, :, None, None], t.shape)
    assert nz.ZScore().fit(t, mask=full).params == z.params
    with pytest.raises(InputError, match="broadcast"):
        nz.ZScore().fit(t, mask=np.ones(7, bool))


# -- lazy equals eager ---------------------------------------------------------------------
@pytest.mark.parametrize("spec", ["zscore", "zscorelog", "tpm", "perctrim", "log", "binsizenorm"])
def test_lazy_zarr_track_equals_eager(tmp_path, spec):
    t = make_track(resolution=5)
    z = zarr_copy(t, tmp_path, chunks={"pos": 3})
    assert isinstance(z.data, da.Array) and len(z.chunks[1]) > 1
    lazy, eager = nz.normalize(z, spec), nz.normalize(t, spec)
    assert isinstance(lazy.data, da.Array)  # transform stays lazy
    assert isinstance(eager.data, np.ndarray)
    np.testing.assert_allclose(lazy.values, eager.values, rtol=1e-6)
    assert flat_params(lazy) == pytest.approx(flat_params(eager), rel=1e-12)


def flat_params(arr):
    """The numbers of the last normalizer's params, ``{"key/condition": value}``."""
    out = {}
    for key, value in arr.attrs["normalizers"][-1]["params"].items():
        items = value.items() if isinstance(value, dict) else [("", value)]
        out.update({f"{key}/{c}": v for c, v in items})
    return out


def test_moments_are_stable_far_from_zero():
    """float64 accumulators + Chan's merge: a large offset does not swamp the variance."""
    rng = np.random.default_rng(3)
    values = 1e9 + rng.normal(0, 1, (1, 4000, 1, 1))
    t = model.coverage_track(values, ["a"], [4000], ["."], ["x"]).chunk({"pos": 333})
    st = condition_moments(t)
    np.testing.assert_allclose(st["var"], values.var(ddof=1), rtol=1e-9)


# -- views ---------------------------------------------------------------------------------
def view_rows():
    return pd.DataFrame(
        {
            "chrom": ["a", "b", "a"],
            "start": [0, 12, 20],
            "end": [10, 20, 30],
            "name": ["r0", "r1", "r2"],
            "strand": ["+", "-", "."],
        }
    )


def expected_view_mask(v, flank=5):
    """Plain-Python reference: a bin counts if inside the region's own window and its chrom."""
    n = v.sizes[model.POS]
    out = np.zeros((v.sizes[model.REGION], n), bool)
    for r, row in view_rows().iterrows():
        chrom_len = LENGTHS[["a", "b"].index(row.chrom)]
        minus = row.strand == "-"  # minus windows are anchored at their 5' (right) end
        first = row.end + flank - n if minus else row.start - flank
        for i in range(n):
            bp = first + i
            out[r, i] = 0 <= bp < chrom_len and row.start - flank <= bp < row.end + flank
        if minus:
            out[r] = out[r, ::-1]
    return out


def test_view_padding_excluded_from_statistics_and_reset():
    t = make_track()
    v = ga.view(t, view_rows(), flank=5)
    keep = expected_view_mask(v)
    assert not keep.all()
    np.testing.assert_array_equal(padding_mask(v).values, keep)
    ref = np.asarray(v.values, np.float64)[keep].reshape(-1, 2)
    out = nz.normalize(v, "zscore")
    expect = (v.values - ref.mean(0)) / ref.std(0, ddof=1)
    np.testing.assert_allclose(out.values[keep], expect[keep], rtol=1e-6)
    assert np.all(out.values[~keep] == 0)
    lazy = nz.normalize(ga.view(t.chunk({"pos": 16}), view_rows(), flank=5), "zscore")
    assert isinstance(lazy.data, da.Array)
    np.testing.assert_allclose(lazy.values, out.values, rtol=1e-6)


def test_collapsed_views():
    t = make_track()
    v = ga.view(t, view_rows(), flank=5)
    per_region = collapse(v, None, "sum")
    out = nz.normalize(per_region, "binsizenorm")
    lengths = np.array([20, 18, 20])  # [start - 5, end + 5): region r1 is 8 bp long
    np.testing.assert_allclose(
        out.values, per_region.values / lengths[:, None, None, None], rtol=1e-6
    )
    binned = collapse(v, 4, "sum")
    keep = padding_mask(binned)
    assert keep is not None and not bool(keep.all())
    z = nz.normalize(binned, "zscore")
    assert np.all(z.values[~keep.values] == 0)
    ref = binned.values[keep.values].reshape(-1, 2).astype(np.float64)
    np.testing.assert_allclose(
        list(z.attrs["normalizers"][0]["params"]["mean"].values()), ref.mean(0), rtol=1e-12
    )


def test_realistic_bam_track_and_view():
    cov = ga.read_bam(ga.example_path("sample.bam"), storage="memory", progress=False)
    sizes = list(ga.model.chrom_sizes(cov).values())
    cells = np.concatenate([cov.values[i, :n] for i, n in enumerate(sizes)])
    cells = cells.astype(np.float64).reshape(-1, cov.sizes[model.CONDITION])
    logged = np.log1p(cells)
    zl = nz.normalize(cov, "zscorelog")
    got = zl.attrs["normalizers"][0]["params"]
    assert got["mean"]["sample"] == pytest.approx(logged.mean(), rel=1e-12)
    assert got["std"]["sample"] == pytest.approx(logged.std(ddof=1), rel=1e-12)
    assert float(zl.values[2, sizes[2] :].max(initial=0)) == 0  # chr3's padding stays 0
    tpm = nz.normalize(cov, "tpm")
    assert float(tpm.values.astype(np.float64).sum()) == pytest.approx(1e6, rel=1e-5)
    thr = nz.PercentileTrimming(99.9).fit(cov).params["threshold"]["sample"]
    assert thr == pytest.approx(np.percentile(cells, 99.9), rel=1e-12)
    roi = ga.tile(ga.read_regions(ga.example_path("roi.bed")), binsize=200, flank=100)
    v = nz.normalize(ga.view(cov, roi), nz.ZScoreLog(**got))
    assert v.sizes == ga.view(cov, roi).sizes and np.isfinite(v.values).all()


# -- provenance ----------------------------------------------------------------------------
def test_provenance_survives_zarr_and_reproduces(tmp_path):
    train, test = make_track(seed=1, resolution=10), make_track(seed=2, resolution=10)
    spec = ["binsizenorm", "perctrim", "zscorelog"]
    out = nz.normalize(train, spec)
    back = zarr_copy(out, tmp_path, "norm.zarr", chunks={"pos": 2})
    assert back.attrs["normalizers"] == out.attrs["normalizers"]
    steps = nz.from_params(back.attrs["normalizers"])
    assert [type(s) for s in steps] == [
        nz.RegionLengthNormalization,
        nz.PercentileTrimming,
        nz.ZScoreLog,
    ]
    np.testing.assert_allclose(nz.normalize(train, steps).values, out.values, rtol=1e-6)
    np.testing.assert_allclose(
        nz.normalize(train, back.attrs["normalizers"]).values, out.values, rtol=1e-6
    )  # entries are specs too
    # fitted on train, reproduced on test: same as reusing the objects
    objs = nz.steps_of(spec)
    nz.normalize(train, objs)
    np.testing.assert_allclose(nz.normalize(test, steps).values, nz.normalize(test, objs).values)


@pytest.mark.parametrize(
    "spec",
    [["zscore"], ["log", "zscore"], ["zscorelog"], ["tpm"], ["binsizenorm", "tpm", "zscore"]],
)
def test_inverse_round_trip(spec):
    t = make_track(resolution=10, dtype=np.float64)
    out = nz.normalize(t, spec)
    back = nz.denormalize(out)
    np.testing.assert_allclose(back.values, t.values, rtol=1e-9, atol=1e-9)
    assert back.attrs["normalizers"] == [] and back.dtype == np.float64
    z = nz.from_params(out.attrs["normalizers"][-1])
    again = z.inverse_transform(out)
    assert again.attrs["normalizers"] == out.attrs["normalizers"][:-1]


def test_perctrim_is_not_invertible():
    out = nz.normalize(make_track(), ["log", "perctrim"])
    with pytest.raises(InputError, match="perctrim"):
        nz.denormalize(out)


# -- bad input -----------------------------------------------------------------------------
def test_zero_variance_centres_with_a_warning():
    values = np.full((1, 6, 1, 2), 4.0)
    values[0, :, 0, 1] = np.arange(6)
    t = model.coverage_track(values, ["a"], [6], ["."], ["flat", "varied"])
    with pytest.warns(RuntimeWarning, match="flat"):
        out = nz.normalize(t, "zscore")
    assert np.all(out.values[..., 0] == 0) and np.isfinite(out.values).all()
    assert out.attrs["normalizers"][0]["params"]["std"]["flat"] == 1.0
    np.testing.assert_allclose(
        out.values[0, :, 0, 1], (np.arange(6) - 2.5) / np.arange(6).std(ddof=1), rtol=1e-6
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nz.normalize(t.isel({model.CONDITION: [1]}), "zscore")  # no warning when not flat


@pytest.mark.parametrize("bad", [0, -1, 100.5, "99", True, None])
def test_bad_percentile(bad):
    with pytest.raises(InputError, match=r"\(0, 100\]"):
        nz.PercentileTrimming(bad)


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(InputError) as err:
        nz.normalize(make_track(), "minmax")
    for name in ("tpm", "zscore", "zscorelog", "binsizenorm", "perctrim", "log"):
        assert repr(name) in str(err.value)


def test_sequences_and_onehot_are_rejected():
    dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    roi = ga.tile(ga.read_regions(ga.example_path("roi.bed")), binsize=100)
    seq_view = ga.view(dna, roi)
    for arr, kind in (
        (dna, "sequence_genome"),
        (seq_view, "region_view"),
        (ga.onehot(seq_view), "onehot_view"),
    ):
        expect = f"got a {kind} with dims {tuple(arr.dims)}"
        with pytest.raises(InputError, match="expected a coverage track .*" + re.escape(expect)):
            nz.normalize(arr, "zscore")
    with pytest.raises(InputError, match="expected an xarray.DataArray"):
        nz.normalize(np.zeros((2, 2)), "zscore")


def test_denormalize_refuses_after_reduce_dim_or_scaling():
    """After a reduction or signal scaling the recorded inverse no longer applies."""
    rng = np.random.default_rng(5)
    t = model.coverage_track(rng.random((1, 6, 2, 1)) * 10, ["a"], [6], ["+", "-"], ["x"])
    z = nz.normalize(t, "zscore")
    reduced = ga.reduce_dim(z, model.STRAND, keepdims=True)
    with pytest.raises(InputError, match="changed by reduce_dim"):
        nz.denormalize(reduced)
    roi = pd.DataFrame({"chrom": ["a"], "start": [0], "end": [6]})
    scaled = ga.augment(ga.view(z, roi), "scale", random_state=1, scale=0.5)
    with pytest.raises(InputError, match="signal scaling"):
        nz.denormalize(scaled)
    np.testing.assert_allclose(nz.denormalize(z).values, t.values, rtol=1e-5)
