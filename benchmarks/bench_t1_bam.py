"""T1: BAM -> per-base coverage as numpy, cold and from the cached store, vs samtools.

Each row is the best of fresh processes (see ``common.py``), timing the whole call:

- reference ``samtools depth -a -o FILE reads.bam``: the subprocess writing to a tmpfs
  file (faster than reading its stdout through a pipe, measured here), the file read and
  its depth column parsed into numpy (vectorised); also ``samtools depth -a`` to
  /dev/null, the tool alone (a lower bound no Python user gets);
- peer pysam + numpy: ``fetch()`` every read, starts/ends per strand, ``bincount`` and
  ``cumsum``;
- genomarray cold: ``ga.read_bam(path, mode="coverage")`` with an empty output root, so
  it builds its zarr store, then ``.values``; also ``stranded=False`` (what samtools
  computes);
- genomarray from the cached store: the same call once the store exists.

Every result is checked equal to the truth coverage computed from the read positions.

Run alone: ``python benchmarks/bench_t1_bam.py [--quick]``
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time

import numpy as np
from common import PRELOAD, Result, Row, Zygote, best_of, best_of_all, fmt_s, yes_no
from data import CHROM, Data

MODULE = "bench_t1_bam"


def _check(got: np.ndarray, truth: np.ndarray) -> dict:
    ok = got.shape == truth.shape and np.array_equal(got, truth)
    return {"ok": bool(ok), "check": "equal to truth" if ok else f"differs ({got.shape})"}


def parse_depth(out: bytes) -> np.ndarray:
    """The last column of ``samtools depth`` output as int32, vectorised: the digits
    before each newline, back to the tab (one pass per digit)."""
    buf = np.frombuffer(out, np.uint8)
    nl = np.flatnonzero(buf == 10)
    val = buf[nl - 1].astype(np.int32) - 48
    active = np.ones(len(nl), bool)
    scale = 10
    for back in range(2, 12):
        digit = buf[nl - back]
        active &= digit != 9
        if not active.any():
            break
        val += np.where(active, digit.astype(np.int32) - 48, 0) * scale
        scale *= 10
    return val


def _scratch_file() -> str:
    """A temporary file on tmpfs when there is one (samtools writes it faster than a pipe)."""
    folder = "/dev/shm" if os.path.isdir("/dev/shm") else None
    fd, path = tempfile.mkstemp(prefix="ga-bench-depth-", suffix=".txt", dir=folder)
    os.close(fd)
    return path


def samtools_numpy(spec: dict) -> dict:
    data = Data.from_spec(spec)
    path = _scratch_file()
    try:
        t0 = time.perf_counter()
        subprocess.run(["samtools", "depth", "-a", "-o", path, data.bam], check=True)
        with open(path, "rb") as fh:
            depth = parse_depth(fh.read())
        seconds = time.perf_counter() - t0
    finally:
        os.remove(path)
    return {"seconds": seconds, **_check(depth, data.load("coverage").sum(axis=1, dtype=np.int32))}


def samtools_devnull(spec: dict) -> dict:
    data = Data.from_spec(spec)
    t0 = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        subprocess.run(["samtools", "depth", "-a", data.bam], stdout=devnull, check=True)
    seconds = time.perf_counter() - t0
    # the same command's output, parsed outside the timing, is what gets checked
    out = subprocess.run(["samtools", "depth", "-a", data.bam], capture_output=True).stdout
    return {
        "seconds": seconds,
        **_check(parse_depth(out), data.load("coverage").sum(axis=1, dtype=np.int32)),
    }


def pysam_numpy(spec: dict) -> dict:
    import pysam

    data = Data.from_spec(spec)
    n = data.sizes.length
    t0 = time.perf_counter()
    cov = np.zeros((n, 2), np.int32)
    with pysam.AlignmentFile(data.bam) as bam:
        starts: list[list[int]] = [[], []]
        ends: list[list[int]] = [[], []]
        for read in bam.fetch(CHROM):
            s = int(read.is_reverse)
            starts[s].append(read.reference_start)
            ends[s].append(read.reference_end)
    for s in (0, 1):
        diff = np.bincount(starts[s], minlength=n + 1) - np.bincount(ends[s], minlength=n + 1)
        cov[:, s] = np.cumsum(diff[:n])
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, **_check(cov, data.load("coverage"))}


def _genomarray(data: Data, stranded: bool) -> tuple[float, np.ndarray]:
    import genomarray as ga

    t0 = time.perf_counter()
    values = ga.read_bam(data.bam, mode="coverage", stranded=stranded).values
    seconds = time.perf_counter() - t0
    return seconds, values


def _truth(data: Data, stranded: bool) -> np.ndarray:
    truth = data.load("coverage")
    return truth if stranded else truth.sum(axis=1, dtype=np.int32)[:, None]


def genomarray_cold(spec: dict) -> dict:
    data = Data.from_spec(spec)
    stranded = spec.get("stranded", True)
    root = tempfile.mkdtemp(prefix="ga-bench-cold-")
    os.environ["GENOMARRAY_OUTPUT"] = root
    try:
        seconds, values = _genomarray(data, stranded)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {"seconds": seconds, **_check(values[0, :, :, 0], _truth(data, stranded))}


def genomarray_cached(spec: dict) -> dict:
    data = Data.from_spec(spec)
    os.environ["GENOMARRAY_OUTPUT"] = data.cache_root
    seconds, values = _genomarray(data, True)
    return {"seconds": seconds, **_check(values[0, :, :, 0], _truth(data, True))}


def build_cache(spec: dict) -> dict:
    """Build the cached store once (not a measurement)."""
    data = Data.from_spec(spec)
    os.environ["GENOMARRAY_OUTPUT"] = data.cache_root
    seconds, values = _genomarray(data, True)
    return {"seconds": seconds, **_check(values[0, :, :, 0], _truth(data, True))}


def rows(data: Data, repeat: int, quick: bool = False) -> list[Row]:
    spec = data.spec()
    task = "T1 BAM → per-base coverage"
    with Zygote([*PRELOAD, "pysam"]) as z:
        best_of(z, MODULE, "build_cache", spec, 1)
        res = best_of_all(
            {
                "ref": (z, MODULE, "samtools_numpy", spec),
                "alone": (z, MODULE, "samtools_devnull", spec),
                "peer": (z, MODULE, "pysam_numpy", spec),
                "cold": (z, MODULE, "genomarray_cold", spec),
                "cold_u": (z, MODULE, "genomarray_cold", {**spec, "stranded": False}),
                "cached": (z, MODULE, "genomarray_cached", spec),
            },
            repeat,
        )
    ref, alone, peer = res["ref"], res["alone"], res["peer"]
    cold, cold_u, cached = res["cold"], res["cold_u"], res["cached"]
    if ref.failed:
        return [Row.failed(task, "samtools depth -a + parse", ref.error)]
    ref_s = f"`samtools depth -a` + parse {fmt_s(ref.seconds)}"
    out = []

    def add(label: str, res: Result, goal: str, limit: float | None) -> None:
        if res.failed:
            out.append(Row.failed(f"{task}, {label}", ref_s, res.error, goal))
            return
        ratio = res.seconds / ref.seconds
        met = "—" if limit is None else yes_no(ratio <= limit)
        out.append(Row(f"{task}, {label}", ref_s, fmt_s(res.seconds), f"{ratio:.2f}x", goal, met))

    add('**cold** (`read_bam(mode="coverage")` builds its store, `.values`)', cold, "≤ 1.0x", 1.0)
    add("cold, `stranded=False` (as samtools)", cold_u, "", None)
    add("from the cached store", cached, "keep (≤ 1.0x)", 1.0)
    if not alone.failed and not cold.failed:
        out.append(
            Row(
                f"{task}, cold, vs samtools alone (to /dev/null, no numpy)",
                f"samtools depth -a > /dev/null {fmt_s(alone.seconds)}",
                fmt_s(cold.seconds),
                f"{cold.seconds / alone.seconds:.2f}x",
                "(lower bound)",
                "—",
            )
        )
    if not peer.failed:
        out.append(
            Row(
                f"{task}, peer pysam fetch + numpy cumsum (not genomarray)",
                ref_s,
                fmt_s(peer.seconds),
                f"{peer.seconds / ref.seconds:.2f}x",
                "",
                "—",
            )
        )
    else:
        out.append(Row.failed(f"{task}, peer pysam + numpy", ref_s, peer.error))
    return out


def main(argv: list[str] | None = None) -> list[Row]:
    import run_all

    return run_all.main(["--only", "T1", *(argv or [])])


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
