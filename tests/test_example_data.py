"""The bundled example data: deterministic, self-consistent, checked with independent tools."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pyBigWig
import pytest

from genomarray.data import example_path

SIZES = {"chr1": 40_000, "chr2": 30_000, "chr3": 20_000}
MOTIFS = ("TGACTCA", "TGAGTCA")
TEXT_FILES = [
    "genome.fa",
    "genome.fa.fai",
    "peaks.narrowPeak",
    "roi.bed",
    "roi_unstranded.bed",
    "genes.gtf",
    "variants.vcf",
    "seqs.fa",
    "seqs_varlen.fa",
    "proteins.fa",
    "README.md",
]
ALL_FILES = [
    *TEXT_FILES,
    "sample.bam",
    "sample.bam.bai",
    "paired.bam",
    "paired.bam.bai",
    "sample.bw",
]
DATA = Path(example_path("genome.fa")).parent


def _run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def _read_fasta(path: Path) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Plain-Python FASTA parser: sequences and the raw lines of each record."""
    lines: dict[str, list[str]] = {}
    name = None
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            name = line[1:].split()[0]
            lines[name] = []
        else:
            assert name is not None
            lines[name].append(line)
    return {k: "".join(v) for k, v in lines.items()}, lines


def _bed(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text().splitlines() if line]


def _sam_records(path: Path, *flags: str) -> list[list[str]]:
    return [line.split("\t") for line in _run("samtools", "view", *flags, str(path)).splitlines()]


@pytest.fixture(scope="module")
def genome() -> dict[str, str]:
    return _read_fasta(DATA / "genome.fa")[0]


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Regenerate the data set through the command line into a fresh folder."""
    out = tmp_path_factory.mktemp("example")
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    subprocess.run(
        [sys.executable, "-m", "genomarray.data.make_example", str(out)],
        check=True,
        capture_output=True,
        env=env,
    )
    return out


# --------------------------------------------------------------------------- access


def test_example_path_finds_every_file() -> None:
    for name in ALL_FILES:
        path = example_path(name)
        assert os.path.isabs(path) and os.path.isfile(path), name
    total = sum(os.path.getsize(example_path(name)) for name in ALL_FILES)
    assert total < 1_500_000


@pytest.mark.parametrize("name", ["nope.fa", "../pyproject.toml", "", "__init__.py"])
def test_example_path_unknown_name_lists_files(name: str) -> None:
    with pytest.raises(FileNotFoundError, match="available: .*genome.fa"):
        example_path(name)


# --------------------------------------------------------------------------- determinism


def test_regenerated_text_files_are_byte_identical(regenerated: Path) -> None:
    for name in TEXT_FILES:
        assert (regenerated / name).read_bytes() == (DATA / name).read_bytes(), name


@pytest.mark.parametrize("name", ["sample.bam", "paired.bam"])
def test_regenerated_bam_records_are_identical(regenerated: Path, name: str) -> None:
    fresh = _run("samtools", "view", "--no-PG", "-h", str(regenerated / name))
    bundled = _run("samtools", "view", "--no-PG", "-h", str(DATA / name))
    assert fresh == bundled
    assert (regenerated / f"{name}.bai").is_file()


def test_regenerated_bigwig_is_identical(regenerated: Path) -> None:
    a, b = pyBigWig.open(str(regenerated / "sample.bw")), pyBigWig.open(str(DATA / "sample.bw"))
    try:
        assert a.chroms() == b.chroms() == SIZES
        for chrom, size in SIZES.items():
            assert a.intervals(chrom, 0, size) == b.intervals(chrom, 0, size)
    finally:
        a.close()
        b.close()


# --------------------------------------------------------------------------- sequences


def test_genome_fasta_layout(genome: dict[str, str]) -> None:
    fai = {
        cols[0]: int(cols[1])
        for cols in (line.split("\t") for line in (DATA / "genome.fa.fai").read_text().split("\n"))
        if cols[0]
    }
    assert fai == SIZES
    _, lines = _read_fasta(DATA / "genome.fa")
    for chrom, size in SIZES.items():
        seq = genome[chrom]
        assert len(seq) == size
        assert all(len(line) == 60 for line in lines[chrom][:-1])
        assert set(seq) <= set("ACGTacgtN")
        upper = seq.upper().replace("N", "")
        gc = (upper.count("G") + upper.count("C")) / len(upper)
        assert 0.37 < gc < 0.43, (chrom, gc)
        assert re.search("[acgt]{100,}", seq), f"no soft-masked stretch on {chrom}"
    n_runs = {c: [(m.start(), m.end()) for m in re.finditer("N+", s)] for c, s in genome.items()}
    assert [len(v) for v in n_runs.values()] == [0, 1, 0]
    ((start, end),) = n_runs["chr2"]
    assert end - start == 50


def test_motif_at_every_peak_summit(genome: dict[str, str]) -> None:
    peaks = _bed(DATA / "peaks.narrowPeak")
    assert 80 <= len(peaks) <= 100
    strands = Counter()
    for row in peaks:
        chrom, start, end, summit = row[0], int(row[1]), int(row[2]), int(row[9])
        centre = start + summit
        site = genome[chrom][centre - 3 : centre + 4].upper()
        assert site in MOTIFS, (row[3], site)
        strands[site] += 1
        assert not re.search("[acgtN]", genome[chrom][start:end]), row[3]
    assert min(strands.values()) > 10  # both orientations occur


def test_small_fastas() -> None:
    seqs, _ = _read_fasta(DATA / "seqs.fa")
    assert list(seqs) == [f"seq_{i}" for i in range(30)]
    assert {len(s) for s in seqs.values()} == {200}
    for i, seq in enumerate(seqs.values()):
        has = any(m in seq for m in MOTIFS)
        assert has == (i % 2 == 0)
        if has:
            assert seq[97:104] == "TGACTCA"
    varlen, _ = _read_fasta(DATA / "seqs_varlen.fa")
    assert len(varlen) == 10
    assert all(150 <= len(s) <= 250 for s in varlen.values())
    assert len({len(s) for s in varlen.values()}) > 1
    proteins, _ = _read_fasta(DATA / "proteins.fa")
    assert len(proteins) == 10
    assert all(50 <= len(p) <= 80 for p in proteins.values())
    letters = set("".join(proteins.values()))
    assert letters - set("ACDEFGHIKLMNPQRSTVWY") == {"X"}
    assert sum("X" in p for p in proteins.values()) == 1
    for name in ("seqs.fa", "seqs_varlen.fa", "proteins.fa"):
        assert (DATA / f"{name}.fai").is_file()


# --------------------------------------------------------------------------- intervals


def _check_sorted_disjoint(rows: list[tuple[str, int, int]]) -> None:
    order = list(SIZES)
    assert rows == sorted(rows, key=lambda r: (order.index(r[0]), r[1]))
    for (c1, _, e1), (c2, s2, _) in zip(rows[:-1], rows[1:], strict=True):
        assert c1 != c2 or e1 <= s2


def test_peaks_and_roi_in_bounds() -> None:
    peaks = _bed(DATA / "peaks.narrowPeak")
    assert all(len(r) == 10 for r in peaks)
    assert [r[3] for r in peaks] == [f"peak_{i}" for i in range(len(peaks))]
    rows = [(r[0], int(r[1]), int(r[2])) for r in peaks]
    _check_sorted_disjoint(rows)
    for (chrom, start, end), row in zip(rows, peaks, strict=True):
        assert 0 <= start and end <= SIZES[chrom] and end - start == 200
        assert 0 <= int(row[4]) <= 1000 and row[5] == "." and row[9] == "100"
        assert float(row[6]) > 0 and float(row[7]) >= float(row[8]) >= 0
    roi = _bed(DATA / "roi.bed")
    assert all(len(r) == 6 for r in roi)
    rows = [(r[0], int(r[1]), int(r[2])) for r in roi]
    _check_sorted_disjoint(rows)
    assert all(0 <= s and e <= SIZES[c] and e - s == 2000 for c, s, e in rows)
    assert {r[5] for r in roi} == {"+", "-"}
    assert len({r[3] for r in roi}) == len(roi)
    summits = {(r[0], int(r[1]) + 100) for r in peaks[::5]}
    centred = {(c, s + 1000) for c, s, _ in rows}
    assert summits <= centred and len(centred - summits) >= 3
    assert _bed(DATA / "roi_unstranded.bed") == [r[:3] for r in roi]


def test_gtf_genes() -> None:
    rows = _bed(DATA / "genes.gtf")
    assert all(len(r) == 9 for r in rows)
    genes: dict[str, tuple[str, int, int, str]] = {}
    transcripts: dict[str, tuple[int, int]] = {}
    for chrom, _, feature, start, end, _, strand, _, attrs in rows:
        start, end = int(start), int(end)
        assert 1 <= start <= end <= SIZES[chrom]
        attr = dict(re.findall(r'(\S+) "([^"]*)";', attrs))
        assert "gene_id" in attr and "gene_name" in attr
        if feature == "gene":
            genes[attr["gene_id"]] = (chrom, start, end, strand)
        else:
            gchrom, gstart, gend, gstrand = genes[attr["gene_id"]]
            assert (chrom, strand) == (gchrom, gstrand) and gstart <= start <= end <= gend
        if feature == "transcript":
            transcripts[attr["transcript_id"]] = (start, end)
        if feature == "exon":
            tstart, tend = transcripts[attr["transcript_id"]]
            assert tstart <= start <= end <= tend
    assert len(genes) == 6
    assert Counter(g[3] for g in genes.values()) == {"+": 3, "-": 3}
    assert len(transcripts) == 7


def test_vcf_ref_matches_genome(genome: dict[str, str]) -> None:
    lines = (DATA / "variants.vcf").read_text().splitlines()
    assert lines[0] == "##fileformat=VCFv4.2"
    contigs = dict(re.findall(r"##contig=<ID=(\w+),length=(\d+)>", "\n".join(lines)))
    assert {c: int(n) for c, n in contigs.items()} == SIZES
    records = [line.split("\t") for line in lines if not line.startswith("#")]
    keys = [(list(SIZES).index(r[0]), int(r[1])) for r in records]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    kinds = Counter()
    for chrom, pos, _, ref, alt, *_ in records:
        start = int(pos) - 1
        assert genome[chrom][start : start + len(ref)].upper() == ref
        assert ref != alt and "N" not in ref
        kinds["snv" if len(ref) == len(alt) == 1 else "indel"] += 1
    assert kinds == {"snv": 20, "indel": 2}
    motif_hits = [r for r in records if "MOTIF" in r[7].split(";")]
    assert len(motif_hits) == 5


# --------------------------------------------------------------------------- reads + track


def _samtools_depth(*args: str) -> dict[str, np.ndarray]:
    depth = {c: np.full(n, -1, dtype=np.int64) for c, n in SIZES.items()}
    for line in _run("samtools", "depth", "-a", *args).splitlines():
        chrom, pos, value = line.split("\t")
        depth[chrom][int(pos) - 1] = int(value)
    return depth


def test_bigwig_equals_samtools_depth() -> None:
    bam = str(DATA / "sample.bam")
    bw = pyBigWig.open(str(DATA / "sample.bw"))
    try:
        assert bw.chroms() == SIZES
        track = {c: np.nan_to_num(bw.values(c, 0, n, numpy=True)) for c, n in SIZES.items()}
    finally:
        bw.close()
    # samtools depth's default filter drops UNMAP,SECONDARY,QCFAIL,DUP but keeps
    # supplementary reads; -G adds SUPPLEMENTARY to give the track's default filters
    filtered = _samtools_depth("-G", "SUPPLEMENTARY", bam)
    for chrom in SIZES:
        assert (filtered[chrom] >= 0).all()  # -a reported every base
        np.testing.assert_array_equal(track[chrom], filtered[chrom], err_msg=chrom)
    default = _samtools_depth(bam)
    supplementary = subprocess.run(
        ["samtools", "view", "-b", "-f", "0x800", bam], capture_output=True, check=True
    ).stdout
    extra = subprocess.run(
        ["samtools", "depth", "-aa", "-"], input=supplementary, capture_output=True, check=True
    ).stdout.decode()
    supp = {c: np.zeros(n, dtype=np.int64) for c, n in SIZES.items()}
    for line in extra.splitlines():
        chrom, pos, value = line.split("\t")
        supp[chrom][int(pos) - 1] = int(value)
    assert sum(int(v.sum()) for v in supp.values()) == 8 * 50
    for chrom in SIZES:
        np.testing.assert_array_equal(default[chrom] - track[chrom], supp[chrom])
    # ChIP-like: summits are about 10x the genome-wide median depth
    peaks = _bed(DATA / "peaks.narrowPeak")
    summit_depth = np.median([track[r[0]][int(r[1]) + 100] for r in peaks])
    background = np.median(np.concatenate(list(track.values())))
    assert 6 * background < summit_depth < 15 * background


def test_sample_bam_flagged_and_special_reads(genome: dict[str, str]) -> None:
    bam = str(DATA / "sample.bam")
    assert "SO:coordinate" in _run("samtools", "view", "-H", bam)
    total = int(_run("samtools", "view", "-c", bam))
    assert 14_000 <= total <= 16_000
    for flag in ("0x4", "0x100", "0x200", "0x400", "0x800"):
        assert int(_run("samtools", "view", "-c", "-f", flag, bam)) >= 5, flag
    flagstat = _run("samtools", "flagstat", bam)
    for label in ("secondary", "supplementary", "duplicates"):
        assert re.search(rf"^(\d+) \+ 0 {label}$", flagstat, re.M).group(1) == "8"
    assert re.search(r"^\d+ \+ 8 in total", flagstat, re.M)  # 8 QC-failed reads
    low_mapq = int(_run("samtools", "view", "-c", "-F", "0x4", bam)) - int(
        _run("samtools", "view", "-c", "-q", "6", bam)
    )
    assert low_mapq >= 10
    records = _sam_records(bam)
    names = [r[0] for r in records]
    assert len(set(names)) == len(names) == total
    cigars = Counter(r[5] for r in records)
    for cigar in ("20M2D30M", "20M2I28M", "20M100N30M", "5S45M"):
        assert cigars[cigar] >= 2, cigar
    assert {int(r[4]) for r in records if r[5] == "50M"} >= {60}
    positions = [(list(SIZES).index(r[2]), int(r[3])) for r in records]
    assert positions == sorted(positions)
    reverse = forward = 0
    for r in records:
        if r[5] == "50M" and not int(r[1]) & 0x4:
            start = int(r[3]) - 1
            assert r[9] == genome[r[2]][start : start + 50].upper(), r[0]
            reverse += bool(int(r[1]) & 0x10)
            forward += not int(r[1]) & 0x10
    assert reverse > 5000 and forward > 5000


def test_paired_bam_pairs() -> None:
    bam = str(DATA / "paired.bam")
    records = _sam_records(bam)
    proper = [r for r in records if int(r[1]) & 0x2]
    assert len(proper) == int(_run("samtools", "view", "-c", "-f", "0x2", bam)) == 4000
    assert {int(r[1]) for r in proper} == {99, 147, 163, 83}
    by_name: dict[str, list[list[str]]] = {}
    for r in records:
        by_name.setdefault(r[0], []).append(r)
    assert all(len(v) == 2 for v in by_name.values())
    for mates in by_name.values():
        a, b = mates
        assert int(a[1]) & 0x40 != int(b[1]) & 0x40  # one read1, one read2
        if int(a[1]) & 0x2:
            assert a[6] == b[6] == "="
            tlen = abs(int(a[8]))
            assert 150 <= tlen <= 300 and int(a[8]) == -int(b[8])
            left = min(mates, key=lambda r: int(r[3]))
            assert int(left[8]) > 0 and not int(left[1]) & 0x10
    improper = [r for r in records if not int(r[1]) & 0x2 and r[6] == "="]
    cross = [r for r in records if r[6] not in ("=", "*")]
    assert len(improper) >= 10 and len(cross) >= 10
    assert all(r[8] == "0" for r in cross)
    flagstat = _run("samtools", "flagstat", bam)
    assert re.search(r"^(\d+) \+ 0 with mate mapped to a different chr$", flagstat, re.M)
