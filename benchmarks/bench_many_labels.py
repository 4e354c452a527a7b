"""Many conditions (issue 15 item 6): a label store of 919 narrowPeak files, and batches.

The chromatin-profile case of the paper (DeepSEA: 919 label tracks). The data, written
once under the temp folder (``$GENOMARRAY_BENCH_DATA``'s parent, or the temp folder):
919 narrowPeak files (46 with ``--quick``) of 2,000-4,000 peaks each (uniform over hg19's
chromosomes by length, 150-1,200 bp wide, sorted), on hg19's chromosome layout (24
chromosomes and chrM, sizes hard-coded below; no sequence is needed).

Rows, each the best of fresh processes (``common.py``):

- build: ``ga.read_bed(files, like=HG19, resolution=200, dtype="uint8")`` with an empty
  output root (the call builds the store: 15.5 M bins x 919 conditions); wall time, time per
  file and the process's peak RSS (``VmHWM``, imports included); goal peak RSS <= 2 GB on
  2 cores. Checked: 2,000 random bins (and every peak-bearing bin of 3 files' first 50
  peaks) equal the labels computed from the peak coordinates by a naive loop;
- batches: ``GenomicSequence(view, batch_size=128, shuffle=True)`` over the view of that
  store through 25,600 bins of 200 bp (200 batches; 20 with ``--quick``), each a bin holding
  a peak of a random file (DeepSEA's samples are the bins with at least one peak), in genome
  order: in memory (the default: they fit ``max_memory_bytes``) and forced out of core (a
  quarter of the view's size: the sparse view is spilled to a view store, removed before
  each run so its build includes that pass). Rate = batches per second of one epoch's
  loop (building the sequence, which computes the view, is timed apart). Reference: the
  same batches gathered from the truth labels in RAM by numpy. Checked: sampled batches
  equal the truth labels of the regions the sequence says it visits.

Run alone: ``python benchmarks/bench_many_labels.py [--quick]``
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import time

import numpy as np
from common import PRELOAD, Row, Zygote, best_of, best_of_all, fmt_s, yes_no

MODULE = "bench_many_labels"
RESOLUTION = 200
BATCH = 128
CHECKED_BATCHES = 20
HG19 = {
    "chr1": 249_250_621,
    "chr2": 243_199_373,
    "chr3": 198_022_430,
    "chr4": 191_154_276,
    "chr5": 180_915_260,
    "chr6": 171_115_067,
    "chr7": 159_138_663,
    "chr8": 146_364_022,
    "chr9": 141_213_431,
    "chr10": 135_534_747,
    "chr11": 135_006_516,
    "chr12": 133_851_895,
    "chr13": 115_169_878,
    "chr14": 107_349_540,
    "chr15": 102_531_392,
    "chr16": 90_354_753,
    "chr17": 81_195_210,
    "chr18": 78_077_248,
    "chr19": 59_128_983,
    "chr20": 63_025_520,
    "chr21": 48_129_895,
    "chr22": 51_304_566,
    "chrX": 155_270_560,
    "chrY": 59_373_566,
    "chrM": 16_571,
}
"""hg19 (GRCh37, UCSC names): the 24 chromosomes and chrM."""
CHROMS = list(HG19)


def _root(n_files: int, batches: int) -> str:
    base = os.environ.get("GENOMARRAY_BENCH_DATA")
    parent = os.path.dirname(base.rstrip("/")) if base else tempfile.gettempdir()
    return os.path.join(parent, "genomarray-bench", f"labels-v1-{n_files}-{batches}")


def _peaks(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One file's peaks: chromosome index, start, end (sorted in genome order)."""
    n = int(rng.integers(2000, 4001))
    lengths = np.array(list(HG19.values()), np.float64)
    ci = rng.choice(len(CHROMS), n, p=lengths / lengths.sum())
    width = rng.integers(150, 1201, n)
    start = (rng.random(n) * (lengths[ci] - width)).astype(np.int64)
    order = np.lexsort((start, ci))
    return ci[order], start[order], (start + width)[order]


def _narrowpeak(ci: np.ndarray, start: np.ndarray, end: np.ndarray, rng) -> str:
    n = len(ci)
    signal = rng.gamma(2.0, 5.0, n).round(5)
    cols = [
        np.array(CHROMS, dtype=object)[ci],
        start.astype(str),
        end.astype(str),
        np.char.add("peak", np.arange(n).astype(str)).astype(object),
        rng.integers(0, 1001, n).astype(str),
        np.full(n, "."),
        signal.astype(str),
        (signal * 1.7).round(5).astype(str),
        (signal * 1.1).round(5).astype(str),
        ((end - start) // 2).astype(str),
    ]
    return "\n".join("\t".join(map(str, row)) for row in zip(*cols, strict=True)) + "\n"


def write_dataset(n_files: int, batches: int, seed: int = 0) -> str:
    """Write the narrowPeak files, their truth coordinates and the batch regions once."""
    root = _root(n_files, batches)
    if os.path.exists(os.path.join(root, "complete")):
        return root
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "peaks"))
    rng = np.random.default_rng(seed)
    truth = {}
    for k in range(n_files):
        ci, start, end = _peaks(rng)
        with open(os.path.join(root, "peaks", f"cond{k:04d}.narrowPeak"), "w") as fh:
            fh.write(_narrowpeak(ci, start, end, rng))
        truth[f"ci{k}"], truth[f"start{k}"], truth[f"end{k}"] = ci, start, end
    np.savez(os.path.join(root, "truth.npz"), **truth)
    # regions: the 200 bp bin holding the middle of a random peak of a random file
    n = batches * BATCH
    files = rng.integers(0, n_files, n)
    picks = [int(rng.integers(0, len(truth[f"ci{k}"]))) for k in files]
    ci = np.array([truth[f"ci{k}"][p] for k, p in zip(files, picks, strict=True)])
    mid = np.array(
        [
            (truth[f"start{k}"][p] + truth[f"end{k}"][p]) // 2
            for k, p in zip(files, picks, strict=True)
        ]
    )
    bins = mid // RESOLUTION
    order = np.lexsort((bins, ci))
    np.savez(os.path.join(root, "regions.npz"), ci=ci[order], bin=bins[order])
    with open(os.path.join(root, "complete"), "w") as fh:
        fh.write("ok\n")
    return root


def _files(root: str) -> list[str]:
    folder = os.path.join(root, "peaks")
    return [os.path.join(folder, f) for f in sorted(os.listdir(folder))]


def truth_labels(root: str, ci: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """``(len(bins), n_files)`` uint8: 1 where a peak of file k overlaps the 200 bp bin
    (1 bp is enough, ``read_bed``'s default). Computed apart from genomarray's reader: each
    peak paints the bins ``start // 200 .. (end - 1) // 200`` it touches, and the asked
    bins are looked up among them."""
    truth = np.load(os.path.join(root, "truth.npz"))
    n_files = len(truth.files) // 3
    asked = ci.astype(np.int64) << 32 | bins.astype(np.int64)
    out = np.zeros((len(bins), n_files), np.uint8)
    for k in range(n_files):
        first = truth[f"start{k}"] // RESOLUTION
        last = (truth[f"end{k}"] - 1) // RESOLUTION
        n = last - first + 1
        painted = np.repeat(first - np.cumsum(n) + n, n) + np.arange(n.sum())
        keys = np.repeat(truth[f"ci{k}"].astype(np.int64), n) << 32 | painted
        out[:, k] = np.isin(asked, keys)
    return out


def _build(root: str, output: str):
    import genomarray as ga

    os.environ["GENOMARRAY_OUTPUT"] = output
    return ga.read_bed(
        _files(root), like=HG19, resolution=RESOLUTION, dtype="uint8", progress=False
    )


def _du(path: str) -> int:
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(path) for f in fs)


def build_store(spec: dict) -> dict:
    """Time the cold build in this fresh process; check sampled bins against the truth."""
    root = spec["root"]
    output = tempfile.mkdtemp(prefix="ga-bench-labels-")
    try:
        t0 = time.perf_counter()
        labels = _build(root, output)
        seconds = time.perf_counter() - t0
        from common import peak_rss_mb

        peak = peak_rss_mb()
        size = _du(labels.encoding["store"])
        rng = np.random.default_rng(1)
        lengths = np.array(list(HG19.values()))
        ci = rng.integers(0, len(CHROMS), 2000)
        bins = (rng.random(2000) * (-(-lengths[ci] // RESOLUTION))).astype(np.int64)
        truth = np.load(os.path.join(root, "truth.npz"))
        for k in range(3):  # and bins holding peaks, where labels are 1
            ci = np.r_[ci, truth[f"ci{k}"][:50]]
            bins = np.r_[bins, truth[f"start{k}"][:50] // RESOLUTION]
        import xarray as xr

        got = labels.isel(
            chrom=xr.DataArray(ci, dims="p"), pos=xr.DataArray(bins, dims="p"), strand=0
        ).values
        want = truth_labels(root, ci, bins)
        ok = got.shape == want.shape and np.array_equal(got, want) and want.any()
        return {
            "seconds": seconds,
            "files": len(_files(root)),
            "peak_mb": peak,
            "store_mb": size / 1e6,
            "ok": bool(ok),
            "check": f"{len(bins)} bins equal to truth" if ok else "labels differ from truth",
        }
    finally:
        shutil.rmtree(output, ignore_errors=True)


def _regions(root: str):
    import pandas as pd

    reg = np.load(os.path.join(root, "regions.npz"))
    start = reg["bin"] * RESOLUTION
    chrom = np.array(CHROMS, dtype=object)[reg["ci"]]
    return pd.DataFrame({"chrom": chrom, "start": start, "end": start + RESOLUTION}), reg


def cached_store(spec: dict) -> dict:
    """Build the store under the dataset's output root once (not a measurement)."""
    t0 = time.perf_counter()
    labels = _build(spec["root"], os.path.join(spec["root"], "output"))
    return {"seconds": time.perf_counter() - t0, "ok": True, "nbytes": int(labels.nbytes)}


def _check(get, order: np.ndarray, n_batches: int, truth: np.ndarray) -> dict:
    picks = np.unique(np.linspace(0, n_batches - 1, min(n_batches, CHECKED_BATCHES)).astype(int))
    for i in picks.tolist():
        got = np.asarray(get(i)).reshape(-1, truth.shape[1])
        want = truth[order[i * BATCH : (i + 1) * BATCH]].astype(np.float32)
        if got.shape != want.shape or not np.array_equal(got, want):
            return {"ok": False, "check": f"batch {i} differs ({got.shape})"}
    return {"ok": True, "check": f"{len(picks)} batches equal to truth"}


def _truth_of_regions(root: str, reg) -> np.ndarray:
    path = os.path.join(root, "regions_truth.npy")
    if not os.path.exists(path):
        np.save(path, truth_labels(root, reg["ci"], reg["bin"]))
    return np.load(path)


def batches(spec: dict) -> dict:
    from genomarray.keras import GenomicSequence

    root = spec["root"]
    roi, reg = _regions(root)
    truth = _truth_of_regions(root, reg)
    if spec["where"] != "memory":  # the build includes spilling the sparse view (cold)
        for old in glob.glob(os.path.join(root, "output", "cache", "spill-*")):
            shutil.rmtree(old, ignore_errors=True)
    t0 = time.perf_counter()
    labels = _build(root, os.path.join(root, "output"))
    view = labels.janggu.view(roi)
    kwargs = {} if spec["where"] == "memory" else {"max_memory_bytes": view.nbytes // 4}
    seq = GenomicSequence(view, batch_size=BATCH, shuffle=True, seed=0, **kwargs)
    build = time.perf_counter() - t0
    if seq.in_memory is not (spec["where"] == "memory"):
        return {"ok": False, "check": f"in_memory is {seq.in_memory}", "seconds": 0}
    t0 = time.perf_counter()
    for i in range(len(seq)):
        seq[i]
    seconds = time.perf_counter() - t0
    res = _check(seq.__getitem__, seq.order(), len(seq), truth)
    return {"seconds": seconds, "batches": len(seq), "build": build, **res}


def numpy_batches(spec: dict) -> dict:
    root = spec["root"]
    _, reg = _regions(root)
    truth = _truth_of_regions(root, reg)
    order = np.random.default_rng(0).permutation(len(truth))
    n = -(-len(truth) // BATCH)
    t0 = time.perf_counter()
    held = truth.copy()
    for i in range(n):
        held[order[i * BATCH : (i + 1) * BATCH]].astype(np.float32)
    seconds = time.perf_counter() - t0
    res = _check(lambda i: held[order[i * BATCH : (i + 1) * BATCH]], order, n, truth)
    return {"seconds": seconds, "batches": n, **res}


def rows(data, repeat: int, quick: bool = False) -> list[Row]:
    n_files, n_batches = (46, 20) if quick else (919, 200)
    root = write_dataset(n_files, n_batches)
    spec = {"root": root}
    task = f"Many labels: {n_files} narrowPeak files → label store (hg19, 200 bp, uint8)"
    env = {} if os.environ.get("KERAS_BACKEND") else {"KERAS_BACKEND": "numpy"}
    with Zygote([*PRELOAD, "genomarray.keras.dataset"], env=env) as z:
        warm = best_of(z, MODULE, "cached_store", spec, 1)
        jobs = {"build": (z, MODULE, "build_store", spec)}
        jobs["numpy"] = (z, MODULE, "numpy_batches", spec)
        for where in ("memory", "ooc"):
            jobs[where] = (z, MODULE, "batches", {**spec, "where": where})
        res = best_of_all(jobs, min(repeat, 2) if not quick else 1)
    out = []
    build = res["build"]
    if build.failed:
        out.append(Row.failed(task, "", build.error, "peak RSS ≤ 2 GB"))
    else:
        peak = max(r.get("peak_mb", 0) for r in build.runs)
        files = build.extra("files", n_files)
        out.append(
            Row(
                task,
                "—",
                f"{fmt_s(build.seconds)} ({build.seconds / files * 1000:.0f} ms/file), "
                f"peak RSS {peak:,.0f} MB, store {build.extra('store_mb', 0):,.0f} MB",
                "",
                "peak RSS ≤ 2 GB (2 cores)",
                yes_no(peak <= 2048),
            )
        )
    ref = res["numpy"]
    btask = f"Many labels: {n_batches} batches of {BATCH} x {n_files} labels"
    if ref.failed or warm.failed:
        out.append(Row.failed(btask, "numpy gather", (ref.error or warm.error)))
        return out
    ref_rate = n_batches / ref.seconds
    ref_s = f"numpy in-RAM gather {ref_rate:,.0f}/s"
    for where, what in (
        ("memory", "GenomicSequence, view in memory (default: it fits)"),
        ("ooc", "GenomicSequence, forced out of core (1/4 of the view)"),
    ):
        r = res[where]
        if r.failed:
            out.append(Row.failed(f"{btask}, {what}", ref_s, r.error, "≥ 3,000/s"))
            continue
        rate = n_batches / r.seconds
        out.append(
            Row(
                f"{btask}, {what}",
                ref_s,
                f"{rate:,.0f}/s (build {r.extra('build', float('nan')):.2f} s)",
                f"{rate / ref_rate:.2f}x rate",
                "≥ 3,000/s",
                yes_no(rate >= 3000),
            )
        )
    return out


def main(argv: list[str] | None = None) -> list[Row]:
    import run_all

    return run_all.main(["--only", "labels", *(argv or [])])


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
