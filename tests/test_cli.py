"""The ``genomarray`` command line: build, info, export, demo (run as subprocesses)."""

import json
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


def _spec(tmp_path, text, name="spec.toml"):
    spec = tmp_path / name
    spec.write_text(text.format(data=Path(ga.example_path("genome.fa")).parent))
    return spec


def _one_error_line(out):
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("genomarray")
    return lines[0]


def test_bad_spec_reports_every_problem_at_once(tmp_path):
    spec = _spec(
        tmp_path,
        '[genome]\nfasta = "nope.fa"\nalphabet = "x"\n'
        '[[tracks]]\nname = "genome"\nbam = ["a.bam"]\nmode = "foo"\nresolution = 0\n'
        'normalizers = ["minmax"]\n'
        '[[tracks]]\nname = "s"\nbigwig = "{data}/sample.bw"\nconditions = ["a", "b"]\n'
        '[roi]\nbed = "r.bed"\nbinsize = 0\nflank = -1\n',
        "bad.toml",
    )
    line = _one_error_line(_run(["build", str(spec), "--quiet"], tmp_path, check=False))
    assert line.startswith(f"genomarray: error: {spec}: 11 problems: (1) ")
    for part in (
        "unknown key 'genome.alphabet'",
        "key 'genome.fasta': file not found",
        "key 'tracks[0].name': 'genome' is the genome's store",
        "key 'tracks[0].bam[0]': file not found",
        "key 'tracks[0].mode' of a bam track must be one of 5prime, coverage, got 'foo'",
        "key 'tracks[0].resolution' must be a whole number >= 1, got 0",
        "key 'tracks[0].normalizers[0]' must be one of tpm",
        "key 'tracks[1].conditions' must be a list of 1 name(s)",
        "key 'roi.bed': file not found",
        "key 'roi.binsize' must be a whole number >= 1, got 0",
        "key 'roi.flank' must be a whole number >= 0, got -1",
    ):
        assert part in line, part
    assert not (tmp_path / "build").exists()  # nothing built


@pytest.mark.parametrize(
    "text, key",
    [
        (
            '[genome]\nfasta = "{data}/genome.fa"\n[roi]\nbed = "{data}/roi.bed"\nbinsize = 0\n',
            "'roi.binsize' must be a whole number >= 1, got 0",
        ),
        (
            '[[tracks]]\nname = "s"\nbigwig = "{data}/sample.bw"\nresolution = 0\n',
            "'tracks[0].resolution' must be a whole number >= 1, got 0",
        ),
        (
            '[[tracks]]\nname = "s"\nbigwig = "{data}/sample.bw"\nresolution = true\n',
            "'tracks[0].resolution' must be a whole number >= 1, got True",
        ),
    ],
)
def test_zero_sizes_refused(tmp_path, text, key):
    """binsize = 0 used to mean "do not tile" and resolution = 0 became 1, silently."""
    line = _one_error_line(
        _run(["build", str(_spec(tmp_path, text)), "--quiet"], tmp_path, check=False)
    )
    assert key in line


def test_build_onto_another_build(tmp_path):
    track = '[[tracks]]\nname = "signal"\nbigwig = "{data}/sample.bw"\nresolution = %d\n'
    out = tmp_path / "stores"
    first = _spec(tmp_path, track % 50, "a.toml")
    _run(["build", str(first), "--quiet", "--out", str(out)], tmp_path)
    _run(["build", str(first), "--quiet", "--out", str(out)], tmp_path)  # same build: reused
    second = _spec(tmp_path, track % 100, "b.toml")
    args = ["build", str(second), "--quiet", "--out", str(out)]
    line = _one_error_line(_run(args, tmp_path, check=False))
    assert f"{out / 'signal.zarr'} holds another build" in line
    assert "pass --overwrite to replace it" in line and "overwrite=True" not in line
    assert ga.open_zarr(out / "signal.zarr").attrs["resolution"] == 50  # untouched
    _run([*args, "--overwrite"], tmp_path)
    assert ga.open_zarr(out / "signal.zarr").attrs["resolution"] == 100
    assert sorted(p.name for p in out.iterdir()) == ["signal.zarr"]  # nothing left aside


def test_export_onto_an_existing_file(built, tmp_path):
    folder, _ = built
    target = tmp_path / "signal.bw"
    _run(["export", str(folder / "signal.zarr"), str(target)], tmp_path)
    line = _one_error_line(
        _run(["export", str(folder / "signal.zarr"), str(target)], tmp_path, check=False)
    )
    assert line == f"genomarray: error: {target} exists; pass --overwrite to replace it"


def test_export_of_a_sequence_view_refused(built, tmp_path):
    folder, _ = built
    args = ["export", str(folder / "genome.roi.zarr"), str(tmp_path / "g.bw")]
    line = _one_error_line(_run(args, tmp_path, check=False))
    assert "this is a view of DNA sequence codes" in line
    assert not (tmp_path / "g.bw").exists()


def test_info_of_a_folder_that_is_no_store(tmp_path):
    (tmp_path / "empty.zarr").mkdir()
    line = _one_error_line(_run(["info", str(tmp_path / "empty.zarr")], tmp_path, check=False))
    assert f"{tmp_path / 'empty.zarr'} is not a genomarray store" in line
    line = _one_error_line(_run(["info", str(tmp_path / "none.zarr")], tmp_path, check=False))
    assert line == f"genomarray: error: no such store: {tmp_path / 'none.zarr'}"


@pytest.mark.parametrize(
    "args, words",
    [
        (["bogus"], ["invalid choice: 'bogus'", "genomarray --help"]),
        (["info"], ["genomarray info: error", "store", "genomarray info --help"]),
        (["export", "--how", "median", "a", "b"], ["invalid choice: 'median'"]),
        (["demo", "--epochs", "x"], ["invalid int value: 'x'"]),
    ],
)
def test_argument_errors_are_one_line(tmp_path, args, words):
    line = _one_error_line(_run(args, tmp_path, check=False))
    for word in words:
        assert word in line


def test_unexpected_error_is_one_line(monkeypatch, capsys):
    from genomarray import cli

    def boom(args):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(cli, "info_command", boom)
    assert cli.main(["info", "x.zarr"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "genomarray: error: RuntimeError: boom second line (unexpected: rerun with "
        "--traceback and report it)\n"
    )
    with pytest.raises(RuntimeError, match="boom"):
        cli.main(["--traceback", "info", "x.zarr"])


_LOADED = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("genomarray_cli_alone", sys.argv[1])
cli = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cli)
for argv in (["--help"], ["build", "--help"], ["build"], ["bogus"]):
    try:
        cli.main(argv)
    except SystemExit as done:
        print("exit", done.code)
heavy = ("xarray", "dask", "numpy", "pandas", "zarr", "genomarray")
print(sorted(m for m in sys.modules if m.split(".")[0] in heavy))
"""


def test_cli_parses_before_importing_the_library(tmp_path):
    """The ``genomarray`` command (genomarray_cli.py, beside the package) imports only the
    standard library and parses its arguments (help, argument errors) before anything of
    the library is imported."""
    cli = Path(ROOT) / "genomarray_cli.py"
    out = subprocess.run(
        [sys.executable, "-c", _LOADED, str(cli)], capture_output=True, text=True, cwd=tmp_path
    )
    lines = out.stdout.strip().splitlines()
    assert [x for x in lines if x.startswith("exit")] == ["exit 0", "exit 0", "exit 2", "exit 2"]
    assert lines[-1] == "[]", out.stdout


def _imported_by_help(tmp_path) -> set[str]:
    probe = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "genomarray", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    assert probe.returncode == 0 and "genomarray build" in probe.stdout
    return {line.rsplit("|", 1)[-1].strip() for line in probe.stderr.splitlines()}


def test_module_help_imports_no_dask(tmp_path):
    imported = _imported_by_help(tmp_path)
    assert "genomarray.cli" in imported
    assert not {"dask", "dask.array", "zarr", "pysam", "numba", "keras"} & imported


def test_command_help_imports_nothing_heavy(tmp_path):
    """``genomarray --help`` (the console script: genomarray_cli) loads neither xarray nor
    dask; ``python -m genomarray`` goes through the package, which registers the accessor
    and so loads xarray (documented in docs/cli.md)."""
    probe = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "genomarray_cli", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    assert probe.returncode == 0 and "genomarray build" in probe.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in probe.stderr.splitlines()}
    assert not {"xarray", "numpy", "pandas", "dask", "genomarray"} & imported


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
    # three roles, said in the output: train chr1, early stopping on chr2, test chr3
    assert "train on chr1: 200 tiles" in text
    assert "validation (early stopping) on chr2: 150 tiles" in text
    assert "test on held-out chr3, unseen until the end: 100 tiles" in text
    assert "4. test on held-out chr3, used for nothing else: auROC" in text
    summary = json.loads((demo / "summary.json").read_text())
    assert summary["test_chrom"] == "chr3" and summary["validation_chrom"] == "chr2"
    assert 1 <= summary["best_epoch"] <= summary["epochs"]
    assert summary["auroc"] > 0.8 and summary["auprc"] > summary["positive_rate"] + 0.3
    tsv_auroc = [r.split("\t") for r in rows.splitlines() if "\tauroc\t" in r]
    assert tsv_auroc and abs(float(tsv_auroc[0][-1]) - summary["auroc"]) < 1e-6


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
