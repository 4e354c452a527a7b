"""Self-checking stores (issue 13 item 4): every damaged store is an error, never N / zeros.

Each test builds its damaged store itself: a deleted chunk file the manifest lists, a
truncated chunk, a chunk with flipped bytes of the same size, a missing manifest, an
unexpected chunk. Cache stores are rebuilt with a warning (values equal to a fresh
build); user stores raise :class:`StoreError` naming the store, the chunk and the remedy.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import genomarray as ga
from genomarray import model
from genomarray.cli import main
from genomarray.errors import StoreError
from genomarray.genome import manifest, store
from genomarray.paths import cache_dir

CHUNK = 1000
WRITTEN = "sequence/c/0/1"  # a chunk with bases
EMPTY = "sequence/c/0/0"  # all N: zarr does not write it


def _genome(seed: int = 0) -> xr.DataArray:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, (2, 4 * CHUNK), dtype=np.uint8)
    codes[0, :CHUNK] = 4  # one chunk of N only
    return model.sequence_genome(codes, ["chr1", "chr2"], [4 * CHUNK, 4 * CHUNK])


def _write(path, seed: int = 0):
    return ga.write_zarr(_genome(seed), path, chunks={model.POS: CHUNK}, progress=False)


def _delete(p, key=WRITTEN):
    os.remove(os.path.join(p, key))


def _truncate(p, key=WRITTEN):
    os.truncate(os.path.join(p, key), os.path.getsize(os.path.join(p, key)) // 2)


def _flip(p, key=WRITTEN):
    """Flip bytes in the compressed payload, keeping the file's size."""
    f = Path(p) / key
    raw = bytearray(f.read_bytes())
    for i in range(len(raw) // 2, len(raw) // 2 + 4):
        raw[i] ^= 0xFF
    f.write_bytes(bytes(raw))
    assert os.path.getsize(f) == len(raw)


def _extra(p, key=WRITTEN):
    """Put a chunk where zarr wrote none (the all-N chunk)."""
    shutil.copy(os.path.join(p, key), os.path.join(p, EMPTY))


def _no_manifest(p, key=None):
    os.remove(os.path.join(p, manifest.MANIFEST_FILE))


def _bad_manifest(p, key=None):
    """A manifest cut short (e.g. by a copy that was interrupted)."""
    f = Path(p) / manifest.MANIFEST_FILE
    f.write_text(f.read_text()[:40])


def _stray(p, key=None):
    """A chunk file outside the grid (e.g. left from another layout)."""
    shutil.copy(os.path.join(p, WRITTEN), os.path.join(p, "sequence/c/1/9"))


# -- the manifest ------------------------------------------------------------------------


def test_manifest_lists_written_chunks_and_the_ones_zarr_skipped(tmp_path):
    p = _write(tmp_path / "g.zarr")
    man = manifest.read_manifest(p)
    on_disk = {
        os.path.relpath(os.path.join(d, f), p).replace(os.sep, "/")
        for d, _, files in os.walk(p)
        for f in files
    } - {manifest.MANIFEST_FILE}
    assert set(man["files"]) == on_disk
    for rel, (size, crc) in man["files"].items():
        raw = (Path(p) / rel).read_bytes()
        assert (size, crc) == (len(raw), zlib.crc32(raw))
    # chunk 0 of chr1 is all N: not written, recorded as absent by design
    assert EMPTY in man["absent"] and not os.path.exists(os.path.join(p, EMPTY))
    grid = {f"sequence/c/{c}/{i}" for c in range(2) for i in range(4)}
    written = {k for k in man["files"] if k.startswith("sequence/c/")}
    assert written | {k for k in man["absent"] if k.startswith("sequence/")} == grid
    assert written == grid - {EMPTY}
    assert ga.open_zarr(p, verify=True).values.tolist() == _genome().values.tolist()


def test_a_chunk_lost_after_open_is_not_read_as_empty_genome(tmp_path):
    p = _write(tmp_path / "g.zarr")
    arr = ga.open_zarr(p)
    _delete(p)
    # what plain zarr makes of it: the bases of chunk 1 silently become N
    with warnings.catch_warnings():  # zarr: the manifest file is not a zarr node
        warnings.simplefilter("ignore")
        plain = xr.open_zarr(p, consolidated=False, zarr_format=3)["sequence"].values
    assert (plain[0, CHUNK : 2 * CHUNK] == 4).all()
    with pytest.raises(StoreError, match=r"chunk c/0/1: is missing \(the manifest lists it"):
        _ = arr.values


# -- user stores: StoreError naming the store, the chunk and the remedy -----------------

AT_OPEN = {
    "deleted chunk": (_delete, r"array 'sequence', chunk c/0/1: is missing"),
    "unexpected chunk": (_extra, r"chunk c/0/0: is present, but was not written"),
    "chunk outside the grid": (_stray, r"chunk c/1/9: is not in the manifest"),
    "no manifest": (_no_manifest, r"has no manifest .*older genomarray.*write_manifest"),
    "unreadable manifest": (_bad_manifest, r"manifest genomarray_manifest.json is unreadable"),
}


@pytest.mark.parametrize("case", list(AT_OPEN))
def test_user_store_damage_found_at_open(tmp_path, case):
    damage, message = AT_OPEN[case]
    p = _write(tmp_path / "g.zarr")
    damage(p)
    with pytest.raises(StoreError, match=message) as err:
        ga.open_zarr(p)
    text = str(err.value)
    assert text.startswith(str(p)) and "write it again" in text
    assert "\n" not in text


AT_READ = {
    "truncated chunk": (_truncate, r"chunk c/0/1: is \d+ bytes, the manifest says \d+"),
    "flipped bytes": (_flip, r"chunk c/0/1: has other bytes than were written"),
}


@pytest.mark.parametrize("case", list(AT_READ))
def test_user_store_damage_found_at_read_and_by_verify(tmp_path, case):
    damage, message = AT_READ[case]
    p = _write(tmp_path / "g.zarr")
    damage(p)
    arr = ga.open_zarr(p)  # names only: sizes are compared as chunks are read
    np.testing.assert_array_equal(arr.isel(pos=slice(2 * CHUNK, None)), _genome()[:, 2 * CHUNK :])
    with pytest.raises(StoreError, match=message) as err:
        _ = arr.values
    assert str(err.value).startswith(str(p)) and "array 'sequence'" in str(err.value)
    assert (err.value.array, err.value.chunk) == ("sequence", "c/0/1")
    with pytest.raises(StoreError, match=message):
        ga.open_zarr(p, verify=True)


def test_verify_decodes_every_chunk(tmp_path):
    """Bytes damaged before the manifest was recorded: only decoding finds them."""
    p = _write(tmp_path / "g.zarr")
    f = Path(p) / WRITTEN
    raw = bytearray(f.read_bytes())
    raw[4] ^= 0xFF  # blosc header: the stream no longer decodes
    f.write_bytes(bytes(raw))
    manifest.write_manifest(p)  # adopt the damaged store: sizes and checksums match
    assert manifest.verify(p, manifest.read_manifest(p)) == []
    with pytest.raises(StoreError, match=r"chunk c/0/1: does not decode \(RuntimeError"):
        ga.open_zarr(p, verify=True)


def test_store_pickles_small_and_checks_in_another_process(tmp_path):
    p = _write(tmp_path / "g.zarr")
    arr = ga.open_zarr(p)
    _flip(p)
    graph = pickle.dumps(arr.data)
    store._MANIFESTS.clear()  # as in a fresh worker process: the manifest is read from disk
    with pytest.raises(StoreError, match="has other bytes than were written"):
        pickle.loads(graph).compute(scheduler="sync")
    s = store.manifest_store(p, manifest.read_manifest(p)["digest"])
    assert len(pickle.dumps(s)) < 500


def test_a_store_rewritten_since_it_was_opened(tmp_path):
    p = _write(tmp_path / "g.zarr")
    arr = ga.open_zarr(p)
    _write(p.with_name("h.zarr"), seed=1)
    os.rename(p, p.with_name("old.zarr"))
    os.rename(p.with_name("h.zarr"), p)
    store._MANIFESTS.clear()
    with pytest.raises(
        StoreError, match="replaced or rewritten since it was opened.*open it again"
    ):
        _ = arr.values
    np.testing.assert_array_equal(ga.open_zarr(p).values, _genome(1).values)


def test_reading_through_dask_threads_raises_store_error(tmp_path):
    p = _write(tmp_path / "g.zarr")
    _truncate(p)
    arr = ga.open_zarr(p)
    with pytest.raises(StoreError, match="chunk c/0/1"):
        arr.data.compute(scheduler="threads", num_workers=2)
    with pytest.raises(StoreError, match="chunk c/0/1"):
        arr.sum().compute(scheduler="threads")


def test_reading_on_a_distributed_cluster_raises_store_error(tmp_path):
    distributed = pytest.importorskip("distributed")
    p = _write(tmp_path / "g.zarr")
    _flip(p)
    arr = ga.open_zarr(p)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        with distributed.Client(cluster) as client:
            with pytest.raises(StoreError, match="chunk c/0/1: has other bytes") as err:
                client.compute(arr.data).result()
            assert err.value.chunk == "c/0/1" and "write it again" in str(err.value)
            # a store written on the cluster gets its manifest too
            q = _write(tmp_path / "cluster.zarr", seed=2)
            assert manifest.read_manifest(q) is not None
            np.testing.assert_array_equal(ga.open_zarr(q, verify=True).values, _genome(2).values)


def test_shuffled_stores_get_manifests(tmp_path):
    from genomarray.views.shuffled import write_shuffled

    dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    tiles = ga.tile(ga.example_path("roi.bed"), binsize=200)
    views = {"dna": dna.janggu.view(tiles), "onehot": dna.janggu.view(tiles).janggu.onehot()}
    write_shuffled(views, tmp_path / "s", random_state=1, progress=False)
    for key in views:
        inner = tmp_path / "s" / f"{key}.zarr"
        man = manifest.read_manifest(inner)
        assert man is not None and manifest.verify(inner, man) == []


# -- cache stores: rebuilt with a warning -----------------------------------------------


def _fasta(**kw):
    return ga.read_fasta(ga.example_path("genome.fa"), chunk=4096, progress=False, **kw)


def _cache_store(arr) -> str:
    p = arr.encoding["store"]
    assert os.path.dirname(os.path.abspath(p)) == str(cache_dir().resolve())
    return p


def _some_chunk(p) -> str:
    return sorted(k for k in manifest.read_manifest(p)["files"] if "/c/" in k)[-1]


@pytest.mark.parametrize("case", ["deleted chunk", "no manifest"])
def test_cache_store_damaged_at_open_is_rebuilt_with_a_warning(case):
    fresh = _fasta(cache=False).values
    p = _cache_store(_fasta())
    key = _some_chunk(p)
    {"deleted chunk": _delete, "no manifest": _no_manifest}[case](p, key)
    with pytest.warns(UserWarning, match=f"cache store {p} is damaged.*rebuilding it"):
        again = _fasta()
    assert again.encoding["store"] == p
    np.testing.assert_array_equal(again.values, fresh)
    assert manifest.verify(p, manifest.read_manifest(p)) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rebuilt store is sound: no warning
        _fasta()


@pytest.mark.parametrize("case", ["truncated chunk", "flipped bytes"])
def test_cache_store_damaged_at_read_is_rebuilt_by_the_next_read(case):
    fresh = _fasta(cache=False).values
    p = _cache_store(_fasta())
    key = _some_chunk(p)
    {"truncated chunk": _truncate, "flipped bytes": _flip}[case](p, key)
    arr = _fasta()
    with pytest.raises(StoreError, match="cache store: the next read_\\* call rebuilds it") as err:
        _ = arr.values
    assert err.value.chunk == key.partition("/")[2]
    with pytest.warns(UserWarning, match="found damaged when read"):
        again = _fasta()
    np.testing.assert_array_equal(again.values, fresh)


def test_bam_cache_store_is_rebuilt():
    bam = ga.example_path("sample.bam")
    fresh = ga.read_bam(bam, storage="lazy").values
    p = _cache_store(ga.read_bam(bam, progress=False))
    man = manifest.read_manifest(p)
    written = [k for k in man["files"] if k.startswith(f"{ga.open_zarr(p).name}/c/")]
    assert written, "the example BAM wrote chunks"
    _delete(p, written[0])
    array, _, chunk = written[0].partition("/")
    hit = f"cache store {p} is damaged \\(array '{array}', chunk {chunk}: is missing"
    with pytest.warns(UserWarning, match=hit):
        again = ga.read_bam(bam, progress=False)
    np.testing.assert_array_equal(again.values, fresh)
    np.testing.assert_array_equal(ga.open_zarr(p, verify=True).values, fresh)  # 4-d slabs


def test_user_store_path_is_not_rebuilt(tmp_path):
    target = tmp_path / "genome.zarr"
    _fasta(store_path=target)
    _delete(target, _some_chunk(target))
    with pytest.raises(StoreError, match=f"{target}, array 'sequence', chunk .*: is missing"):
        _fasta(store_path=target)


# -- the command line ---------------------------------------------------------------------


def test_info_verify(tmp_path, capsys):
    p = _write(tmp_path / "g.zarr")
    assert main(["info", "--verify", str(p)]) == 0
    assert "store:" in capsys.readouterr().out
    _flip(p)
    assert main(["info", str(p)]) == 0  # the cheap check reads no chunk
    capsys.readouterr()
    assert main(["info", "--verify", str(p)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith(f"genomarray: error: {p}, array 'sequence'")
    assert "chunk c/0/1: has other bytes than were written" in err and "write it again" in err


def test_manifest_file_is_plain_json(tmp_path):
    p = _write(tmp_path / "g.zarr")
    data = json.loads((p / manifest.MANIFEST_FILE).read_text())
    assert data["format"] == manifest.FORMAT and data["checksum"] == "crc32"
