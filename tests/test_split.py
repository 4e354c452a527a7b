"""Subsets, train/test splits and storage-time shuffling of views."""

import json
import os

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import genomarray as ga
from genomarray.errors import ChromosomeError, InputError
from genomarray.model import REGION_INDEX
from genomarray.transforms.split import retile, shuffle, split_train_test, subset
from genomarray.views import shuffled
from genomarray.views.aligned import permutation
from genomarray.views.shuffled import MANIFEST, open_shuffled, write_shuffled

FASTA = ga.example_path("genome.fa")
ROI = ga.example_path("roi.bed")


@pytest.fixture(scope="module")
def dna():
    return ga.read_fasta(FASTA, cache=False)


@pytest.fixture(scope="module")
def tiles():
    return ga.tile(ROI, binsize=200, flank=20)


@pytest.fixture(scope="module")
def views(dna, tiles):
    """A lazy one-hot view and a numpy label view over the same tiles."""
    peaks = ga.read_bed(
        ga.example_path("peaks.narrowPeak"), like=dna, storage="memory", cache=False, progress=False
    )
    return {
        "dna": dna.janggu.view(tiles).janggu.onehot(order=2),
        "peaks": peaks.janggu.view(tiles).janggu.collapse(None, how="max"),
    }


# -- subset -----------------------------------------------------------------------------
def test_subset_by_chromosome(views):
    x = views["dna"]
    kept = subset(x, include=["chr1", "chr3"], exclude="chr3")
    chrom = x.chrom.values
    assert set(kept.chrom.values) == {"chr1"}
    assert kept.sizes["region"] == int((chrom == "chr1").sum())
    assert isinstance(kept.data, da.Array)  # still lazy
    np.testing.assert_array_equal(kept.values, x.values[chrom == "chr1"])
    assert kept.attrs == x.attrs
    assert subset(x, exclude=[]).sizes["region"] == x.sizes["region"]


def test_subset_by_overlap(views):
    y = views["peaks"]
    other = pd.DataFrame(
        {
            "chrom": ["chr1", "chr1", "chr2", "chrUn"],
            "start": [900, 5000, 100, 0],
            "end": [1001, 5600, 250, 10],
        }
    )
    kept = subset(y, regions=other)
    start, end, chrom = y.start.values, y.end.values, y.chrom.values
    want = np.zeros(len(start), dtype=bool)
    for _, r in other.iterrows():
        want |= (chrom == r.chrom) & (start < r.end) & (end > r.start)
    np.testing.assert_array_equal(kept.start.values, start[want])
    assert kept.sizes["region"] == int(want.sum()) > 0
    both = subset(y, include="chr2", regions=other)
    assert set(both.chrom.values) <= {"chr2"}
    with pytest.raises(ChromosomeError, match="did you mean 'chr1'"):
        subset(y, regions=pd.DataFrame({"chrom": ["1"], "start": [0], "end": [10]}))


def same_pos(dna, tiles):
    """A Dataset of views that share ``pos`` (xarray aligns a Dataset's variables)."""
    codes = dna.janggu.view(tiles)
    return xr.Dataset({"codes": codes, "onehot": codes.janggu.onehot(order=1)})


def test_subset_dataset_and_genome_wide(dna, tiles):
    ds = same_pos(dna, tiles)
    kept = subset(ds, include="chr2")
    assert set(kept.chrom.values) == {"chr2"}
    assert kept["codes"].sizes["region"] == kept["onehot"].sizes["region"]
    np.testing.assert_array_equal(
        kept["codes"].values, ds["codes"].values[ds.chrom.values == "chr2"]
    )
    genome = subset(dna, exclude=["chr2"])
    assert list(genome.chrom.values) == ["chr1", "chr3"]
    assert list(genome.chrom_length.values) == [40000, 20000]
    with pytest.raises(InputError, match="janggu.view"):
        subset(dna, regions=ROI)


def test_subset_errors(views):
    with pytest.raises(InputError, match="no filter"):
        subset(views["dna"])
    with pytest.raises(ChromosomeError, match="'1' is not in the array; did you mean 'chr1'"):
        subset(views["dna"], include=["1"])


# -- split ------------------------------------------------------------------------------
def test_split_train_test_dict(views):
    train, test = split_train_test(views, holdout_chroms=["chr2"])
    assert set(train) == set(test) == {"dna", "peaks"}
    chrom = views["dna"].chrom.values
    assert (
        train["dna"].sizes["region"]
        == train["peaks"].sizes["region"]
        == int((chrom != "chr2").sum())
    )
    assert test["dna"].sizes["region"] == int((chrom == "chr2").sum())
    assert set(test["peaks"].chrom.values) == {"chr2"}
    assert "chr2" not in set(train["dna"].chrom.values)
    np.testing.assert_array_equal(train["dna"].start.values, train["peaks"].start.values)
    np.testing.assert_array_equal(test["peaks"].values, views["peaks"].values[chrom == "chr2"])


def test_split_structures(views):
    x, y = views["dna"], views["peaks"]
    (tx, ty), (vx, vy) = split_train_test((x, y), "chr3")
    assert tx.sizes["region"] + vx.sizes["region"] == x.sizes["region"]
    train, test = split_train_test([x, {"y": y}], "chr3")
    assert isinstance(train, list) and set(train[1]) == {"y"}
    single_train, single_test = split_train_test(x, ["chr1", "chr3"])
    assert set(single_test.chrom.values) == {"chr1", "chr3"}
    with pytest.raises(InputError, match="holdout_chroms is empty"):
        split_train_test(x, [])


def test_split_mismatch_errors(views, dna):
    x, y = views["dna"], views["peaks"]
    with pytest.raises(
        InputError,
        match=r"arrays\['peaks'\] has 229 regions but "
        r"arrays\['dna'\] has 230",
    ):
        split_train_test({"dna": x, "peaks": y.isel(region=slice(1, None))}, "chr1")
    shifted = y.assign_coords(start=y.start + (np.arange(y.sizes["region"]) == 7) * 10)
    with pytest.raises(
        InputError,
        match=r"region 7 is chr1:\d+-\d+\(\+\) in arrays\['dna'\] "
        r"but chr1:\d+-\d+\(\+\) in arrays\['peaks'\]",
    ):
        split_train_test({"dna": x, "peaks": shifted}, "chr1")
    other = dna.janggu.view(ga.tile(ROI, binsize=100))
    with pytest.raises(InputError, match=r"arrays\[1\]"):
        split_train_test([x, other], "chr1")


# -- shuffle ----------------------------------------------------------------------------
def test_permutation_is_janggus():
    np.testing.assert_array_equal(permutation(50, 4), np.random.RandomState(4).permutation(50))
    rng = np.random.default_rng(0)
    assert sorted(permutation(10, rng).tolist()) == list(range(10))
    with pytest.raises(InputError, match="random_state"):
        permutation(10, "seed")


def test_shuffle_consistent_across_arrays(views):
    out = shuffle(views, random_state=11)
    perm = np.random.RandomState(11).permutation(views["dna"].sizes["region"])
    for key in views:
        np.testing.assert_array_equal(out[key][REGION_INDEX].values, perm)
        np.testing.assert_array_equal(out[key].start.values, views[key].start.values[perm])
        np.testing.assert_array_equal(out[key].values, views[key].values[perm])
    assert isinstance(out["dna"].data, da.Array)
    alone = shuffle(views["peaks"], 11)  # separate calls, same seed: same permutation
    np.testing.assert_array_equal(alone.start.values, out["dna"].start.values)
    twice = shuffle(out["peaks"], 5)  # composes: region_index points to the original order
    np.testing.assert_array_equal(twice.values, views["peaks"].values[twice[REGION_INDEX].values])
    with pytest.raises(InputError, match="does not share the regions"):
        shuffle({"a": views["dna"], "b": alone}, 1)


def test_write_shuffled_round_trip(views, tmp_path):
    path = tmp_path / "train"
    got = write_shuffled(views, path, random_state=2, chunk_regions=32, progress=False)
    want = shuffle(views, 2)
    manifest = json.loads((path / MANIFEST).read_text())
    assert manifest["keys"] == ["dna", "peaks"] and manifest["chunk_regions"] == 32
    assert sorted(os.listdir(path)) == ["dna.zarr", "peaks.zarr", MANIFEST]
    for key in views:
        assert got[key].chunks[0][:2] == (32, 32)
        np.testing.assert_array_equal(got[key].values, want[key].values)
        for c in ("chrom", "start", "end", "region_strand", "name", REGION_INDEX):
            np.testing.assert_array_equal(got[key][c].values, want[key][c].values)
        assert got[key].attrs["genomarray_kind"] == views[key].attrs["genomarray_kind"]
    again = open_shuffled(path)
    np.testing.assert_array_equal(
        again["peaks"][REGION_INDEX].values, np.random.RandomState(2).permutation(230)
    )
    np.testing.assert_array_equal(again["dna"].values, got["dna"].values)
    with pytest.raises(FileExistsError):
        write_shuffled(views, path, random_state=2, progress=False)


def test_write_shuffled_single_dataset_and_list(views, dna, tiles, tmp_path):
    one = write_shuffled(views["peaks"], tmp_path / "y.zarr", 9, progress=False)
    np.testing.assert_array_equal(one.values, shuffle(views["peaks"], 9).values)
    source = same_pos(dna, tiles)
    ds = write_shuffled(source, tmp_path / "ds", 9, progress=False)
    assert isinstance(ds, xr.Dataset) and set(ds.data_vars) == {"codes", "onehot"}
    np.testing.assert_array_equal(ds["codes"].values, shuffle(source, 9)["codes"].values)
    np.testing.assert_array_equal(ds.start.values, one.start.values)
    as_list = write_shuffled([views["peaks"]], tmp_path / "list", 9, progress=False)
    assert isinstance(as_list, list) and len(as_list) == 1


def test_write_shuffled_is_atomic(views, tmp_path):
    def boom(block):
        raise RuntimeError("disk full")

    y = views["peaks"]
    bad = y.copy(data=da.from_array(y.values, chunks=50).map_blocks(boom, dtype=y.dtype))
    with pytest.raises(RuntimeError, match="disk full"):
        write_shuffled({"dna": views["dna"], "bad": bad}, tmp_path / "out", 1, progress=False)
    assert os.listdir(tmp_path) == []


# -- retile -----------------------------------------------------------------------------
def test_retile_views_like_the_original(dna, views):
    x = views["dna"]
    codes = dna.janggu.view(retile(ROI, like=dna.janggu.view(ga.tile(ROI, binsize=200, flank=20))))
    np.testing.assert_array_equal(codes.janggu.onehot(order=2).values, x.values)
    new = pd.DataFrame({"chrom": ["chr3"], "start": [100], "end": [700]})
    other = dna.janggu.view(retile(new, like=x))
    assert other.shape == (3, 240) and other.attrs["flank"] == 20
    whole = ga.tile(ROI, collapse=True)
    assert retile(new, like=dna.janggu.view(whole)).attrs["collapse"] is True


def test_write_shuffled_spills_many_chunks_linearly(views, tmp_path, monkeypatch):
    """Dask inputs of many region chunks go through a scratch file: the gather graph is
    one task per output chunk (not chunks²), values equal the in-memory permutation, and
    nothing but the store is left next to it, also when the write fails."""

    x = views["dna"]
    lazy = x.copy(data=da.from_array(x.values, chunks=(10, -1, -1)))  # 23 region chunks
    assert shuffled._needs_spill(lazy)
    seen = []
    real = shuffled._spill_permuted

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        seen.append(len(dict(out.data.__dask_graph__())))
        return out

    monkeypatch.setattr(shuffled, "_spill_permuted", spy)
    got = write_shuffled(
        {"dna": lazy, "peaks": views["peaks"]},
        tmp_path / "out",
        4,
        chunk_regions=16,
        progress=False,
    )
    assert seen and seen[0] <= 2 * (-(-230 // 16))  # index chunk + gather task per chunk
    want = shuffle(views, 4)
    np.testing.assert_array_equal(got["dna"].values, want["dna"].values)
    np.testing.assert_array_equal(got["dna"][REGION_INDEX].values, want["dna"][REGION_INDEX])
    np.testing.assert_array_equal(got["peaks"].values, want["peaks"].values)
    assert os.listdir(tmp_path) == ["out"]

    def boom(block):
        raise RuntimeError("disk full")

    bad = lazy.copy(data=lazy.data.map_blocks(boom, dtype=lazy.dtype))
    with pytest.raises(RuntimeError, match="disk full"):
        write_shuffled(bad, tmp_path / "bad.zarr", 1, progress=False)
    assert os.listdir(tmp_path) == ["out"]

    # region axis not first, bool values: spilled; object values: the lazy permutation
    flags = lazy.copy(data=lazy.data > 0).transpose("pos", "region", ...)
    assert shuffled._needs_spill(flags)
    got = write_shuffled(flags, tmp_path / "flags.zarr", 4, progress=False)
    np.testing.assert_array_equal(got.transpose("region", ...).values, want["dna"].values > 0)
    names = xr.DataArray(
        da.from_array(x["name"].values.astype(object), chunks=10),
        dims="region",
        coords=x["name"].coords,
    )
    assert not shuffled._needs_spill(names)
