"""genomarray.torch: Dataset, batch sampler and DataLoader over the batch engine."""

from __future__ import annotations

import pickle
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

import genomarray as ga  # noqa: E402
from genomarray import encode, model  # noqa: E402
from genomarray.batches import StoreWindows, epoch_seed  # noqa: E402
from genomarray.torch import (  # noqa: E402
    BatchIndices,
    ChunkBufferBatchSampler,
    GenomicDataset,
    dataloader,
)
from genomarray.transforms.augment import augment as augment_view  # noqa: E402


@pytest.fixture(scope="module")
def views(tmp_path_factory):
    """Lazy views of cached stores of the bundled genome and peaks (held-out chr3)."""
    root = tmp_path_factory.mktemp("torch")
    dna = ga.read_fasta(
        ga.example_path("genome.fa"), store_path=root / "g.zarr", chunk=20_000, progress=False
    )
    sizes = model.chrom_sizes(dna)
    genome = pd.DataFrame({"chrom": list(sizes), "start": 0, "end": list(sizes.values())})
    x = dna.janggu.view(ga.tile(genome, binsize=200, flank=100))
    peaks = ga.read_bed(
        ga.example_path("peaks.narrowPeak"), like=dna, store_path=root / "p.zarr", progress=False
    )
    y = peaks.janggu.view(ga.tile(genome, binsize=200)).janggu.collapse(None, how="max")
    y = y.isel(pos=0, strand=0).compute()  # labels: small, in memory
    (xtr, ytr), (xte, yte) = ga.split_train_test([x, y], ["chr3"])
    return {"x": x, "y": y, "train": (xtr, ytr), "test": (xte, yte)}


def test_batches_are_the_engine_batches_as_tensors(views):
    x, y = views["x"], views["y"]
    loader = dataloader(
        {"dna": x},
        {"peaks": y},
        batch_size=32,
        shuffle=True,
        augment="flip",
        seed=4,
        max_memory_bytes=0,
    )
    ds = loader.dataset
    assert isinstance(ds.engine.sources["dna"], StoreWindows)  # read from the store
    labels = y.values.astype(np.float32)
    for epoch in range(2):
        seen = []
        sampler = list(ChunkBufferBatchSampler(ds, epoch))
        flipped = augment_view(x, "flip", epoch_seed(4, epoch)).values
        for rows, batch in zip(sampler, loader, strict=True):
            assert set(batch) == {"dna", "peaks"}
            assert batch["dna"].dtype == torch.float32 and batch["dna"].shape[1:] == (400, 4)
            np.testing.assert_array_equal(batch["dna"].numpy(), encode.onehot(flipped[rows], 1))
            np.testing.assert_array_equal(batch["peaks"].numpy(), labels[rows])
            seen.extend(rows)
        assert sorted(seen) == list(range(len(ds)))
    assert loader.batch_sampler.epoch == 2  # every pass is a new epoch


def test_default_collate_and_single_examples(views):
    x, y = views["x"], views["y"]
    ds = GenomicDataset({"dna": x}, {"peaks": y}, onehot_order=2, batch_size=16)
    loader = torch.utils.data.DataLoader(ds, batch_sampler=ds.batch_sampler())
    batch = next(iter(loader))  # PyTorch's own collate stacks the examples
    np.testing.assert_array_equal(batch["dna"].numpy(), encode.onehot(x.values[:16], 2))
    one = ds[5]
    assert one["dna"].shape == (399, 16) and one["peaks"].shape == (1,)
    np.testing.assert_array_equal(one["dna"].numpy(), encode.onehot(x.values[5], 2))
    with pytest.raises(IndexError):
        ds[len(ds)]
    plain = torch.utils.data.DataLoader(ds, batch_size=8)  # one example at a time
    np.testing.assert_array_equal(next(iter(plain))["peaks"].numpy(), y.values[:8])


def test_pickled_dataset_and_worker_processes(views):
    x, y = views["x"], views["y"]
    kw = {
        "batch_size": 24,
        "shuffle": True,
        "augment": ["flip", "shift"],
        "seed": 1,
        "max_memory_bytes": 0,
    }
    base = dataloader({"dna": x}, {"peaks": y}, **kw)
    copy = pickle.loads(pickle.dumps(base.dataset))
    assert copy.engine.sources["dna"]._cache is None
    b = BatchIndices(base.dataset.engine.rows(3, 0), 0, 3)
    np.testing.assert_array_equal(copy[b]["dna"].numpy(), base.dataset[b]["dna"].numpy())
    want = [batch for batch in base]
    for context in ("fork", "spawn"):
        workers = dataloader(
            {"dna": x}, {"peaks": y}, num_workers=2, multiprocessing_context=context, **kw
        )
        got = [batch for batch in workers]
        assert len(got) == len(want)
        for a, w in zip(got, want, strict=True):
            for k in w:
                np.testing.assert_array_equal(a[k].numpy(), w[k].numpy())


def test_empty_views(views):
    empty = views["x"].isel(region=slice(0, 0))
    loader = dataloader({"dna": empty}, batch_size=8)
    assert len(loader) == 0 and list(loader) == [] and len(loader.dataset) == 0


def test_cache_bytes_reaches_the_engine(views):
    """``dataloader(cache_bytes=)`` bounds the engine's chunk caches (at least 4 chunks),
    with the same batches as the default cache."""
    x = views["x"]
    kw = dict(batch_size=32, shuffle=True, seed=4, max_memory_bytes=0)
    small, ref = dataloader({"dna": x}, cache_bytes=1, **kw), dataloader({"dna": x}, **kw)
    src = small.dataset.engine.sources["dna"]
    assert small.dataset.engine.cache_bytes == 1 and src.capacity == 4
    assert ref.dataset.engine.sources["dna"].capacity > 4
    for a, b in zip(small, ref, strict=True):
        np.testing.assert_array_equal(a["dna"].numpy(), b["dna"].numpy())
    with pytest.raises(ga.errors.InputError, match="cache_bytes must be >= 1"):
        GenomicDataset({"a": x}, cache_bytes=0)


def test_bad_arguments(views):
    x = views["x"]
    with pytest.raises(ga.errors.InputError, match="share the names"):
        GenomicDataset({"a": x}, {"a": x})
    with pytest.raises(TypeError, match="batch_sampler"):
        dataloader(x, batch_sampler=None)


def test_train_a_small_cnn_to_a_good_heldout_auprc(views):
    from sklearn.metrics import average_precision_score

    (xtr, ytr), (xte, yte) = views["train"], views["test"]
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # on shared cores torch's OpenMP threads spin (7x slower)
    try:
        t0 = time.perf_counter()
        train = dataloader(
            {"dna": xtr},
            {"peaks": ytr},
            batch_size=16,
            shuffle=True,
            augment="flip",
            seed=0,
            max_memory_bytes=0,
        )
        net = torch.nn.Sequential(
            torch.nn.Conv1d(4, 32, 7),
            torch.nn.ReLU(),
            torch.nn.AdaptiveMaxPool1d(1),
            torch.nn.Flatten(),
            torch.nn.Linear(32, 1),
        )
        opt = torch.optim.Adam(net.parameters(), lr=0.005)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        for _ in range(25):
            for batch in train:
                opt.zero_grad()
                loss = loss_fn(net(batch["dna"].transpose(1, 2)), batch["peaks"])
                loss.backward()
                opt.step()
    finally:
        torch.set_num_threads(threads)
    net.eval()
    test = dataloader({"dna": xte}, batch_size=64)
    with torch.no_grad():
        scores = torch.cat([net(b["dna"].transpose(1, 2)) for b in test]).numpy()[:, 0]
    truth = yte.values[:, 0]
    score, chance = average_precision_score(truth, scores), float(truth.mean())
    print(f"held-out auPRC {score:.3f}, chance {chance:.3f}, {time.perf_counter() - t0:.1f} s")
    assert score > 2 * chance


def test_import_genomarray_does_not_import_torch():
    code = "import sys, genomarray, genomarray.batches; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
