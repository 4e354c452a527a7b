"""BAM -> per-base counts: genomarray's BamCounter against ``samtools depth -a``.

A 10 Mb chromosome with 2 M single-end 50 bp reads (uniform, 10x) is written once (numpy
records, BGZF-compressed by pysam, indexed) and cached under the temp folder. The
reference is ``samtools depth -a`` (output to /dev/null), timed in the same run; genomarray
computes the whole chromosome as a dask array of 1 Mb chunks
(``store.genome_array(BamCounter(...))``) on 2 threads and on 1, in coverage and 5' modes.
Target (DESIGN.md): coverage at <= 1.0x the time of samtools depth on 2 threads.

Run: ``python benchmarks/bench_bam.py [--mb 10] [--reads 2000000]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import zlib

import dask
import numpy as np
from common import Table, best_time, peak_rss_mb

from genomarray import store
from genomarray.io import bam
from genomarray.io.bam import BamCounter

READ_LEN = 50
_RECORD = np.dtype(
    [
        ("block_size", "<i4"),
        ("ref_id", "<i4"),
        ("pos", "<i4"),
        ("l_read_name", "u1"),
        ("mapq", "u1"),
        ("bin", "<u2"),
        ("n_cigar_op", "<u2"),
        ("flag", "<u2"),
        ("l_seq", "<i4"),
        ("next_ref_id", "<i4"),
        ("next_pos", "<i4"),
        ("tlen", "<i4"),
        ("read_name", "S10"),
        ("cigar", "<u4"),
        ("seq", "u1", (READ_LEN + 1) // 2),
        ("qual", "u1", READ_LEN),
    ]
)


def _reg2bin(beg: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Vectorised reg2bin of the SAM specification (end exclusive)."""
    end = end - 1
    out = np.zeros(len(beg), np.int64)
    for shift, first in ((26, 1), (23, 9), (20, 73), (17, 585), (14, 4681)):
        same = (beg >> shift) == (end >> shift)
        out = np.where(same, first + (beg >> shift), out)
    return out


def write_bam(
    path: str, lengths: int | dict[str, int], n_reads: int, seed: int = 0, batch: int = 200_000
) -> str:
    """Write a sorted, indexed BAM of ``n_reads`` uniform 50 bp single-end reads, fast
    (numpy records, in batches). ``lengths`` is ``{chrom: bp}`` (reads spread in proportion
    to length) or one length for a single chromosome ``chr1``."""
    import pysam

    if isinstance(lengths, int | np.integer):
        lengths = {"chr1": int(lengths)}
    rng = np.random.default_rng(seed)
    names = list(lengths)
    text = "@HD\tVN:1.6\tSO:coordinate\n" + "".join(
        f"@SQ\tSN:{c}\tLN:{n}\n" for c, n in lengths.items()
    )
    header = b"BAM\x01" + np.int32(len(text)).tobytes() + text.encode()
    header += np.int32(len(names)).tobytes()
    for c in names:
        header += (
            np.int32(len(c) + 1).tobytes() + c.encode() + b"\x00" + np.int32(lengths[c]).tobytes()
        )
    total = sum(lengths.values())
    counts = [n_reads * n // total for n in lengths.values()]
    counts[-1] += n_reads - sum(counts)
    tmp = path + ".partial"
    serial = 0
    with pysam.BGZFile(tmp, "wb") as out:
        out.write(header)
        for ref_id, (chrom, count) in enumerate(zip(names, counts, strict=True)):
            positions = np.sort(rng.integers(0, lengths[chrom] - READ_LEN, count))
            for i in range(0, count, batch):
                pos = positions[i : i + batch]
                n = len(pos)
                rec = np.zeros(n, _RECORD)
                rec["block_size"] = _RECORD.itemsize - 4
                rec["ref_id"] = ref_id
                rec["pos"] = pos
                rec["l_read_name"] = 10
                rec["mapq"] = 60
                rec["bin"] = _reg2bin(pos, pos + READ_LEN)
                rec["n_cigar_op"] = 1
                rec["flag"] = np.where(rng.random(n) < 0.5, 0, 16)
                rec["l_seq"] = READ_LEN
                rec["next_ref_id"] = -1
                rec["next_pos"] = -1
                rec["read_name"] = np.char.encode(
                    np.char.add("r", np.arange(serial, serial + n).astype("U8")).astype("U9"),
                    "ascii",
                )
                serial += n
                rec["cigar"] = READ_LEN << 4  # 50M
                codes = np.array([1, 2, 4, 8], np.uint8)[rng.integers(0, 4, (n, READ_LEN))]
                rec["seq"] = (codes[:, 0::2] << 4) | codes[:, 1::2]
                rec["qual"] = rng.choice(
                    np.array([2, 12, 23, 37], np.uint8), (n, READ_LEN), p=[0.02, 0.05, 0.13, 0.8]
                )
                out.write(rec.tobytes())
    os.replace(tmp, path)
    pysam.index(path)
    return path


def _samtools_rss(path: str) -> str:
    """Peak RSS of ``samtools depth -a`` via GNU time (a child forked from this process
    would report this process's RSS), or "n/a"."""
    if not os.path.exists("/usr/bin/time"):
        return "n/a"
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "samtools", "depth", "-a", path],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        return f"{int(out.stderr.split()[-1]) / 1024:.0f} MB"
    except (ValueError, IndexError):
        return "n/a"


def main(argv: list[str] | None = None) -> Table:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=10, help="chromosome size in Mb (10)")
    parser.add_argument("--reads", type=int, default=2_000_000, help="number of reads")
    parser.add_argument("--chunk", type=int, default=1 << 20, help="bp per task (1 Mb)")
    parser.add_argument("--write-only", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    length = int(args.mb * 1e6)
    if args.write_only:
        write_bam(args.write_only, length, args.reads)
        return Table("written")
    folder = os.path.join(tempfile.gettempdir(), "genomarray-bench-bam")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"chr1_{length}_{args.reads}.bam")
    if not (os.path.exists(path) and os.path.exists(path + ".bai")):
        t0 = time.perf_counter()  # in a child process, so that its memory is not counted
        subprocess.run(
            [
                sys.executable,
                os.path.abspath(__file__),
                "--mb",
                str(args.mb),
                "--reads",
                str(args.reads),
                "--write-only",
                path,
            ],
            check=True,
        )
        print(f"wrote {path} in {time.perf_counter() - t0:.1f} s")
    rss_start = peak_rss_mb()

    def samtools_depth() -> None:
        with open(os.devnull, "wb") as devnull:
            subprocess.run(["samtools", "depth", "-a", path], stdout=devnull, check=True)

    t_ref = best_time(samtools_depth)
    table = Table("BAM -> base-resolution counts (10x single-end reads)")
    rate = args.reads / t_ref
    table.add("samtools depth -a", f"{t_ref:.3f} s", f"{rate / 1e6:.2f} M reads/s", 1.0, "")
    threads = {"scheduler": "threads", "num_workers": 2}
    runs = [
        (mode, engine, label, config, bam.INFLATER)
        for mode in ("coverage", "5prime")
        for engine in ("auto",)
        for label, config in (("2 threads", threads), ("1 thread", {"scheduler": "synchronous"}))
    ]
    if bam.INFLATER != "zlib":  # also with the stdlib inflater (no isal/deflate installed)
        runs.append(("coverage", "auto", "2 threads", threads, "zlib"))
    runs.append(("coverage", "pysam", "2 threads", threads, bam.INFLATER))
    for mode, engine, label, config, inflater in runs:
        counter = BamCounter(path, mode=mode, engine=engine)
        arr = store.genome_array(
            counter, ["chr1"], [length], np.int32, trailing=(2,), chunk=args.chunk
        )
        saved = bam._inflate, bam._inflate_error
        if inflater == "zlib":
            bam._inflate = lambda data, n: zlib.decompress(data, -15, n)
            bam._inflate_error = zlib.error
        try:
            with dask.config.set(**config):
                if mode == "coverage":  # every read covers 50 bases
                    assert int(arr.sum().compute()) == READ_LEN * args.reads
                t = best_time(arr.compute, repeat=1 if engine == "pysam" else 3)
        finally:
            bam._inflate, bam._inflate_error = saved
        name = "pysam engine" if engine == "pysam" else f"{inflater} inflate"
        table.add(
            f"{mode}, {label} ({name})",
            f"{t_ref:.3f} s",
            f"{t:.3f} s, {args.reads / t / 1e6:.2f} M reads/s",
            t_ref / t,
            "<= 1.0x samtools time"
            if (mode, label, engine) == ("coverage", "2 threads", "auto")
            else "",
        )
    table.print()
    print(
        f"\npeak RSS {peak_rss_mb():.0f} MB ({rss_start:.0f} MB after imports; each "
        f"computed array holds {length * 8 / 1e6:.0f} MB); samtools depth "
        f"{_samtools_rss(path)}. {args.reads:,} reads of {READ_LEN} bp on "
        f"{length / 1e6:g} Mb, chunks of {args.chunk:,} bp; 'speed vs ref' > 1 means "
        f"faster than samtools (time ratio samtools / genomarray)"
    )
    return table


if __name__ == "__main__":
    main()
