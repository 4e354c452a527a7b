"""GenomicSequence: batches, shuffles, augmentation, structures and keras training."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import genomarray as ga  # noqa: E402
from genomarray.encode import onehot, revcomp_onehot  # noqa: E402
from genomarray.errors import InputError  # noqa: E402
from genomarray.genome.store import open_zarr, write_zarr  # noqa: E402
from genomarray.keras import GenomicSequence  # noqa: E402


@pytest.fixture(scope="module")
def views():
    dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    roi = ga.tile(ga.example_path("roi.bed"), binsize=200)
    codes = dna.janggu.view(roi)
    cov = ga.read_bam(ga.example_path("sample.bam"), storage="memory", progress=False).janggu.view(
        roi
    )
    peaks = ga.read_bed(
        ga.example_path("peaks.narrowPeak"),
        like=ga.example_path("genome.fa"),
        storage="memory",
        progress=False,
    )
    labels = peaks.janggu.view(roi).janggu.collapse(None, how="max").isel(pos=0, strand=0)
    return {"codes": codes, "cov": cov, "labels": labels, "roi": roi}


@pytest.fixture(scope="module")
def on_disk(views, tmp_path_factory):
    """The code and coverage views written to zarr (50 regions a chunk) and reopened."""
    root = tmp_path_factory.mktemp("kz")
    out = {}
    for name in ("codes", "cov"):
        path = write_zarr(
            views[name], os.path.join(root, f"{name}.zarr"), chunks={"region": 50}, progress=False
        )
        out[name] = open_zarr(path)
    return out


def _expected(views, rows):
    codes = np.asarray(views["codes"].values)[rows]
    cov = np.asarray(views["cov"].values)[rows].astype("float32")
    return onehot(codes, 1), cov


def _concat(seq, key):
    return np.concatenate([seq[i][0][key] for i in range(len(seq))])


@pytest.mark.parametrize("where", ["memory", "zarr", "out_of_core"])
def test_batches_equal_numpy(views, on_disk, where):
    src = views if where == "memory" else on_disk
    budget = 1000 if where == "out_of_core" else 1 << 30
    seq = GenomicSequence(
        {"dna": src["codes"], "cov": src["cov"]},
        views["labels"],
        onehot_order=1,
        batch_size=64,
        max_memory_bytes=budget,
    )
    n = views["codes"].sizes["region"]
    assert seq.in_memory is (where != "out_of_core")
    assert len(seq) == -(-n // 64) == 4
    for i in range(len(seq)):
        x, y = seq[i]
        rows = np.arange(i * 64, min(n, i * 64 + 64))
        dna, cov = _expected(views, rows)
        np.testing.assert_array_equal(x["dna"], dna)
        np.testing.assert_array_equal(x["cov"], cov)
        np.testing.assert_array_equal(y, views["labels"].values[rows])
    assert seq[len(seq) - 1][0]["dna"].shape == (n - 3 * 64, 200, 4)
    with pytest.raises(IndexError):
        seq[len(seq)]


def test_out_of_core_reads_blocks(on_disk):
    seq = GenomicSequence(
        on_disk["codes"], max_memory_bytes=1000, batch_size=16, buffer_chunks=2, onehot_order=1
    )
    assert not seq.in_memory and seq.n_blocks > 2
    # large budget: blocks are the zarr chunks
    big = GenomicSequence(on_disk["codes"], max_memory_bytes=1 << 30, onehot_order=1)
    assert big.in_memory


@pytest.mark.parametrize("threads", [1, 3])
def test_threads_give_the_same_batches(on_disk, threads):
    """``threads`` sets the engine's decoding threads; the batches do not depend on it."""
    kw = dict(max_memory_bytes=1000, batch_size=16, shuffle=True, seed=4, onehot_order=1)
    seq = GenomicSequence({"dna": on_disk["codes"], "cov": on_disk["cov"]}, threads=threads, **kw)
    ref = GenomicSequence({"dna": on_disk["codes"], "cov": on_disk["cov"]}, **kw)
    assert seq.engine.threads == threads and not seq.in_memory
    for i in range(len(seq)):
        for key in ("dna", "cov"):
            np.testing.assert_array_equal(seq[i][key], ref[i][key])


def test_cache_bytes_bounds_the_decoded_chunks(on_disk):
    """``cache_bytes`` caps each out-of-core view's cache of decoded chunks (at least 4
    chunks); batches are those of the default cache, epoch after epoch."""
    kw = dict(max_memory_bytes=1000, batch_size=16, shuffle=True, seed=4, onehot_order=1)
    arrays = {"dna": on_disk["codes"], "cov": on_disk["cov"]}
    small = GenomicSequence(arrays, cache_bytes=1, **kw)
    ref = GenomicSequence(arrays, **kw)
    srcs = list(small.engine.sources.values())
    assert small.engine.cache_bytes == 1 and not small.in_memory
    assert all(s.capacity == 4 < len(s._all_keys()) for s in srcs)
    assert all(s.capacity > 4 for s in ref.engine.sources.values())
    for epoch in range(2):
        if epoch:
            small.on_epoch_end(), ref.on_epoch_end()
        for i in range(len(small)):
            for key in ("dna", "cov"):
                np.testing.assert_array_equal(small[i][key], ref[i][key])
    assert all(s.cache.loads > len(s._all_keys()) for s in srcs)  # again in epoch 2
    with pytest.raises(InputError, match="cache_bytes must be >= 1"):
        GenomicSequence(arrays, cache_bytes=0, **kw)


def test_shuffle_in_memory(views):
    n = views["codes"].sizes["region"]
    seq = GenomicSequence(views["codes"], onehot_order=1, batch_size=50, shuffle=True, seed=3)
    first = seq.order()
    assert sorted(first) == list(range(n)) and not np.array_equal(first, np.arange(n))
    got = _concat_x(seq)
    np.testing.assert_array_equal(got, onehot(views["codes"].values[first], 1))
    seq.on_epoch_end()
    second = seq.order()
    assert sorted(second) == list(range(n)) and not np.array_equal(first, second)
    again = GenomicSequence(views["codes"], onehot_order=1, batch_size=50, shuffle=True, seed=3)
    np.testing.assert_array_equal(again.order(), first)
    np.testing.assert_array_equal(again.order(1), second)


def _concat_x(seq):
    return np.concatenate([seq[i] for i in range(len(seq))])


def test_shuffle_out_of_core_within_buffers(views, on_disk):
    n = views["codes"].sizes["region"]
    seq = GenomicSequence(
        on_disk["codes"],
        onehot_order=1,
        batch_size=32,
        shuffle=True,
        seed=5,
        buffer_chunks=2,
        max_memory_bytes=10 * 200 * 4,
    )
    assert not seq.in_memory
    bounds = seq.bounds
    for _ in range(2):
        order = seq.order()
        assert sorted(order) == list(range(n))
        block = np.searchsorted(bounds, order, side="right") - 1
        # the order runs through buffers of 2 whole blocks, one buffer after another
        sizes = np.diff(bounds)
        seen: set[int] = set()
        count = 0
        for b in block:
            seen.add(int(b))
            count += 1
            assert len(seen) <= 2
            if len(seen) == 2 and count == sizes[list(seen)].sum():
                seen, count = set(), 0
        assert count == sizes[list(seen)].sum()
        assert not np.array_equal(order, np.arange(n))
        got = _concat_x(seq)
        np.testing.assert_array_equal(got, onehot(views["codes"].values[order], 1))
        seq.on_epoch_end()
    again = GenomicSequence(
        on_disk["codes"],
        onehot_order=1,
        batch_size=32,
        shuffle=True,
        seed=5,
        buffer_chunks=2,
        max_memory_bytes=10 * 200 * 4,
    )
    np.testing.assert_array_equal(again.order(0), seq.order(0))


def test_augmentation_consistent(views):
    seq = GenomicSequence(
        {"dna": views["codes"], "cov": views["cov"]},
        views["labels"],
        onehot_order=1,
        batch_size=230,
        augment=ga.transforms.augment.Flip(),
        seed=0,
    )
    x, y = seq[0]
    dna, cov = _expected(views, np.arange(230))
    flipped = ~np.all(x["dna"] == dna, axis=(1, 2))
    assert 0 < flipped.sum() < 230
    for i in range(230):
        if flipped[i]:
            np.testing.assert_array_equal(x["dna"][i], revcomp_onehot(dna[i], 1))
            np.testing.assert_array_equal(x["cov"][i], cov[i, ::-1, ::-1])
        else:
            np.testing.assert_array_equal(x["cov"][i], cov[i])
    # reproducible, whatever order batches are fetched in; new draws next epoch
    np.testing.assert_array_equal(seq[0][0]["dna"], x["dna"])
    seq.on_epoch_end()
    assert not np.array_equal(seq[0][0]["dna"], x["dna"])


def test_structures(views):
    codes, cov, lab = views["codes"], views["cov"], views["labels"]
    single = GenomicSequence(codes, lab, onehot_order=1, batch_size=8)
    x, y = single[0]
    assert isinstance(x, np.ndarray) and x.shape == (8, 200, 4) and y.shape == (8, 1)
    lst = GenomicSequence([codes, cov], [lab], onehot_order={0: 2}, batch_size=8)
    x, y = lst[0]
    assert isinstance(x, tuple) and x[0].shape == (8, 199, 16) and x[1].shape[1:] == (200, 2, 1)
    assert isinstance(y, tuple) and y[0].shape == (8, 1)
    only_x = GenomicSequence([codes, cov], onehot_order=1, batch_size=8)
    assert len(only_x[0]) == 1 and len(only_x[0][0]) == 2
    raw = GenomicSequence(
        {"seq": codes},
        {"out": lab},
        dtype=None,
        batch_size=8,
        sample_weights={"out": np.arange(230.0)},
    )
    x, y, w = raw[1]
    assert x["seq"].dtype == np.uint8 and set(y) == {"out"}
    np.testing.assert_array_equal(w["out"], np.arange(8.0, 16.0))


def test_misaligned_regions(views):
    other = views["cov"].isel(region=slice(1, None))
    with pytest.raises(InputError, match="229 regions"):
        GenomicSequence(views["codes"], other)
    shifted = views["cov"].assign_coords(start=views["cov"]["start"] + (np.arange(230) >= 7) * 1)
    with pytest.raises(InputError, match="region 7"):
        GenomicSequence({"dna": views["codes"], "cov": shifted})
    with pytest.raises(InputError, match="onehot_order"):
        GenomicSequence(views["cov"], onehot_order={0: 1})


@pytest.mark.backends
def test_keras_fit_predict(views):
    keras.utils.set_random_seed(0)
    train = GenomicSequence(
        {"dna": views["codes"]},
        views["labels"],
        onehot_order=1,
        batch_size=32,
        shuffle=True,
        seed=0,
        augment="flip",
    )
    val = GenomicSequence({"dna": views["codes"]}, views["labels"], onehot_order=1, batch_size=64)
    inp = keras.Input((200, 4), name="dna")
    h = keras.layers.Conv1D(4, 11, activation="relu")(inp)
    h = keras.layers.GlobalMaxPooling1D()(h)
    model = keras.Model({"dna": inp}, keras.layers.Dense(1, activation="sigmoid")(h))
    model.compile("adam", "binary_crossentropy")
    hist = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert np.all(np.isfinite(hist.history["loss"] + hist.history["val_loss"]))
    assert train.epoch >= 1
    pred = model.predict(
        GenomicSequence({"dna": views["codes"]}, onehot_order=1, batch_size=64), verbose=0
    )
    assert pred.shape == (230, 1)
    assert np.isfinite(model.evaluate(val, verbose=0))


def test_import_genomarray_does_not_import_keras():
    code = (
        "import sys, genomarray, genomarray.keras; "
        "print('keras' in sys.modules or 'tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_next_block_is_read_ahead(on_disk):
    """Out of core, serving a batch starts reading the next chunk in the background."""
    import time

    seq = GenomicSequence(on_disk["codes"], max_memory_bytes=1000, batch_size=16, buffer_chunks=2)
    assert not seq.in_memory and seq.n_blocks > 1
    cache = seq.engine.sources["inputs"].cache
    seq[0]
    deadline = time.monotonic() + 60
    while 1 not in cache.keys() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert 1 in cache.keys()  # chunk 1 was read before any batch asked for it
    loaded, load = [], cache.load_into
    cache.load_into = lambda key, out: (loaded.append(key), load(key, out))[1]
    lo = int(seq.bounds[1])
    index = lo // 16 + 1  # a batch that lies in chunk 1
    (got,) = [seq[index]]
    rows = slice(index * 16, index * 16 + 16)
    np.testing.assert_array_equal(got, np.asarray(on_disk["codes"].values[rows]))
    assert 1 not in loaded  # served from the chunk read ahead (later ones may be loading)


@pytest.mark.parametrize("where", ["memory", "out_of_core"])
def test_pickled_copy_gives_the_same_batches(views, on_disk, where):
    """What keras' worker processes get (use_multiprocessing=True): a pickled copy whose
    batches, shuffles and augmentation draws equal the original's."""
    import pickle

    x = views["codes"] if where == "memory" else on_disk["codes"]
    budget = 1 << 30 if where == "memory" else 1000
    seq = GenomicSequence(
        {"dna": x},
        views["labels"],
        onehot_order=1,
        batch_size=32,
        shuffle=True,
        seed=3,
        augment="flip",
        max_memory_bytes=budget,
    )
    seq.on_epoch_end()
    copy = pickle.loads(pickle.dumps(seq))
    for i in (0, len(seq) // 2, len(seq) - 1):
        (xa, ya), (xb, yb) = seq[i], copy[i]
        np.testing.assert_array_equal(xa["dna"], xb["dna"])
        np.testing.assert_array_equal(ya, yb)


def test_fit_with_worker_processes(views):
    """model.fit with keras' multiprocessing workers runs on a GenomicSequence."""
    keras.utils.set_random_seed(0)
    train = GenomicSequence(
        {"dna": views["codes"]},
        views["labels"],
        onehot_order=1,
        batch_size=32,
        shuffle=True,
        seed=0,
        augment="flip",
        workers=2,
        use_multiprocessing=True,
    )
    inp = keras.Input((200, 4), name="dna")
    h = keras.layers.GlobalMaxPooling1D()(keras.layers.Conv1D(4, 11, activation="relu")(inp))
    model = keras.Model({"dna": inp}, keras.layers.Dense(1, activation="sigmoid")(h))
    model.compile("adam", "binary_crossentropy")
    hist = model.fit(train, epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2 and np.all(np.isfinite(hist.history["loss"]))


@pytest.mark.parametrize("budget", [0, 1 << 30])
def test_empty_views_give_an_empty_sequence(views, on_disk, budget):
    """0 regions: a sequence of length 0 (in memory, lazy and reopened from zarr)."""
    for codes in (views["codes"], on_disk["codes"], views["codes"].isel(region=slice(0, 0))):
        empty = codes.isel(region=slice(0, 0))
        seq = GenomicSequence(
            {"dna": empty},
            {"peaks": views["labels"].isel(region=slice(0, 0))},
            onehot_order=1,
            batch_size=8,
            shuffle=True,
            augment="flip",
            max_memory_bytes=budget,
        )
        assert len(seq) == 0 and seq.n == 0 and len(seq.order()) == 0
        with pytest.raises(IndexError):
            seq[0]
