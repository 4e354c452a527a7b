"""genomarray.compat gives Janggu's values (semantics of Janggu 0.10.2, on its own files).

The expected numbers come from Janggu's code and documentation (see docs/migration.md) and
are recomputed here independently (pysam, pyBigWig, plain numpy) where they are not
documented.
"""

import gzip
import os

import numpy as np
import pandas as pd
import pytest

import genomarray as ga
from genomarray import compat
from genomarray.compat import (
    Array,
    Bioseq,
    Cover,
    GenomicIndexer,
    ReduceDim,
    resource_filename,
    view,
)
from genomarray.compat.resources import resource_dir
from genomarray.errors import InputError

needs_resources = pytest.mark.skipif(
    not resource_dir().is_dir(), reason="Janggu's resource files (tests/data/janggu) are absent"
)


def R(name):
    return resource_filename("janggu", f"resources/{name}")


# -- item 4: the values that differed -------------------------------------------------------
@needs_resources
def test_binsizenorm_divides_by_the_window_as_janggu():
    """semantics §1: store_whole_genome=False divides every bin by the window length."""
    kw = {"bamfiles": R("sample.bam"), "roi": R("sample.bed"), "binsize": 200, "resolution": 50}
    x = Cover.create_from_bam("x", normalizer="binsizenorm", **kw)
    raw = Cover.create_from_bam("x", **kw)
    np.testing.assert_allclose(x[:], raw[:] / 200, rtol=1e-6)
    assert x[4][0, 3, 1, 0] == pytest.approx(0.005) and float(x[:].sum()) == pytest.approx(0.145)
    whole = Cover.create_from_bam("x", normalizer="binsizenorm", store_whole_genome=True, **kw)
    assert whole[4][0, 3, 1, 0] == pytest.approx(0.02) and float(whole[:].sum()) == pytest.approx(
        0.58
    )
    # genomarray's native binsizenorm is a per-bp density (divides by the bin length)
    native = (
        ga.read_bam(R("sample.bam"), storage="memory", cache=False, progress=False)
        .janggu.view(ga.tile(R("sample.bed"), binsize=200))
        .janggu.collapse(50, how="sum")
        .janggu.normalize("binsizenorm")
    )
    np.testing.assert_allclose(native.values, whole.values, rtol=1e-6)


def test_binsizenorm_of_a_flanked_window():
    roi = pd.DataFrame({"chrom": ["chr1"], "start": [1000], "end": [1200]})
    kw = {"bamfiles": ga.example_path("sample.bam"), "roi": roi, "binsize": 200, "flank": 50}
    x = Cover.create_from_bam("x", normalizer="binsizenorm", resolution=None, **kw)
    raw = Cover.create_from_bam("x", resolution=None, **kw)
    np.testing.assert_allclose(x[:], raw[:] / 300)


@needs_resources
def test_bioseq_one_hot_is_int8_as_documented():
    dna = Bioseq.create_from_seq("dna", fastafile=R("sample.fa"))
    first = dna[0][0, :10, 0, :]
    assert first.dtype == np.int8 and dna.dtype == np.int8
    # tutorial: the first bases of sample.fa are CACAGCAGAG
    assert "".join("ACGT"[i] for i in first.argmax(axis=-1)) == "CACAGCAGAG"


def test_export_to_bigwig_names_files_like_janggu(tmp_path):
    import pyBigWig

    x = Cover.create_from_bigwig(
        "pred",
        ga.example_path("sample.bw"),
        roi=ga.example_path("roi.bed"),
        binsize=200,
        resolution=50,
    )
    x.export_to_bigwig(tmp_path / "out")
    assert os.listdir(tmp_path / "out") == ["pred.sample.bigwig"]
    bw = pyBigWig.open(str(tmp_path / "out" / "pred.sample.bigwig"))
    iv = x.gindexer[0]
    assert bw.values(iv.chrom, iv.start, iv.start + 50)[0] == pytest.approx(float(x[0][0, 0, 0, 0]))
    bw.close()
    # native genomarray keeps its own names: <prefix>.<condition>[.plus|.minus].bw
    assert [p.name for p in ga.to_bigwig(x.native, tmp_path / "native")] == ["pred.sample.bw"]


def test_export_to_bigwig_sums_strands(tmp_path):
    import pyBigWig

    x = Cover.create_from_bam(
        "reads",
        ga.example_path("sample.bam"),
        roi=ga.example_path("roi.bed"),
        binsize=200,
        resolution=200,
    )
    x.export_to_bigwig(tmp_path)
    bw = pyBigWig.open(str(tmp_path / "reads.sample.bigwig"))
    iv = x.gindexer[0]
    assert bw.values(iv.chrom, iv.start, iv.start + 1)[0] == pytest.approx(float(x[0].sum()))
    bw.close()


def test_plot_genome_track_has_janggu_axes():
    bw = ga.example_path("sample.bw")
    roi = ga.example_path("roi.bed")
    cover = Cover.create_from_bigwig(
        "c1", [bw, bw], conditions=["rep1", "rep2"], roi=roi, binsize=200, resolution=50
    )
    cover2 = Cover.create_from_bigwig("c2", bw, roi=roi, binsize=200, resolution=50)
    with pytest.warns(FutureWarning, match="proper Track objects"):
        fig = compat.plotGenomeTrack([cover, cover2], "chr1", 1000, 3000)
    assert len(fig.axes) == 6  # title + (bar + 2 lines) + (bar + 1 line)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["1000", "3000"]
    assert fig.axes[1].get_yticklabels()[0].get_text() == "c1"
    fig = compat.plotGenomeTrack(
        [compat.HeatTrack(cover), compat.LineTrack(cover2)], "chr1", 1000, 3000
    )
    assert len(fig.axes) == 5
    fig = compat.plotGenomeTrack([cover, cover2], "chr1", 1000, 3000, plottypes=["heatmap", "line"])
    assert len(fig.axes) == 5
    with pytest.raises(AssertionError):
        compat.plotGenomeTrack([cover], "chr1", 1000, 3000, plottypes=["line", "line"])


def test_line_track_reads_base_pair_values():
    bw = ga.example_path("sample.bw")
    cover = Cover.create_from_bigwig(
        "c", bw, roi=ga.example_path("roi.bed"), binsize=200, resolution=50
    )
    track = compat.LineTrack(cover)
    iv = cover.gindexer[0]
    data = track.get_data(iv.chrom, iv.start, iv.end)
    assert data.shape == (200, 1, 1)
    np.testing.assert_allclose(data[::50, 0, 0], cover[0][0, :, 0, 0])  # bins repeated
    assert (data[:50] == data[0]).all()


def test_create_from_array_takes_a_reduced_dataset():
    y = Cover.create_from_bed(
        "peaks",
        ga.example_path("peaks.narrowPeak"),
        roi=ga.example_path("roi.bed"),
        binsize=200,
        resolution=200,
    )
    labels = ReduceDim(y)
    pred = np.random.default_rng(0).random((len(labels), 1))
    for like in (labels, labels.gindexer, y, y.gindexer):
        cov = Cover.create_from_array("BindingProba", pred, like)
        assert cov.shape == (230, 1, 1, 1) and cov.conditions == ["Cond_0"]
        np.testing.assert_allclose(cov[:].ravel(), pred.ravel())
        assert list(cov.chrom.values) == list(y.chrom.values)
        assert list(cov.start.values) == list(y.start.values)


def test_view_of_a_reduced_cover_keeps_the_reduction():
    roi = ga.example_path("roi.bed")
    y = Cover.create_from_bed(
        "peaks",
        ga.example_path("peaks.narrowPeak"),
        roi=roi,
        binsize=200,
        resolution=200,
        storage="sparse",
        store_whole_genome=True,
    )
    labels = ReduceDim(y)
    chr3 = pd.DataFrame({"chrom": ["chr3"], "start": [0], "end": [20000]})
    v = view(labels, chr3)
    assert type(v) is ReduceDim and str(v) == 'ReduceDim(Cover("peaks"))'
    assert v.shape == (100, 1)
    direct = ReduceDim(view(y, chr3))
    np.testing.assert_array_equal(v[:], direct[:])
    mean = view(ReduceDim(y, aggregator="mean"), chr3)
    assert mean.aggregator == "mean" and mean.shape == (100, 1)


@needs_resources
def test_overlapping_bedgraph_last_record_wins():
    """semantics §7: Janggu's positive.bedgraph, read as Janggu did."""
    x = Cover.create_from_bed(
        "bg", bedfiles=R("positive.bedgraph"), roi=R("positive.bed"), mode="bedgraph"
    )
    assert len(x) == 25 and x.shape == (25, 200, 1, 1)
    sums = np.round(x[:].sum(axis=(1, 2, 3)), 3).tolist()
    assert sums == [0, 0, 0, 0, 55, 115, 180, 250, 270, 285, 295, 300, 225, 150, 75] + [0] * 10
    w = x[7][0, :, 0, 0]  # window 1800-2000: 50 bp each of 1.1, 1.2, 1.3, 1.4
    np.testing.assert_allclose(w[::50], [1.1, 1.2, 1.3, 1.4], rtol=1e-6)
    whole = Cover.create_from_bed(
        "bg",
        bedfiles=R("positive.bedgraph"),
        roi=R("positive.bed"),
        mode="bedgraph",
        store_whole_genome=True,
    )
    np.testing.assert_array_equal(whole[:], x[:])
    with pytest.raises(InputError, match="bedGraph records overlap"):  # native: refused
        ga.read_bed(
            R("positive.bedgraph"),
            mode="bedgraph",
            like={"chr1": 3000},
            storage="memory",
            progress=False,
        )


def test_resolve_overlaps_against_a_naive_painter():
    from genomarray.compat.bedgraph import resolve_overlaps

    rng = np.random.default_rng(5)
    starts = rng.integers(0, 90, 40)
    df = pd.DataFrame(
        {
            "chrom": "c",
            "start": starts,
            "end": starts + rng.integers(1, 20, 40),
            "score": rng.random(40),
        }
    )
    paint = np.full(120, np.nan)
    for r in df.itertuples():
        paint[r.start : r.end] = r.score
    got = np.full(120, np.nan)
    out = resolve_overlaps(df)
    assert (out["start"].to_numpy()[1:] >= out["end"].to_numpy()[:-1]).all()
    for r in out.itertuples():
        got[r.start : r.end] = r.score
    np.testing.assert_array_equal(got, paint)


# -- datasets and their protocol -------------------------------------------------------------
def test_janggu_indexing_and_attributes():
    dna = Bioseq.create_from_refgenome(
        "dna", ga.example_path("genome.fa"), roi=ga.example_path("roi.bed"), binsize=200, order=2
    )
    assert dna[3].shape == (1, 199, 1, 16) and dna[-1].shape == (1, 199, 1, 16)
    np.testing.assert_array_equal(dna[3], dna.values[3:4])
    np.testing.assert_array_equal(dna[[4, 1]], dna.values[[4, 1]])
    assert isinstance(dna["chrom"], type(dna.native))  # coordinates stay xarray
    assert type(dna.isel(region=[0])).__name__ == "DataArray"  # derived arrays are plain
    assert str(dna) == 'Bioseq("dna")' and dna.name == "dna" and len(dna) == 230
    assert dna.conditions == ga.kmer_labels(2)
    with pytest.raises(IndexError):
        dna[230]
    gi = dna.gindexer
    iv = gi[0]
    assert (iv.chrom, iv.start, iv.end) == (
        str(dna.chrom.values[0]),
        int(dna.start.values[0]),
        int(dna.end.values[0]),
    )
    with pytest.raises(TypeError, match="use view"):
        dna.gindexer = gi
    codes = dna.iseq4idx([0])
    assert codes.shape == (1, 199) and codes.max() < 16


def test_array_like_janggu():
    y = Array("y", np.array([1, 0, 1]))
    assert y.shape == (3,) and y[1:].tolist() == [0, 1] and y.conditions is None  # Janggu: (3, 1)
    z = Array("z", np.zeros((4, 2)), conditions=["a", "b"])
    assert z.conditions == ["a", "b"] and z[0].shape == (1, 2)
    with pytest.raises(InputError, match="conditions"):
        Array("z", np.zeros((4, 2)), conditions=["a"])


def test_wrappers():
    cov = Cover.create_from_bam(
        "r",
        ga.example_path("sample.bam"),
        roi=ga.example_path("roi.bed"),
        binsize=200,
        resolution=50,
    )
    red = ReduceDim(cov, aggregator="max")
    np.testing.assert_array_equal(red[:], cov[:].max(axis=(1, 2)))
    np.testing.assert_array_equal(ReduceDim(cov, axis=2)[:], cov[:].sum(axis=2))
    np.testing.assert_array_equal(ReduceDim(cov, aggregator=np.min)[:], cov[:].min(axis=(1, 2)))
    with pytest.raises(ValueError, match="aggregator"):
        ReduceDim(cov, aggregator="median")
    sq = compat.SqueezeDim(ReduceDim(cov))
    assert sq.shape == (230,) and sq[0].shape == () and sq[0:3].shape == (3,)
    tr = compat.Transpose(cov, axis=(0, 3, 1, 2))
    assert tr.shape == (230, 1, 4, 2)
    np.testing.assert_array_equal(tr[0], np.transpose(cov[0], (0, 3, 1, 2)))
    nan = Array("n", np.array([[[[np.nan]]], [[[2.0]]]]))
    assert compat.NanToNumConverter(nan)[:].ravel().tolist() == [0.0, 2.0]
    np.random.seed(3)  # noqa: NPY002 - Janggu's wrappers use the global state
    flipped = compat.RandomOrientation(cov)[:]
    turned = (flipped != cov[:]).any(axis=(1, 2, 3))
    for i in np.flatnonzero(turned)[:5]:
        np.testing.assert_array_equal(flipped[i], cov[:][i, ::-1, ::-1])
    scaled = compat.RandomSignalScale(cov, 0.2)[:]
    ratio = scaled[cov[:] > 0] / cov[:][cov[:] > 0]
    assert ((ratio >= 0.8) & (ratio <= 1.2)).all()
    shifted = compat.RandomShift(cov, 3)[0:5]
    assert shifted.shape == (5, 4, 2, 1)
    assert str(compat.SqueezeDim(ReduceDim(cov))) == 'SqueezeDim(ReduceDim(Cover("r")))'


def test_random_orientation_reverse_complements_sequences():
    from genomarray.encode import revcomp_onehot

    dna = Bioseq.create_from_seq("s", ga.example_path("seqs.fa"), order=2)
    np.random.seed(0)  # noqa: NPY002 - Janggu's wrappers use the global state
    batch = compat.RandomOrientation(dna)[:]
    plain = dna[:]
    rc = revcomp_onehot(plain[:, :, 0, :], order=2)[:, :, None, :]
    for i in range(len(plain)):
        assert (batch[i] == plain[i]).all() or (batch[i] == rc[i]).all()
    assert not (batch == plain).all()


def test_gindexer_rules():
    roi = pd.DataFrame(
        {"chrom": ["chr1", "chr2"], "start": [0, 100], "end": [500, 130], "strand": ["+", "-"]}
    )
    gi = GenomicIndexer.create_from_file(roi, 200, 200, flank=20)
    assert gi.tostr() == ["chr1:0-220", "chr1:180-420", "chr1:380-520", "chr2:80-150"]
    assert gi[3].strand == "-" and len(gi.filter_by_region(include="chr2")) == 1
    assert gi.idx_by_region(include="chr1", start=400, end=450) == [1, 2]
    assert len(GenomicIndexer.create_from_file(roi, 200, 200, zero_padding=False)) == 2
    assert len(GenomicIndexer.create_from_file(roi, None, None)) == 2  # the longest region
    one = GenomicIndexer.create_from_region("chr1", 0, 1000, "+", 300, 100)
    assert len(one) == 8 and one[7].end == 1000
    sizes = GenomicIndexer.create_from_genomesize({"chr1": 40, "chr2": 30})
    assert sizes.tostr() == ["chr1:0-40", "chr2:0-30"]
    gi.add_interval("chr3", 0, 50, ".")
    assert len(gi) == 5
    shuffled = GenomicIndexer.create_from_file(roi, 200, 200, random_state=3)
    assert shuffled.randomidx.tolist() == np.random.RandomState(3).permutation(4).tolist()
    with pytest.raises(IndexError):
        gi[np.array([1])]


def test_gindexer_export_to_bed(tmp_path):
    gi = GenomicIndexer.create_from_region("chr1", 10, 30, "-", 10, 10, flank=5)
    gi.export_to_bed(tmp_path / "x.bed")
    assert (tmp_path / "x.bed").read_text() == "chr1\t5\t25\t-\t-\t-\nchr1\t15\t35\t-\t-\t-\n"


def test_cover_from_a_track_and_a_gindexer():
    track = ga.read_bam(
        ga.example_path("sample.bam"), storage="memory", cache=False, progress=False
    )
    gi = GenomicIndexer.create_from_file(ga.example_path("roi.bed"), 200, 200)
    x = Cover("reads", garray=track, gindexer=gi)
    ref = Cover.create_from_bam(
        "reads", ga.example_path("sample.bam"), roi=ga.example_path("roi.bed"), binsize=200
    )
    np.testing.assert_array_equal(x[:], ref[:])
    seq = Bioseq("dna", garray=ga.read_fasta(ga.example_path("genome.fa")), gindexer=gi, order=2)
    assert seq.shape == (230, 199, 1, 16)


def test_normalizers_reuse_statistics_as_janggu():
    kw = {"bamfiles": ga.example_path("sample.bam"), "binsize": 200, "resolution": 50}
    roi = ga.read_regions(ga.example_path("roi.bed"))
    z = compat.ZScore()
    train = Cover.create_from_bam("a", roi=roi.iloc[:15], normalizer=[z], **kw)
    mean, std = dict(z.params["mean"]), dict(z.params["std"])
    test = Cover.create_from_bam("b", roi=roi.iloc[15:], normalizer=[z], **kw)
    raw = Cover.create_from_bam("b", roi=roi.iloc[15:], **kw)
    np.testing.assert_allclose(test[:], (raw[:] - mean["sample"]) / std["sample"], rtol=1e-5)
    assert abs(float(train[:].mean())) < 1e-4
    both = Cover.create_from_bam(
        "c", roi=roi, normalizer=[compat.PercentileTrimming(90), compat.LogTransform()], **kw
    )
    assert (
        float(both[:].max())
        <= np.log1p(np.percentile(Cover.create_from_bam("c", roi=roi, **kw)[:], 90)) + 1e-5
    )
    tpm = Cover.create_from_bam(
        "t", roi=roi, resolution=None, normalizer="tpm", bamfiles=ga.example_path("sample.bam")
    )
    assert float(tpm[:].sum()) == pytest.approx(1e6, rel=1e-5)
    with pytest.raises(ValueError, match="unknown normalizer"):
        Cover.create_from_bam("c", roi=roi, normalizer="minmax", **kw)


def test_genomic_array():
    g = compat.create_genomic_array(
        {"chr1": 100, "chr2": 50},
        stranded=False,
        conditions=["x"],
        storage="ndarray",
        resolution=10,
        collapser="sum",
    )
    g["chr1", 0, 30, 0] = np.array([[1.0], [2.0], [3.0]])
    assert g["chr1", 0, 30][:, 0, 0].tolist() == [1.0, 2.0, 3.0]
    assert g.interval_length("chr1") == 10 and g.interval_length("chr1:0-200") == 200
    assert g.sum().sum() == 6.0
    compat.LogTransform()(g)
    assert g["chr1", 0, 10][0, 0, 0] == pytest.approx(np.log(2.0))
    cov = Cover.create_from_bam(
        "r", ga.example_path("sample.bam"), roi=ga.example_path("roi.bed"), binsize=200
    )
    region = cov.garray
    assert region.handle["data"].shape == (230, 200, 2, 1) and len(region.region2index) == 230
    with pytest.raises(ValueError):
        compat.create_genomic_array({"chr1": 10}, storage="h5")


# -- the model side -------------------------------------------------------------------------
keras = pytest.importorskip("keras")


def test_dnaconv2d_equals_janggus_reverse_complemented_kernel():
    from genomarray.compat.layers import DnaConv2D
    from genomarray.encode import revcomp_permutation

    rng = np.random.default_rng(0)
    x = np.eye(16, dtype=np.float32)[rng.integers(0, 16, (3, 40))][:, :, None, :]
    conv = keras.layers.Conv2D(5, (7, 1))
    layer = DnaConv2D(conv)
    out = np.asarray(layer(x))
    kernel, bias = (np.asarray(w) for w in conv.get_weights())
    # Janggu: the second convolution uses the kernel reversed along the length and with its
    # input channels permuted to the reverse-complement k-mer
    rc_kernel = kernel[::-1][:, :, revcomp_permutation(2), :]
    fwd = np.stack(
        [np.einsum("bkc,kcf->bf", x[:, i : i + 7, 0], kernel[:, 0]) for i in range(34)], 1
    )
    rev = np.stack(
        [np.einsum("bkc,kcf->bf", x[:, i : i + 7, 0], rc_kernel[:, 0]) for i in range(34)], 1
    )
    np.testing.assert_allclose(out[:, :, 0], np.maximum(fwd, rev) + bias, rtol=1e-4, atol=1e-5)
    assert layer.count_params() == conv.count_params()
    assert len(layer.get_weights()) == 2
    for mode, channels in (("ave", 5), ("concat", 10)):
        assert DnaConv2D(keras.layers.Conv2D(5, (7, 1)), merge_mode=mode)(x).shape[-1] == channels
    with pytest.raises(ValueError, match="Invalid merge mode"):
        DnaConv2D(conv, merge_mode="min")


def test_layers_complement_reverse_pooling():
    from genomarray.compat.layers import Complement, LocalAveragePooling2D, Reverse
    from genomarray.encode import encode, onehot, revcomp_codes

    codes = encode("ACGGTAC")
    x = onehot(codes, 2)[None, :, None, :]
    y = np.asarray(Reverse()(Complement()(x)))
    np.testing.assert_array_equal(y[0, :, 0], onehot(revcomp_codes(codes), 2))
    pooled = np.asarray(LocalAveragePooling2D(window_size=3)(np.arange(10.0).reshape(1, 10, 1, 1)))
    assert pooled.ravel().tolist() == [1.0, 2, 3, 4, 5, 6, 7, 8]


def test_templates_and_the_output_folder(tmp_path, monkeypatch, capsys):
    from genomarray.compat.keras import (
        Janggu,
        Scorer,
        create_model,
        inputlayer,
        outputconv,
        outputdense,
    )

    monkeypatch.setenv("JANGGU_OUTPUT", str(tmp_path))
    rng = np.random.default_rng(1)
    data = Array("ip", rng.random((64, 10)))
    labels = Array("out", rng.integers(0, 2, (64, 1)), conditions=["c1"])

    @inputlayer
    @outputdense("sigmoid")
    def body(inputs, inp, oup, params):
        assert inp == {"ip": {"shape": (10,)}} and oup == {"out": {"shape": (1,)}}
        with inputs.use("ip") as layer:
            return inputs, keras.layers.Dense(params)(layer)

    model = Janggu.create(template=body, modelparams=3, inputs=data, outputs=labels)
    assert "Generated model-id" in capsys.readouterr().out and len(model.name) == 32
    assert model.kerasmodel.get_layer("out").units == 1
    model.compile(optimizer="adadelta", loss="binary_crossentropy", metrics=["acc"])
    assert float(model.kerasmodel.optimizer.learning_rate) == 1.0  # keras 2's default
    hist = model.fit(data, labels, epochs=2, batch_size=16, verbose=0)
    assert set(hist.history) == {"acc", "loss"}
    res = model.evaluate(data, labels, datatags=["t"], callbacks=["auc", "mse"])
    assert len(res) == 2
    pred = model.predict(data)
    assert pred.shape == (64, 1)
    scorer = Scorer("p", immediate_export=False)
    model.predict(data, callbacks=[scorer], layername="out")
    np.testing.assert_allclose(scorer.results[(model.name, "0")]["value"], pred[:, 0], rtol=1e-5)
    root = tmp_path
    assert (root / "models" / f"{model.name}.h5").exists()
    assert (root / "logs" / "janggu.log").read_text()
    assert (root / "evaluation" / model.name / "training.log").exists()
    tsv = pd.read_csv(root / "evaluation" / model.name / "t" / "auc.tsv", sep="\t")
    assert list(tsv.columns) == ["c1"]
    import h5py

    with h5py.File(root / "models" / f"{model.name}.h5") as f:
        assert f["model_weights"].attrs["epochs"] == "2"
        assert f["model_weights"].attrs["batch_size"] == "16"
    again = Janggu.create_by_name(model.name)
    np.testing.assert_allclose(again.predict(data), pred, rtol=1e-5)

    def plain(inputs, inp, oup, params):  # Janggu's Example 2: no decorators
        x = keras.Input((10,), name="ip")
        return x, keras.layers.Dense(1, name="out")(keras.layers.Dense(params)(x))

    assert create_model(plain, modelparams=4).count_params() == 10 * 4 + 4 + 5

    @inputlayer
    @outputconv("sigmoid")
    def conv(inputs, inp, oup, params):
        return inputs, keras.layers.Conv2D(2, (3, 1))(inputs["x"])

    seq = Array("x", np.zeros((4, 8, 1, 4)))
    out = Array("y", np.zeros((4, 6, 1, 1)))
    net = create_model(conv, inputs=seq, outputs=out)
    assert tuple(net.get_layer("y").output.shape) == (None, 6, 1, 1)


def test_fit_validates_on_held_out_chromosomes(tmp_path, monkeypatch):
    from genomarray.compat.keras import Janggu, inputlayer, outputdense

    monkeypatch.setenv("JANGGU_OUTPUT", str(tmp_path))
    dna = Bioseq.create_from_refgenome(
        "dna", ga.example_path("genome.fa"), roi=ga.example_path("roi.bed"), binsize=200
    )
    y = ReduceDim(
        Cover.create_from_bed(
            "peaks",
            ga.example_path("peaks.narrowPeak"),
            roi=ga.example_path("roi.bed"),
            binsize=200,
            resolution=200,
        )
    )

    @inputlayer
    @outputdense("sigmoid")
    def body(inputs, inp, oup, params):
        with inputs.use("dna") as layer:
            layer = keras.layers.Conv2D(4, (5, 1))(layer)
        return inputs, keras.layers.GlobalAveragePooling2D()(layer)

    model = Janggu.create(body, inputs=dna, outputs=y, name="held_out")
    model.compile("adam", "binary_crossentropy")
    hist = model.fit(dna, y, epochs=1, verbose=0, validation_data=["chr3"])
    assert "val_loss" in hist.history


def test_input_attribution_and_variant_effects(tmp_path, monkeypatch):
    import h5py

    from genomarray.compat.keras import Janggu, input_attribution, inputlayer, outputdense

    monkeypatch.setenv("JANGGU_OUTPUT", str(tmp_path))
    dna = Bioseq.create_from_refgenome(
        "dna",
        ga.example_path("genome.fa"),
        roi=ga.example_path("roi.bed"),
        binsize=100,
        store_whole_genome=True,
    )
    y = Array("y", np.zeros((len(dna), 1)))

    @inputlayer
    @outputdense("sigmoid")
    def body(inputs, inp, oup, params):
        with inputs.use("dna") as layer:
            layer = keras.layers.Conv2D(3, (5, 1))(layer)
        return inputs, keras.layers.GlobalAveragePooling2D()(layer)

    model = Janggu.create(body, inputs=dna, outputs=y, name="attr")
    iv = dna.gindexer[2]
    attr = input_attribution(model, dna, chrom=iv.chrom, start=iv.start, end=iv.end)
    assert len(attr) == 1 and attr[0].shape == (1, 100, 1, 4)
    values = attr[0][:][0, :, 0, :]
    assert (values >= 0).all() and (values[dna[2][0, :, 0, :] == 0] == 0).all()
    assert attr[0].conditions == ["A", "C", "G", "T"]
    same = input_attribution(model, dna, idx=2)
    np.testing.assert_allclose(same[0][:], attr[0][:])
    out = tmp_path / "vcf"
    out.mkdir()
    scores, bed = model.predict_variant_effect(
        dna, ga.example_path("variants.vcf"), conditions=["feature"], output_folder=out
    )
    with h5py.File(scores) as f:
        assert sorted(f) == ["altscore", "diffscore", "labels", "logoddsscore", "refscore"]
        n = f["diffscore"].shape[0]
        assert f["diffscore"].dtype == np.float16 and f["diffscore"].shape == (n, 1) and n > 0
        np.testing.assert_allclose(
            f["diffscore"][:], f["altscore"][:] - f["refscore"][:], atol=2e-3
        )
    lines = gzip.open(bed, "rt").read().splitlines()
    assert len(lines) == n and all(len(ln.split("\t")) == 4 for ln in lines)
    with pytest.raises(ValueError, match="number of conditions"):
        model.predict_variant_effect(
            dna, ga.example_path("variants.vcf"), conditions=["a", "b"], output_folder=out
        )


def test_variant_streamer_windows(genome_seqs):
    from genomarray.encode import encode, onehot

    vs = compat.VariantStreamer(
        ga.example_path("genome.fa"), ga.example_path("variants.vcf"), binsize=20, batch_size=4
    )
    table = ga.read_regions(ga.example_path("variants.vcf"))
    snv = table[(table["ref"].str.len() == 1) & (table["alt"].str.len() == 1)]
    assert vs.get_variant_count() == len(snv)
    names, chroms, pos, ref, alt, refs, alts = next(vs.flow())
    for i in range(len(names)):
        seq = genome_seqs[chroms[i]][pos[i] - 10 : pos[i] + 10]
        np.testing.assert_array_equal(refs[i, :, 0], onehot(encode(seq)))
        assert seq[10] == ref[i].upper()
        mutated = seq[:10] + alt[i].upper() + seq[11:]
        np.testing.assert_array_equal(alts[i, :, 0], onehot(encode(mutated)))
