"""Tests of genomarray.regions: reading ROI files, tiling, chromosome checks."""

from __future__ import annotations

import gzip
import itertools
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from genomarray.errors import ChromosomeError, InputError
from genomarray.io.regions import read_regions
from genomarray.io.schemas import NARROWPEAK_COLUMNS, REGION_COLUMNS
from genomarray.regions import check_chromosomes, parse_region, tile, to_bed

needs_bedtools = pytest.mark.skipif(
    shutil.which("bedtools") is None, reason="bedtools is not installed"
)


def write(path, text, gz=False):
    opener = gzip.open if gz else open
    with opener(path, "wt") as fh:
        fh.write(text)
    return path


def bedtools(*args):
    done = subprocess.run(["bedtools", *map(str, args)], check=True, capture_output=True, text=True)
    return [line.split("\t") for line in done.stdout.splitlines()]


def assert_region_dtypes(df):
    assert df.columns[:6].tolist() == list(REGION_COLUMNS)
    assert df["start"].dtype == np.int64
    assert df["end"].dtype == np.int64
    assert df["score"].dtype == np.float64
    for col in ("chrom", "name", "strand"):
        assert pd.api.types.is_string_dtype(df[col]) or df[col].dtype == object


# -- BED ----------------------------------------------------------------------------------
BED6 = "chr1\t10\t20\ta\t5\t+\nchr1\t30\t45\tb\t7.5\t-\nchr2\t0\t5\tc\t0\t.\n"


@pytest.mark.parametrize("ncol", [3, 4, 5, 6])
def test_bed_3_to_6_columns(tmp_path, ncol):
    text = "".join("\t".join(line.split("\t")[:ncol]) + "\n" for line in BED6.splitlines())
    roi = read_regions(write(tmp_path / "roi.bed", text))
    assert_region_dtypes(roi)
    assert roi.columns.tolist() == list(REGION_COLUMNS)
    assert roi["chrom"].tolist() == ["chr1", "chr1", "chr2"]
    assert roi["start"].tolist() == [10, 30, 0]
    assert roi["end"].tolist() == [20, 45, 5]
    assert roi["name"].tolist() == (["a", "b", "c"] if ncol >= 4 else ["."] * 3)
    assert roi["score"].tolist() == ([5.0, 7.5, 0.0] if ncol >= 5 else [0.0] * 3)
    assert roi["strand"].tolist() == (["+", "-", "."] if ncol >= 6 else ["."] * 3)


def test_bed12_keeps_extra_columns(tmp_path):
    text = (
        "chr1\t100\t500\ttx1\t0\t+\t120\t480\t255,0,0\t2\t50,60,\t0,340,\n"
        "chr1\t600\t900\ttx2\t0\t-\t600\t900\t0\t1\t300,\t0,\n"
    )
    roi = read_regions(write(tmp_path / "genes.bed", text))
    assert roi.columns.tolist() == [
        *REGION_COLUMNS,
        "thickStart",
        "thickEnd",
        "itemRgb",
        "blockCount",
        "blockSizes",
        "blockStarts",
    ]
    assert roi["thickStart"].tolist() == [120, 600]
    assert roi["thickStart"].dtype == np.int64
    assert roi["blockCount"].tolist() == [2, 1]
    assert roi["itemRgb"].tolist() == ["255,0,0", "0"]  # str even where it looks numeric
    assert roi["blockSizes"].tolist() == ["50,60,", "300,"]


def test_bed_more_than_12_columns_named_by_position(tmp_path):
    row = "\t".join(["chr1", "1", "2", "n", "0", "+", "1", "2", "0", "1", "1,", "0,", "x", "3"])
    roi = read_regions(write(tmp_path / "wide.bed", row + "\n"))
    assert roi.columns.tolist()[-2:] == ["col13", "col14"]
    assert roi["col13"].tolist() == ["x"]
    assert roi["col14"].tolist() == [3]


def test_bed_header_lines_blank_lines_and_whitespace(tmp_path):
    text = (
        "browser position chr1:1-100\n"
        'track name=roi description="my regions"\n'
        "# a comment\n"
        "\n"
        "chr1\t10\t20\ta\t1\t+\n"
        "chr1\t30\t40\tb\t2\t-\r\n"  # Windows line ending
        "chr2\t50\t60\tc\t3\t.\t\n"
    )  # trailing tab
    roi = read_regions(write(tmp_path / "roi.bed", text))
    assert roi[["chrom", "start", "end", "name", "strand"]].values.tolist() == [
        ["chr1", 10, 20, "a", "+"],
        ["chr1", 30, 40, "b", "-"],
        ["chr2", 50, 60, "c", "."],
    ]
    assert roi["score"].tolist() == [1.0, 2.0, 3.0]


def test_bed_tab_separated_names_may_hold_spaces(tmp_path):
    roi = read_regions(write(tmp_path / "roi.bed", "chr1\t10\t20\tmy peak\t3\t+\n"))
    assert roi["name"].tolist() == ["my peak"]
    assert roi["strand"].tolist() == ["+"]


def test_bed_space_separated(tmp_path):
    roi = read_regions(write(tmp_path / "roi.bed", "chr1 10 20 a 1 +\nchr2  50   60 b 2 -  \n"))
    assert roi[["chrom", "start", "end", "name", "strand"]].values.tolist() == [
        ["chr1", 10, 20, "a", "+"],
        ["chr2", 50, 60, "b", "-"],
    ]


def test_bed_column_name_header_is_skipped(tmp_path):
    roi = read_regions(write(tmp_path / "roi.bed", "chrom\tstart\tend\nchr1\t0\t10\n"))
    assert roi["end"].tolist() == [10]


def test_bed_gz_equals_plain(tmp_path):
    plain = read_regions(write(tmp_path / "roi.bed", BED6))
    packed = read_regions(write(tmp_path / "roi.bed.gz", BED6, gz=True))
    pd.testing.assert_frame_equal(plain, packed)


def test_gzip_detected_from_content_not_name(tmp_path):
    roi = read_regions(write(tmp_path / "roi.txt", BED6, gz=True))
    assert len(roi) == 3


def test_unknown_extension_is_read_as_bed(tmp_path):
    roi = read_regions(write(tmp_path / "roi.tsv", BED6))
    assert roi["end"].tolist() == [20, 45, 5]


def test_bed_score_dot_is_zero(tmp_path):
    roi = read_regions(write(tmp_path / "roi.bed", "chr1\t0\t10\tx\t.\t+\n"))
    assert roi["score"].tolist() == [0.0]


@pytest.mark.parametrize("text", ["", "track name=x\n# nothing else\n\n"])
def test_empty_file_gives_empty_frame(tmp_path, text):
    roi = read_regions(write(tmp_path / "empty.bed", text))
    assert len(roi) == 0
    assert_region_dtypes(roi)
    assert roi.columns.tolist() == list(REGION_COLUMNS)


def test_empty_files_of_other_formats_keep_their_columns(tmp_path):
    peaks = read_regions(write(tmp_path / "empty.narrowPeak", ""))
    assert peaks.columns.tolist() == list(NARROWPEAK_COLUMNS)
    gtf = read_regions(write(tmp_path / "empty.gtf", "#!genome-build x\n"))
    assert gtf.columns.tolist() == [*REGION_COLUMNS, "feature", "attribute"]
    vcf = read_regions(write(tmp_path / "empty.vcf", "##fileformat=VCFv4.2\n"))
    assert vcf.columns.tolist() == [*REGION_COLUMNS, "ref", "alt"]
    for df in (peaks, gtf, vcf):
        assert len(df) == 0
        assert_region_dtypes(df)


# -- narrowPeak, broadPeak, bedGraph ------------------------------------------------------
NARROWPEAK = (
    "chr1\t100\t300\tpeak1\t850\t.\t12.5\t8.1\t6.2\t95\n"
    "chr2\t5\t80\tpeak2\t1000\t+\t3.0\t-1\t-1\t-1\n"
)


def test_narrowpeak(tmp_path):
    roi = read_regions(write(tmp_path / "x.narrowPeak", NARROWPEAK))
    assert roi.columns.tolist() == list(NARROWPEAK_COLUMNS)
    assert_region_dtypes(roi)
    assert roi["signalValue"].tolist() == [12.5, 3.0]
    assert roi["pValue"].tolist() == [8.1, -1.0]
    assert roi["peak"].tolist() == [95, -1]
    assert roi["peak"].dtype == np.int64
    assert roi["signalValue"].dtype == np.float64  # schema dtype even for integral values
    assert (
        read_regions(write(tmp_path / "y.narrowPeak", "c\t0\t9\tp\t0\t.\t3\t1\t2\t4\n"))[
            "qValue"
        ].dtype
        == np.float64
    )
    assert roi["score"].tolist() == [850.0, 1000.0]
    gz = read_regions(write(tmp_path / "x.narrowPeak.gz", NARROWPEAK, gz=True))
    pd.testing.assert_frame_equal(roi, gz)


def test_broadpeak(tmp_path):
    text = "".join("\t".join(line.split("\t")[:9]) + "\n" for line in NARROWPEAK.splitlines())
    roi = read_regions(write(tmp_path / "x.broadPeak", text))
    assert roi.columns.tolist() == list(NARROWPEAK_COLUMNS[:9])


def test_narrowpeak_needs_ten_columns(tmp_path):
    with pytest.raises(InputError, match=r"x\.narrowPeak, line 2: expected 10 columns"):
        read_regions(write(tmp_path / "x.narrowPeak", "track x\n" + BED6))


@pytest.mark.parametrize(
    "name,fmt",
    [("cov.bedGraph", None), ("cov.bdg", None), ("cov.txt", "bedgraph"), ("cov.bg", "bdg")],
)
def test_bedgraph(tmp_path, name, fmt):
    text = "track type=bedGraph\nchr1\t0\t10\t1.5\nchr1\t10\t30\t0\n"
    roi = read_regions(write(tmp_path / name, text), fmt=fmt)
    assert roi.columns.tolist() == list(REGION_COLUMNS)
    assert roi["score"].tolist() == [1.5, 0.0]
    assert roi["end"].tolist() == [10, 30]


def test_fmt_overrides_extension(tmp_path):
    path = write(tmp_path / "peaks.bed", NARROWPEAK)
    assert "signalValue" not in read_regions(path).columns  # read as BED: col7 .. col10
    assert "signalValue" in read_regions(path, fmt="narrowPeak").columns


# -- GFF3 / GTF ---------------------------------------------------------------------------
GFF3 = """##gff-version 3
##sequence-region chr1 1 5000
chr1\tens\tgene\t1001\t2000\t.\t+\t.\tID=gene:G1;Name=ABC;gene_id=ENSG1
chr1\tens\tmRNA\t1001\t2000\t.\t+\t.\tID=tx:T1;Parent=gene:G1;Name=AB%3BC
chr1\tens\texon\t1001\t1100\t.\t+\t.\tParent=tx:T1;Name=exon1
chr1\tens\texon\t1901\t2000\t0.5\t+\t.\tParent=tx:T1;ID=exon:E2
chr2\tens\texon\t7\t7\t.\t?\t.\tParent=tx:T9
###
##FASTA
>chr1
ACGT
"""

GTF = """#!genome-build test
chr1\thavana\tgene\t11\t100\t.\t-\t.\tgene_id "ENSG1"; gene_name "DDX";
chr1\thavana\ttranscript\t11\t100\t.\t-\t.\tgene_id "ENSG1"; transcript_id "T1";
chr1\thavana\texon\t11\t40\t.\t-\t.\tgene_id "ENSG1"; transcript_id "T1"; gene_name "DDX";
chr1\thavana\texon\t61\t100\t7\t-\t.\tgene_id "ENSG1"; transcript_id "T1";
chrX\thavana\texon\t1\t1\t.\t+\t.\ttranscript_id "T2";
"""


def test_gff3_one_based_to_half_open(tmp_path):
    roi = read_regions(write(tmp_path / "genes.gff3", GFF3))
    assert roi.columns.tolist() == [*REGION_COLUMNS, "feature", "attribute"]
    assert_region_dtypes(roi)
    expected = [  # hand-converted: start - 1, end unchanged
        ("chr1", 1000, 2000, "ENSG1", 0.0, "+", "gene"),  # gene_id beats Name
        ("chr1", 1000, 2000, "AB;C", 0.0, "+", "mRNA"),  # Name beats ID; %3B unescaped
        ("chr1", 1000, 1100, "exon1", 0.0, "+", "exon"),
        ("chr1", 1900, 2000, "exon:E2", 0.5, "+", "exon"),
        ("chr2", 6, 7, ".", 0.0, ".", "exon"),  # 1-bp feature, strand '?' -> '.'
    ]
    got = roi[["chrom", "start", "end", "name", "score", "strand", "feature"]]
    assert [tuple(r) for r in got.itertuples(index=False)] == expected


def test_gff3_feature_filter_and_fasta_section_ignored(tmp_path):
    roi = read_regions(write(tmp_path / "genes.gff", GFF3), feature="exon")
    assert roi["feature"].unique().tolist() == ["exon"]
    assert roi["start"].tolist() == [1000, 1900, 6]
    both = read_regions(tmp_path / "genes.gff", feature=["gene", "mRNA"])
    assert both["feature"].tolist() == ["gene", "mRNA"]


def test_gtf(tmp_path):
    roi = read_regions(write(tmp_path / "genes.gtf.gz", GTF, gz=True))
    assert roi["start"].tolist() == [10, 10, 10, 60, 0]
    assert roi["end"].tolist() == [100, 100, 40, 100, 1]
    # gene_name first, then gene_id, else "."
    assert roi["name"].tolist() == ["DDX", "ENSG1", "DDX", "ENSG1", "."]
    assert roi["strand"].tolist() == ["-", "-", "-", "-", "+"]
    assert roi["score"].tolist() == [0.0, 0.0, 0.0, 7.0, 0.0]
    exons = read_regions(tmp_path / "genes.gtf.gz", feature="exon")
    assert exons["start"].tolist() == [10, 60, 0]


@needs_bedtools
@pytest.mark.parametrize("name,text", [("genes.gtf", GTF), ("genes.gff3", GFF3.split("###")[0])])
def test_gff_conversion_agrees_with_bedtools(tmp_path, name, text):
    """bedtools converts GFF to 0-based half-open internally: each record must overlap
    exactly (100 % reciprocal) the interval we read for it, and nothing else."""
    gff = write(tmp_path / name, text)
    roi = read_regions(gff)
    to_bed(roi.drop_duplicates(["chrom", "start", "end"]), tmp_path / "ours.bed")
    hits = bedtools("intersect", "-a", gff, "-b", tmp_path / "ours.bed", "-f", "1.0", "-r", "-c")
    assert [int(h[-1]) for h in hits] == [1] * len(roi)
    # an off-by-one conversion is caught by the same check
    shifted = roi.assign(end=roi["end"] + 1).drop_duplicates(["chrom", "start", "end"])
    to_bed(shifted, tmp_path / "shifted.bed")
    hits = bedtools("intersect", "-a", gff, "-b", tmp_path / "shifted.bed", "-f", "1.0", "-r", "-c")
    assert not any(int(h[-1]) for h in hits)


# -- VCF ----------------------------------------------------------------------------------
VCF = """##fileformat=VCFv4.2
##contig=<ID=chr1,length=1000>
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO
chr1\t15\trs1\tACG\tA\t50\tPASS\t.
chr1\t100\t.\tC\tT,G\t.\tPASS\tDP=3
chr2\t1\tins\tA\tATTT\t9.5\t.\t.
"""


@pytest.mark.parametrize("gz", [False, True])
def test_vcf(tmp_path, gz):
    path = write(tmp_path / ("calls.vcf.gz" if gz else "calls.vcf"), VCF, gz=gz)
    roi = read_regions(path)
    assert roi.columns.tolist() == [*REGION_COLUMNS, "ref", "alt"]
    assert_region_dtypes(roi)
    assert roi["start"].tolist() == [14, 99, 0]  # POS - 1
    assert roi["end"].tolist() == [17, 100, 1]  # start + len(REF)
    assert roi["name"].tolist() == ["rs1", ".", "ins"]
    assert roi["ref"].tolist() == ["ACG", "C", "A"]
    assert roi["alt"].tolist() == ["A", "T,G", "ATTT"]
    assert roi["score"].tolist() == [50.0, 0.0, 9.5]


def test_vcf_bgzip(tmp_path):
    pysam = pytest.importorskip("pysam")
    plain = write(tmp_path / "calls.vcf", VCF)
    pysam.tabix_compress(str(plain), str(tmp_path / "calls.vcf.gz"))
    pd.testing.assert_frame_equal(read_regions(plain), read_regions(tmp_path / "calls.vcf.gz"))


@needs_bedtools
def test_vcf_intervals_agree_with_bedtools(tmp_path):
    vcf = write(tmp_path / "calls.vcf", VCF)
    to_bed(read_regions(vcf), tmp_path / "ours.bed")
    hits = bedtools("intersect", "-a", vcf, "-b", tmp_path / "ours.bed", "-f", "1.0", "-r", "-c")
    assert [int(h[-1]) for h in hits] == [1, 1, 1]


# -- DataFrames and PyRanges --------------------------------------------------------------
def test_dataframe_with_bed_names_and_extras():
    df = pd.DataFrame(
        {
            "chrom": ["chr1", "chr2"],
            "start": [0, 5],
            "end": [10, 8],
            "gc": [0.4, 0.6],
            "strand": ["+", None],
        }
    )
    before = df.copy()
    roi = read_regions(df)
    pd.testing.assert_frame_equal(df, before)  # input untouched
    assert roi.columns.tolist() == [*REGION_COLUMNS, "gc"]
    assert_region_dtypes(roi)
    assert roi["strand"].tolist() == ["+", "."]
    assert roi["name"].tolist() == [".", "."]
    assert roi["gc"].tolist() == [0.4, 0.6]


def test_dataframe_with_pyranges_names_and_categoricals():
    df = pd.DataFrame(
        {
            "Chromosome": pd.Categorical(["chr1", "chr1"]),
            "Start": [1, 2],
            "End": [5, 9],
            "Strand": pd.Categorical(["+", "-"]),
            "Name": ["a", "b"],
            "Score": [1, 2],
            "Other": ["x", "y"],
        }
    )
    roi = read_regions(df)
    assert roi.columns.tolist() == [*REGION_COLUMNS, "Other"]
    assert roi["chrom"].tolist() == ["chr1", "chr1"]
    assert roi["strand"].tolist() == ["+", "-"]
    assert roi["score"].tolist() == [1.0, 2.0]
    assert_region_dtypes(roi)


def test_pyranges_v0_duck_type_with_df():
    class FakePyRangesV0:
        def __init__(self, df):
            self.df = df

    obj = FakePyRangesV0(pd.DataFrame({"Chromosome": ["chr1"], "Start": [3], "End": [7]}))
    roi = read_regions(obj)
    assert roi[["chrom", "start", "end"]].values.tolist() == [["chr1", 3, 7]]


def test_pyranges_v1_dataframe_subclass_and_tile():
    class FakePyRangesV1(pd.DataFrame):
        pass

    obj = FakePyRangesV1({"Chromosome": ["chr1"], "Start": [0], "End": [25], "Strand": ["-"]})
    tiles = tile(obj, binsize=10)
    assert tiles[["start", "end", "strand"]].values.tolist() == [
        [0, 10, "-"],
        [10, 20, "-"],
        [20, 25, "-"],
    ]


def test_dataframe_float_coordinates_that_are_integral():
    roi = read_regions(pd.DataFrame({"chrom": ["c"], "start": [1.0], "end": ["9"]}))
    assert roi["start"].tolist() == [1] and roi["end"].tolist() == [9]


def test_dataframe_feature_filter():
    df = pd.DataFrame(
        {"chrom": ["c", "c"], "start": [0, 5], "end": [3, 9], "feature": ["gene", "exon"]}
    )
    assert read_regions(df, feature="exon")["start"].tolist() == [5]


def test_unsupported_source_type():
    with pytest.raises(TypeError, match="file path, a pandas DataFrame or a PyRanges"):
        read_regions(42)


# -- bad input ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text,line,message",
    [
        ("chr1\t0\t10\nchr1\tten\t20\n", 2, "start is not an integer: 'ten'"),
        ("chr1\t0\t10\nchr1\t5\t7.5\n", 2, "end is not an integer: '7.5'"),
        ("track x\n#c\nchr1\t-5\t10\n", 3, "start must be >= 0, got -5"),
        ("chr1\t0\t10\n\nchr1\t20\t20\n", 3, "end (20) <= start (20)"),
        ("chr1\t0\t10\nchr1\t30\t20\n", 2, "end (20) <= start (30)"),
        (
            "chr1\t0\t10\tn\t0\t+\nchr1\t0\t10\tn\t0\n",
            2,
            "expected 6 columns (as on line 1), got 5",
        ),
        ("browser x\nchr1\t0\n", 2, "expected at least 3 columns"),
        (
            "chr1\t0\t10\tn\t0\t+\nchr1\t0\t10\tn\t0\tx\n",
            2,
            "strand must be one of '+', '-', '.', got 'x'",
        ),
        ("chr1\t0\t10\tn\tHIGH\t+\n", 1, "score is not a number: 'HIGH'"),
    ],
)
def test_bad_bed_names_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path / "bad.bed", text)
    with pytest.raises(InputError) as info:
        read_regions(path)
    text = str(info.value)
    assert text.startswith(f"{path}, line {line}: ")
    assert message in text
    assert info.value.source == str(path)
    assert info.value.record == f"line {line}"


def test_bad_gz_bed_line_numbers(tmp_path):
    path = write(tmp_path / "bad.bed.gz", "track x\nchr1\t0\t10\nchr1\t9\t3\n", gz=True)
    with pytest.raises(InputError, match=r"bad\.bed\.gz, line 3: end \(3\) <= start \(9\)"):
        read_regions(path)


@pytest.mark.parametrize(
    "row,message",
    [
        ('chr1\tx\texon\t0\t10\t.\t+\t.\tgene_id "a";', "start must be >= 1 (GFF/GTF"),
        ('chr1\tx\texon\t10\t9\t.\t+\t.\tgene_id "a";', "end (9) < start (10)"),
        ('chr1\tx\texon\tone\t9\t.\t+\t.\tgene_id "a";', "start is not an integer: 'one'"),
        ('chr1\tx\texon\t1\t9\t.\t*\t.\tgene_id "a";', "strand must be one of"),
        ("chr1 x exon 1 9 . + . gene_id", "expected 9 tab-separated columns"),
    ],
)
def test_bad_gtf_names_file_and_line(tmp_path, row, message):
    path = write(
        tmp_path / "bad.gtf", '#!h\nchr1\tx\texon\t1\t9\t.\t+\t.\tgene_id "a";\n' + row + "\n"
    )
    with pytest.raises(InputError) as info:
        read_regions(path)
    assert str(info.value).startswith(f"{path}, line 3: ")
    assert message in str(info.value)


def test_gff_end_equal_start_is_one_base(tmp_path):
    roi = read_regions(write(tmp_path / "ok.gtf", "c\tx\texon\t5\t5\t.\t+\t.\t\n"))
    assert roi[["start", "end"]].values.tolist() == [[4, 5]]


@pytest.mark.parametrize(
    "row,message",
    [
        ("chr1\t0\tx\tA\tT\t.\t.\t.", "POS must be >= 1"),
        ("chr1\tfive\tx\tA\tT\t.\t.\t.", "POS is not an integer: 'five'"),
        ("chr1\t5\tx\tA", "expected at least 5 tab-separated columns"),
        ("chr1\t5\tx\t.\tT\t.\t.\t.", "REF must hold at least one base"),
    ],
)
def test_bad_vcf_names_file_and_line(tmp_path, row, message):
    path = write(tmp_path / "bad.vcf", "##fileformat=VCFv4.2\n#CHROM\tPOS\n" + row + "\n")
    with pytest.raises(InputError) as info:
        read_regions(path)
    assert str(info.value).startswith(f"{path}, line 3: ")
    assert message in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"regions file not found: .*nope\.bed"):
        read_regions(tmp_path / "nope.bed")


def test_unknown_fmt_and_feature_on_bed(tmp_path):
    path = write(tmp_path / "roi.bed", BED6)
    with pytest.raises(InputError, match=r"unknown format fmt='xls'; expected one of bed"):
        read_regions(path, fmt="xls")
    with pytest.raises(InputError, match=r"feature='exon' selects GFF/GTF records"):
        read_regions(path, feature="exon")


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "roi.bed.gz"
    path.write_bytes(gzip.compress(BED6.encode())[:30])
    with pytest.raises(InputError, match="cannot decompress"):
        read_regions(path)


@pytest.mark.parametrize(
    "df,message",
    [
        (pd.DataFrame({"chrom": ["c"], "begin": [0], "end": [3]}), "missing ['start']"),
        (
            pd.DataFrame({"chrom": ["c", "c"], "start": [0, 1.5], "end": [3, 4]}),
            "row 1: start is not an integer: 1.5",
        ),
        (
            pd.DataFrame({"chrom": ["c", "c"], "start": [0, None], "end": [3, 4]}),
            "row 1: start is missing",
        ),
        (pd.DataFrame({"chrom": ["c"], "start": [-1], "end": [3]}), "row 0: start must be >= 0"),
        (pd.DataFrame({"chrom": ["c"], "start": [5], "end": [3]}), "row 0: end (3) <= start (5)"),
        (
            pd.DataFrame({"chrom": ["c"], "start": [0], "end": [3], "strand": ["plus"]}),
            "row 0: strand must be one of",
        ),
        (
            pd.DataFrame({"chrom": ["c"], "start": [0], "end": [3], "score": ["hi"]}),
            "row 0: score is not a number: 'hi'",
        ),
    ],
)
def test_bad_dataframe(df, message):
    with pytest.raises(InputError) as info:
        read_regions(df)
    assert str(info.value).startswith("DataFrame")
    assert message in str(info.value)


# -- tiling -------------------------------------------------------------------------------
def naive_tiles(start, end, binsize, stepsize, zero_padding):
    """Reference tiling, written independently of Janggu's arithmetic.

    Walk windows of ``binsize`` every ``stepsize`` while they fit in the region; then, if
    the full windows left bases at the region's end uncovered, keep ``[pos, end)`` as a short
    window (when ``zero_padding``).

    Why this equals Janggu's rule (``val = L - b + s`` if ``s <= b`` else ``L``; ``n =
    max(val // s, 0)`` full windows; a short one if ``val % s > 0`` or ``val <= 0``):

    - ``s <= b``: window ``i`` fits iff ``i*s + b <= L`` iff ``i < (L - b + s) / s``, so the
      loop yields ``val // s`` windows. The last one ends at ``(n-1)*s + b = L - (val - n*s)``,
      so bases are left uncovered iff ``val % s > 0`` (or no window fits, ``val < s``).
    - ``s > b``: Janggu counts ``L // s`` windows (those with ``i*s + s <= L``) plus a rest
      ``[n*s, L)``. The loop counts those with ``i*s + b <= L``: the same, plus one at ``n*s``
      when ``L - n*s >= b``. genomarray deliberately follows the loop there (a rest of ``b``
      bases or more is a full window, see :func:`tile`); a rest shorter than ``b`` is the
      loop's ``[pos, end)`` with ``pos < end``, as in Janggu.
    """
    tiles = []
    pos = reached = start
    while pos + binsize <= end:
        tiles.append((pos, pos + binsize))
        reached = pos + binsize
        pos += stepsize
    if zero_padding and pos < end and reached < end:
        tiles.append((pos, end))
    return tiles


def janggu_tiles(start, end, binsize, stepsize, zero_padding):
    """Janggu's GenomicIndexer.create_from_region arithmetic, transcribed."""
    val = end - start - binsize + stepsize if stepsize <= binsize else end - start
    n = max(val // stepsize, 0)
    tiles = [(start + i * stepsize, start + i * stepsize + binsize) for i in range(n)]
    if zero_padding and (val % stepsize > 0 or val <= 0):
        tiles.append((start + n * stepsize, end))
    return tiles


@pytest.fixture(scope="module")
def random_roi():
    rng = np.random.default_rng(7)
    n = 40
    start = rng.integers(0, 1000, n)
    length = np.concatenate([[1, 2, 9, 10, 11, 20, 23], rng.integers(1, 60, n - 7)])
    return pd.DataFrame(
        {
            "chrom": rng.choice(["chr1", "chr2"], n),
            "start": start,
            "end": start + length,
            "name": [f"r{i}" for i in range(n)],
            "score": np.arange(n, dtype=float),
            "strand": rng.choice(["+", "-", "."], n),
            "gc": rng.random(n),
        }
    )


@pytest.mark.parametrize(
    "binsize,stepsize,flank,zero_padding",
    list(itertools.product([1, 3, 10, 17], [None, 1, 4, 10, 25], [0, 7], [True, False])),
)
def test_tile_matches_naive_walk(random_roi, binsize, stepsize, flank, zero_padding):
    step = stepsize or binsize
    expected = []
    for row in random_roi.itertuples(index=False):
        for s, e in naive_tiles(row.start, row.end, binsize, step, zero_padding):
            expected.append((row.chrom, s, e, row.name, row.score, row.strand, row.gc))
    tiles = tile(
        random_roi, binsize=binsize, stepsize=stepsize, flank=flank, zero_padding=zero_padding
    )
    assert [tuple(r) for r in tiles.itertuples(index=False)] == expected
    assert tiles.attrs == {
        "binsize": binsize,
        "stepsize": step,
        "flank": flank,
        "zero_padding": zero_padding,
        "collapse": False,
    }
    assert (tiles["end"] - tiles["start"]).between(1, binsize).all()
    assert_region_dtypes(tiles)
    assert tiles.index.tolist() == list(range(len(tiles)))


@pytest.mark.parametrize(
    "binsize,stepsize", [(b, s) for b in (1, 3, 10, 17) for s in (1, 4, 10, 25) if s <= b]
)
@pytest.mark.parametrize("zero_padding", [True, False])
def test_tile_matches_janggu_arithmetic(random_roi, binsize, stepsize, zero_padding):
    """Where Janggu's rest is never longer than binsize (stepsize <= binsize), the two agree
    exactly, so the reference walk and Janggu's formula describe the same tiling."""
    tiles = tile(random_roi, binsize=binsize, stepsize=stepsize, zero_padding=zero_padding)
    expected = [
        t
        for r in random_roi.itertuples(index=False)
        for t in janggu_tiles(r.start, r.end, binsize, stepsize, zero_padding)
    ]
    assert list(zip(tiles["start"], tiles["end"], strict=True)) == expected


def test_tile_hand_examples():
    roi = pd.DataFrame(
        {"chrom": ["c", "c"], "start": [0, 1000], "end": [250, 1050], "strand": ["+", "-"]}
    )
    got = tile(roi, binsize=100, stepsize=50)
    assert got[["start", "end"]].values.tolist() == [
        [0, 100],
        [50, 150],
        [100, 200],
        [150, 250],
        [1000, 1050],
    ]
    assert got["strand"].tolist() == ["+"] * 4 + ["-"]
    got = tile(roi, binsize=100, stepsize=150)
    assert got[["start", "end"]].values.tolist() == [[0, 100], [150, 250], [1000, 1050]]
    got = tile(roi, binsize=100, zero_padding=False)
    assert got[["start", "end"]].values.tolist() == [[0, 100], [100, 200]]
    # stepsize > binsize: a rest of binsize bases is a full window, kept without padding
    # (Janggu's L // stepsize would drop [150, 250) here)
    got = tile(roi, binsize=100, stepsize=150, zero_padding=False)
    assert got[["start", "end"]].values.tolist() == [[0, 100], [150, 250]]
    got = tile(roi.iloc[:1].assign(end=280), binsize=100, stepsize=150)
    assert got[["start", "end"]].values.tolist() == [[0, 100], [150, 250]]
    got = tile(roi.iloc[:1].assign(end=320), binsize=100, stepsize=150)
    assert got[["start", "end"]].values.tolist() == [[0, 100], [150, 250], [300, 320]]


def test_tile_flank_is_recorded_not_applied():
    roi = pd.DataFrame({"chrom": ["c"], "start": [0], "end": [200]})
    got = tile(roi, binsize=100, flank=150)
    assert got[["start", "end"]].values.tolist() == [[0, 100], [100, 200]]
    assert got.attrs["flank"] == 150


def test_tile_binsize_none_is_longest_region():
    roi = pd.DataFrame({"chrom": ["c"] * 3, "start": [0, 100, 500], "end": [30, 180, 520]})
    got = tile(roi)
    assert got.attrs["binsize"] == 80 and got.attrs["stepsize"] == 80
    assert got[["start", "end"]].values.tolist() == roi[["start", "end"]].values.tolist()
    assert tile(roi, zero_padding=False)[["start", "end"]].values.tolist() == [[100, 180]]
    got = tile(roi, stepsize=40)  # binsize = 80, stepsize given
    assert got[["start", "end"]].values.tolist() == [[0, 30], [100, 180], [500, 520]]


def test_tile_collapse_keeps_regions_whole():
    roi = pd.DataFrame(
        {
            "chrom": ["c", "d"],
            "start": [0, 100],
            "end": [30, 1180],
            "name": ["a", "b"],
            "strand": ["-", "+"],
            "extra": [1, 2],
        }
    )
    got = tile(roi, collapse=True, flank=5)
    assert got[["chrom", "start", "end", "name", "strand", "extra"]].values.tolist() == [
        ["c", 0, 30, "a", "-", 1],
        ["d", 100, 1180, "b", "+", 2],
    ]
    assert got.attrs == {
        "binsize": None,
        "stepsize": None,
        "flank": 5,
        "zero_padding": True,
        "collapse": True,
    }
    with pytest.raises(InputError, match="collapse=True keeps each region whole"):
        tile(roi, binsize=10, collapse=True)


def test_tile_reads_paths_and_keeps_source(tmp_path):
    path = write(tmp_path / "roi.bed.gz", BED6, gz=True)
    got = tile(path, binsize=10, zero_padding=False)
    assert got[["chrom", "start", "end", "name"]].values.tolist() == [
        ["chr1", 10, 20, "a"],
        ["chr1", 30, 40, "b"],
    ]
    assert got.attrs["source"] == str(path) and got.attrs["binsize"] == 10
    assert read_regions(path).attrs == {"source": str(path)}
    # re-tiling a tiled frame replaces the tiling attrs and keeps the source
    again = tile(got, binsize=5, flank=2)
    assert again.attrs == {
        "source": str(path),
        "binsize": 5,
        "stepsize": 5,
        "flank": 2,
        "zero_padding": True,
        "collapse": False,
    }
    assert len(again) == 4


def test_tile_empty():
    empty = pd.DataFrame({"chrom": [], "start": [], "end": []})
    got = tile(empty, binsize=10)
    assert len(got) == 0 and got.attrs["binsize"] == 10
    assert_region_dtypes(got)
    assert tile(empty).attrs["binsize"] is None


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"binsize": 0}, "binsize must be an integer >= 1, got 0"),
        ({"binsize": -5}, "binsize must be an integer >= 1, got -5"),
        ({"binsize": 10.0}, "binsize must be an integer >= 1, got 10.0"),
        ({"binsize": 10, "stepsize": 0}, "stepsize must be an integer >= 1, got 0"),
        ({"binsize": 10, "flank": -1}, "flank must be an integer >= 0, got -1"),
        ({"binsize": 10, "flank": 2.5}, "flank must be an integer >= 0, got 2.5"),
        ({"binsize": True}, "binsize must be an integer >= 1, got True"),
    ],
)
def test_tile_bad_parameters(kwargs, message):
    roi = pd.DataFrame({"chrom": ["c"], "start": [0], "end": [100]})
    with pytest.raises(InputError) as info:
        tile(roi, **kwargs)
    assert message in str(info.value)


def test_tile_accepts_numpy_integers():
    roi = pd.DataFrame({"chrom": ["c"], "start": [0], "end": [100]})
    got = tile(roi, binsize=np.int64(50), flank=np.int32(3))
    assert len(got) == 2 and type(got.attrs["binsize"]) is int


@needs_bedtools
@pytest.mark.parametrize("binsize,stepsize", [(100, 100), (37, 37), (100, 50), (30, 7), (50, 80)])
def test_tile_agrees_with_bedtools_makewindows(tmp_path, random_roi, binsize, stepsize):
    """``bedtools makewindows -b roi.bed -w W -s S`` emits a window at every step from the
    region start until the start reaches the end, cut at the end. Comparable with us:

    - its full-length windows are exactly our full tiles (zero_padding=False);
    - with stepsize == binsize its output (short last window included) is exactly ours with
      zero_padding=True; with stepsize < binsize it adds further short windows that Janggu
      does not make (their bases are already covered by the last full window).
    """
    roi = random_roi.assign(start=random_roi["start"] * 10, end=random_roi["end"] * 10)
    to_bed(roi, tmp_path / "roi.bed")
    windows = [
        (c, int(s), int(e))
        for c, s, e in bedtools(
            "makewindows", "-b", tmp_path / "roi.bed", "-w", binsize, "-s", stepsize
        )
    ]
    full = [w for w in windows if w[2] - w[1] == binsize]
    ours_full = tile(roi, binsize=binsize, stepsize=stepsize, zero_padding=False)
    assert list(ours_full[["chrom", "start", "end"]].itertuples(index=False, name=None)) == full
    ours = tile(roi, binsize=binsize, stepsize=stepsize)
    ours = list(ours[["chrom", "start", "end"]].itertuples(index=False, name=None))
    if stepsize == binsize:
        assert ours == windows
    elif stepsize < binsize:
        assert set(ours) <= set(windows)
    else:  # stepsize > binsize: makewindows leaves the same gaps; windows are the same
        assert ours == windows


# -- chromosomes --------------------------------------------------------------------------
SIZES = {f"chr{i}": 50_000 for i in [*range(1, 23), "X", "Y", "M"]}


@pytest.mark.parametrize("chrom,suggested", [("1", "chr1"), ("X", "chrX"), ("MT", "chrM")])
def test_check_chromosomes_explains_chr_prefix(chrom, suggested):
    roi = pd.DataFrame({"chrom": [chrom], "start": [0], "end": [10]})
    with pytest.raises(ChromosomeError) as info:
        check_chromosomes(roi, SIZES, source="roi.bed", genome="genome.fa")
    text = str(info.value)
    assert text.startswith("roi.bed: ")
    assert f"'{chrom}' is not in genome.fa; did you mean '{suggested}'?" in text
    assert (
        f"The ROI and the genome spell chromosome names differently ('{chrom}' vs "
        f"'{suggested}')" in text
    )
    assert "'chr1', 'chr2'" in text and "(25 in all)" in text
    assert "'chr11'" not in text  # only the first 10 listed
    assert isinstance(info.value, InputError) and isinstance(info.value, KeyError)


def test_check_chromosomes_the_other_way_round():
    roi = pd.DataFrame({"chrom": ["chr2", "chr2", "chr7"], "start": [0, 1, 2], "end": [10, 11, 12]})
    with pytest.raises(ChromosomeError) as info:
        check_chromosomes(roi, {"1": 100, "2": 100, "7": 100})
    text = str(info.value)
    assert "'chr2', 'chr7' are not in genome; did you mean '2', '7'?" in text
    assert "('chr2' vs '2')" in text
    assert "genome has the chromosomes '1', '2', '7'" in text


def test_check_chromosomes_unrelated_names():
    roi = pd.DataFrame({"chrom": ["scaffold_9"], "start": [0], "end": [10]})
    with pytest.raises(ChromosomeError) as info:
        check_chromosomes(roi, {"chr1": 100})
    assert "'scaffold_9' is not in genome. genome has the chromosomes 'chr1'" in str(info.value)
    assert "did you mean" not in str(info.value)


def test_check_chromosomes_region_beyond_end():
    roi = pd.DataFrame(
        {
            "chrom": ["chr1", "chr1", "chr1"],
            "start": [39_900, 50_000, 60_000],
            "end": [40_100, 50_200, 60_100],
        }
    )
    with pytest.raises(InputError) as info:
        check_chromosomes(roi, {"chr1": 40_000}, source="roi.bed", genome="genome.fa")
    text = str(info.value)
    assert text.startswith("roi.bed, chr1:50000-50200: ")
    assert "length is 40000 bp in genome.fa" in text and "(2 regions do)" in text
    assert info.value.record == "chr1:50000-50200"
    # a region that only ends past the chromosome is fine (views pad it)
    check_chromosomes(roi.iloc[:1], {"chr1": 40_000})


def test_check_chromosomes_ok_and_reads_paths(tmp_path):
    path = write(tmp_path / "roi.bed", BED6)
    assert check_chromosomes(path, {"chr1": 100, "chr2": 10}) is None


# -- parse_region and to_bed --------------------------------------------------------------
@pytest.mark.parametrize(
    "text,expected",
    [
        ("chr1:1,000-2,000", ("chr1", 1000, 2000)),
        ("chr1:1000-2000", ("chr1", 1000, 2000)),
        (" chr2:0-1 ", ("chr2", 0, 1)),
        ("chr1:1000", ("chr1", 1000, 1001)),
        ("chr1", ("chr1", 0, None)),
        ("chrUn_KI270302v1:5-10", ("chrUn_KI270302v1", 5, 10)),
    ],
)
def test_parse_region(text, expected):
    assert parse_region(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        ":100-200",
        "chr1:",
        "chr1:abc",
        "chr1:100-",
        "chr1:-5",
        "chr1:200-100",
        "chr1:5-5",
        "chr 1:1-2",
        "chr1:1-2-3",
        None,
    ],
)
def test_parse_region_garbage(text):
    with pytest.raises(InputError):
        parse_region(text)


def test_to_bed_round_trip(tmp_path):
    roi = read_regions(write(tmp_path / "in.bed", BED6))
    to_bed(roi, tmp_path / "out.bed")
    assert (tmp_path / "out.bed").read_text() == BED6
    to_bed(roi, tmp_path / "out.bed.gz")
    pd.testing.assert_frame_equal(read_regions(tmp_path / "out.bed.gz"), roi)


def test_to_bed_integral_scores_and_extras_dropped(tmp_path):
    roi = read_regions(write(tmp_path / "x.narrowPeak", NARROWPEAK))
    to_bed(roi, tmp_path / "out.bed")
    assert (tmp_path / "out.bed").read_text() == (
        "chr1\t100\t300\tpeak1\t850\t.\nchr2\t5\t80\tpeak2\t1000\t+\n"
    )
    to_bed(pd.DataFrame({"chrom": ["c"], "start": [0], "end": [3]}), tmp_path / "min.bed")
    assert (tmp_path / "min.bed").read_text() == "c\t0\t3\t.\t0\t.\n"
