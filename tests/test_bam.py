"""BAM reader: coverage against samtools depth, 5' ends against bedtools genomecov, pairs
against a naive pysam loop, the fast engine against the pysam engine, bad input."""

import os
import pickle
import shutil
import subprocess
import warnings

import dask
import numpy as np
import pysam
import pytest

from genomarray.data import example_path
from genomarray.errors import ChromosomeError, InputError
from genomarray.genome import graph
from genomarray.io import bam
from genomarray.io.bam import BamCounter, bam_chrom_sizes, check_bam

SAMPLE = example_path("sample.bam")
PAIRED = example_path("paired.bam")
ENGINES = ["fast", "pysam"]
SAMTOOLS_DEFAULT = 0x4 | 0x100 | 0x200 | 0x400  # samtools depth's default filter

needs_samtools = pytest.mark.skipif(shutil.which("samtools") is None, reason="no samtools")
needs_bedtools = pytest.mark.skipif(shutil.which("bedtools") is None, reason="no bedtools")


def samtools_depth(path: str, *args: str) -> dict[str, np.ndarray]:
    """Per-base depth of every chromosome, parsed from ``samtools depth -aa``."""
    out = subprocess.run(
        ["samtools", "depth", "-aa", *args, path], check=True, capture_output=True, text=True
    ).stdout
    rows: dict[str, list[int]] = {}
    for line in out.splitlines():
        chrom, pos, depth = line.split("\t")
        assert int(pos) == len(rows.setdefault(chrom, [])) + 1  # 1-based, every base
        rows[chrom].append(int(depth))
    return {c: np.array(v) for c, v in rows.items()}


def whole(counter: BamCounter, chrom: str) -> np.ndarray:
    n_bins = -(-bam_chrom_sizes(counter.path)[chrom] // counter.resolution)
    return counter(chrom, 0, n_bins)


# -- coverage against samtools depth ---------------------------------------------------------


@needs_samtools
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("options", "samtools_args"),
    [
        ({}, ["-G", "SUPPLEMENTARY"]),  # our default also drops supplementary reads
        ({"exclude_flags": SAMTOOLS_DEFAULT}, []),
        ({"min_mapq": 30}, ["-Q", "30", "-G", "SUPPLEMENTARY"]),
    ],
)
def test_coverage_equals_samtools_depth(engine, options, samtools_args):
    expected = samtools_depth(SAMPLE, *samtools_args)
    counter = BamCounter(SAMPLE, mode="coverage", stranded=False, engine=engine, **options)
    assert set(expected) == set(bam_chrom_sizes(SAMPLE))
    for chrom, depth in expected.items():
        np.testing.assert_array_equal(whole(counter, chrom)[:, 0], depth, err_msg=chrom)


@needs_samtools
def test_options_change_coverage():
    """The three samtools runs above differ, so each option is really exercised."""
    default = BamCounter(SAMPLE, mode="coverage", stranded=False)
    for other in (
        BamCounter(SAMPLE, mode="coverage", stranded=False, min_mapq=30),
        BamCounter(SAMPLE, mode="coverage", stranded=False, exclude_flags=SAMTOOLS_DEFAULT),
    ):
        assert whole(default, "chr1").sum() != whole(other, "chr1").sum()


def test_stranded_coverage_sums_to_unstranded():
    both = whole(BamCounter(SAMPLE, mode="coverage"), "chr2")
    one = whole(BamCounter(SAMPLE, mode="coverage", stranded=False), "chr2")
    assert both.shape[1] == 2 and both.dtype == np.int32
    np.testing.assert_array_equal(both.sum(axis=1), one[:, 0])
    assert both[:, 0].sum() > 0 and both[:, 1].sum() > 0


# -- 5' ends against bedtools genomecov -5 ---------------------------------------------------


@needs_samtools
@needs_bedtools
@pytest.mark.parametrize("engine", ENGINES)
def test_5prime_equals_bedtools_genomecov(tmp_path, engine):
    # bedtools genomecov -5 counts a forward read at its first aligned base and a reverse
    # read at the last base its alignment spans (soft clips excluded, deletions and splices
    # included) -- exactly our rule (reference_end - 1). It filters no flags, so the BAM is
    # filtered first with our default flags (0xF04 = unmapped, secondary, QC-fail, dup,
    # supplementary); sample.bam is single-end, so no pair rule is involved. Every base of
    # every chromosome is comparable.
    filtered = str(tmp_path / "filtered.bam")
    subprocess.run(["samtools", "view", "-b", "-F", "0xF04", "-o", filtered, SAMPLE], check=True)
    counter = BamCounter(SAMPLE, engine=engine)
    for column, strand in enumerate("+-"):
        out = subprocess.run(
            ["bedtools", "genomecov", "-5", "-d", "-strand", strand, "-ibam", filtered],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        per_chrom: dict[str, list[int]] = {}
        for line in out.splitlines():
            chrom, _, count = line.split("\t")
            per_chrom.setdefault(chrom, []).append(int(count))
        for chrom, counts in per_chrom.items():
            ours = whole(counter, chrom)[:, column]
            np.testing.assert_array_equal(ours, counts, err_msg=f"{chrom} {strand}")
            assert sum(counts) > 0


def test_5prime_edge_reads_and_reverse_end():
    """The edge_* reads: a forward read at base 0, a reverse read ending at the last base."""
    counter = BamCounter(SAMPLE, engine="fast")
    for chrom, length in bam_chrom_sizes(SAMPLE).items():
        counts = whole(counter, chrom)
        assert counts[0, 0] >= 1
        assert counts[length - 1, 1] >= 1  # Janggu's reference_end would fall off the end


# -- paired-end rules against a naive loop ---------------------------------------------------


def naive_pairs(
    path: str, pairedend: str, min_mapq: int = 0, max_fragment: int = 2000
) -> dict[str, np.ndarray]:
    """Counts from the rules, written plainly: only proper same-chromosome pairs count;
    "5prime": every mate at its own 5' end on its own strand; "midpoint": read 1 of each
    pair (|TLEN| <= max_fragment) at the fragment middle, on read 1's strand."""
    with pysam.AlignmentFile(path) as fh:
        sizes = dict(zip(fh.references, fh.lengths, strict=True))
        counts = {c: np.zeros((n, 2), np.int64) for c, n in sizes.items()}
        for r in fh.fetch(until_eof=True):
            if r.flag & 0xF04 or r.mapping_quality < min_mapq:
                continue
            site = r.reference_end - 1 if r.is_reverse else r.reference_start
            if r.is_paired:
                if not r.is_proper_pair or r.next_reference_name != r.reference_name:
                    continue
                if pairedend == "midpoint":
                    if not r.is_read1 or abs(r.template_length) > max_fragment:
                        continue
                    left = min(r.reference_start, r.next_reference_start)
                    site = left + abs(r.template_length) // 2
            if 0 <= site < sizes[r.reference_name]:
                counts[r.reference_name][site, int(r.is_reverse)] += 1
    return counts


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("pairedend", ["5prime", "midpoint"])
def test_paired_matches_naive_loop(engine, pairedend):
    expected = naive_pairs(PAIRED, pairedend)
    counter = BamCounter(PAIRED, pairedend=pairedend, engine=engine)
    total = 0
    for chrom, counts in expected.items():
        np.testing.assert_array_equal(whole(counter, chrom), counts, err_msg=chrom)
        total += counts.sum()
    # 2000 proper pairs: both mates in 5' mode, one per fragment at the midpoint;
    # improper and cross-chromosome pairs never
    assert total == (4000 if pairedend == "5prime" else 2000)


def bedtools_5prime(path: str, strand: str | None) -> dict[str, np.ndarray]:
    """``bedtools genomecov -5 -d [-strand s]`` per chromosome."""
    args = ["bedtools", "genomecov", "-5", "-d", "-ibam", path]
    out = subprocess.run(
        args + (["-strand", strand] if strand else []), check=True, capture_output=True, text=True
    ).stdout
    per_chrom: dict[str, list[int]] = {}
    for line in out.splitlines():
        chrom, _, count = line.split("\t")
        per_chrom.setdefault(chrom, []).append(int(count))
    return {c: np.array(v) for c, v in per_chrom.items()}


@needs_samtools
@needs_bedtools
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("stranded", [True, False])
def test_paired_5prime_equals_bedtools_on_proper_pairs(tmp_path, engine, stranded):
    """Paired-end 5' counts are bedtools genomecov -5 of the proper pairs: every mate at
    its own 5' end (Janggu's rule too), so fragments count twice, once per cut site."""
    proper = str(tmp_path / "proper.bam")
    subprocess.run(
        ["samtools", "view", "-b", "-f", "2", "-F", "0xF04", "-o", proper, PAIRED], check=True
    )
    counter = BamCounter(PAIRED, engine=engine, stranded=stranded)
    strands = ["+", "-"] if stranded else [None]
    total = 0
    for column, strand in enumerate(strands):
        expected = bedtools_5prime(proper, strand)
        assert set(expected) == set(bam_chrom_sizes(PAIRED))
        for chrom, counts in expected.items():
            np.testing.assert_array_equal(
                whole(counter, chrom)[:, column], counts, err_msg=f"{chrom} {strand}"
            )
            total += counts.sum()
    assert total == 4000  # both mates of the 2000 proper pairs
    # the counts are both mates, not read 1 only: read 2 alone gives half
    only_read2 = str(tmp_path / "read2.bam")
    subprocess.run(
        ["samtools", "view", "-b", "-f", "130", "-F", "0xF04", "-o", only_read2, PAIRED],
        check=True,
    )
    pysam.index(only_read2)
    read2 = sum(int(whole(BamCounter(only_read2, engine=engine), c).sum()) for c in expected)
    assert read2 == 2000


@pytest.mark.parametrize("engine", ENGINES)
def test_improper_and_crosschrom_count_nothing_read2_counts_in_5prime(tmp_path, engine):
    path = str(tmp_path / "excluded.bam")
    with pysam.AlignmentFile(PAIRED) as src, pysam.AlignmentFile(path, "wb", template=src) as out:
        kept = 0
        for r in src.fetch(until_eof=True):
            if r.query_name.startswith(("improper_", "crosschrom_")) or r.is_read2:
                out.write(r)
                kept += 1
    pysam.index(path)
    assert kept > 2000
    sizes = bam_chrom_sizes(path)
    # midpoint counts via read 1 only: nothing here
    midpoint = BamCounter(path, pairedend="midpoint", engine=engine)
    assert sum(whole(midpoint, c).sum() for c in sizes) == 0
    # 5' mode counts every mate of a proper pair: exactly the 2000 proper read 2s
    five = BamCounter(path, pairedend="5prime", engine=engine)
    assert sum(whole(five, c).sum() for c in sizes) == 2000
    # in coverage mode every read counts, pairs or not
    assert whole(BamCounter(path, mode="coverage", engine=engine), "chr1").sum() > 0


def test_midpoint_and_5prime_differ_and_max_fragment_drops_long_pairs():
    five = whole(BamCounter(PAIRED), "chr1")
    mid = whole(BamCounter(PAIRED, pairedend="midpoint"), "chr1")
    assert five.sum() == 2 * mid.sum() and not np.array_equal(five, 2 * mid)
    short = BamCounter(PAIRED, pairedend="midpoint", max_fragment=200)
    expected = naive_pairs(PAIRED, "midpoint", max_fragment=200)["chr1"]
    np.testing.assert_array_equal(whole(short, "chr1"), expected)
    assert expected.sum() < mid.sum()
    # max_fragment does not apply to 5' counts (each mate counts at its own end)
    np.testing.assert_array_equal(whole(BamCounter(PAIRED, max_fragment=200), "chr1"), five)


# -- a larger synthetic BAM: fast engine against pysam engine ------------------------------

CIGARS = [
    "50M",
    "50M",
    "50M",
    "20M2D30M",
    "10M5000N40M",
    "25M30000D25M",
    "5S40M5S",
    "20M3I27M",
    "20=1X29=",
    "5H45M",
    "30M200000N20M",
    "1M1D" * 40_000 + "1M",
]


@pytest.fixture(scope="session")
def synthetic_bam(tmp_path_factory) -> str:
    """Sorted, indexed BAM over three chromosomes (the third empty): single-end reads with
    every CIGAR kind above (long deletions and splices crossing chunk boundaries, a read of
    80,001 CIGAR operations stored in a CG tag and spanning several BGZF blocks), all flag
    kinds, MAPQ 0-60, and proper/improper/cross-chromosome pairs."""
    rng = np.random.default_rng(7)
    sizes = {"c1": 1_200_000, "c2": 150_000, "c3": 10_000}
    header = {
        "HD": {"VN": "1.6", "SO": "coordinate"},
        "SQ": [{"SN": c, "LN": n} for c, n in sizes.items()],
    }
    records = []  # (chrom index, pos, fields)

    def ref_len(cigar: str) -> int:
        seg = pysam.AlignedSegment()
        seg.cigarstring = cigar
        return seg.reference_length

    lengths = {c: ref_len(c) for c in set(CIGARS)}
    flags = [0, 16, 0, 16, 0, 16, 0x400, 0x100 | 16, 0x800, 0x200, 0x4]
    for i in range(30_000):
        chrom = int(rng.choice(2, p=[0.85, 0.15]))
        cigar = CIGARS[int(rng.integers(len(CIGARS) - 1))] if i != 777 else CIGARS[-1]
        if lengths[cigar] > 50_000:
            chrom = 0
        pos = int(rng.integers(0, list(sizes.values())[chrom] - lengths[cigar]))
        flag = flags[int(rng.integers(len(flags)))]
        records.append(
            (
                chrom,
                pos,
                dict(
                    cigar=cigar,
                    flag=flag,
                    tlen=0,
                    mpos=-1,
                    mref=-1,
                    mapq=int(rng.choice([0, 3, 20, 60, 60, 60])),
                ),
            )
        )
    for i in range(4000):  # pairs: mostly proper, some improper, some cross-chromosome
        chrom = int(rng.choice(2, p=[0.85, 0.15]))
        left = int(rng.integers(0, list(sizes.values())[chrom] - 3000))
        frag = int(rng.integers(60, 2600 if i % 10 == 0 else 400))  # some beyond 2000
        right = left + frag - 50
        kind = rng.choice(["proper", "proper", "proper", "improper", "cross"])
        first_is_1 = bool(rng.integers(2))  # leftmost mate is read 1 or read 2
        base = {"proper": 0x1 | 0x2, "improper": 0x1, "cross": 0x1}[str(kind)]
        r1 = 0x40 if first_is_1 else 0x80
        r2 = 0x80 if first_is_1 else 0x40
        mate_ref = chrom if kind != "cross" else 1 - chrom
        tlen = frag if kind != "cross" else 0
        mapq = int(rng.choice([0, 60, 60]))
        records.append(
            (
                chrom,
                left,
                dict(
                    cigar="50M",
                    flag=base | r1 | 0x20,
                    tlen=tlen,
                    mpos=right,
                    mref=mate_ref,
                    mapq=mapq,
                ),
            )
        )
        if kind != "cross":
            records.append(
                (
                    chrom,
                    right,
                    dict(
                        cigar="50M",
                        flag=base | r2 | 0x10,
                        tlen=-tlen,
                        mpos=left,
                        mref=chrom,
                        mapq=mapq,
                    ),
                )
            )
    records.sort(key=lambda r: (r[0], r[1]))
    path = str(tmp_path_factory.mktemp("bam") / "synthetic.bam")
    with pysam.AlignmentFile(path, "wb", header=header) as out:
        for k, (chrom, pos, f) in enumerate(records):
            seg = pysam.AlignedSegment(out.header)
            seg.query_name = f"r{k}"
            seg.reference_id = chrom
            seg.reference_start = pos
            seg.cigarstring = f["cigar"]
            seg.flag = f["flag"]
            seg.mapping_quality = f["mapq"]
            seg.next_reference_id = f["mref"]
            seg.next_reference_start = f["mpos"]
            seg.template_length = f["tlen"]
            n = seg.query_length if seg.query_length else seg.infer_query_length()
            seg.query_sequence = "ACGT" * (n // 4) + "A" * (n % 4)
            seg.query_qualities = pysam.qualitystring_to_array("I" * n)
            out.write(seg)
    pysam.index(path)
    return path


SYNTHETIC_OPTIONS = [
    {"mode": "coverage"},
    {"mode": "coverage", "stranded": False, "min_mapq": 20, "template_extension": 150},
    {"mode": "coverage", "exclude_flags": 0},
    {"mode": "5prime"},
    {"mode": "5prime", "pairedend": "midpoint", "min_mapq": 1},
    {"mode": "5prime", "exclude_flags": 0x4, "max_fragment": 3000},
]


@pytest.mark.parametrize("options", SYNTHETIC_OPTIONS)
def test_fast_engine_equals_pysam_engine(synthetic_bam, options):
    fast = BamCounter(synthetic_bam, engine="fast", **options)
    slow = BamCounter(synthetic_bam, engine="pysam", **options)
    for chrom in bam_chrom_sizes(synthetic_bam):
        a, b = whole(fast, chrom), whole(slow, chrom)
        np.testing.assert_array_equal(a, b, err_msg=f"{chrom} {options}")
        assert a.sum() > 0 or chrom == "c3"


@needs_samtools
def test_synthetic_coverage_equals_samtools(synthetic_bam):
    expected = samtools_depth(synthetic_bam, "-G", "SUPPLEMENTARY")
    counter = BamCounter(synthetic_bam, mode="coverage", stranded=False)
    for chrom, depth in expected.items():
        np.testing.assert_array_equal(whole(counter, chrom)[:, 0], depth, err_msg=chrom)


def test_long_cigar_read_from_cg_tag(synthetic_bam):
    """The 80,001-operation read is stored with a CG tag; both engines see its CIGAR."""
    with pysam.AlignmentFile(synthetic_bam) as fh:
        read = next(r for r in fh.fetch(until_eof=True) if len(r.cigartuples) > 65535)
    only = BamCounter(synthetic_bam, mode="coverage", exclude_flags=0, engine="fast")
    chrom, start = read.reference_name, read.reference_start
    block = only(chrom, start, start + 8)
    others = BamCounter(synthetic_bam, mode="coverage", exclude_flags=0, engine="pysam")
    np.testing.assert_array_equal(block, others(chrom, start, start + 8))
    depth = block.sum(axis=1)
    assert (depth[0::2] - depth[1::2] >= 0).all()  # 1M1D: a deletion every other base


@pytest.mark.parametrize(
    "options",
    [
        {"mode": "coverage", "template_extension": 300},
        {"mode": "5prime"},
        {"mode": "5prime", "pairedend": "midpoint"},
    ],
)
def test_chunking_never_changes_counts(synthetic_bam, options):
    counter = BamCounter(synthetic_bam, **options)
    reference = whole(counter, "c1")
    n = len(reference)
    part = 250_000  # chunks of 777 bins over the first 250 kb, then 25 random cuts
    chunked = np.concatenate([counter("c1", s, min(s + 777, part)) for s in range(0, part, 777)])
    np.testing.assert_array_equal(chunked, reference[:part])
    rng = np.random.default_rng(3)
    cuts = np.unique(np.concatenate([[0, n], rng.integers(0, n, 25)]))
    pieces = [counter("c1", int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    np.testing.assert_array_equal(np.concatenate(pieces), reference)
    assert counter("c1", n, n + 5).sum() == 0 and counter("c1", n, n + 5).shape[0] == 5


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("mode", ["coverage", "5prime"])
def test_resolution_sums_bases(synthetic_bam, engine, mode):
    per_base = whole(BamCounter(synthetic_bam, mode=mode), "c2")
    binned = BamCounter(synthetic_bam, mode=mode, resolution=50, engine=engine)
    n_bins = -(-len(per_base) // 50)
    padded = np.zeros((n_bins * 50, 2), np.int64)
    padded[: len(per_base)] = per_base
    expected = padded.reshape(n_bins, 50, 2).sum(axis=1)
    np.testing.assert_array_equal(binned("c2", 0, n_bins), expected)
    np.testing.assert_array_equal(binned("c2", 17, 170), expected[17:170])
    # bins past the chromosome end are zero
    assert binned("c2", n_bins - 1, n_bins + 3)[1:].sum() == 0


def test_resolution_with_odd_chromosome_end():
    counter = BamCounter(SAMPLE, mode="coverage", resolution=333)  # 40000 = 120 * 333 + 40
    per_base = whole(BamCounter(SAMPLE, mode="coverage"), "chr1")
    binned = counter("chr1", 0, 121)
    assert binned[120].tolist() == per_base[120 * 333 :].sum(axis=0).tolist()
    assert binned.sum() == per_base.sum()


def test_dask_threads_and_pickle(synthetic_bam):
    counter = BamCounter(synthetic_bam, mode="coverage")
    assert pickle.loads(pickle.dumps(counter)) == counter
    sizes = bam_chrom_sizes(synthetic_bam)
    arr = graph.genome_array(
        counter, list(sizes), list(sizes.values()), np.int32, trailing=(2,), chunk=100_000
    )
    with dask.config.set(scheduler="threads", num_workers=4):
        values = arr.compute()
    for i, chrom in enumerate(sizes):
        np.testing.assert_array_equal(values[i, : sizes[chrom]], whole(counter, chrom))


@pytest.mark.parametrize("inflater", ["zlib", "isal", "deflate"])
def test_every_inflater_gives_the_same_counts(synthetic_bam, monkeypatch, inflater):
    import zlib

    if inflater == "zlib":
        monkeypatch.setattr(bam, "_inflate", lambda data, n: zlib.decompress(data, -15, n))
        monkeypatch.setattr(bam, "_inflate_error", zlib.error)
    elif inflater == "isal":
        isal_zlib = pytest.importorskip("isal.isal_zlib")
        monkeypatch.setattr(bam, "_inflate", lambda data, n: isal_zlib.decompress(data, -15, n))
        monkeypatch.setattr(bam, "_inflate_error", isal_zlib.error)
    else:
        deflate = pytest.importorskip("deflate")
        monkeypatch.setattr(bam, "_inflate", deflate.deflate_decompress)
        monkeypatch.setattr(bam, "_inflate_error", deflate.DeflateError)
    fast = BamCounter(synthetic_bam, mode="coverage", engine="fast")
    slow = BamCounter(synthetic_bam, mode="coverage", engine="pysam")
    np.testing.assert_array_equal(fast("c1", 0, 300_000), slow("c1", 0, 300_000))


def test_without_numba_auto_falls_back_to_pysam(monkeypatch):
    monkeypatch.setattr(bam, "_fns", None)
    auto = BamCounter(SAMPLE, mode="coverage")
    np.testing.assert_array_equal(
        whole(auto, "chr3"), whole(BamCounter(SAMPLE, mode="coverage", engine="pysam"), "chr3")
    )
    with pytest.raises(InputError, match="needs numba"):
        BamCounter(SAMPLE, engine="fast")("chr1", 0, 10)


@pytest.mark.parametrize("compressed", [False, True])
def test_sam_text_file_is_refused_with_conversion_hint(tmp_path, compressed):
    """A SAM cannot be read by region; reusing one scan per thread read nothing for later
    chunks (833 of 14,986 reads), so SAM is refused with the commands that convert it."""
    sam = str(tmp_path / ("sample.sam.gz" if compressed else "sample.sam"))
    pysam.view(
        "-h",
        *(["--output-fmt", "SAM,level=6"] if compressed else []),
        "-o",
        sam,
        SAMPLE,
        catch_stdout=False,
    )
    stem = str(tmp_path / "sample")
    hint = (
        rf"{sam}: SAM text files are not supported.*genome-wide build.*"
        rf"`samtools sort -o {stem}\.bam {sam} && samtools index {stem}\.bam`"
    )
    with pytest.raises(InputError, match=hint):
        check_bam(sam)
    for engine in ENGINES:
        with pytest.raises(InputError, match="samtools sort"):
            BamCounter(sam, mode="coverage", engine=engine)("chr2", 0, 10)
    # as the message says
    pysam.sort("-o", f"{stem}.bam", sam, catch_stdout=False)
    pysam.index(f"{stem}.bam")
    check_bam(f"{stem}.bam")
    converted = BamCounter(f"{stem}.bam", mode="coverage")
    for chrom in bam_chrom_sizes(SAMPLE):
        np.testing.assert_array_equal(
            whole(converted, chrom), whole(BamCounter(SAMPLE, mode="coverage"), chrom)
        )


def _write_cram(bam_path: str, cram_path: str) -> str:
    pysam.view("-C", "-T", example_path("genome.fa"), "-o", cram_path, bam_path, catch_stdout=False)
    pysam.index(cram_path)
    return cram_path


@pytest.fixture(scope="session")
def sample_cram(tmp_path_factory) -> str:
    """sample.bam as an indexed CRAM (its header's UR names the bundled genome)."""
    return _write_cram(SAMPLE, str(tmp_path_factory.mktemp("cram") / "sample.cram"))


@pytest.fixture(scope="session")
def sample_csi(tmp_path_factory) -> str:
    """sample.bam with a .csi index (read by the pysam engine)."""
    path = str(tmp_path_factory.mktemp("csi") / "sample.bam")
    shutil.copy(SAMPLE, path)
    pysam.index("-c", path)
    return path


@pytest.mark.parametrize("kind", ["cram", "csi"])
@pytest.mark.parametrize("mode", ["coverage", "5prime"])
def test_pysam_engine_reuses_its_handle_across_chunks(request, kind, mode):
    """One cached handle per thread serves every chunk: each chunk, read again or after
    another, gives the counts of the fast engine on the original BAM."""
    path = request.getfixturevalue(f"sample_{kind}")
    counter = BamCounter(path, mode=mode, engine="pysam")
    reference = BamCounter(SAMPLE, mode=mode, engine="fast")
    chunks = [
        ("chr1", 0, 10_000),
        ("chr1", 10_000, 20_000),
        ("chr1", 0, 10_000),
        ("chr2", 5_000, 25_000),
        ("chr1", 10_000, 20_000),
        ("chr1", 0, 40_000),
        ("chr1", 0, 10_000),
    ]
    handle = bam._pysam_handle(path)
    total = 0
    for chrom, start, end in chunks:
        block = counter(chrom, start, end)
        np.testing.assert_array_equal(
            block, reference(chrom, start, end), err_msg=f"{kind} {chrom}:{start}-{end}"
        )
        total += int(block.sum())
    assert total > 0
    assert bam._pysam_handle(path) is handle  # the same handle was reused throughout


def test_cram_with_reads_is_not_reported_empty(sample_cram, tmp_path):
    """A .crai keeps no read counts (pysam says 0 mapped): mapped_reads says -1 (unknown,
    not empty) and read_bam does not warn; a truly empty CRAM still gives 0 and warns."""
    import genomarray as ga

    assert bam.mapped_reads(sample_cram) == -1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cov = ga.read_bam(sample_cram, storage="lazy")
    assert not [w for w in caught if "no mapped reads" in str(w.message)]
    np.testing.assert_array_equal(
        cov.sel(chrom="chr3").values[:20_000, :, 0], whole(BamCounter(SAMPLE), "chr3")
    )

    empty_bam = str(tmp_path / "empty.bam")
    with pysam.AlignmentFile(SAMPLE) as src, pysam.AlignmentFile(empty_bam, "wb", template=src):
        pass
    empty = _write_cram(empty_bam, str(tmp_path / "empty.cram"))
    assert bam.mapped_reads(empty) == 0
    with pytest.warns(UserWarning, match="empty.cram: no mapped reads"):
        ga.read_bam(empty, storage="lazy")


def test_csi_bam_mapped_reads_from_index(sample_csi):
    assert bam.mapped_reads(sample_csi) == bam.mapped_reads(SAMPLE) > 0


@pytest.fixture(scope="session")
def deep_bam(tmp_path_factory) -> str:
    """2,148 reads (half per strand) covering all of a 1 Mb chromosome: one 1 Mb bin sums
    1,074,000,000 per strand, 2,148,000,000 over both (> int32 maximum 2,147,483,647)."""
    path = str(tmp_path_factory.mktemp("deep") / "deep.bam")
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "c1", "LN": 1_000_000}]}
    with pysam.AlignmentFile(path, "wb", header=header) as out:
        for i in range(2148):
            seg = pysam.AlignedSegment(out.header)
            seg.query_name, seg.reference_id, seg.reference_start = f"r{i}", 0, 0
            seg.cigarstring, seg.flag, seg.mapping_quality = "1000000M", 16 * (i % 2), 60
            out.write(seg)  # no SEQ ('*'): a small file
    pysam.index(path)
    return path


@pytest.mark.parametrize("engine", ENGINES)
def test_summed_depth_past_int32_raises_instead_of_wrapping(deep_bam, engine):
    per_strand = BamCounter(deep_bam, mode="coverage", resolution=1_000_000, engine=engine)
    assert per_strand("c1", 0, 1).tolist() == [[1_074_000_000, 1_074_000_000]]
    both = BamCounter(
        deep_bam, mode="coverage", resolution=1_000_000, stranded=False, engine=engine
    )
    with pytest.raises(
        InputError,
        match=r"deep\.bam, c1:0-1000000: .*2148000000, exceeds "
        r"the int32 maximum .*smaller resolution.*5prime",
    ):
        both("c1", 0, 1)
    with pytest.raises(InputError, match="c1:0-1000000"):  # also inside a longer block
        both("c1", 0, 3)
    # the fixes the message names
    smaller = BamCounter(
        deep_bam, mode="coverage", resolution=500_000, stranded=False, engine=engine
    )
    assert smaller("c1", 0, 2).tolist() == [[1_074_000_000], [1_074_000_000]]
    five = BamCounter(deep_bam, resolution=1_000_000, stranded=False, engine=engine)
    assert five("c1", 0, 1).tolist() == [[2148]]


def test_finish_coverage_kernel_flags_int32_overflow():
    """The kernel sums in int64 and says when an int32 result would wrap; an int64 output
    gets the exact sums (depth 60,000 over 50 kb bins: 3e9 per bin)."""
    fns = pytest.importorskip("genomarray.io.bam_fns")
    lo, hi, res = 0, 100_000, 50_000
    diff = np.zeros((2, hi - lo + 1), np.int32)
    diff[0, 0], diff[0, hi - lo] = 60_000, -60_000
    exact = np.zeros((2, 1), np.int64)
    assert fns.finish_coverage(diff, lo, hi, res, 0, exact, False)
    assert exact[:, 0].tolist() == [3_000_000_000, 3_000_000_000]
    narrow = np.zeros((2, 1), np.int32)
    assert fns.finish_coverage(diff, lo, hi, res, 0, narrow, False)
    shallow = diff // 1000  # depth 60: 3,000,000 per bin, no overflow
    fits = np.zeros((2, 2), np.int32)
    assert not fns.finish_coverage(shallow, lo, hi, res, 0, fits, True)
    assert fits.tolist() == [[3_000_000, 0], [3_000_000, 0]]
    per_base = np.zeros((hi - lo, 1), np.int32)
    assert not fns.finish_coverage(shallow, lo, hi, 1, 0, per_base, False)
    assert (per_base == 60).all()


# -- bad input -------------------------------------------------------------------------------


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="BAM file not found: .*nope.bam"):
        check_bam("nope.bam")
    with pytest.raises(FileNotFoundError, match="nope.bam"):
        BamCounter("nope.bam")("chr1", 0, 10)


def test_no_index_says_samtools_index(tmp_path):
    path = str(tmp_path / "reads.bam")
    shutil.copy(SAMPLE, path)
    with pytest.raises(InputError, match=r"no index .*`samtools index .*reads.bam`"):
        check_bam(path)
    for engine in ENGINES:
        with pytest.raises(InputError, match="samtools index"):
            BamCounter(path, engine=engine)("chr1", 0, 10)
    pysam.index(path)  # as the message says
    check_bam(path)


def _write_unsorted(path: str, so: str | None) -> None:
    header = {"HD": {"VN": "1.6", **({"SO": so} if so else {})}, "SQ": [{"SN": "chr1", "LN": 1000}]}
    with pysam.AlignmentFile(path, "wb", header=header) as out:
        for pos in (500, 100, 300):
            seg = pysam.AlignedSegment(out.header)
            seg.query_name, seg.reference_id, seg.reference_start = f"r{pos}", 0, pos
            seg.cigarstring, seg.query_sequence = "10M", "ACGTACGTAC"
            out.write(seg)


@pytest.mark.parametrize("so", ["unsorted", "queryname", None])
def test_unsorted_says_sort(tmp_path, so):
    path = str(tmp_path / "unsorted.bam")
    _write_unsorted(path, so)
    with pytest.raises(
        InputError,
        match=r"not coordinate-sorted .*samtools sort -o "
        r"sorted\.bam .*unsorted\.bam && samtools index",
    ):
        check_bam(path)


def test_not_a_bam(tmp_path):
    path = tmp_path / "text.bam"
    path.write_text("this is not a BAM file\n")
    with pytest.raises(InputError, match="text.bam.*not a BAM"):
        check_bam(path)


@pytest.mark.parametrize("engine", ENGINES)
def test_empty_bam_gives_zeros(tmp_path, engine):
    path = str(tmp_path / "empty.bam")
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chr1", "LN": 5000}]}
    with pysam.AlignmentFile(path, "wb", header=header):
        pass
    pysam.index(path)
    check_bam(path)
    assert bam.mapped_reads(path) == 0
    for mode in ("coverage", "5prime"):
        block = BamCounter(path, mode=mode, engine=engine)("chr1", 0, 6000)
        assert block.shape == (6000, 2) and block.dtype == np.int32 and block.sum() == 0


def test_unknown_chromosome_and_bad_parameters():
    with pytest.raises(ChromosomeError, match="'1' is not in the BAM header .*chr1"):
        BamCounter(SAMPLE)("1", 0, 10)
    with pytest.raises(InputError, match="mode must be one of"):
        BamCounter(SAMPLE, mode="depth")
    with pytest.raises(InputError, match="pairedend"):
        BamCounter(SAMPLE, pairedend="3prime")
    with pytest.raises(InputError, match="resolution"):
        BamCounter(SAMPLE, resolution=0)
    with pytest.raises(InputError, match="min_mapq"):
        BamCounter(SAMPLE, min_mapq=-1)


@pytest.mark.parametrize("damage", ["truncate", "garble"])
def test_damaged_bam_is_reported(tmp_path, damage):
    path = str(tmp_path / "reads.bam")
    data = bytearray(open(SAMPLE, "rb").read())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:  # overwrite the middle of the compressed stream
        data[len(data) // 2 : len(data) // 2 + 2000] = bytes(2000)
    with open(path, "wb") as fh:
        fh.write(data)
    shutil.copy(SAMPLE + ".bai", path + ".bai")
    counter = BamCounter(path, mode="coverage", engine="fast")
    what = "truncated" if damage == "truncate" else "bad BGZF block.* damaged.*samtools index"
    with pytest.raises(InputError, match=rf"reads\.bam: .*{what}"):
        for chrom in bam_chrom_sizes(SAMPLE):
            whole(counter, chrom)


@pytest.mark.parametrize("damage", ["truncate", "garble"])
def test_damaged_bam_is_reported_by_the_pysam_engine(tmp_path, damage):
    """htslib's bare ``OSError: truncated file`` from inside a fetch is wrapped: the
    message names the file, the region read and the failure."""
    path = str(tmp_path / "reads.bam")
    data = bytearray(open(SAMPLE, "rb").read())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data[len(data) // 2 : len(data) // 2 + 2000] = bytes(2000)
    with open(path, "wb") as fh:
        fh.write(data)
    shutil.copy(SAMPLE + ".bai", path + ".bai")
    counter = BamCounter(path, mode="coverage", engine="pysam")
    if damage == "truncate":  # caught when the file is opened (no BGZF EOF marker)
        what = r"reads\.bam: the file is truncated .*write or copy it again"
    else:
        what = (
            r"reads\.bam, chr\d:\d+-\d+: cannot read the alignments \(truncated file\): "
            r"the BAM is truncated or damaged; write or copy it again"
        )
    with pytest.raises(InputError, match=what):
        for chrom in bam_chrom_sizes(SAMPLE):
            whole(counter, chrom)


def test_csi_index_is_read_with_pysam(tmp_path):
    path = str(tmp_path / "reads.bam")
    shutil.copy(SAMPLE, path)
    pysam.index("-c", path)
    assert os.path.exists(path + ".csi")
    check_bam(path)
    np.testing.assert_array_equal(
        whole(BamCounter(path), "chr2"), whole(BamCounter(SAMPLE), "chr2")
    )


def test_chrom_sizes_and_mapped_reads():
    assert bam_chrom_sizes(PAIRED) == {"chr1": 40000, "chr2": 30000, "chr3": 20000}
    with pysam.AlignmentFile(SAMPLE) as fh:
        mapped = sum(1 for r in fh.fetch(until_eof=True) if not r.is_unmapped)
    assert bam.mapped_reads(SAMPLE) == mapped
    assert os.path.exists(SAMPLE + ".bai")
