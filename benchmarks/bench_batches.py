"""Training batches/s: 128 x 1 kb one-hot (order 1, from uint8 codes) plus a coverage track.

Reference, measured in the same run: the genome and the track held in RAM as numpy
arrays, windows cut per batch by fancy indexing and one-hot by a lookup table ``lut[codes]``.
genomarray: :class:`genomarray.keras.GenomicSequence` over region views, (a) views held
in memory, (b) views written to zarr and reopened, larger than ``max_memory_bytes`` (the
out-of-core path: one read per zarr chunk, shuffled within a buffer of chunks).
Target (design): >= 1,500 batches/s reading lazily from zarr.

Run: ``python benchmarks/bench_batches.py [--mb 10] [--windows 20000]``
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
from common import Table, best_time, peak_rss_mb, scratch_output, window_parser, write_random_fasta

import genomarray as ga
from genomarray import model
from genomarray.store import open_zarr, write_zarr

BATCH = 128


def _epoch_rate(seq, shuffle_epochs: int = 2) -> float:
    """Batches/s over whole epochs (the first is a warm-up)."""
    rates = []
    for _ in range(shuffle_epochs + 1):
        t0 = time.perf_counter()
        for i in range(len(seq)):
            seq[i]
        rates.append(len(seq) / (time.perf_counter() - t0))
        seq.on_epoch_end()
    return max(rates[1:])


def main(argv: list[str] | None = None) -> Table:
    from genomarray.keras import GenomicSequence

    args = window_parser(__doc__).parse_args(argv)
    tmp = scratch_output("ga-bench-")
    n = int(args.mb * 1e6)
    width = args.width
    fasta = write_random_fasta(os.path.join(tmp, "g.fa"), {"chr1": n})
    dna = ga.read_fasta(fasta, store_path=os.path.join(tmp, "g.zarr"), progress=False)
    genome = np.asarray(dna.values[0])
    rng = np.random.default_rng(0)
    track_np = rng.poisson(2.0, (n, 2)).astype(np.float32)
    track = model.coverage_track(track_np.reshape(1, n, 2, 1), ["chr1"], [n], ["+", "-"],
                                 ["cov"])

    starts = np.sort(rng.integers(0, n - width, args.windows))
    roi = pd.DataFrame({"chrom": "chr1", "start": starts, "end": starts + width,
                        "name": ".", "score": 0.0, "strand": "+"})
    lut = np.eye(5, 4, dtype=np.float32)
    offsets = np.arange(width)

    def reference(shuffle: bool) -> None:
        order = rng.permutation(len(starts)) if shuffle else np.arange(len(starts))
        for i in range(0, len(starts), BATCH):
            idx = starts[order[i:i + BATCH], None] + offsets
            lut[genome[idx]]
            track_np[idx]

    codes_mem = dna.janggu.view(roi).compute()
    cov_mem = track.janggu.view(roi).compute()
    codes_z = open_zarr(write_zarr(codes_mem, os.path.join(tmp, "codes.zarr"),
                                   chunks={"region": 2048}, progress=False))
    cov_z = open_zarr(write_zarr(cov_mem.astype(np.float32), os.path.join(tmp, "cov.zarr"),
                                 chunks={"region": 2048}, progress=False))
    on_disk = codes_z.nbytes + cov_z.nbytes
    table = Table("training batches (128 x 1 kb one-hot + coverage track)")
    for shuffle in (False, True):
        t_ref = best_time(lambda s=shuffle: reference(s))
        ref_rate = len(range(0, len(starts), BATCH)) / t_ref
        label = "shuffled" if shuffle else "in order"
        for where, (c, v, budget) in {
                "in-memory views": (codes_mem, cov_mem, 1 << 34),
                "zarr, out of core": (codes_z, cov_z, on_disk // 4)}.items():
            seq = GenomicSequence({"dna": c, "cov": v}, onehot_order=1, batch_size=BATCH,
                                  shuffle=shuffle, seed=0, max_memory_bytes=budget)
            assert seq.in_memory is (where == "in-memory views")
            rate = _epoch_rate(seq)
            table.add(f"{label}, {where}", f"{ref_rate:,.0f}/s", f"{rate:,.0f}/s",
                      rate / ref_rate, ">= 1,500/s" if "zarr" in where else ">= 1.0x")
    table.print()
    print(f"\npeak RSS {peak_rss_mb():.0f} MB; genome {n / 1e6:.0f} Mb, {args.windows} windows "
          f"of {width} bp, zarr views {on_disk / 1e6:.0f} MB in chunks of 2048 regions, "
          f"max_memory_bytes = 1/4 of that; reference = in-RAM numpy gather + lookup table "
          f"(float32); one core, no keras workers")
    return table


if __name__ == "__main__":
    main()
