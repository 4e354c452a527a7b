"""T3: FASTA -> one-hot (order 1, float32) of 20,000 windows of 1 kb, vs a numpy LUT.

Each row is the best of fresh processes (see ``common.py``), timing the whole call:

- genomarray from the cached store:
  ``ga.read_fasta(path).janggu.view(roi).janggu.onehot(order=1).values`` once the store
  exists; without a store (``cache=False``: chunks read from the FASTA); cold (empty
  output root: the call builds the store);
- reference, a whole-file numpy LUT: read the FASTA's bytes, drop the header and the
  newlines, a 256-entry lookup table to codes, gather the windows (a strided view), one-hot
  by ``np.take`` of a ``(5, 4)`` float32 table (3x faster than ``table[codes]`` here);
- GenVarLoader (when installed): its dataset of the same windows opened with the FASTA
  (its FASTA cache built once, untimed), ``with_seqs("reference")``, then seqpro's
  one-hot, cast to float32 (what genomarray returns).

Every result is checked equal to the one-hot of the truth codes.

Run alone: ``python benchmarks/bench_t3_fasta.py [--quick]``
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time

import numpy as np
from bench_t2_bigwig import gather, gvl_build, gvl_path, roi_frame  # noqa: F401 (gvl_build: a job)
from common import (
    PRELOAD,
    Result,
    Row,
    Zygote,
    best_of,
    best_of_all,
    fmt_s,
    other_python,
    yes_no,
)
from data import Data

MODULE = "bench_t3_fasta"


def _check(got: np.ndarray, data: Data) -> dict:
    codes = gather(data.load("codes"), data.load("windows"), data.sizes.width)
    truth = np.eye(4, dtype=np.float32)[codes]
    ok = got.shape == truth.shape and got.dtype == truth.dtype and np.array_equal(got, truth)
    return {"ok": bool(ok), "check": "equal to truth" if ok else f"differs {got.shape} {got.dtype}"}


def lut_codes(path: str) -> np.ndarray:
    """The codes of a one-record FASTA by a whole-file numpy LUT: read the bytes, drop the
    header and the newlines, a 256-entry table (the reference of T3 and of cold builds)."""
    with open(path, "rb") as fh:
        text = fh.read()
    body = np.frombuffer(text, np.uint8)[text.index(b"\n") + 1 :]
    letters = body[body != ord("\n")]
    lut = np.full(256, 4, np.uint8)
    for i, c in enumerate(b"ACGT"):
        lut[c] = lut[c + 32] = i
    return lut[letters]


def numpy_lut(spec: dict) -> dict:
    data = Data.from_spec(spec)
    starts = data.load("windows")
    t0 = time.perf_counter()
    codes = lut_codes(data.fasta)
    windows = gather(codes, starts, data.sizes.width)
    onehot = np.take(np.eye(5, 4, dtype=np.float32), windows, axis=0)  # 3x faster than eye[w]
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, **_check(onehot, data)}


def _genomarray(data: Data, via_load: bool = False, **kwargs: object) -> tuple[float, np.ndarray]:
    import genomarray as ga

    roi = roi_frame(data)
    t0 = time.perf_counter()
    dna = ga.read_fasta(data.fasta, **kwargs)
    x = dna.janggu.view(roi).janggu.onehot(order=1)
    values = ga.load(x).values if via_load else x.values
    return time.perf_counter() - t0, values


def genomarray_load(spec: dict) -> dict:
    """``ga.load(onehot view)``: the batch engine's direct read of the store's chunks."""
    data = Data.from_spec(spec)
    os.environ["GENOMARRAY_OUTPUT"] = data.cache_root
    seconds, values = _genomarray(data, via_load=True)
    return {"seconds": seconds, **_check(values, data)}


def genomarray_cached(spec: dict) -> dict:
    data = Data.from_spec(spec)
    os.environ["GENOMARRAY_OUTPUT"] = data.cache_root
    seconds, values = _genomarray(data)
    return {"seconds": seconds, **_check(values, data)}


def genomarray_nostore(spec: dict) -> dict:
    data = Data.from_spec(spec)
    root = tempfile.mkdtemp(prefix="ga-bench-nostore-")
    os.environ["GENOMARRAY_OUTPUT"] = root
    try:
        seconds, values = _genomarray(data, cache=False)
        cache = os.path.join(root, "cache")
        wrote = os.listdir(cache) if os.path.isdir(cache) else []
    finally:
        shutil.rmtree(root, ignore_errors=True)
    res = _check(values, data)
    if wrote:
        res = {"ok": False, "check": f"cache=False wrote {wrote}"}
    return {"seconds": seconds, **res}


def genomarray_cold(spec: dict) -> dict:
    data = Data.from_spec(spec)
    root = tempfile.mkdtemp(prefix="ga-bench-cold-")
    os.environ["GENOMARRAY_OUTPUT"] = root
    try:
        seconds, values = _genomarray(data)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {"seconds": seconds, **_check(values, data)}


def gvl_onehot(spec: dict) -> dict:
    import genvarloader as gvl
    import seqpro as sp

    data = Data.from_spec(spec)
    n, width = data.sizes.windows, data.sizes.width
    t0 = time.perf_counter()
    ds = (
        gvl.Dataset.open(gvl_path(data), reference=data.fasta)
        .with_seqs("reference")
        .with_tracks(False)
        .with_len(width)
    )
    seqs = np.asarray(ds[np.arange(n)]).reshape(n, width)
    onehot = sp.DNA.ohe(seqs).astype(np.float32)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, **_check(onehot, data)}


def rows(data: Data, repeat: int, quick: bool = False) -> list[Row]:
    spec = data.spec()
    task = f"T3 FASTA → one-hot order 1, {data.sizes.windows:,} windows"
    peers = other_python()
    gvl = None
    with contextlib.ExitStack() as stack:
        z = stack.enter_context(Zygote(PRELOAD))
        warm = best_of(z, MODULE, "genomarray_cached", spec, 1)  # builds the cache once
        jobs = {
            "ref": (z, MODULE, "numpy_lut", spec),
            "cached": (z, MODULE, "genomarray_cached", spec),
            "load": (z, MODULE, "genomarray_load", spec),
            "nostore": (z, MODULE, "genomarray_nostore", spec),
            "cold": (z, MODULE, "genomarray_cold", spec),
        }
        if peers:
            zg = stack.enter_context(Zygote([], python=peers, fork=False))
            built = best_of(zg, MODULE, "gvl_build", spec, 1)
            if built.failed:
                gvl = built
            else:
                jobs["gvl"] = (zg, MODULE, "gvl_onehot", spec)
        res = best_of_all(jobs, repeat)
    ref, nostore, cold = res["ref"], res["nostore"], res["cold"]
    cached = res["cached"] if not warm.failed else warm
    gvl = res.get("gvl", gvl)
    if ref.failed:
        return [Row.failed(task, "numpy LUT", ref.error)]
    ref_s = f"whole-file numpy LUT {fmt_s(ref.seconds)}"
    out = []

    def add(label: str, res: Result, goal: str, limit: float | None) -> None:
        if res.failed:
            out.append(Row.failed(f"{task}, {label}", ref_s, res.error, goal))
            return
        ratio = res.seconds / ref.seconds
        met = "—" if limit is None else yes_no(ratio <= limit)
        out.append(Row(f"{task}, {label}", ref_s, fmt_s(res.seconds), f"{ratio:.2f}x", goal, met))

    add("from the cached store (`read_fasta`, view, onehot, `.values`)", cached, "≤ 1.0x LUT", 1.0)
    add("from the cached store, `ga.load(...).values`", res["load"], "≤ 1.0x LUT", 1.0)
    add("without a store (`cache=False`)", nostore, "≤ 1.0x LUT", 1.0)
    add("cold (the call builds the store)", cold, "", None)
    if gvl is None:
        out.append(Row(f"{task}, GenVarLoader", "not installed", "", "", "", "—"))
    elif gvl.failed:
        out.append(Row.failed(f"{task}, GenVarLoader", ref_s, gvl.error))
    else:
        out.append(
            Row(
                f"{task}, peer GenVarLoader store + seqpro one-hot (not genomarray)",
                ref_s,
                fmt_s(gvl.seconds),
                f"{gvl.seconds / ref.seconds:.2f}x",
                "",
                "—",
            )
        )
        if not cached.failed:
            out.append(
                Row(
                    f"{task}, from the cached store, vs GenVarLoader",
                    f"GenVarLoader {fmt_s(gvl.seconds)}",
                    fmt_s(cached.seconds),
                    f"{cached.seconds / gvl.seconds:.2f}x",
                    "",
                    "—",
                )
            )
        if not res["load"].failed:
            out.append(
                Row(
                    f"{task}, from the cached store with `ga.load`, vs GenVarLoader",
                    f"GenVarLoader {fmt_s(gvl.seconds)}",
                    fmt_s(res["load"].seconds),
                    f"{res['load'].seconds / gvl.seconds:.2f}x",
                    "",
                    "—",
                )
            )
    return out


def main(argv: list[str] | None = None) -> list[Row]:
    import run_all

    return run_all.main(["--only", "T3", *(argv or [])])


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
