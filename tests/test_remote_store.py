"""zarr stores at fsspec URLs: S3 (a moto server) and plain HTTP, both on 127.0.0.1.

Written under a temporary prefix, copied into place, the manifest written last; read back
equal to the local build; never half-written; over HTTP readable thanks to consolidated
metadata (without it xarray silently opens an empty Dataset); network failures named.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import genomarray as ga
from genomarray import model
from genomarray.errors import InputError, StoreError
from genomarray.genome import graph, manifest
from genomarray.io import remote

pytest.importorskip("s3fs")
pytest.importorskip("aiohttp")

BW = ga.example_path("sample.bw")
FASTA = ga.example_path("genome.fa")


def _keys(s3, prefix: str = "") -> list[str]:
    fs = s3.filesystem()
    found = fs.find(f"{s3.bucket}/{prefix}")
    return sorted(p[len(s3.bucket) + 1 :] for p in found)


def _track() -> xr.DataArray:
    return ga.read_bigwig(BW, resolution=10, storage="lazy")


# -- S3 ---------------------------------------------------------------------------------


def test_write_and_open_zarr_on_s3(s3_server):
    so = s3_server.storage_options
    url = s3_server.url("sig.zarr")
    track = _track()
    assert ga.write_zarr(track, url, progress=False, storage_options=so) == url
    keys = _keys(s3_server)
    assert "sig.zarr/genomarray_manifest.json" in keys and "sig.zarr/zarr.json" in keys
    assert not any(".partial-" in k for k in keys)  # the temporary prefix is gone
    back = ga.open_zarr(url, storage_options=so)
    np.testing.assert_array_equal(back.values, track.values)
    assert back.dims == track.dims and back.encoding["store"] == url
    assert ga.open_zarr(url, storage_options=so, verify=True).sum() == track.sum()
    man = manifest.read_manifest(url, so)
    assert set(man["files"]) == {k[len("sig.zarr/") :] for k in keys} - manifest.OWN_FILES


def test_s3_store_is_not_replaced_without_overwrite(s3_server):
    so = s3_server.storage_options
    url = s3_server.url("g.zarr")
    ga.write_zarr(_track(), url, progress=False, storage_options=so)
    before = manifest.read_manifest(url, so)["digest"]
    with pytest.raises(FileExistsError, match="overwrite=True"):
        ga.write_zarr(ga.read_fasta(FASTA, cache=False), url, progress=False, storage_options=so)
    assert manifest.read_manifest(url, so)["digest"] == before
    genome = ga.read_fasta(FASTA, cache=False, chunk=8192)
    ga.write_zarr(genome, url, overwrite=True, progress=False, storage_options=so)
    back = ga.open_zarr(url, storage_options=so)
    np.testing.assert_array_equal(back.values, genome.values)
    assert not any(k.startswith("g.zarr/coverage") for k in _keys(s3_server))  # old gone


def test_failed_s3_write_leaves_nothing_and_keeps_the_old_store(s3_server):
    so = s3_server.storage_options
    url = s3_server.url("fail.zarr")

    def reader(chrom, start, end):
        if chrom == "b" and start == 3000:
            raise RuntimeError("boom at b:3000")
        return np.full(end - start, 1, np.uint8)

    arr = graph.genome_array(reader, ["a", "b"], [5000, 5000], np.uint8, fill=4, chunk=1000)
    genome = model.sequence_genome(arr, ["a", "b"], [5000, 5000])
    with pytest.raises(RuntimeError, match="boom at b:3000"):
        ga.write_zarr(genome, url, progress=False, storage_options=so)
    assert _keys(s3_server) == []  # no store, no temporary prefix
    ga.write_zarr(_track(), url, progress=False, storage_options=so)
    keys = _keys(s3_server)
    with pytest.raises(RuntimeError, match="boom"):
        ga.write_zarr(genome, url, overwrite=True, progress=False, storage_options=so)
    assert _keys(s3_server) == keys  # the complete store was not touched
    np.testing.assert_array_equal(ga.open_zarr(url, storage_options=so).values, _track().values)


def test_s3_store_damage_is_a_store_error(s3_server):
    so = s3_server.storage_options
    url = s3_server.url("d.zarr")
    ga.write_zarr(_track(), url, progress=False, storage_options=so)
    fs = s3_server.filesystem()
    chunk = next(k for k in _keys(s3_server) if "/coverage/c/" in k)
    data = fs.cat_file(f"{s3_server.bucket}/{chunk}")
    fs.pipe_file(f"{s3_server.bucket}/{chunk}", data[:-1] + bytes([data[-1] ^ 1]))
    arr = ga.open_zarr(url, storage_options=so)  # names and sizes match
    with pytest.raises(StoreError, match="checksum mismatch"):
        arr.values  # noqa: B018
    with pytest.raises(StoreError, match="checksum mismatch"):
        ga.open_zarr(url, storage_options=so, verify=True)
    fs.rm_file(f"{s3_server.bucket}/{chunk}")
    with pytest.raises(StoreError, match=r"chunk .*is missing"):
        ga.open_zarr(url, storage_options=so)
    fs.rm_file(f"{s3_server.bucket}/d.zarr/{manifest.MANIFEST_FILE}")
    with pytest.raises(StoreError, match="has no manifest"):
        ga.open_zarr(url, storage_options=so)


def test_read_star_store_path_on_s3_builds_once(s3_server):
    so = s3_server.storage_options
    url = s3_server.url("cache/bw.zarr")
    first = ga.read_bigwig(BW, resolution=10, store_path=url, storage_options=so, progress=False)
    np.testing.assert_array_equal(first.values, _track().values)
    assert first.encoding["store"] == url
    digest = manifest.read_manifest(url, so)["digest"]
    again = ga.read_bigwig(BW, resolution=10, store_path=url, storage_options=so, progress=False)
    assert manifest.read_manifest(url, so)["digest"] == digest  # reopened, not rebuilt
    assert again.attrs["cache_key"] == first.attrs["cache_key"]
    genome = ga.read_fasta(FASTA, store_path=s3_server.url("g.zarr"), storage_options=so)
    np.testing.assert_array_equal(genome.values, ga.read_fasta(FASTA, cache=False).values)


def test_s3_server_gone_is_named(s3_server):
    so = {**s3_server.storage_options, "config_kwargs": {"retries": {"max_attempts": 1}}}
    url = s3_server.url("x.zarr")
    ga.write_zarr(_track(), url, progress=False, storage_options=so)
    s3_server.moto.stop()
    with pytest.raises(remote.RemoteError, match=r"s3://genomarray-test/x\.zarr.*connection"):
        ga.open_zarr(url, storage_options=so)
    with pytest.raises(remote.RemoteError, match=r"x2\.zarr.*connection"):
        ga.write_zarr(_track(), s3_server.url("x2.zarr"), progress=False, storage_options=so)


def test_file_url_store(tmp_path):
    url = (tmp_path / "f.zarr").as_uri()
    assert url.startswith("file://")
    path = ga.write_zarr(_track(), url, progress=False)
    assert path == tmp_path / "f.zarr" and manifest.read_manifest(path) is not None
    np.testing.assert_array_equal(ga.open_zarr(url).values, _track().values)


def test_http_store_is_refused_for_writing(http_server):
    with pytest.raises(InputError, match="read-only"):
        ga.write_zarr(_track(), http_server.url("x.zarr"), progress=False)


# -- plain HTTP -------------------------------------------------------------------------


def _serve_store(server, store: Path, name: str) -> str:
    shutil.copytree(store, server.root / name)
    return server.url(name)


def test_store_over_http_needs_consolidated_metadata(http_server, tmp_path):
    local = ga.write_zarr(_track(), tmp_path / "sig.zarr", progress=False)
    url = _serve_store(http_server, local, "sig.zarr")
    http_server.clear_requests()
    back = ga.open_zarr(url)
    np.testing.assert_array_equal(back.values, _track().values)
    assert {m for m, _, _ in http_server.requests} <= {"GET", "HEAD"}
    assert not any(p.endswith("/") for _, p, _ in http_server.requests)  # no listing asked
    # a store without consolidated metadata: xarray alone opens it over HTTP as *empty*
    plain = tmp_path / "plain.zarr"
    _track().to_dataset(name="coverage").to_zarr(plain, consolidated=False, zarr_format=3)
    manifest.write_manifest(plain)
    plain_url = _serve_store(http_server, plain, "plain.zarr")
    assert list(xr.open_zarr(plain_url, consolidated=False, zarr_format=3).data_vars) == []
    with pytest.raises(StoreError, match="no consolidated metadata"):
        ga.open_zarr(plain_url)


def test_http_store_errors_are_named(http_server, tmp_path):
    local = ga.write_zarr(_track(), tmp_path / "sig.zarr", progress=False)
    url = _serve_store(http_server, local, "sig.zarr")
    with pytest.raises(remote.RemoteNotFoundError, match=r"nothing\.zarr.*not found"):
        ga.open_zarr(http_server.url("nothing.zarr"))
    chunk = "sig.zarr/coverage/c/1/0/0/0"  # chr2's values
    assert (http_server.root / chunk).is_file()
    http_server.set_truncate(chunk, 10)
    with pytest.raises(remote.RemoteError, match="truncated"):
        ga.open_zarr(url).values  # noqa: B018
    http_server.set_truncate(chunk, None)
    (http_server.root / chunk).write_bytes(b"\0" * 8)
    with pytest.raises(StoreError, match=r"is 8 bytes, the manifest says"):
        ga.open_zarr(url).values  # noqa: B018
    arr = ga.open_zarr(url)
    http_server.stop()
    # fsspec reports a refused connection as FileNotFoundError, which zarr alone would
    # read as missing chunks, i.e. zeros: here it is an error naming the store
    with pytest.raises(remote.RemoteError, match=r"sig\.zarr.*connection refused"):
        arr.values  # noqa: B018


# -- a cluster writing to S3 ------------------------------------------------------------


def test_cluster_writes_and_reads_a_store_on_s3(s3_server, monkeypatch):
    """Two worker processes write a store on the moto server and read it back."""
    distributed = pytest.importorskip("distributed")
    from genomarray.genome import compute

    so = s3_server.storage_options
    with monkeypatch.context() as m:  # the local reference, on genomarray's own threads
        m.setattr(compute, "distributed_client", lambda: None)
        local = ga.read_bam(ga.example_path("sample.bam"), storage="memory", progress=False)
    url = s3_server.url("cluster/bam.zarr")
    start = time.monotonic()
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            memory_limit="2GiB",
            silence_logs=40,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with distributed.get_task_stream(client) as tasks:
            built = ga.read_bam(
                ga.example_path("sample.bam"),
                store_path=url,
                storage_options=so,
                progress=False,
                chunk=8192,
            )
        workers = {t["worker"] for t in tasks.data}
        values = built.values  # read back through the workers
    assert len(workers) == 2, "both workers wrote"
    np.testing.assert_array_equal(values, local.values)
    np.testing.assert_array_equal(ga.open_zarr(url, storage_options=so).values, local.values)
    assert not any(".partial-" in k for k in _keys(s3_server))
    assert time.monotonic() - start < 120


# -- a network failure in the middle of a build leaves no store -------------------------


@pytest.mark.parametrize("target", ["local", "s3"])
def test_server_gone_mid_build_leaves_no_store(http_server, s3_server, tmp_path, target):
    """Inputs read over HTTP (bigWig, BAM, FASTA) fail inside the chunk tasks of a store
    write: the error names the input URL and nothing is left where the store would be."""
    bw = http_server.add(BW)
    bam = http_server.add(ga.example_path("sample.bam"))
    http_server.add(ga.example_path("sample.bam") + ".bai")
    fa = http_server.add(FASTA)
    http_server.add(FASTA + ".fai")
    lazy = {
        "bigwig": ga.read_bigwig(bw, storage="lazy", chunk=4096),
        "bam": ga.read_bam(bam, storage="lazy", chunk=4096),
        "fasta": ga.read_fasta(fa, cache=False, chunk=4096),
    }
    http_server.stop()
    so = s3_server.storage_options if target == "s3" else None
    for name, arr in lazy.items():
        where = s3_server.url(f"{name}.zarr") if target == "s3" else str(tmp_path / name)
        with pytest.raises(remote.RemoteError, match="connection refused") as err:
            ga.write_zarr(arr, where, progress=False, storage_options=so)
        assert http_server.base in str(err.value), name
    if target == "s3":
        assert _keys(s3_server) == []
    else:
        assert sorted(p.name for p in tmp_path.iterdir()) == ["served", "server-control"]
