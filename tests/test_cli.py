"""The ``genomarray`` command line: build, info, export, demo (run as subprocesses)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import genomarray as ga

SPEC = ga.example_path("demo_spec.toml")
# the checkout that is being tested comes first, whatever the working directory
ROOT = str(Path(ga.__file__).resolve().parent.parent)


def _run(args, tmp_path, check=True):
    env = {
        **os.environ,
        "GENOMARRAY_OUTPUT": str(tmp_path),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])),
    }
    out = subprocess.run(
        [sys.executable, "-m", "genomarray", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    if check:
        assert out.returncode == 0, out.stderr
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    out = _run(["build", str(SPEC), "--quiet"], tmp)
    return tmp / "build" / "demo_spec", out.stdout


def test_build_writes_stores(built):
    folder, stdout = built
    for name in ("genome", "reads", "signal", "peaks", "reads.roi", "peaks.roi"):
        assert (folder / f"{name}.zarr").is_dir(), name
        assert str(folder / f"{name}.zarr") in stdout
    roi = ga.open_zarr(folder / "reads.roi.zarr")
    assert roi.sizes["region"] == 230
    assert [n["name"] for n in roi.attrs["normalizers"]] == ["zscorelog"]


def test_build_out_option(tmp_path):
    out = _run(["build", str(SPEC), "--quiet", "--out", str(tmp_path / "stores")], tmp_path)
    assert (tmp_path / "stores" / "genome.zarr").is_dir()
    assert "genome.zarr" in out.stdout


def test_info(built, tmp_path):
    folder, _ = built
    text = _run(["info", str(folder / "reads.roi.zarr")], tmp_path).stdout
    for word in (
        "region=230",
        "chr1",
        "conditions:  sample",
        "resolution:  50 bp",
        "zscorelog",
        "sample.bam",
        "genomarray-",
    ):
        assert word in text, word
    text = _run(["info", str(folder / "genome.zarr")], tmp_path).stdout
    assert "chr1 (40,000 bp)" in text and "cache_key" in text


def test_export_bigwig(built, tmp_path):
    pybigwig = pytest.importorskip("pyBigWig")
    folder, _ = built
    target = tmp_path / "signal.bw"
    out = _run(["export", str(folder / "signal.zarr"), str(target)], tmp_path)
    assert str(target) in out.stdout
    track = ga.open_zarr(folder / "signal.zarr")
    expected = track.sel(chrom="chr1").isel(strand=0, condition=0).values[:10]
    with pybigwig.open(str(target)) as bw:
        got = np.nan_to_num(np.array(bw.stats("chr1", 0, 500, nBins=10, type="mean"), dtype=float))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    again = _run(["export", str(folder / "signal.zarr"), str(target)], tmp_path, check=False)
    assert again.returncode != 0
    _run(["export", str(folder / "signal.zarr"), str(target), "--overwrite"], tmp_path)


def test_export_bed_and_bedgraph(built, tmp_path):
    folder, _ = built
    _run(["export", str(folder / "reads.roi.zarr"), str(tmp_path / "r.bed")], tmp_path)
    rows = [r for r in (tmp_path / "r.bed").read_text().splitlines() if not r.startswith("#")]
    assert len(rows) == 230
    _run(["export", str(folder / "peaks.zarr"), str(tmp_path / "p.bedGraph")], tmp_path)
    assert (tmp_path / "p.bedGraph").stat().st_size > 0


@pytest.mark.parametrize(
    "text, key",
    [
        ('[genome]\nfasta = "missing.fa"\n', "genome.fasta"),
        ('[[tracks]]\nbam = ["x.bam"]\n', "tracks[0].name"),
        ('[[tracks]]\nname = "r"\nbam = ["nope.bam"]\n', "tracks[0].bam[0]"),
        ('[genome]\nfasta = "{fa}"\n[roi]\nbinsize = 200\n', "roi.bed"),
    ],
)
def test_bad_spec(tmp_path, text, key):
    spec = tmp_path / "bad.toml"
    spec.write_text(text.format(fa=ga.example_path("genome.fa")))
    out = _run(["build", str(spec), "--quiet"], tmp_path, check=False)
    assert out.returncode == 2
    assert key in out.stderr and "bad.toml" in out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_missing_spec(tmp_path):
    out = _run(["build", str(tmp_path / "none.toml")], tmp_path, check=False)
    assert out.returncode == 2 and "none.toml" in out.stderr


def test_demo(tmp_path):
    pytest.importorskip("keras")
    pybigwig = pytest.importorskip("pyBigWig")
    out = _run(["demo", "--quiet"], tmp_path)
    text = out.stdout
    assert "<xarray.DataArray 'onehot'" in text
    assert "auPRC" in text and "auROC" in text
    demo = tmp_path / "demo"
    bigwig, png = demo / "prediction_chr3.bw", demo / "tracks_chr3.png"
    tsv = demo / "evaluation" / "chr3.tsv"
    for path in (bigwig, png, tsv):
        assert str(path) in text
        assert path.is_file() and path.stat().st_size > 0
    with pybigwig.open(str(bigwig)) as bw:
        assert "chr3" in bw.chroms()
    rows = tsv.read_text()
    assert "auroc" in rows and "auprc" in rows


@pytest.mark.parametrize(
    "command, words",
    [
        ("build", ["TOML", "FASTA", "BAM", "bigWig", "example"]),
        ("info", ["store", "example"]),
        ("export", ["store", "bigWig", "bedGraph", "example"]),
        ("demo", ["--order", "one-hot", "--epochs", "example"]),
    ],
)
def test_help(tmp_path, command, words):
    text = _run([command, "--help"], tmp_path).stdout
    for word in words:
        assert word in text, word


def test_spec_is_packaged():
    assert Path(SPEC).is_file()
