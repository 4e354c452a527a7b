"""Chunks written straight to their files (genome.chunk_writes) give the store zarr's own
writes give: the same metadata, the same chunk files, the same values read back by zarr
and xarray."""

from __future__ import annotations

import json
import os

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr
import zarr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import genomarray as ga
from genomarray import model
from genomarray.genome import chunk_writes, compute, store


def _both(arr: xr.DataArray, tmp_path, name: str = "x", direct_tried: bool = True):
    """``arr`` written by write_zarr (direct chunk writes) and by zarr's own writes (the
    same call with the direct writes refused): the two store folders."""
    original = chunk_writes.chunk_writes
    made = []

    def spy(*args):
        made.append(original(*args))
        return made[-1]

    def refuse(*args):
        made.append("refused")
        return None  # "another layout": zarr writes it all

    try:
        chunk_writes.chunk_writes = spy
        direct = store.write_zarr(arr, tmp_path / f"{name}-direct.zarr", progress=False)
        chunk_writes.chunk_writes = refuse
        viazarr = store.write_zarr(arr, tmp_path / f"{name}-zarr.zarr", progress=False)
    finally:
        chunk_writes.chunk_writes = original
    if direct_tried:
        assert len(made) == 2 and made[0] is not None and made[1] == "refused"
    else:
        assert made == []
    return direct, viazarr


def _files(path) -> dict[str, bytes]:
    out = {}
    for root, _, files in os.walk(path):
        for f in files:
            full = os.path.join(root, f)
            out[os.path.relpath(full, path)] = open(full, "rb").read()
    return out


def _same_store(direct, viazarr) -> None:
    a, b = _files(direct), _files(viazarr)
    assert sorted(a) == sorted(b)  # the same chunks written (fill-only ones skipped)
    for rel in a:
        if rel.endswith("zarr.json"):
            assert json.loads(a[rel]) == json.loads(b[rel]), rel
    x, y = ga.open_zarr(direct), ga.open_zarr(viazarr)
    xr.testing.assert_identical(x.compute(), y.compute())
    var = x.name
    np.testing.assert_array_equal(
        zarr.open_array(str(direct), path=var)[...], zarr.open_array(str(viazarr), path=var)[...]
    )


def test_genome_stores_match_zarrs_own_writes(tmp_path):
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 5, (3, 2500)).astype(np.uint8)
    codes[1, :] = 4  # a chromosome of N only: its chunks are not written
    genome = model.sequence_genome(
        da.from_array(codes, chunks=(1, 1000)), ["a", "b", "c"], [2500, 2000, 1234]
    )
    _same_store(*_both(genome, tmp_path, "genome"))
    cov = rng.poisson(0.3, (2, 3000, 2, 3)).astype(np.int32)
    track = model.coverage_track(
        da.from_array(cov, chunks=(1, 700, 2, 3)),
        ["a", "b"],
        [3000, 2900],
        ["+", "-"],
        ["r1", "r2", "r3"],
    )
    _same_store(*_both(track, tmp_path, "track"))
    signal = model.coverage_track(
        da.from_array(rng.random((1, 1500, 1, 1)).astype(np.float32), chunks=(1, 600, 1, 1)),
        ["a"],
        [1500],
        ["."],
        ["s"],
    )
    _same_store(*_both(signal, tmp_path, "signal"))


def test_a_view_store_is_written_by_zarr(tmp_path, monkeypatch):
    """A view's every dim has coordinates (``pos`` offsets): zarr writes its store."""
    monkeypatch.setenv("GENOMARRAY_OUTPUT", str(tmp_path / "out"))
    dna = ga.read_fasta(ga.example_path("genome.fa"), progress=False)
    view = ga.onehot(dna.janggu.view(ga.tile(ga.example_path("roi.bed"), binsize=200)), 2)
    direct, viazarr = _both(view, tmp_path, "view", direct_tried=False)
    _same_store(direct, viazarr)
    np.testing.assert_array_equal(ga.open_zarr(direct).values, view.values)


def test_builds_use_the_direct_writes_and_read_back_exactly(tmp_path, monkeypatch):
    monkeypatch.setenv("GENOMARRAY_OUTPUT", str(tmp_path))
    used = []
    original = chunk_writes.chunk_writes

    def spy(*args):
        out = original(*args)
        used.append(out is not None)
        return out

    monkeypatch.setattr(chunk_writes, "chunk_writes", spy)
    dna = ga.read_fasta(ga.example_path("genome.fa"), progress=False)
    cov = ga.read_bam(ga.example_path("sample.bam"), progress=False)
    assert used == [True, True]
    for arr, fresh in (
        (dna, ga.read_fasta(ga.example_path("genome.fa"), cache=False)),
        (cov, ga.read_bam(ga.example_path("sample.bam"), cache=False)),
    ):
        np.testing.assert_array_equal(arr.values, fresh.values)


def test_other_layouts_fall_back_to_zarr(tmp_path):
    """Blocks that are not the chunks, and codecs other than blosc, are written by zarr."""
    data = da.from_array(np.arange(10, dtype=np.uint8), chunks=3)
    ds = xr.Dataset({"v": ("x", data)})
    small = chunk_writes.metadata_dataset(ds, "v", 0)
    small.to_zarr(tmp_path / "a", zarr_format=3, consolidated=False, encoding={"v": {"chunks": 4}})
    assert chunk_writes.chunk_writes(str(tmp_path / "a"), "v", data) is None  # zstd default
    compute.write_dataset(
        ds, str(tmp_path / "b"), False, "", direct="v", mode="w", zarr_format=3, consolidated=False
    )
    assert zarr.open_array(str(tmp_path / "b"), path="v")[...].tolist() == list(range(10))
    with_coords = xr.Dataset({"v": ("x", data)}, coords={"x": np.arange(10)})
    assert chunk_writes.metadata_dataset(with_coords, "v", 0) is None
    compute.write_dataset(
        with_coords,
        str(tmp_path / "c"),
        False,
        "",
        direct="v",
        mode="w",
        zarr_format=3,
        consolidated=False,
    )
    assert zarr.open_array(str(tmp_path / "c"), path="v")[...].tolist() == list(range(10))


def test_a_failed_block_leaves_no_store(tmp_path):
    def boom(block):
        if block[0] >= 6:
            raise RuntimeError("disk on fire")
        return block

    data = da.from_array(np.arange(10, dtype=np.uint8), chunks=3).map_blocks(boom)
    genome = model.sequence_genome(data[None, :], ["a"], [10])
    with pytest.raises(RuntimeError, match="disk on fire"):
        store.write_zarr(genome, tmp_path / "g.zarr", progress=False)
    assert not os.path.exists(tmp_path / "g.zarr")
    assert os.listdir(tmp_path) == []


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.integers(1, 3),
    st.integers(1, 60),
    st.integers(1, 25),
    st.sampled_from(["uint8", "int32", "float32", "int16"]),
    st.floats(0.0, 1.0),
    st.integers(0, 2**32 - 1),
)
def test_any_shape_dtype_and_sparsity_reads_back_as_written(
    tmp_path_factory, n_chrom, length, chunk, dtype, density, seed
):
    """Against numpy: every value read back by zarr is the one written, for any chunking
    (edge chunks padded), dtype and share of fill-only chunks; the chunk files are those
    zarr's own writes make."""
    rng = np.random.default_rng(seed)
    fill = 4 if dtype == "uint8" else 0
    values = np.full((n_chrom, length), fill, dtype=dtype)
    mask = rng.random(values.shape) < density
    values[mask] = rng.integers(0, 4, int(mask.sum())).astype(dtype)
    chroms, lengths = [f"c{i}" for i in range(n_chrom)], [length] * n_chrom
    if dtype == "uint8":
        genome = model.sequence_genome(da.from_array(values, chunks=(1, chunk)), chroms, lengths)
    else:
        cells = da.from_array(values[:, :, None, None], chunks=(1, chunk, 1, 1))
        genome = model.coverage_track(cells, chroms, lengths, ["."], ["s"])
    tmp = tmp_path_factory.mktemp("prop")
    direct, viazarr = _both(genome, tmp)
    var = ga.open_zarr(direct).name
    got = zarr.open_array(str(direct), path=var)[...]
    np.testing.assert_array_equal(got.reshape(values.shape), values)
    assert sorted(_files(direct)) == sorted(_files(viazarr))
    assert pd.Index(sorted(_files(direct))).is_unique
