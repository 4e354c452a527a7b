"""IntervalCoverage against hand-computed tracks, a naive per-bin loop and bedtools."""

import math
import pickle
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from genomarray.data import example_path
from genomarray.errors import InputError
from genomarray.genome.graph import genome_array
from genomarray.io.intervals import IntervalCoverage, categories_of, check_mode
from genomarray.io.regions import read_regions

SIZES = {"chr1": 40000, "chr2": 30000, "chr3": 20000}


def frame(rows, **extra) -> pd.DataFrame:
    """Regions on chromosome ``c`` from ``(start, end[, score[, name]])`` tuples."""
    cols = ["start", "end", "score", "name"]
    df = pd.DataFrame([dict(zip(cols, r, strict=False)) for r in rows])
    df.insert(0, "chrom", "c")
    if "score" not in df:
        df["score"] = 0.0
    if "name" not in df:
        df["name"] = "."
    for key, value in extra.items():
        df[key] = value
    return read_regions(df)


def track(reader, n: int, chrom: str = "c") -> np.ndarray:
    out = reader(chrom, 0, n)
    return out[:, 0] if out.shape[1] == 1 else out


# -- hand-computed expectations --------------------------------------------------------------
def test_binary_overlapping_features():
    roi = frame([(2, 6), (4, 5), (10, 12), (11, 13)])
    expected = [0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0]
    np.testing.assert_array_equal(track(IntervalCoverage(roi), 15), expected)
    assert IntervalCoverage(roi)("other", 0, 5).sum() == 0  # no features there


def test_score_max_of_overlaps():
    roi = frame([(0, 10, 2.0), (5, 15, 5.0), (7, 8, 1.0), (20, 25, -1.0), (24, 26, 0.5)])
    expected = [2] * 5 + [5] * 10 + [0] * 5 + [-1] * 4 + [0.5, 0.5] + [0] * 2
    np.testing.assert_array_equal(track(IntervalCoverage(roi, mode="score"), 28), expected)
    # resolution 10: a bin takes the max score of every feature touching it
    binned = IntervalCoverage(roi, mode="score", resolution=10)
    np.testing.assert_array_equal(track(binned, 3), [5, 5, 0.5])


def test_minoverlap_half_at_resolution_10():
    roi = frame([(0, 5), (14, 18), (25, 46), (52, 54), (53, 57)])
    # bin 0: 5 bp of 10 (counts), bin 1: 4 bp (no), bins 2-4: 5, 10, 6 bp (count),
    # bin 5 [50, 57) is partial (7 bp, needs ceil(3.5) = 4): [52, 54) no, [53, 57) yes
    reader = IntervalCoverage(roi, resolution=10, minoverlap=0.5, chrom_sizes={"c": 57})
    np.testing.assert_array_equal(track(reader, 7), [1, 0, 1, 1, 1, 1, 0])
    # without chromosome sizes the last bin counts 10 bp: 4 bp fall short
    reader = IntervalCoverage(roi, resolution=10, minoverlap=0.5)
    np.testing.assert_array_equal(track(reader, 6), [1, 0, 1, 1, 1, 0])
    # no minoverlap: any overlap counts
    np.testing.assert_array_equal(track(IntervalCoverage(roi, resolution=10), 6), [1] * 6)
    # minoverlap=1: only whole bins
    whole = IntervalCoverage(roi, resolution=10, minoverlap=1.0)
    np.testing.assert_array_equal(track(whole, 6), [0, 0, 0, 1, 0, 0])


def test_bedgraph_means():
    roi = frame([(0, 5, 1.0), (5, 8, 2.0), (12, 30, 0.5)])
    per_base = track(IntervalCoverage(roi, mode="bedgraph"), 32)
    np.testing.assert_array_equal(per_base, [1] * 5 + [2] * 3 + [0] * 4 + [0.5] * 18 + [0, 0])
    binned = IntervalCoverage(roi, mode="bedgraph", resolution=10)
    np.testing.assert_allclose(track(binned, 4), [1.1, 0.4, 0.5, 0.0])
    partial = IntervalCoverage(roi, mode="bedgraph", resolution=10, chrom_sizes={"c": 25})
    np.testing.assert_allclose(track(partial, 4), [1.1, 0.4, 0.5, 0.0])  # 5 bp of 0.5


def test_name_and_score_categories():
    roi = frame([(0, 4, 1.0, "b"), (2, 6, 2.0, "a"), (8, 9, 2.5, "b")])
    names = IntervalCoverage(roi, mode="name_category")
    assert names.categories == ("a", "b")
    expected = np.zeros((10, 2))
    expected[2:6, 0] = 1
    expected[0:4, 1] = 1
    expected[8, 1] = 1
    np.testing.assert_array_equal(track(names, 10), expected)
    scores = IntervalCoverage(roi, mode="score_category", resolution=5)
    assert scores.categories == ("1", "2", "2.5")
    np.testing.assert_array_equal(track(scores, 2), [[1, 1, 0], [0, 1, 1]])
    # explicit categories: their order, others ignored
    only = IntervalCoverage(roi, mode="name_category", categories=("b",))
    np.testing.assert_array_equal(track(only, 10), expected[:, 1])


def test_categories_of_sorts_numerically():
    roi = frame([(0, 1, 10.0), (1, 2, 9.0), (2, 3, 0.5), (3, 4, 10.0)])
    assert categories_of(roi, "score_category") == ("0.5", "9", "10")
    with pytest.raises(InputError, match="categories exist only"):
        categories_of(roi, "binary")


# -- against a naive per-bin loop, random features -----------------------------------------
def naive(
    roi: pd.DataFrame, mode: str, res: int, minoverlap, length: int, categories=()
) -> np.ndarray:
    n_bins = math.ceil(length / res)
    width = len(categories) or 1
    out = np.zeros((n_bins, width))
    for b in range(n_bins):
        lo, hi = b * res, min((b + 1) * res, length)
        need = 1 if minoverlap is None else math.ceil(minoverlap * (hi - lo) - 1e-9)
        best = None
        total = 0.0
        for row in roi.itertuples():
            ov = min(row.end, hi) - max(row.start, lo)
            if ov <= 0:
                continue
            total += ov * row.score
            if ov < need:
                continue
            if mode == "binary":
                out[b, 0] = 1
            elif mode == "score":
                best = row.score if best is None else max(best, row.score)
            elif mode == "name_category" and row.name in categories:
                out[b, categories.index(row.name)] = 1
        if mode == "score" and best is not None:
            out[b, 0] = best
        if mode == "bedgraph":
            out[b, 0] = total / (hi - lo)
    return out


def random_regions(seed: int, n: int, length: int, overlapping: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    if overlapping:
        start = rng.integers(0, length - 1, n)
        end = np.minimum(start + rng.integers(1, 80, n), length + 30)
    else:
        cuts = np.sort(rng.choice(np.arange(1, length), 2 * n, replace=False))
        start, end = cuts[0::2], cuts[1::2]
    rows = [
        (int(s), int(e), float(rng.integers(-3, 10)), "abc"[rng.integers(0, 3)])
        for s, e in zip(start, end, strict=True)
    ]
    return frame(rows)


@pytest.mark.parametrize("mode", ["binary", "score", "name_category", "bedgraph"])
@pytest.mark.parametrize("res,minoverlap", [(1, None), (7, None), (10, 0.5), (25, 0.3), (10, 1.0)])
def test_random_against_naive_and_chunks(mode, res, minoverlap):
    length = 997
    roi = random_regions(res, 60, length, overlapping=mode != "bedgraph")
    if mode == "bedgraph" and minoverlap is not None:
        minoverlap = None
    reader = IntervalCoverage(
        roi, mode=mode, resolution=res, minoverlap=minoverlap, chrom_sizes={"c": length}
    )
    n_bins = math.ceil(length / res)
    whole = reader("c", 0, n_bins)
    expected = naive(
        roi.assign(end=np.minimum(roi["end"], length)),
        mode,
        res,
        minoverlap,
        length,
        reader.categories,
    )
    np.testing.assert_allclose(whole, expected, rtol=1e-6, atol=1e-6)
    # chunk-boundary invariance: features cross every cut
    cuts = [0, 1, 5, 17, n_bins // 2, n_bins - 1, n_bins]
    parts = np.concatenate([reader("c", a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True)])
    np.testing.assert_array_equal(parts, whole)
    assert reader("c", n_bins, n_bins + 4).sum() == 0  # past the chromosome end


def test_nested_features_score():
    roi = frame([(0, 100, 1.0), (10, 90, 2.0), (20, 80, 3.0), (30, 70, 0.5), (40, 60, 4.0)])
    got = track(IntervalCoverage(roi, mode="score"), 100)
    expected = np.ones(100)
    expected[10:90] = 2
    expected[20:80] = 3
    expected[40:60] = 4
    np.testing.assert_array_equal(got, expected)


# -- bedtools, example files ---------------------------------------------------------------------
@pytest.mark.skipif(shutil.which("bedtools") is None, reason="bedtools not on PATH")
def test_binary_equals_bedtools_genomecov(tmp_path):
    genome = tmp_path / "genome.txt"
    with open(example_path("genome.fa.fai")) as fai, open(genome, "w") as out:
        for line in fai:
            name, length = line.split("\t")[:2]
            out.write(f"{name}\t{length}\n")
    bga = subprocess.run(
        [
            "bedtools",
            "genomecov",
            "-bga",
            "-i",
            example_path("peaks.narrowPeak"),
            "-g",
            str(genome),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    expected = {c: np.zeros(n, dtype=bool) for c, n in SIZES.items()}
    for line in bga.splitlines():
        chrom, start, end, depth = line.split("\t")
        expected[chrom][int(start) : int(end)] = int(depth) > 0
    reader = IntervalCoverage(read_regions(example_path("peaks.narrowPeak")), chrom_sizes=SIZES)
    got = genome_array(
        reader, list(SIZES), list(SIZES.values()), np.float32, trailing=(1,), chunk=7777
    ).compute()
    for i, (chrom, n) in enumerate(SIZES.items()):
        np.testing.assert_array_equal(got[i, :n, 0], expected[chrom])
    assert expected["chr1"].sum() == 38 * 200  # non-trivial


def test_narrowpeak_score_mode():
    peaks = read_regions(example_path("peaks.narrowPeak"))
    reader = IntervalCoverage(peaks, mode="score")
    first = peaks.iloc[0]
    block = reader(first["chrom"], first["start"] - 1, first["end"] + 1)[:, 0]
    assert block[0] == 0 and block[-1] == 0
    np.testing.assert_array_equal(block[1:-1], np.float32(first["score"]))


def parse_gtf(path: str, feature: str) -> dict[str, np.ndarray]:
    """Independent GTF parse: per-base coverage of one feature type."""
    cov = {c: np.zeros(n, dtype=bool) for c, n in SIZES.items()}
    with open(path) as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            f = line.rstrip("\n").split("\t")
            if f[2] == feature:
                cov[f[0]][int(f[3]) - 1 : int(f[4])] = True
    return cov


def test_gtf_exons_binary_and_feature_categories():
    gtf = example_path("genes.gtf")
    exons = IntervalCoverage(read_regions(gtf, feature="exon"))
    expected = parse_gtf(gtf, "exon")
    for chrom, n in SIZES.items():
        np.testing.assert_array_equal(exons(chrom, 0, n)[:, 0], expected[chrom])
    types = IntervalCoverage(
        read_regions(gtf),
        mode="name_category",
        category_column="feature",
        resolution=100,
        minoverlap=0.5,
    )
    assert types.categories == ("exon", "gene", "transcript")
    genes = parse_gtf(gtf, "gene")["chr2"]
    got = types("chr2", 0, 300)[:, 1]
    expected_bins = genes.reshape(300, 100).sum(axis=1) >= 50
    np.testing.assert_array_equal(got, expected_bins)


# -- errors, warnings, pickling ------------------------------------------------------------------
def test_empty_bed_warns_and_gives_zeros(tmp_path):
    empty = tmp_path / "empty.bed"
    empty.write_text("")
    with pytest.warns(UserWarning, match=r"empty\.bed: no regions"):
        reader = IntervalCoverage(read_regions(str(empty)))
    assert reader("chr1", 0, 100).sum() == 0 and reader("chr1", 0, 100).shape == (100, 1)


def test_score_mode_without_scores(tmp_path):
    bed = tmp_path / "three.bed"
    bed.write_text("chr1\t0\t10\nchr1\t20\t30\n")
    roi = read_regions(str(bed))
    IntervalCoverage(roi)  # binary is fine
    for mode in ("score", "score_category"):
        with pytest.raises(InputError, match=rf"three\.bed: mode='{mode}' needs scores"):
            IntervalCoverage(roi, mode=mode)
    roi.attrs["has_score"] = True  # a reader that knows the column exists decides
    assert IntervalCoverage(roi, mode="score")("chr1", 0, 10).sum() == 0


def test_bedgraph_errors(tmp_path):
    bad = tmp_path / "bad.bedGraph"
    bad.write_text("chr1\t0\t10\t1.5\nchr1\t10\t20\tabc\n")
    with pytest.raises(InputError, match=r"bad\.bedGraph, line 2.*not a number"):
        read_regions(str(bad))
    overlap = tmp_path / "overlap.bedGraph"
    overlap.write_text("chr1\t0\t10\t1.5\nchr1\t5\t20\t2\n")
    with pytest.raises(InputError, match=r"overlap\.bedGraph: bedGraph records overlap"):
        IntervalCoverage(read_regions(str(overlap)), mode="bedgraph")
    ok = tmp_path / "ok.bdg"
    ok.write_text("chr1\t0\t10\t1.5\nchr1\t10\t20\t2\n")
    reader = IntervalCoverage(read_regions(str(ok)), mode="bedgraph", resolution=20)
    np.testing.assert_allclose(reader("chr1", 0, 1), [[1.75]])


def test_bad_arguments():
    roi = frame([(0, 5, 1.0)])
    with pytest.raises(InputError, match="mode must be one of"):
        IntervalCoverage(roi, mode="counts")
    with pytest.raises(InputError, match="minoverlap"):
        IntervalCoverage(roi, resolution=10, minoverlap=1.5)
    with pytest.raises(InputError, match="minoverlap does not apply"):
        IntervalCoverage(roi, mode="bedgraph", minoverlap=0.5)
    with pytest.raises(InputError, match="resolution"):
        IntervalCoverage(roi, resolution=0)
    with pytest.raises(InputError, match="categories apply"):
        IntervalCoverage(roi, categories=("a",))
    with pytest.raises(InputError, match="column 'kind'"):
        check_mode(roi, "name_category", column="kind")
    with pytest.raises(InputError, match="needs names, but every name is '.'"):
        IntervalCoverage(roi, mode="name_category")


def test_pickle_and_trimmed_columns():
    peaks = read_regions(example_path("peaks.narrowPeak"))
    reader = IntervalCoverage(peaks, mode="score", resolution=50)
    assert list(reader.regions.columns) == ["chrom", "start", "end", "score"]
    assert reader.source.endswith("peaks.narrowPeak")
    clone = pickle.loads(pickle.dumps(reader))
    np.testing.assert_array_equal(clone("chr2", 0, 600), reader("chr2", 0, 600))
    assert clone("chr2", 0, 600).any()
