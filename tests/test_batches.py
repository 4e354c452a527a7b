"""The batch engine: every path gives, batch by batch, exactly what the in-memory path gives.

Paths: lazy views of genome stores (windows gathered from the store's chunks), views
written with ``write_zarr`` / ``write_shuffled`` and reopened (region chunks), and the
dask-per-chunk fallback for arrays changed after they were made. Arrays: sequence codes
(one-hot per batch, order 1 and 3), one-hot views, coverage stranded and unstranded at
resolution 1 and 10, several conditions. Regions: several chromosomes, both strands, of
uneven lengths, with flanks past chromosome ends, spanning chunk boundaries, in genome
order and not. The in-memory path itself is checked against the DataArray operations
(``view(...).values``, ``onehot``, ``augment``).
"""

from __future__ import annotations

import os
import pickle

import numpy as np
import pandas as pd
import pytest

import genomarray as ga
from genomarray import encode, model
from genomarray.batches import (
    BatchEngine,
    DaskRows,
    NumpySource,
    Request,
    SlabCache,
    StoreRows,
    StoreWindows,
    epoch_seed,
)
from genomarray.batches.sources import turn
from genomarray.genome.store import open_zarr, write_zarr
from genomarray.transforms.augment import augment as augment_view
from genomarray.views import windows_fns
from genomarray.views.shuffled import write_shuffled
from genomarray.views.windows import view

CHROMS = ["chrA", "chrB", "chrC"]
LENGTHS = [5003, 3330, 777]
CHUNK = 1000  # bp per genome chunk: windows often span two


def _regions(rng: np.random.Generator, n: int = 260, sort: bool = True) -> pd.DataFrame:
    chrom = rng.choice(len(CHROMS), n, p=[0.5, 0.35, 0.15])
    length = rng.integers(20, 180, n)
    size = np.array(LENGTHS)[chrom]
    start = rng.integers(0, size - length)
    edge = rng.random(n) < 0.15  # some regions at the chromosome ends
    start = np.where(edge & (rng.random(n) < 0.5), 0, np.where(edge, size - length, start))
    roi = pd.DataFrame(
        {
            "chrom": np.array(CHROMS)[chrom],
            "start": start,
            "end": start + length,
            "name": [f"r{i}" for i in range(n)],
            "score": 0.0,
            "strand": np.where(rng.random(n) < 0.4, "-", "+"),
        }
    )
    if sort:
        roi = roi.sort_values(["chrom", "start"], kind="stable").reset_index(drop=True)
    return roi


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Genome stores (codes; coverage stranded at 1 bp, unstranded at 10 bp with two
    conditions) and their lazy views through sorted and unsorted regions."""
    root = tmp_path_factory.mktemp("batches")
    rng = np.random.default_rng(7)
    n_pos = max(LENGTHS)
    codes = rng.integers(0, 5, (3, n_pos)).astype(np.uint8)
    genome = model.sequence_genome(codes, CHROMS, LENGTHS)
    stranded = rng.poisson(3.0, (3, n_pos, 2, 1)).astype(np.float32)
    cov1 = model.coverage_track(stranded, CHROMS, LENGTHS, ["+", "-"], ["c"], resolution=1)
    bins = -(-n_pos // 10)
    binned = rng.integers(0, 50, (3, bins, 1, 2)).astype(np.int32)
    cov10 = model.coverage_track(binned, CHROMS, LENGTHS, ["."], ["a", "b"], resolution=10)
    stores = {}
    for name, arr, chunk in (("dna", genome, CHUNK), ("cov1", cov1, CHUNK), ("cov10", cov10, 37)):
        path = write_zarr(arr, root / f"{name}.zarr", chunks={"pos": chunk}, progress=False)
        stores[name] = open_zarr(path)
    out = {"root": root, "stores": stores}
    # regions whose flanked windows lie inside one genome chunk (and one cov10 chunk):
    # whole batches are then one gather from the slab
    rng = np.random.default_rng(5)
    starts, chroms = [], []
    while len(starts) < 300:  # whole 10 bp bins, inside a dna chunk and a cov10 chunk
        c = int(rng.integers(0, 2))
        lo = 10 * int(rng.integers(3, (LENGTHS[c] - 200) // 10))
        hi = lo + 180  # the window: 120 bp and 30 bp flanks
        if (lo - 30) // CHUNK == (hi - 31) // CHUNK and (lo - 30) // 370 == (hi - 31) // 370:
            starts.append(lo)
            chroms.append(CHROMS[c])
    inner = pd.DataFrame({"chrom": chroms, "start": starts, "strand": rng.choice(["+", "-"], 300)})
    inner["end"] = inner["start"] + 120
    inner = inner.sort_values(["chrom", "start"]).reset_index(drop=True)
    out["inside"] = {k: view(stores[k], inner, flank=30) for k in ("dna", "cov1", "cov10")}
    for order_name, sort in (("sorted", True), ("unsorted", False)):
        roi = _regions(np.random.default_rng(11), sort=sort)
        out[order_name] = {
            "dna": view(stores["dna"], roi, flank=30),
            "cov1": view(stores["cov1"], roi, flank=30),
            "cov10": view(stores["cov10"], roi, flank=30),
        }
    return out


def _arrays(views, which):
    """(key, array, one-hot order) of a test case."""
    dna, cov1, cov10 = views["dna"], views["cov1"], views["cov10"]
    return {
        "codes1": [("dna", dna, 1), ("cov", cov1, None)],
        "codes3": [("dna", dna, 3), ("cov", cov10, None)],
        "onehot1": [("dna", ga.onehot(dna, 1), None), ("cov", cov10, None)],
        "onehot3": [("dna", ga.onehot(dna, 3, dtype="uint8"), None), ("cov", cov1, None)],
        "raw_codes": [("dna", dna, None), ("cov1", cov1, None), ("cov10", cov10, None)],
    }[which]


def _engine(arrays, **kw):
    reqs = [Request(k, a, order=o, dtype=np.float32 if k == "cov" else None) for k, a, o in arrays]
    return BatchEngine(reqs, batch_size=kw.pop("batch_size", 24), seed=3, **kw)


def _in_memory(arrays):
    return [(k, a.compute(), o) for k, a, o in arrays]


def _check_epochs(ooc, mem, epochs=2):
    """Every batch of ``ooc`` equals the in-memory engine's batch of the same rows, in
    epochs ``range(epochs)`` (or those listed)."""
    seen = []
    for epoch in range(epochs) if isinstance(epochs, int) else epochs:
        ooc.epoch = epoch
        rows = []
        for i in range(len(ooc)):
            r = ooc.rows(i)
            got, want = ooc.batch(i), mem.take(r, epoch)
            assert set(got) == set(want)
            for k in want:
                assert got[k].dtype == want[k].dtype, k
                np.testing.assert_array_equal(got[k], want[k], err_msg=f"{k} batch {i}")
            rows.append(r)
        rows = np.concatenate(rows)
        assert sorted(rows.tolist()) == list(range(ooc.n))  # each region once per epoch
        seen.append(rows)
    return seen


@pytest.mark.parametrize("order", ["sorted", "unsorted", "inside"])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("which", ["codes1", "codes3", "onehot1", "onehot3", "raw_codes"])
def test_lazy_genome_views_equal_in_memory(data, order, shuffle, which, monkeypatch):
    arrays = _arrays(data[order], which)
    aug = ["flip", "shift"] if which in ("codes1", "onehot3") else None
    ooc = _engine(arrays, shuffle=shuffle, augment=aug, max_memory_bytes=0, buffer_chunks=2)
    assert all(isinstance(s, StoreWindows) for s in ooc.sources.values()), ooc.sources
    mem = _engine(_in_memory(arrays), shuffle=shuffle, augment=aug)
    assert mem.in_memory and not ooc.in_memory
    apart = []
    copy_apart = StoreWindows._copy_apart
    monkeypatch.setattr(
        StoreWindows, "_copy_apart", lambda self, *a: apart.append(1) or copy_apart(self, *a)
    )
    _check_epochs(ooc, mem)
    if order == "inside":  # every batch was one gather from the slab
        assert not apart
    else:  # windows with padding or across chunks: copied apart
        assert apart


def test_in_memory_path_is_the_dataarray_operations(data):
    """The reference itself: view values, one-hot, and augment() with the epoch's seed."""
    views = data["sorted"]
    aug = ga.transforms.augment.as_augmentation(["flip", "shift"], shift=7)
    mem = _engine(
        _in_memory([("dna", views["dna"], 2), ("cov", views["cov1"], None)]),
        augment=aug,
        shuffle=True,
    )
    mem.epoch = 1
    seed = epoch_seed(mem.seed, 1)
    dna = ga.onehot(augment_view(views["dna"], aug, seed), 2).values
    cov = augment_view(views["cov1"], aug, seed).values.astype(np.float32)
    for i in range(len(mem)):
        rows = mem.rows(i)
        got = mem.batch(i)
        np.testing.assert_array_equal(got["dna"], dna[rows])
        np.testing.assert_array_equal(got["cov"], cov[rows])


@pytest.mark.parametrize("shuffle", [False, True])
def test_view_stores_and_fallback_equal_in_memory(data, shuffle):
    """write_zarr'd views (StoreRows), write_shuffled views, a lazy view mixed with them,
    and arrays changed after they were made (the dask fallback) all equal in memory."""
    views = data["sorted"]
    root = data["root"]
    stored = {}
    for k in ("dna", "cov1"):
        p = root / f"view-{k}-{shuffle}.zarr"
        stored[k] = open_zarr(write_zarr(views[k], p, chunks={"region": 40}, progress=False))
    arrays = [("dna", stored["dna"], 3), ("cov", stored["cov1"], None)]
    ooc = _engine(arrays, shuffle=shuffle, augment="flip", max_memory_bytes=0)
    assert [type(s) for s in ooc.sources.values()] == [StoreRows, StoreRows]
    assert ooc.n_blocks == -(-views["dna"].sizes["region"] // 40)
    _check_epochs(ooc, _engine(_in_memory(arrays), shuffle=shuffle, augment="flip"))

    mixed = [("dna", views["dna"], 1), ("cov", stored["cov1"], None)]
    ooc = _engine(mixed, shuffle=shuffle, max_memory_bytes=0)
    assert [type(s) for s in ooc.sources.values()] == [StoreWindows, StoreRows]
    _check_epochs(ooc, _engine(_in_memory(mixed), shuffle=shuffle))

    changed = views["cov1"].copy(data=views["cov1"].data * 1)  # same values, new graph
    assert model.recipe_of(changed) is None and model.RECIPE in changed.encoding
    subset = views["dna"].isel(region=slice(0, 200))
    arrays = [("dna", subset, 1), ("cov", changed.isel(region=slice(0, 200)), None)]
    ooc = _engine(arrays, shuffle=shuffle, augment="shift", max_memory_bytes=0)
    assert all(isinstance(s, DaskRows) for s in ooc.sources.values())
    _check_epochs(ooc, _engine(_in_memory(arrays), shuffle=shuffle, augment="shift"), 1)

    shuffled = write_shuffled(
        {"dna": views["dna"], "cov": views["cov10"]},
        root / f"shuffled-{shuffle}",
        random_state=4,
        chunk_regions=33,
        progress=False,
    )
    arrays = [("dna", shuffled["dna"], 2), ("cov", shuffled["cov"], None)]
    ooc = _engine(arrays, shuffle=shuffle, max_memory_bytes=0)
    assert all(isinstance(s, StoreRows) for s in ooc.sources.values())
    _check_epochs(ooc, _engine(_in_memory(arrays), shuffle=shuffle), 1)


@pytest.mark.parametrize("shuffle", [False, True])
def test_subsets_and_shuffles_keep_the_fast_path(data, shuffle):
    """split_train_test / subset / shuffle of recipe-backed views still read the stores."""
    views = data["unsorted"]
    root = data["root"]
    train, test = ga.split_train_test([views["dna"], views["cov1"]], ["chrB"])
    assert set(train[0].chrom.values.astype(str)) == {"chrA", "chrC"}
    stored = open_zarr(
        write_zarr(
            views["cov10"], root / f"sub-{shuffle}.zarr", chunks={"region": 25}, progress=False
        )
    )
    sub_stored = ga.transforms.split.subset(stored, exclude=["chrB"])
    mixed = ga.transforms.split.shuffle(
        {"dna": ga.onehot(views["dna"], 2), "cov": views["cov1"]}, random_state=1
    )
    cases = [
        ([("dna", train[0], 1), ("cov", train[1], None)], StoreWindows),
        ([("dna", ga.onehot(test[0], 3), None), ("cov", test[1], None)], StoreWindows),
        (
            [
                ("dna", ga.transforms.split.subset(views["dna"], exclude=["chrB"]), 1),
                ("cov", sub_stored, None),
            ],
            None,
        ),
        ([("dna", mixed["dna"], None), ("cov", mixed["cov"], None)], StoreWindows),
    ]
    for arrays, kind in cases:
        ooc = _engine(arrays, shuffle=shuffle, augment="flip", max_memory_bytes=0)
        got = [type(s) for s in ooc.sources.values()]
        assert got == [kind] * 2 if kind else got == [StoreWindows, StoreRows], got
        _check_epochs(ooc, _engine(_in_memory(arrays), shuffle=shuffle, augment="flip"), 1)
    # a shuffled view store is not in increasing order: read by dask, still exact
    shuffled = ga.transforms.split.shuffle(stored, random_state=2)
    ooc = _engine([("cov", shuffled, None)], shuffle=shuffle, max_memory_bytes=0)
    assert isinstance(ooc.sources["cov"], DaskRows)
    _check_epochs(ooc, _engine(_in_memory([("cov", shuffled, None)]), shuffle=shuffle), 1)


def test_zarr_api_path_equals_raw_decoding(data):
    views = data["unsorted"]
    arrays = [("dna", views["dna"], 1), ("cov", views["cov10"], None)]
    raw = _engine(arrays, shuffle=True, max_memory_bytes=0)
    api = _engine(arrays, shuffle=True, max_memory_bytes=0, raw=False)
    assert api.sources["dna"].reader._raw_dir is None  # read through zarr's own API
    for i in range(len(raw)):
        a, b = raw.batch(i), api.batch(i)
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])


def test_shuffle_buffers_of_whole_chunks(data):
    """Out of core, blocks are cut at genome chunks: an epoch runs through buffers of
    ``buffer_chunks`` blocks, one after another, and every chunk is decoded about once."""
    views = data["sorted"]
    eng = _engine([("dna", views["dna"], 1)], shuffle=True, max_memory_bytes=0, buffer_chunks=2)
    src = eng.sources["dna"]
    first_key = src.first_key()
    n_chunks = len(np.unique(first_key))
    assert eng.n_blocks == n_chunks
    order = eng.order()
    block_of = np.empty(eng.n, np.int64)
    for b in range(eng.n_blocks):
        block_of[eng.storage[eng.bounds[b] : eng.bounds[b + 1]]] = b
    buffers = [tuple(dict.fromkeys(block_of[order]))[i : i + 2] for i in range(0, n_chunks, 2)]
    pos = 0
    for buf in buffers:  # each buffer's rows are contiguous in the order
        size = int(np.isin(block_of, buf).sum())
        assert set(block_of[order[pos : pos + size]]) == set(buf)
        pos += size
    assert not np.array_equal(order, np.sort(order))
    for i in range(len(eng)):
        eng.batch(i)
    touched = len(np.unique(src.chunk_keys(np.arange(eng.n))[1]))
    assert touched <= src.cache.loads <= touched + 4


def test_pickled_engine_reopens_and_gives_the_same_batches(data):
    views = data["unsorted"]
    eng = _engine(
        [("dna", views["dna"], 3), ("cov", views["cov1"], None)],
        shuffle=True,
        augment=["flip", "shift"],
        max_memory_bytes=0,
    )
    eng.epoch = 2
    first = eng.batch(1)
    copy = pickle.loads(pickle.dumps(eng))
    assert copy.sources["dna"]._cache is None  # no open handles, threads or chunks travel
    for i in (1, 0, len(eng) - 1):
        a, b = eng.batch(i), copy.batch(i)
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    np.testing.assert_array_equal(first["dna"], copy.batch(1)["dna"])


def _fixed_width_views(data, seed: int = 2) -> dict:
    """Views of 150 bp regions (30 bp flanks) anywhere: most windows inside one chunk,
    some across two, some padded at a chromosome end; both strands, not in genome order."""
    rng = np.random.default_rng(seed)
    chrom = rng.integers(0, len(CHROMS), 240)
    size = np.array(LENGTHS)[chrom]
    start = rng.integers(-20, size - 130)
    start = np.clip(start, 0, None)
    crossing = rng.random(240) < 0.2  # put some right across a chunk boundary
    start = np.where(crossing & (size > 2 * CHUNK), CHUNK - 75, start)
    roi = pd.DataFrame(
        {
            "chrom": np.array(CHROMS)[chrom],
            "start": start,
            "end": start + 150,
            "name": [f"w{i}" for i in range(240)],
            "score": 0.0,
            "strand": rng.choice(["+", "-"], 240),
        }
    )
    return {k: view(data["stores"][k], roi, flank=30) for k in ("dna", "cov1", "cov10")}


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("which", ["codes1", "onehot3", "raw_codes"])
@pytest.mark.parametrize("order", ["sorted", "inside", "fixed"])
def test_chunks_all_held_serve_later_epochs_without_decoding(
    data, shuffle, which, order, monkeypatch
):
    """Once a source's cache holds every chunk its windows need, they stay pinned and
    batches are one gather from the slab (windows across chunks and padded ones still
    copied apart): the next epochs decode nothing, read nothing ahead, and equal the
    in-memory batches, minus strands, one-hot and augmentations included; a pickled copy
    carries no slab and gives the same batches."""
    views = _fixed_width_views(data) if order == "fixed" else data[order]
    arrays = _arrays(views, which)
    aug = ["flip", "shift"] if which == "codes1" else None
    ooc = _engine(arrays, shuffle=shuffle, augment=aug, max_memory_bytes=0, buffer_chunks=2)
    mem = _engine(_in_memory(arrays), shuffle=shuffle, augment=aug)
    srcs = list(ooc.sources.values())
    assert all(isinstance(s, StoreWindows) and not s.resident for s in srcs)
    fits = [s for s in srcs if s.capacity >= len(s._all_keys())]  # room for every chunk
    assert fits
    if order != "sorted":  # (variable widths: every window is padded)
        assert any(s._table[2].sum() > len(s._table[2]) // 2 for s in fits)
    _check_epochs(ooc, mem, [0])
    assert [s.resident for s in srcs] == [s in fits for s in srcs]
    loads = [s.cache.loads for s in fits]
    ahead = []
    read_ahead = BatchEngine._read_ahead
    monkeypatch.setattr(
        BatchEngine, "_read_ahead", lambda self, *a: ahead.append(1) or read_ahead(self, *a)
    )
    _check_epochs(ooc, mem, [1, 2])
    assert [s.cache.loads for s in fits] == loads
    assert bool(ahead) == (len(fits) < len(srcs))  # read-ahead only for what is not held
    blob = pickle.dumps(ooc)
    assert len(blob) < 2_000_000  # no slab, no window view of it
    copy = pickle.loads(blob)
    assert not any(s.resident for s in copy.sources.values())
    _check_epochs(copy, mem, [2])
    held = {k: s.resident for k, s in ooc.sources.items()}
    assert {k: s.resident for k, s in copy.sources.items()} == held  # its own chunks, held
    from genomarray.batches import chunks

    monkeypatch.setattr(chunks, "_FORKS", [chunks._FORKS[0] + 1])  # as in a forked child
    assert not any(s.resident for s in srcs)  # the parent's pins are not the child's
    _check_epochs(ooc, mem, [3])
    assert {k: s.resident for k, s in ooc.sources.items()} == held


@pytest.mark.parametrize("shuffle", [False, True])
def test_region_chunks_all_held_serve_later_epochs(data, shuffle, monkeypatch):
    """The same for views written with write_zarr (region chunks, StoreRows) and for an
    array changed after it was made (region chunks computed by dask, DaskRows)."""
    views = _fixed_width_views(data, seed=4)
    root = data["root"]
    stored = {}
    for k in ("dna", "cov1"):
        p = root / f"held-{k}-{shuffle}.zarr"
        stored[k] = open_zarr(write_zarr(views[k], p, chunks={"region": 35}, progress=False))
    changed = views["cov10"].copy(data=views["cov10"].data * 1)  # same values, new graph
    arrays = [("dna", stored["dna"], 1), ("cov", stored["cov1"], None), ("cov10", changed, None)]
    ooc = _engine(arrays, shuffle=shuffle, augment="flip", max_memory_bytes=0)
    mem = _engine(_in_memory(arrays), shuffle=shuffle, augment="flip")
    srcs = list(ooc.sources.values())
    assert [type(s) for s in srcs] == [StoreRows, StoreRows, DaskRows]
    fits = [s for s in srcs if s.capacity >= len(s._all_keys())]
    assert srcs[0] in fits and srcs[1] in fits
    _check_epochs(ooc, mem, [0])
    assert [s.resident for s in srcs] == [s in fits for s in srcs]
    loads = [s.cache.loads for s in fits]
    _check_epochs(ooc, mem, [1, 2])
    assert [s.cache.loads for s in fits] == loads


def test_chunks_not_all_held_when_they_do_not_fit(data):
    """A cache too small for every chunk never pins them for good: chunks keep cycling
    through its slots, batches still equal the in-memory ones."""
    arrays = _arrays(data["unsorted"], "codes1")
    # cache_bytes=1: the least, 4 slots
    ooc = _engine(arrays, shuffle=True, max_memory_bytes=0, buffer_chunks=1, cache_bytes=1)
    mem = _engine(_in_memory(arrays), shuffle=True)
    srcs = list(ooc.sources.values())
    assert all(s.capacity == 4 < len(s._all_keys()) for s in srcs)
    _check_epochs(ooc, mem, [0, 1])
    assert not any(s.resident for s in srcs)


def test_fits_in_memory_reads_through_the_store(data):
    views = data["unsorted"]
    eng = _engine([("dna", views["dna"], None), ("cov", views["cov10"], None)])
    assert eng.in_memory
    np.testing.assert_array_equal(eng.sources["dna"].data, views["dna"].values)
    np.testing.assert_array_equal(eng.sources["cov"].data, views["cov10"].values)


def test_read_into_memory_held_as_served(data):
    """int32 coverage served as float32 is cast once when read into memory (same bytes),
    not per batch; with augmentations it stays as stored; batches are equal either way."""
    views = data["unsorted"]
    eng = _engine([("cov", views["cov10"], None)])
    assert eng.sources["cov"].data.dtype == np.float32
    rows = np.array([5, 0, 77, 3])
    want = views["cov10"].values[rows].astype(np.float32)
    got = eng.take(rows)["cov"]
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    flipped = _engine([("cov", views["cov10"], None)], augment="flip")
    assert flipped.sources["cov"].data.dtype == np.int32
    labels = _engine([("x", views["dna"], None)])  # uint8 codes served as they are
    assert labels.sources["x"].data.dtype == np.uint8


def test_empty_views(data):
    stores = data["stores"]
    empty = pd.DataFrame({"chrom": [], "start": [], "end": [], "strand": []})
    empty = empty.astype({"chrom": str, "start": np.int64, "end": np.int64, "strand": str})
    codes = view(stores["dna"], empty, flank=5)
    for budget in (0, 1 << 30):
        eng = BatchEngine([Request("dna", codes, order=1)], batch_size=8, max_memory_bytes=budget)
        assert len(eng) == 0 and eng.n == 0
        assert eng.take(np.arange(0))["dna"].shape == (0, 10, 4)


def test_recipes_are_recorded_and_checked(data):
    stores, views = data["stores"], data["sorted"]
    assert model.recipe_of(stores["dna"])["op"] == model.RECIPE_STORE
    assert model.recipe_of(views["dna"])["op"] == model.RECIPE_WINDOWS
    oh = ga.onehot(views["dna"], 2)
    assert model.recipe_of(oh)["op"] == model.RECIPE_ONEHOT
    assert model.recipe_of(oh + 0) is None
    assert model.recipe_of(views["dna"].isel(region=[0, 1])) is None
    assert model.recipe_of(stores["dna"].isel(chrom=[0])) is None
    # a view of a genome changed after it was opened has no recipe (the dask path reads it)
    assert (
        model.recipe_of(
            view(
                stores["dna"].copy(data=stores["dna"].data + 0),
                _regions(np.random.default_rng(0), 5),
            )
        )
        is None
    )
    # in memory: nothing to record
    g = model.sequence_genome(np.zeros((1, 10), np.uint8), ["c"], [10])
    assert (
        model.recipe_of(view(g, pd.DataFrame({"chrom": ["c"], "start": [0], "end": [5]}))) is None
    )


def test_view_of_a_cached_fasta_store(tmp_path):
    dna = ga.read_fasta(
        ga.example_path("genome.fa"), store_path=tmp_path / "g.zarr", chunk=5000, progress=False
    )
    roi = ga.tile(ga.example_path("roi.bed"), binsize=200, flank=100)
    codes = dna.janggu.view(roi)
    eng = BatchEngine(
        [Request("dna", codes, order=1)], batch_size=50, shuffle=True, seed=0, max_memory_bytes=0
    )
    assert isinstance(eng.sources["dna"], StoreWindows)
    values = codes.values
    for i in range(len(eng)):
        np.testing.assert_array_equal(eng.batch(i)["dna"], encode.onehot(values[eng.rows(i)], 1))


def test_turn_matches_orient():
    rng = np.random.default_rng(0)
    minus = rng.random(9) < 0.5
    for shape, comp, axis in (
        ((9, 7), encode.COMPLEMENT_CODES, None),
        ((9, 7, 2, 1), None, 2),
        ((9, 7, 2, 3), None, 2),
        ((9, 7, 1, 3), None, None),
        ((9, 7, 1, 1), None, None),
    ):
        w = rng.integers(0, 5, shape).astype(np.uint8)
        want = windows_fns.orient(w.copy(), minus, comp, axis)
        np.testing.assert_array_equal(turn(w.copy(), minus, comp, axis), want)


def test_store_windows_more_chunks_than_slots(data, monkeypatch):
    """A batch needing more chunks than the cache has slots: the chunks loaded apart from
    the slab are gathered from one by one, and the windows across chunks or padded at a
    chromosome end still equal the view's values."""
    roi = _regions(np.random.default_rng(3), n=120, sort=False)
    chunkwise = []
    gather = StoreWindows._take_chunkwise
    monkeypatch.setattr(
        StoreWindows, "_take_chunkwise", lambda self, *a: chunkwise.append(1) or gather(self, *a)
    )
    for name in ("dna", "cov1", "cov10"):
        arr = view(data["stores"][name], roi, flank=30)
        src = _engine([("x", arr, None)], max_memory_bytes=0).sources["x"]
        assert isinstance(src, StoreWindows)
        src.attach(src._executor, 4)  # fewer slots than the chunks of all rows
        want = arr.values
        assert len(np.unique(src.chunk_keys(np.arange(src.n))[1])) > 4
        np.testing.assert_array_equal(src.take(np.arange(src.n)), want, err_msg=name)
        rows = np.random.default_rng(1).permutation(src.n)[:50]
        np.testing.assert_array_equal(src.take(rows), want[rows], err_msg=name)
    assert chunkwise  # the path of chunks loaded apart from the slab was taken


def test_slab_cache_keeps_its_slots_when_a_key_loads_twice():
    """A key loaded again while it is held (a reader's reload racing a read-ahead) keeps
    one slot: the other is freed (when unpinned), so the cache does not shrink, and a
    read-ahead with no free slot decodes nothing."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(2)
    loads = []

    def load(key, out):
        loads.append(key)
        out[:] = key

    cache = SlabCache(load, (4,), np.int64, 2, lambda: pool)
    cache.release(cache.get([1]))
    pinned = cache.get([1])
    cache._load(1, False)  # the race, made deterministic: 1 loaded again while pinned
    cache.release(pinned)  # the older slot, unpinned now, is free again
    got = cache.get([2, 3])
    assert not any(isinstance(v, np.ndarray) for v in got.values())  # both in slots
    assert sorted(cache.chunk(got, k)[0] for k in got) == [2, 3]
    n = len(loads)
    assert cache._load(4, False) is None and len(loads) == n  # every slot pinned
    cache.release(got)
    pool.shutdown()


def test_each_chunk_decoded_once_per_epoch_with_a_small_cache(tmp_path):
    """Sparse windows over many chunks, a cache far smaller than a look-ahead window's
    chunks: read-ahead stays within the cache, so each chunk is decoded once per epoch
    (not evicted before use and decoded again; a chunk that a window across two chunks
    also needs at most twice), and the batches are right."""
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 4, (1, 200_000)).astype(np.uint8)
    genome = model.sequence_genome(codes, ["c"], [200_000])
    store = open_zarr(write_zarr(genome, tmp_path / "g.zarr", chunks={"pos": 1000}, progress=False))
    starts = np.sort(rng.choice(np.arange(0, 200_000 - 50, 50), 600, replace=False))
    roi = pd.DataFrame({"chrom": "c", "start": starts, "end": starts + 50})
    arr = view(store, roi)
    eng = _engine(  # cache_bytes: 10 slots of 1000 bases; a batch needs <= 8
        [("dna", arr, None)],
        shuffle=True,
        max_memory_bytes=0,
        batch_size=8,
        spill=False,
        cache_bytes=10 * 1000,
    )
    src = eng.sources["dna"]
    assert src.capacity == 10
    want = arr.values
    touched = len(np.unique(src.chunk_keys(np.arange(src.n))[1]))
    # a window across two chunks needs the next block's chunk too, maybe in another buffer
    across = int(np.sum(src._k1 > src._k0))
    for epoch in range(2):
        eng.epoch = epoch
        before = src.cache.loads
        for i in range(len(eng)):
            np.testing.assert_array_equal(eng.batch(i)["dna"], want[eng.rows(i)])
        # about once: a chunk two batches share may be evicted between them, now and then
        assert src.cache.loads - before <= 1.1 * (touched + across), (src.cache.loads, touched)


def test_slab_cache_recovers_from_a_shut_down_pool_and_failed_loads():
    """Read-aheads cancelled by a pool shut down (``BatchEngine.close``) are loaded again
    when asked for, and a get that fails (a damaged chunk) unpins what it had pinned."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    pools = [ThreadPoolExecutor(1)]
    gate = threading.Event()

    def load(k, out):
        if k == 0:
            gate.wait(5)
        if k >= 100:
            raise OSError(f"damaged chunk {k}")
        out.fill(k)

    c = SlabCache(load, (3,), np.int64, 2, lambda: pools[-1])
    c.prefetch([0, 1])  # 0 holds the only worker, 1 waits in its queue
    pools[-1].shutdown(wait=False, cancel_futures=True)
    pools.append(ThreadPoolExecutor(1))
    gate.set()
    got = c.get([1])
    assert c.slab[got[1]].tolist() == [1, 1, 1]
    c.release(got)
    c.release(c.get([0, 1]))
    for bad in (100, 101):
        with pytest.raises(OSError, match="damaged"):
            c.get([0, 1, bad])
    assert c._pins == [0, 0]  # nothing left pinned: the slots are reused
    got = c.get([5])
    assert isinstance(got[5], int) and c.slab[got[5]].tolist() == [5, 5, 5]


def test_batches_after_close(data, monkeypatch):
    """close() stops the decoding threads, cancelling the read-aheads still queued; the
    next batches load those chunks again and equal the in-memory batches."""
    import time

    arrays = _arrays(data["unsorted"], "codes1")
    mem = _engine(_in_memory(arrays), shuffle=True)
    load = StoreWindows._load_into
    monkeypatch.setattr(
        StoreWindows, "_load_into", lambda self, k, out: (time.sleep(0.02), load(self, k, out))
    )
    ooc = _engine(arrays, shuffle=True, max_memory_bytes=0, buffer_chunks=1, threads=1)
    cancelled = 0
    for i in range(len(ooc)):
        if i in (1, len(ooc) // 2):
            pending = [f for s in ooc.sources.values() for f in s.cache._pending.values()]
            ooc.close()
            cancelled += sum(f.cancelled() for f in pending)
        got, want = ooc.batch(i), mem.take(ooc.rows(i), 0)
        for k, v in want.items():
            np.testing.assert_array_equal(got[k], v)
    assert cancelled  # read-aheads were cut short


def test_slab_cache_pins_and_overflows():
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(2)
    loads = []

    def load(key, out):
        loads.append(key)
        out[:] = key

    cache = SlabCache(load, (4,), np.int64, 2, lambda: pool)
    got = cache.get([1, 2, 3])  # more keys than slots: one is loaded apart
    assert sorted(cache.chunk(got, k)[0] for k in got) == [1, 2, 3]
    assert sum(isinstance(v, np.ndarray) for v in got.values()) == 1
    cache.release(got)
    cache.prefetch([5])
    deadline = __import__("time").monotonic() + 30
    while 5 not in cache.keys() and __import__("time").monotonic() < deadline:
        pass
    got = cache.get([5])
    assert cache.chunk(got, 5).tolist() == [5] * 4 and loads.count(5) == 1
    cache.release(got)
    pool.shutdown()


def test_sources_directly():
    x = np.arange(24).reshape(6, 4)
    src = NumpySource(x)
    np.testing.assert_array_equal(src.take(np.array([5, 1, 1])), x[[5, 1, 1]])
    np.testing.assert_array_equal(src.take(np.array([2, 3])), x[2:4])


def test_bad_requests():
    x = np.zeros((4, 3))
    with pytest.raises(ga.errors.InputError, match="has 3 examples, expected 4"):
        BatchEngine([Request("a", x), Request("b", np.zeros((3, 3)))])
    with pytest.raises(ga.errors.InputError, match="batch_size"):
        BatchEngine([Request("a", x)], batch_size=0)
    with pytest.raises(IndexError):
        BatchEngine([Request("a", x)], batch_size=2).batch(2)


def test_import_genomarray_batches_needs_no_framework():
    import subprocess
    import sys

    code = (
        "import sys, genomarray.batches; "
        "print([m for m in ('keras', 'tensorflow', 'torch', 'jax') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("raw", [True, False])
@pytest.mark.parametrize("damage", ["flip", "truncate", "delete"])
def test_damaged_chunks_are_store_errors(tmp_path, raw, damage):
    """Chunks read by the engine are checked against the store's manifest (size and
    CRC-32) before decoding, as zarr reads through the ManifestStore are."""
    rng = np.random.default_rng(0)
    g = model.sequence_genome(rng.integers(0, 4, (1, 4000)).astype(np.uint8), ["c"], [4000])
    path = write_zarr(g, tmp_path / "g.zarr", chunks={"pos": 1000}, progress=False)
    roi = pd.DataFrame({"chrom": ["c"] * 3, "start": [100, 1500, 3100], "end": [300, 1700, 3300]})
    codes = view(open_zarr(path), roi)
    chunk = path / "sequence" / "c" / "0" / "1"
    data = chunk.read_bytes()
    if damage == "flip":
        chunk.write_bytes(data[:-5] + bytes([data[-5] ^ 0xFF]) + data[-4:])
    elif damage == "truncate":
        chunk.write_bytes(data[:-3])
    else:
        chunk.unlink()
    eng = BatchEngine([Request("dna", codes)], batch_size=3, max_memory_bytes=0, raw=raw)
    with pytest.raises(ga.errors.StoreError, match=r"array 'sequence', chunk c/0/1"):
        eng.batch(0)


def test_a_store_rewritten_after_the_view_is_refused(tmp_path):
    """The recipe names the write of the store it read (its manifest's digest): a store
    written again since is an error, as it is for the dask path, not other values."""
    g = model.sequence_genome(np.zeros((1, 3000), np.uint8), ["c"], [3000])
    path = write_zarr(g, tmp_path / "g.zarr", chunks={"pos": 1000}, progress=False)
    roi = pd.DataFrame({"chrom": ["c", "c"], "start": [10, 1500], "end": [60, 1550]})
    codes = view(open_zarr(path), roi)
    write_zarr(g.copy(data=np.ones((1, 3000), np.uint8)), path, overwrite=True, progress=False)
    eng = BatchEngine([Request("dna", codes)], batch_size=2, max_memory_bytes=0)
    with pytest.raises(ga.errors.StoreError, match="rewritten"):
        eng.batch(0)
    with pytest.raises(ga.errors.StoreError, match="rewritten"):
        _ = codes.values
