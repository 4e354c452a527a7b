"""The benchmark dataset of issue 15, written once under the temp folder, with truth arrays.

One chromosome ``chr1`` (10 Mb; 1 Mb with ``--quick``):

- ``genome.fa``: uniform random ACGT, 60 bases a line; truth ``codes.npy`` (uint8 0..3);
- ``reads.bam`` (+ ``.bai``): 1 M single-end 50 bp reads (100 k quick), uniform, half on
  each strand, coordinate-sorted; truth ``coverage.npy`` ``(n, 2)`` int32 per-base
  coverage on ``+`` and ``-`` (computed from the read positions, not from a reader);
- ``signal.bw``: a per-base bigWig of runs of 1-2 bp, ~80 % covered; truth
  ``signal.npy`` float32 (uncovered bases 0);
- ``windows.npy``: 20,000 sorted random window starts of 1 kb (2,000 quick) for T2/T3;
- ``t4_starts.npy``: 200 batches x 128 sorted random 1 kb window starts for T4
  (20 batches quick).

Nothing here is timed. The folder is reused by later runs (a ``complete`` marker is
written last); delete it to regenerate.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass

import numpy as np

CHROM = "chr1"
READ_LEN = 50
BATCH = 128
_VERSION = 2


@dataclass(frozen=True)
class Sizes:
    """Sizes of one dataset."""

    length: int = 10_000_000
    reads: int = 1_000_000
    windows: int = 20_000
    width: int = 1000
    batches: int = 200

    @classmethod
    def quick(cls) -> Sizes:
        return cls(length=1_000_000, reads=100_000, windows=2_000, batches=20)


@dataclass(frozen=True)
class Data:
    """Paths of a written dataset (all inside ``root``)."""

    root: str
    sizes: Sizes

    def path(self, name: str) -> str:
        return os.path.join(self.root, name)

    @property
    def fasta(self) -> str:
        return self.path("genome.fa")

    @property
    def bam(self) -> str:
        return self.path("reads.bam")

    @property
    def bigwig(self) -> str:
        return self.path("signal.bw")

    @property
    def cache_root(self) -> str:
        """``GENOMARRAY_OUTPUT`` of the rows that read from genomarray's cached stores."""
        return self.path("output")

    def spec(self, **extra: object) -> dict:
        """A JSON-able description handed to the benchmark children."""
        return {"root": self.root, "sizes": asdict(self.sizes), **extra}

    @classmethod
    def from_spec(cls, spec: dict) -> Data:
        return cls(spec["root"], Sizes(**spec["sizes"]))

    def load(self, name: str, mmap: bool = False) -> np.ndarray:
        return np.load(self.path(name + ".npy"), mmap_mode="r" if mmap else None)


def write_fasta(path: str, codes: np.ndarray, chrom: str = CHROM) -> None:
    """Write codes 0..3 as one FASTA record, 60 letters a line."""
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)[codes]
    pad = (-len(letters)) % 60
    lines = np.concatenate([letters, np.full(pad, ord("\n"), np.uint8)]).reshape(-1, 60)
    block = np.hstack([lines, np.full((len(lines), 1), ord("\n"), np.uint8)]).ravel()
    if pad:  # the last line is short: drop the padding (newlines) but keep one newline
        block = block[: len(block) - pad]
    with open(path, "wb") as fh:
        fh.write(f">{chrom}\n".encode())
        fh.write(block.tobytes())


def write_random_fasta(path: str, lengths: dict[str, int], seed: int = 0) -> str:
    """Write a random genome (uniform ACGT) of several chromosomes and return its path."""
    rng = np.random.default_rng(seed)
    parts = []
    for chrom, n in lengths.items():
        tmp = path + f".{chrom}.part"
        write_fasta(tmp, rng.integers(0, 4, n).astype(np.uint8), chrom)
        parts.append(tmp)
    with open(path, "wb") as out:
        for tmp in parts:
            with open(tmp, "rb") as fh:
                out.write(fh.read())
            os.remove(tmp)
    return path


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
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Write a sorted, indexed BAM of ``n_reads`` uniform 50 bp single-end reads, fast
    (numpy records, in batches). ``lengths`` is ``{chrom: bp}`` (reads spread in proportion
    to length) or one length for a single chromosome ``chr1``. Returns ``{chrom:
    (positions, reverse)}`` of the reads written."""
    import pysam

    if isinstance(lengths, int | np.integer):
        lengths = {CHROM: int(lengths)}
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
    written: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    with pysam.BGZFile(tmp, "wb") as out:
        out.write(header)
        for ref_id, (chrom, count) in enumerate(zip(names, counts, strict=True)):
            positions = np.sort(rng.integers(0, lengths[chrom] - READ_LEN, count))
            reverse = np.zeros(count, bool)
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
                rev = rng.random(n) < 0.5
                reverse[i : i + n] = rev
                rec["flag"] = np.where(rev, 16, 0)
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
            written[chrom] = (positions, reverse)
    os.replace(tmp, path)
    pysam.index(path)
    return written


def coverage_truth(length: int, positions: np.ndarray, reverse: np.ndarray) -> np.ndarray:
    """Per-base stranded coverage ``(length, 2)`` int32 (``+``, ``-``) of 50 bp reads."""
    out = np.zeros((length + 1, 2), np.int64)
    for strand, sel in ((0, ~reverse), (1, reverse)):
        np.add.at(out[:, strand], positions[sel], 1)
        np.add.at(out[:, strand], positions[sel] + READ_LEN, -1)
    return np.cumsum(out[:length], axis=0).astype(np.int32)


def write_signal(path: str, n: int, seed: int = 0) -> np.ndarray:
    """Write a dense per-base bigWig (runs of 1-2 bp, ~80 % covered); return the truth
    per-base float32 values (0 where uncovered)."""
    import pyBigWig

    rng = np.random.default_rng(seed)
    ends = np.cumsum(rng.integers(1, 3, n // 2 + 1))
    ends = ends[ends < n]
    starts = np.r_[0, ends[:-1]]
    keep = rng.random(len(starts)) < 0.8
    starts, ends = starts[keep], ends[keep]
    values = rng.gamma(2.0, 3.0, len(starts)).round(2)
    bw = pyBigWig.open(path, "w")
    bw.addHeader([(CHROM, n)], maxZooms=10)
    step = 1 << 20  # entries added a million at a time (Python lists of them are large)
    for i in range(0, len(starts), step):
        part = slice(i, i + step)
        bw.addEntries(
            [CHROM] * len(starts[part]),
            starts[part].tolist(),
            ends=ends[part].tolist(),
            values=values[part].tolist(),
        )
    bw.close()
    truth = np.zeros(n, np.float32)
    lengths = ends - starts
    truth[np.repeat(starts, lengths) + _ramp(lengths)] = np.repeat(
        values.astype(np.float32), lengths
    )
    return truth


def _ramp(lengths: np.ndarray) -> np.ndarray:
    """0..len-1 for each run, concatenated."""
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(lengths.sum()) - offsets


LARGE_SIGNAL = 80_000_000
"""Length of the large bigWig (``signal_large.bw``, ~270 MB: runs to ~60 Mb) of the
cold-build rows, large enough for genomarray's section reader (``SECTIONS_MIN_BYTES``)."""


def large_bigwig(data: Data, log=print) -> str:
    """``signal_large.bw`` beside the dataset and its truth ``signal_large.npy`` (float32,
    uncovered 0), written on first use (~1 min)."""
    path = data.path("signal_large.bw")
    marker = data.path("signal_large.complete")
    if not os.path.exists(marker):
        t0 = time.perf_counter()
        np.save(data.path("signal_large.npy"), write_signal(path, LARGE_SIGNAL, seed=7))
        with open(marker, "w") as fh:
            fh.write(str(LARGE_SIGNAL))
        log(f"wrote {path} in {time.perf_counter() - t0:.1f} s")
    return path


def dataset(quick: bool = False, root: str | None = None, log=print) -> Data:
    """The dataset of the chosen size, written on first use (then reused)."""
    sizes = Sizes.quick() if quick else Sizes()
    if root is None:
        base = os.environ.get("GENOMARRAY_BENCH_DATA") or os.path.join(
            tempfile.gettempdir(), "genomarray-bench"
        )
        root = os.path.join(base, f"v{_VERSION}-{sizes.length}-{sizes.reads}-{sizes.windows}")
    data = Data(root, sizes)
    marker = data.path("complete")
    if os.path.exists(marker):
        return data
    os.makedirs(root, exist_ok=True)
    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    n, width = sizes.length, sizes.width
    codes = rng.integers(0, 4, n).astype(np.uint8)
    write_fasta(data.fasta, codes)
    np.save(data.path("codes.npy"), codes)
    reads = write_bam(data.bam, n, sizes.reads, seed=1)
    np.save(data.path("coverage.npy"), coverage_truth(n, *reads[CHROM]))
    np.save(data.path("signal.npy"), write_signal(data.bigwig, n, seed=2))
    win_rng = np.random.default_rng(3)
    np.save(data.path("windows.npy"), np.sort(win_rng.integers(0, n - width, sizes.windows)))
    t4 = np.sort(win_rng.integers(0, n - width, sizes.batches * BATCH))
    np.save(data.path("t4_starts.npy"), t4)
    with open(marker, "w") as fh:
        json.dump(asdict(sizes), fh)
    log(f"wrote the benchmark data to {root} in {time.perf_counter() - t0:.1f} s")
    return data
