"""Bad and stale FASTA input (issue 13, items 2, 5 and 12): every test writes the bad file
itself and checks the error (type, file, record, line, what was expected) or that the data
read equals a naive parse and ``samtools faidx``'s index."""

import os
import shutil
import subprocess
import time

import numpy as np
import pysam
import pytest

import genomarray as ga
from genomarray import encode
from genomarray.errors import InputError
from genomarray.genome import cache, graph
from genomarray.io import bgzf, chromsizes, fasta, fasta_index

needs_samtools = pytest.mark.skipif(shutil.which("samtools") is None, reason="no samtools")


def naive_parse(text: str) -> dict[str, str]:
    """Records of a well-formed FASTA text, upper-cased (plain Python, no genomarray)."""
    seqs: dict[str, list[str]] = {}
    name = None
    for line in text.splitlines():
        if line.startswith(">"):
            name = line[1:].split()[0]
            seqs[name] = []
        elif line.strip():
            seqs[name].append(line.strip().upper())
    return {k: "".join(v) for k, v in seqs.items()}


def fasta_text(records: dict[str, str], width: int) -> str:
    out = []
    for name, seq in records.items():
        out.append(f">{name} some description\n")
        out.extend(seq[i : i + width] + "\n" for i in range(0, len(seq), width))
    return "".join(out)


def check_reads_as(path, records: dict[str, str]) -> None:
    dna = ga.read_fasta(path, cache=False)
    assert list(dna["chrom"].values) == list(records)
    for i, seq in enumerate(records.values()):
        assert int(dna["chrom_length"][i]) == len(seq)
        expected = "".join(c if c in "ACGT" else "N" for c in seq.upper())
        assert encode.decode(dna.values[i, : len(seq)]) == expected


def random_records(rng, sizes: dict[str, int]) -> dict[str, str]:
    return {n: "".join(rng.choice(list("ACGTN"), size=k)) for n, k in sizes.items()}


# -- item 2: a stale .fai ------------------------------------------------------------------

OLD = {"chr1": 500, "chr2": 260, "chr3": 130}
NEW_LAYOUTS = {  # what the replacing copy changes
    "longer chromosome": ({"chr1": 700, "chr2": 260, "chr3": 130}, 60),
    "shorter chromosome": ({"chr1": 300, "chr2": 260, "chr3": 130}, 60),
    "other line width": (OLD, 70),
    "record renamed": ({"chr1": 500, "chrX": 260, "chr3": 130}, 60),
    "record added at the end": ({**OLD, "chr4": 90}, 60),
    "last record removed": ({"chr1": 500, "chr2": 260}, 60),
    "records reordered": ({"chr2": 260, "chr1": 500, "chr3": 130}, 60),
    "last record one base longer": ({"chr1": 500, "chr2": 260, "chr3": 131}, 60),
}


@needs_samtools
@pytest.mark.parametrize("change", list(NEW_LAYOUTS))
def test_fasta_replaced_by_cp_p_keeping_an_older_mtime_is_reindexed(tmp_path, change):
    rng = np.random.default_rng(1)
    path = tmp_path / "genome.fa"
    path.write_text(fasta_text(random_records(rng, OLD), 60))
    ga.read_fasta(path, cache=False)  # writes genome.fa.fai
    sizes, width = NEW_LAYOUTS[change]
    new = random_records(rng, sizes)
    other = tmp_path / "elsewhere" / "genome.fa"
    other.parent.mkdir()
    other.write_text(fasta_text(new, width))
    os.utime(other, (1_000_000_000, 1_000_000_000))  # an old file, copied preserving times
    subprocess.run(["cp", "-p", str(other), str(path)], check=True)
    fai = tmp_path / "genome.fa.fai"
    assert os.path.getmtime(fai) > os.path.getmtime(path)  # mtimes say "index is fresh"
    assert fasta.index_problem(path) is not None
    check_reads_as(path, new)
    assert chromsizes.from_fasta(path) == sizes
    # the rebuilt index is the one samtools writes
    subprocess.run(["samtools", "faidx", str(other)], check=True)
    assert fai.read_text() == (other.parent / "genome.fa.fai").read_text()
    assert fasta.index_problem(path) is None
    assert sorted(os.listdir(tmp_path)) == ["elsewhere", "genome.fa", "genome.fa.fai"]


def test_stale_index_in_read_only_folder_is_an_error_naming_it(tmp_path, monkeypatch):
    path = tmp_path / "g.fa"
    path.write_text(">a\nACGTACGT\nACG\n>b\nTTTT\n")
    fasta.index_fasta(path)
    path.write_text(">a\nACGTACGT\nACGTA\n>b\nTTTT\n")  # a grew by two bases
    before = (tmp_path / "g.fa.fai").read_text()
    monkeypatch.setattr(fasta.os, "access", lambda *a: False)
    with pytest.raises(InputError) as err:
        ga.read_fasta(path, cache=False)
    message = str(err.value)
    assert message.startswith(f"{path}: the index {path}.fai does not match the FASTA (")
    assert "read-only" in message and f"`samtools faidx {path}`" in message
    assert (tmp_path / "g.fa.fai").read_text() == before  # left as it was


def test_rebuilding_the_index_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "g.fa"
    path.write_text(">a\nACGT\n")
    fasta.index_fasta(path)
    before = (tmp_path / "g.fa.fai").read_text()
    path.write_text(">a\nACGTAA\n>b\nGG\n")

    def failing_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fasta.os, "replace", failing_replace)
    with pytest.raises(
        InputError,
        match=rf"^{path}: cannot write the index {path}\.fai \(\[Errno 28\] No space left "
        r"on device\); nothing was left half-written",
    ):
        ga.read_fasta(path, cache=False)
    assert sorted(os.listdir(tmp_path)) == ["g.fa", "g.fa.fai"]  # no temporary left
    assert (tmp_path / "g.fa.fai").read_text() == before
    monkeypatch.undo()
    check_reads_as(path, {"a": "ACGTAA", "b": "GG"})


def test_same_layout_rewrite_with_restored_mtime_changes_the_cache_key(tmp_path):
    """Same size, same lines, same inode, modification time set back: the index is still
    right (only bases changed), the values read are the new ones, and the content-keyed
    cache sees the change (the fingerprint memo keys on the status-change time too)."""
    path = tmp_path / "g.fa"
    path.write_text(">a\nACGTACGTAC\nACGT\n")
    first = ga.read_fasta(path, progress=False)
    assert encode.decode(first.values[0]) == "ACGTACGTACACGT"
    key = cache.cache_key("fasta", [path], alphabet="dna", chunk=graph.DEFAULT_CHUNK)
    st = os.stat(path)
    time.sleep(0.01)
    with open(path, "r+b") as fh:  # in place: same inode, same size
        fh.seek(3)
        fh.write(b"TTTT")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        st.st_size,
        st.st_mtime_ns,
        st.st_ino,
    )
    assert fasta.index_problem(path) is None
    assert cache.cache_key("fasta", [path], alphabet="dna", chunk=graph.DEFAULT_CHUNK) != key
    again = ga.read_fasta(path, progress=False)
    assert again.encoding["store"] != first.encoding["store"]
    assert encode.decode(again.values[0]) == "TTTTACGTACACGT"


def test_replaced_bgzip_fasta_gets_new_fai_and_gzi(tmp_path):
    rng = np.random.default_rng(3)
    old = random_records(rng, {"c1": 90_000, "c2": 50_000})
    new = random_records(rng, {"c1": 70_000, "c2": 80_000})
    plain = tmp_path / "plain.fa"
    path = str(tmp_path / "g.fa.gz")
    plain.write_text(fasta_text(old, 60))
    pysam.tabix_compress(str(plain), path, force=True)
    check_reads_as(path, old)
    assert os.path.exists(path + ".gzi")
    plain.write_text(fasta_text(new, 50))
    pysam.tabix_compress(str(plain), path + ".new", force=True)
    os.utime(path + ".new", (1_000_000_000, 1_000_000_000))
    subprocess.run(["cp", "-p", path + ".new", path], check=True)
    assert fasta.index_problem(path) is not None
    check_reads_as(path, new)
    # the .gzi written is the one htslib writes
    shutil.copy(path, tmp_path / "h.fa.gz")
    pysam.faidx(str(tmp_path / "h.fa.gz"))
    assert open(path + ".gzi", "rb").read() == open(tmp_path / "h.fa.gz.gzi", "rb").read()
    assert open(path + ".fai").read() == open(tmp_path / "h.fa.gz.fai").read()


def test_truncated_bgzip_fasta_is_reported(tmp_path):
    rng = np.random.default_rng(4)
    plain = tmp_path / "plain.fa"
    plain.write_text(fasta_text(random_records(rng, {"c1": 200_000}), 60))
    path = str(tmp_path / "g.fa.gz")
    pysam.tabix_compress(str(plain), path)
    data = open(path, "rb").read()
    with open(path, "wb") as fh:
        fh.write(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"g\.fa\.gz: the file ends inside the BGZF block"):
        ga.read_fasta(path, cache=False)


def test_validation_is_cheap_for_thousands_of_contigs(tmp_path):
    rng = np.random.default_rng(5)
    records = random_records(rng, {f"contig_{i}": int(rng.integers(50, 400)) for i in range(5000)})
    path = tmp_path / "contigs.fa"
    path.write_text(fasta_text(records, 60))
    fasta.index_fasta(path)
    fasta_index._valid.clear()
    t0 = time.perf_counter()
    assert fasta.index_problem(path) is None
    elapsed = time.perf_counter() - t0
    assert elapsed < 5.0, elapsed  # measured ~0.15 s on one shared core
    assert chromsizes.from_fasta(path) == {n: len(s) for n, s in records.items()}


# -- item 5: two records of one name ----------------------------------------------------------

DUPLICATE = ">x\nAC\n>a first\nACGT\n>b\nGG\n>a second\nTTTT\n"


@pytest.mark.parametrize(
    "reader",
    [
        lambda p: ga.read_fasta(p, cache=False),
        chromsizes.from_fasta,
        chromsizes.chrom_sizes,
        ga.read_sequences,
    ],
    ids=["read_fasta", "from_fasta", "chrom_sizes", "read_sequences"],
)
def test_duplicate_record_names_name_both_lines(tmp_path, reader):
    path = tmp_path / "dup.fa"
    path.write_text(DUPLICATE)
    with pytest.raises(InputError) as err:
        reader(path)
    assert str(err.value).startswith(
        f"{path}, record 'a', line 7: a second record named 'a' (lines 3 and 7)"
    )
    assert not (tmp_path / "dup.fa.fai").exists()


@needs_samtools
def test_duplicate_names_are_caught_despite_a_samtools_index(tmp_path):
    """samtools faidx indexes the first 'a' and drops the second with a warning only."""
    path = tmp_path / "dup.fa"
    path.write_text(DUPLICATE)
    subprocess.run(["samtools", "faidx", str(path)], check=True, capture_output=True)
    assert "TTTT" not in pysam.FastaFile(str(path)).fetch("a")  # what htslib would read
    with pytest.raises(InputError, match=r"line 7: a second record named 'a' \(lines 3 and 7\)"):
        ga.read_fasta(path, cache=False)


# -- item 12: empty files, ragged lines, spaces ----------------------------------------------


@pytest.mark.parametrize("content", ["", "\n\n  \n"], ids=["empty", "blank-lines"])
@pytest.mark.parametrize(
    "reader",
    [lambda p: ga.read_fasta(p, cache=False), chromsizes.from_fasta, ga.read_sequences],
    ids=["read_fasta", "from_fasta", "read_sequences"],
)
def test_empty_fasta_says_it_holds_no_sequences(tmp_path, content, reader):
    path = tmp_path / "empty.fa"
    path.write_text(content)
    with pytest.raises(InputError) as err:
        reader(path)
    message = str(err.value)
    assert message.startswith(f"{path}: the FASTA holds no sequences (")
    assert ("the file is empty" if not content else "only blank lines") in message
    assert "'>name'" in message


def test_header_less_file_says_what_was_expected(tmp_path):
    path = tmp_path / "notfasta.fa"
    path.write_text("\nchr1\t100\t200\n")
    for reader in (lambda p: ga.read_fasta(p, cache=False), ga.read_sequences):
        with pytest.raises(InputError) as err:
            reader(path)
        assert str(err.value).startswith(
            f"{path}, line 2: expected a '>name' header line before any sequence, got b'chr1"
        )


RAGGED = {
    "short line inside": (
        ">a\nACGTACGT\nACGTACGT\n>b\nACGTAC\nACG\nACGTAC\n",
        "record 'b', line 6: 3 bases on this line where the record's other lines hold 6, "
        "and more sequence follows (line 7)",
    ),
    "longer line": (
        ">a\nACGTAC\nACGTACGT\nAC\n",
        "record 'a', line 3: 8 bases on this line, more than the 6 of the record's first line",
    ),
    "blank line inside": (
        ">a\nACGT\n\nACGT\n",
        "record 'a', line 4: sequence after a blank line (line 3) inside a record",
    ),
    "blank line before sequence": (
        ">a\n\nACGT\n",
        "record 'a', line 3: sequence after a blank line (line 2) inside a record",
    ),
}


@pytest.mark.parametrize("case", list(RAGGED))
def test_ragged_lines_name_record_and_line(tmp_path, case):
    text, expected = RAGGED[case]
    path = tmp_path / "ragged.fa"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        ga.read_fasta(path, cache=False)
    assert str(err.value).startswith(f"{path}, {expected}")
    assert "rewrap" in str(err.value) or "blank line" in expected
    assert not (tmp_path / "ragged.fa.fai").exists()
    # read_sequences needs no index: uneven lines are read as they are (no blank-line
    # rule either), equal to a naive parse
    seqs = ga.read_sequences(path, fixedlen=20)
    for i, seq in enumerate(naive_parse(text).values()):
        assert encode.decode(seqs.values[i, : len(seq)]) == seq


def test_ragged_lines_across_read_pieces(tmp_path, monkeypatch):
    """The scan reads the file in pieces; a short line in a later piece is still found."""
    monkeypatch.setattr(bgzf, "READ_CHUNK", 64)
    lines = ["ACGTACGTAC"] * 40
    lines[27] = "ACGTA"
    path = tmp_path / "ragged.fa"
    path.write_text(">a\n" + "\n".join(lines) + "\n>b\nAC\n")
    with pytest.raises(InputError, match=r"record 'a', line 29: 5 bases .* hold 10"):
        fasta_index.scan_fasta(path)


WHITESPACE = {
    "space": (
        ">a\nACGT\nAC GT\nAC\n",
        "record 'a', line 3: a space inside a sequence line (column 3)",
    ),
    "tab": (">a x\nACGT\tAC\n", "record 'a', line 2: a tab inside a sequence line (column 5)"),
    "space-only line": (
        ">a\nACGT\n   \n",
        "record 'a', line 3: a space inside a sequence line (column 1)",
    ),
    "carriage return inside": (
        ">a\nAC\rGT\n",
        "record 'a', line 2: a carriage return (\\r) inside a sequence line (column 3)",
    ),
}


@pytest.mark.parametrize("case", list(WHITESPACE))
@pytest.mark.parametrize(
    "reader",
    [lambda p: ga.read_fasta(p, cache=False), ga.read_sequences],
    ids=["read_fasta", "read_sequences"],
)
def test_whitespace_inside_a_sequence_line_is_refused(tmp_path, case, reader):
    text, expected = WHITESPACE[case]
    path = tmp_path / "spaces.fa"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        reader(path)
    assert str(err.value).startswith(f"{path}, {expected}")
    assert "only letters" in str(err.value)


@needs_samtools
def test_space_is_refused_despite_a_samtools_index(tmp_path):
    """samtools faidx indexes 'ACGT / AC G' and then reads the space as a base (today's
    'ACNGACGT'); genomarray refuses the file even when that index is already there."""
    path = tmp_path / "spaces.fa"
    path.write_text(">a\nACGTACGT\nAC GT\n")
    subprocess.run(["samtools", "faidx", str(path)], check=True)
    assert " " in pysam.FastaFile(str(path)).fetch("a")  # htslib misreads it
    with pytest.raises(InputError, match=r"record 'a', line 3: a space inside a sequence line"):
        ga.read_fasta(path, cache=False)


def test_spaces_that_slip_past_validation_are_refused_on_read(tmp_path, monkeypatch):
    """A hand-made index that hides a space: the read itself refuses what it fetched."""
    path = tmp_path / "g.fa"
    path.write_text(">a\nACGT\nA GT\n")
    (tmp_path / "g.fa.fai").write_text("a\t8\t3\t4\t5\n")
    monkeypatch.setattr(fasta, "index_problem", lambda p: None)
    with pytest.raises(InputError) as err:
        fasta.read_block(str(path), "a", 0, 8)
    assert str(err.value).startswith(f"{path}, record 'a': a space where a base was expected")


def test_good_layouts_are_accepted(tmp_path):
    """CRLF endings, no final newline, blank lines between records, an empty record
    (left out of the index, as samtools does, with a warning), descriptions."""
    cases = {
        "crlf.fa": (">a d\r\nACGT\r\nAC\r\n>b\r\nGG\r\n", {"a": "ACGTAC", "b": "GG"}),
        "nonl.fa": (">a\nACGT\nA", {"a": "ACGTA"}),
        "blank.fa": (">a\nACGT\nAC\n\n\n>b\nTT\n\n", {"a": "ACGTAC", "b": "TT"}),
    }
    for name, (text, records) in cases.items():
        path = tmp_path / name
        path.write_bytes(text.encode())
        check_reads_as(path, records)
        assert fasta.index_problem(path) is None
    path = tmp_path / "emptyrec.fa"
    path.write_text(">e\n>a\nACG\n")
    with pytest.warns(
        UserWarning, match=r"1 record\(s\) without sequence left out: 'e' \(line 1\)"
    ):
        check_reads_as(path, {"a": "ACG"})
