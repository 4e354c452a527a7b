"""Sparse windows spilled once to a view store: batches equal to the in-memory path, the
spill reused while the genome store and the windows are the same, rebuilt when damaged,
and never served for another store's write."""

from __future__ import annotations

import glob
import os

import numpy as np
import pandas as pd
import pytest

import genomarray.batches.spill as spill
from genomarray import model
from genomarray.batches import BatchEngine, Request, StoreWindows
from genomarray.batches.spill import SpilledRows, decode_ratio
from genomarray.errors import StoreError
from genomarray.genome.store import open_zarr, write_zarr
from genomarray.paths import cache_dir
from genomarray.views.windows import view

CHROMS, LENGTH, CHUNK = ["chrA", "chrB"], 50_000, 5_000


def _stores(root, seed=0):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 5, (2, LENGTH)).astype(np.uint8)
    genome = model.sequence_genome(codes, CHROMS, [LENGTH, LENGTH - 123])
    cov = rng.poisson(2.0, (2, LENGTH, 2, 1)).astype(np.float32)
    track = model.coverage_track(cov, CHROMS, [LENGTH, LENGTH - 123], ["+", "-"], ["c"])
    return [
        open_zarr(write_zarr(a, root / f"{n}-{seed}.zarr", chunks={"pos": CHUNK}, progress=False))
        for n, a in (("dna", genome), ("cov", track))
    ]


def _roi(n=120, seed=1):
    """Sparse windows (40 bp + 10 bp flanks over 100 kb), some at the chromosome ends, on
    both strands, in no particular order."""
    rng = np.random.default_rng(seed)
    ci = rng.integers(0, 2, n)
    start = rng.integers(0, LENGTH - 200, n)
    start[:6] = [0, 0, LENGTH - 40, 4_990, 9_985, 2]  # padded, and across chunks
    ci[:6] = [0, 1, 0, 0, 1, 1]
    return pd.DataFrame(
        {
            "chrom": np.array(CHROMS)[ci],
            "start": start,
            "end": start + 40,
            "strand": rng.choice(["+", "-"], n),
        }
    )


def _flip_byte(path, at):
    with open(path, "r+b") as fh:
        fh.seek(at)
        b = fh.read(1)
        fh.seek(at)
        fh.write(bytes([b[0] ^ 0xFF]))


def _requests(views):
    dna, cov = views
    return [Request("dna", dna, order=1), Request("cov", cov, dtype=np.float32)]


def _in_memory(views):
    dna, cov = (v.compute() for v in views)
    return [Request("dna", dna, order=1), Request("cov", cov, dtype=np.float32)]


@pytest.mark.parametrize("shuffle", [False, True])
def test_sparse_views_spilled_equal_in_memory(tmp_path, shuffle):
    views = [view(s, _roi(), flank=10) for s in _stores(tmp_path)]
    ooc = BatchEngine(_requests(views), batch_size=16, shuffle=shuffle, seed=2, max_memory_bytes=0)
    assert all(isinstance(s, SpilledRows) for s in ooc.sources.values()), ooc.sources
    mem = BatchEngine(_in_memory(views), batch_size=16, shuffle=shuffle, seed=2)
    for epoch in range(2):
        ooc.epoch = epoch
        seen = []
        for i in range(len(ooc)):
            rows = ooc.rows(i)
            got, want = ooc.batch(i), mem.take(rows, epoch)
            for k in want:
                assert got[k].dtype == want[k].dtype
                np.testing.assert_array_equal(got[k], want[k], err_msg=f"{k} batch {i}")
            seen += rows.tolist()
        assert sorted(seen) == list(range(ooc.n))
    # what decided it: the windows are sparse on the store; spill=False reads the store
    kept = BatchEngine(_requests(views), max_memory_bytes=0, spill=False).sources
    assert all(isinstance(s, StoreWindows) and decode_ratio(s) > 8 for s in kept.values())


def test_dense_views_are_not_spilled(tmp_path):
    dna, _ = _stores(tmp_path)
    starts = np.arange(0, LENGTH - 1000, 200)
    roi = pd.DataFrame({"chrom": "chrA", "start": starts, "end": starts + 1000})
    eng = BatchEngine([Request("dna", view(dna, roi))], max_memory_bytes=0)
    assert isinstance(eng.sources["dna"], StoreWindows)
    assert not glob.glob(str(cache_dir() / "spill-*"))


def test_spill_reused_rebuilt_when_damaged_and_keyed_by_the_store(tmp_path, monkeypatch):
    views = [view(s, _roi(), flank=10) for s in _stores(tmp_path)]
    want = views[1].values
    writes = []
    make = spill._spilled_array
    monkeypatch.setattr(spill, "_spilled_array", lambda *a: writes.append(1) or make(*a))

    def rows():
        eng = BatchEngine([Request("cov", views[1])], max_memory_bytes=0)
        src = eng.sources["cov"]
        assert isinstance(src, SpilledRows)
        np.testing.assert_array_equal(eng.take(np.arange(eng.n))["cov"], want)
        return src

    first = rows()
    assert len(writes) == 1
    assert rows().path == first.path and len(writes) == 1  # reused, not written again
    files = glob.glob(os.path.join(first.path, "*", "c", "**"), recursive=True)
    chunk = sorted(f for f in files if os.path.isfile(f))[0]
    with open(chunk, "r+b") as fh:  # damaged: the store is rebuilt, with a warning
        fh.truncate(3)
    with pytest.warns(UserWarning, match="damaged"):
        again = rows()
    assert again.path == first.path and len(writes) == 2
    # the same windows of another write of the genome store: another spill
    other = view(_stores(tmp_path, seed=5)[1], _roi(), flank=10)
    eng = BatchEngine([Request("cov", other)], max_memory_bytes=0)
    assert eng.sources["cov"].path != first.path and len(writes) == 3
    np.testing.assert_array_equal(eng.take(np.arange(eng.n))["cov"], other.values)


def test_no_spill_without_the_stores_digest(tmp_path):
    """Without the genome store's manifest digest nothing would tell a rewrite of the
    store apart, so the view is read from the store, not spilled."""
    dna, _ = _stores(tmp_path)
    arr = view(dna, _roi(), flank=10)
    src = BatchEngine([Request("x", arr)], max_memory_bytes=0, spill=False).sources["x"]
    assert spill.decode_ratio(src) > spill.SPILL_RATIO
    assert isinstance(spill.spilled_if_sparse(src, arr), SpilledRows)
    src.reader.digest = None
    assert spill.spilled_if_sparse(src, arr) is src


def test_damaged_data_chunk_of_a_spill_is_refused_then_rebuilt(tmp_path):
    """A spilled store whose data chunk (not a coordinate) has other bytes opens, but its
    first read is a StoreError naming the store; the next engine rebuilds it."""
    views = [view(s, _roi(), flank=10) for s in _stores(tmp_path)]
    want = views[1].values
    src = BatchEngine([Request("cov", views[1])], max_memory_bytes=0).sources["cov"]
    assert isinstance(src, SpilledRows)
    var = src.inner.reader.var
    files = glob.glob(os.path.join(src.path, var, "c", "**"), recursive=True)
    chunk = sorted(f for f in files if os.path.isfile(f))[0]
    _flip_byte(chunk, 20)  # same size, other bytes
    eng = BatchEngine([Request("cov", views[1])], max_memory_bytes=0)
    with pytest.raises(StoreError, match="checksum") as err:
        eng.take(np.arange(eng.n))
    assert src.path in str(err.value)
    with pytest.warns(UserWarning, match="damaged"):
        eng = BatchEngine([Request("cov", views[1])], max_memory_bytes=0)
    np.testing.assert_array_equal(eng.take(np.arange(eng.n))["cov"], want)


def test_spill_falls_back_when_the_cache_is_not_writable(tmp_path, monkeypatch):
    """A cache folder that cannot be written: a warning, and the view is read from the
    genome store (its cache sized for the batches, not for the spill pass)."""
    views = [view(s, _roi(), flank=10) for s in _stores(tmp_path)]
    want = views[1].values

    def read_only(*a, **k):
        raise PermissionError("cannot write to the cache (read-only?)")

    monkeypatch.setattr(spill, "_spilled_array", read_only)
    with pytest.warns(UserWarning, match="not spilled"):
        eng = BatchEngine([Request("cov", views[1], dtype=np.float16)], max_memory_bytes=0)
    src = eng.sources["cov"]
    assert isinstance(src, StoreWindows) and src._cache is None
    np.testing.assert_array_equal(eng.take(np.arange(eng.n))["cov"], want.astype(np.float16))
    assert src.capacity == src.cache.capacity


def test_a_damaged_genome_store_is_a_store_error_when_spilling(tmp_path):
    """A genome chunk with other bytes met during the spill pass is a StoreError at once
    (not a fallback that fails later)."""
    dna, cov = _stores(tmp_path)
    path = cov.encoding["store"]
    files = glob.glob(os.path.join(path, "coverage", "c", "**"), recursive=True)
    chunk = sorted(f for f in files if os.path.isfile(f))[3]
    _flip_byte(chunk, 30)
    with pytest.raises(StoreError, match="checksum") as err:
        BatchEngine([Request("cov", view(cov, _roi(), flank=10))], max_memory_bytes=0)
    rel = os.path.relpath(chunk, os.path.join(path, "coverage"))
    assert str(err.value).startswith(f"{path}, array 'coverage', chunk {rel}:")  # which chunk


def test_spill_store_errors_fall_back_to_the_genome_store(tmp_path, monkeypatch):
    """A StoreError about the spilled store itself (not the genome store) warns and
    reads the genome store."""
    views = [view(s, _roi(), flank=10) for s in _stores(tmp_path)]

    def rewritten(path, *a, **k):
        raise StoreError("was replaced or rewritten since it was opened", path, "open it again")

    monkeypatch.setattr(spill, "StoreRows", rewritten)
    with pytest.warns(UserWarning, match="not spilled"):
        eng = BatchEngine([Request("cov", views[1])], max_memory_bytes=0)
    assert isinstance(eng.sources["cov"], StoreWindows)
    np.testing.assert_array_equal(eng.take(np.arange(eng.n))["cov"], views[1].values)
