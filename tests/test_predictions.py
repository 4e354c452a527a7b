"""from_array shapes and labels; to_genome against a naive per-bp loop; round trips."""

import dask.array as da
import numpy as np
import pandas as pd
import pytest

import genomarray as ga
from genomarray import model
from genomarray.errors import ChromosomeError, InputError
from genomarray.transforms.collapse import collapse
from genomarray.views.predictions import from_array, to_genome

CHROMS = ["chr1", "chr2"]
LENGTHS = [400, 263]
SIZES = dict(zip(CHROMS, LENGTHS, strict=True))


def make_track(seed=0, resolution=1, strands=("+", "-"), conditions=("a", "b")):
    rng = np.random.default_rng(seed)
    n_bins = [-(-n // resolution) for n in LENGTHS]
    values = np.zeros((2, max(n_bins), len(strands), len(conditions)), np.float32)
    for i, n in enumerate(n_bins):
        values[i, :n] = rng.normal(size=(n, len(strands), len(conditions)))
    return model.coverage_track(values, CHROMS, LENGTHS, strands, conditions, resolution=resolution)


def roi(rows, **tiling):
    df = pd.DataFrame(rows, columns=["chrom", "start", "end", "name", "score", "strand"])
    return ga.tile(df, **tiling)


ROWS = [
    ("chr1", 0, 130, "r1", 0, "+"),
    ("chr1", 100, 290, "r2", 0, "-"),
    ("chr1", 300, 400, "r3", 0, "+"),
    ("chr2", 20, 263, "r4", 0, "-"),
]


@pytest.fixture
def view():
    return ga.view(make_track(), roi(ROWS, binsize=60, stepsize=40, flank=10))


# -- from_array -------------------------------------------------------------------------
def test_from_array_one_value_per_region(view):
    n = view.sizes["region"]
    p = from_array(np.arange(n * 3.0).reshape(n, 3), like=view)
    assert p.dims == (model.REGION, model.POS, model.STRAND, model.CONDITION)
    assert p.sizes["pos"] == 1 and p.attrs["resolution"] == "region"
    assert list(p["strand"].values) == ["."]
    assert list(p["condition"].values) == ["c0", "c1", "c2"]
    np.testing.assert_array_equal(p.values[:, 0, 0, :], np.arange(n * 3.0).reshape(n, 3))
    assert list(p["name"].values) == list(view["name"].values)
    np.testing.assert_array_equal(p["start"].values, view["start"].values)


def test_from_array_bins_and_strands_kept(view):
    n, width = view.sizes["region"], view.sizes["pos"]
    rng = np.random.default_rng(1)
    x3 = rng.normal(size=(n, width, 2))
    p3 = from_array(x3, like=view)
    assert p3.attrs["resolution"] == 1 and p3.sizes["strand"] == 1
    assert list(p3["condition"].values) == ["a", "b"]  # like's labels, counts match
    np.testing.assert_array_equal(p3.values[:, :, 0], x3)
    x4 = rng.normal(size=(n, width, 2, 1))
    p4 = from_array(x4, like=view, conditions=["pred"])
    assert list(p4["strand"].values) == ["+", "-"]
    np.testing.assert_array_equal(p4.values, x4)  # strands kept, never summed
    assert list(p4["condition"].values) == ["pred"]
    p1 = from_array(rng.normal(size=(n, width, 1, 1)), like=view)
    assert list(p1["strand"].values) == ["."]


def test_from_array_derives_resolution(view):
    n = view.sizes["region"]
    assert view.sizes["pos"] == 80
    for bins, res in [(80, 1), (40, 2), (16, 5), (8, 10), (1, 80)]:
        p = from_array(np.zeros((n, bins, 1)), like=view)
        assert p.attrs["resolution"] == res, bins
        assert p.attrs["window_bp"] == 80
    with pytest.raises(InputError, match="does not divide the window of 80 bp"):
        from_array(np.zeros((n, 7, 1)), like=view)


def test_from_array_like_a_onehot_view():
    dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    x = ga.view(dna, roi([("chr1", 1000, 1300, "a", 0, "+")], binsize=100)).janggu.onehot(3)
    assert x.sizes["pos"] == 98
    p = from_array(np.zeros((3, 10, 1)), like=x)
    assert p.attrs["resolution"] == 10


def test_from_array_errors(view):
    n, width = view.sizes["region"], view.sizes["pos"]
    with pytest.raises(
        InputError, match=f"predictions have {n + 1} rows but the view has {n} regions"
    ):
        from_array(np.zeros((n + 1, 2)), like=view)
    with pytest.raises(InputError, match="3 strands"):
        from_array(np.zeros((n, width, 3, 1)), like=view)
    with pytest.raises(InputError, match="shape"):
        from_array(np.zeros(n), like=view)
    with pytest.raises(InputError, match="2 condition labels for 1"):
        from_array(np.zeros((n, 1)), like=view, conditions=["a", "b"])
    with pytest.raises(ValueError, match="region_view or onehot_view"):
        from_array(np.zeros((2, 1)), like=make_track())


def test_from_array_stays_lazy(view):
    n, width = view.sizes["region"], view.sizes["pos"]
    x = da.random.default_rng(0).normal(size=(n, width, 2), chunks=(3, width, 2))
    p = from_array(x, like=view)
    assert isinstance(p.data, da.Array)
    np.testing.assert_allclose(p.values[:, :, 0], x.compute())


# -- to_genome against a naive per-bp loop ----------------------------------------------
def naive_genome(view, sizes, how, fill):
    """Per-bp loop: every window bin's value on every bp it covers (region extent only,
    minus-strand windows of a strand-aware view turned back), stitched by mean or max."""
    res = view.attrs["resolution"]
    flank = view.attrs.get("flank", 0)
    vals = np.asarray(view.values)
    n_pos, n_s, n_c = vals.shape[1:]
    width = view.attrs["window_bp"] if res == "region" else res
    span = n_pos * width
    window = view.attrs.get("window_bp", span)
    hits = {
        c: [[[[] for _ in range(n_c)] for _ in range(n_s)] for _ in range(n)]
        for c, n in sizes.items()
    }
    for i in range(view.sizes["region"]):
        chrom = str(view["chrom"].values[i])
        start, end = int(view["start"].values[i]), int(view["end"].values[i])
        minus = view.attrs.get("strand_aware") and view["region_strand"].values[i] == "-"
        grid = int(view.attrs.get("window_grid", 1 if res == "region" else res))
        ws = (start - flank) // grid * grid
        we = -(-(end + flank) // grid) * grid
        win_lo = we - window if minus else ws  # minus windows are anchored at their 5' end
        for j in range(n_pos):
            jj = n_pos - 1 - j if minus else j  # forward bin
            origin = win_lo + window - span if minus else win_lo
            for bp in range(origin + jj * width, origin + (jj + 1) * width):
                if not (max(ws, 0, win_lo) <= bp < min(end + flank, sizes[chrom], win_lo + window)):
                    continue
                for s in range(n_s):
                    ss = n_s - 1 - s if minus else s
                    for c in range(n_c):
                        hits[chrom][bp][ss][c].append(vals[i, j, s, c])
    out = np.full((len(sizes), max(sizes.values()), n_s, n_c), fill)
    reduce = np.mean if how == "mean" else np.max
    for ci, (chrom, n) in enumerate(sizes.items()):
        for bp in range(n):
            for s in range(n_s):
                for c in range(n_c):
                    got = hits[chrom][bp][s][c]
                    out[ci, bp, s, c] = reduce(got) if got else fill
    return out


@pytest.mark.parametrize("how", ["mean", "max"])
@pytest.mark.parametrize("fill", [0.0, np.nan])
def test_overlapping_windows_match_naive(view, how, fill):
    rng = np.random.default_rng(2)
    n, width = view.sizes["region"], view.sizes["pos"]
    p = from_array(rng.normal(size=(n, width, 2, 2)).astype(np.float32), like=view)
    g = to_genome(p, SIZES, how=how, fill=fill, chunk=64)
    assert g.dims == (model.CHROM, model.POS, model.STRAND, model.CONDITION)
    assert g.attrs["resolution"] == 1 and g.dtype == np.float32
    assert g.janggu.chrom_sizes() == SIZES
    assert isinstance(g.data, da.Array)
    expected = naive_genome(p, SIZES, how, fill)
    np.testing.assert_allclose(g.values, expected, rtol=1e-5, atol=1e-6)
    assert np.isnan(g.values).any() == np.isnan(fill)


def test_mean_and_max_differ_where_windows_overlap(view):
    n, width = view.sizes["region"], view.sizes["pos"]
    p = from_array(np.arange(n, dtype=np.float32)[:, None, None].repeat(width, 1), like=view)
    mean = to_genome(p, SIZES, how="mean").values[0, :, 0, 0]
    top = to_genome(p, SIZES, how="max").values[0, :, 0, 0]
    # windows 0 and 1 (starts 0, 40; width 80 with flank 10) both cover bp 30..69
    assert mean[50] == 0.5 and top[50] == 1.0
    assert mean[5] == top[5] == 0.0


@pytest.mark.parametrize("bins", [20, 10])  # 5 and 10 bp per bin of 100 bp windows
def test_coarser_predictions_match_naive(bins):
    regions = roi(
        [("chr1", 10, 390, "a", 0, "+"), ("chr2", 0, 250, "b", 0, "-")],
        binsize=80,
        stepsize=50,
        flank=10,
    )
    v = ga.view(make_track(), regions)
    rng = np.random.default_rng(3)
    p = from_array(rng.normal(size=(v.sizes["region"], bins, 1)), like=v)
    for how in ("mean", "max"):
        g = to_genome(p, SIZES, how=how, fill=np.nan)
        # window starts are multiples of 10, so output bins are the prediction bins
        assert g.attrs["resolution"] == p.attrs["resolution"]
        exact = naive_genome(p, SIZES, how, np.nan)
        res = p.attrs["resolution"]
        np.testing.assert_allclose(g.values, exact[:, ::res], rtol=1e-6)
        per_bp = to_genome(p, SIZES, how=how, fill=np.nan, resolution=1)
        np.testing.assert_allclose(per_bp.values, exact, rtol=1e-6)


def test_one_value_per_region_fills_its_extent():
    regions = roi(
        [
            ("chr1", 10, 50, "a", 0, "+"),
            ("chr1", 100, 130, "b", 0, "-"),
            ("chr2", 250, 263, "c", 0, "+"),
        ],
        flank=5,
        collapse=True,
    )
    v = ga.view(make_track(), regions)
    p = from_array(np.array([[1.0], [2.0], [3.0]]), like=v)
    g = to_genome(p, SIZES, how=None, fill=np.nan).values[:, :, 0, 0]
    expected = np.full((2, 400), np.nan)
    expected[0, 5:55] = 1
    expected[0, 95:135] = 2  # the region's own extent, not the padded 50 bp window
    expected[1, 245:263] = 3
    np.testing.assert_array_equal(g, expected)


def test_how_none_refuses_overlap(view):
    p = from_array(np.zeros((view.sizes["region"], 1)), like=view)
    with pytest.raises(InputError, match="regions overlap; choose how='mean' or 'max'"):
        to_genome(p, SIZES, how=None)
    apart = ga.view(make_track(), roi(ROWS[:1] + ROWS[2:], binsize=50))
    p = from_array(np.ones((apart.sizes["region"], 50, 1)), like=apart)
    # the short last tiles' padding is not placed
    lengths = (apart["end"] - apart["start"]).values
    assert lengths.min() < 50
    assert to_genome(p, SIZES, how=None).values.sum() == lengths.sum()


def test_chrom_sizes_sources_and_errors(view, tmp_path):
    p = from_array(np.ones((view.sizes["region"], 1)), like=view)
    assert p.attrs["chrom_sizes"] == SIZES  # views record the genome they were cut from
    del p.attrs["chrom_sizes"]
    with pytest.raises(InputError, match="chromosome sizes unknown; pass chrom_sizes="):
        to_genome(p)
    p.attrs["chrom_sizes"] = SIZES
    assert to_genome(p).janggu.chrom_sizes() == SIZES
    assert to_genome(p, make_track()).janggu.chrom_sizes() == SIZES
    sizes_file = tmp_path / "g.sizes"
    sizes_file.write_text("chr1\t400\nchr2\t263\nchr3\t10\n")
    g = to_genome(p, str(sizes_file))
    assert g.janggu.chrom_sizes() == {**SIZES, "chr3": 10}
    assert np.all(g.sel(chrom="chr3").values == 0)
    with pytest.raises(ChromosomeError, match="chr2"):
        to_genome(p, {"chr1": 400})
    with pytest.raises(InputError, match="unknown how"):
        to_genome(p, how="sum")


# -- round trips ------------------------------------------------------------------------
def covered(regions, flank, resolution=1):
    mask = np.zeros((2, max(-(-n // resolution) for n in LENGTHS)), bool)
    for row in regions.itertuples():
        ci = CHROMS.index(row.chrom)
        lo = max(row.start - flank, 0) // resolution
        hi = -(-min(row.end + flank, LENGTHS[ci]) // resolution)
        mask[ci, lo:hi] = True
    return mask


@pytest.mark.parametrize("how", ["mean", "max"])
@pytest.mark.parametrize("lazy", [False, True])
def test_minus_strand_round_trip(how, lazy):
    track = make_track(4)
    regions = roi(ROWS, binsize=70, stepsize=45, flank=12)
    source = track.chunk({"pos": 100}) if lazy else track
    v = ga.view(source, regions)
    assert (v["region_strand"].values == "-").any() and v.attrs["strand_aware"]
    p = from_array(v.values, like=v)
    back = to_genome(p, chrom_sizes=track, how=how, fill=np.nan, chunk=100)
    mask = covered(regions, 12)
    got = back.values
    np.testing.assert_allclose(got[mask], track.values[mask], rtol=1e-6)
    assert np.isnan(got[~mask]).all()
    assert list(back["strand"].values) == ["+", "-"]
    assert list(back["condition"].values) == ["a", "b"]


def test_round_trip_variable_length_and_coarse_track():
    track = make_track(5, resolution=10)
    regions = roi(
        [
            ("chr1", 13, 77, "a", 0, "-"),
            ("chr1", 150, 390, "b", 0, "+"),
            ("chr2", 200, 263, "c", 0, "-"),
        ],
        flank=6,
        collapse=True,
    )
    v = ga.view(track, regions)
    p = from_array(v.values, like=v)
    back = to_genome(p, chrom_sizes=track, fill=np.nan)
    assert back.attrs["resolution"] == 10
    mask = covered(regions, 6, resolution=10)
    np.testing.assert_allclose(back.values[mask], track.values[mask], rtol=1e-6)
    assert np.isnan(back.values[~mask]).all()


def test_collapsed_minus_windows_are_anchored_at_their_end():
    # a 57 bp window collapsed by 5 is padded to 60 bp; on the minus strand the padding
    # lies before the window's start once turned back
    track = make_track(6)
    regions = roi(
        [("chr1", 100, 145, "m", 0, "-"), ("chr2", 30, 75, "p", 0, "+")], binsize=45, flank=6
    )
    v = collapse(ga.view(track, regions), 5, "mean")
    assert v.sizes["pos"] == 12
    g = to_genome(v, SIZES, how="max", fill=np.nan, resolution=1)
    np.testing.assert_allclose(g.values, naive_genome(v, SIZES, "max", np.nan), rtol=1e-6)
    np.testing.assert_allclose(
        g.values[0, 147:151], v.values[0, 0, ::-1][None].repeat(4, 0), rtol=1e-6
    )


def test_many_contigs_one_graph_layer_and_exact():
    """An assembly with hundreds of contigs: one raw graph layer (not an array per block),
    values equal a naive per-bp placement on every contig."""
    rng = np.random.default_rng(3)
    sizes = {f"scaffold_{i}": int(n) for i, n in enumerate(rng.integers(50, 400, 600))}
    names = list(sizes)
    rows = []
    for i in rng.choice(len(names), 200, replace=False):
        start = int(rng.integers(0, sizes[names[i]] - 40))
        rows.append((names[i], start, start + 40))
    regions = pd.DataFrame(rows, columns=["chrom", "start", "end"])
    values = rng.normal(size=(len(rows), 40)).astype(np.float32)
    view = model.region_view(values, regions, resolution=1)
    track = to_genome(view, sizes, how="mean", fill=np.nan, chunk=128)
    assert len(track.data.dask.layers) == 1
    assert track.data.npartitions == len(sizes) * 4  # max length < 400: 4 chunks of 128
    expected = np.full((len(sizes), max(sizes.values())), np.nan)
    total = {}
    for (chrom, start, end), v in zip(rows, values, strict=True):
        c = names.index(chrom)
        for j in range(end - start):
            s, n = total.get((c, start + j), (0.0, 0))
            total[(c, start + j)] = (s + float(v[j]), n + 1)
    for (c, p), (s, n) in total.items():
        expected[c, p] = s / n
    np.testing.assert_allclose(track.values[:, :, 0, 0], expected, rtol=1e-6)


def test_empty_genomes():
    """No chromosomes, or only empty ones: an empty track of the right shape, no error."""
    regions = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [4]})
    view = model.region_view(np.ones((1, 4)), regions, resolution=1)
    assert to_genome(view.isel(region=slice(0, 0)), {}).shape == (0, 0, 1, 1)
    track = to_genome(view.isel(region=slice(0, 0)), {"chr1": 0})
    assert track.shape == (1, 0, 1, 1) and track.values.size == 0
