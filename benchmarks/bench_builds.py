"""Cold builds: a FASTA and a bigWig read into their genome stores, vs reader + compression.

Issue 15 item 3 asks that building a store cost no more than the reader itself plus
compression. Each row is the best of fresh processes (see ``common.py``), timing the
whole call from an empty output root:

- genomarray: ``ga.read_fasta(fa)`` / ``ga.read_bigwig(bw)``, which read the file, write
  the cached store (blosc lz4, 1 Mb chunks, its manifest) and open it lazily; the FASTA is
  a fresh copy without its ``.fai``, so the call also indexes it (and checks its layout);
- reference, the fastest reader of the whole file plus the store's own compression: for
  the FASTA the whole-file numpy LUT of T3 (read the bytes, drop the header and newlines,
  a 256-entry table to codes), for the bigWig the faster of pyBigWig's and pybigtools'
  whole-chromosome ``values`` (NaN to 0, float32); then the array cut into the store's
  1 Mb chunks, each compressed with the same codec (blosc lz4-5, bit-shuffled codes,
  byte-shuffled signal) and written to a file of its own in a temporary folder.

A third row builds the store of a larger bigWig (``data.large_bigwig``: 80 Mb, runs to
~60 Mb, ~270 MB), past ``genomarray.io.bigwig.SECTIONS_MIN_BYTES``, so genomarray reads it
with its own section reader (threads in parallel); its references also include pybigtools
reading the stores' chunks on two threads (full runs only, not ``--quick``).

BAM coverage builds are T1's cold rows. Checked: the store's values (read after the
timed call) equal the truth arrays; the reference's decompressed chunks equal them too.

Run alone: ``python benchmarks/bench_builds.py [--quick]``
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time

import numpy as np
from common import PRELOAD, Row, Zygote, best_of_all, fmt_s, yes_no
from data import CHROM, LARGE_SIGNAL, Data, large_bigwig

MODULE = "bench_builds"


def _codec(shuffle: int = 1):
    """The stores' codec (``genomarray.genome.store.CODEC`` at ``CODEC_LEVEL``)."""
    import numcodecs

    from genomarray.genome.store import CODEC, CODEC_LEVEL

    return numcodecs.Blosc(CODEC, CODEC_LEVEL, shuffle)


def _write_chunks(values: np.ndarray, shuffle: int) -> tuple[float, list[bytes]]:
    """Compress ``values`` in the stores' chunks along ``pos`` with their codec and write
    each to a file; returns the seconds and the compressed chunks (for the check)."""
    from genomarray.genome.graph import DEFAULT_CHUNK as CHUNK

    codec = _codec(shuffle)
    folder = tempfile.mkdtemp(prefix="ga-bench-ref-")
    t0 = time.perf_counter()
    parts = []
    try:
        for i, start in enumerate(range(0, len(values), CHUNK)):
            part = codec.encode(np.ascontiguousarray(values[start : start + CHUNK]))
            with open(os.path.join(folder, str(i)), "wb") as fh:
                fh.write(part)
            parts.append(part)
        return time.perf_counter() - t0, parts
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _check_parts(parts: list[bytes], truth: np.ndarray) -> dict:
    codec = _codec()
    back = np.concatenate([np.frombuffer(codec.decode(p), truth.dtype) for p in parts])
    ok = back.shape == truth.shape and np.array_equal(back, truth)
    return {"ok": bool(ok), "check": "chunks decode to truth" if ok else "chunks differ"}


def fasta_reference(spec: dict) -> dict:
    import numcodecs
    from bench_t3_fasta import lut_codes

    data = Data.from_spec(spec)
    t0 = time.perf_counter()
    codes = lut_codes(data.fasta)
    read = time.perf_counter() - t0
    write, parts = _write_chunks(codes, numcodecs.Blosc.BITSHUFFLE)
    return {"seconds": read + write, "read": read, **_check_parts(parts, data.load("codes"))}


def _bigwig_of(data: Data, spec: dict) -> tuple[str, int, str]:
    """(path, length, truth array name) of the bigWig a row reads: the dataset's, or the
    large one (``spec["large"]``)."""
    if spec.get("large"):
        return data.path("signal_large.bw"), LARGE_SIGNAL, "signal_large"
    return data.bigwig, data.sizes.length, "signal"


def _bigwig_reference(spec: dict, library: str) -> dict:
    import numcodecs

    data = Data.from_spec(spec)
    path, length, truth_name = _bigwig_of(data, spec)
    t0 = time.perf_counter()
    if library == "pyBigWig":
        import pyBigWig

        bw = pyBigWig.open(path)
        raw = bw.values(CHROM, 0, length, numpy=True)
        bw.close()
    else:
        import pybigtools

        with pybigtools.open(path) as bw:  # uncovered bases filled as it reads
            raw = bw.values(CHROM, 0, length, fillna=0.0)
    if not (np.isfinite(raw.min()) and np.isfinite(raw.max())):
        raw = np.nan_to_num(raw)
    values = raw.astype(np.float32)
    read = time.perf_counter() - t0
    write, parts = _write_chunks(values, numcodecs.Blosc.SHUFFLE)
    truth = data.load(truth_name).astype(np.float32)
    return {"seconds": read + write, "read": read, **_check_parts(parts, truth)}


def bigwig_reference_threads(spec: dict) -> dict:
    """pybigtools read in the stores' chunks on two threads (a handle each; pybigtools
    lets threads overlap in part), then the same compression: the strongest reference
    where genomarray reads in threads too."""
    from concurrent.futures import ThreadPoolExecutor

    import numcodecs
    import pybigtools

    from genomarray.genome.graph import DEFAULT_CHUNK as CHUNK

    data = Data.from_spec(spec)
    path, length, truth_name = _bigwig_of(data, spec)
    t0 = time.perf_counter()
    values = np.empty(length, np.float32)

    def read(lo: int) -> None:
        hi = min(lo + CHUNK, length)
        with pybigtools.open(path) as bw:
            raw = bw.values(CHROM, lo, hi, fillna=0.0)
        values[lo:hi] = np.nan_to_num(raw)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(read, range(0, length, CHUNK)))
    read_s = time.perf_counter() - t0
    write, parts = _write_chunks(values, numcodecs.Blosc.SHUFFLE)
    truth = data.load(truth_name).astype(np.float32)
    return {"seconds": read_s + write, "read": read_s, **_check_parts(parts, truth)}


def bigwig_reference(spec: dict) -> dict:
    return _bigwig_reference(spec, "pyBigWig")


def bigwig_reference_pybigtools(spec: dict) -> dict:
    return _bigwig_reference(spec, "pybigtools")


def _genomarray_build(spec: dict, kind: str) -> dict:
    import genomarray as ga

    data = Data.from_spec(spec)
    root = tempfile.mkdtemp(prefix="ga-bench-build-")
    os.environ["GENOMARRAY_OUTPUT"] = root
    try:
        if kind == "fasta":  # a copy without its .fai: the call indexes (and checks) it too
            read, path = ga.read_fasta, shutil.copy(data.fasta, os.path.join(root, "genome.fa"))
        else:
            read, path = ga.read_bigwig, _bigwig_of(data, spec)[0]
        t0 = time.perf_counter()
        arr = read(path, progress=False)
        seconds = time.perf_counter() - t0
        stored = [f for f in os.listdir(os.path.join(root, "cache")) if f.endswith(".zarr")]
        got = np.asarray(ga.load(arr).values).reshape(-1)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if kind == "fasta":
        truth = data.load("codes")
    else:
        truth = data.load(_bigwig_of(data, spec)[2]).astype(np.float32)
    ok = len(stored) == 1 and got.shape == truth.shape and np.array_equal(got, truth)
    check = "store equal to truth" if ok else f"store differs ({stored}, {got.shape})"
    return {"seconds": seconds, "ok": bool(ok), "check": check}


def fasta_build(spec: dict) -> dict:
    return _genomarray_build(spec, "fasta")


def bigwig_build(spec: dict) -> dict:
    return _genomarray_build(spec, "bigwig")


def rows(data: Data, repeat: int, quick: bool = False) -> list[Row]:
    spec = data.spec()
    length = f"{data.sizes.length / 1e6:g} Mb"
    if not quick:
        path = large_bigwig(data)
        large = spec | {"large": True}
    with contextlib.ExitStack() as stack:
        z = stack.enter_context(Zygote([*PRELOAD, "pysam", "pyBigWig", "pybigtools"]))
        jobs = {
            ("fasta", "ref"): (z, MODULE, "fasta_reference", spec),
            ("fasta", "ga"): (z, MODULE, "fasta_build", spec),
            ("bigwig", "ref"): (z, MODULE, "bigwig_reference", spec),
            ("bigwig", "ref2"): (z, MODULE, "bigwig_reference_pybigtools", spec),
            ("bigwig", "ga"): (z, MODULE, "bigwig_build", spec),
        }
        if not quick:  # a file past SECTIONS_MIN_BYTES: read by genomarray's section reader
            jobs[("large", "ref")] = (z, MODULE, "bigwig_reference", large)
            jobs[("large", "ref2")] = (z, MODULE, "bigwig_reference_pybigtools", large)
            jobs[("large", "ref3")] = (z, MODULE, "bigwig_reference_threads", large)
            jobs[("large", "ga")] = (z, MODULE, "bigwig_build", large)
        res = best_of_all(jobs, repeat)
    out = []
    names = {
        "fasta": (f"cold build: FASTA ({length}) → sequence store, `ga.read_fasta(fa)`", "LUT"),
        "bigwig": (
            f"cold build: bigWig ({length}) → track store, `ga.read_bigwig(bw)`",
            "pyBigWig",
        ),
    }
    if not quick:
        mb = os.path.getsize(path) / 1e6
        names["large"] = (
            f"cold build: bigWig ({LARGE_SIGNAL / 1e6:g} Mb, {mb:.0f} MB file, read by "
            "genomarray's section reader) → track store, `ga.read_bigwig(bw)`",
            "pyBigWig",
        )
    for kind, (task, reader) in names.items():
        ref, ours = res[kind, "ref"], res[kind, "ga"]
        for key, name in (("ref2", "pybigtools"), ("ref3", "pybigtools in chunks, 2 threads")):
            other = res.get((kind, key))  # the fastest reader is the reference
            if (
                other is not None
                and not other.failed
                and (ref.failed or other.seconds < ref.seconds)
            ):
                ref, reader = other, name
        if ref.failed:
            out.append(Row.failed(task, f"{reader} + lz4 chunks", ref.error))
            continue
        ref_s = (
            f"{reader} {fmt_s(ref.extra('read', 0.0))} + lz4 chunks written = {fmt_s(ref.seconds)}"
        )
        if ours.failed:
            out.append(Row.failed(task, ref_s, ours.error, "≤ 1.0x"))
            continue
        ratio = ours.seconds / ref.seconds
        out.append(
            Row(task, ref_s, fmt_s(ours.seconds), f"{ratio:.2f}x", "≤ 1.0x", yes_no(ratio <= 1.0))
        )
    return out


def main(argv: list[str] | None = None) -> list[Row]:
    import run_all

    return run_all.main(["--only", "builds", *(argv or [])])


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
