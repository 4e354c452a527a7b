"""``.values`` of store arrays, views and their one-hot skips dask's client look only
when no client can exist, and gives the same values as dask's own compute."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import dask
import dask.array as da
import dask.callbacks
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import genomarray as ga
from genomarray.errors import InputError, StoreError
from genomarray.genome.quick_values import QuickValuesArray, no_client_possible, quick_values


@pytest.fixture
def view(tmp_path, monkeypatch):
    monkeypatch.setenv("GENOMARRAY_OUTPUT", str(tmp_path))
    genome = ga.read_fasta(ga.example_path("genome.fa"), progress=False)
    return genome.janggu.view(ga.tile(ga.example_path("roi.bed"), binsize=200, flank=50))


def test_store_view_and_onehot_hold_quick_arrays_with_the_same_values(view):
    genome = ga.read_fasta(ga.example_path("genome.fa"), progress=False)
    onehot = ga.onehot(view, 2)
    for arr in (genome, view, onehot):
        assert type(arr.data) is QuickValuesArray
        np.testing.assert_array_equal(arr.values, arr.data.compute(scheduler="sync"))
    np.testing.assert_array_equal(onehot.values, ga.onehot(view.compute(), 2).values)
    # anything derived is a plain dask array; names (the engine's recipes) are unchanged
    assert type((view + 1).data) is da.Array
    assert type(view.isel(region=[0, 2]).data) is da.Array
    plain = da.arange(5, chunks=2)
    assert quick_values(plain).name == plain.name
    assert quick_values(np.arange(3)).tolist() == [0, 1, 2]


def test_a_configured_scheduler_is_used(view):
    """With a scheduler set by ``dask.config.set``, ``.values`` runs on it."""
    calls = []

    def counting(dsk, keys, **kwargs):
        calls.append(keys)
        return dask.get(dsk, keys, **kwargs)

    with dask.config.set(scheduler=counting):
        assert not no_client_possible()
        got = view.values
    assert calls, "the configured scheduler was not used"
    np.testing.assert_array_equal(got, view.data.compute(scheduler="sync"))


def test_dtype_and_pickling(view):
    data = view.data
    np.testing.assert_array_equal(np.asarray(data, dtype=np.int16), view.values.astype(np.int16))
    back = pickle.loads(pickle.dumps(data))  # (to worker processes, say)
    assert type(back) is QuickValuesArray and back.name == data.name
    np.testing.assert_array_equal(np.asarray(back), view.values)


def test_values_do_not_import_distributed(tmp_path):
    """In a fresh process, reading a view's values (and its one-hot's) does not import
    ``distributed`` (dask's client look costs 0.2-0.45 s there)."""
    code = f"""
import os, sys
os.environ["GENOMARRAY_OUTPUT"] = {str(tmp_path)!r}
import genomarray as ga
g = ga.read_fasta(ga.example_path("genome.fa"), progress=False)
v = g.janggu.view(ga.tile(ga.example_path("roi.bed"), binsize=200))
a, b = v.values, ga.onehot(v, 1).values
assert a.shape[0] == b.shape[0] > 0
print("distributed" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr


class _Tasks(dask.callbacks.Callback):
    """Counts the dask tasks the local schedulers run while active."""

    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    def _pretask(self, key, dsk, state) -> None:
        self.n += 1


def _views(tmp_path, monkeypatch):
    """A view of a sequence store in genome order, one of a coverage store in shuffled
    order (reordered by the view), the one-hot of the first."""
    monkeypatch.setenv("GENOMARRAY_OUTPUT", str(tmp_path))
    genome = ga.read_fasta(ga.example_path("genome.fa"), progress=False)
    cov = ga.read_bam(ga.example_path("sample.bam"), progress=False)
    roi = ga.tile(ga.example_path("roi.bed"), binsize=200, flank=50)
    shuffled = roi.sample(frac=1.0, random_state=3).reset_index(drop=True)
    seq = genome.janggu.view(roi)
    return {"codes": seq, "coverage": cov.janggu.view(shuffled), "onehot": ga.onehot(seq, 2)}


def test_recorded_views_read_their_values_without_a_dask_graph(tmp_path, monkeypatch):
    """A store view's (or its one-hot's) ``.values`` reads as ``ga.load`` does: no dask
    task runs, and the values, dtype and shape are dask's own."""
    for key, arr in _views(tmp_path, monkeypatch).items():
        assert arr.data.recipe["name"] == arr.data.name, key
        truth = arr.data.compute(scheduler="sync")
        with _Tasks() as tasks:
            got = arr.values
        assert tasks.n == 0, f"{key}: {tasks.n} dask tasks ran"
        assert got.dtype == truth.dtype and got.shape == truth.shape, key
        np.testing.assert_array_equal(got, truth, err_msg=key)
        np.testing.assert_array_equal(got, ga.load(arr).values, err_msg=key)


def test_other_arrays_and_a_configured_scheduler_compute_through_dask(tmp_path, monkeypatch):
    arrays = _views(tmp_path, monkeypatch)
    seq = arrays["codes"]
    derived = quick_values((seq + 1).data)  # quick, but no recipe: dask's graph
    with _Tasks() as tasks:
        np.testing.assert_array_equal(np.asarray(derived), seq.values + 1)
    assert tasks.n > 0
    back = pickle.loads(pickle.dumps(seq.data))  # a pickled copy carries no recipe
    assert getattr(back, "recipe", None) is None
    with _Tasks() as tasks:
        np.testing.assert_array_equal(np.asarray(back), seq.values)
    assert tasks.n > 0
    with dask.config.set(scheduler="sync"), _Tasks() as tasks:
        np.testing.assert_array_equal(arrays["onehot"].values, ga.load(arrays["onehot"]).values)
    assert tasks.n > 0


def test_a_recipe_of_another_graph_is_not_used(tmp_path, monkeypatch):
    """A recipe whose name is not the array's (stale) is ignored."""
    seq = _views(tmp_path, monkeypatch)["codes"]
    other = quick_values(seq.data[::-1])
    other.recipe = seq.data.recipe
    with _Tasks() as tasks:
        np.testing.assert_array_equal(np.asarray(other), seq.values[::-1])
    assert tasks.n > 0


def test_a_damaged_chunk_under_a_recorded_view_is_an_error(tmp_path, monkeypatch):
    seq = _views(tmp_path, monkeypatch)["codes"]
    store = seq.data.recipe["of"]["path"]
    chunks = sorted(p for p in Path(store).rglob("c/*/*") if p.is_file())
    assert chunks, store
    chunks[0].write_bytes(b"\0" * 7)
    with pytest.raises(StoreError, match="chunk"):
        _ = seq.values


def test_distributed_imported_without_a_client_still_reads_without_a_graph(tmp_path, monkeypatch):
    """A notebook that built a store imported ``distributed`` (dask's client look); with
    no client running, a view's ``.values`` still skips the graph."""
    pytest.importorskip("distributed")
    from genomarray.genome.compute import distributed_client

    arr = _views(tmp_path, monkeypatch)["coverage"]
    assert "distributed" in sys.modules and distributed_client() is None
    with _Tasks() as tasks:
        got = arr.values
    assert tasks.n == 0
    np.testing.assert_array_equal(got, arr.data.compute(scheduler="sync"))


@pytest.mark.parametrize("which", ["fasta", "bam", "bigwig"])
def test_views_of_arrays_without_a_store_read_without_a_graph(tmp_path, monkeypatch, which):
    """A genome-wide array read from its files with no store (``cache=False``,
    ``storage="lazy"``) records how its blocks are read; a view of it (and its one-hot)
    is read by the batch engine from the reader's blocks: no dask task, dask's values,
    in memory and out of core, in genome and in shuffled order."""
    from genomarray import model
    from genomarray.batches.engine import BatchEngine, Request

    monkeypatch.setenv("GENOMARRAY_OUTPUT", str(tmp_path))
    arr = {
        "fasta": lambda: ga.read_fasta(ga.example_path("genome.fa"), cache=False),
        "bam": lambda: ga.read_bam(ga.example_path("sample.bam"), storage="lazy"),
        "bigwig": lambda: ga.read_bigwig(ga.example_path("sample.bw"), storage="lazy"),
    }[which]()
    assert not (tmp_path / "cache").exists()  # nothing stored
    assert model.recipe_of(arr)["op"] == model.RECIPE_READER
    roi = ga.tile(ga.example_path("roi.bed"), binsize=200, flank=50)
    views = [arr.janggu.view(roi), arr.janggu.view(roi.sample(frac=1.0, random_state=2))]
    if which == "fasta":
        views.append(ga.onehot(views[1], 2))
    for v in views:
        assert model.recipe_of(v)["op"] in (model.RECIPE_WINDOWS, model.RECIPE_ONEHOT)
        truth = v.data.compute(scheduler="sync")
        with _Tasks() as tasks:
            got = v.values
            engine = BatchEngine([Request("x", v)], batch_size=9, max_memory_bytes=0)
            rows = np.array([5, 0, 17, 3, len(truth) - 1])
            batch = engine.take(rows)["x"]
        assert tasks.n == 0
        assert got.dtype == truth.dtype
        np.testing.assert_array_equal(got, truth)
        np.testing.assert_array_equal(batch, truth[rows])
    derived = arr + 0  # a changed array: its recipe no longer applies
    assert model.recipe_of(derived) is None


def test_a_reader_error_reaches_values(tmp_path, monkeypatch):
    """A FASTA whose lines its index does not describe: the engine's read raises the
    reader's InputError, as dask's would."""
    fa = tmp_path / "bad.fa"
    fa.write_text(">a\nACGTACGTAC\nACGTACGTAC\nACGT\n")
    ga.read_fasta(fa, cache=False)  # indexes it
    fa.write_text(">a\nACGTACGTAC\nACG TACGTA\nACGT\n")  # same size, a space inside
    arr = ga.read_fasta(fa, cache=False)
    v = arr.janggu.view(pd.DataFrame({"chrom": ["a"], "start": [0], "end": [24]}))
    with pytest.raises(InputError, match="where a base was expected"):
        _ = v.values


def test_subsets_and_shuffles_of_views_read_without_a_graph(tmp_path, monkeypatch):
    """``subset`` and ``shuffle`` of a store view (and of a Dataset of views) keep the
    recipe's fast ``.values``."""
    arrays = _views(tmp_path, monkeypatch)
    seq, onehot = arrays["codes"], arrays["onehot"]
    picked = ga.subset(seq, include=["chr1"])
    mixed = ga.shuffle(onehot, random_state=4)
    both = ga.shuffle(xr.Dataset({"dna": seq, "plus": seq + 0}), random_state=1)
    for arr in (picked, mixed, both["dna"]):
        assert type(arr.data) is QuickValuesArray
        truth = arr.data.compute(scheduler="sync")
        with _Tasks() as tasks:
            got = arr.values
        assert tasks.n == 0
        np.testing.assert_array_equal(got, truth)
    assert type(both["plus"].data) is da.Array  # derived: no recipe, plain dask
    np.testing.assert_array_equal(
        mixed.values, onehot.values[np.asarray(mixed["region_index"].values)]
    )


def test_a_view_reopened_from_zarr_reads_without_a_graph(tmp_path, monkeypatch):
    """``open_zarr`` of a written view: its ``.values`` reads the store's region chunks
    as ``ga.load`` does; a genome-wide store array computes through dask."""
    arrays = _views(tmp_path, monkeypatch)
    path = ga.write_zarr(arrays["onehot"], tmp_path / "view.zarr", progress=False)
    back = ga.open_zarr(path)
    truth = back.data.compute(scheduler="sync")
    with _Tasks() as tasks:
        got = back.values
    assert tasks.n == 0
    np.testing.assert_array_equal(got, truth)
    np.testing.assert_array_equal(got, arrays["onehot"].values)
    genome = ga.read_fasta(ga.example_path("genome.fa"), progress=False)
    assert getattr(genome.data, "recipe", None) is None
    with _Tasks() as tasks:
        _ = genome.values
    assert tasks.n > 0
