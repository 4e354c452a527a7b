"""Scaling of a BAM coverage build on a ``distributed`` cluster.

A BAM of 4 chromosomes x 10 Mb with 2 M single-end 50 bp reads (uniform, 2.5x) is written
once (numpy records, as in bench_bam.py) and cached under the temp folder. Its stranded
per-base coverage store (``read_bam(..., mode="coverage", store_path=...)``, 1 Mb chunks:
40 tasks) is built on a ``LocalCluster(processes=True)`` of 1 worker, then of 2 workers
(1 thread each); genomarray uses the active client by itself. Each time is the best of
``--repeat`` builds after a warm-up build. Target: 2 workers >= 1.6x faster than 1.

(Start-up time is measured by ``bench_import.py``.)

Run: ``python benchmarks/bench_cluster.py [--mb 10] [--reads 2000000] [--chroms 4]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

from common import Row, fmt_s, yes_no
from data import write_bam


def _cluster_build(bam: str, out: str, workers: int, repeat: int) -> float:
    """Best build time on a fresh LocalCluster of ``workers`` 1-thread worker processes."""
    import distributed

    import genomarray as ga

    with (
        distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
        ) as cluster,
        distributed.Client(cluster),
    ):
        best = float("inf")
        for i in range(repeat + 1):  # the first build warms the workers up (imports)
            target = os.path.join(out, f"w{workers}-{i}.zarr")
            t0 = time.perf_counter()
            ga.read_bam(bam, mode="coverage", store_path=target, progress=False)
            if i:
                best = min(best, time.perf_counter() - t0)
    return best


def measure(mb: float, chroms: int, reads: int, repeat: int) -> Row:
    length = int(mb * 1e6)
    lengths = {f"chr{i + 1}": length for i in range(chroms)}
    folder = os.path.join(tempfile.gettempdir(), "genomarray-bench-cluster")
    os.makedirs(folder, exist_ok=True)
    bam = os.path.join(folder, f"{chroms}x{length}_{reads}.bam")
    if not (os.path.exists(bam) and os.path.exists(bam + ".bai")):
        t0 = time.perf_counter()
        write_bam(bam, lengths, reads)
        print(f"wrote {bam} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    out = tempfile.mkdtemp(prefix="ga-cluster-")
    os.environ["GENOMARRAY_OUTPUT"] = out
    try:
        tasks = chroms * -(-length // (1 << 20))
        t1 = _cluster_build(bam, out, 1, repeat)
        t2 = _cluster_build(bam, out, 2, repeat)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    what = f"{chroms} x {mb:g} Mb, {reads / 1e6:g} M reads, {tasks} tasks"
    return Row(
        f"cluster: BAM coverage store on a LocalCluster, 2 workers vs 1 ({what})",
        f"1 worker {fmt_s(t1)}",
        f"2 workers {fmt_s(t2)}",
        f"{t1 / t2:.2f}x speed-up",
        "≥ 1.6x speed-up",
        yes_no(t1 / t2 >= 1.6),
    )


def rows(data: object, repeat: int, quick: bool = False) -> list[Row]:
    if quick:
        return [measure(2, 2, 200_000, 1)]
    return [measure(10, 4, 2_000_000, 2)]


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=10, help="chromosome size in Mb (10)")
    parser.add_argument("--chroms", type=int, default=4, help="number of chromosomes (4)")
    parser.add_argument("--reads", type=int, default=2_000_000, help="number of reads")
    parser.add_argument("--repeat", type=int, default=2, help="timed builds per cluster")
    args = parser.parse_args(argv)
    row = measure(args.mb, args.chroms, args.reads, args.repeat)
    from common import print_table

    print_table([row], "distributed build scaling")
    return [row]


if __name__ == "__main__":
    main()
