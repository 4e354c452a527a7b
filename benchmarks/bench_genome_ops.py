"""Predictions back to a many-contig genome, and storage-time shuffling of many chunks.

1. ``to_genome`` on an assembly of one 50 Mb chromosome plus 3,000 small scaffolds (a draft
   genome's layout), 2,000 windows of 1 kb: graph construction plus reading one scaffold
   back. Reference, same run: the same placement by a plain numpy loop into one array per
   chromosome (eager, all in RAM).
2. ``write_shuffled`` of a dask-backed view of 200k regions x 100 float32 in 200 chunks:
   the spill path (uncompressed chunk files, one gather task per output chunk) against
   the lazy dask permutation (``shuffle`` then ``write_zarr``; every output chunk depends
   on every input chunk) measured in the same run.

Run: ``python benchmarks/bench_genome_ops.py [--scaffolds 3000] [--regions 200000]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

import dask.array as da
import numpy as np
import pandas as pd
from common import Row, fmt_s, print_table, yes_no

from genomarray import model
from genomarray.genome.store import write_zarr
from genomarray.transforms import split
from genomarray.views.predictions import to_genome
from genomarray.views.shuffled import write_shuffled


def _naive_to_genome(
    values: np.ndarray, regions: pd.DataFrame, sizes: dict[str, int]
) -> dict[str, np.ndarray]:
    """Mean of overlapping windows per base, a numpy loop over windows."""
    total = {c: np.zeros(n) for c, n in sizes.items()}
    hits = {c: np.zeros(n) for c, n in sizes.items()}
    for (chrom, start, end), v in zip(regions.itertuples(index=False), values, strict=True):
        total[chrom][start:end] += v[: end - start]
        hits[chrom][start:end] += 1
    return {c: np.where(hits[c] > 0, total[c] / np.maximum(hits[c], 1), 0.0) for c in sizes}


def bench_to_genome(n_scaffolds: int) -> Row:
    rng = np.random.default_rng(0)
    sizes = {"chr1": 50_000_000, **{f"scaffold_{i}": 20_000 for i in range(n_scaffolds)}}
    starts = np.r_[np.sort(rng.integers(0, 49_000_000, 1000)), rng.integers(0, 19_000, 1000)]
    chroms = ["chr1"] * 1000 + [f"scaffold_{i}" for i in rng.integers(0, n_scaffolds, 1000)]
    regions = pd.DataFrame({"chrom": chroms, "start": starts, "end": starts + 1000})
    values = rng.random((2000, 1000)).astype(np.float32)
    view = model.region_view(values, regions, resolution=1)
    probe = chroms[-1]

    t0 = time.perf_counter()
    naive = _naive_to_genome(values, regions, sizes)
    t_ref = time.perf_counter() - t0
    t0 = time.perf_counter()
    track = to_genome(view, sizes)
    got = track.sel(chrom=probe).values[: sizes[probe], 0, 0]
    t_ours = time.perf_counter() - t0
    np.testing.assert_allclose(got, naive[probe], rtol=1e-6)
    return Row(
        f"ops: `to_genome`, 1 chromosome + {n_scaffolds:,} scaffolds: graph + one scaffold",
        f"numpy loop, eager {fmt_s(t_ref)}",
        fmt_s(t_ours),
        f"{t_ours / t_ref:.2f}x",
        "interactive (< 1 s)",
        yes_no(t_ours < 1.0),
    )


def bench_write_shuffled(n_regions: int) -> Row:
    tmp = tempfile.mkdtemp(prefix="ga-bench-shuffle-")
    os.environ["GENOMARRAY_OUTPUT"] = tmp
    regions = pd.DataFrame(
        {
            "chrom": "chr1",
            "start": np.arange(n_regions) * 100,
            "end": np.arange(n_regions) * 100 + 100,
        }
    )
    base = model.region_view(np.zeros((n_regions, 100), np.float32), regions, resolution=1)
    rows = 1000
    data = da.random.default_rng(1).random((n_regions, 100), chunks=(rows, 100), dtype=np.float32)
    view = base.copy(data=data)

    t0 = time.perf_counter()
    lazy = split.shuffle(view, 1)
    lazy = lazy.copy(data=lazy.data.rechunk((rows, 100)))
    write_zarr(lazy, os.path.join(tmp, "lazy.zarr"), progress=False)
    t_ref = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = write_shuffled(
        view, os.path.join(tmp, "spill.zarr"), 1, chunk_regions=rows, progress=False
    )
    t_ours = time.perf_counter() - t0
    assert np.array_equal(out[:50].values, lazy[:50].values)
    shutil.rmtree(tmp, ignore_errors=True)
    return Row(
        f"ops: `write_shuffled`, {n_regions:,} regions in {data.npartitions} chunks",
        f"lazy permutation + write_zarr {fmt_s(t_ref)}",
        f"spill {fmt_s(t_ours)}",
        f"{t_ours / t_ref:.2f}x",
        "≤ 1.0x",
        yes_no(t_ours <= t_ref),
    )


def rows(data: object, repeat: int, quick: bool = False) -> list[Row]:
    if quick:
        return [bench_to_genome(300), bench_write_shuffled(20_000)]
    return [bench_to_genome(3000), bench_write_shuffled(200_000)]


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scaffolds", type=int, default=3000)
    parser.add_argument("--regions", type=int, default=200_000)
    args = parser.parse_args(argv)
    out = [bench_to_genome(args.scaffolds), bench_write_shuffled(args.regions)]
    print_table(out, "genome operations at scale")
    return out


if __name__ == "__main__":
    main()
