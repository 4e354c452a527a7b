"""xarray backend engines: each engine's Dataset equals the ga.read_* array it wraps.

The entry points are tested two ways: with ``engine=<class>`` (always), and without
``engine=`` in a subprocess that sees the entry points of pyproject.toml through a temporary
``.dist-info`` folder (so no reinstall of the package is needed), plus, when the installed
distribution already declares them, directly.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import genomarray as ga
from genomarray import model
from genomarray.paths import cache_dir
from genomarray.xarray_engines import (
    BamBackendEntrypoint,
    BedBackendEntrypoint,
    BigWigBackendEntrypoint,
    FastaBackendEntrypoint,
)

ROOT = Path(__file__).resolve().parents[1]
FASTA = ga.example_path("genome.fa")
ENGINES = {
    "genomarray_bigwig": BigWigBackendEntrypoint,
    "genomarray_bam": BamBackendEntrypoint,
    "genomarray_fasta": FastaBackendEntrypoint,
    "genomarray_bed": BedBackendEntrypoint,
}


def assert_same(ds: xr.Dataset, ref: xr.DataArray) -> None:
    """The engine's variable has the reference's values, dims, coords and attrs."""
    name = ds.attrs["genomarray_var"]
    assert name == ref.name
    got = ds[name]
    assert got.dims == ref.dims
    assert got.dtype == ref.dtype
    np.testing.assert_array_equal(got.values, ref.values)
    assert set(got.coords) == set(ref.coords)
    for key in ref.coords:
        np.testing.assert_array_equal(got[key].values, ref[key].values)
    assert got.attrs == ref.attrs


def _stores() -> list[str]:
    return sorted(p.name for p in cache_dir().glob("*.zarr")) if cache_dir().exists() else []


# -- each engine against its reader -----------------------------------------------------


@pytest.mark.parametrize("kwargs", [{}, {"resolution": 50, "how": "max"}])
def test_bigwig_engine_equals_read_bigwig(kwargs):
    path = ga.example_path("sample.bw")
    ref = ga.read_bigwig(path, progress=False, **kwargs)
    ds = xr.open_dataset(path, engine=BigWigBackendEntrypoint, **kwargs)
    assert_same(ds, ref)


def test_bam_engine_equals_read_bam():
    path = ga.example_path("sample.bam")
    ref = ga.read_bam(path, resolution=50, stranded=True, progress=False)
    ds = xr.open_dataset(path, engine=BamBackendEntrypoint, resolution=50, stranded=True)
    assert_same(ds, ref)
    assert list(ds.strand.values) == list(model.STRANDS_STRANDED)
    unstranded = xr.open_dataset(
        path, engine=BamBackendEntrypoint, resolution=50, stranded=False, min_mapq=10
    )
    assert_same(unstranded, ga.read_bam(path, resolution=50, stranded=False, min_mapq=10))


def test_fasta_engine_equals_read_fasta(genome_seqs):
    ds = xr.open_dataset(FASTA, engine=FastaBackendEntrypoint)
    ref = ga.read_fasta(FASTA, progress=False)
    assert_same(ds, ref)
    # and the codes are the genome's letters (independent parser)
    codes = ds.sequence.sel(chrom="chr2").values[: len(genome_seqs["chr2"])]
    letters = np.array(list("ACGTN"))[codes]
    expected = np.array(list(genome_seqs["chr2"]))
    expected[~np.isin(expected, list("ACGT"))] = "N"
    np.testing.assert_array_equal(letters, expected)


def test_bed_engine_narrowpeak_like_fasta():
    path = ga.example_path("peaks.narrowPeak")
    ds = xr.open_dataset(path, engine=BedBackendEntrypoint, like=FASTA)
    ref = ga.read_bed(path, like=FASTA, progress=False)
    assert_same(ds, ref)
    assert int(ds.coverage.sel(chrom="chr1").sum()) == 7600  # 38 peaks of 200 bp
    scored = xr.open_dataset(path, engine=BedBackendEntrypoint, like=FASTA, mode="score")
    assert_same(scored, ga.read_bed(path, "score", like=FASTA, progress=False))


def test_bed_engine_bedgraph_reads_values_by_default(tmp_path):
    path = tmp_path / "signal.bedGraph"
    path.write_text("chr1\t10\t20\t2.5\nchr2\t0\t5\t-1\n")
    ds = xr.open_dataset(path, engine=BedBackendEntrypoint, like=FASTA, storage="memory")
    ref = ga.read_bed(str(path), "bedgraph", like=FASTA, storage="memory")
    assert_same(ds, ref)
    cov = ds.coverage.isel(strand=0, condition=0)
    assert cov.sel(chrom="chr1").values[10:20].tolist() == [2.5] * 10
    assert cov.sel(chrom="chr2").values[:5].tolist() == [-1.0] * 5
    assert float(abs(cov).sum()) == 25 + 5


def test_bed_engine_gtf_features():
    path = ga.example_path("genes.gtf")
    ds = xr.open_dataset(path, engine=BedBackendEntrypoint, like=FASTA, feature="exon")
    assert_same(ds, ga.read_gff(path, feature="exon", like=FASTA, progress=False))
    per_feature = xr.open_dataset(
        path, engine=BedBackendEntrypoint, like=FASTA, mode="feature_category"
    )
    ref = ga.read_gff(path, mode="feature_category", like=FASTA, progress=False)
    assert_same(per_feature, ref)
    assert {"exon", "gene"} <= set(per_feature.condition.values)


# -- xarray conventions: laziness, chunks, drop_variables, the cache ---------------------


def test_lazy_indexing_and_dask_chunks():
    path = ga.example_path("sample.bw")
    ref = ga.read_bigwig(path, resolution=10, progress=False)
    lazy = xr.open_dataset(path, engine=BigWigBackendEntrypoint, resolution=10)
    assert lazy.coverage.chunks is None  # xarray's lazily indexed array, as for netCDF
    part = lazy.coverage.sel(chrom="chr2").isel(pos=slice(100, 180))
    np.testing.assert_array_equal(part.values, ref.sel(chrom="chr2").isel(pos=slice(100, 180)))
    chunked = xr.open_dataset(path, engine=BigWigBackendEntrypoint, resolution=10, chunks={})
    assert chunked.coverage.chunks == ref.chunks  # the genomarray store's chunks
    np.testing.assert_array_equal(chunked.coverage.values, ref.values)


def test_drop_variables():
    path = ga.example_path("sample.bw")
    ds = xr.open_dataset(path, engine=BigWigBackendEntrypoint, drop_variables="chrom_length")
    assert "chrom_length" not in ds.variables and "coverage" in ds
    ds = xr.open_dataset(path, engine=BigWigBackendEntrypoint, drop_variables=["coverage"])
    assert "coverage" not in ds and list(ds.chrom.values) == ["chr1", "chr2", "chr3"]


def test_engine_reads_through_the_same_cache():
    path = ga.example_path("sample.bw")
    ds = xr.open_dataset(path, engine=BigWigBackendEntrypoint, resolution=20)
    assert len(_stores()) == 1
    ref = ga.read_bigwig(path, resolution=20, progress=False)
    assert _stores() == [Path(ref.encoding["store"]).name]  # no second build
    assert ds.encoding["genomarray_store"] == ref.encoding["store"]
    assert ds.coverage.attrs["cache_key"] == ref.attrs["cache_key"]
    xr.open_dataset(path, engine=BigWigBackendEntrypoint, resolution=20, storage="lazy")
    assert len(_stores()) == 1  # storage="lazy" writes nothing


def test_use_cache_false_rebuilds_like_read(tmp_path):
    target = tmp_path / "g.zarr"
    ds = xr.open_dataset(FASTA, engine=FastaBackendEntrypoint, store_path=target)
    assert target.exists() and ds.encoding["genomarray_store"] == str(target)
    lazy = xr.open_dataset(FASTA, engine=FastaBackendEntrypoint, use_cache=False)
    assert "genomarray_store" not in lazy.encoding
    np.testing.assert_array_equal(lazy.sequence.values, ds.sequence.values)


def test_xarray_cache_keyword_is_xarrays_own():
    """``cache=`` is xarray's; genomarray's is ``use_cache`` (documented in the module)."""
    path = ga.example_path("sample.bw")
    ds = xr.open_dataset(path, engine=BigWigBackendEntrypoint, cache=False, storage="lazy")
    assert ds.coverage.shape == (3, 40000, 1, 1)


def test_open_mfdataset_bigwigs_as_conditions(tmp_path):
    src = ga.example_path("sample.bw")
    paths = [shutil.copyfile(src, tmp_path / f"{name}.bw") for name in ("rep1", "rep2")]
    ds = xr.open_mfdataset(
        paths,
        engine=BigWigBackendEntrypoint,
        concat_dim="condition",
        combine="nested",
        resolution=10,
    )
    assert list(ds.condition.values) == ["rep1", "rep2"]
    assert ds.coverage.dims == ("chrom", "pos", "strand", "condition")
    ref = ga.read_bigwig([str(p) for p in paths], resolution=10, progress=False)
    np.testing.assert_array_equal(ds.coverage.values, ref.values)
    np.testing.assert_array_equal(ds.chrom_length.values, ref.chrom_length.values)


def test_errors_are_the_readers():
    with pytest.raises(FileNotFoundError, match="nothing.bw"):
        xr.open_dataset("nothing.bw", engine=BigWigBackendEntrypoint)
    with pytest.raises(ga.errors.InputError, match="like="):
        xr.open_dataset(ga.example_path("peaks.narrowPeak"), engine=BedBackendEntrypoint)


# -- guessing and the entry points ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "engine"),
    [
        ("x.bw", "genomarray_bigwig"),
        ("X.BigWig", "genomarray_bigwig"),
        ("reads.bam", "genomarray_bam"),
        ("reads.cram", "genomarray_bam"),
        ("genome.fa", "genomarray_fasta"),
        ("genome.fasta.gz", "genomarray_fasta"),
        ("hg38.fna.bgz", "genomarray_fasta"),
        ("peaks.narrowPeak", "genomarray_bed"),
        ("peaks.bed.gz", "genomarray_bed"),
        ("signal.bedGraph", "genomarray_bed"),
        ("genes.gtf.gz", "genomarray_bed"),
        ("genes.gff3", "genomarray_bed"),
        ("http://127.0.0.1:8000/dir/x.bw?token=1", "genomarray_bigwig"),
    ],
)
def test_guess_can_open_by_extension(name, engine):
    claims = [key for key, cls in ENGINES.items() if cls().guess_can_open(name)]
    assert claims == [engine]


@pytest.mark.parametrize("name", ["x.nc", "store.zarr", "x.bai", "x.fai", "x.txt", "bw"])
def test_guess_can_open_refuses_others(name):
    assert not any(cls().guess_can_open(name) for cls in ENGINES.values())
    assert not any(cls().guess_can_open(object()) for cls in ENGINES.values())


def test_pyproject_declares_the_engines():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = meta["project"]["entry-points"]["xarray.backends"]
    assert declared == {
        key: f"genomarray.xarray_engines:{cls.__name__}" for key, cls in ENGINES.items()
    }


_SCRIPT = r"""
import json, sys
import xarray as xr
engines = xr.backends.list_engines()
listed = {k: type(v).__name__ for k, v in engines.items() if k.startswith("genomarray_")}
heavy = [m for m in ("pysam", "pyBigWig", "pybigtools", "zarr", "matplotlib", "keras")
         if m in sys.modules]
out = {"listed": listed, "heavy_after_listing": heavy, "opened": {}}
for path, kwargs in json.loads(sys.argv[1]):
    ds = xr.open_dataset(path, **kwargs)  # no engine=: guessed from the extension
    name = ds.attrs["genomarray_var"]
    out["opened"][path] = [name, list(ds[name].dims), float(ds[name].astype("float64").sum())]
print(json.dumps(out))
"""


def test_entry_points_without_engine_keyword(tmp_path):
    """pyproject's entry points, seen by a fresh interpreter through a .dist-info."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = meta["project"]["entry-points"]["xarray.backends"]
    dist = tmp_path / "site" / "genomarray_engines_under_test-0.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: genomarray-engines-under-test\nVersion: 0.0\n"
    )
    lines = "".join(f"{k} = {v}\n" for k, v in declared.items())
    (dist / "entry_points.txt").write_text(f"[xarray.backends]\n{lines}")
    files = [
        (ga.example_path("sample.bw"), {"resolution": 100}),
        (ga.example_path("sample.bam"), {"resolution": 100, "stranded": True}),
        (FASTA, {}),
        (ga.example_path("peaks.narrowPeak"), {"like": FASTA}),
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(dist.parent)])}
    run = subprocess.run(
        [sys.executable, "-c", _SCRIPT, json.dumps(files)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["listed"] == {k: cls.__name__ for k, cls in ENGINES.items()}
    assert out["heavy_after_listing"] == []
    refs = {
        files[0][0]: ga.read_bigwig(files[0][0], resolution=100, progress=False),
        files[1][0]: ga.read_bam(files[1][0], resolution=100, progress=False),
        FASTA: ga.read_fasta(FASTA, progress=False),
        files[3][0]: ga.read_bed(files[3][0], like=FASTA, progress=False),
    }
    for path, ref in refs.items():
        name, dims, total = out["opened"][path]
        assert name == ref.name and tuple(dims) == ref.dims
        assert total == pytest.approx(float(ref.astype("float64").sum()))


def _installed_engines() -> dict[str, str]:
    eps = importlib.metadata.entry_points(group="xarray.backends")
    return {ep.name: ep.value for ep in eps if ep.name.startswith("genomarray_")}


@pytest.mark.skipif(
    not _installed_engines(),
    reason="the installed genomarray predates the engines: `pip install -e . --no-deps`",
)
def test_installed_entry_points_open_without_engine():
    assert _installed_engines() == {
        key: f"genomarray.xarray_engines:{cls.__name__}" for key, cls in ENGINES.items()
    }
    path = ga.example_path("sample.bw")
    assert_same(xr.open_dataset(path, resolution=50), ga.read_bigwig(path, resolution=50))


# -- one generic open_dataset, driven by the declared parameters ------------------------

_READERS = {
    BigWigBackendEntrypoint: ["read_bigwig"],
    BamBackendEntrypoint: ["read_bam"],
    FastaBackendEntrypoint: ["read_fasta"],
    BedBackendEntrypoint: ["read_bed", "read_gff"],
}


@pytest.mark.parametrize("engine", list(_READERS), ids=lambda e: e.__name__)
def test_declared_parameters_are_the_readers(engine):
    """Every declared keyword (``use_cache`` standing for ``cache``) is one the reader
    takes, and every keyword of the reader (but ``paths``) is declared, so the engine and
    ``ga.read_*`` cannot drift apart."""
    import inspect

    declared = set(engine.open_dataset_parameters) - {"filename_or_obj", "drop_variables"}
    declared = {"cache" if p == "use_cache" else p for p in declared}
    read = getattr(ga, _READERS[engine][0])
    params = list(inspect.signature(read).parameters)
    assert declared == set(params[1:])
    assert engine.open_dataset_parameters[:2] == ("filename_or_obj", "drop_variables")


def test_unknown_keyword_is_a_type_error_listing_the_known_ones():
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) resolutoin.*resolution"):
        xr.open_dataset(ga.example_path("sample.bw"), engine=BigWigBackendEntrypoint, resolutoin=5)
    with pytest.raises(TypeError, match="decode_times"):  # xarray's decoders are not ours
        xr.open_dataset(
            ga.example_path("sample.bw"), engine=BigWigBackendEntrypoint, decode_times=True
        )


def test_engine_defaults_are_the_readers_but_progress(capsys):
    path = ga.example_path("sample.bam")
    ds = xr.open_dataset(path, engine=BamBackendEntrypoint, storage="lazy")
    ref = ga.read_bam(path, storage="lazy")
    assert_same(ds, ref)  # mode, stranded, resolution ... as read_bam's defaults
    xr.open_dataset(FASTA, engine=FastaBackendEntrypoint, chunk=None)
    assert "genomarray: writing" not in capsys.readouterr().out  # progress=False here
