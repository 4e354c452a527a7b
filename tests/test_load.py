"""``ga.load``: a view into memory through the batch engine equals ``.compute()`` exactly.

Every path the engine reads straight from zarr chunks (lazy views of genome stores, their
one-hot of orders 1-3, views written with ``write_zarr`` and reopened, subsets and
shuffles of those) and the dask fallback (changed views, genome-wide arrays) are compared
with dask's own ``compute()`` of the same array, on regions of both strands, past
chromosome ends and across chunk boundaries; with random regions (hypothesis) as well.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import genomarray as ga
from genomarray import model
from genomarray.batches import load
from genomarray.genome.store import open_zarr, write_zarr

CHROMS = ["chrA", "chrB"]
LENGTHS = [4100, 2333]


def _roi(rng: np.random.Generator, n: int = 120) -> pd.DataFrame:
    chrom = rng.integers(0, 2, n)
    size = np.array(LENGTHS)[chrom]
    length = rng.integers(10, 150, n)
    start = rng.integers(0, size - length)
    start[:4] = [0, size[1] - length[1], 0, size[3] - length[3]]  # windows at the ends
    return pd.DataFrame(
        {
            "chrom": np.array(CHROMS)[chrom],
            "start": start,
            "end": start + length,
            "name": [f"r{i}" for i in range(n)],
            "score": 0.0,
            "strand": np.where(rng.random(n) < 0.4, "-", "+"),
        }
    )


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("load")
    rng = np.random.default_rng(3)
    n = max(LENGTHS)
    genome = model.sequence_genome(rng.integers(0, 5, (2, n)).astype(np.uint8), CHROMS, LENGTHS)
    stranded = rng.poisson(2.0, (2, n, 2, 1)).astype(np.float32)
    cov = model.coverage_track(stranded, CHROMS, LENGTHS, ["+", "-"], ["c"], resolution=1)
    binned = rng.integers(0, 9, (2, -(-n // 10), 1, 2)).astype(np.int32)
    cov10 = model.coverage_track(binned, CHROMS, LENGTHS, ["."], ["a", "b"], resolution=10)
    out = {}
    for name, arr in (("dna", genome), ("cov", cov), ("cov10", cov10)):
        path = write_zarr(arr, root / f"{name}.zarr", chunks={"pos": 700}, progress=False)
        out[name] = open_zarr(path)
    out["root"] = root
    return out


def _same(got: xr.DataArray, lazy: xr.DataArray) -> None:
    assert isinstance(got.data, np.ndarray)
    expected = lazy.compute()
    xr.testing.assert_identical(got, expected)
    assert got.dtype == expected.dtype


@pytest.mark.parametrize("name", ["dna", "cov", "cov10"])
def test_lazy_store_views(stores, name):
    v = ga.view(stores[name], _roi(np.random.default_rng(1)), flank=25)
    assert model.recipe_of(v) is not None  # the engine's path, not dask's
    _same(load(v), v)
    _same(v.janggu.load(), v)


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("dtype", ["float32", "uint8"])
def test_onehot_of_store_views(stores, order, dtype):
    v = ga.onehot(ga.view(stores["dna"], _roi(np.random.default_rng(order))), order, dtype)
    _same(load(v), v)


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("sort", [True, False])
def test_many_regions_read_by_several_threads(stores, threads, sort):
    """More rows than one read (2,048): groups read side by side, in genome order
    (runs of rows) or out of it (scattered rows), both strands, past chromosome ends."""
    roi = _roi(np.random.default_rng(11), n=4200)  # 3 reads
    if sort:
        roi = roi.sort_values(["chrom", "start"], kind="stable").reset_index(drop=True)
    for name in ("dna", "cov"):
        v = ga.view(stores[name], roi, flank=10)
        _same(load(v, threads=threads), v)
    x = ga.onehot(ga.view(stores["dna"], roi), 2)
    _same(load(x, threads=threads), x)


def test_written_views_subsets_and_shuffles(stores):
    roi = _roi(np.random.default_rng(2))
    written = write_zarr(
        ga.view(stores["cov"], roi).compute(),
        stores["root"] / "view.zarr",
        chunks={"region": 16},
        progress=False,
    )
    reopened = open_zarr(written)
    _same(load(reopened), reopened)
    lazy = ga.view(stores["dna"], roi)
    for changed in (
        ga.subset(lazy, include="chrB"),
        ga.shuffle(lazy, 4),
        ga.onehot(ga.shuffle(lazy, 5), 2),
        ga.subset(reopened, exclude="chrA"),
    ):
        _same(load(changed), changed)


def test_dask_fallback_and_passthrough(stores):
    v = ga.view(stores["cov"], _roi(np.random.default_rng(6)))
    changed = v * 2 + 1  # no recipe: computed by dask
    assert model.recipe_of(changed) is None
    _same(load(changed), changed)
    _same(load(stores["dna"]), stores["dna"])  # genome-wide: dask
    in_memory = v.compute()
    assert load(in_memory) is in_memory
    empty = v.isel(region=slice(0, 0))
    _same(load(empty), empty)
    ds = xr.Dataset({"dna": ga.view(stores["dna"], model.regions_of(v)), "cov": v})
    got = ds.janggu.load()
    for k in ds.data_vars:
        _same(got[k], ds[k])
    with pytest.raises(TypeError, match="DataArray or Dataset"):
        load(np.zeros(3))


def test_damaged_chunk_is_a_store_error(tmp_path):
    g = model.sequence_genome(np.ones((1, 3000), np.uint8), ["c"], [3000])
    path = write_zarr(g, tmp_path / "g.zarr", chunks={"pos": 1000}, progress=False)
    v = ga.view(open_zarr(path), pd.DataFrame({"chrom": ["c"], "start": [1200], "end": [1300]}))
    chunk = path / "sequence" / "c" / "0" / "1"
    chunk.write_bytes(chunk.read_bytes()[:-3])
    with pytest.raises(ga.errors.StoreError, match="chunk c/0/1"):
        load(v)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(1, 40),
    flank=st.integers(0, 60),
    order=st.sampled_from([None, 1, 3]),
)
def test_random_regions_equal_dask(stores, seed, n, flank, order):
    """Random regions, strands and flanks: the engine's values are dask's values."""
    v = ga.view(stores["dna"], _roi(np.random.default_rng(seed), n=max(n, 4)), flank=flank)
    if order is not None:
        v = ga.onehot(v, order)
    np.testing.assert_array_equal(load(v).values, v.values)
    c = ga.view(stores["cov"], model.regions_of(v), flank=flank)
    np.testing.assert_array_equal(load(c).values, c.values)
