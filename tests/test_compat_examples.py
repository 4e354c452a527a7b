"""Janggu 0.10.2's example scripts and documentation pages, ported with import-line changes
(docs/janggu_examples/), run here, with the values Janggu documents asserted.

Each script runs in this process (``runpy``, as ``__main__``, with its command-line
arguments), in a scratch folder; the checks below read its globals and its output files.
Training is one epoch (Janggu: 100), so only deterministic values are asserted (shapes,
parameter counts, layer names, file names, hdf5 keys, figure axes), not accuracies.
The figure exporters' resolution is lowered for speed (Janggu draws at 700-1000 dpi).
"""

import gzip
import os
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("keras")
pytest.importorskip("sklearn")

from genomarray.compat.resources import resource_dir  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "janggu_examples"

pytestmark = pytest.mark.skipif(
    not resource_dir().is_dir(), reason="Janggu's resource files (tests/data/janggu) are absent"
)


@pytest.fixture
def run(tmp_path, monkeypatch):
    import genomarray.compat.utils as utils

    monkeypatch.setattr(utils, "SCORE_PLOT_DPI", 60)
    monkeypatch.setattr(utils, "CLUSTER_PLOT_DPI", 60)
    monkeypatch.setenv("JANGGU_OUTPUT", str(tmp_path / "unused"))  # restored after the test
    monkeypatch.chdir(tmp_path)

    def go(script, *args):
        out = tmp_path / "results"
        argv = [script, *args, *([] if script == "plot_coverage.py" else ["-path", str(out)])]
        monkeypatch.setattr(sys, "argv", argv)
        np.random.seed(0)  # noqa: NPY002 - Janggu's wrappers use the global state
        ns = runpy.run_path(str(EXAMPLES / script), run_name="__main__")
        return ns, out

    return go


def files(folder):
    return {str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file()}


def test_plot_coverage(run):
    ns, _ = run("plot_coverage.py")
    assert os.path.exists("coverage.png") and os.path.exists("coverage2.png")
    plot, cover, cover2 = ns["plotGenomeTrack"], ns["cover"], ns["cover2"]
    with pytest.warns(FutureWarning, match="Convert the Dataset object to proper Track objects"):
        fig = plot([cover, cover2], "chr1", 16000, 18000)
    # Janggu's notebook: <Figure size 720x360 with 6 Axes>, then 5 Axes
    assert len(fig.axes) == 6 and tuple(fig.get_size_inches() * 72) == (720, 360)
    assert (
        len(plot([ns["HeatTrack"](cover), ns["LineTrack"](cover2)], "chr1", 16000, 18000).axes) == 5
    )
    assert cover.shape == (100, 4, 1, 2) and cover.conditions == ["rep1", "rep2"]


def test_classify_fasta(run):
    ns, out = run("classify_fasta.py", "dnaconv", "-order", "3")
    net = ns["model"].kerasmodel
    # Janggu's notebook summary (order 3): dna (None, 198, 1, 64); conv1 (DnaConv2D)
    # (None, 178, 1, 30) 40350; motif (None, 30); y (Dense) (None, 1) 31; total 40,381
    assert tuple(net.get_layer("dna").output.shape) == (None, 198, 1, 64)
    assert tuple(net.get_layer("conv1").output.shape) == (None, 178, 1, 30)
    assert net.get_layer("conv1").count_params() == 40350
    assert tuple(net.get_layer("motif").output.shape) == (None, 30)
    assert net.get_layer("y").count_params() == 31 and net.count_params() == 40381
    assert ns["DNA"].shape == (7797, 198, 1, 64) and ns["DNA_TEST"].shape == (200, 198, 1, 64)
    name = "fasta_seqs_mdnaconv_o3"
    got = files(out)
    for f in (
        "test/auc.tsv",
        "test/auprc.tsv",
        "test/auroc.tsv",
        "test/roc.png",
        "test-motif/pred.tsv",
        "test-motif/heatmap.png",
        "training.log",
    ):
        assert f"evaluation/{name}/{f}" in got, f
    assert f"models/{name}.h5" in got and "logs/janggu.log" in got
    import pandas as pd

    auprc = pd.read_csv(out / "evaluation" / name / "test" / "auprc.tsv", sep="\t")
    assert list(auprc.columns) == ["TF-binding"] and len(auprc) == 1  # Janggu: TF-binding
    pred = pd.read_csv(out / "evaluation" / name / "test-motif" / "pred.tsv", sep="\t")
    assert pred.shape == (200, 30 + 2) and pred["annot.TF-binding"].iloc[0] == "Oct4"
    assert pred["row_names"].iloc[0] == ns["DNA_TEST"].gindexer.chrs[0]
    assert ns["pred"].shape == (200, 1)


def test_classify_bedregions(run):
    ns, out = run("classify_bedregions.py", "-epochs", "1")
    name = ns["model"].name
    assert len(name) == 32  # Janggu's md5 model id
    got = files(out / "evaluation" / name)
    assert {
        "test/auc.tsv",
        "test/auprc.tsv",
        "test/roc.png",
        "test/prc.png",
        "test-motif/pred.tsv",
        "test-motif/heatmap.png",
        "test-motif/tsne.png",
    } <= got
    assert ns["LABELS"].shape == (7797, 1, 1, 1) and ns["cov_pred"].shape == (200, 1, 1, 1)
    assert tuple(ns["model"].kerasmodel.get_layer("peaks").output.shape) == (None, 1, 1, 1)


def test_classify_bedregions_hdf5(run):
    ns, out = run("classify_bedregions_hdf5.py")
    assert ns["DNA"].shape == (7797, 200, 1, 4) and not isinstance(ns["DNA"].data, np.ndarray)
    # the same random_state permutes inputs and labels alike
    assert (ns["DNA"].chrom.values == ns["LABELS"].chrom.values).all()
    assert (ns["DNA"].start.values == ns["LABELS"].start.values).all()
    got = files(out / "evaluation" / ns["model"].name)
    assert {"test/auc.tsv", "test/prc.png", "test-motif/heatmap.png", "test-motif/tsne.png"} <= got
    assert ns["cov_pred"].shape == (200, 1, 1, 1)


def _bigwig_values(path):
    import pyBigWig

    bw = pyBigWig.open(str(path))
    try:
        return bw.chroms(), np.asarray(bw.values("pseudo2", 0, 40000))
    finally:
        bw.close()


def test_classify_bedregions_w_keras(run):
    ns, out = run("classify_bedregions_w_keras.py")
    chroms, values = _bigwig_values(out / "BindingProba.Cond_0.bigwig")
    assert chroms == {"pseudo2": 40000}
    pred = np.asarray(ns["pred"]).ravel()
    np.testing.assert_allclose(values[::200], pred, rtol=1e-6)  # one value per 200-bp window


def test_classify_bedregions_w_kerassequence(run):
    ns, out = run("classify_bedregions_w_kerassequence.py")
    assert len(ns["trainseq"]) == 244  # Janggu's 244/244 steps per epoch
    assert (out / "BindingProba.Cond_0.bigwig").exists()


def test_classify_bedregions_w_reducedim(run):
    ns, out = run("classify_bedregions_w_reducedim.py")
    assert ns["ReduceDim"](ns["LABELS"]).shape == (7797, 1)
    assert {"test/auc.tsv", "test-motif/tsne.png"} <= files(out / "evaluation" / ns["model"].name)


def test_classify_bedregions_w_view(run):
    ns, out = run("classify_bedregions_w_view.py")
    assert ns["DNA_TRAIN"].shape == (7797, 200, 1, 4) and ns["DNA_TEST"].shape == (200, 200, 1, 4)
    assert ns["LABELS_TEST"].shape == (200, 1, 1, 1)
    view, ReduceDim = ns["view"], ns["ReduceDim"]
    # Janggu's notebook: a view of a ReduceDim-wrapped Cover keeps the reduced shape
    labels = ReduceDim(ns["LABELS"])
    assert view(labels, ns["ROI_TRAIN_FILE"]).shape == (7797, 1)
    assert view(labels, ns["ROI_TEST_FILE"]).shape == (200, 1)
    assert {"test/auc.tsv", "test/roc.png"} <= files(out / "evaluation" / ns["model"].name)


def test_example_input_importance(run):
    import h5py

    ns, out = run("example_input_importance.py", "-epochs", "1")
    for png in (
        "influence_oct4_example_order1.png",
        "influence_mafk_example_order1.png",
        "predicted_variant_effects_oct4_order1.png",
    ):
        assert (out / png).exists()
    gi = ns["DNA"].gindexer[3]
    assert (gi.chrom, gi.start, gi.end) == ("pseudo1", 600, 800)
    attr = ns["attr_oct"][0]
    assert attr.shape == (1, 200, 1, 4) and attr.conditions == ["A", "C", "G", "T"]
    assert str(attr) == 'Cover("attr_dna")' and float(np.asarray(attr).min()) >= 0
    with h5py.File(out / "vcfoutput" / "scores.hdf5") as f:
        assert sorted(f) == ["altscore", "diffscore", "labels", "logoddsscore", "refscore"]
        assert f["diffscore"].dtype == np.float16 and f["diffscore"].shape == (6, 1)
        np.testing.assert_allclose(
            f["diffscore"][:], f["altscore"][:] - f["refscore"][:], atol=1e-3
        )
    lines = gzip.open(out / "vcfoutput" / "snps.bed.gz", "rt").read().splitlines()
    assert lines[0].split("\t") == ["pseudo1", "655", "656", "example1oct4_A>C"] and len(lines) == 6
    assert ns["snpcov"].shape == (6, 1, 1, 1)
    plot, seqtrack, linetrack = ns["plotGenomeTrack"], ns["SeqTrack"], ns["LineTrack"]
    assert len(plot(seqtrack(attr), gi.chrom, gi.start, gi.end).axes) == 3  # Janggu: 3 Axes
    two = plot(
        [linetrack(ns["snpcov"], linestyle="None"), seqtrack(attr)], gi.chrom, gi.start, gi.end
    )
    assert len(two.axes) == 5  # Janggu: 5 Axes


def test_tutorial(run):
    ns, _ = run("tutorial.py")  # the page's documented values are asserted inside
    assert ns["model"].kerasmodel.count_params() == 15 * 4 * 30 + 30 + 31  # (30, 15, 'relu')


def test_storage_page(run):
    ns, _ = run("storage.py")
    assert ns["DNA_TEST"].shape == (200, 200, 1, 4)


def test_custom_scorer_page(run):
    ns, _ = run("custom_scorer.py")
    assert {"auROC.tsv", "ROC.png", "predict.json", "loss.json"} <= set(os.listdir(ns["folder"]))


@pytest.mark.slow
def test_sklearn_kmers(run):
    ns, _ = run("sklearn_example_with_kmers.py")  # the SVM fit takes minutes on 2 cores
    assert ns["DNA"].shape == (7797, 1024)
