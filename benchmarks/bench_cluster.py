"""Scaling of a BAM coverage build on a ``distributed`` cluster, and ``import genomarray`` time.

A BAM of 4 chromosomes x 10 Mb with 2 M single-end 50 bp reads (uniform, 2.5x) is written
once (numpy records, as in bench_bam.py) and cached under the temp folder. Its stranded
per-base coverage store (``read_bam(..., mode="coverage", store_path=...)``, 1 Mb chunks:
40 tasks) is built on a ``LocalCluster(processes=True)`` of 1 worker, then of 2 workers
(1 thread each); genomarray uses the active client by itself. Each time is the best of
``--repeat`` builds after a warm-up build. Target: 2 workers >= 1.6x faster than 1.

``import genomarray`` is timed as a fresh ``python -c "import genomarray"`` minus a bare
``python -c pass`` (best of 5 each). Target: <= 1 s.

Run: ``python benchmarks/bench_cluster.py [--mb 10] [--reads 2000000] [--chroms 4]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from bench_bam import write_bam
from common import Table, scratch_output


def _python_time(code: str, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        best = min(best, time.perf_counter() - t0)
    return best


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


def main(argv: list[str] | None = None) -> Table:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=10, help="chromosome size in Mb (10)")
    parser.add_argument("--chroms", type=int, default=4, help="number of chromosomes (4)")
    parser.add_argument("--reads", type=int, default=2_000_000, help="number of reads")
    parser.add_argument("--repeat", type=int, default=2, help="timed builds per cluster")
    args = parser.parse_args(argv)

    table = Table("distributed build scaling and import time", ratio_label="speed-up")
    t_bare = _python_time("pass")
    t_import = _python_time("import genomarray") - t_bare
    table.add(
        "import genomarray (fresh process - bare python)",
        f"{t_bare:.2f} s bare",
        f"{t_import:.2f} s",
        1.0 / max(t_import, 1e-9),
        "<= 1 s",
    )

    length = int(args.mb * 1e6)
    lengths = {f"chr{i + 1}": length for i in range(args.chroms)}
    folder = os.path.join(tempfile.gettempdir(), "genomarray-bench-cluster")
    os.makedirs(folder, exist_ok=True)
    bam = os.path.join(folder, f"{args.chroms}x{length}_{args.reads}.bam")
    if not (os.path.exists(bam) and os.path.exists(bam + ".bai")):
        t0 = time.perf_counter()
        write_bam(bam, lengths, args.reads)
        print(f"wrote {bam} in {time.perf_counter() - t0:.1f} s")
    out = scratch_output("ga-cluster-")
    tasks = args.chroms * -(-length // (1 << 20))
    t1 = _cluster_build(bam, out, 1, args.repeat)
    t2 = _cluster_build(bam, out, 2, args.repeat)
    what = f"coverage store, {args.chroms} x {args.mb:g} Mb, {args.reads / 1e6:g} M reads"
    table.add(
        f"{what}, {tasks} tasks: 1 vs 2 workers",
        f"{t1:.2f} s (1 worker)",
        f"{t2:.2f} s (2 workers)",
        t1 / t2,
        ">= 1.6x",
    )
    table.print()
    return table


if __name__ == "__main__":
    main()
