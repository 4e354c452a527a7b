"""Generate the bundled example data set, deterministically.

One cohesive topic, kept in one module on purpose: the genome, peaks, reads, tracks and
variants are drawn from one random stream in a fixed order and depend on each other
(reads pile up on the peaks, variants sit in the genome), so splitting it would change
the data or scatter one recipe.

Every random draw comes from one ``numpy.random.default_rng(2024)`` in a fixed order, so
running this twice gives byte-identical text files and record-identical BAM files.

Usage::

    python -m genomarray.data.make_example [outdir]

``outdir`` defaults to the folder of this module (``genomarray/data``). ``README.md`` in that
folder is written by this script too and says which planted features tests can rely on.
"""

from __future__ import annotations

import argparse
import array
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "CHROM_SIZES",
    "MOTIF",
    "MOTIF_RC",
    "SEED",
    "make_example",
    "main",
]

SEED = 2024
CHROM_SIZES: dict[str, int] = {"chr1": 40_000, "chr2": 30_000, "chr3": 20_000}
MOTIF = "TGACTCA"  # JunD-like AP-1 site
MOTIF_RC = "TGAGTCA"  # its reverse complement
BASE_PROBS = (0.3, 0.2, 0.2, 0.3)  # A, C, G, T: 40% GC
LINE_WIDTH = 60
READ_LENGTH = 50
PEAK_WIDTH = 200
SUMMIT_OFFSET = 100
ROI_WIDTH = 2000
N_RUN_LENGTH = 50
N_BACKGROUND_READS = 9000
MEAN_PEAK_READS = 70
N_PROPER_PAIRS = 2000
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"

# flags of reads that the default read filters drop (as samtools depth, minus MAPQ)
FLAG_UNMAPPED = 0x4
FLAG_REVERSE = 0x10
FLAG_SECONDARY = 0x100
FLAG_QCFAIL = 0x200
FLAG_DUPLICATE = 0x400
FLAG_SUPPLEMENTARY = 0x800
DEFAULT_EXCLUDE = FLAG_UNMAPPED | FLAG_SECONDARY | FLAG_QCFAIL | FLAG_DUPLICATE | FLAG_SUPPLEMENTARY

# base qualities: 40 at the 5' end, falling by 2 every 10 cycles (compresses well)
_QUALITY_PROFILE = [40 - 2 * (i // 10) for i in range(READ_LENGTH)]
_CIGAR_RE = re.compile(r"(\d+)([MIDNSHP=X])")
_COMPLEMENT = str.maketrans("ACGTNacgtn", "TGCANtgcan")


# --------------------------------------------------------------------------- records


@dataclass
class _Peak:
    chrom: str
    start: int
    name: str
    motif_strand: str
    score: int
    signal: float
    pvalue: float
    qvalue: float

    @property
    def end(self) -> int:
        return self.start + PEAK_WIDTH

    @property
    def summit(self) -> int:
        return self.start + SUMMIT_OFFSET


@dataclass
class _Read:
    chrom: str
    pos: int
    flag: int
    mapq: int
    cigar: str | None
    name: str
    tags: list[tuple[str, object]] = field(default_factory=list)
    next_chrom: str | None = None
    next_pos: int = -1
    tlen: int = 0


@dataclass
class _Facts:
    """What the README reports about the generated data."""

    n_run: tuple[str, int, int] = ("", 0, 0)
    soft_masked: list[tuple[str, int, int]] = field(default_factory=list)
    read_counts: dict[str, int] = field(default_factory=dict)
    pair_counts: dict[str, int] = field(default_factory=dict)
    n_peaks: dict[str, int] = field(default_factory=dict)
    n_roi_peak: int = 0
    n_roi_background: int = 0


def _cigar_ops(cigar: str) -> list[tuple[int, str]]:
    return [(int(n), op) for n, op in _CIGAR_RE.findall(cigar)]


def _ref_length(cigar: str) -> int:
    return sum(n for n, op in _cigar_ops(cigar) if op in "MDN=X")


def _revcomp(seq: str) -> str:
    return seq.translate(_COMPLEMENT)[::-1]


def _wrap(seq: str, width: int = LINE_WIDTH) -> str:
    return "".join(seq[i : i + width] + "\n" for i in range(0, len(seq), width))


def _random_dna(rng: np.random.Generator, n: int) -> str:
    codes = rng.choice(4, size=n, p=BASE_PROBS)
    return np.frombuffer(b"ACGT", dtype=np.uint8)[codes].tobytes().decode()


# --------------------------------------------------------------------------- genome + peaks


def _make_genome(rng: np.random.Generator) -> dict[str, np.ndarray]:
    lut = np.frombuffer(b"ACGT", dtype=np.uint8)
    return {
        chrom: lut[rng.choice(4, size=size, p=BASE_PROBS)] for chrom, size in CHROM_SIZES.items()
    }


def _make_peaks(rng: np.random.Generator, genome: dict[str, np.ndarray]) -> list[_Peak]:
    """One 200 bp peak per kb (first and last kb left empty), motif planted at the summit."""
    peaks: list[_Peak] = []
    for chrom, size in CHROM_SIZES.items():
        for kb in range(1, size // 1000 - 1):
            start = kb * 1000 + int(rng.integers(100, 701))
            strand = "+" if rng.random() < 0.5 else "-"
            signal = float(rng.uniform(5.0, 50.0))
            pvalue = signal * 1.5 + float(rng.uniform(0.0, 5.0))
            qvalue = max(pvalue - 2.0, 0.0)
            peak = _Peak(
                chrom=chrom,
                start=start,
                name=f"peak_{len(peaks)}",
                motif_strand=strand,
                score=min(1000, int(round(signal * 20))),
                signal=round(signal, 4),
                pvalue=round(pvalue, 4),
                qvalue=round(qvalue, 4),
            )
            motif = MOTIF if strand == "+" else MOTIF_RC
            m0 = peak.summit - len(motif) // 2
            genome[chrom][m0 : m0 + len(motif)] = np.frombuffer(motif.encode(), dtype=np.uint8)
            peaks.append(peak)
    return peaks


def _mark_genome(
    rng: np.random.Generator, genome: dict[str, np.ndarray], peaks: list[_Peak], facts: _Facts
) -> None:
    """Plant one run of N on chr2 and soft-mask three inter-peak gaps per chromosome."""
    chr2 = [p for p in peaks if p.chrom == "chr2"]
    left, right = chr2[13], chr2[14]
    n_start = left.end + (right.start - left.end - N_RUN_LENGTH) // 2
    genome["chr2"][n_start : n_start + N_RUN_LENGTH] = ord("N")
    facts.n_run = ("chr2", n_start, n_start + N_RUN_LENGTH)
    for chrom in CHROM_SIZES:
        on_chrom = [p for p in peaks if p.chrom == chrom]
        gaps = [
            (a.end + 20, b.start - 20)
            for a, b in zip(on_chrom[:-1], on_chrom[1:], strict=True)
            if not (chrom == "chr2" and a is left)
        ]
        for k in sorted(rng.choice(len(gaps), size=3, replace=False).tolist()):
            start, end = gaps[k]
            genome[chrom][start:end] += 32  # ASCII upper -> lower case
            facts.soft_masked.append((chrom, start, end))


def _write_fasta(path: Path, records: list[tuple[str, str]]) -> None:
    with open(path, "w", newline="\n") as fh:
        for name, seq in records:
            fh.write(f">{name}\n{_wrap(seq)}")


def _write_peaks(path: Path, peaks: list[_Peak]) -> None:
    with open(path, "w", newline="\n") as fh:
        for p in peaks:
            fh.write(
                f"{p.chrom}\t{p.start}\t{p.end}\t{p.name}\t{p.score}\t.\t"
                f"{p.signal:.4f}\t{p.pvalue:.4f}\t{p.qvalue:.4f}\t{SUMMIT_OFFSET}\n"
            )


# --------------------------------------------------------------------------- regions


def _make_roi(
    rng: np.random.Generator, peaks: list[_Peak], facts: _Facts
) -> list[tuple[str, int, int, str, int, str]]:
    """2 kb around every 5th peak plus two random 2 kb background regions per chromosome."""
    regions: list[tuple[str, int, int, str, int, str]] = []
    for i, p in enumerate(peaks):
        if i % 5 == 0:
            strand = "+" if rng.random() < 0.5 else "-"
            half = ROI_WIDTH // 2
            regions.append((p.chrom, p.summit - half, p.summit + half, f"roi_{p.name}", 1, strand))
    facts.n_roi_peak = len(regions)
    n_bg = 0
    for chrom, size in CHROM_SIZES.items():
        placed = 0
        while placed < 2:
            start = int(rng.integers(0, (size - ROI_WIDTH) // 10 + 1)) * 10
            end = start + ROI_WIDTH
            clash = any(c == chrom and start < e + 100 and s - 100 < end for c, s, e, *_ in regions)
            if clash:
                continue
            strand = "+" if rng.random() < 0.5 else "-"
            regions.append((chrom, start, end, f"roi_bg_{n_bg}", 0, strand))
            n_bg += 1
            placed += 1
    facts.n_roi_background = n_bg
    order = list(CHROM_SIZES)
    regions.sort(key=lambda r: (order.index(r[0]), r[1]))
    return regions


def _make_genes(rng: np.random.Generator, peaks: list[_Peak]) -> list[str]:
    """Six genes (two per chromosome, one per strand) whose TSS sits on a peak summit."""
    lines: list[tuple[str, int, list[str]]] = []
    gene_index = 0
    for chrom, size in CHROM_SIZES.items():
        strands = ["+", "-"] if chrom != "chr2" else ["-", "+"]
        spans: list[tuple[int, int]] = []
        for strand in strands:
            n_exons = 4 if gene_index == 0 else int(rng.integers(2, 5))
            length = int(rng.integers(3000, 6001))
            while True:
                p = peaks[int(rng.integers(len(peaks)))]
                if p.chrom != chrom:
                    continue
                if strand == "+":
                    start, end = p.summit, p.summit + length
                else:
                    start, end = p.summit - length, p.summit
                if start < 100 or end > size - 100:
                    continue
                if any(start < e + 500 and s - 500 < end for s, e in spans):
                    continue
                break
            spans.append((start, end))
            exon_lengths = rng.integers(100, 401, size=n_exons)
            intronic = (end - start) - int(exon_lengths.sum())
            weights = rng.uniform(0.5, 1.5, size=n_exons - 1)
            introns = np.floor(weights / weights.sum() * intronic).astype(int)
            introns[-1] += intronic - int(introns.sum())
            exons: list[tuple[int, int]] = []
            pos = start
            for k in range(n_exons):
                exons.append((pos, pos + int(exon_lengths[k])))
                pos += int(exon_lengths[k])
                if k < n_exons - 1:
                    pos += int(introns[k])
            assert pos == end
            transcripts = [exons]
            if gene_index == 0:  # an alternative transcript skipping exon 2
                transcripts.append([exons[0]] + exons[2:])
            gid, gname = f"gene_{gene_index}", f"GENE{gene_index}"
            gene_lines = [
                _gtf(chrom, "gene", start, end, strand, f'gene_id "{gid}"; gene_name "{gname}";')
            ]
            for t, tx in enumerate(transcripts):
                tid = f"{gid}.t{t}"
                attrs = f'gene_id "{gid}"; transcript_id "{tid}"; gene_name "{gname}";'
                gene_lines.append(_gtf(chrom, "transcript", tx[0][0], tx[-1][1], strand, attrs))
                numbered = list(enumerate(tx if strand == "+" else tx[::-1], start=1))
                for number, (s, e) in sorted(numbered, key=lambda x: x[1][0]):
                    gene_lines.append(
                        _gtf(chrom, "exon", s, e, strand, f'{attrs} exon_number "{number}";')
                    )
            lines.append((chrom, start, gene_lines))
            gene_index += 1
    order = list(CHROM_SIZES)
    lines.sort(key=lambda x: (order.index(x[0]), x[1]))
    return [line for *_, gene_lines in lines for line in gene_lines]


def _gtf(chrom: str, feature: str, start: int, end: int, strand: str, attrs: str) -> str:
    """One GTF line; ``start``/``end`` are 0-based half-open and written 1-based inclusive."""
    return f"{chrom}\tgenomarray\t{feature}\t{start + 1}\t{end}\t.\t{strand}\t.\t{attrs}\n"


def _make_variants(
    rng: np.random.Generator, genome: dict[str, np.ndarray], peaks: list[_Peak]
) -> list[str]:
    """20 SNVs (5 on the central base of a planted motif) and 2 indels, REF from the genome."""

    def ref_at(chrom: str, pos: int, n: int = 1) -> str:
        return genome[chrom][pos : pos + n].tobytes().decode().upper()

    used: dict[str, set[int]] = {c: set() for c in CHROM_SIZES}
    records: list[tuple[str, int, str, str, bool]] = []  # chrom, pos0, ref, alt, motif

    def free(chrom: str, pos: int, n: int) -> bool:
        span = set(range(pos - 1, pos + n + 1))
        return not (span & used[chrom]) and "N" not in ref_at(chrom, pos, n)

    for k in sorted(rng.choice(len(peaks), size=5, replace=False).tolist()):
        p = peaks[k]
        ref = ref_at(p.chrom, p.summit)
        alt = "ACGT".replace(ref, "")[int(rng.integers(3))]
        records.append((p.chrom, p.summit, ref, alt, True))
        used[p.chrom].add(p.summit)
    chroms = list(CHROM_SIZES)
    total = sum(CHROM_SIZES.values())
    probs = [CHROM_SIZES[c] / total for c in chroms]
    kinds = ["snv"] * 15 + ["ins", "del"]
    for kind in kinds:
        while True:
            chrom = chroms[int(rng.choice(3, p=probs))]
            pos = int(rng.integers(10, CHROM_SIZES[chrom] - 10))
            n = 3 if kind == "del" else 1
            if free(chrom, pos, n):
                break
        ref = ref_at(chrom, pos, n)
        if kind == "snv":
            alt = "ACGT".replace(ref, "")[int(rng.integers(3))]
        elif kind == "ins":
            alt = ref + _random_dna(rng, 2)
        else:
            alt = ref[0]
        records.append((chrom, pos, ref, alt, False))
        used[chrom].update(range(pos, pos + n))
    records.sort(key=lambda r: (chroms.index(r[0]), r[1]))
    header = [
        "##fileformat=VCFv4.2",
        "##source=genomarray.data.make_example",
        "##reference=genome.fa",
        *(f"##contig=<ID={c},length={n}>" for c, n in CHROM_SIZES.items()),
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
        '##INFO=<ID=MOTIF,Number=0,Type=Flag,Description="SNV on the central base of the '
        'planted TGACTCA motif at a peak summit">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tsample",
    ]
    lines = [h + "\n" for h in header]
    for i, (chrom, pos, ref, alt, motif) in enumerate(records):
        qual = int(rng.integers(30, 100))
        info = f"DP={int(rng.integers(10, 60))}" + (";MOTIF" if motif else "")
        gt = ["0/1", "1/1"][int(rng.integers(2))]
        lines.append(f"{chrom}\t{pos + 1}\tvar_{i}\t{ref}\t{alt}\t{qual}\tPASS\t{info}\tGT\t{gt}\n")
    return lines


# --------------------------------------------------------------------------- reads


def _pick_chrom(rng: np.random.Generator) -> str:
    chroms = list(CHROM_SIZES)
    total = sum(CHROM_SIZES.values())
    return chroms[int(rng.choice(len(chroms), p=[CHROM_SIZES[c] / total for c in chroms]))]


def _make_single_reads(rng: np.random.Generator, peaks: list[_Peak], facts: _Facts) -> list[_Read]:
    """Background + ChIP-like peak reads, edge reads, special CIGARs and reads to filter out."""
    reads: list[_Read] = []
    counts: dict[str, int] = {}
    full = f"{READ_LENGTH}M"

    def add(
        chrom: str, pos: int, flag: int, kind: str, cigar: str | None = full, mapq: int = 60
    ) -> _Read:
        n = counts.get(kind, 0)
        counts[kind] = n + 1
        read = _Read(chrom, pos, flag, mapq, cigar, f"{kind}_{n:05d}")
        reads.append(read)
        return read

    def strand_flag() -> int:
        return FLAG_REVERSE if rng.random() < 0.5 else 0

    for _ in range(N_BACKGROUND_READS):
        chrom = _pick_chrom(rng)
        pos = int(rng.integers(0, CHROM_SIZES[chrom] - READ_LENGTH + 1))
        add(chrom, pos, strand_flag(), "bg")
    peak_reads: list[_Read] = []
    for p in peaks:
        for _ in range(int(rng.poisson(MEAN_PEAK_READS))):
            flag = strand_flag()
            shift = int(round(rng.normal(40.0, 15.0)))
            # 5' end near the summit: forward reads upstream, reverse reads downstream
            pos = p.summit - shift if flag == 0 else p.summit + shift - (READ_LENGTH - 1)
            peak_reads.append(add(p.chrom, pos, flag, "pk"))
    for chrom, size in CHROM_SIZES.items():  # reads touching both chromosome ends
        add(chrom, 0, 0, "edge")
        add(chrom, size - READ_LENGTH, FLAG_REVERSE, "edge")

    def near_peak(ref_len: int) -> tuple[str, int]:
        p = peaks[int(rng.integers(len(peaks)))]
        return p.chrom, p.summit - ref_len // 2 + int(rng.integers(-40, 41))

    for kind, cigar in (
        ("del", "20M2D30M"),
        ("ins", "20M2I28M"),
        ("splice", "20M100N30M"),
        ("clip", "5S45M"),
        ("clip", "40M10S"),
    ):
        for _ in range(3):
            chrom, pos = near_peak(_ref_length(cigar))
            add(chrom, pos, strand_flag(), kind, cigar)
    # reads that the default filters must drop, placed on peaks where they would show
    for kind, flag in (
        ("unmapped", FLAG_UNMAPPED),
        ("secondary", FLAG_SECONDARY),
        ("supplementary", FLAG_SUPPLEMENTARY),
        ("qcfail", FLAG_QCFAIL),
    ):
        for _ in range(8):
            chrom, pos = near_peak(READ_LENGTH)
            if kind == "unmapped":
                add(chrom, pos, flag, kind, cigar=None, mapq=0)
            else:
                add(chrom, pos, flag | strand_flag(), kind)
    for k in sorted(rng.choice(len(peak_reads), size=8, replace=False).tolist()):
        src = peak_reads[k]
        add(src.chrom, src.pos, src.flag | FLAG_DUPLICATE, "dup")
    for _ in range(12):  # low MAPQ: kept by the default filters, dropped by min_mapq filters
        chrom, pos = near_peak(READ_LENGTH)
        add(chrom, pos, strand_flag(), "lowmapq", mapq=int(rng.integers(0, 6)))
    facts.read_counts = dict(counts)
    return reads


def _make_paired_reads(rng: np.random.Generator, peaks: list[_Peak], facts: _Facts) -> list[_Read]:
    """Proper pairs (99/147, 163/83), improper pairs and pairs split across chromosomes."""
    reads: list[_Read] = []
    full = f"{READ_LENGTH}M"
    counts = {"proper": 0, "improper": 0, "crosschrom": 0}

    def pair(
        chrom1: str, pos1: int, flag1: int, chrom2: str, pos2: int, flag2: int, kind: str
    ) -> None:
        name = f"{kind}_{counts[kind]:05d}"
        counts[kind] += 1
        tlen = 0
        if chrom1 == chrom2:
            left, right = min(pos1, pos2), max(pos1, pos2) + READ_LENGTH
            tlen = right - left
        for chrom, pos, flag, mchrom, mpos in (
            (chrom1, pos1, flag1, chrom2, pos2),
            (chrom2, pos2, flag2, chrom1, pos1),
        ):
            # TLEN is positive on the leftmost mate (read1 when both start together)
            sign = 1 if pos < mpos or (pos == mpos and flag & 0x40) else -1
            reads.append(
                _Read(
                    chrom,
                    pos,
                    flag,
                    60,
                    full,
                    name,
                    [("MC", full)],
                    mchrom,
                    mpos,
                    tlen * sign if chrom == mchrom else 0,
                )
            )

    for i in range(N_PROPER_PAIRS):
        frag = int(rng.integers(150, 301))
        if i % 2 == 0:
            p = peaks[int(rng.integers(len(peaks)))]
            chrom = p.chrom
            start = p.summit - frag // 2 + int(round(rng.normal(0.0, 30.0)))
        else:
            chrom = _pick_chrom(rng)
            start = int(rng.integers(0, CHROM_SIZES[chrom] - frag + 1))
        right = start + frag - READ_LENGTH
        if rng.random() < 0.5:  # F1R2: read1 forward on the left
            pair(chrom, start, 99, chrom, right, 147, "proper")
        else:  # F2R1: read2 forward on the left
            pair(chrom, right, 83, chrom, start, 163, "proper")
    for i in range(10):  # same chromosome, not proper: too far apart or same orientation
        chrom = _pick_chrom(rng)
        start = int(rng.integers(0, CHROM_SIZES[chrom] - 9000))
        if i % 2 == 0:
            pair(chrom, start, 97, chrom, start + int(rng.integers(3000, 8001)), 145, "improper")
        else:
            pair(chrom, start, 65, chrom, start + int(rng.integers(100, 301)), 129, "improper")
    chroms = list(CHROM_SIZES)
    for _ in range(10):  # mates on different chromosomes
        a, b = rng.choice(3, size=2, replace=False).tolist()
        c1, c2 = chroms[a], chroms[b]
        pos1 = int(rng.integers(0, CHROM_SIZES[c1] - READ_LENGTH + 1))
        pos2 = int(rng.integers(0, CHROM_SIZES[c2] - READ_LENGTH + 1))
        pair(c1, pos1, 97, c2, pos2, 145, "crosschrom")
    facts.pair_counts = dict(counts)
    return reads


def _read_sequence(rng: np.random.Generator, genome: dict[str, np.ndarray], read: _Read) -> str:
    """Reference-forward query sequence: genome bases for M, random bases for I and S."""
    ref = genome[read.chrom]
    if read.cigar is None:
        return ref[read.pos : read.pos + READ_LENGTH].tobytes().decode().upper()
    parts: list[str] = []
    pos = read.pos
    for n, op in _cigar_ops(read.cigar):
        if op in "M=X":
            parts.append(ref[pos : pos + n].tobytes().decode().upper())
            pos += n
        elif op in "DN":
            pos += n
        elif op in "IS":
            parts.append(_random_dna(rng, n))
    return "".join(parts)


def _write_bam(
    path: Path,
    rng: np.random.Generator,
    genome: dict[str, np.ndarray],
    reads: list[_Read],
    comment: str,
) -> None:
    import pysam

    chroms = list(CHROM_SIZES)
    header = {
        "HD": {"VN": "1.6", "SO": "coordinate"},
        "SQ": [{"SN": c, "LN": n} for c, n in CHROM_SIZES.items()],
        "CO": [comment],
    }
    reads = sorted(reads, key=lambda r: (chroms.index(r.chrom), r.pos, r.name, r.flag))
    with pysam.AlignmentFile(str(path), "wb", header=header) as bam:
        for r in reads:
            seg = pysam.AlignedSegment(bam.header)
            seg.query_name = r.name
            seg.flag = r.flag
            seg.reference_id = chroms.index(r.chrom)
            seg.reference_start = r.pos
            seg.mapping_quality = r.mapq
            if r.cigar is not None:
                seg.cigarstring = r.cigar
            seq = _read_sequence(rng, genome, r)
            seg.query_sequence = seq
            seg.query_qualities = array.array("B", _QUALITY_PROFILE[: len(seq)])
            if r.next_chrom is not None:
                seg.next_reference_id = chroms.index(r.next_chrom)
                seg.next_reference_start = r.next_pos
                seg.template_length = r.tlen
            for tag, value in r.tags:
                seg.set_tag(tag, value)
            bam.write(seg)
    pysam.index(str(path))


def _depth(reads: list[_Read]) -> dict[str, np.ndarray]:
    """Per-base depth of reads passing the default filters, CIGAR-aware (M/=/X only)."""
    diff = {c: np.zeros(n + 1, dtype=np.int64) for c, n in CHROM_SIZES.items()}
    for r in reads:
        if r.flag & DEFAULT_EXCLUDE or r.cigar is None:
            continue
        pos = r.pos
        for n, op in _cigar_ops(r.cigar):
            if op in "M=X":
                diff[r.chrom][pos] += 1
                diff[r.chrom][pos + n] -= 1
                pos += n
            elif op in "DN":
                pos += n
    return {c: np.cumsum(d[:-1]).astype(np.int32) for c, d in diff.items()}


def _write_bigwig(path: Path, depth: dict[str, np.ndarray]) -> None:
    """Write runs of equal non-zero depth; zero-depth bases are not written (read as NaN)."""
    import pyBigWig

    bw = pyBigWig.open(str(path), "w")
    try:
        bw.addHeader(list(CHROM_SIZES.items()))
        for chrom, values in depth.items():
            change = np.flatnonzero(np.diff(values)) + 1
            starts = np.concatenate([[0], change])
            ends = np.concatenate([change, [len(values)]])
            keep = values[starts] != 0
            starts, ends, vals = starts[keep], ends[keep], values[starts][keep]
            if len(starts) == 0:
                continue
            bw.addEntries(
                [chrom] * len(starts),
                starts.tolist(),
                ends=ends.tolist(),
                values=vals.astype(float).tolist(),
            )
    finally:
        bw.close()


# --------------------------------------------------------------------------- small FASTAs


def _motif_free_dna(rng: np.random.Generator, n: int) -> str:
    while True:
        seq = _random_dna(rng, n)
        if MOTIF not in seq and MOTIF_RC not in seq:
            return seq


def _plant_centre(seq: str) -> str:
    m0 = len(seq) // 2 - len(MOTIF) // 2
    return seq[:m0] + MOTIF + seq[m0 + len(MOTIF) :]


def _make_seqs(rng: np.random.Generator) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    fixed = []
    for i in range(30):
        seq = _motif_free_dna(rng, 200)
        fixed.append((f"seq_{i}", _plant_centre(seq) if i % 2 == 0 else seq))
    varlen = []
    for i in range(10):
        seq = _motif_free_dna(rng, int(rng.integers(150, 251)))
        varlen.append((f"varseq_{i}", _plant_centre(seq) if i % 2 == 0 else seq))
    return fixed, varlen


def _make_proteins(rng: np.random.Generator) -> list[tuple[str, str]]:
    proteins = []
    for i in range(10):
        n = int(rng.integers(50, 81))
        residues = np.array(list(AMINO_ACIDS))[rng.integers(0, 20, size=n - 1)]
        seq = "M" + "".join(residues.tolist())
        if i == 3:
            seq = seq[:10] + "X" + seq[11:]
        proteins.append((f"prot_{i}", seq))
    return proteins


# --------------------------------------------------------------------------- driver


def make_example(outdir: str | os.PathLike | None = None) -> dict[str, Path]:
    """Write the example data set into ``outdir``.

    Parameters
    ----------
    outdir : str or os.PathLike, optional
        Destination folder (created if missing). Defaults to the folder of this module,
        ``genomarray/data``.

    Returns
    -------
    dict of str to pathlib.Path
        File name to path of every file written (FASTA indexes and BAM indexes included).

    Examples
    --------
    >>> import tempfile
    >>> paths = make_example(tempfile.mkdtemp())  # doctest: +SKIP
    >>> sorted(paths)[:3]  # doctest: +SKIP
    ['README.md', 'genes.gtf', 'genome.fa']
    """
    import pysam

    out = Path(outdir) if outdir is not None else Path(__file__).resolve().parent
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    facts = _Facts()

    genome = _make_genome(rng)
    peaks = _make_peaks(rng, genome)
    _mark_genome(rng, genome, peaks, facts)
    facts.n_peaks = {c: sum(p.chrom == c for p in peaks) for c in CHROM_SIZES}
    _write_fasta(out / "genome.fa", [(c, s.tobytes().decode()) for c, s in genome.items()])
    _write_peaks(out / "peaks.narrowPeak", peaks)

    roi = _make_roi(rng, peaks, facts)
    with open(out / "roi.bed", "w", newline="\n") as fh:
        fh.writelines("\t".join(map(str, r)) + "\n" for r in roi)
    with open(out / "roi_unstranded.bed", "w", newline="\n") as fh:
        fh.writelines(f"{c}\t{s}\t{e}\n" for c, s, e, *_ in roi)

    with open(out / "genes.gtf", "w", newline="\n") as fh:
        fh.writelines(_make_genes(rng, peaks))
    with open(out / "variants.vcf", "w", newline="\n") as fh:
        fh.writelines(_make_variants(rng, genome, peaks))

    single = _make_single_reads(rng, peaks, facts)
    _write_bam(
        out / "sample.bam", rng, genome, single, f"genomarray example single-end reads, seed {SEED}"
    )
    _write_bigwig(out / "sample.bw", _depth(single))
    paired = _make_paired_reads(rng, peaks, facts)
    _write_bam(
        out / "paired.bam", rng, genome, paired, f"genomarray example paired-end reads, seed {SEED}"
    )

    fixed, varlen = _make_seqs(rng)
    _write_fasta(out / "seqs.fa", fixed)
    _write_fasta(out / "seqs_varlen.fa", varlen)
    _write_fasta(out / "proteins.fa", _make_proteins(rng))
    for name in ("genome.fa", "seqs.fa", "seqs_varlen.fa", "proteins.fa"):
        pysam.faidx(str(out / name))

    (out / "README.md").write_text(_readme(facts), newline="\n")
    return {
        p.name: p
        for p in sorted(out.iterdir())
        if p.is_file() and p.suffix != ".py" and not p.name.startswith(("_", "."))
    }


def _readme(f: _Facts) -> str:
    n_chrom, n_start, n_end = f.n_run
    masked = ", ".join(f"{c}:{s}-{e}" for c, s, e in f.soft_masked)
    rc = f.read_counts
    pc = f.pair_counts
    kept = sum(rc[k] for k in ("bg", "pk", "edge", "del", "ins", "splice", "clip", "lowmapq"))
    dropped = sum(rc[k] for k in ("unmapped", "secondary", "supplementary", "qcfail", "dup"))
    sizes = ", ".join(f"`{c}` {n:,} bp" for c, n in CHROM_SIZES.items())
    peaks = ", ".join(f"{n} on {c}" for c, n in f.n_peaks.items())
    return f"""\
# Example data

Small, consistent example files for tests, docs and notebooks. They are generated, not
hand-made: `make_example.py` draws everything from `numpy.random.default_rng({SEED})` in a
fixed order. Regenerate (byte-identical text files, record-identical BAM files) with

```
python -m genomarray.data.make_example            # into genomarray/data
python -m genomarray.data.make_example OUTDIR     # anywhere else
```

Get a path with `genomarray.data.example_path("genome.fa")`. All coordinates below are
0-based half-open (BED style) unless a file format says otherwise.

**genome.fa, genome.fa.fai** — three chromosomes, {sizes}, 60 bases per line,
uniform random bases with 40% GC (A,C,G,T drawn with p = 0.3, 0.2, 0.2, 0.3). A JunD-like
AP-1 motif `{MOTIF}` (or its reverse complement `{MOTIF_RC}`, chosen at random per peak) is
planted at every peak summit of `peaks.narrowPeak`, covering `[summit - 3, summit + 4)` so its
central base is the summit. One run of {N_RUN_LENGTH} `N` lies on {n_chrom}:{n_start}-{n_end}
(between two peaks). Soft-masked (lower-case) stretches lie between peaks, never on a peak:
{masked}. The `.fai` was made with `pysam.faidx`.

**peaks.narrowPeak** — {sum(f.n_peaks.values())} peaks ({peaks}): one per kb of chromosome,
none in the first and last kb, each {PEAK_WIDTH} bp wide, non-overlapping and sorted, 10
narrowPeak columns (strand `.`, signalValue uniform 5-50, pValue and qValue in -log10 scale,
score = min(1000, 20 x signalValue)), summit offset (column 10) always {SUMMIT_OFFSET}. Names
`peak_0`, `peak_1`, ... in file order.

**roi.bed, roi_unstranded.bed** — {f.n_roi_peak + f.n_roi_background} regions of interest of
{ROI_WIDTH} bp, sorted, non-overlapping (at least 100 bp apart) and inside the chromosomes:
{f.n_roi_peak} centred on the summit of every 5th peak (`peak_0`, `peak_5`, ...; name
`roi_peak_<i>`, score 1) and {f.n_roi_background} background regions at random places (two
per chromosome; name `roi_bg_<j>`, score 0; they may still contain peaks, since peaks lie
every kb). Strands `+`/`-` are random. `roi.bed` has 6 BED columns; `roi_unstranded.bed` has
the same regions with 3 columns.

**sample.bam, sample.bam.bai** — {sum(rc.values())} coordinate-sorted single-end reads of
{READ_LENGTH} bp, written sorted with pysam and indexed with `pysam.index`. Query sequences
are taken from the genome (upper-cased, reference-forward as stored in BAM, so reverse reads
too); base qualities follow a fixed profile (40, falling by 2 every 10 cycles); read names
are unique and say what the read is:
`bg_*` ({rc["bg"]}) uniform background on both strands; `pk_*` ({rc["pk"]}) ChIP-like reads
around each summit, about {MEAN_PEAK_READS} per peak, forward reads with their 5' end
~40 +- 15 bp upstream of the summit, reverse reads with their 5' end ~40 +- 15 bp downstream
(summit depth ~10x the genome-wide median of ~5);
`edge_*` ({rc["edge"]}) a forward read at position 0 and a reverse read ending
at the last base of each chromosome; special CIGARs near peaks: `del_*` `20M2D30M`
({rc["del"]}), `ins_*` `20M2I28M` ({rc["ins"]}), `splice_*` `20M100N30M` ({rc["splice"]}),
`clip_*` `5S45M` / `40M10S` ({rc["clip"]}). Reads the default filters drop, all placed on
peaks: `unmapped_*` ({rc["unmapped"]}, flag 0x4 with a position, no CIGAR, MAPQ 0),
`secondary_*` ({rc["secondary"]}, 0x100), `supplementary_*` ({rc["supplementary"]}, 0x800),
`qcfail_*` ({rc["qcfail"]}, 0x200), `dup_*` ({rc["dup"]}, 0x400, copies of `pk_*` reads).
`lowmapq_*` ({rc["lowmapq"]}) have MAPQ 0-5 and no other defect; every other read has MAPQ 60.
So {kept} reads pass the default flag filters and {dropped} do not.

**sample.bw** — per-base read depth of `sample.bam` over reads that pass the default filters
(not unmapped, secondary, supplementary, QC-fail or duplicate; MAPQ is not filtered, so the
`lowmapq_*` reads count), CIGAR-aware: M/=/X bases count, D and N do not, I and S consume no
reference. Written with pyBigWig as bedGraph-style runs of equal depth; **zero-depth runs are
not written**, so `pyBigWig.values` returns NaN there (read NaN as 0). Note that
`samtools depth` (checked with 1.16) by default drops only UNMAP, SECONDARY, QCFAIL and DUP,
and so *counts* supplementary reads (here 8 reads, 400 base-counts more); the command that
equals this track at every base is `samtools depth -a -G SUPPLEMENTARY sample.bam` (`-G` adds
to the default flag filter).

**paired.bam, paired.bam.bai** — paired-end reads of {READ_LENGTH} bp (MAPQ 60, `MC` tag set,
mates share a name): {pc["proper"]} proper pairs `proper_*` (flags 99/147 or 163/83, fragment
length 150-300, TLEN positive on the leftmost mate, half centred on peak summits, half
uniform); {pc["improper"]} improper pairs `improper_*` on one chromosome without flag 0x2
(97/145 with 3-8 kb between mates, or 65/129 with both mates forward); {pc["crosschrom"]}
pairs `crosschrom_*` with mates on different chromosomes (97/145, TLEN 0).

**genes.gtf** — six genes `gene_0` ... `gene_5` (`gene_name` `GENE0` ...), two per
chromosome, one on each strand, each with a TSS on a peak summit, 3-6 kb long, 2-4 exons;
`gene_0` has two transcripts (`gene_0.t1` skips exon 2). Feature lines `gene`, `transcript`,
`exon` with 1-based inclusive GTF coordinates; `transcript` and `exon` lines carry
`gene_id`, `transcript_id` and `gene_name`, exons carry `exon_number` in transcription order.

**variants.vcf** — VCFv4.2 with a `##contig` line per chromosome and one sample column
(`sample`, GT only): 20 SNVs and 2 indels (a 2 bp insertion and a 2 bp deletion), sorted,
IDs `var_<i>`. REF always equals the upper-cased genome; no variant touches the `N` run. Five
SNVs sit on the central base of a planted motif (peak summit) and carry the INFO flag `MOTIF`.

**seqs.fa, seqs_varlen.fa** — `seqs.fa`: 30 DNA sequences `seq_0` ... `seq_29` of exactly
200 bp; `seqs_varlen.fa`: 10 sequences `varseq_0` ... `varseq_9` of 150-250 bp. Background
bases as in the genome with no `{MOTIF}`/`{MOTIF_RC}` anywhere; sequences with an even index
carry `{MOTIF}` (forward strand) at `[len // 2 - 3, len // 2 + 4)` (offset 97 in `seqs.fa`).
Both have a `.fai`.

**proteins.fa** — 10 protein sequences `prot_0` ... `prot_9` of 50-80 residues over the 20
standard amino acids, each starting with `M`; `prot_3` has an `X` at position 10 (0-based).
Has a `.fai`.
"""


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: ``python -m genomarray.data.make_example [outdir]``.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status (0).
    """
    parser = argparse.ArgumentParser(
        prog="python -m genomarray.data.make_example",
        description="Write genomarray's deterministic example data set.",
    )
    parser.add_argument(
        "outdir",
        nargs="?",
        default=None,
        help="destination folder (default: the genomarray/data folder)",
    )
    args = parser.parse_args(argv)
    paths = make_example(args.outdir)
    total = sum(p.stat().st_size for p in paths.values())
    for name, path in paths.items():
        print(f"{path.stat().st_size:>9,d}  {name}")
    print(f"{total:>9,d}  total ({math.ceil(total / 1024)} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
