"""Peak memory of genome-wide builds on a 250 Mb chromosome (target <= 2 GB each).

Each build runs in a fresh process so its peak RSS is its own: a FASTA genome written to
zarr, a BAM coverage track (5' counts, both strands) written to zarr, and 20k one-hot
windows streamed from the zarr genome. The reference row is the size of the chromosome's
array held in RAM, which an eager (non-lazy) build would need at least.

Run: ``python benchmarks/bench_memory.py [--mb 250]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from common import Row, print_table, yes_no
from data import write_random_fasta

CHILD = r"""
import json, os, sys, time
import numpy as np, pandas as pd
import genomarray as ga
task, tmp = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
if task == "fasta":
    ga.read_fasta(os.path.join(tmp, "g.fa"), store_path=os.path.join(tmp, "g.zarr"),
                  progress=False)
elif task == "bam":
    ga.read_bam(os.path.join(tmp, "r.bam"), store_path=os.path.join(tmp, "r.zarr"),
                progress=False)
elif task == "onehot":
    dna = ga.open_zarr(os.path.join(tmp, "g.zarr"))
    n = int(dna.chrom_length[0])
    starts = np.sort(np.random.default_rng(0).integers(0, n - 1000, 20000))
    roi = pd.DataFrame({"chrom": "chr1", "start": starts, "end": starts + 1000})
    x = dna.janggu.view(roi).janggu.onehot(order=3)
    x.data.map_blocks(lambda b: np.zeros((1, 1, 1)), chunks=((1,) * x.data.numblocks[0],
                      (1,), (1,))).compute()
# VmHWM is this process's own peak (ru_maxrss would carry the parent's across fork + exec)
peak = next(int(line.split()[1]) for line in open("/proc/self/status")
            if line.startswith("VmHWM")) / 1024
print(json.dumps({"peak_mb": peak, "seconds": time.perf_counter() - t0}))
"""


def write_sparse_bam(path: str, length: int, n_reads: int, seed: int = 0) -> str:
    """A coordinate-sorted, indexed BAM with ``n_reads`` 50 bp reads on one chromosome."""
    import pysam

    rng = np.random.default_rng(seed)
    starts = np.sort(rng.integers(0, length - 50, n_reads))
    reverse = rng.random(n_reads) < 0.5
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chr1", "LN": length}]}
    with pysam.AlignmentFile(path, "wb", header=header) as out:
        for i, (s, r) in enumerate(zip(starts.tolist(), reverse.tolist(), strict=True)):
            a = pysam.AlignedSegment(out.header)
            a.query_name, a.reference_id, a.reference_start = f"r{i}", 0, s
            a.flag, a.mapping_quality, a.cigarstring = 16 if r else 0, 60, "50M"
            a.query_sequence = "A" * 50
            out.write(a)
    pysam.index(path)
    return path


def measure(mb: float, reads: int) -> list[Row]:
    n = int(mb * 1e6)
    tmp = tempfile.mkdtemp(prefix="ga-mem-")
    try:
        write_random_fasta(os.path.join(tmp, "g.fa"), {"chr1": n})
        write_sparse_bam(os.path.join(tmp, "r.bam"), n, reads)
        env = {**os.environ, "GENOMARRAY_OUTPUT": tmp}
        eager = {"fasta": n, "bam": n * 2 * 4, "onehot": 20_000 * 998 * 64 * 4}
        out = []
        for task in ("fasta", "bam", "onehot"):
            proc = subprocess.run(
                [sys.executable, "-c", CHILD, task, tmp],
                env=env,
                capture_output=True,
                text=True,
                check=True,
                cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
            )
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            out.append(
                Row(
                    f"memory: {task} build on a {mb:g} Mb chromosome, peak RSS "
                    f"({res['seconds']:.1f} s)",
                    f"eager array {eager[task] / 2**20:,.0f} MB",
                    f"{res['peak_mb']:,.0f} MB",
                    f"{res['peak_mb'] / (eager[task] / 2**20):.2f}x of eager",
                    "≤ 2,048 MB",
                    yes_no(res["peak_mb"] <= 2048),
                )
            )
        return out
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def rows(data: object, repeat: int, quick: bool = False) -> list[Row]:
    return measure(20, 50_000) if quick else measure(250, 500_000)


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=250, help="chromosome length in Mb (250)")
    parser.add_argument("--reads", type=int, default=500_000, help="reads in the BAM")
    args = parser.parse_args(argv)
    out = measure(args.mb, args.reads)
    print_table(out, "peak memory of builds")
    return out


if __name__ == "__main__":
    main()
