"""Plots: every track kind renders a non-blank PNG over exactly the region asked for."""

import subprocess
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

import matplotlib.image  # noqa: E402

import genomarray as ga  # noqa: E402
from genomarray.errors import InputError  # noqa: E402
from genomarray.export.plot import _make_doc_images, plot_track, plot_tracks
from genomarray.model import coverage_track  # noqa: E402


@pytest.fixture(scope="module")
def arrays():
    bam = ga.read_bam(ga.example_path("sample.bam"), storage="memory", progress=False)
    bw = ga.read_bigwig(ga.example_path("sample.bw"), storage="memory", progress=False)
    dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    roi = ga.tile(ga.read_regions(ga.example_path("roi.bed")), binsize=200, flank=10)
    onehot = dna.janggu.view(roi).janggu.onehot()
    values = np.random.default_rng(0).random((1, 400, 1, 6)).astype(np.float32)
    six = coverage_track(
        values, ["chr1"], [4000], ["."], [f"c{k}" for k in range(6)], resolution=10
    )
    return {
        "bam": bam,
        "bw": bw,
        "dna": dna,
        "onehot": onehot,
        "six": six,
        "bam_view": bam.janggu.view(roi),
    }


def _check_png(fig, path, n_axes, xlim):
    assert len(fig.axes) == n_axes
    for ax in fig.axes:
        assert ax.get_xlim() == pytest.approx(xlim)
    fig.savefig(path, dpi=80)
    assert path.exists()
    img = matplotlib.image.imread(path)
    assert img.shape[1] >= 500 and img.shape[0] >= 80
    assert img[..., :3].std() > 0.05
    colours = np.unique((img[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 10


def test_line_coverage(arrays, tmp_path):
    fig = plot_track(arrays["bam"], "chr1:600-1,600")
    _check_png(fig, tmp_path / "line.png", 1, (600, 1600))
    # stranded: the minus strand is mirrored below 0
    assert fig.axes[0].get_ylim()[0] < 0
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["sample"]


def test_line_from_view_matches_track(arrays, tmp_path):
    fig = plot_track(arrays["bam_view"], ("chr1", 700, 900), kind="line")
    _check_png(fig, tmp_path / "view.png", 1, (700, 900))
    fig2 = plot_track(arrays["bam"], ("chr1", 700, 900), kind="line")
    y1 = [line.get_ydata() for line in fig.axes[0].get_lines()[:2]]
    y2 = [line.get_ydata() for line in fig2.axes[0].get_lines()[:2]]
    for a, b in zip(y1, y2, strict=True):
        np.testing.assert_allclose(a, b)


def test_heatmap_auto(arrays, tmp_path):
    fig = plot_track(arrays["six"], "chr1:0-4000")
    _check_png(fig, tmp_path / "heat.png", 1, (0, 4000))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == [f"c{k}" for k in range(6)]


def test_bar(arrays, tmp_path):
    fig = plot_track(arrays["bw"], "chr1:600-1600", kind="bar")
    _check_png(fig, tmp_path / "bar.png", 1, (600, 1600))


def test_seq_letters_and_genome(arrays, tmp_path, genome_seqs):
    fig = plot_track(arrays["onehot"], "chr1:700-760")
    _check_png(fig, tmp_path / "letters.png", 1, (700, 760))
    assert len(fig.axes[0].collections) == 1  # the letters
    assert len(fig.axes[0].collections[0].get_paths()) == 60
    # the sequence genome draws the same letters
    fig2 = plot_track(arrays["dna"], "chr1:700-760")
    colours = fig2.axes[0].collections[0].get_facecolors()
    np.testing.assert_allclose(colours, fig.axes[0].collections[0].get_facecolors())
    wanted = {"A": "#1a9641", "C": "#2166ac", "G": "#f28e1c", "T": "#d7191c"}
    expected = [matplotlib.colors.to_rgba(wanted[b]) for b in genome_seqs["chr1"][700:760]]
    np.testing.assert_allclose(colours, expected)


def test_seq_long_and_attribution(arrays, tmp_path):
    fig = plot_track(arrays["dna"], "chr1:0-2000")
    _check_png(fig, tmp_path / "long.png", 1, (0, 2000))
    attr = arrays["onehot"].copy(data=np.asarray(arrays["onehot"].values) * -1.0)
    fig = plot_track(attr, "chr1:700-740")
    _check_png(fig, tmp_path / "attr.png", 1, (700, 740))
    assert fig.axes[0].get_ylim()[0] < 0 and fig.axes[0].get_ylim()[1] <= 1


def test_stacked(arrays, tmp_path):
    tracks = {
        "bw": arrays["bw"],
        "bam": arrays["bam"],
        "six": arrays["six"],
        "dna": arrays["dna"],
        "onehot": arrays["onehot"],
    }
    fig = plot_tracks(tracks, "chr1:600-1600", title="stack")
    _check_png(fig, tmp_path / "stack.png", 5, (600, 1600))
    assert [ax.get_ylabel() for ax in fig.axes] == list(tracks)
    assert fig.axes[-1].get_xlabel().startswith("chr1:600-1,600")
    fig = plot_tracks([arrays["bw"], arrays["bam"]], "chr2:0-500", kinds="bar")
    assert [ax.get_ylabel() for ax in fig.axes] == ["coverage", "coverage"]


def test_errors(arrays):
    roi = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [100]})
    with pytest.raises(InputError, match=r"chrZ.*chr1.*chr2.*chr3"):
        plot_track(arrays["bw"], "chrZ:0-100")
    with pytest.raises(InputError, match="overlaps"):
        plot_track(arrays["onehot"], "chr1:30000-30100")
    with pytest.raises(InputError, match="past the end"):
        plot_track(arrays["bw"], "chr3:25000-26000")
    with pytest.raises(InputError, match="cannot be plotted"):
        plot_track(ga.model.xr.DataArray(np.zeros(3), dims="x"), "chr1:0-10")
    with pytest.raises(InputError, match="unknown kind"):
        plot_track(arrays["bw"], "chr1:0-10", kind="pie")
    with pytest.raises(InputError, match="not a sequence"):
        plot_track(arrays["bw"], "chr1:0-10", kind="seq")
    with pytest.raises(InputError, match="order 1"):
        plot_track(arrays["dna"].janggu.view(roi).janggu.onehot(2), "chr1:0-50")
    with pytest.raises(InputError, match="cannot parse"):
        plot_track(arrays["bw"], "chr1:x-y")


def test_doc_images(tmp_path):
    paths = _make_doc_images(str(tmp_path))
    assert len(paths) == 4
    for path in paths:
        img = matplotlib.image.imread(path)
        assert img.shape[1] >= 500 and img[..., :3].std() > 0.05


def test_import_does_not_load_matplotlib():
    code = "import sys, genomarray; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
