"""Empty views, tracks and batches work everywhere.

A tiling can yield no window at all: Janggu's own test tiles ``sample_equalsize.bed`` (four
200-bp regions) with ``binsize=210, zero_padding=False`` and gets 0 windows (4 with
``zero_padding=True``), and its datasets over such a tiling are empty (length 0). Here every
step of the pipeline takes such an empty view: views, one-hot, collapse, normalize (fitting
statistics on no cells is a clear error; transforming an empty view is fine), the way back
to the genome, the exporters, shuffles and splits, the compat constructors and the keras
adapters.
"""

import gzip
import os

import numpy as np
import pandas as pd
import pytest

import genomarray as ga
from genomarray import compat
from genomarray.errors import InputError
from genomarray.transforms import split
from genomarray.transforms.normalizers import ZScore
from genomarray.views.predictions import from_array, to_genome

EQUALSIZE = pd.DataFrame(  # Janggu's sample_equalsize.bed
    {"chrom": "chr1", "start": [15000, 15200, 15400, 15600], "end": [15200, 15400, 15600, 15800]}
)
FASTA = ga.example_path("genome.fa")
BAM = ga.example_path("sample.bam")
BIGWIG = ga.example_path("sample.bw")
PEAKS = ga.example_path("peaks.narrowPeak")


@pytest.fixture(scope="module")
def tiles():
    return ga.tile(EQUALSIZE, binsize=210, stepsize=20, zero_padding=False)


@pytest.fixture(scope="module")
def codes(tiles):
    return ga.read_fasta(FASTA, cache=False).janggu.view(tiles)


@pytest.fixture(scope="module", params=["memory", "lazy"])
def cover(request, tiles):
    track = ga.read_bam(BAM, storage=request.param, cache=False, progress=False)
    return track.janggu.view(tiles)


def test_tiling_yields_no_window(tiles):
    assert len(tiles) == 0
    assert len(ga.tile(EQUALSIZE, binsize=210, stepsize=20, zero_padding=True)) == 4
    gi = compat.GenomicIndexer.create_from_file(
        EQUALSIZE, binsize=210, stepsize=20, zero_padding=False
    )
    assert len(gi) == 0 and list(gi) == [] and gi.tostr() == []
    assert len(compat.GenomicIndexer.create_from_file(EQUALSIZE, 210, 20, zero_padding=True)) == 4


def test_views_and_onehot(codes, cover):
    assert codes.shape == (0, 210) and codes.values.shape == (0, 210)
    assert cover.shape == (0, 210, 2, 1) and cover.values.shape == (0, 210, 2, 1)
    for order, dtype in ((1, "float32"), (3, "uint8")):
        x = codes.janggu.onehot(order, dtype=dtype)
        assert x.shape == (0, 211 - order, 4**order) and x.values.dtype == np.dtype(dtype)
        assert x.janggu.revcomp().values.shape == x.shape
        assert x.janggu.augment("flip").values.shape == x.shape


def test_collapse_and_shape(cover):
    assert cover.janggu.collapse(50, how="sum").values.shape == (0, 5, 2, 1)
    assert cover.janggu.collapse(None, how="max").values.shape == (0, 1, 2, 1)
    assert ga.reduce_dim(cover, "strand").values.shape == (0, 210, 1)
    assert ga.squeeze(cover).shape == (0, 210, 2)
    assert cover.janggu.flip().values.shape == (0, 210, 2, 1)
    assert cover.janggu.as_numpy().shape == (0, 210, 2, 1)


def test_normalize_empty(cover):
    for name in ("log", "binsizenorm"):  # no statistics: fine
        assert cover.janggu.normalize(name).values.shape == (0, 210, 2, 1)
    for name in ("zscore", "zscorelog", "tpm", "perctrim"):
        with pytest.raises(InputError, match="cannot fit .* on an empty array"):
            cover.janggu.normalize(name)
    fitted = ZScore(mean=1.0, std=2.0)  # statistics known: transforming is fine
    assert fitted(cover).values.shape == (0, 210, 2, 1)
    trained = ZScore()
    full = ga.read_bam(BAM, storage="memory", cache=False, progress=False).janggu.view(
        ga.tile(EQUALSIZE, binsize=200)
    )
    trained(full)
    assert trained(cover).shape == (0, 210, 2, 1)


def test_back_to_the_genome_and_exporters(cover, tmp_path):
    track = to_genome(cover)
    assert track.dims == ("chrom", "pos", "strand", "condition")
    assert float(track.sum()) == 0.0
    pred = from_array(np.zeros((0, 1)), like=cover)
    assert pred.shape == (0, 1, 1, 1)
    assert from_array(np.zeros((0, 210, 2, 1)), like=cover).shape == (0, 210, 2, 1)
    import pyBigWig

    paths = ga.to_bigwig(cover, tmp_path / "bw")
    assert len(paths) == 2
    for p in paths:
        bw = pyBigWig.open(str(p))
        assert bw.intervals("chr1") is None  # a valid file without records
        bw.close()
    for p in ga.to_bedgraph(cover, tmp_path / "bg"):
        assert p.read_text() == ""
    bed = ga.to_bed(cover, tmp_path / "x.bed.gz")
    lines = gzip.open(bed, "rt").read().splitlines()
    assert lines == ["#chrom\tstart\tend\tname\tscore\tstrand\tsample.plus\tsample.minus"]


def test_plot_of_an_empty_view_says_why(cover):
    from genomarray.export.plot import plot_tracks

    with pytest.raises(InputError, match="no region of the track"):
        plot_tracks({"x": cover}, "chr1:0-1000")


def test_shuffle_split_subset(cover, tmp_path):
    assert split.shuffle(cover, 1).shape == cover.shape
    train, test = split.split_train_test({"x": cover}, ["chr2"])
    assert train["x"].shape == test["x"].shape == (0, 210, 2, 1)
    assert split.subset(cover, include="chr1").shape == (0, 210, 2, 1)
    from genomarray.views.shuffled import open_shuffled, write_shuffled

    write_shuffled({"x": cover}, tmp_path / "s.zarr", random_state=1)
    assert open_shuffled(tmp_path / "s.zarr")["x"].shape == (0, 210, 2, 1)


@pytest.mark.parametrize("storage", ["ndarray", "hdf5"])
def test_compat_constructors(storage, tmp_path):
    kw = {"roi": EQUALSIZE, "binsize": 210, "stepsize": 20, "zero_padding": False}
    dna = compat.Bioseq.create_from_refgenome("dna", FASTA, order=2, storage=storage, **kw)
    assert len(dna) == 0 and dna.shape == (0, 209, 1, 16) and dna[:].dtype == np.int8
    assert dna[:].shape == (0, 209, 1, 16) and dna.iseq4idx([]).shape == (0, 209)
    reads = compat.Cover.create_from_bam("reads", BAM, resolution=50, storage=storage, **kw)
    assert reads.shape == (0, 5, 2, 1) and reads[:].shape == (0, 5, 2, 1)
    signal = compat.Cover.create_from_bigwig("sig", BIGWIG, resolution=None, **kw)
    assert signal.shape == (0, 1, 1, 1)
    peaks = compat.Cover.create_from_bed("peaks", PEAKS, storage="sparse", **kw)
    assert peaks.shape == (0, 210, 1, 1)
    assert compat.ReduceDim(peaks).shape == (0, 1)
    assert compat.view(compat.ReduceDim(peaks), EQUALSIZE).shape == (0, 1)
    pred = compat.Cover.create_from_array("pred", np.zeros((0, 1)), compat.ReduceDim(peaks))
    assert pred.shape == (0, 1, 1, 1)
    pred.export_to_bigwig(tmp_path)
    assert os.listdir(tmp_path) == ["pred.Cond_0.bigwig"]
    with pytest.raises(InputError, match="empty array"):
        compat.Cover.create_from_bam("reads", BAM, normalizer="zscore", **kw)
    assert compat.Cover.create_from_bam("reads", BAM, normalizer="binsizenorm", **kw).shape == (
        0,
        210,
        2,
        1,
    )


def test_empty_batches():
    pytest.importorskip("keras")
    from genomarray.keras.dataset import GenomicSequence

    x = compat.Bioseq.create_from_refgenome(
        "dna", FASTA, roi=EQUALSIZE, binsize=210, stepsize=20, zero_padding=False
    )
    assert len(compat.JangguSequence(x, batch_size=8)) == 0
    with pytest.raises(IndexError):
        compat.JangguSequence(x, batch_size=8)[0]
    assert len(GenomicSequence({"dna": x.native}, batch_size=8)) == 0
