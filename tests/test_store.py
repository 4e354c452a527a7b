"""zarr store: round trip, empty chunks, atomic writes, the content-hash cache."""

import os
import shutil
import time
import tracemalloc

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import genomarray as ga
from genomarray import atomic, model
from genomarray.genome import cache, compute, graph, store
from genomarray.genome.manifest import write_manifest


def small_genome():
    codes = np.full((2, 10), 4, np.uint8)
    codes[0, :10] = [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]
    codes[1, :4] = [3, 3, 3, 3]
    return model.sequence_genome(codes, ["chrA", "chrB"], [10, 4])


def test_roundtrip_keeps_values_coords_attrs(tmp_path):
    g = small_genome()
    back = ga.open_zarr(ga.write_zarr(g, tmp_path / "g.zarr", progress=False))
    assert back.chunks is not None  # lazy
    np.testing.assert_array_equal(back.values, g.values)
    assert list(back["chrom"].values) == ["chrA", "chrB"]
    assert back["chrom_length"].values.tolist() == [10, 4]
    assert back.attrs["alphabet"] == "dna" and back.attrs["source"].startswith("genomarray-")
    assert "pos" not in back.coords
    assert model.validate(back) == model.SEQUENCE_GENOME


def test_fill_only_chunks_are_not_written(tmp_path):
    codes = da.full((2, 40), 4, dtype=np.uint8, chunks=(1, 10))
    codes[0, :10] = 0  # only chunk (0, 0) holds data
    g = model.sequence_genome(codes, ["a", "b"], [40, 5])
    path = ga.write_zarr(g, tmp_path / "g.zarr", progress=False)
    chunk_files = [f for _, _, files in os.walk(path / "sequence" / "c") for f in files]
    assert len(chunk_files) == 1
    np.testing.assert_array_equal(ga.open_zarr(path).values, codes.compute())


def test_failed_build_leaves_nothing(tmp_path):
    def reader(chrom, start, end):
        if start >= 20:
            raise RuntimeError("disk on fire")
        return np.zeros(end - start, np.uint8)

    codes = graph.genome_array(reader, ["a"], [40], np.uint8, chunk=10)
    g = model.sequence_genome(codes, ["a"], [40])
    with pytest.raises(RuntimeError, match="disk on fire"):
        ga.write_zarr(g, tmp_path / "g.zarr", progress=False)
    assert os.listdir(tmp_path) == []
    time.sleep(0.3)  # no task still running writes into a removed folder afterwards
    assert os.listdir(tmp_path) == []


def test_existing_store_needs_overwrite(tmp_path):
    path = ga.write_zarr(small_genome(), tmp_path / "g.zarr", progress=False)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        ga.write_zarr(small_genome(), path, progress=False)
    g2 = small_genome().copy(data=np.zeros((2, 10), np.uint8))
    ga.write_zarr(g2, path, overwrite=True, progress=False)
    assert int(ga.open_zarr(path).sum()) == 0
    assert sorted(os.listdir(tmp_path)) == ["g.zarr"]


def test_cache_builds_once_and_keys_on_content(tmp_path):
    fa = tmp_path / "g.fa"
    fa.write_text(">c1\nACGTACGTAC\n")
    a = ga.read_fasta(fa, progress=False)
    first = a.encoding["store"]
    b = ga.read_fasta(fa, progress=False)
    assert b.encoding["store"] == first
    mtime = os.path.getmtime(first)
    os.utime(str(fa) + ".fai", (1, 1))  # make the index visibly older than the rewrite
    fa.write_text(">c1\nTTTTACGTAC\n")
    c = ga.read_fasta(fa, progress=False)
    assert c.encoding["store"] != first
    assert os.path.getmtime(first) == mtime
    assert ga.encode.decode(c.values[0]) == "TTTTACGTAC"


def test_store_path_holding_another_build_is_an_error(tmp_path):
    fa = tmp_path / "g.fa"
    fa.write_text(">c1\nACGT\n")
    ga.read_fasta(fa, store_path=tmp_path / "s.zarr", progress=False)
    fa.write_text(">c1\nTTTT\n")
    os.remove(str(fa) + ".fai")
    with pytest.raises(FileExistsError, match="another build"):
        ga.read_fasta(fa, store_path=tmp_path / "s.zarr", progress=False)


def test_concurrent_builds_of_one_key_keep_one_store(tmp_path):
    target = tmp_path / "k.zarr"
    with atomic.atomic_dir(target) as tmp1:
        ga.write_zarr(small_genome(), tmp1 / "inner.zarr", progress=False)
        # a second build finishes first
        with atomic.atomic_dir(target) as tmp2:
            (tmp2 / "winner").write_text("2")
    assert os.listdir(target) == ["winner"]
    assert os.listdir(tmp_path) == ["k.zarr"]


def test_opening_human_sized_store_is_cheap(tmp_path):
    lengths = [248_956_422 - 9_000_000 * i for i in range(25)]
    codes = da.full((25, max(lengths)), 4, dtype=np.uint8, chunks=(1, 1 << 20))
    g = model.sequence_genome(codes, [f"chr{i}" for i in range(25)], lengths)
    g.to_dataset(name="sequence").assign_attrs(genomarray_var="sequence").to_zarr(
        tmp_path / "h.zarr", compute=False, zarr_format=3, consolidated=False
    )
    write_manifest(tmp_path / "h.zarr")  # written without write_zarr: adopt it
    tracemalloc.start()
    arr = ga.open_zarr(tmp_path / "h.zarr")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert arr.sizes["pos"] == 248_956_422 and "pos" not in arr.coords
    assert peak < 50e6, f"opening took {peak / 1e6:.0f} MB"
    assert isinstance(arr.data, da.Array)


def test_open_zarr_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="zarr store not found"):
        ga.open_zarr(tmp_path / "missing.zarr")
    xr.Dataset({"x": ("a", np.zeros(3))}).to_zarr(
        tmp_path / "other.zarr", zarr_format=3, consolidated=False
    )
    with pytest.raises(ValueError, match="not a genomarray store"):
        ga.open_zarr(tmp_path / "other.zarr")
    shutil.rmtree(tmp_path / "other.zarr")


def test_two_processes_building_one_key(tmp_path):
    """Two processes build the same cache key at once: both succeed, one store remains."""
    import subprocess
    import sys

    code = (
        "import genomarray as ga, sys; "
        "t = ga.read_bam(ga.example_path('sample.bam'), progress=False); "
        "print(t.encoding['store'], int(t.sum()))"
    )
    env = {**os.environ, "GENOMARRAY_OUTPUT": str(tmp_path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    (store_a, sum_a), (store_b, sum_b) = (o[0].split() for o in outs)
    assert store_a == store_b and sum_a == sum_b and int(sum_a) > 0
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [os.path.basename(store_a)]
    np.testing.assert_array_equal(ga.open_zarr(store_a).sum().values, int(sum_a))


def test_lazy_view_with_uneven_chunks_writes_to_zarr(tmp_path):
    dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    roi = ga.tile(ga.read_regions(ga.example_path("roi.bed")), binsize=100)
    v = dna.janggu.view(roi)
    n = v.sizes["region"]
    v = v.chunk({"region": (7, 100, n - 107)})  # uneven, as view batches can be
    back = v.janggu.to_zarr(tmp_path / "v.zarr", progress=False)
    np.testing.assert_array_equal(back.values, v.values)
    assert list(back["name"].values) == list(v["name"].values)


def test_fingerprint_is_remembered_and_follows_changes(tmp_path, isolated_output):
    f = tmp_path / "x.txt"
    f.write_text("one")
    first = cache.file_fingerprint(f)
    memo = list((isolated_output / "fingerprints").iterdir())
    assert len(memo) == 1 and memo[0].read_text() == first
    memo[0].write_text("f" * 64)  # a remembered digest is used without re-reading
    assert cache.file_fingerprint(f) == "f" * 64
    f.write_text("two!")  # new size and mtime: hashed again
    import hashlib

    assert cache.file_fingerprint(f) == hashlib.sha256(b"two!").hexdigest()


def test_reopened_view_gives_its_regions(tmp_path):
    """Text labels come back from zarr as plain str objects (not numpy StringDType)."""
    dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    roi = ga.tile(ga.read_regions(ga.example_path("roi.bed")), binsize=200)
    back = dna.janggu.view(roi).janggu.to_zarr(tmp_path / "v.zarr", progress=False)
    regions = back.janggu.regions()
    assert regions["chrom"].tolist() == roi["chrom"].tolist()
    assert regions["strand"].tolist() == roi["strand"].tolist()
    assert back["chrom"].dtype == object


def test_killed_build_leftovers_are_swept(tmp_path):
    """A SIGKILLed build leaves <path>.partial-*; the next build of that path removes it once
    the dead build's flock is free, and never touches a running build or a user's folder."""
    import subprocess
    import sys

    from genomarray.atomic import STALE_AFTER_S, atomic_dir

    target = tmp_path / "x.zarr"
    script = (
        f"import os, time\nfrom genomarray.genome.store import atomic_dir\n"
        f"with atomic_dir({str(target)!r}) as tmp:\n"
        f"    open(os.path.join(tmp, 'chunk'), 'w').close()\n"
        f"    print('ready', flush=True)\n    time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    live = [p for p in tmp_path.iterdir() if ".partial-" in p.name and p.is_dir()]
    assert len(live) == 1
    lock = live[0].with_name(live[0].name + ".lock")
    assert lock.exists()
    # while the owner runs (whatever its pid namespace or host: only the lock counts),
    # another build of the same path leaves its folder alone
    with atomic_dir(target, overwrite=True) as tmp:
        assert live[0].exists()
        (tmp / "done").touch()
    assert sorted(os.listdir(target)) == ["done"]  # the lock is beside, not in, the store
    proc.kill()
    proc.wait()
    assert live[0].exists()  # SIGKILL: no cleanup ran
    unlocked = tmp_path / "x.zarr.partial-0123abcd"  # an older version's folder: no lock
    unlocked.mkdir()
    mine = tmp_path / "x.zarr.old-backup"  # not a name genomarray makes
    mine.mkdir()
    with atomic_dir(target, overwrite=True) as tmp:
        (tmp / "done").touch()
    assert not live[0].exists() and not lock.exists()
    assert unlocked.exists() and mine.exists()
    old = time.time() - STALE_AFTER_S - 60
    for folder in (unlocked, mine):
        os.utime(folder, (old, old))
    with atomic_dir(target, overwrite=True) as tmp:
        (tmp / "done").touch()
    assert not unlocked.exists() and mine.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.zarr", "x.zarr.old-backup"]


def test_the_build_lock_survives_writing_the_store(tmp_path, monkeypatch):
    """zarr's mode='w' empties the temporary folder: the lock is beside it, held throughout."""
    import fcntl

    real = compute.write_dataset
    seen = []

    def spy(ds, target, progress, what, **kwargs):
        real(ds, target, progress, what, **kwargs)
        (tmp,) = [p for p in tmp_path.iterdir() if p.is_dir() and ".partial-" in p.name]
        fd = os.open(tmp.with_name(tmp.name + ".lock"), os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        seen.append(tmp)

    monkeypatch.setattr(store, "write_dataset", spy)
    g = model.sequence_genome(np.zeros((1, 8), np.uint8), ["chr1"], [8])
    store.write_zarr(g, tmp_path / "g.zarr", progress=False)
    assert seen and sorted(os.listdir(tmp_path)) == ["g.zarr"]


def test_sweeping_never_removes_a_running_build(tmp_path):
    """Stress: another process sweeps the target's leftovers in a tight loop while this one
    builds and exports into it over and over; no build or export ever loses its files."""
    import subprocess
    import sys

    from genomarray.atomic import atomic_dir
    from genomarray.export.tracks import to_bed

    target, bed = tmp_path / "x.zarr", tmp_path / "x.bed"
    script = (
        "import time, pathlib\nfrom genomarray.atomic import sweep_partial_files, sweep_stale\n"
        f"t, b = pathlib.Path({str(target)!r}), pathlib.Path({str(bed)!r})\n"
        "print('go', flush=True)\nend = time.time() + 4\n"
        "while time.time() < end:\n    sweep_stale(t)\n    sweep_partial_files(b)\n"
    )
    sweeper = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert sweeper.stdout.readline().strip() == "go"
    regions = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [4]})
    view = model.region_view(np.ones((1, 4), np.float32), regions, resolution=1)
    builds = 0
    while sweeper.poll() is None:
        with atomic_dir(target, overwrite=True) as tmp:
            (tmp / "chunk").write_text(str(builds))
        to_bed(view, bed, overwrite=True)
        builds += 1
    assert sweeper.returncode == 0 and builds > 20
    assert (target / "chunk").read_text() == str(builds - 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.bed", "x.zarr"]


def test_read_only_targets_are_a_clear_error(tmp_path, monkeypatch):
    """A read-only filesystem (EROFS, which os.access does not see for root) refused by
    builds, scratch folders and exports with the folder and $GENOMARRAY_OUTPUT named."""
    import errno

    from genomarray.export.tracks import to_bed

    def read_only(path):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(atomic, "hold_lock", read_only)
    regions = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [4]})
    view = model.region_view(np.ones((1, 4), np.float32), regions, resolution=1)
    for attempt in (
        lambda: to_bed(view, tmp_path / "x.bed"),
        lambda: atomic.atomic_scratch(tmp_path / "y.zarr").__enter__(),
        lambda: atomic.atomic_dir(tmp_path / "z.zarr").__enter__(),
    ):
        with pytest.raises(PermissionError, match="GENOMARRAY_OUTPUT"):
            attempt()
    assert os.listdir(tmp_path) == []


def _naive_all_fill(data: np.ndarray, fill) -> bool:
    """Every element equal to the fill value bit for bit, by a loop over the elements."""
    want = np.asarray(fill).astype(data.dtype).tobytes()
    size = data.dtype.itemsize
    raw = np.ascontiguousarray(data).tobytes()
    return all(raw[i : i + size] == want for i in range(0, len(raw), size))


_FILL_DTYPES = ["uint8", "int16", "int32", "uint64", "float16", "float32", "float64", "bool"]
_FILL_DTYPES += [">i4", ">f8"]  # big-endian: bit patterns compared as stored


@settings(max_examples=150, deadline=None)
@given(
    dtype=st.sampled_from(_FILL_DTYPES),
    fill=st.sampled_from([0, 1, 4, -1]),
    n=st.integers(0, 3 * compute.FILL_CHECK_BLOCK // 2),
    changes=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(-3, 3)), max_size=3),
    negative_zero=st.booleans(),
)
def test_quick_fill_check_matches_a_naive_loop(dtype, fill, n, changes, negative_zero):
    dt = np.dtype(dtype)
    if dt.kind in "ub" and fill < 0 or dt.kind == "b" and fill > 1:
        fill = 0
    data = np.full(n, fill, dt)
    for where, value in changes if n else []:
        if dt.kind in "ub":
            value = abs(value) if dt.kind == "u" else bool(value)
        data[int(where * n)] = value
    if negative_zero and dt.kind == "f" and n and fill == 0:
        data[n // 2] = -0.0  # equal in value, not the fill value's bit pattern
    want = _naive_all_fill(data, fill)
    for given_fill in (np.asarray(fill, dt)[()], fill):  # as zarr passes it; a Python int
        got = compute.all_fill(data, given_fill)
        assert got is not None and got is want
    if n % 2 == 0 and n:  # 2-D, as chunks of a (chrom, pos) array are
        assert compute.all_fill(data.reshape(2, -1), fill) is want


def test_quick_fill_check_declines_what_it_cannot_decide():
    assert compute.all_fill(np.zeros(4, "U1"), "") is None  # text
    assert compute.all_fill(np.zeros(4, np.float32), np.nan) is None  # NaN: zarr's own
    assert compute.all_fill(np.zeros(4, np.uint8), 0.5) is None  # not a uint8
    assert compute.all_fill(np.zeros((4, 4), np.uint8)[:, ::2], 0) is None  # strided
    assert compute.all_fill(np.broadcast_to(np.uint8(4), (3, 5)), 4) is True
    assert compute.all_fill(np.full(4, 2.0**53), 2**53 + 1) is None  # rounds in float64
    assert compute.all_fill(np.full(4, 255, np.uint8), -1) is None  # wraps in uint8
    assert compute.all_fill(np.zeros(4, np.longdouble), 0) is None  # no uint of its size


def test_chunks_of_a_nonzero_fill_value_are_not_written(tmp_path):
    """Sequence codes fill with N (4): a chunk of only N is skipped by the quick check,
    a chunk whose data starts like the fill value and differs later is written."""
    codes = np.full((1, 3 * 1000), 4, np.uint8)
    codes[0, 1999] = 2  # chunk 1: N up to its last base
    g = model.sequence_genome(da.from_array(codes, chunks=(1, 1000)), ["a"], [3000])
    path = ga.write_zarr(g, tmp_path / "g.zarr", progress=False)
    chunk_files = sorted(f for _, _, files in os.walk(path / "sequence" / "c") for f in files)
    assert chunk_files == ["1"]
    np.testing.assert_array_equal(ga.open_zarr(path).values, codes)


def test_fingerprint_is_the_sha256_of_the_content(tmp_path, isolated_output):
    """Streamed through one reused buffer, in blocks that do not divide the file."""
    import hashlib

    path = tmp_path / "data.bin"
    content = np.random.default_rng(0).integers(0, 256, 100_003, dtype=np.uint8).tobytes()
    path.write_bytes(content)
    want = hashlib.sha256(content).hexdigest()
    assert cache.file_fingerprint(path, block=4096) == want
    (tmp_path / "empty").write_bytes(b"")
    assert cache.file_fingerprint(tmp_path / "empty") == hashlib.sha256(b"").hexdigest()


def _slow(x, seconds):
    time.sleep(seconds)
    return x


def test_progress_bar_draws_as_dask_does_and_stops_with_the_compute():
    import io

    import dask

    tasks = [dask.delayed(_slow)(i, 0.03) for i in range(4)]
    out = io.StringIO()
    with compute.progress_bar(out=out, dt=0.005):
        got = dask.compute(*tasks, scheduler="sync")
    assert got == (0, 1, 2, 3)
    frames = out.getvalue().split("\r")[1:]
    assert frames[-1].startswith("[" + "#" * 40 + "] | 100% Completed | ")
    assert frames[-1].endswith("\n")
    partial = {int(f.split(" | ")[1].split("%")[0]) for f in frames[:-1]}
    assert partial and min(partial) < 100  # drawn while running, not only at the end
    # the same bar as dask's ProgressBar: a full bar, percent, elapsed
    from dask.diagnostics import ProgressBar

    theirs = io.StringIO()
    with ProgressBar(out=theirs):
        dask.compute(*tasks, scheduler="sync")
    assert theirs.getvalue().split("\r")[-1].split(" | ")[:2] == frames[-1].split(" | ")[:2]

    quiet = io.StringIO()  # a compute shorter than ``minimum``: nothing drawn
    with compute.progress_bar(minimum=60.0, out=quiet):
        dask.compute(*tasks[:1], scheduler="sync")
    assert quiet.getvalue() == ""

    failed = io.StringIO()  # an error: the bar stops where it was, the error propagates
    with pytest.raises(ZeroDivisionError), compute.progress_bar(out=failed, dt=0.005):
        dask.compute(dask.delayed(_slow)(1, 0.02) / 0, scheduler="sync")
    assert "100%" not in failed.getvalue() and failed.getvalue().endswith("\n")


def test_open_equals_xarrays_own_chunked_open(tmp_path):
    """``open_zarr`` makes the dask arrays itself (no chunk-manager lookup): the same
    values, coordinates, attrs, encoding and dask chunks as ``xr.open_zarr(chunks={})``,
    for a genome of codes, a float track with NaN and a view of regions."""
    rng = np.random.default_rng(0)
    track = model.coverage_track(
        rng.random((2, 50, 1, 2)).astype(np.float32),
        ["a", "b"],
        [50, 30],
        [".", "."][:1],
        ["x", "y"],
    )
    track[0, 3] = np.nan
    roi = pd.DataFrame({"chrom": ["chrA", "chrB", "chrA"], "start": [0, 0, 2], "end": [4, 4, 6]})
    views = {
        "genome": (small_genome(), {"pos": 4}),
        "track": (track, {"pos": 16}),
        "view": (ga.view(small_genome(), roi), None),
    }
    for name, (arr, chunks) in views.items():
        path = store.write_zarr(arr, tmp_path / f"{name}.zarr", chunks=chunks, progress=False)
        ours = store.open_zarr(path)
        ds = xr.open_zarr(path, chunks={}, zarr_format=3)
        theirs = ds[ds.attrs[model.STORE_VAR]]
        assert isinstance(ours.data, da.Array), name
        assert ours.data.chunks == theirs.data.chunks, name
        assert ours.dims == theirs.dims and ours.dtype == theirs.dtype, name
        np.testing.assert_array_equal(ours.values, theirs.values)
        assert set(ours.coords) == set(theirs.coords), name
        for k in theirs.coords:
            assert ours[k].values.tolist() == theirs[k].values.tolist(), (name, k)
        for k in ("chunks", "dtype", "preferred_chunks"):
            assert ours.encoding.get(k) == theirs.encoding.get(k), (name, k)
        assert {k: v for k, v in ours.attrs.items() if k != "source"} == {
            k: v for k, v in theirs.attrs.items() if k != "source"
        }


def test_opening_a_store_scans_no_chunk_managers(tmp_path):
    """A fresh process opens and views a store without xarray's look for chunk managers
    among every installed package's entry points (20-30 ms)."""
    import subprocess
    import sys

    path = store.write_zarr(small_genome(), tmp_path / "g.zarr", progress=False)
    code = (
        "import genomarray as ga, pandas as pd\n"
        "from xarray.namedarray.parallelcompat import list_chunkmanagers\n"
        f"g = ga.open_zarr({str(path)!r})\n"
        "roi = pd.DataFrame({'chrom': ['chrA'], 'start': [1], 'end': [5]})\n"
        "v = g.janggu.view(roi).janggu.onehot(order=1)\n"
        "print(ga.load(v).values.sum(), list_chunkmanagers.cache_info().currsize)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["4.0", "0"]


def test_progress_bar_without_stdout(monkeypatch):
    """A process without stdout (fd 1 closed, pythonw: ``sys.stdout`` is None) computes
    under the bar as dask's own bar lets it: nothing drawn, no error."""
    import dask

    monkeypatch.setattr("sys.stdout", None)
    with compute.progress_bar(dt=0.005):
        got = dask.compute(*[dask.delayed(_slow)(i, 0.02) for i in range(3)], scheduler="sync")
    assert got == (0, 1, 2)
