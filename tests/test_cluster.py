"""Builds on a ``distributed`` cluster of 2 worker processes equal the threaded builds.

One ``LocalCluster(processes=True)`` serves the whole module (started once, closed at the
end, so no other test module sees a client). The single-process reference builds hide the
client from :mod:`genomarray.genome.store`, so they run on its local thread pool.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import genomarray as ga
from genomarray import model
from genomarray.genome import compute, graph, store

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        memory_limit="2GiB",
        silence_logs=40,
    ) as cluster:
        with distributed.Client(cluster, set_as_default=True) as cl:
            yield cl


def _threaded(monkeypatch, build):
    """Run ``build`` as if no client existed (genomarray's own thread pool)."""
    with monkeypatch.context() as m:
        m.setattr(compute, "distributed_client", lambda: None)
        return build()


def _on_cluster(client, build):
    """Run ``build`` and check that its tasks ran on the cluster's workers."""
    assert compute.distributed_client() is client
    with distributed.get_task_stream(client) as ts:
        out = build()
    assert len(ts.data) > 0, "the build did not run on the cluster"
    workers = {t["worker"] for t in ts.data}
    assert workers <= set(client.scheduler_info()["workers"])
    return out


def _leftovers(folder) -> list[str]:
    return [p for p in os.listdir(folder) if ".partial-" in p or ".old-" in p]


@pytest.mark.parametrize("kind", ["bam", "fasta", "bigwig"])
def test_cluster_build_equals_threaded_build(client, tmp_path, monkeypatch, kind):
    def build(where):
        path = tmp_path / f"{where}.zarr"
        if kind == "bam":
            return ga.read_bam(
                ga.example_path("sample.bam"), store_path=path, progress=False, chunk=4096
            )
        if kind == "fasta":
            return ga.read_fasta(
                ga.example_path("genome.fa"), store_path=path, progress=False, chunk=4096
            )
        return ga.read_bigwig(
            ga.example_path("sample.bw"), store_path=path, progress=False, chunk=4096
        )

    local = _threaded(monkeypatch, lambda: build("local"))
    remote = _on_cluster(client, lambda: build("cluster"))
    assert remote.encoding["store"] != local.encoding["store"]
    assert remote.dims == local.dims and remote.shape == local.shape
    assert remote.dtype == local.dtype
    np.testing.assert_array_equal(remote.values, local.values)
    assert list(remote.chrom.values) == list(local.chrom.values)
    assert remote.chrom_length.values.tolist() == local.chrom_length.values.tolist()
    assert local.values.any()  # the comparison is not between two empty stores
    assert not _leftovers(tmp_path)


def test_cluster_bam_build_with_default_chunk(client, tmp_path, monkeypatch):
    path = ga.example_path("sample.bam")
    local = _threaded(monkeypatch, lambda: ga.read_bam(path, storage="memory", progress=False))
    remote = _on_cluster(
        client, lambda: ga.read_bam(path, store_path=tmp_path / "c.zarr", progress=False)
    )
    np.testing.assert_array_equal(remote.values, np.asarray(local.values))


def test_failing_task_on_cluster_leaves_nothing(client, tmp_path):
    chunk, bad_start = 1000, 3000

    def reader(chrom, start, end):  # pickled by value (a closure), raises for one chunk
        if chrom == "b" and start == bad_start:
            raise RuntimeError(f"boom at {chrom}:{start}")
        return np.full(end - start, 1, np.uint8)

    arr = graph.genome_array(reader, ["a", "b"], [5000, 5000], np.uint8, fill=4, chunk=chunk)
    genome = model.sequence_genome(arr, ["a", "b"], [5000, 5000])
    target = tmp_path / "fail.zarr"
    with pytest.raises(RuntimeError, match="boom at b:3000"):
        _on_cluster(client, lambda: ga.write_zarr(genome, target, progress=False))
    assert not target.exists()
    assert os.listdir(tmp_path) == []

    # the same graph without the failing chunk writes fine on the cluster afterwards
    bad_start = -1
    arr = graph.genome_array(reader, ["a", "b"], [5000, 5000], np.uint8, fill=4, chunk=chunk)
    ga.write_zarr(model.sequence_genome(arr, ["a", "b"], [5000, 5000]), target, progress=False)
    assert int(ga.open_zarr(target).values.sum()) == 10_000
    assert not _leftovers(tmp_path)


def test_read_only_store_path_is_a_clear_error(client, tmp_path, monkeypatch):
    # root ignores chmod, so the write check is what is simulated
    monkeypatch.setattr(store.os, "access", lambda *a, **k: False)
    target = tmp_path / "ro" / "cov.zarr"
    with pytest.raises(PermissionError, match="read-only.*GENOMARRAY_OUTPUT"):
        ga.read_bam(ga.example_path("sample.bam"), store_path=target, progress=False)
    assert not target.exists()
    assert not _leftovers(target.parent)


def test_worker_dying_mid_build_is_retried_and_the_store_is_complete(tmp_path):
    """A worker process that dies while building a chunk: the scheduler reruns the task on
    a (restarted) worker; the finished store is complete and equals the expected values,
    and nothing partial is left."""
    marker = tmp_path / "died-once"

    def reader(chrom, start, end):
        if chrom == "b" and start == 3000 and not marker.exists():
            marker.write_text("x")
            os._exit(1)  # the worker process dies mid-build, without cleanup
        return np.full(end - start, 2 if chrom == "b" else 1, np.uint8)

    arr = graph.genome_array(reader, ["a", "b"], [5000, 5000], np.uint8, fill=4, chunk=1000)
    genome = model.sequence_genome(arr, ["a", "b"], [5000, 5000])
    target = tmp_path / "out" / "g.zarr"
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
    ) as cluster:
        with distributed.Client(cluster):
            ga.write_zarr(genome, target, progress=False)
    assert marker.exists()  # a worker really died
    values = ga.open_zarr(target).values
    assert values[0].tolist() == [1] * 5000 and values[1].tolist() == [2] * 5000
    assert not _leftovers(target.parent)


def test_write_shuffled_spill_on_the_cluster(client, tmp_path):
    """A persisted view of many chunks (futures on the workers) is spilled and gathered on
    the cluster, equal to the lazy permutation; nothing but the result is left."""
    import dask.array as da
    import pandas as pd

    from genomarray.transforms.split import shuffle
    from genomarray.views.shuffled import write_shuffled

    n = 300
    regions = pd.DataFrame(
        {"chrom": "chr1", "start": np.arange(n) * 10, "end": np.arange(n) * 10 + 10}
    )
    values = np.random.default_rng(5).random((n, 10)).astype(np.float32)
    view = model.region_view(values, regions, resolution=1)
    lazy = view.copy(data=da.from_array(values, chunks=(20, 10)).persist())  # 15 chunks
    got = _on_cluster(
        client,
        lambda: write_shuffled(lazy, tmp_path / "s.zarr", 3, chunk_regions=32, progress=False),
    )
    want = shuffle(view, 3)
    np.testing.assert_array_equal(got.values, want.values)
    np.testing.assert_array_equal(got["region_index"].values, want["region_index"].values)
    assert sorted(os.listdir(tmp_path)) == ["s.zarr"]


def test_view_values_run_on_the_client(client, tmp_path, monkeypatch):
    """``.values`` of a lazy view (a :class:`QuickValuesArray`) runs on the running
    client, as any dask compute does: the quick path is only for when none can exist."""
    monkeypatch.setenv("GENOMARRAY_OUTPUT", str(tmp_path))
    genome = ga.read_fasta(ga.example_path("genome.fa"), progress=False)
    view = genome.janggu.view(ga.tile(ga.example_path("roi.bed"), binsize=200))
    assert type(view.data).__name__ == "QuickValuesArray"
    got = _on_cluster(client, lambda: view.values)
    np.testing.assert_array_equal(got, view.data.compute(scheduler="sync"))
