"""genomarray.compat: Janggu's constructors give the native API's values in Janggu's shapes."""

import importlib.util
import inspect
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import genomarray as ga
from genomarray import compat
from genomarray.compat import Bioseq, Cover
from genomarray.errors import ChromosomeError, InputError

FASTA = ga.example_path("genome.fa")
ROI = ga.example_path("roi.bed")
BAM = ga.example_path("sample.bam")
BIGWIG = ga.example_path("sample.bw")
PEAKS = ga.example_path("peaks.narrowPeak")
SEQS = ga.example_path("seqs.fa")


def native_dna(binsize, flank=0, order=1):
    dna = ga.read_fasta(FASTA, cache=False)
    return dna.janggu.view(ga.tile(ROI, binsize=binsize, flank=flank)).janggu.onehot(order)


@pytest.fixture(scope="module")
def bam_track():
    return ga.read_bam(BAM, storage="memory", cache=False, progress=False)


# -- Bioseq -----------------------------------------------------------------------------
@pytest.mark.parametrize("storage", ["ndarray", "hdf5"])
def test_refgenome_equals_native(storage):
    x = Bioseq.create_from_refgenome(
        "dna", refgenome=FASTA, roi=ROI, binsize=200, flank=50, order=2, storage=storage
    )
    native = native_dna(200, 50, 2)
    assert x.name == "dna" and len(x) == 230
    assert x.shape == (230, 300 - 2 + 1, 1, 16)
    assert x.dims == ("region", "pos", "strand", "base")
    assert list(x.strand.values) == ["."] and list(x.base.values) == ga.kmer_labels(2)
    np.testing.assert_array_equal(x.values[:, :, 0, :], native.values)
    for c in ("chrom", "start", "end", "region_strand", "name"):
        np.testing.assert_array_equal(x[c].values, native[c].values)
    assert x.janggu.validate() == "onehot_view"


def test_refgenome_indexing_is_numpy_like():
    x = Bioseq.create_from_refgenome("dna", FASTA, roi=ROI, binsize=100)
    batch = np.asarray(x[0:4])
    assert batch.shape == (4, 100, 1, 4) and batch.dtype == np.int8  # as Janggu documents
    assert set(batch.sum(axis=-1).ravel().tolist()) <= {0.0, 1.0}
    np.testing.assert_array_equal(np.asarray(x[[5, 1]]), x.values[[5, 1]])


def test_refgenome_without_roi():
    genome = Bioseq.create_from_refgenome("dna", FASTA, store_whole_genome=True)
    assert genome.dims == ("chrom", "pos") and genome.name == "dna"
    with pytest.raises(InputError, match="roi must be supplied"):
        Bioseq.create_from_refgenome("dna", FASTA)


def test_bioseq_storage_names():
    with pytest.raises(InputError, match="storage must be one of"):
        Bioseq.create_from_refgenome("dna", FASTA, roi=ROI, binsize=200, storage="sparse")


def test_from_seq_dna_and_protein():
    x = Bioseq.create_from_seq("seqs", SEQS, order=2)
    native = ga.read_sequences(SEQS).janggu.onehot(order=2)
    assert x.shape == (30, 199, 1, 16)
    np.testing.assert_array_equal(x.values[:, :, 0], native.values)
    assert list(x["name"].values[:2]) == ["seq_0", "seq_1"]
    p = Bioseq.create_from_seq(
        "prot", ga.example_path("proteins.fa"), seqtype="protein", fixedlen=60
    )
    assert p.shape == (10, 60, 1, 20)
    with pytest.raises(InputError, match="sequences differ in length"):
        Bioseq.create_from_seq("v", ga.example_path("seqs_varlen.fa"))
    with pytest.raises(InputError, match="IDs must be unique"):
        Bioseq.create_from_seq("twice", [SEQS, SEQS])


# -- Cover ------------------------------------------------------------------------------
def test_bam_equals_native(bam_track):
    tiles = ga.tile(ROI, binsize=200, flank=20)
    native = bam_track.janggu.view(tiles).janggu.collapse(50, how="sum")
    x = Cover.create_from_bam("reads", bamfiles=BAM, roi=ROI, binsize=200, flank=20, resolution=50)
    assert x.shape == (230, 5, 2, 1) and x.dtype == np.float32 and x.name == "reads"
    assert isinstance(x.data, np.ndarray)
    np.testing.assert_array_equal(x.values, native.values)
    assert list(x.strand.values) == ["+", "-"] and list(x.condition.values) == ["sample"]
    whole = Cover.create_from_bam(
        "reads",
        BAM,
        roi=ROI,
        binsize=200,
        flank=20,
        resolution=50,
        store_whole_genome=True,
        storage="hdf5",
    )
    np.testing.assert_array_equal(whole.values, x.values)
    sparse = Cover.create_from_bam(
        "reads", BAM, roi=ROI, binsize=200, flank=20, resolution=50, storage="sparse"
    )
    np.testing.assert_array_equal(sparse.values, x.values)


def test_bam_one_value_per_region(bam_track):
    x = Cover.create_from_bam("reads", BAM, roi=ROI, resolution=None, stranded=False, min_mapq=10)
    native = (
        ga.read_bam(BAM, stranded=False, min_mapq=10, storage="memory", cache=False, progress=False)
        .janggu.view(ga.tile(ROI, collapse=True))
        .janggu.collapse(None, how="sum")
    )
    assert x.shape == (23, 1, 1, 1)
    np.testing.assert_array_equal(x.values, native.values)


def test_bigwig_equals_native_and_collapsers():
    tiles = ga.tile(ROI, binsize=200)
    sig = ga.read_bigwig(BIGWIG, storage="memory", cache=False, progress=False)
    for how in ("mean", "max", "sum"):
        x = Cover.create_from_bigwig(
            "sig",
            BIGWIG,
            roi=ROI,
            binsize=200,
            resolution=50,
            collapser=None if how == "mean" else how,
        )
        native = sig.janggu.view(tiles).janggu.collapse(50, how=how)
        assert x.shape == (230, 4, 1, 1)
        np.testing.assert_allclose(x.values, native.values, rtol=1e-6)
    janggu_style = Cover.create_from_bigwig(
        "sig", BIGWIG, roi=ROI, binsize=200, resolution=50, collapser=lambda v: v.max(axis=1)
    )
    np.testing.assert_allclose(
        janggu_style.values, sig.janggu.view(tiles).janggu.collapse(50, "max").values
    )
    with pytest.raises(InputError, match=r"expected one of \['sum', 'mean', 'max'\]"):
        Cover.create_from_bigwig("sig", BIGWIG, roi=ROI, binsize=200, collapser="median")


def test_bed_equals_native():
    tiles = ga.tile(ROI, binsize=200)
    peaks = ga.read_bed(PEAKS, like=FASTA, storage="memory", cache=False, progress=False)
    native = peaks.janggu.view(tiles).janggu.collapse(None, how="max")
    for genomesize in (None, FASTA):  # sizes from the files, or given
        y = Cover.create_from_bed(
            "peaks", bedfiles=PEAKS, roi=ROI, binsize=200, resolution=None, genomesize=genomesize
        )
        assert y.shape == (230, 1, 1, 1)
        np.testing.assert_array_equal(y.values, native.values)
    cat = Cover.create_from_bed(
        "cat", PEAKS, roi=ROI, binsize=200, resolution=200, mode="categorical"
    )
    native_cat = ga.read_bed(
        PEAKS, "score_category", like=FASTA, storage="memory", cache=False, progress=False
    )
    assert list(cat.condition.values) == list(native_cat.condition.values)


def test_bed_minoverlap():
    tiles = ga.tile(ROI, binsize=200)
    binary = ga.read_bed(PEAKS, like=FASTA, storage="memory", cache=False, progress=False)
    frac = binary.janggu.view(tiles).janggu.collapse(50, how="mean").values
    y = Cover.create_from_bed(
        "peaks", PEAKS, roi=ROI, binsize=200, resolution=50, minoverlap=0.5, genomesize=FASTA
    )
    np.testing.assert_array_equal(y.values, (frac >= 0.5).astype(np.float32))
    assert 0 < y.values.sum() < (frac > 0).sum()
    with pytest.raises(InputError, match="minoverlap"):
        Cover.create_from_bed("peaks", PEAKS, roi=ROI, binsize=200, minoverlap=1.5)


def test_create_from_array():
    x = Cover.create_from_bam("reads", BAM, roi=ROI, binsize=200, resolution=50)
    values = np.random.default_rng(0).random((len(x), 4, 2, 3)).astype(np.float32)
    p = Cover.create_from_array("pred", values, gindexer=x)
    assert p.shape == (230, 4, 2, 3) and p.name == "pred"
    assert list(p.condition.values) == ["Cond_0", "Cond_1", "Cond_2"]
    np.testing.assert_array_equal(p.values, values)
    np.testing.assert_array_equal(p.start.values, x.start.values)
    first = Cover.create_from_array(
        "pred", values.transpose(0, 3, 1, 2), gindexer=x, channel_last=False
    )
    assert first.dims == ("region", "condition", "pos", "strand")
    np.testing.assert_array_equal(first.transpose(*p.dims).values, values)
    per_region = Cover.create_from_array("pred", np.ones((23, 2)), roi=ROI, conditions=["a", "b"])
    assert per_region.shape == (23, 1, 1, 2) and per_region.attrs["resolution"] == "region"
    with pytest.raises(InputError, match="resolution=25 does not match"):
        Cover.create_from_array("pred", values, gindexer=x, resolution=25)


# -- parameters -------------------------------------------------------------------------
JANGGU_DEFAULTS = {
    Cover.create_from_bam: dict(
        roi=None,
        genomesize=None,
        conditions=None,
        min_mapq=None,
        binsize=None,
        stepsize=None,
        flank=0,
        resolution=1,
        storage="ndarray",
        dtype="float32",
        stranded=True,
        overwrite=False,
        pairedend="5prime",
        template_extension=0,
        datatags=None,
        cache=False,
        normalizer=None,
        zero_padding=True,
        random_state=None,
        store_whole_genome=False,
        verbose=False,
        channel_last=True,
    ),
    Cover.create_from_bigwig: dict(
        roi=None,
        genomesize=None,
        conditions=None,
        binsize=None,
        stepsize=None,
        resolution=1,
        flank=0,
        storage="ndarray",
        dtype="float32",
        overwrite=False,
        datatags=None,
        cache=False,
        store_whole_genome=False,
        zero_padding=True,
        normalizer=None,
        collapser=None,
        random_state=None,
        nan_to_num=True,
        verbose=False,
    ),
    Cover.create_from_bed: dict(
        roi=None,
        genomesize=None,
        conditions=None,
        binsize=None,
        stepsize=None,
        resolution=1,
        flank=0,
        storage="ndarray",
        dtype="float32",
        mode="binary",
        store_whole_genome=False,
        overwrite=False,
        zero_padding=True,
        normalizer=None,
        collapser=None,
        minoverlap=None,
        random_state=None,
        datatags=None,
        cache=False,
        verbose=False,
    ),
    Cover.create_from_array: dict(
        genomesize=None,
        conditions=None,
        resolution=None,
        storage="ndarray",
        overwrite=False,
        cache=False,
        datatags=None,
        padding_value=0.0,
        store_whole_genome=False,
        verbose=False,
    ),
    Bioseq.create_from_refgenome: dict(
        roi=None,
        binsize=None,
        stepsize=None,
        flank=0,
        order=1,
        storage="ndarray",
        datatags=None,
        cache=False,
        overwrite=False,
        random_state=None,
        store_whole_genome=False,
        verbose=False,
    ),
    Bioseq.create_from_seq: dict(
        storage="ndarray",
        seqtype="dna",
        order=1,
        fixedlen=None,
        datatags=None,
        cache=False,
        overwrite=False,
        verbose=False,
    ),
}
POSITIONAL = {
    Cover.create_from_bam: ["name", "bamfiles"],
    Cover.create_from_bigwig: ["name", "bigwigfiles"],
    Cover.create_from_bed: ["name", "bedfiles"],
    Cover.create_from_array: ["name", "array", "gindexer"],
    Bioseq.create_from_refgenome: ["name", "refgenome"],
    Bioseq.create_from_seq: ["name", "fastafile"],
}


@pytest.mark.parametrize("fn", list(JANGGU_DEFAULTS), ids=lambda f: f.__qualname__)
def test_janggu_parameter_names_and_defaults(fn):
    params = inspect.signature(fn).parameters
    assert list(params)[: len(POSITIONAL[fn])] == POSITIONAL[fn]
    for key, default in JANGGU_DEFAULTS[fn].items():
        assert key in params, key
        assert params[key].default == default, key


def test_storage_mapping():
    assert compat.STORAGE_NAMES == {"ndarray": "memory", "sparse": "sparse", "hdf5": "zarr"}
    lazy = Cover.create_from_bam("reads", BAM, roi=ROI, binsize=200, storage="hdf5")
    assert not isinstance(lazy.data, np.ndarray)
    with pytest.raises(InputError, match=r"storage must be one of \['ndarray'"):
        Cover.create_from_bam("reads", BAM, roi=ROI, binsize=200, storage="h5")


def test_ignored_arguments_warn():
    with pytest.warns(DeprecationWarning, match="datatags has no effect"):
        Cover.create_from_bigwig("sig", BIGWIG, roi=ROI, binsize=200, datatags=["x"])
    with pytest.warns(DeprecationWarning, match="overwrite has no effect"):
        Bioseq.create_from_refgenome("dna", FASTA, roi=ROI, binsize=200, overwrite=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Bioseq.create_from_refgenome("dna", FASTA, roi=ROI, binsize=200, verbose=False)
    with pytest.raises(TypeError, match="name must be a string"):
        Bioseq.create_from_refgenome(3, FASTA, roi=ROI, binsize=200)
    with pytest.raises(TypeError):  # Janggu's Cover(name, garray, gindexer)
        Cover()


def test_random_state_matches_janggu_and_aligns():
    dna = Bioseq.create_from_refgenome("dna", FASTA, roi=ROI, binsize=200, random_state=3)
    reads = Cover.create_from_bam("reads", BAM, roi=ROI, binsize=200, random_state=3)
    perm = np.random.RandomState(3).permutation(230)
    np.testing.assert_array_equal(dna.region_index.values, perm)
    np.testing.assert_array_equal(dna.start.values, reads.start.values)
    plain = native_dna(200)
    np.testing.assert_array_equal(dna.values[:, :, 0], plain.values[perm])


def test_channel_first_and_genomesize():
    x = Bioseq.create_from_refgenome(
        "dna", FASTA, roi=ROI, binsize=200, order=2, channel_last=False
    )
    assert x.shape == (230, 16, 199, 1)
    track = Cover.create_from_bam(
        "reads", BAM, store_whole_genome=True, genomesize={"chr1": 40000, "chr2": 30000}
    )
    assert list(track.chrom.values) == ["chr1", "chr2"] and track.dims[0] == "chrom"
    with pytest.raises(ChromosomeError, match="did you mean 'chr1'"):
        Cover.create_from_bam("reads", BAM, store_whole_genome=True, genomesize={"1": 10})


@pytest.mark.skipif(
    importlib.util.find_spec("genomarray.transforms.normalize") is None,
    reason="genomarray.transforms.normalize is not in this checkout yet",
)
def test_normalizer_passes_through():
    from genomarray.transforms.normalize import normalize

    x = Cover.create_from_bam(
        "reads", BAM, roi=ROI, binsize=200, resolution=50, normalizer="zscore"
    )
    raw = Cover.create_from_bam("reads", BAM, roi=ROI, binsize=200, resolution=50)
    np.testing.assert_allclose(x.values, normalize(raw, ["zscore"]).values, rtol=1e-5)


# -- view, subset, split ----------------------------------------------------------------
def test_view_repeats_the_call():
    x = Cover.create_from_bam("reads", BAM, roi=ROI, binsize=200, resolution=50)
    new = pd.DataFrame({"chrom": ["chr2"], "start": [1000], "end": [2000]})
    got = compat.view(x, new)
    want = Cover.create_from_bam("reads", BAM, roi=new, binsize=200, resolution=50)
    assert got.shape == (5, 4, 2, 1) and got.name == "reads"
    xr.testing.assert_identical(got, want)
    with pytest.raises(InputError, match="retile"):
        compat.view(x.drop_attrs(), new)


def test_subset_and_split_janggu_names():
    x = Bioseq.create_from_refgenome("dna", FASTA, roi=ROI, binsize=200)
    assert set(compat.subset(x, include_regions=["chr1"]).chrom.values) == {"chr1"}
    assert "chr1" not in set(compat.subset(x, exclude_regions="chr1").chrom.values)
    with pytest.raises(ValueError, match="No filter specified"):  # Janggu's message
        compat.subset(x)
    y = Cover.create_from_bed("peaks", PEAKS, roi=ROI, binsize=200, resolution=200)
    train, test = compat.split_train_test({"dna": x, "peaks": y}, ["chr2"])
    assert set(train) == {"dna", "peaks"}  # a dict stays a dict (Janggu returned lists)
    assert len(train["dna"]) + len(test["dna"]) == len(x)


def test_janggu_script_runs_with_only_the_import_changed():
    """A script in the style of Janggu's README, with only the import line changed."""
    # from janggu.data import Bioseq, Cover, split_train_test
    from genomarray.compat import Bioseq, Cover, split_train_test

    REFGENOME, ROI_FILE, PEAK_FILE, BAM_FILE = FASTA, ROI, PEAKS, BAM
    DNA = Bioseq.create_from_refgenome(
        "dna", refgenome=REFGENOME, roi=ROI_FILE, binsize=200, flank=100, order=2
    )
    LABELS = Cover.create_from_bed(
        "peaks", roi=ROI_FILE, bedfiles=PEAK_FILE, binsize=200, resolution=200, storage="sparse"
    )
    READS = Cover.create_from_bam(
        "reads",
        bamfiles=BAM_FILE,
        roi=ROI_FILE,
        binsize=200,
        flank=100,
        resolution=50,
        stranded=False,
        cache=True,
    )
    assert len(DNA) == len(LABELS) == len(READS) == 230
    assert DNA.shape == (230, 399, 1, 16)
    assert LABELS.shape == (230, 1, 1, 1)
    assert READS.shape == (230, 8, 1, 1)
    batch = DNA[0:4]
    assert np.asarray(batch).shape == (4, 399, 1, 16) and batch.shape[1:] == DNA.shape[1:]
    assert float(np.asarray(LABELS[0:230]).max()) == 1.0
    (train_x, train_y), (test_x, test_y) = split_train_test((DNA, LABELS), holdout_chroms=["chr3"])
    assert len(train_x) == len(train_y) == 180 and len(test_x) == len(test_y) == 50
    assert DNA.chrom.values[0] == "chr1" and list(LABELS.condition.values) == ["peaks"]
    assert list(READS.strand.values) == ["."] and DNA.base.values[5] == "CC"
