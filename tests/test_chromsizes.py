"""Chromosome sizes from FASTA index, BAM header, bigWig header and sizes files."""

import subprocess

import pyBigWig
import pytest

import genomarray as ga
from genomarray.errors import InputError


def samtools_idxstats(path):
    out = subprocess.run(
        ["samtools", "idxstats", path], capture_output=True, text=True, check=True
    ).stdout
    return {f[0]: int(f[1]) for f in (line.split("\t") for line in out.splitlines()) if f[0] != "*"}


def test_all_sources_agree_with_independent_tools(tmp_path):
    fai = {
        line.split("\t")[0]: int(line.split("\t")[1])
        for line in open(ga.example_path("genome.fa.fai"))
    }
    assert ga.chrom_sizes(ga.example_path("genome.fa")) == fai
    assert ga.chrom_sizes(ga.example_path("sample.bam")) == samtools_idxstats(
        ga.example_path("sample.bam")
    )
    bw = pyBigWig.open(ga.example_path("sample.bw"))
    assert ga.chrom_sizes(ga.example_path("sample.bw")) == dict(bw.chroms())
    assert fai == {"chr1": 40_000, "chr2": 30_000, "chr3": 20_000}
    sizes = tmp_path / "g.sizes"
    sizes.write_text("chr1\t40000\nchr2\t30000\n")
    assert ga.chrom_sizes(sizes) == {"chr1": 40_000, "chr2": 30_000}
    assert ga.chrom_sizes({"a": "5"}) == {"a": 5}


def test_bad_sizes_file(tmp_path):
    bad = tmp_path / "bad.sizes"
    bad.write_text("chr1\tforty\n")
    with pytest.raises(InputError, match=r"bad.sizes, line 1: expected 'chrom<TAB>length'"):
        ga.chrom_sizes(bad)
    with pytest.raises(FileNotFoundError, match="nope.bam"):
        ga.chrom_sizes(tmp_path / "nope.bam")
