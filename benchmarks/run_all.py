"""Run the benchmarks and print ONE table: task | reference | genomarray | ratio | goal | met?

Every row times the documented user-facing call (file or store -> numpy or batches) in
fresh processes (best of 3; see ``common.py``), against the strongest reference on the
same data measured in the same run, and checks the values against truth arrays (a row
whose check fails says FAILED). The data (issue 15: a 10 Mb chromosome, 1 M x 50 bp reads,
a per-base bigWig, 20,000 windows of 1 kb; T4: 200 batches of 128) are written once under
the temp folder (``$GENOMARRAY_BENCH_DATA`` to choose another) and reused.

Run: ``python benchmarks/run_all.py [--only T1,T4] [--quick] [--repeat 3]``

``--quick`` is a smoke run (a 1 Mb chromosome, 100 k reads, 2,000 windows, 20 batches,
one process per row; under 2 minutes): its numbers are not the benchmark.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]  # this checkout's genomarray is measured

from common import Row, load_average, print_table  # noqa: E402
from data import dataset  # noqa: E402

TASKS = {
    "T1": "bench_t1_bam",
    "T2": "bench_t2_bigwig",
    "T3": "bench_t3_fasta",
    "T4": "bench_t4_batches",
    "builds": "bench_builds",
    "import": "bench_import",
    "cluster": "bench_cluster",
    "memory": "bench_memory",
    "ops": "bench_genome_ops",
    "labels": "bench_many_labels",
}
DEFAULT = ["T1", "T2", "T3", "T4", "builds", "import", "cluster", "memory", "ops", "labels"]
QUICK = ["T1", "T2", "T3", "T4", "builds", "import", "labels"]


def compile_checkout() -> None:
    """Write the bytecode of the measured checkout, as ``pip install`` does for an
    installed package: where ``PYTHONDONTWRITEBYTECODE`` is set (it is on the machine of
    docs/benchmarks.md), every fresh process would otherwise compile each genomarray
    module it imports (~0.03-0.2 s a row)."""
    import compileall

    repo = os.path.dirname(_HERE)
    for folder in ("genomarray", "accessors"):
        compileall.compile_dir(os.path.join(repo, folder), quiet=1)
    compileall.compile_file(os.path.join(repo, "genomarray_cli.py"), quiet=1)


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", help=f"comma-separated subset of {', '.join(TASKS)} (default: all)"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument("--repeat", type=int, help="fresh processes per row (3; 1 with --quick)")
    parser.add_argument("--markdown", metavar="PATH", help="also write the table to PATH")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else (QUICK if args.quick else DEFAULT)
    unknown = [n for n in names if n not in TASKS]
    if unknown:
        parser.error(f"unknown task(s) {unknown}; choose from {list(TASKS)}")
    repeat = args.repeat or (1 if args.quick else 3)
    t_start = time.perf_counter()
    load_before = load_average()
    compile_checkout()
    data = dataset(quick=args.quick)
    rows: list[Row] = []
    for name in names:
        t0 = time.perf_counter()
        rows += importlib.import_module(TASKS[name]).rows(data, repeat, args.quick)
        print(f"({name}: {time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    notes = (
        f"best of {repeat} fresh process(es) per row; ratio = genomarray time / reference "
        "time (> 1: slower) unless the row says rate; "
        f"{load_before} at the start, {load_average()} at the end; "
        f"{time.perf_counter() - t_start:.0f} s in all; data in {data.root}"
    )
    text = print_table(
        rows, "genomarray vs references" + (" (QUICK smoke run)" if args.quick else ""), notes
    )
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(text + "\n")
    return rows


if __name__ == "__main__":
    main()
