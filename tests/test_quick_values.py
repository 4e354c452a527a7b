"""``.values`` of store arrays, views and their one-hot skips dask's client look only
when no client can exist, and gives the same values as dask's own compute."""

from __future__ import annotations

import pickle
import subprocess
import sys

import dask
import dask.array as da
import numpy as np
import pytest

import genomarray as ga
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
