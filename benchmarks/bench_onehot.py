"""One-hot windows/s for 1 kb windows at order 1 and 3 from the zarr genome.

Reference, measured in the same run: the genome held in RAM as a numpy uint8 array,
windows cut by fancy indexing and one-hot by a plain lookup table ``lut[codes]``.
genomarray reads the zarr store lazily (dask), gathers windows per task and one-hots
them per chunk. Targets (issue 2): >= 100k order-1 windows/s per core, order 3 >= 30k/s.

Run: ``python benchmarks/bench_onehot.py [--mb 10] [--windows 20000]``
"""

from __future__ import annotations

import os

import dask
import numpy as np
import pandas as pd
from common import (
    Table,
    best_time,
    peak_rss_mb,
    scratch_output,
    window_parser,
    write_random_fasta,
)

import genomarray as ga

BATCH = 128


def main(argv: list[str] | None = None) -> Table:
    args = window_parser(__doc__).parse_args(argv)
    tmp = scratch_output("ga-bench-")
    n = int(args.mb * 1e6)
    fasta = write_random_fasta(os.path.join(tmp, "g.fa"), {"chr1": n})
    dna = ga.read_fasta(fasta, store_path=os.path.join(tmp, "g.zarr"), progress=False)
    genome = dna.values[0]  # the reference holds the genome in RAM

    rng = np.random.default_rng(1)
    width = args.width
    layouts = {
        "tiled": np.arange(args.windows, dtype=np.int64) * ((n - width) // args.windows),
        "random": np.sort(rng.integers(0, n - width, args.windows)),
    }
    table = Table("one-hot windows from the zarr genome")
    for layout, starts in layouts.items():
        roi = pd.DataFrame(
            {
                "chrom": "chr1",
                "start": starts,
                "end": starts + width,
                "name": ".",
                "score": 0.0,
                "strand": "+",
            }
        )
        for order in (1, 3):
            lut = np.eye(4**order + 1, 4**order, dtype=np.float32)

            def reference(order=order, lut=lut, starts=starts):
                for i in range(0, len(starts), BATCH):  # batches, as a training loop would
                    codes = genome[starts[i : i + BATCH, None] + np.arange(width)]
                    idx = np.zeros((len(codes), width - order + 1), np.int64)
                    for j in range(order):
                        idx = idx * 4 + codes[:, j : width - order + 1 + j]
                    lut[idx]

            t_ref = best_time(reference)
            for dtype in ("float32", "uint8"):
                x = dna.janggu.view(roi).janggu.onehot(order=order, dtype=dtype)
                # every block is computed and dropped: memory stays bounded by the chunks
                done = x.data.map_blocks(
                    lambda b: np.full((1,) * b.ndim, b.shape[0]),
                    chunks=((1,) * x.data.numblocks[0], (1,), (1,)),
                )
                with dask.config.set(scheduler="threads"):
                    t_threads = best_time(done.compute)
                assert int(done.sum().compute()) == args.windows
                with dask.config.set(scheduler="synchronous"):
                    t_one = best_time(done.compute)
                table.add(
                    f"{layout} order {order} {dtype}, 2 threads",
                    f"{args.windows / t_ref:,.0f}/s",
                    f"{args.windows / t_threads:,.0f}/s",
                    t_ref / t_threads,
                    ">= 1.0x",
                )
                target = ">= 100,000/s" if order == 1 else ">= 30,000/s"
                table.add(
                    f"{layout} order {order} {dtype}, 1 core",
                    "",
                    f"{args.windows / t_one:,.0f}/s",
                    t_ref / t_one,
                    target,
                )
    table.print()
    print(
        f"\npeak RSS {peak_rss_mb():.0f} MB; genome {n / 1e6:.0f} Mb, {args.windows} windows "
        f"of {width} bp; reference = in-RAM numpy lookup table (float32), "
        f"batches of {BATCH}"
    )
    return table


if __name__ == "__main__":
    main()
