"""Property-based tests (hypothesis) of the readers against naive references (issue 13).

- BAM counting: generated alignments (random CIGARs of M/I/D/N/S/H/=/X, every flag bit,
  MAPQ, strands, mates), written with pysam, counted by both engines in both modes and
  compared with a plain loop over the *generated records* that applies the documented
  rules (it never asks pysam or genomarray for a read's end or blocks).
- FASTA: generated layouts (line widths, lower case, IUPAC codes, N runs, CRLF, blank lines,
  no final newline, several records) read by ``read_fasta`` against a naive parser, the
  ``.fai`` against ``samtools faidx``, ``iter_records`` against the same parser.
"""

import os
import shutil
import subprocess
import tempfile
import warnings
from unittest import mock

import numpy as np
import pysam
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import genomarray as ga
from genomarray.errors import InputError
from genomarray.io import bgzf, fasta
from genomarray.io.bam import DEFAULT_EXCLUDE_FLAGS, BamCounter

SETTINGS = dict(  # modest counts: the file runs in ~10 s (plus imports) on one core
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- BAM ---------------------------------------------------------------------------------

M, I, D, N, S, H, EQ, X = 0, 1, 2, 3, 4, 5, 7, 8  # noqa: E741 - SAM's own letters
CONSUMES_REF = {M, D, N, EQ, X}
COVERS = {M, EQ, X}
CONSUMES_QUERY = {M, I, S, EQ, X}
FLAG_BITS = [0x1, 0x2, 0x10, 0x20, 0x40, 0x80, 0x4, 0x100, 0x200, 0x400, 0x800]
CHROMS = {"c1": 1500, "c2": 700}


@st.composite
def cigars(draw) -> list[tuple[int, int]]:
    """[H][S] core [S][H]: a core of 0-6 of M/I/D/N/=/X (N up to 300 bp)."""
    core = draw(
        st.lists(st.tuples(st.sampled_from([M, M, I, D, N, EQ, X]), st.integers(1, 40)), max_size=6)
    )
    core = [(op, min(n, 300) if op == N else n) for op, n in core]
    left = [(H, draw(st.integers(1, 5)))] if draw(st.booleans()) else []
    left += [(S, draw(st.integers(1, 10)))] if draw(st.booleans()) else []
    right = [(S, draw(st.integers(1, 10)))] if draw(st.booleans()) else []
    right += [(H, draw(st.integers(1, 5)))] if draw(st.booleans()) else []
    cigar = left + core + right
    return cigar or [(M, draw(st.integers(1, 40)))]


@st.composite
def alignments(draw) -> dict:
    cigar = draw(cigars())
    ref_len = sum(n for op, n in cigar if op in CONSUMES_REF)
    chrom = draw(st.sampled_from(list(CHROMS)))
    pos = draw(st.integers(0, max(0, CHROMS[chrom] - max(ref_len, 1))))
    bits = draw(st.lists(st.sampled_from(FLAG_BITS), max_size=5, unique=True))
    # most reads are plain, so that something is counted
    flag = sum(bits) if draw(st.integers(0, 3)) else draw(st.sampled_from([0, 16, 0x1 | 0x2]))
    mate = draw(st.sampled_from(["same", "same", "same", "other", "none"]))
    mate_chrom = {"same": chrom, "other": "c2" if chrom == "c1" else "c1", "none": None}[mate]
    return dict(
        chrom=chrom,
        pos=pos,
        cigar=cigar,
        flag=flag,
        mapq=draw(st.sampled_from([0, 1, 5, 20, 30, 60, 255])),
        mate_chrom=mate_chrom,
        mate_pos=draw(st.integers(0, CHROMS[mate_chrom] - 1)) if mate_chrom else -1,
        tlen=draw(st.integers(-3000, 3000)),
    )


def write_bam(folder: str, reads: list[dict]) -> str:
    path = os.path.join(folder, "reads.bam")
    names = list(CHROMS)
    header = {
        "HD": {"VN": "1.6", "SO": "coordinate"},
        "SQ": [{"SN": c, "LN": n} for c, n in CHROMS.items()],
    }
    order = sorted(
        range(len(reads)), key=lambda i: (names.index(reads[i]["chrom"]), reads[i]["pos"])
    )
    with pysam.AlignmentFile(path, "wb", header=header) as out:
        for k in order:
            r = reads[k]
            seg = pysam.AlignedSegment(out.header)
            seg.query_name = f"r{k}"
            seg.reference_id = names.index(r["chrom"])
            seg.reference_start = r["pos"]
            seg.cigartuples = r["cigar"]
            seg.flag = r["flag"]
            seg.mapping_quality = r["mapq"]
            seg.next_reference_id = names.index(r["mate_chrom"]) if r["mate_chrom"] else -1
            seg.next_reference_start = r["mate_pos"]
            seg.template_length = r["tlen"]
            n = sum(n for op, n in r["cigar"] if op in CONSUMES_QUERY)
            if n:
                seg.query_sequence = "ACGT" * (n // 4) + "A" * (n % 4)
                seg.query_qualities = pysam.qualitystring_to_array("I" * n)
            out.write(seg)
    pysam.index(path)
    return path


def naive_counts(reads: list[dict], options: dict) -> dict[str, np.ndarray]:
    """The documented counting rules, applied to the generated records in plain Python."""
    exclude = options.get("exclude_flags", DEFAULT_EXCLUDE_FLAGS)
    min_mapq = options.get("min_mapq", 0)
    mode = options.get("mode", "5prime")
    midpoint = options.get("pairedend", "5prime") == "midpoint"
    ext = options.get("template_extension", 0)
    max_fragment = options.get("max_fragment", 2000)
    counts = {c: np.zeros((n, 2), np.int64) for c, n in CHROMS.items()}
    for r in reads:
        flag, chrom, pos = r["flag"], r["chrom"], r["pos"]
        if flag & exclude or flag & 0x4 or r["mapq"] < min_mapq:
            continue
        ref_len = sum(n for op, n in r["cigar"] if op in CONSUMES_REF)
        if ref_len == 0:
            continue
        end = pos + ref_len
        strand = 1 if flag & 0x10 else 0
        size = CHROMS[chrom]
        if mode == "coverage":
            ref = pos
            for op, n in r["cigar"]:
                if op in COVERS:
                    for p in range(ref, ref + n):
                        counts[chrom][p, strand] += 1
                if op in CONSUMES_REF:
                    ref += n
            if ext:
                span = range(max(0, pos - ext), pos) if strand else range(end, min(size, end + ext))
                for p in span:
                    counts[chrom][p, strand] += 1
            continue
        site = end - 1 if strand else pos
        if flag & 0x1:
            if not flag & 0x2 or r["mate_chrom"] != chrom:
                continue
            if midpoint:
                if flag & 0x80 or abs(r["tlen"]) > max_fragment:
                    continue
                site = min(pos, r["mate_pos"]) + abs(r["tlen"]) // 2
        if 0 <= site < size:
            counts[chrom][site, strand] += 1
    return counts


def binned(counts: np.ndarray, resolution: int, stranded: bool) -> np.ndarray:
    n_bins = -(-len(counts) // resolution)
    padded = np.zeros((n_bins * resolution, 2), np.int64)
    padded[: len(counts)] = counts
    out = padded.reshape(n_bins, resolution, 2).sum(axis=1)
    return out if stranded else out.sum(axis=1, keepdims=True)


@st.composite
def count_options(draw) -> dict:
    options = {"mode": draw(st.sampled_from(["5prime", "coverage"]))}
    if draw(st.booleans()):
        options["min_mapq"] = draw(st.sampled_from([1, 20, 60]))
    if draw(st.booleans()):
        options["exclude_flags"] = draw(st.sampled_from([0, 0x4, 0x400, 0x900, 0xF04]))
    if options["mode"] == "5prime":
        options["pairedend"] = draw(st.sampled_from(["5prime", "midpoint"]))
        if draw(st.booleans()):
            options["max_fragment"] = draw(st.integers(0, 2500))
    elif draw(st.booleans()):
        options["template_extension"] = draw(st.integers(1, 200))
    options["stranded"] = draw(st.booleans())
    options["resolution"] = draw(st.sampled_from([1, 1, 7, 50]))
    return options


@settings(max_examples=60, **SETTINGS)
@given(
    reads=st.lists(alignments(), min_size=1, max_size=40),
    options=count_options(),
    cut=st.floats(0, 1),
)
def test_bam_counts_equal_naive_rules(reads, options, cut):
    with tempfile.TemporaryDirectory() as folder:
        path = write_bam(folder, reads)
        expected = naive_counts(reads, options)
        res, stranded = options["resolution"], options["stranded"]
        for engine in ("fast", "pysam"):
            counter = BamCounter(path, engine=engine, **options)
            for chrom, n in CHROMS.items():
                n_bins = -(-n // res)
                want = binned(expected[chrom], res, stranded)
                got = counter(chrom, 0, n_bins)
                np.testing.assert_array_equal(got, want, err_msg=f"{engine} {chrom} {options}")
                k = int(cut * n_bins)  # any sub-range of bins reads the same
                np.testing.assert_array_equal(counter(chrom, k, n_bins), want[k:])


# -- FASTA -------------------------------------------------------------------------------

LETTERS = "ACGTacgtNnRYKMSWBDHVrykmswbdhv-*"


@st.composite
def sequences(draw) -> str:
    """Random letters with runs of N (of either case)."""
    parts = draw(
        st.lists(
            st.one_of(
                st.text(alphabet=LETTERS, min_size=1, max_size=60),
                st.builds(lambda n, c: c * n, st.integers(1, 80), st.sampled_from("Nn")),
            ),
            max_size=5,
        )
    )
    return "".join(parts)


@st.composite
def fasta_files(draw) -> tuple[bytes, dict[str, str]]:
    n = draw(st.integers(1, 5))
    seqs = [draw(sequences()) for _ in range(n)]
    if not any(seqs):
        seqs[0] = "ACGT"
    eol = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    out = []
    for i, seq in enumerate(seqs):
        desc = draw(st.sampled_from(["", " desc", "\tsome thing  here"]))
        out.append(f">rec{i}{desc}{eol}")
        width = draw(st.integers(1, 80))
        out.extend(seq[j : j + width] + eol for j in range(0, len(seq), width))
        out.append(eol * draw(st.integers(0, 2)))  # blank lines between records
    text = "".join(out)
    if draw(st.booleans()):
        text = text.rstrip("\r\n")  # no final newline
    return text.encode(), {f"rec{i}": s for i, s in enumerate(seqs)}


def naive_fasta(text: str) -> dict[str, str]:
    """Records of a FASTA text: header names, sequence lines joined (plain Python)."""
    records: dict[str, list[str]] = {}
    name = None
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith(">"):
            name = line[1:].split()[0]
            records[name] = []
        elif line:
            records[name].append(line)
    return {k: "".join(v) for k, v in records.items()}


def naive_codes(seq: str) -> list[int]:
    return ["ACGT".index(c) if c in "ACGT" else 4 for c in seq.upper()]


@pytest.mark.skipif(shutil.which("samtools") is None, reason="no samtools")
@settings(max_examples=60, **SETTINGS)
@given(data=fasta_files(), chunk=st.sampled_from([5, 64, 1 << 24]))
def test_read_fasta_equals_naive_parser_and_samtools_index(data, chunk):
    raw, records = data
    parsed = naive_fasta(raw.decode())
    assert parsed == records  # the generator writes what it says
    kept = {k: v for k, v in records.items() if v}  # records without sequence are left out
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "g.fa")
        with open(path, "wb") as fh:
            fh.write(raw)
        with warnings.catch_warnings(), mock.patch.object(bgzf, "READ_CHUNK", chunk):
            warnings.simplefilter("ignore", UserWarning)  # "record(s) without sequence"
            dna = ga.read_fasta(path, cache=False)
        assert list(dna["chrom"].values) == list(kept)
        values = dna.values
        for i, seq in enumerate(kept.values()):
            assert int(dna["chrom_length"][i]) == len(seq)
            assert values[i, : len(seq)].tolist() == naive_codes(seq)
            assert (values[i, len(seq) :] == 4).all()
        ours = open(path + ".fai").read()
        if list(records.values())[-1]:  # samtools faidx fails when the last record is empty
            other = os.path.join(folder, "s.fa")
            shutil.copy(path, other)
            subprocess.run(["samtools", "faidx", other], check=True, capture_output=True)
            # htslib keeps an empty record when a blank line follows its header (not
            # otherwise); genomarray leaves every empty record out
            theirs = [ln for ln in open(other + ".fai") if ln.split("\t")[1] != "0"]
            assert ours == "".join(theirs)
        assert fasta.index_problem(path) is None
        assert dict(fasta.iter_records(path)) == records


@settings(max_examples=60, **SETTINGS)
@given(data=fasta_files(), cuts=st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), max_size=6))
def test_fasta_blocks_read_at_the_index_offsets_equal_htslib(data, cuts):
    """``read_block`` of a local plain FASTA (``os.pread`` at the ``.fai`` offsets, no
    htslib) equals pysam's (htslib's) fetch and the naive parser, for any line width,
    line ending, final newline and window, padding past a record's end included."""
    import pysam

    raw, records = data
    kept = {k: v for k, v in records.items() if v}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "g.fa")
        with open(path, "wb") as fh:
            fh.write(raw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "record(s) without sequence"
            fasta.fasta_sizes(path)  # indexes it
        assert fasta.PlainFasta(path).plain
        with pysam.FastaFile(path) as fa:
            for name, seq in kept.items():
                for a, b in [(0.0, 1.0), *cuts]:
                    lo, hi = sorted((int(a * len(seq)), int(b * (len(seq) + 3))))
                    got = fasta.read_block(path, name, lo, hi)
                    want = naive_codes(fa.fetch(name, lo, min(hi, len(seq))))
                    want += [4] * (hi - lo - len(want))
                    assert got.tolist() == want
                    assert got[: max(min(hi, len(seq)) - lo, 0)].tolist() == naive_codes(seq[lo:hi])


def test_uneven_lines_an_index_does_not_describe_are_refused(tmp_path):
    """Lines moved under an index that no longer describes them: read at the index's
    offsets, a base where it puts a line break is an InputError naming the record (never
    shifted bases); through ``read_block`` the stale index is found first (and such a
    file cannot be indexed: refused too)."""
    path = tmp_path / "g.fa"
    path.write_bytes(b">a\nACGTACGT\nACGTACGT\nACG\n")
    fasta.fasta_sizes(str(path))
    fai = fasta.read_fai(str(path) + ".fai")
    truth = "ACGTACGT" * 2 + "ACG"
    assert fasta.read_block(str(path), "a", 0, 19).tolist() == naive_codes(truth)
    for body in (b">a\nACGTACG\nTACGTACGT\nACG\n", b">a\nACGTACGTA\nCGTACGT\nACG\n"):
        path.write_bytes(body)  # the same size and bases, lines moved
        handle = fasta.PlainFasta.__new__(fasta.PlainFasta)  # read with the old index
        handle.path, handle.plain, handle.records = str(path), True, {r.name: r for r in fai}
        handle._fh = open(path, "rb", buffering=0)  # noqa: SIM115
        try:
            with pytest.raises(InputError, match=r"lines of record 'a' are not where its index"):
                handle.codes("a", 0, 19)
            assert list(handle.codes("a", 0, 7)) == naive_codes(truth[:7])  # line 1 only
        finally:
            handle.close()
        with pytest.raises(InputError, match="cannot be indexed: rewrap it"):
            fasta.read_block(str(path), "a", 0, 19)  # the index is checked, and refused
