"""collapse() against naive per-group Python loops: padding (never cyclic), whole regions,
lazy vs eager, tracks and views, errors."""

import dask.array as da
import numpy as np
import pandas as pd
import pytest

import genomarray as ga
from genomarray import model
from genomarray.errors import InputError
from genomarray.transforms.collapse import collapse
from genomarray.views.geometry import window_layout

CHROMS = ["chr1", "chr2"]
LENGTHS = [230, 157]

PY_HOW = {"sum": sum, "mean": lambda v: sum(v) / len(v), "max": max, "min": min}


def make_track(seed=0, resolution=1, lengths=LENGTHS, strands=("+", "-"), conditions=("a", "b")):
    rng = np.random.default_rng(seed)
    n_bins = [-(-n // resolution) for n in lengths]
    values = np.zeros((len(lengths), max(n_bins), len(strands), len(conditions)), np.float32)
    for i, n in enumerate(n_bins):
        values[i, :n] = rng.integers(-5, 20, size=(n, len(strands), len(conditions)))
    return model.coverage_track(
        values, CHROMS[: len(lengths)], lengths, strands, conditions, resolution=resolution
    )


def naive_bins(x, k, how, fill=0.0, partial="pad"):
    """Reduce groups of k along axis 1 with plain Python, padding the last group."""
    x = np.asarray(x)
    n_out = -(-x.shape[1] // k)
    out = None
    for idx in np.ndindex(x.shape[0], *x.shape[2:]):
        row = [float(v) for v in x[(idx[0], slice(None), *idx[1:])]]
        for b in range(n_out):
            group = row[b * k : (b + 1) * k]
            if partial == "pad":
                group = group + [fill] * (k - len(group))
            val = how(np.array(group)) if callable(how) else PY_HOW[how](group)
            if out is None:
                out = np.zeros((x.shape[0], n_out, *x.shape[2:]))
            out[(idx[0], b, *idx[1:])] = val
    return out


def resize_bins(x, k, how):
    """Janggu's reduction: np.resize repeats the array cyclically up to a multiple of k."""
    n_out = -(-x.shape[1] // k)
    resized = np.resize(x, (x.shape[0], n_out * k))
    return getattr(np, how)(resized.reshape(x.shape[0], n_out, k), axis=2)


def roi(rows, binsize=None, stepsize=None, flank=0, collapse_=False):
    df = pd.DataFrame(rows, columns=["chrom", "start", "end", "name", "score", "strand"])
    return ga.tile(df, binsize=binsize, stepsize=stepsize, flank=flank, collapse=collapse_)


ROWS = [
    ("chr1", 0, 120, "edge", 0, "+"),
    ("chr1", 100, 217, "mid", 0, "-"),
    ("chr2", 40, 157, "end", 0, "+"),
]


def test_padding_is_not_cyclic_repetition():
    x = np.array([[1.0, 2, 3, 4, 5, 6, 7]])
    regions = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [7]})
    v = model.region_view(x, regions, resolution=1)
    for how in ("sum", "mean", "min"):
        got = collapse(v, 3, how).values
        np.testing.assert_allclose(got, naive_bins(x, 3, how))
        assert not np.allclose(got, resize_bins(x, 3, how)), how
    # last group padded: [7, 0, 0], not [7, 1, 2]
    np.testing.assert_array_equal(collapse(v, 3, "sum").values, [[6, 15, 7]])
    np.testing.assert_array_equal(resize_bins(x, 3, "sum"), [[6, 15, 10]])
    np.testing.assert_array_equal(collapse(v, 3, "max", fill=-1).values, [[3, 6, 7]])
    np.testing.assert_array_equal(collapse(v, 3, "min", fill=-1).values, [[1, 4, -1]])


@pytest.mark.parametrize("binsize", [50, 51])  # windows of 56 and 57 bins (flank 3)
@pytest.mark.parametrize("k", [2, 3, 5])
@pytest.mark.parametrize("how", ["sum", "mean", "max", "min"])
def test_view_bins_match_naive(binsize, k, how):
    v = ga.view(make_track(), roi(ROWS, binsize=binsize, flank=3))
    assert v.sizes["pos"] == binsize + 6
    got = collapse(v, k, how)
    np.testing.assert_allclose(got.values, naive_bins(v.values, k, how), rtol=1e-6)
    assert got.sizes["pos"] == -(-v.sizes["pos"] // k)
    assert got.attrs["resolution"] == k
    np.testing.assert_array_equal(got["pos"].values, np.arange(got.sizes["pos"]))
    assert list(got["name"].values) == list(v["name"].values)
    assert list(got["condition"].values) == ["a", "b"]
    assert got.attrs["flank"] == 3 and got.attrs["binsize"] == binsize
    ignore = collapse(v, k, how, partial="ignore")
    np.testing.assert_allclose(
        ignore.values, naive_bins(v.values, k, how, partial="ignore"), rtol=1e-6
    )


def test_mean_counts_padding_unless_ignored():
    x = np.array([[2.0, 4, 6, 8, 10]])
    v = model.region_view(x, pd.DataFrame({"chrom": ["c"], "start": [0], "end": [5]}), resolution=1)
    np.testing.assert_allclose(collapse(v, 2, "mean").values, [[3, 7, 5]])
    np.testing.assert_allclose(collapse(v, 2, "mean").values * 2, collapse(v, 2).values)
    np.testing.assert_allclose(collapse(v, 2, "mean", partial="ignore").values, [[3, 7, 10]])


@pytest.mark.parametrize("k", [2, 3, 5])
def test_callable_sees_groups_on_last_axis(k):
    v = ga.view(make_track(1), roi(ROWS, binsize=50, flank=3))
    seen = []

    def spread(values, axis):
        seen.append((values.shape, axis))
        return values.max(axis=axis) - values.min(axis=axis)

    got = collapse(v, k, spread)
    assert all(shape[-1] == k and axis == -1 for shape, axis in seen)
    np.testing.assert_allclose(got.values, naive_bins(v.values, k, np.ptp))
    np.testing.assert_allclose(collapse(v, k, np.median).values, naive_bins(v.values, k, np.median))


def test_callable_with_wrong_shape_fails_clearly():
    v = ga.view(make_track(), roi(ROWS, binsize=50))
    with pytest.raises(InputError, match="returned shape"):
        collapse(v, 5, lambda values, axis: values)


@pytest.mark.parametrize("how", ["sum", "mean", "max", "min"])
def test_track_bins_match_naive(how):
    t = make_track(2)
    got = collapse(t, 7, how)
    assert got.dims == t.dims
    assert got.sizes["pos"] == -(-230 // 7)
    np.testing.assert_allclose(got.values, naive_bins(t.values, 7, how), rtol=1e-6)
    assert got.attrs["resolution"] == 7
    assert got.janggu.chrom_sizes() == dict(zip(CHROMS, LENGTHS, strict=True))
    assert "pos" not in got.coords
    assert got.janggu.validate() == model.COVERAGE_TRACK


def test_track_at_a_coarser_resolution():
    t = make_track(3, resolution=10)
    got = collapse(t, 30, "sum")
    assert got.attrs["resolution"] == 30
    np.testing.assert_allclose(got.values, naive_bins(t.values, 3, "sum"))
    same = collapse(t, 10, "sum")
    np.testing.assert_array_equal(same.values, t.values)
    with pytest.raises(InputError, match="multiple of the current resolution"):
        collapse(t, 25)


@pytest.mark.parametrize("how", ["sum", "mean", "max", "min", np.median])
def test_lazy_equals_eager(how):
    t = make_track(4)
    lazy_track = t.chunk({"pos": 7})
    got = collapse(lazy_track, 3, how)
    assert isinstance(got.data, da.Array)
    np.testing.assert_allclose(got.values, collapse(t, 3, how).values, rtol=1e-6)
    regions = roi(ROWS * 3, binsize=51, flank=3)
    lazy_view = ga.view(lazy_track, regions, batch_bytes=2_000)
    assert isinstance(lazy_view.data, da.Array) and len(lazy_view.chunks[0]) > 1
    eager_view = ga.view(t, regions)
    for res in (5, None):
        got = collapse(lazy_view, res, how)
        assert isinstance(got.data, da.Array)
        np.testing.assert_allclose(got.values, collapse(eager_view, res, how).values, rtol=1e-6)


def test_numpy_stays_numpy():
    v = ga.view(make_track(), roi(ROWS, binsize=50))
    assert isinstance(collapse(v, 5).data, np.ndarray)
    assert isinstance(collapse(v, None).data, np.ndarray)


VAR_ROWS = [
    ("chr1", 10, 30, "short_plus", 0, "+"),
    ("chr1", 50, 110, "long_minus", 0, "-"),
    ("chr1", 200, 229, "edge_minus", 0, "-"),
    ("chr2", 3, 8, "tiny_plus", 0, "+"),
    ("chr2", 140, 150, "end_plus", 0, "."),
]


def naive_region(track, row, flank, how):
    """Reduce the region's own window on the track, padded with 0 past chromosome ends,
    in the view's orientation (minus: reversed, strands swapped)."""
    ci = CHROMS.index(row.chrom)
    length = LENGTHS[ci]
    cols = []
    for p in range(row.start - flank, row.end + flank):
        cols.append(track[ci, p] if 0 <= p < length else np.zeros(track.shape[2:]))
    w = np.stack(cols)
    if row.strand == "-":
        w = w[::-1, ::-1]
    if callable(how):
        return np.apply_along_axis(how, 0, w)
    return {"sum": w.sum, "mean": w.mean, "max": w.max, "min": w.min}[how](axis=0)


@pytest.mark.parametrize("how", ["sum", "mean", "max", "min", lambda v: v[0], lambda v: v[-1]])
@pytest.mark.parametrize("lazy", [False, True])
def test_one_value_per_variable_length_region(how, lazy):
    t = make_track(5)
    regions = roi(VAR_ROWS, flank=4, collapse_=True)
    source = t.chunk({"pos": 50}) if lazy else t
    v = ga.view(source, regions, batch_bytes=1_000)
    assert v.sizes["pos"] == 60 + 8  # longest region + flanks; the others are padded
    fn = (
        how
        if isinstance(how, str)
        else (lambda values, axis, f=how: np.apply_along_axis(f, axis, values))
    )
    got = collapse(v, None, fn)
    assert got.sizes["pos"] == 1 and got.attrs["resolution"] == "region"
    expected = np.stack([naive_region(t.values, row, 4, how) for row in regions.itertuples()])
    np.testing.assert_allclose(got.values[:, 0], expected, rtol=1e-6)
    if how == "mean":  # the padding of shorter regions is left out, not averaged in
        assert not np.allclose(v.mean("pos").values, got.values[:, 0])


def test_region_resolution_records_geometry_and_refuses_more():
    t = make_track(6)
    v = ga.view(t, roi(ROWS, binsize=50, flank=2))
    one = collapse(v, None, "max")
    assert one.attrs["window_bp"] == 54 and one.attrs["window_grid"] == 1
    assert collapse(one, None, "max").sizes["pos"] == 1
    with pytest.raises(InputError, match="one value per region"):
        collapse(one, 2)
    lay = window_layout(collapse(v, 4))
    assert lay["bin"] == 4 and lay["window_bp"] == 54


def test_collapse_then_whole_region_equals_whole_region():
    t = make_track(7)
    v = ga.view(t, roi(VAR_ROWS, flank=4, collapse_=True))
    # binning first pads with 0s only, which a sum ignores; the whole-region mask then
    # covers every bin holding part of the region
    coarse = collapse(collapse(v, 4, "sum"), None, "sum")
    fine = collapse(v, None, "sum")
    np.testing.assert_allclose(coarse.values, fine.values, rtol=1e-6)


@pytest.mark.parametrize("bad", [0, -2, 2.5, "10", True, 3])
def test_bad_resolution(bad):
    t = make_track(resolution=2)
    with pytest.raises(InputError, match="positive integer multiple"):
        collapse(t, bad)


def test_bad_how_partial_and_kinds():
    t = make_track()
    with pytest.raises(InputError, match="unknown how='median'"):
        collapse(t, 2, "median")
    with pytest.raises(InputError, match="partial"):
        collapse(t, 2, partial="drop")
    with pytest.raises(InputError, match="needs a region view"):
        collapse(t, None)
    dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    with pytest.raises(InputError, match="sequence codes"):
        collapse(ga.view(dna, roi(ROWS, binsize=50)), 5)
    with pytest.raises(ValueError, match="expected a region_view or coverage_track"):
        collapse(dna, 5)
    ints = make_track().astype(np.int32)
    ints.attrs = make_track().attrs
    with pytest.raises(InputError, match="cannot pad"):
        collapse(ints, 7, fill=np.nan)
    assert collapse(ints, 7, "sum").dtype == np.int64
