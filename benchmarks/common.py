"""Shared helpers of the benchmark scripts: timing, synthetic data, the ratio table."""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


def window_parser(doc: str, what: str = "genome") -> argparse.ArgumentParser:
    """Argument parser shared by the window benchmarks: --mb, --windows, --width."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--mb", type=float, default=10, help=f"{what} size in Mb (10)")
    parser.add_argument("--windows", type=int, default=20_000, help="number of windows")
    parser.add_argument("--width", type=int, default=1000, help="window length (1000)")
    return parser


def scratch_output(prefix: str) -> str:
    """A fresh temporary folder, also made the output root of this process."""
    import tempfile

    tmp = tempfile.mkdtemp(prefix=prefix)
    os.environ["GENOMARRAY_OUTPUT"] = tmp
    return tmp


def best_time(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best wall time of ``repeat`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (``VmHWM``: unlike ru_maxrss it
    does not carry a parent's peak across fork + exec)."""
    try:
        with open("/proc/self/status") as fh:
            return next(int(x.split()[1]) for x in fh if x.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_random_fasta(path: str, lengths: dict[str, int], seed: int = 0) -> str:
    """Write a random genome (uniform ACGT, 60 bases per line) and return its path."""
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    with open(path, "wb") as fh:
        for chrom, n in lengths.items():
            fh.write(f">{chrom}\n".encode())
            seq = letters[rng.integers(0, 4, n)]
            pad = (-n) % 60
            lines = np.concatenate([seq, np.zeros(pad, np.uint8)]).reshape(-1, 60)
            nl = np.full((len(lines), 1), ord("\n"), np.uint8)
            block = np.hstack([lines, nl]).ravel()
            if pad:
                block = np.delete(block, np.arange(len(block) - 1 - pad, len(block) - 1))
            fh.write(block.tobytes())
    return path


@dataclass
class Table:
    """Rows of (task, reference, genomarray, ratio, target) printed as one table."""

    title: str
    ratio_label: str = "speed vs ref"
    rows: list[tuple[str, ...]] = field(default_factory=list)

    def add(self, task: str, reference: str, ours: str, ratio: float, target: str) -> None:
        self.rows.append((task, reference, ours, f"{ratio:.2f}x", target))

    def print(self) -> None:
        header = ("task", "reference", "genomarray", self.ratio_label, "target")
        widths = [max(len(str(r[i])) for r in [header, *self.rows]) for i in range(5)]
        line = " | ".join
        print(f"\n## {self.title}  ({os.cpu_count()} cores)\n")
        print("| " + line(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
        print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        for row in self.rows:
            print("| " + line(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
