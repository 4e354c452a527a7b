"""T2: bigWig -> 20,000 windows of 1 kb as numpy, from the cached store, vs GenVarLoader.

Each row is the best of fresh processes (see ``common.py``), timing the whole call:

- genomarray from the cached store: ``ga.read_bigwig(path).janggu.view(roi).values`` once
  the store exists (built by a first, untimed call); also cold, with an empty output root
  (the call builds the store);
- reference GenVarLoader (when installed; ``GENOMARRAY_BENCH_PEERS`` or
  ``/tmp/ga-bench-venv``): its own store of the same windows, written once untimed
  (``gvl.write``), timed from ``Dataset.open`` to the numpy windows;
- reference pyBigWig (and pybigtools when installed): the whole chromosome's
  ``values(..., numpy=True)``, NaN -> 0, then a numpy gather of the windows.

Every result is checked equal to the truth signal written into the bigWig.

Run alone: ``python benchmarks/bench_t2_bigwig.py [--quick]``
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import tempfile
import time

import numpy as np
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
from data import CHROM, Data

MODULE = "bench_t2_bigwig"


def truth_windows(data: Data, track: str = "signal") -> np.ndarray:
    values = data.load(track)
    starts = data.load("windows")
    return np.lib.stride_tricks.sliding_window_view(values, data.sizes.width, axis=0)[starts]


def gather(values: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """Windows ``values[s:s+width]`` for each start, as one array (a copy)."""
    return np.lib.stride_tricks.sliding_window_view(values, width, axis=0)[starts]


def _check(got: np.ndarray, truth: np.ndarray) -> dict:
    ok = got.shape == truth.shape and np.array_equal(got, truth)
    return {"ok": bool(ok), "check": "equal to truth" if ok else f"differs {got.shape}"}


def roi_frame(data: Data, name: str = "windows"):
    import pandas as pd

    starts = data.load(name)
    return pd.DataFrame({"chrom": CHROM, "start": starts, "end": starts + data.sizes.width})


def _genomarray(data: Data, via_load: bool = False) -> tuple[float, np.ndarray]:
    import genomarray as ga

    roi = roi_frame(data)
    t0 = time.perf_counter()
    windows = ga.read_bigwig(data.bigwig).janggu.view(roi)
    values = ga.load(windows).values if via_load else windows.values
    return time.perf_counter() - t0, values


def genomarray_cached(spec: dict) -> dict:
    data = Data.from_spec(spec)
    os.environ["GENOMARRAY_OUTPUT"] = data.cache_root
    seconds, values = _genomarray(data)
    return {"seconds": seconds, **_check(values[..., 0, 0], truth_windows(data))}


def genomarray_load(spec: dict) -> dict:
    """``ga.load(view)``: the batch engine's direct read of the store's chunks."""
    data = Data.from_spec(spec)
    os.environ["GENOMARRAY_OUTPUT"] = data.cache_root
    seconds, values = _genomarray(data, via_load=True)
    return {"seconds": seconds, **_check(values[..., 0, 0], truth_windows(data))}


def genomarray_cold(spec: dict) -> dict:
    data = Data.from_spec(spec)
    root = tempfile.mkdtemp(prefix="ga-bench-cold-")
    os.environ["GENOMARRAY_OUTPUT"] = root
    try:
        seconds, values = _genomarray(data)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {"seconds": seconds, **_check(values[..., 0, 0], truth_windows(data))}


def pybigwig_whole(spec: dict) -> dict:
    import pyBigWig

    data = Data.from_spec(spec)
    starts = data.load("windows")
    t0 = time.perf_counter()
    bw = pyBigWig.open(data.bigwig)
    values = np.nan_to_num(bw.values(CHROM, 0, data.sizes.length, numpy=True)).astype(np.float32)
    bw.close()
    windows = gather(values, starts, data.sizes.width)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, **_check(windows, truth_windows(data))}


def pybigtools_whole(spec: dict) -> dict:
    import pybigtools

    data = Data.from_spec(spec)
    starts = data.load("windows")
    t0 = time.perf_counter()
    with pybigtools.open(data.bigwig) as bw:
        values = np.nan_to_num(bw.values(CHROM, 0, data.sizes.length)).astype(np.float32)
    windows = gather(values, starts, data.sizes.width)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, **_check(windows, truth_windows(data))}


def gvl_path(data: Data) -> str:
    return data.path("gvl/signal.gvl")


def gvl_build(spec: dict) -> dict:
    """Write GenVarLoader's store of the windows (with the bigWig track) and its FASTA
    cache once (not a measurement)."""
    import genvarloader as gvl
    import polars as pl

    data = Data.from_spec(spec)
    starts = data.load("windows")
    bed = pl.DataFrame(
        {
            "chrom": [CHROM] * len(starts),
            "chromStart": starts,
            "chromEnd": starts + data.sizes.width,
        }
    )
    t0 = time.perf_counter()
    if not os.path.exists(os.path.join(gvl_path(data), "metadata.json")):
        os.makedirs(os.path.dirname(gvl_path(data)), exist_ok=True)
        gvl.write(
            gvl_path(data), bed, tracks=gvl.BigWigs("signal", {"s": data.bigwig}), overwrite=True
        )
    gvl.Dataset.open(gvl_path(data), reference=data.fasta)  # builds its FASTA cache
    return {"seconds": time.perf_counter() - t0, "ok": True}


def gvl_windows(spec: dict) -> dict:
    import genvarloader as gvl

    data = Data.from_spec(spec)
    n, width = data.sizes.windows, data.sizes.width
    t0 = time.perf_counter()
    ds = gvl.Dataset.open(gvl_path(data)).with_tracks("signal").with_len(width)
    values = np.asarray(ds[np.arange(n), 0]).reshape(n, width)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, **_check(values, truth_windows(data))}


def rows(data: Data, repeat: int, quick: bool = False) -> list[Row]:
    spec = data.spec()
    task = f"T2 bigWig → {data.sizes.windows:,} windows"
    peers = other_python()
    gvl = gvl_build_res = None
    with contextlib.ExitStack() as stack:
        z = stack.enter_context(Zygote([*PRELOAD, "pyBigWig", "pybigtools"]))
        warm = best_of(z, MODULE, "genomarray_cached", spec, 1)  # builds the cache once
        jobs = {
            "pbw": (z, MODULE, "pybigwig_whole", spec),
            "cached": (z, MODULE, "genomarray_cached", spec),
            "load": (z, MODULE, "genomarray_load", spec),
            "cold": (z, MODULE, "genomarray_cold", spec),
        }
        if importlib.util.find_spec("pybigtools") is not None:
            jobs["pbt"] = (z, MODULE, "pybigtools_whole", spec)
        if peers:
            zg = stack.enter_context(Zygote([], python=peers, fork=False))
            gvl_build_res = best_of(zg, MODULE, "gvl_build", spec, 1)
            if not gvl_build_res.failed:
                jobs["gvl"] = (zg, MODULE, "gvl_windows", spec)
        res = best_of_all(jobs, repeat)
    pbw, cold, pbt, gvl = res["pbw"], res["cold"], res.get("pbt"), res.get("gvl")
    cached = res["cached"] if not warm.failed else warm
    readers = [("pyBigWig whole chromosome + gather", pbw)]
    if pbt is not None:
        readers.append(("pybigtools whole chromosome + gather", pbt))
    ok_readers = [(name, r) for name, r in readers if not r.failed]
    fastest = min(ok_readers, key=lambda x: x[1].seconds) if ok_readers else None
    out = []
    if gvl is not None and not gvl.failed:
        ref_name, ref = "GenVarLoader store", gvl
    elif fastest:
        ref_name, ref = fastest
    else:
        return [Row.failed(task, "pyBigWig", pbw.error)]
    ref_s = f"{ref_name} {fmt_s(ref.seconds)}"
    goal = "≤ 1.0x GVL" if ref is gvl else "≤ 1.0x GVL (not installed: vs reader)"

    def add(
        label: str, res: Result, goal: str, limit: float | None, vs: Result = ref, vs_s: str = ref_s
    ) -> None:
        if res.failed:
            out.append(Row.failed(f"{task}, {label}", vs_s, res.error, goal))
            return
        ratio = res.seconds / vs.seconds
        met = "—" if limit is None else yes_no(ratio <= limit)
        out.append(Row(f"{task}, {label}", vs_s, fmt_s(res.seconds), f"{ratio:.2f}x", goal, met))

    add("from the cached store (`read_bigwig`, `view(roi).values`)", cached, goal, 1.0)
    add("from the cached store, `ga.load(view(roi)).values`", res["load"], goal, 1.0)
    if fastest:
        name, r = fastest
        if ref is gvl:
            add(
                "from the cached store, vs the fastest reader",
                cached,
                "",
                None,
                r,
                f"{name} {fmt_s(r.seconds)}",
            )
        add("cold (the call builds the store)", cold, "", None, r, f"{name} {fmt_s(r.seconds)}")
    for name, r in readers:
        if r is ref:
            continue
        if r.failed:
            out.append(Row.failed(f"{task}, peer {name}", ref_s, r.error))
        else:
            out.append(
                Row(
                    f"{task}, peer {name} (not genomarray)",
                    ref_s,
                    fmt_s(r.seconds),
                    f"{r.seconds / ref.seconds:.2f}x",
                    "",
                    "—",
                )
            )
    if not peers:
        out.append(Row(f"{task}, GenVarLoader", "not installed", "", "", "", "—"))
    elif gvl is None or gvl.failed:
        why = (gvl.error if gvl else "") or (gvl_build_res.error if gvl_build_res else "")
        out.append(Row.failed(f"{task}, GenVarLoader", "", why))
    return out


def main(argv: list[str] | None = None) -> list[Row]:
    import run_all

    return run_all.main(["--only", "T2", *(argv or [])])


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
