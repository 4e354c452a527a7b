"""BigWigReader against pyBigWig's own per-base values (independent of the reader's path)."""

import os
import pickle
import shutil
import warnings

import numpy as np
import pyBigWig
import pytest

from genomarray.data import example_path
from genomarray.errors import ChromosomeError, InputError
from genomarray.genome.graph import genome_array
from genomarray.io.bigwig import (
    BigWigNotFoundError,
    BigWigReader,
    bigwig_chrom_sizes,
    bigwig_zoom_levels,
)
from genomarray.threads import scratch

BW = example_path("sample.bw")
SIZES = {"chr1": 40000, "chr2": 30000, "chr3": 20000}


def _backends() -> list:
    try:
        import pybigtools  # noqa: F401

        has = True
    except ImportError:
        has = False
    return [
        "pybigwig",
        pytest.param(
            "pybigtools", marks=pytest.mark.skipif(not has, reason="pybigtools not installed")
        ),
        "genomarray",  # the section reader for per-base values (tests/test_bigwig_sections.py)
    ]


@pytest.fixture(params=_backends())
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def truth() -> dict[str, np.ndarray]:
    """Per-base values of every chromosome straight from pyBigWig (NaN = uncovered)."""
    bw = pyBigWig.open(BW)
    try:
        return {c: bw.values(c, 0, n, numpy=True).astype(np.float64) for c, n in SIZES.items()}
    finally:
        bw.close()


def naive_bins(values: np.ndarray, res: int, how: str, nan_to_num: bool) -> np.ndarray:
    """Per-bin summary by a plain loop over bins (the last one may be partial)."""
    out = []
    for b in range(0, len(values), res):
        x = values[b : b + res]
        covered = ~np.isnan(x)
        if how == "coverage":
            out.append(covered.mean())
            continue
        if nan_to_num:
            x = np.where(covered, x, 0.0)
        elif not covered.any():
            out.append(np.nan)
            continue
        else:
            x = x[covered]
        out.append({"mean": np.mean, "max": np.max, "min": np.min, "sum": np.sum}[how](x))
    return np.array(out)


# -- per base ----------------------------------------------------------------------------
@pytest.mark.parametrize("nan_to_num", [True, False])
def test_per_base_equals_pybigwig_values(backend, truth, nan_to_num):
    reader = BigWigReader(BW, backend=backend, nan_to_num=nan_to_num)
    rng = np.random.default_rng(7)
    for _ in range(150):
        chrom = str(rng.choice(list(SIZES)))
        n = SIZES[chrom]
        start = int(rng.integers(0, n))
        end = start + int(rng.integers(1, 3000))
        got = reader(chrom, start, end)
        assert got.shape == (end - start, 1) and got.dtype == np.float32
        expected = np.zeros(end - start)  # bins past the chromosome end are 0
        inside = truth[chrom][start : min(end, n)]
        expected[: len(inside)] = np.nan_to_num(inside) if nan_to_num else inside
        np.testing.assert_array_equal(got[:, 0], expected.astype(np.float32))
    if not nan_to_num:  # uncovered bases stay NaN: sample.bw has zero-depth runs
        assert np.isnan(reader("chr1", 0, SIZES["chr1"])).sum() == np.isnan(truth["chr1"]).sum()


def test_chromosome_ends(backend, truth):
    reader = BigWigReader(BW, backend=backend)
    for chrom, n in SIZES.items():
        got = reader(chrom, n - 5, n + 5)[:, 0]
        np.testing.assert_array_equal(got[:5], np.nan_to_num(truth[chrom][-5:]))
        np.testing.assert_array_equal(got[5:], 0)
        assert reader(chrom, n + 10, n + 20).sum() == 0
        np.testing.assert_array_equal(reader(chrom, 0, 3)[:, 0], np.nan_to_num(truth[chrom][:3]))


# -- binned, exact ----------------------------------------------------------------------
@pytest.mark.parametrize("res", [10, 50, 1000, 3000])
@pytest.mark.parametrize("how", ["mean", "max", "min", "sum", "coverage"])
@pytest.mark.parametrize("nan_to_num", [True, False])
def test_exact_bins_equal_per_base_summaries(backend, truth, res, how, nan_to_num):
    reader = BigWigReader(
        BW, resolution=res, how=how, nan_to_num=nan_to_num, exact=True, backend=backend
    )
    for chrom in ("chr1", "chr3"):  # 3000 leaves a partial last bin on both
        n_bins = -(-SIZES[chrom] // res)
        got = reader(chrom, 0, n_bins + 2)[:, 0]
        expected = naive_bins(truth[chrom], res, how, nan_to_num)
        np.testing.assert_allclose(got[:n_bins], expected, rtol=1e-6, equal_nan=True)
        np.testing.assert_array_equal(got[n_bins:], 0)


# -- binned, zoom levels -----------------------------------------------------------------
def test_zoom_levels_of_sample():
    assert bigwig_zoom_levels(BW) == [64, 256]  # pyBigWig wrote 4x mean record, then x4


@pytest.mark.parametrize("res", [10, 50, 127])
def test_zoom_not_applicable_is_exact(backend, res):
    """Below twice the finest zoom level (64 bp) no zoom level applies: exact bins."""
    for how in ("mean", "max", "coverage"):
        zoom = BigWigReader(BW, resolution=res, how=how, backend=backend)
        exact = BigWigReader(BW, resolution=res, how=how, exact=True, backend=backend)
        np.testing.assert_array_equal(
            zoom("chr2", 0, 30000 // res + 1), exact("chr2", 0, 30000 // res + 1)
        )


@pytest.mark.parametrize("res", [1000, 3000])
def test_zoom_within_documented_tolerance(truth, res):
    pytest.importorskip("pybigtools")
    n_bins = -(-SIZES["chr1"] // res)
    expected = naive_bins(truth["chr1"], res, "mean", True)
    zoom = BigWigReader(BW, resolution=res, backend="pybigtools")("chr1", 0, n_bins)[:, 0]
    assert not np.array_equal(zoom, expected.astype(np.float32))  # the zoom path was taken
    # mass moves between neighbouring bins only: the total is kept
    assert zoom.sum() == pytest.approx(expected.sum(), rel=1e-3)
    # the documented size of the approximation: a few % of the mean signal
    assert np.abs(zoom - expected).mean() < 0.03 * expected.mean()
    # max is taken over every zoom record touching the bin: never below the exact max
    zmax = BigWigReader(BW, resolution=res, how="max", backend="pybigtools")
    assert (
        zmax("chr1", 0, n_bins)[:, 0] >= naive_bins(truth["chr1"], res, "max", True) - 1e-5
    ).all()
    cov = BigWigReader(BW, resolution=res, how="coverage", backend="pybigtools")
    np.testing.assert_allclose(
        cov("chr1", 0, n_bins)[:, 0], naive_bins(truth["chr1"], res, "coverage", True), atol=0.02
    )


def test_zoom_nan_when_uncovered(tmp_path):
    pytest.importorskip("pybigtools")
    path = str(tmp_path / "gap.bw")
    bw = pyBigWig.open(path, "w")
    bw.addHeader([("c", 100_000)])
    starts = np.arange(0, 50_000, 2)
    bw.addEntries(
        ["c"] * len(starts), starts.tolist(), ends=(starts + 1).tolist(), values=[2.0] * len(starts)
    )
    bw.close()
    assert bigwig_zoom_levels(path)[0] <= 500
    got = BigWigReader(path, resolution=1000, nan_to_num=False, backend="pybigtools")
    block = got("c", 0, 100)[:, 0]
    # mean over covered bases (a zoom record straddling bp 50,000 blurs the last bin a little)
    np.testing.assert_allclose(block[:49], 2.0, rtol=1e-6)
    assert block[49] == pytest.approx(2.0, rel=0.05)
    assert np.isnan(block[50:]).all()
    mean0 = BigWigReader(path, resolution=1000, backend="pybigtools")("c", 0, 100)[:, 0]
    np.testing.assert_allclose(mean0[:49], 1.0, rtol=0.01)  # mean over all bases
    np.testing.assert_array_equal(mean0[50:], 0)


# -- chunking, pickling, the store --------------------------------------------------------
@pytest.mark.parametrize("res,exact", [(1, False), (50, True), (1000, False), (1000, True)])
def test_chunk_boundary_invariance(backend, res, exact):
    reader = BigWigReader(BW, resolution=res, exact=exact, backend=backend)
    n_bins = -(-SIZES["chr2"] // res)
    whole = reader("chr2", 0, n_bins)
    rng = np.random.default_rng(3)
    cuts = np.unique(np.r_[0, rng.integers(1, n_bins, 6), n_bins])
    pairs = zip(cuts[:-1], cuts[1:], strict=True)
    parts = np.concatenate([reader("chr2", int(a), int(b)) for a, b in pairs])
    np.testing.assert_array_equal(parts, whole)


def test_genome_array_and_pickle(backend, truth):
    reader = pickle.loads(pickle.dumps(BigWigReader(BW, backend=backend)))
    arr = genome_array(
        reader, list(SIZES), list(SIZES.values()), np.float32, trailing=(1,), chunk=7000
    )
    got = arr.compute()
    for i, (chrom, n) in enumerate(SIZES.items()):
        np.testing.assert_array_equal(got[i, :n, 0], np.nan_to_num(truth[chrom]))
        assert not got[i, n:].any()


def test_rewritten_file_is_reopened(tmp_path, backend):
    path = str(tmp_path / "t.bw")

    def write(value: float) -> None:
        bw = pyBigWig.open(path, "w")
        bw.addHeader([("c", 1000)])
        bw.addEntries(["c"], [0], ends=[1000], values=[value])
        bw.close()

    write(1.0)
    reader = BigWigReader(path, backend=backend)
    assert reader("c", 0, 3)[0, 0] == 1.0
    st = os.stat(path)
    write(5.0)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert reader("c", 0, 3)[0, 0] == 5.0


def test_other_extension(tmp_path, backend):
    path = str(tmp_path / "signal.data")
    shutil.copy(BW, path)
    np.testing.assert_array_equal(
        BigWigReader(path, backend=backend)("chr1", 0, 100), BigWigReader(BW)("chr1", 0, 100)
    )


def test_backends_agree():
    pytest.importorskip("pybigtools")
    for res, exact in [(1, True), (50, True), (1000, True)]:
        a = BigWigReader(BW, resolution=res, exact=exact, backend="pybigwig")
        b = BigWigReader(BW, resolution=res, exact=exact, backend="pybigtools")
        np.testing.assert_array_equal(a("chr3", 0, 20000 // res), b("chr3", 0, 20000 // res))


def test_chrom_sizes():
    assert bigwig_chrom_sizes(BW) == SIZES


# -- errors ---------------------------------------------------------------------------------
def test_missing_file(tmp_path):
    missing = str(tmp_path / "nope.bw")
    with pytest.raises(InputError, match=r"nope\.bw.*not found"):
        BigWigReader(missing)
    with pytest.raises(FileNotFoundError):
        bigwig_chrom_sizes(missing)
    assert issubclass(BigWigNotFoundError, InputError)


def test_not_a_bigwig(tmp_path):
    with pytest.raises(InputError, match=r"genome\.fa.*not a bigWig"):
        BigWigReader(example_path("genome.fa"))
    text = tmp_path / "x.bw"
    text.write_text("chr1\t0\t10\t1.0\n")
    with pytest.raises(InputError, match="bedGraph"):
        BigWigReader(str(text))


def test_missing_chromosome(backend):
    reader = BigWigReader(BW, backend=backend)
    with pytest.raises(ChromosomeError, match=r"sample\.bw.*'chrX' is not in the bigWig"):
        reader("chrX", 0, 10)
    with pytest.raises(InputError, match=r"did you mean 'chr1'"):
        reader("1", 0, 10)


def test_bad_arguments():
    with pytest.raises(InputError, match="how must be one of"):
        BigWigReader(BW, resolution=10, how="median")
    with pytest.raises(InputError, match="resolution"):
        BigWigReader(BW, resolution=0)
    with pytest.raises(InputError, match="backend"):
        BigWigReader(BW, backend="bbi")


def test_resolution_one_summaries(backend, truth):
    cov = BigWigReader(BW, how="coverage", backend=backend)("chr1", 0, 1000)[:, 0]
    np.testing.assert_array_equal(cov, ~np.isnan(truth["chr1"][:1000]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        BigWigReader(BW, how="max", backend=backend)("chr1", 0, 1000)


def test_stored_nan_and_infinities_follow_nan_to_num(tmp_path, backend):
    """Uncovered bases are filled as they are read (pybigtools) or afterwards (pyBigWig);
    values the file itself stores as NaN or +-inf still become what ``np.nan_to_num``
    makes of pyBigWig's values, with ``nan_to_num=False`` they stay as stored."""
    path = str(tmp_path / "odd.bw")
    bw = pyBigWig.open(path, "w")
    bw.addHeader([("c", 3000)])
    starts = [10, 11, 12, 500, 2000]
    values = [np.nan, np.inf, -np.inf, 1.5, 2.5]
    bw.addEntries(["c"] * 5, starts, ends=[s + 1 for s in starts], values=values)
    bw.close()
    ref = pyBigWig.open(path)
    want = ref.values("c", 0, 3000, numpy=True).astype(np.float32)
    ref.close()
    assert np.isnan(want[:10]).all() and np.isinf(want[11:13]).all()  # gaps NaN, as stored
    scratch("bigwig float64 values", (4000,), np.float64)[:] = 7.0  # junk left by a read
    got = BigWigReader(path, backend=backend)("c", 0, 3000)[:, 0]
    np.testing.assert_array_equal(got, np.nan_to_num(want))
    raw = BigWigReader(path, backend=backend, nan_to_num=False)("c", 0, 3000)[:, 0]
    np.testing.assert_array_equal(raw, want)  # NaN where uncovered or stored NaN
    tail = BigWigReader(path, backend=backend)("c", 2990, 3010)[:, 0]  # past the end: 0
    np.testing.assert_array_equal(tail, np.r_[np.nan_to_num(want[2990:]), np.zeros(10)])
    finite = BigWigReader(path, backend=backend)("c", 400, 2500)[:, 0]  # no stored NaN/inf
    np.testing.assert_array_equal(finite, np.nan_to_num(want[400:2500]))
