"""FASTA edge cases: index creation, case, unknown letters, compression, proteins, errors."""

import gzip
import os
import shutil

import numpy as np
import pysam
import pytest

import genomarray as ga
from genomarray import encode
from genomarray.errors import InputError
from genomarray.io import fasta


def test_matches_naive_parse_of_example(genome_seqs):
    dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False, chunk=7000)
    assert list(dna["chrom"].values) == list(genome_seqs)
    for i, seq in enumerate(genome_seqs.values()):
        assert int(dna["chrom_length"][i]) == len(seq)
        row = dna.isel(chrom=i).values
        assert encode.decode(row[: len(seq)]) == "".join(c if c in "ACGT" else "N" for c in seq)
        assert (row[len(seq) :] == 4).all()  # padded to the longest chromosome with N


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="FASTA file not found: .*nope.fa"):
        ga.read_fasta("nope.fa")


def test_index_is_created(tmp_path):
    fa = tmp_path / "g.fa"
    fa.write_text(">a\nacgtNNry\n>b\nTT\n")
    dna = ga.read_fasta(fa, cache=False)
    assert (tmp_path / "g.fa.fai").exists()
    assert dna.values[0].tolist() == [0, 1, 2, 3, 4, 4, 4, 4]
    assert dna.values[1].tolist() == [3, 3, 4, 4, 4, 4, 4, 4]


def test_unindexed_fasta_in_read_only_folder_says_how(tmp_path, monkeypatch):
    fa = tmp_path / "g.fa"
    fa.write_text(">a\nACGT\n")
    monkeypatch.setattr(fasta.os, "access", lambda *a: False)
    with pytest.raises(InputError, match="samtools faidx"):
        ga.read_fasta(fa, cache=False)


def test_empty_fasta(tmp_path):
    fa = tmp_path / "empty.fa"
    fa.write_text("")
    with pytest.raises((InputError, FileNotFoundError)) as err:
        ga.read_fasta(fa, cache=False)
    assert "empty.fa" in str(err.value)


def test_bgzip_fasta_reads_and_plain_gzip_is_explained(tmp_path, genome_seqs):
    src = ga.example_path("genome.fa")
    bgz = str(tmp_path / "g.fa.gz")
    pysam.tabix_compress(src, bgz)
    dna = ga.read_fasta(bgz, cache=False)
    assert encode.decode(dna.values[1, :50]) == genome_seqs["chr2"][:50]
    plain = tmp_path / "p.fa.gz"
    with open(src, "rb") as fin, gzip.open(plain, "wb") as fout:
        shutil.copyfileobj(fin, fout)
    with pytest.raises(InputError, match="bgzip"):
        ga.read_fasta(plain, cache=False)


def test_protein_fasta():
    prot = ga.read_fasta(ga.example_path("proteins.fa"), alphabet="protein", cache=False)
    assert prot.attrs["alphabet"] == "protein"
    values = prot.values
    assert values.max() == 20 and (values[values < 20] >= 0).all()
    seqs = ga.read_sequences(ga.example_path("proteins.fa"), fixedlen=80, alphabet="protein")
    x = seqs.janggu.onehot()
    assert x.sizes["base"] == 20 and list(x["base"].values) == list("ACDEFGHIKLMNPQRSTVWY")


def test_read_sequences_equal_length(genome_seqs):
    seqs = ga.read_sequences(ga.example_path("seqs.fa"))
    assert seqs.sizes == {"region": 30, "pos": 200}
    assert seqs["name"].values[0] == "seq_0"
    x = seqs.janggu.onehot(order=3)
    assert x.sizes["pos"] == 198 and x.sizes["base"] == 64


def test_read_sequences_varlen_needs_fixedlen(tmp_path):
    with pytest.raises(InputError, match=r"seqs_varlen.fa.*pass fixedlen="):
        ga.read_sequences(ga.example_path("seqs_varlen.fa"))
    fa = tmp_path / "v.fa"
    fa.write_text(">s1\nACGTAC\n>s2\nGG\n")
    padded = ga.read_sequences(fa, fixedlen=4)
    assert padded.values.tolist() == [[0, 1, 2, 3], [2, 2, 4, 4]]
    assert padded["end"].values.tolist() == [4, 2]
    tail = ga.read_sequences(fa, fixedlen=4, truncate="start")
    assert tail.values[0].tolist() == [2, 3, 0, 1]


def test_unknown_alphabet():
    with pytest.raises(ValueError, match="unknown alphabet"):
        ga.read_fasta(ga.example_path("genome.fa"), alphabet="rna", cache=False)


def test_chunk_boundaries_do_not_matter():
    a = ga.read_fasta(ga.example_path("genome.fa"), cache=False, chunk=999).values
    b = ga.read_fasta(ga.example_path("genome.fa"), cache=False, chunk=1 << 16).values
    np.testing.assert_array_equal(a, b)
    assert os.path.exists(ga.example_path("genome.fa.fai"))


def test_sizes_come_from_the_checked_index_as_samtools_lists_them(tmp_path):
    """``fasta_sizes`` (what ``read_fasta`` needs before it finds a cached store) equals
    ``samtools faidx``'s index, rebuilds a stale index, and opens nothing with pysam."""
    import subprocess
    import sys

    text = ">a some description\nACGTAC\nGT\n>b\nTTTT\nTT\n>scaffold_3\nN\n"
    fa = tmp_path / "g.fa"
    fa.write_text(text)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    shutil.copy(fa, theirs / "g.fa")
    subprocess.run(["samtools", "faidx", str(theirs / "g.fa")], check=True)
    want = {
        line.split("\t")[0]: int(line.split("\t")[1])
        for line in (theirs / "g.fa.fai").read_text().splitlines()
    }
    assert fasta.fasta_sizes(fa) == want == {"a": 8, "b": 6, "scaffold_3": 1}
    fa.write_text(text.replace("TTTT\nTT\n", "TTTT\nTTTT\nT\n"))  # the index is now stale
    assert fasta.fasta_sizes(fa)["b"] == 9
    code = (
        "import sys; from genomarray.io import fasta; "
        f"print(fasta.fasta_sizes({str(fa)!r})['b'], 'pysam' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["9", "False"]
