"""Every method of the ``.janggu`` accessors equals the library function it delegates to.

The accessors hold no logic (they validate and delegate): each test calls the method and
the function on the same input and asserts equal values, coordinates and attrs, plus one
bad input per kind of check.
"""

import inspect

import numpy as np
import pytest
import xarray as xr

import genomarray as ga
from genomarray import model
from genomarray.accessors.janggu import JangguArrayAccessor, JangguDatasetAccessor
from genomarray.errors import InputError
from genomarray.transforms.augment import augment_dataset
from genomarray.transforms.split import split_train_test, subset


@pytest.fixture(scope="module")
def data():
    dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    reads = ga.read_bam(ga.example_path("sample.bam"), storage="memory", progress=False)
    roi = ga.tile(ga.read_regions(ga.example_path("roi.bed")), binsize=200, flank=50)
    codes = ga.view(dna, roi)
    cov = ga.view(reads, roi)
    return {"dna": dna, "reads": reads, "roi": roi, "codes": codes, "cov": cov}


def same(a, b):
    if isinstance(a, xr.Dataset):
        assert set(a.data_vars) == set(b.data_vars)
        for name in a.data_vars:
            same(a[name], b[name])
        return
    xr.testing.assert_identical(a, b)


def test_every_accessor_method_is_tested():
    """A method added to an accessor without a test here fails this test."""
    tested = {
        "kind", "validate", "chrom_sizes", "regions", "view", "onehot", "revcomp",
        "collapse", "to_genome", "normalize", "denormalize", "flip", "augment",
        "with_reverse_complement", "reduce_dim", "squeeze", "channel_order", "as_numpy",
        "subset", "shuffle", "plot", "to_bigwig", "to_bedgraph", "to_bed", "to_zarr", "load",
        "split", "write_shuffled",
    }  # fmt: skip
    for cls in (JangguArrayAccessor, JangguDatasetAccessor):
        public = {n for n, _ in inspect.getmembers(cls) if not n.startswith("_")}
        assert public <= tested, f"{cls.__name__}: untested {sorted(public - tested)}"


def test_kind_validate_chrom_sizes_regions(data):
    assert data["dna"].janggu.kind == model.kind_of(data["dna"]) == model.SEQUENCE_GENOME
    assert data["cov"].janggu.validate() == model.validate(data["cov"]) == model.REGION_VIEW
    assert data["dna"].janggu.chrom_sizes() == model.chrom_sizes(data["dna"])
    regions = data["codes"].janggu.regions()
    assert regions.equals(model.regions_of(data["codes"]))
    with pytest.raises(ValueError, match="expected a region_view or onehot_view"):
        data["dna"].janggu.regions()


def test_view_onehot_revcomp(data):
    same(data["dna"].janggu.view(data["roi"]), ga.view(data["dna"], data["roi"]))
    same(data["dna"].janggu.view(data["roi"], flank=0), ga.view(data["dna"], data["roi"], 0))
    same(data["codes"].janggu.onehot(order=2), ga.onehot(data["codes"], order=2))
    same(data["codes"].janggu.revcomp(), ga.revcomp(data["codes"]))
    with pytest.raises(ValueError):
        data["dna"].janggu.onehot()


def test_collapse_normalize_denormalize_to_genome(data):
    cov = data["cov"]
    same(cov.janggu.collapse(50, how="mean"), ga.collapse(cov, 50, how="mean"))
    normed = cov.janggu.normalize("zscorelog")
    same(normed, ga.normalize(cov, "zscorelog"))
    same(normed.janggu.denormalize(), ga.denormalize(normed))
    same(cov.janggu.to_genome(how="max"), ga.to_genome(cov, how="max"))
    with pytest.raises(InputError):
        data["codes"].janggu.collapse(10)


def test_flip_augment_with_reverse_complement(data):
    x = ga.onehot(data["codes"])
    same(x.janggu.flip(), ga.flip(x))
    same(x.janggu.augment("flip", random_state=3), ga.augment(x, "flip", 3))
    same(x.janggu.with_reverse_complement(), ga.with_reverse_complement(x))


def test_shape_helpers(data):
    cov = data["cov"]
    same(cov.janggu.reduce_dim("strand"), ga.reduce_dim(cov, "strand"))
    one = cov.isel(strand=[0])
    same(one.janggu.squeeze(), ga.squeeze(one))
    same(cov.janggu.channel_order("first"), ga.channel_order(cov, "first"))
    np.testing.assert_array_equal(cov.janggu.as_numpy(), ga.as_numpy_batch(cov))


def test_subset_shuffle(data):
    x = data["codes"]
    same(x.janggu.subset(include="chr1"), subset(x, include="chr1"))
    same(x.janggu.shuffle(random_state=1), ga.shuffle(x, 1))


def test_writers(data, tmp_path):
    cov = data["cov"].astype(np.float32)
    a = cov.janggu.to_bigwig(tmp_path / "a")
    b = ga.to_bigwig(cov, tmp_path / "b")
    assert [p.name for p in map(_path, a)] == [p.name for p in map(_path, b)]
    for pa, pb in zip(a, b, strict=True):
        assert _path(pa).read_bytes() == _path(pb).read_bytes()
    a = cov.janggu.to_bedgraph(tmp_path / "ga")
    b = ga.to_bedgraph(cov, tmp_path / "gb")
    assert [_path(p).read_text() for p in a] == [_path(p).read_text() for p in b]
    cov.janggu.to_bed(tmp_path / "a.bed")
    ga.to_bed(cov, tmp_path / "b.bed")
    assert (tmp_path / "a.bed").read_text() == (tmp_path / "b.bed").read_text()
    stored = cov.janggu.to_zarr(tmp_path / "c.zarr", progress=False)
    np.testing.assert_array_equal(stored.values, cov.values)
    same(stored, ga.open_zarr(tmp_path / "c.zarr"))


def _path(p):
    from pathlib import Path

    return Path(p)


def test_plot(data):
    fig = data["cov"].janggu.plot("chr1:100-600")
    assert len(fig.axes) >= 1
    fig2 = ga.plot_track(data["cov"], "chr1:100-600")
    assert len(fig.axes) == len(fig2.axes)


def test_dataset_methods(data, tmp_path):
    genome = xr.Dataset({"dna": data["dna"]})
    same(genome.janggu.view(data["roi"]), ga.view(genome, data["roi"]))
    views = xr.Dataset({"codes": data["codes"], "cov": data["cov"]})
    same(views.janggu.onehot(order=2), ga.onehot(views, order=2))
    assert views.janggu.onehot()["cov"].equals(data["cov"])  # only codes are one-hot
    same(views.janggu.collapse(50), ga.collapse(views, 50))
    assert views.janggu.collapse(50)["codes"].equals(data["codes"])  # codes are kept
    same(views.janggu.normalize("zscore"), ga.normalize(views, "zscore"))
    same(views.janggu.flip(), ga.flip(views))
    same(views.janggu.augment("flip", random_state=2), augment_dataset(views, "flip", 2))
    same(views.janggu.with_reverse_complement(), ga.with_reverse_complement(views))
    same(views.janggu.subset(exclude="chr1"), subset(views, exclude="chr1"))
    same(views.janggu.shuffle(random_state=4), ga.shuffle(views, 4))
    for got, want in zip(views.janggu.split("chr2"), split_train_test(views, "chr2"), strict=True):
        same(got, want)
    views.janggu.write_shuffled(tmp_path / "s", random_state=5, progress=False)
    back = ga.open_shuffled(tmp_path / "s")
    np.testing.assert_array_equal(back["codes"].values, ga.shuffle(views, 5)["codes"].values)
    fig = views.janggu.plot("chr1:100-600")
    assert len(fig.axes) >= 2
    with pytest.raises(ValueError, match="no variable of kind"):
        xr.Dataset({"codes": data["codes"]}).janggu.view(data["roi"])


def test_load(data):
    cov = data["cov"]
    same(cov.janggu.load(), ga.load(cov))
    ds = xr.Dataset({"cov": cov})
    same(ds.janggu.load(), ga.load(ds))
