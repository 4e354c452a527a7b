"""Run every benchmark and print their tables (ratios against references in the same run).

Run: ``python benchmarks/run_all.py``
"""

from __future__ import annotations

import importlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

BENCHMARKS = [
    "bench_onehot",
    "bench_bam",
    "bench_bigwig",
    "bench_batches",
    "bench_memory",
    "bench_cluster",
    "bench_genome_ops",
]


def main() -> None:
    for name in BENCHMARKS:
        t0 = time.perf_counter()
        importlib.import_module(name).main([])
        print(f"({name}: {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
