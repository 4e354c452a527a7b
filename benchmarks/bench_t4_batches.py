"""T4: training batches through ``genomarray.keras.GenomicSequence``, vs a numpy gather loop.

200 batches (20 with ``--quick``) of 128 x (1 kb one-hot of the genome + the 1 kb stranded
read coverage of T1's BAM as float32), one epoch, ``seq[i]`` for every batch in a fresh
process (see ``common.py``). Inputs are the documented ones: the genome from
``ga.read_fasta`` and the coverage from ``ga.read_bam(mode="coverage")`` (both cached
stores), viewed through the 1 kb regions with ``.janggu.view(roi)``, and
``GenomicSequence({"dna": codes_view, "cov": cov_view}, onehot_order=k, batch_size=128)``:

- (a) views in memory: the lazy views with the default ``max_memory_bytes`` (they fit, so
  they are computed when the sequence is built);
- (b) out of core over the views written once with ``ga.write_zarr`` and reopened with
  ``ga.open_zarr``, ``max_memory_bytes`` a quarter of their size;
- (c) out of core over the lazy views of the cached genome stores (the default path for
  data larger than ``max_memory_bytes``; forced here with a quarter of their size).

Order 1 (4 channels) and order 3 (64 channels, float32), shuffled and in order. The
reference holds the genome codes and the coverage as numpy arrays in RAM and per batch
gathers the windows (strided views) and one-hots them with a lookup table (``np.take``).

Three more rows run a 3-epoch fit (``on_epoch_end`` between epochs, as keras calls it)
in memory and out of core (c), order 1 shuffled, and compare the rate of epochs 2-3: the
steady state, once the first epoch has decoded the chunks (and, on a VM, touched fresh
memory for them). Out of core twice: with the default cache, which holds every chunk of
this 10 Mb genome (later epochs decode nothing), and with ``cache_bytes`` set below the
chunks an epoch reads (8 of the coverage store's 10), so chunks are decoded again every
epoch, as when training on a genome larger than the cache.

Rates are batches per second of the epoch's loop (the sequence's construction is timed
apart, ``build``). keras runs with ``KERAS_BACKEND=numpy`` unless set: batches are numpy
whatever the backend. Checked: every sampled batch (up to 40 spread over the epoch, all
with ``--quick``) equals the truth windows of the regions the sequence says it visits.

Run alone: ``python benchmarks/bench_t4_batches.py [--quick]``
"""

from __future__ import annotations

import os
import time

import numpy as np
from common import PRELOAD, Row, Zygote, best_of, best_of_all, fmt_s, yes_no
from data import BATCH, CHROM, Data

MODULE = "bench_t4_batches"
CHECKED_BATCHES = 40


STEADY_EPOCHS = 3
"""Epochs of the steady-state rows (the first one is not counted in their rate)."""


def kmer_onehot(codes: np.ndarray, order: int) -> np.ndarray:
    """Order-k one-hot (first base most significant, as genomarray) by a lookup table."""
    width = codes.shape[-1] - order + 1
    idx = np.zeros((*codes.shape[:-1], width), np.int64)
    for j in range(order):
        idx = idx * 4 + codes[..., j : j + width]
    return np.eye(4**order, dtype=np.float32)[idx]


def truth_batch(data: Data, rows: np.ndarray, order: int) -> dict[str, np.ndarray]:
    """The batch of regions ``rows`` from the truth arrays, by plain fancy indexing."""
    starts = data.load("t4_starts")[rows]
    idx = starts[:, None] + np.arange(data.sizes.width)
    codes = data.load("codes", mmap=True)[idx]
    cov = data.load("coverage", mmap=True)[idx].astype(np.float32)[..., None]
    return {"dna": kmer_onehot(codes, order), "cov": cov}


def _check_batches(data: Data, get, order_rows: np.ndarray, n_batches: int, order: int) -> dict:
    picks = np.unique(np.linspace(0, n_batches - 1, min(n_batches, CHECKED_BATCHES)).astype(int))
    for i in picks.tolist():
        got = get(i)
        want = truth_batch(data, order_rows[i * BATCH : (i + 1) * BATCH], order)
        for key, value in want.items():
            if got[key].shape != value.shape or not np.array_equal(got[key], value):
                return {"ok": False, "check": f"batch {i} {key} differs {got[key].shape}"}
    return {"ok": True, "check": f"{len(picks)} batches equal to truth"}


class NumpyBatches:
    """Reference: the genome codes and the coverage in RAM; per batch a strided gather of
    the windows and a lookup-table one-hot (a full permutation per epoch when shuffled)."""

    def __init__(self, codes, cov, starts, width: int, order: int, shuffle: bool) -> None:
        self.win_codes = np.lib.stride_tricks.sliding_window_view(codes, width)
        self.win_cov = np.lib.stride_tricks.sliding_window_view(cov, width, axis=0)
        self.starts, self.k = starts, order
        self.order = (
            np.random.default_rng(0).permutation(len(starts)) if shuffle else np.arange(len(starts))
        )
        self.lut = np.eye(4**order, dtype=np.float32)

    def __len__(self) -> int:
        return -(-len(self.starts) // BATCH)

    def __getitem__(self, i: int) -> dict[str, np.ndarray]:
        s = self.starts[self.order[i * BATCH : (i + 1) * BATCH]]
        codes = self.win_codes[s]
        if self.k == 1:
            dna = np.take(self.lut, codes, axis=0)
        else:
            width = codes.shape[1] - self.k + 1
            idx = codes[:, :width].astype(np.intp)
            for j in range(1, self.k):
                idx = idx * 4 + codes[:, j : j + width]
            dna = np.take(self.lut, idx, axis=0)
        cov = np.ascontiguousarray(self.win_cov[s].transpose(0, 2, 1))[..., None]
        return {"dna": dna, "cov": cov}


def numpy_reference(spec: dict) -> dict:
    data = Data.from_spec(spec)
    order, shuffle = spec["order"], spec["shuffle"]
    t0 = time.perf_counter()
    codes = data.load("codes")
    cov = data.load("coverage").astype(np.float32)
    seq = NumpyBatches(codes, cov, data.load("t4_starts"), data.sizes.width, order, shuffle)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(len(seq)):
        seq[i]
    seconds = time.perf_counter() - t0
    res = _check_batches(data, seq.__getitem__, seq.order, len(seq), order)
    return {"seconds": seconds, "batches": len(seq), "build": build, **res}


def _views(data: Data):
    import pandas as pd

    import genomarray as ga

    os.environ["GENOMARRAY_OUTPUT"] = data.cache_root
    starts = data.load("t4_starts")
    roi = pd.DataFrame({"chrom": CHROM, "start": starts, "end": starts + data.sizes.width})
    dna = ga.read_fasta(data.fasta)
    cov = ga.read_bam(data.bam, mode="coverage")
    return dna.janggu.view(roi), cov.janggu.view(roi)


def _zarr_paths(data: Data) -> tuple[str, str]:
    return data.path("t4/dna_view.zarr"), data.path("t4/cov_view.zarr")


def write_views(spec: dict) -> dict:
    """Write the views with ``write_zarr`` once (not a measurement)."""
    import genomarray as ga
    from genomarray.genome.manifest import MANIFEST_FILE

    data = Data.from_spec(spec)
    t0 = time.perf_counter()
    for view, path in zip(_views(data), _zarr_paths(data), strict=True):
        written = os.path.exists(os.path.join(path, MANIFEST_FILE))
        if not written:  # absent, or written by a genomarray without store manifests
            ga.write_zarr(view, path, overwrite=True)
    return {"seconds": time.perf_counter() - t0, "ok": True}


def genomarray_batches(spec: dict) -> dict:
    import genomarray as ga
    from genomarray.keras import GenomicSequence

    data = Data.from_spec(spec)
    order, shuffle, where = spec["order"], spec["shuffle"], spec["where"]
    t0 = time.perf_counter()
    if where == "zarr":
        x, c = (ga.open_zarr(p) for p in _zarr_paths(data))
    else:
        x, c = _views(data)
    kwargs = {}
    if where != "memory":  # force out of core: a budget of a quarter of the views' size
        kwargs["max_memory_bytes"] = (x.nbytes + c.nbytes) // 4
    if "cache_bytes" in spec:
        kwargs["cache_bytes"] = int(spec["cache_bytes"])
    seq = GenomicSequence(
        {"dna": x, "cov": c},
        onehot_order=order,
        batch_size=BATCH,
        shuffle=shuffle,
        seed=0,
        **kwargs,
    )
    build = time.perf_counter() - t0
    if seq.in_memory is not (where == "memory"):
        return {"ok": False, "check": f"in_memory is {seq.in_memory} for {where}", "seconds": 0}
    epochs = []  # seconds of each epoch, the next one started as keras' fit does
    for epoch in range(int(spec.get("epochs", 1))):
        if epoch:
            seq.on_epoch_end()
        t0 = time.perf_counter()
        for i in range(len(seq)):
            seq[i]
        epochs.append(time.perf_counter() - t0)
    res = _check_batches(data, seq.__getitem__, seq.order(), len(seq), order)
    later = epochs[1:]
    caches = {  # out of core: each array's cache slots and chunk decodes over the epochs
        k.split("'")[1] if "'" in k else k: [src.capacity, src.cache.loads]
        for k, src in ((k, getattr(s, "inner", s)) for k, s in seq.engine.sources.items())
        if not src.in_memory
    }
    return {
        "caches": caches,
        # one epoch: its time; several: the mean of the epochs after the first (steady)
        "seconds": sum(later) / len(later) if later else epochs[0],
        "first_epoch": epochs[0],
        "batches": len(seq),
        "build": build,
        "blocks": seq.n_blocks,
        **res,
    }


WHERE = {
    "memory": "(a) views in memory",
    "zarr": "(b) out of core, views written with `write_zarr`",
    "lazy": "(c) out of core, **lazy views of the cached stores** (default path)",
}


def rows(data: Data, repeat: int, quick: bool = False) -> list[Row]:
    base = data.spec()
    env = {} if os.environ.get("KERAS_BACKEND") else {"KERAS_BACKEND": "numpy"}
    with Zygote([*PRELOAD, "genomarray.keras.dataset"], env=env) as z:
        best_of(z, MODULE, "write_views", base, 1)
        jobs = {}
        for order in (1, 3):
            for shuffle in (True, False):
                spec = {**base, "order": order, "shuffle": shuffle}
                jobs[order, shuffle, "numpy"] = (z, MODULE, "numpy_reference", spec)
                for where in WHERE:
                    jobs[order, shuffle, where] = (
                        z,
                        MODULE,
                        "genomarray_batches",
                        {**spec, "where": where},
                    )
        for where in ("memory", "lazy"):  # steady state: epochs 2-3 of a 3-epoch fit
            spec = {**base, "order": 1, "shuffle": True, "where": where, "epochs": STEADY_EPOCHS}
            jobs["steady", where] = (z, MODULE, "genomarray_batches", spec)
        # ... with a cache smaller than the chunks an epoch reads (as for a genome larger
        # than the cache): chunks are decoded again every epoch
        spec = {**base, "order": 1, "shuffle": True, "where": "lazy", "epochs": STEADY_EPOCHS}
        jobs["steady", "small"] = (
            z,
            MODULE,
            "genomarray_batches",
            {**spec, "cache_bytes": _small_cache(data)[2]},
        )
        results = best_of_all(jobs, repeat)
    n = data.sizes.batches
    out = []
    for order in (1, 3):
        for shuffle in (True, False):
            label = f"order {order}, {'shuffled' if shuffle else 'in order'}"
            ref = results[order, shuffle, "numpy"]
            task = f"T4 {n} batches of {BATCH} x 1 kb ({label})"
            if ref.failed:
                out.append(Row.failed(task, "numpy gather", ref.error))
                continue
            ref_rate = n / ref.seconds
            ref_s = f"numpy in-RAM gather {ref_rate:,.0f}/s"
            mem = results[order, shuffle, "memory"]
            mem_rate = n / mem.seconds if not mem.failed else float("nan")
            for where, what in WHERE.items():
                res = results[order, shuffle, where]
                if where == "memory":
                    goal = "keep (≥ 1.0x numpy)"
                elif where == "zarr":
                    goal = "≥ 3,000/s and ≥ 0.7x in memory"
                else:
                    goal = "≥ 3,000/s"
                if res.failed:
                    out.append(Row.failed(f"{task}, {what}", ref_s, res.error, goal))
                    continue
                rate = n / res.seconds
                if where == "memory":
                    met = rate >= ref_rate
                elif where == "zarr":
                    met = rate >= 3000 and rate >= 0.7 * mem_rate
                else:
                    met = rate >= 3000
                build = res.extra("build", float("nan"))
                blocks = res.extra("blocks", 1)
                detail = f" ({blocks} blocks)" if where != "memory" else ""
                out.append(
                    Row(
                        f"{task}, {what}",
                        ref_s,
                        f"{rate:,.0f}/s (build {build:.2f} s){detail}",
                        f"{rate / ref_rate:.2f}x rate",
                        goal,
                        yes_no(met),
                    )
                )
    out += _first_epoch_rows(results, n)
    out += _steady_rows(results, n, data)
    out.append(
        Row(
            "T4 SeqData", "not measured: seqdata 0.2.2 does not install (see docs)", "", "", "", "—"
        )
    )
    return out


def _first_epoch_rows(results: dict, n: int) -> list[Row]:
    """Build + first epoch, out of core (lazy views) against in memory, order 1: how long
    a user waits from ``GenomicSequence(...)`` to the end of the first epoch (in memory
    reads the views at build, out of core decodes chunks during the epoch)."""
    out = []
    for shuffle in (True, False):
        label = "shuffled" if shuffle else "in order"
        task = (
            f"T4 {n} batches of {BATCH} x 1 kb (order 1, {label}), build + first epoch, "
            "(c) lazy views"
        )
        mem, lazy = results[1, shuffle, "memory"], results[1, shuffle, "lazy"]
        if mem.failed or lazy.failed:
            out.append(Row.failed(task, "in memory", mem.error if mem.failed else lazy.error))
            continue
        ref = mem.extra("build", float("nan")) + mem.seconds
        got = lazy.extra("build", float("nan")) + lazy.seconds
        ref_s = f"views in memory: {fmt_s(ref)}"
        out.append(Row(task, ref_s, fmt_s(got), f"{got / ref:.2f}x", "", "—"))
    return out


def _small_cache(data: Data) -> tuple[int, int, int]:
    """(slots, chunks, ``cache_bytes``): a cache for 80% of the coverage store's chunks (at
    least 4; stranded int32 coverage served as float32), of the ``chunks`` it has: fewer
    than an epoch reads, as for a genome larger than the cache (a shuffle buffer's chunks,
    and those read ahead, still fit)."""
    from genomarray.genome.graph import DEFAULT_CHUNK

    chunks = -(-data.sizes.length // DEFAULT_CHUNK)
    slots = max(4, (chunks * 4) // 5)
    return slots, chunks, slots * DEFAULT_CHUNK * 2 * 4


def _steady_rows(results: dict, n: int, data: Data) -> list[Row]:
    """Epochs 2-3 of a 3-epoch fit, out of core (lazy views) against in memory: the rate
    once the first epoch has paid for decoding (and this VM's first touch of memory), with
    the default cache (which holds every chunk of this 10 Mb genome, so later epochs
    decode nothing) and with a cache smaller than an epoch's chunks (each decoded again
    every epoch: what training on a genome larger than the cache sees)."""
    mem = results["steady", "memory"]
    goal = "≥ 0.7x in memory"
    out = []
    slots, chunks, _ = _small_cache(data)
    for key, what in (
        ("lazy", "(c) out of core, lazy views (the cache holds every chunk)"),
        (
            "small",
            f"(c) out of core, lazy views, `cache_bytes` for {slots} of the coverage's "
            f"{chunks} chunks"
            if slots < chunks
            else f"(c) out of core, lazy views, `cache_bytes` for {slots} chunks (all "
            f"{chunks} fit at this size)",
        ),
    ):
        lazy = results["steady", key]
        task = (
            f"T4 {n} batches of {BATCH} x 1 kb (order 1, shuffled), epochs 2-{STEADY_EPOCHS} "
            f"of {STEADY_EPOCHS} (steady state), {what}"
        )
        if mem.failed or lazy.failed:
            err = mem.error if mem.failed else lazy.error
            out.append(Row.failed(task, f"in memory, epochs 2-{STEADY_EPOCHS}", err, goal))
            continue
        mem_rate, rate = n / mem.seconds, n / lazy.seconds
        first = n / lazy.extra("first_epoch", float("nan"))
        caches = lazy.extra("caches", {}) or {}
        held = "; ".join(
            f"{k}: {held_slots} slots, {loads} decodes in {STEADY_EPOCHS} epochs"
            for k, (held_slots, loads) in caches.items()
        )
        out.append(
            Row(
                task,
                f"views in memory, epochs 2-{STEADY_EPOCHS}: {mem_rate:,.0f}/s",
                f"{rate:,.0f}/s (epoch 1: {first:,.0f}/s; {held})",
                f"{rate / mem_rate:.2f}x rate",
                goal,
                yes_no(rate >= 0.7 * mem_rate),
            )
        )
    return out


def main(argv: list[str] | None = None) -> list[Row]:
    import run_all

    return run_all.main(["--only", "T4", *(argv or [])])


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
