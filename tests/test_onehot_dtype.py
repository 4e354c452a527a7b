"""onehot(dtype=...) computes the dtype it declares, for every backing (issue 13 item 7)."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import xarray as xr

import genomarray as ga
from genomarray import encode


@pytest.fixture(scope="module")
def roi():
    return ga.tile(ga.read_regions(ga.example_path("roi.bed")), binsize=200, flank=50)


@pytest.fixture(scope="module")
def backings(roi):
    fasta = ga.example_path("genome.fa")
    zarr_view = ga.read_fasta(fasta, progress=False).janggu.view(roi)  # dask over the store
    fasta_view = ga.read_fasta(fasta, cache=False).janggu.view(roi)  # dask over the FASTA
    numpy_view = zarr_view.compute()
    assert isinstance(zarr_view.data, da.Array) and isinstance(fasta_view.data, da.Array)
    assert isinstance(numpy_view.data, np.ndarray)
    return {"numpy": numpy_view, "zarr": zarr_view, "fasta": fasta_view}


@pytest.mark.parametrize("backing", ["numpy", "zarr", "fasta"])
@pytest.mark.parametrize("dtype", ["float32", "uint8"])
@pytest.mark.parametrize("order", [1, 3])
def test_declared_dtype_is_computed(backings, backing, dtype, order):
    codes = backings[backing]
    x = ga.onehot(codes, order=order, dtype=dtype)
    want = np.dtype(dtype)
    values = x.values
    assert x.dtype == want and values.dtype == want
    if isinstance(x.data, da.Array):
        assert x.data.compute().dtype == want
        assert x.data.blocks[0].compute().dtype == want
    # the values: the numpy kernel on the computed codes
    expected = encode.onehot(np.asarray(codes.values), order, dtype=dtype)
    np.testing.assert_array_equal(values, expected)
    n_regions, width = codes.sizes["region"], codes.sizes["pos"] - order + 1
    assert values.nbytes == n_regions * width * 4**order * want.itemsize


def test_uint8_is_a_quarter_of_float32(backings):
    x8 = ga.onehot(backings["zarr"], dtype="uint8").values
    x32 = ga.onehot(backings["zarr"], dtype="float32").values
    assert x8.nbytes * 4 == x32.nbytes
    np.testing.assert_array_equal(x8, x32)


def test_dataset_and_accessor_keep_the_dtype(backings):
    ds = xr.Dataset({"dna": backings["zarr"]})
    out = ds.janggu.onehot(order=2, dtype="uint8")
    assert out["dna"].dtype == np.uint8 and out["dna"].values.dtype == np.uint8
    acc = backings["fasta"].janggu.onehot(dtype="uint8")
    assert acc.values.dtype == np.uint8
