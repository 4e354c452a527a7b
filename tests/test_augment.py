"""Augmentations against naive per-example Python: reverse complement of one-hot (orders
1-3), coverage flips, scaling, shifts with padding, one draw shared by every array of an
example at different resolutions, lazy results independent of chunking, data doubling."""

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import genomarray as ga
from genomarray import encode, model
from genomarray.errors import InputError
from genomarray.transforms.augment import (
    CODES,
    COVERAGE,
    ONEHOT,
    PER_REGION,
    ArraySpec,
    Compose,
    Flip,
    Scale,
    Shift,
    as_augmentation,
    augment,
    augment_batch,
    augment_dataset,
    flip,
    flip_batch,
    scale_batch,
    shift_batch,
    specs_of,
    with_reverse_complement,
)
from genomarray.transforms.augment_fns import RegionRandom

from reference import naive_onehot

COMP = {"A": "T", "C": "G", "G": "C", "T": "A"}


def naive_rc(seq: str) -> str:
    return "".join(COMP.get(c, "N") for c in reversed(seq))


def naive_shift(seq, t, fill):
    """out[j] = seq[j - t], fill outside (works on str and lists)."""
    n = len(seq)
    out = [seq[j - t] if 0 <= j - t < n else fill for j in range(n)]
    return "".join(out) if isinstance(seq, str) else out


def naive_flip_cov(x, stranded):
    """x: (pos, strand, condition) -> reversed positions, strands swapped."""
    n_pos, n_str, n_cond = x.shape
    out = np.zeros_like(x)
    for j in range(n_pos):
        for s in range(n_str):
            for c in range(n_cond):
                out[j, s, c] = x[n_pos - 1 - j, (1 - s) if stranded else s, c]
    return out


# -- data ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dna():
    return ga.read_fasta(ga.example_path("genome.fa"), cache=False, chunk=8192)


@pytest.fixture(scope="module")
def roi():
    full = ga.tile(ga.read_regions(ga.example_path("roi.bed")), binsize=200, flank=50)
    pick = np.r_[0:12, 20:26, len(full) - 12 : len(full)]  # both strands
    out = full.iloc[pick].reset_index(drop=True)
    out.attrs = full.attrs
    return out


@pytest.fixture(scope="module")
def track(dna):
    sizes = dna.janggu.chrom_sizes()
    rng = np.random.default_rng(5)
    values = rng.integers(0, 9, size=(len(sizes), max(sizes.values()), 2, 2)).astype(np.float32)
    return model.coverage_track(values, list(sizes), list(sizes.values()), ["+", "-"], ["a", "b"])


@pytest.fixture(scope="module")
def views(dna, track, roi):
    codes = dna.janggu.view(roi).compute()
    cov = track.janggu.view(roi)
    return {
        "codes": codes,
        "dna": ga.onehot(codes),
        "cov1": cov,
        "cov5": cov.janggu.collapse(5, "sum"),
        "y": cov.janggu.collapse(None, "max"),
        "y_unstranded": cov.janggu.collapse(None, "max").isel(strand=[0]),
    }


def text(codes_row):
    return encode.decode(np.asarray(codes_row))


# -- flip -----------------------------------------------------------------------------------
@pytest.mark.parametrize("order", [1, 2, 3])
def test_flip_onehot_is_onehot_of_naive_revcomp(views, order):
    codes = views["codes"]
    x = ga.onehot(codes, order=order)
    spec = ArraySpec.of(x)
    assert (spec.kind, spec.order) == (ONEHOT, order)
    got = flip_batch(x.values, spec)
    lazy = flip(x)
    for i in range(codes.sizes["region"]):
        expect = naive_onehot(naive_rc(text(codes.values[i])), order)
        np.testing.assert_array_equal(got[i], expect)
    np.testing.assert_array_equal(lazy.values, got)
    assert list(lazy.region_strand.values) == [
        {"+": "-", "-": "+"}.get(s, s) for s in codes.region_strand.values
    ]


def test_flip_codes_and_twice_is_identity(views):
    codes = views["codes"].values
    spec = ArraySpec.of(views["codes"])
    assert spec.kind == CODES
    got = flip_batch(codes, spec)
    assert [text(r) for r in got] == [naive_rc(text(r)) for r in codes]
    for name in ("codes", "dna", "cov1", "cov5", "y"):
        s = ArraySpec.of(views[name])
        v = views[name].values
        np.testing.assert_array_equal(flip_batch(flip_batch(v, s), s), v)
    x3 = ga.onehot(views["codes"], order=3)
    assert bool((flip(flip(x3)) == x3).all())
    compat = x3.expand_dims({"strand": ["."]}, axis=2)  # Janggu's (region, pos, 1, base)
    spec = ArraySpec.of(compat)
    assert (spec.kind, spec.base_axis, spec.stranded) == (ONEHOT, 3, False)
    np.testing.assert_array_equal(
        flip_batch(compat.values, spec)[:, :, 0], flip_batch(x3.values, ArraySpec.of(x3))
    )


@pytest.mark.parametrize("name, stranded", [("cov1", True), ("cov5", True)])
def test_flip_coverage_reverses_and_swaps_strands(views, name, stranded):
    v = views[name]
    spec = ArraySpec.of(v)
    assert spec.kind == COVERAGE and spec.stranded is stranded
    mask = np.arange(v.sizes["region"]) % 3 == 0
    got = flip_batch(v.values, spec, mask)
    for i in range(v.sizes["region"]):
        expect = naive_flip_cov(v.values[i], stranded) if mask[i] else v.values[i]
        np.testing.assert_array_equal(got[i], expect)


def test_flip_unstranded_and_per_region(views):
    cov = views["cov1"].isel(strand=[0])
    spec = ArraySpec.of(cov)
    assert not spec.stranded
    got = flip_batch(cov.values, spec)
    np.testing.assert_array_equal(got, cov.values[:, ::-1])
    y, yu = views["y"], views["y_unstranded"]
    assert ArraySpec.of(y).kind == PER_REGION
    np.testing.assert_array_equal(flip_batch(yu.values, ArraySpec.of(yu)), yu.values)
    np.testing.assert_array_equal(
        flip_batch(y.values, ArraySpec.of(y)), y.values[:, :, ::-1]
    )  # strands swapped
    squeezed = yu.squeeze(["pos", "strand"])
    spec = ArraySpec.of(squeezed)
    assert spec.kind == PER_REGION and spec.pos_axis is None
    np.testing.assert_array_equal(flip_batch(squeezed.values, spec), squeezed.values)


def test_flip_mask_leaves_input_untouched(views):
    x = views["dna"].values
    before = x.copy()
    out = Flip(p=0.5).apply(x, {"flip": np.ones(len(x), bool)}, ArraySpec.of(views["dna"]))
    np.testing.assert_array_equal(x, before)
    assert not np.array_equal(out, x)


# -- scale ----------------------------------------------------------------------------------
@pytest.mark.parametrize("d", [0.05, 0.3])
def test_scale_draws_lie_in_range(d):
    for rng in (np.random.default_rng(1), RegionRandom(1, np.arange(50_000))):
        f = Scale(d).draw(50_000, rng)["scale"]
        assert f.min() >= 1 - d and f.max() <= 1 + d
        assert f.min() < 1 - 0.99 * d and f.max() > 1 + 0.99 * d  # the whole range
        assert abs(f.mean() - 1) < 0.01 * d + 0.002


def test_scale_applies_to_coverage_only(views):
    names = ["codes", "dna", "cov5", "y"]
    specs = specs_of({k: views[k] for k in names})
    assert [specs[k].scale for k in names] == [False, False, True, False]
    batch = {k: views[k].values for k in names}
    out = augment_batch(batch, specs, Scale(0.2), np.random.default_rng(3))
    f = Scale(0.2).draw(len(batch["dna"]), np.random.default_rng(3))["scale"]
    for k in ("codes", "dna", "y"):
        np.testing.assert_array_equal(out[k], batch[k])
    for i, fi in enumerate(f):
        np.testing.assert_allclose(out["cov5"][i], batch["cov5"][i] * np.float32(fi), rtol=1e-6)
    asked = augment_batch(
        batch,
        {**specs, "y": ArraySpec.of(views["y"], scale=True)},
        Scale(0.2),
        np.random.default_rng(3),
    )
    np.testing.assert_allclose(asked["y"][:, 0, 0, 0], batch["y"][:, 0, 0, 0] * f, rtol=1e-6)


def test_binary_labels_are_not_scaled_by_default():
    roi = pd.DataFrame({"chrom": ["c"], "start": [0], "end": [4]})
    y = model.region_view(
        np.ones((1, 4, 1, 1), np.float32),
        roi,
        ("strand", "condition"),
        coords={"strand": ["."]},
        resolution=1,
        mode="binary",
    )
    assert ArraySpec.of(y).scale is False
    assert ArraySpec.of(y, scale=True).scale is True


def test_scale_integer_counts_become_float32():
    out = scale_batch(
        np.full((2, 3), 4, np.int32), ArraySpec(COVERAGE, scale=True), np.array([0.5, 1.5])
    )
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[2, 2, 2], [6, 6, 6]])


# -- shift ----------------------------------------------------------------------------------
SHIFTS = np.array([0, 3, -3, 1, -1, 299, 300, -310, 17, -40] * 3)


def test_shift_codes_and_onehot_match_naive_padding(views):
    codes = views["codes"].values[:30]
    got = shift_batch(codes, ArraySpec.of(views["codes"]), SHIFTS)
    oh = shift_batch(views["dna"].values[:30], ArraySpec.of(views["dna"]), SHIFTS)
    for i, t in enumerate(SHIFTS):
        expect = naive_shift(text(codes[i]), int(t), "N")
        assert text(got[i]) == expect
        np.testing.assert_array_equal(oh[i], naive_onehot(expect, 1))


def test_shift_coverage_at_a_coarser_resolution_rounds_toward_zero(views):
    v = views["cov5"].values[:30]
    got = shift_batch(v, ArraySpec.of(views["cov5"]), SHIFTS)
    for i, t in enumerate(SHIFTS):
        tb = int(t / 5)  # toward zero
        rows = naive_shift([v[i, j] for j in range(v.shape[1])], tb, np.zeros_like(v[i, 0]))
        np.testing.assert_array_equal(got[i], np.stack(rows))
    y = views["y"].values[:30]
    np.testing.assert_array_equal(shift_batch(y, ArraySpec.of(views["y"]), SHIFTS), y)


def test_shift_channel_first_layout(views):
    x = views["dna"].values[:30]
    first = np.moveaxis(x, 1, 2)
    spec = ArraySpec(ONEHOT, pos_axis=2, base_axis=1)
    got = shift_batch(first, spec, SHIFTS)
    np.testing.assert_array_equal(
        np.moveaxis(got, 2, 1), shift_batch(x, ArraySpec.of(views["dna"]), SHIFTS)
    )
    np.testing.assert_array_equal(
        np.moveaxis(flip_batch(first, spec), 2, 1), flip_batch(x, ArraySpec.of(views["dna"]))
    )


def test_shift_draws():
    s = Shift(12).draw(20_000, np.random.default_rng(0))["shift"]
    assert set(s.tolist()) == set(range(-12, 13))
    s = Shift(12, step=5).draw(2_000, RegionRandom(0, np.arange(2_000)))["shift"]
    assert set(s.tolist()) == {-10, -5, 0, 5, 10}


@pytest.mark.parametrize("order", [2, 3])
def test_augmenting_codes_then_onehot_equals_augmenting_onehot(views, order):
    """What lets an adapter augment the small uint8 codes before one-hot per batch."""
    codes = views["codes"]
    x = ga.onehot(codes, order=order)
    aug = as_augmentation(["flip", "shift"], shift=20)
    params = aug.draw(codes.sizes["region"], np.random.default_rng(order))
    via_codes = aug.apply(codes.values, params, ArraySpec.of(codes))
    direct = aug.apply(x.values, params, ArraySpec.of(x))
    np.testing.assert_array_equal(encode.onehot(via_codes, order), direct)


# -- one draw per example, shared by every array ------------------------------------------
def test_same_draw_for_every_array_of_an_example(views):
    names = ["dna", "cov5", "y", "y_unstranded"]
    batch = {k: views[k].values for k in names}
    specs = specs_of({k: views[k] for k in names})
    aug = as_augmentation(["flip", "shift"], shift=12)
    out = augment_batch(batch, specs, aug, np.random.default_rng(11))
    params = aug.draw(len(batch["dna"]), np.random.default_rng(11))
    flips, shifts = params[0]["flip"], params[1]["shift"]
    assert flips.any() and not flips.all()
    assert any(t < 0 and t % 5 for t in shifts) and any(t > 0 and t % 5 for t in shifts)
    codes = views["codes"].values
    for i in range(len(codes)):
        seq = text(codes[i])
        seq = naive_rc(seq) if flips[i] else seq
        np.testing.assert_array_equal(
            out["dna"][i], naive_onehot(naive_shift(seq, int(shifts[i]), "N"), 1)
        )
        cov = batch["cov5"][i]
        cov = naive_flip_cov(cov, True) if flips[i] else cov
        rows = naive_shift(list(cov), int(shifts[i] / 5), np.zeros_like(cov[0]))
        np.testing.assert_array_equal(out["cov5"][i], np.stack(rows))
        y = batch["y"][i]
        np.testing.assert_array_equal(out["y"][i], y[:, ::-1] if flips[i] else y)
        np.testing.assert_array_equal(out["y_unstranded"][i], batch["y_unstranded"][i])


# -- lazy DataArrays ------------------------------------------------------------------------
def test_augment_lazy_equals_numpy_and_ignores_chunking(views):
    aug = Compose([Flip(), Shift(9), Scale(0.25)])
    for name in ("dna", "cov5"):
        arr = views[name].compute()
        eager = augment(arr, aug, random_state=7)
        assert isinstance(eager.data, np.ndarray)
        for chunks in (7, 13, 1):
            lazy = augment(arr.chunk({"region": chunks}), aug, random_state=7)
            assert isinstance(lazy.data, da.Array)
            np.testing.assert_array_equal(lazy.values, eager.values)
        batch = augment_batch(
            {name: arr.values},
            {name: ArraySpec.of(arr)},
            aug,
            RegionRandom(7, np.arange(arr.sizes["region"])),
        )
        np.testing.assert_array_equal(eager.values, batch[name])
        assert eager.dims == arr.dims and eager.attrs["augmentation"].startswith("Compose")
        np.testing.assert_array_equal(eager.start.values, arr.start.values)
    other = augment(views["dna"], aug, random_state=8)
    assert not np.array_equal(other.values, augment(views["dna"], aug, 7).values)


def test_augment_dataset_uses_one_draw_for_every_variable(views):
    names = ["codes", "dna", "cov5", "y"]
    views_ = {k: views[k].chunk({"region": c}) for k, c in zip(names, [5, 9, 4, 30], strict=True)}
    aug = as_augmentation(["flip", "shift", "scale"], shift=12, scale=0.1)
    out = augment_dataset(views_, aug, random_state=3)  # a dict: different resolutions
    n = views["dna"].sizes["region"]
    expect = augment_batch(
        {k: views[k].values for k in names},
        specs_of({k: views[k] for k in names}),
        aug,
        RegionRandom(3, range(n)),
    )
    for k in names:
        assert isinstance(out[k].data, da.Array)
        np.testing.assert_array_equal(out[k].values, expect[k])
    np.testing.assert_array_equal(ga.onehot(out["codes"]).values, out["dna"].values)
    ds = xr.Dataset(
        {"codes": views_["codes"], "dna": views_["dna"], "cov1": views["cov1"]}, attrs={"a": 1}
    )
    got = augment_dataset(ds, aug, random_state=3)
    assert isinstance(got, xr.Dataset) and got.attrs == {"a": 1}
    for k in ("codes", "dna"):
        np.testing.assert_array_equal(got[k].values, expect[k])
    np.testing.assert_array_equal(got["cov1"].values, augment(views["cov1"], aug, 3).values)


def test_with_reverse_complement_doubles_the_data(views):
    x = ga.onehot(views["codes"].chunk({"region": 8}), order=2)
    d = with_reverse_complement(x)
    n = x.sizes["region"]
    assert d.sizes["region"] == 2 * n and isinstance(d.data, da.Array)
    np.testing.assert_array_equal(d.values[:n], x.values)
    np.testing.assert_array_equal(d.values[n:], ga.revcomp(x).values)
    np.testing.assert_array_equal(d.start.values, np.tile(x.start.values, 2))
    swapped = [{"+": "-", "-": "+"}.get(s, s) for s in x.region_strand.values]
    assert list(d.region_strand.values) == list(x.region_strand.values) + swapped
    ds = with_reverse_complement({"x": views["cov5"], "y": views["y"]})
    np.testing.assert_array_equal(ds["y"].values[n:], views["y"].values[:, :, ::-1])
    np.testing.assert_array_equal(ds["x"].values[n:, ::-1, ::-1], views["cov5"].values)


# -- errors ---------------------------------------------------------------------------------
def test_errors(dna, views):
    with pytest.raises(InputError, match=r"'rotate'.*\['flip', 'scale', 'shift'\]"):
        as_augmentation("rotate")
    with pytest.raises(InputError, match=r"got dims \('chrom', 'pos'\)"):
        ArraySpec.of(dna)
    with pytest.raises(InputError, match="unknown array kind"):
        ArraySpec("bogus")
    with pytest.raises(InputError, match="cannot be scaled"):
        ArraySpec.of(views["codes"], scale=True)
    with pytest.raises(InputError, match=r"\[0, 1\)"):
        Scale(1.5)
    with pytest.raises(InputError, match="integer >= 0"):
        Shift(-1)
    with pytest.raises(InputError, match="probability"):
        Flip(p=2)
    with pytest.raises(InputError, match=r"no ArraySpec for \['y'\]"):
        augment_batch(
            {"dna": views["dna"].values, "y": views["y"].values},
            {"dna": ArraySpec.of(views["dna"])},
            "flip",
        )
    with pytest.raises(InputError, match="different numbers of examples"):
        augment_batch(
            {"a": np.zeros((2, 3)), "b": np.zeros((3, 3))},
            {"a": ArraySpec(COVERAGE), "b": ArraySpec(COVERAGE)},
            "flip",
        )
    prot = ArraySpec(CODES, alphabet="protein", fill=20)
    with pytest.raises(InputError, match="needs a DNA array"):
        flip_batch(np.zeros((1, 5), np.uint8), prot)
    with pytest.raises(InputError, match="random_state"):
        augment(views["dna"], "flip", random_state="seed")
