"""Cold builds and windows from stores (issue 15): codecs keep values exact, a fresh build's
kept blocks equal its store, many interval files read as one reader equal per-file reads,
chunk-aligned view batches equal the numpy gather."""

import os
import subprocess
import sys

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import genomarray as ga
from genomarray import model
from genomarray.errors import InputError, StoreError
from genomarray.genome import graph, store
from genomarray.io.interval_stack import IntervalStack
from genomarray.io.intervals import IntervalCoverage
from genomarray.io.regions import read_regions

BAM = ga.example_path("sample.bam")
BW = ga.example_path("sample.bw")
FASTA = ga.example_path("genome.fa")
PEAKS = ga.example_path("peaks.narrowPeak")


# -- codecs ---------------------------------------------------------------------------------
def test_codec_per_kind():
    """lz4; bit-shuffle only for 1-byte non-label data (sequence codes)."""

    def pick(dtype, labels=False):
        (codec,) = store._compressors(np.dtype(dtype), labels)
        return codec.cname.value, codec.shuffle.value

    assert pick(np.uint8) == ("lz4", "bitshuffle")
    assert pick(np.uint8, labels=True) == ("lz4", "shuffle")
    assert pick(np.int32) == ("lz4", "shuffle")
    assert pick(np.float32) == ("lz4", "shuffle")
    assert pick(np.float32, labels=True) == ("lz4", "shuffle")


@pytest.mark.parametrize("dtype", ["uint8", "int32", "int64", "float32", "float64", "bool"])
def test_codec_round_trip_is_exact(tmp_path, dtype):
    rng = np.random.default_rng(0)
    n = 50_000
    if dtype == "bool":
        values = rng.random((1, n, 1, 2)) < 0.01
    elif np.dtype(dtype).kind == "f":
        values = (rng.gamma(2.0, 3.0, (1, n, 1, 2)) * 1e3).astype(dtype)
        values[0, :10, 0, 0] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-45, -1e38, 3.4e38, 0, 1]
    else:
        info = np.iinfo(dtype)
        values = rng.integers(0, 50, (1, n, 1, 2)).astype(dtype)
        values[0, :3, 0, 0] = [info.min, info.max, 0]
    for mode in ("binary", "score"):  # a label track and a signal track
        t = model.coverage_track(values, ["c"], [n], ["."], ["a", "b"], mode=mode)
        back = store.open_zarr(store.write_zarr(t, tmp_path / f"{mode}.zarr", progress=False))
        got = back.values
        assert got.dtype == values.dtype
        assert got.tobytes() == values.tobytes()  # bit for bit: NaN, -0.0, extremes


@pytest.mark.parametrize("special", [-0.0, np.nan, 1e-45])
def test_chunks_of_one_float_value_other_than_the_fill_are_written(tmp_path, special):
    """The quick fill check compares bit patterns, as zarr does: -0.0 and NaN are kept."""
    values = np.zeros((1, 30, 1, 1), np.float32)
    values[0, 10:20] = special  # chunk 1 holds only `special`, chunks 0 and 2 only 0.0
    t = model.coverage_track(values, ["c"], [30], ["."], ["a"])
    path = store.write_zarr(t, tmp_path / "s.zarr", chunks={"pos": 10}, progress=False)
    got = store.open_zarr(path).values
    assert got.tobytes() == values.tobytes()
    written = sorted(os.listdir(os.path.join(path, "coverage", "c", "0")))
    assert written == ["1"]  # the fill-only chunks are not written


# -- a fresh build's blocks are served, equal to the store ------------------------------------
def _chunk_files(path):
    return [
        os.path.join(root, f)
        for root, _, files in os.walk(path)
        for f in files
        if f not in ("zarr.json", ".zattrs", ".zgroup")
        and not f.startswith("genomarray_manifest")
        and f"{os.sep}c{os.sep}" in os.path.join(root, f) + os.sep
    ]


BUILDS = {
    "bam int32": lambda **kw: ga.read_bam(BAM, mode="coverage", **kw),
    "bam 5' at 50 bp": lambda **kw: ga.read_bam(BAM, resolution=50, **kw),
    "bigwig float32 NaN": lambda **kw: ga.read_bigwig(BW, nan_to_num=False, **kw),
    "fasta uint8": lambda **kw: ga.read_fasta(FASTA, **kw),
    "narrowPeak labels uint8": lambda **kw: ga.read_bed(PEAKS, like=FASTA, dtype="uint8", **kw),
    "bed score, two files": lambda **kw: ga.read_bed([PEAKS, PEAKS], "score", like=FASTA, **kw),
}


@pytest.mark.parametrize("name", list(BUILDS))
def test_fresh_build_serves_its_blocks_equal_to_the_store(tmp_path, name):
    fresh = BUILDS[name](store_path=tmp_path / "s.zarr", progress=False, chunk=8192)
    path = fresh.encoding["store"]
    stored = store.open_zarr(path).values  # read back from the chunk files
    files = _chunk_files(path)
    assert files  # the store holds chunks
    assert stored.any()  # a read of the moved store would give fill values only
    hidden = tmp_path / "hidden"
    os.rename(path, hidden)  # the fresh array computes without its store
    try:
        served = fresh.values
    finally:
        os.rename(hidden, path)
    assert served.dtype == stored.dtype
    assert served.tobytes() == stored.tobytes()
    again = BUILDS[name](store_path=tmp_path / "s.zarr", progress=False, chunk=8192)
    np.testing.assert_array_equal(again.values, stored)  # cache hit: read from the store
    assert again.data.name == fresh.data.name  # same dask name: the same values


def test_build_over_the_budget_keeps_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(graph, "KEEP_BYTES", 1000)
    fresh = ga.read_bam(BAM, mode="coverage", store_path=tmp_path / "s.zarr", progress=False)
    stored = store.open_zarr(fresh.encoding["store"]).values
    assert stored.any()
    hidden = tmp_path / "hidden"
    os.rename(fresh.encoding["store"], hidden)
    try:  # nothing kept: it reads the store, whose chunks are gone (the manifest says so)
        with pytest.raises(StoreError, match="is missing"):
            fresh.values.sum()
    finally:
        os.rename(hidden, fresh.encoding["store"])
    np.testing.assert_array_equal(fresh.values, stored)


def test_kept_blocks_serve_only_a_complete_build():
    keep = graph.KeptBlocks()
    lazy = keep.wrap(da.arange(10, chunks=4))
    lazy[:4].compute()  # one block of three
    stored = xr.DataArray(da.arange(10, chunks=4), dims="x")
    assert keep.serve(stored) is stored and not keep.served
    keep = graph.KeptBlocks()
    lazy = keep.wrap(da.arange(10, chunks=4))
    lazy.compute()
    other = xr.DataArray(da.arange(10, chunks=5), dims="x")  # other chunks: not served
    assert keep.serve(other) is other


def test_storage_memory_from_a_fresh_build_equals_the_store(tmp_path):
    mem = ga.read_bam(BAM, storage="memory", cache=True, progress=False)
    assert isinstance(mem.data, np.ndarray)
    again = ga.read_bam(BAM, progress=False)  # the cached store
    np.testing.assert_array_equal(mem.values, again.values)


def test_a_build_and_its_view_do_not_import_distributed(tmp_path):
    """dask's scheduler lookup imports distributed (0.2 s); genomarray's build, store
    opening and view construction avoid it (computing ``.values`` is dask's own call)."""
    code = (
        "import sys, genomarray as ga, pandas as pd\n"
        f"cov = ga.read_bam({BAM!r}, mode='coverage', progress=False)\n"
        f"dna = ga.read_fasta({FASTA!r}, progress=False)\n"
        "roi = pd.DataFrame({'chrom': ['chr1'], 'start': [100], 'end': [300]})\n"
        "v = cov.janggu.view(roi); w = dna.janggu.view(roi)\n"
        "again = ga.read_bam(" + repr(BAM) + ", mode='coverage', progress=False)\n"
        "again.janggu.view(roi)\n"
        "print('distributed' in sys.modules)\n"
    )
    env = {**os.environ, "GENOMARRAY_OUTPUT": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr


# -- many interval files -> one condition axis -------------------------------------------------
SIZES = {"chr1": 40_000, "chr2": 30_001, "chr3": 20_000}


def _peak_file(path, rng, n, sizes=SIZES, score=True):
    chroms = rng.choice(list(sizes), n)
    width = rng.integers(1, 900, n)
    start = np.array([rng.integers(0, sizes[c] - 1) for c in chroms])
    end = np.minimum(start + width, [sizes[c] for c in chroms])
    df = pd.DataFrame({"chrom": chroms, "start": start, "end": end})
    df["name"] = [f"p{i}" for i in range(n)]
    df["score"] = rng.integers(-5, 1000, n) if score else 0
    df["strand"] = "."
    df.sort_values(["chrom", "start"]).to_csv(path, sep="\t", header=False, index=False)
    return str(path)


@pytest.mark.filterwarnings("ignore:.*no regions")
@pytest.mark.parametrize(
    "mode,resolution,minoverlap", [("binary", 1, None), ("binary", 200, 0.5), ("score", 50, None)]
)
def test_many_files_equal_per_file_reads_stacked(tmp_path, mode, resolution, minoverlap):
    rng = np.random.default_rng(1)
    files = [_peak_file(tmp_path / f"f{i}.bed", rng, int(rng.integers(0, 120))) for i in range(7)]
    kw = {"like": SIZES, "resolution": resolution, "minoverlap": minoverlap, "progress": False}
    many = ga.read_bed(files, mode, storage="memory", **kw)
    one = [ga.read_bed(f, mode, storage="memory", **kw).values for f in files]
    np.testing.assert_array_equal(many.values, np.concatenate(one, axis=3))
    assert list(many.condition.values) == [f"f{i}" for i in range(7)]
    stored = ga.read_bed(files, mode, chunk=1024, **kw)  # through a store, small chunks
    np.testing.assert_array_equal(stored.values, many.values)


@pytest.mark.filterwarnings("ignore:.*no regions")
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sets=st.lists(
        st.lists(st.tuples(st.integers(0, 300), st.integers(1, 60), st.floats(-9, 9)), max_size=8),
        min_size=1,
        max_size=5,
    ),
    res=st.integers(1, 25),
    frac=st.sampled_from([None, 0.3, 1.0]),
    mode=st.sampled_from(["binary", "score"]),
    window=st.tuples(st.integers(0, 20), st.integers(0, 20)),
)
def test_interval_stack_equals_interval_coverage(sets, res, frac, mode, window):
    sizes = {"c": 317}
    stack = IntervalStack(mode=mode, resolution=res, minoverlap=frac, chrom_sizes=sizes)
    singles = []
    for rows in sets:
        df = pd.DataFrame(
            {
                "chrom": "c",
                "start": [a for a, _, _ in rows],
                "end": [a + w for a, w, _ in rows],
                "score": [round(s, 2) or 1.0 for _, _, s in rows],
            }
        )
        df = read_regions(df)
        stack.add(df)
        singles.append(IntervalCoverage(df, mode=mode, resolution=res, minoverlap=frac,
                                        chrom_sizes=sizes))  # fmt: skip
    stack.freeze()
    lo = window[0]
    hi = lo + window[1] + 1
    got = stack("c", lo, hi)
    want = np.concatenate([s("c", lo, hi) for s in singles], axis=1)
    np.testing.assert_array_equal(got, want)
    assert stack("other", 0, 3).shape == (3, len(sets)) and not stack("other", 0, 3).any()


def test_label_dtype_uint8_equals_float32():
    f32 = ga.read_bed(PEAKS, like=FASTA, storage="memory", progress=False)
    u8 = ga.read_bed(PEAKS, like=FASTA, storage="memory", dtype="uint8", progress=False)
    assert u8.dtype == np.uint8 and f32.dtype == np.float32
    np.testing.assert_array_equal(u8.values, f32.values)
    with pytest.raises(InputError, match="needs a float dtype"):
        ga.read_bed(PEAKS, "score", like=FASTA, dtype="uint8", progress=False)


def test_many_conditions_get_shorter_chunks():
    from genomarray.genome.tracks import build_track

    assert graph.chunk_length(4 * 3) == graph.DEFAULT_CHUNK
    assert graph.chunk_length(919 * 4) == 8192 and graph.chunk_length(919) == 32768

    def labels(chrom, start, end):  # 919 conditions: condition k is 1 on bins k mod 919
        out = np.zeros((end - start, 919), np.float32)
        bins = np.arange(start, end)
        out[np.arange(end - start), bins % 919] = 1
        return out

    names = [f"c{k}" for k in range(919)]
    args = ([labels], {"c": 20_000}, ["."], names, np.float32, 1, "demo", [], {})
    t = build_track(*args, categorical=True, storage="lazy")
    assert t.chunks[1] == (8192, 8192, 3616)
    stored = build_track(*args, categorical=True, progress=False)  # through a store
    assert stored.chunks[1] == (8192, 8192, 3616)
    np.testing.assert_array_equal(stored.values, t.values)
    assert (stored.values.sum(axis=3) == 1).all()


# -- windows from stores: chunk-aligned batches --------------------------------------------------
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    chunk=st.integers(3, 40),
    starts=st.lists(st.tuples(st.integers(-15, 120), st.booleans()), min_size=1, max_size=40),
    width=st.integers(1, 30),
    budget=st.sampled_from([1, 200, 32 << 20]),
)
def test_lazy_view_equals_numpy_view(chunk, starts, width, budget):
    rng = np.random.default_rng(chunk)
    lengths = [101, 57]
    values = rng.integers(0, 100, (2, 101, 2, 1)).astype(np.int32)
    values[1, 57:] = 0
    eager = model.coverage_track(values, ["a", "b"], lengths, ["+", "-"], ["x"])
    lazy = eager.copy(data=da.from_array(values, chunks=(1, chunk, 2, 1)))
    rows = [
        ("a" if i % 3 else "b", max(s, 0), max(s, 0) + width, "-" if minus else "+")
        for i, (s, minus) in enumerate(starts)
    ]
    roi = pd.DataFrame(rows, columns=["chrom", "start", "end", "strand"])
    roi = roi[roi["start"] < roi["chrom"].map({"a": 101, "b": 57})]
    if roi.empty:
        return
    for flank in (0, 7):
        want = ga.view(eager, roi, flank=flank).values
        got = ga.view(lazy, roi, flank=flank, batch_bytes=budget)
        np.testing.assert_array_equal(got.values, want)
