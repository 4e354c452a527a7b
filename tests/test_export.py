"""Exporters: bigWig/bedGraph/BED written by genomarray, read back independently
(pyBigWig, plain-text parsing, bedtools)."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pandas as pd
import pyBigWig
import pytest

import genomarray
from genomarray import model
from genomarray.errors import ChromosomeError, InputError
from genomarray.export.tracks import to_bed, to_bedgraph, to_bigwig
from genomarray.views.predictions import from_array, to_genome

needs_bedtools = pytest.mark.skipif(shutil.which("bedtools") is None, reason="no bedtools")

SIZES = {"chr2": 23, "chr1": 37}  # header order not sorted on purpose


def _track(resolution: int = 1, sizes: dict[str, int] = SIZES) -> tuple[np.ndarray, object]:
    rng = np.random.default_rng(0)
    n = max(-(-v // resolution) for v in sizes.values())
    vals = rng.integers(0, 3, size=(2, n, 2, 2)).astype(np.float32)  # zeros and runs
    vals[0, 5:9, 0, 1] = np.nan
    vals[1, 0:3] = np.nan
    vals[0, 10:14, 1, 0] = 0.25
    t = model.coverage_track(
        vals, list(sizes), list(sizes.values()), ["+", "-"], ["a", "b"], resolution=resolution
    )
    return vals, t


def _read_bw(path: os.PathLike, chrom: str, length: int) -> np.ndarray:
    bw = pyBigWig.open(str(path))
    try:
        return np.array(bw.values(chrom, 0, length), dtype=np.float64)
    finally:
        bw.close()


def _parse_bedgraph(path: os.PathLike) -> list[tuple[str, int, int, float]]:
    rows = []
    with open(path) as fh:
        for line in fh:
            c, s, e, v = line.split("\t")
            rows.append((c, int(s), int(e), float(v)))
    return rows


# -- bigWig -------------------------------------------------------------------------------
def test_bigwig_base_resolution_round_trip(tmp_path):
    vals, t = _track()
    out = to_bigwig(t, tmp_path, prefix="t")
    assert [p.name for p in out] == ["t.a.plus.bw", "t.a.minus.bw", "t.b.plus.bw", "t.b.minus.bw"]
    for (ci, si), path in zip([(0, 0), (0, 1), (1, 0), (1, 1)], out, strict=True):
        bw = pyBigWig.open(str(path))
        assert list(bw.chroms().items()) == sorted(SIZES.items())
        bw.close()
        for k, (chrom, length) in enumerate(SIZES.items()):
            got = _read_bw(path, chrom, length)
            np.testing.assert_array_equal(got, vals[k, :length, si, ci].astype(np.float64))


def test_bigwig_merges_runs(tmp_path):
    vals = np.zeros((1, 10, 1, 1), np.float32)
    vals[0, 3:7] = 2.5
    t = model.coverage_track(vals, ["c"], [10], ["."], ["x"])
    (path,) = to_bigwig(t, tmp_path / "one.bw")
    bw = pyBigWig.open(str(path))
    assert bw.intervals("c") == ((0, 3, 0.0), (3, 7, 2.5), (7, 10, 0.0))


def test_bigwig_runs_merged_across_chunks(tmp_path, monkeypatch):
    import genomarray.export.tracks as ex

    monkeypatch.setattr(ex, "CHUNK", 4)
    vals = np.ones((1, 10, 1, 1), np.float32)
    vals[0, 9] = np.nan
    t = model.coverage_track(vals, ["c"], [10], ["."], ["x"])
    (path,) = to_bigwig(t, tmp_path / "one.bw")
    assert pyBigWig.open(str(path)).intervals("c") == ((0, 9, 1.0),)
    t = t.chunk({model.POS: 3})
    (path,) = to_bigwig(t, tmp_path / "two.bw")
    assert pyBigWig.open(str(path)).intervals("c") == ((0, 9, 1.0),)


def test_bigwig_resolution_50(tmp_path):
    sizes = {"chr2": 1130, "chr1": 1370}
    vals, t = _track(resolution=50, sizes=sizes)
    out = to_bigwig(t, tmp_path, strands="sum")
    assert [p.name for p in out] == ["coverage.a.bw", "coverage.b.bw"]
    for k, (chrom, length) in enumerate(sizes.items()):
        n = -(-length // 50)
        with np.errstate(invalid="ignore"):
            expect = np.where(
                np.isnan(vals[k, :n]).all(axis=1), np.nan, np.nansum(vals[k, :n], axis=1)
            )[:, 0]
        got = _read_bw(out[0], chrom, length)
        np.testing.assert_array_equal(got, np.repeat(expect, 50)[:length])
        for s, e, _ in pyBigWig.open(str(out[0])).intervals(chrom):
            assert s % 50 == 0 and (e % 50 == 0 or e == length)
        assert pyBigWig.open(str(out[0])).intervals(chrom)[-1][1] <= length


def test_bigwig_bam_round_trip(tmp_path):
    t = genomarray.read_bam(genomarray.example_path("sample.bam"), storage="memory", progress=False)
    out = to_bigwig(t, tmp_path)
    assert [p.name for p in out] == ["coverage.sample.plus.bw", "coverage.sample.minus.bw"]
    for si, path in enumerate(out):
        for k, (chrom, length) in enumerate(model.chrom_sizes(t).items()):
            got = _read_bw(path, chrom, length)
            np.testing.assert_array_equal(got, t.values[k, :length, si, 0])


def test_bigwig_predictions_overlapping_tiles(tmp_path):
    _, t = _track()
    roi = pd.DataFrame({"chrom": ["chr1", "chr2"], "start": [2, 0], "end": [30, 20]})
    tiles = genomarray.tile(roi, binsize=8, stepsize=4)
    v = genomarray.view(t, tiles)
    v = v.fillna(0)
    rng = np.random.default_rng(1)
    pred = from_array(rng.random((v.sizes[model.REGION], 4, 2)), like=v.isel(strand=[0]))
    out = to_bigwig(pred, tmp_path, how="mean")
    assert [p.name for p in out] == ["prediction.a.plus.bw", "prediction.b.plus.bw"]
    genome = to_genome(pred, how="mean", fill=np.nan)
    res = genome.attrs["resolution"]
    for ci, path in enumerate(out):
        for k, (chrom, length) in enumerate(model.chrom_sizes(genome).items()):
            expect = np.repeat(genome.values[k, :, 0, ci].astype(np.float32), res)[:length]
            np.testing.assert_array_equal(_read_bw(path, chrom, length), expect)
    with pytest.raises(InputError, match="regions overlap"):
        to_bigwig(pred, tmp_path / "x", how=None)
    assert not (tmp_path / "x").exists()


def test_bigwig_per_region_view(tmp_path):
    roi = pd.DataFrame({"chrom": ["chr1", "chr1"], "start": [0, 10], "end": [10, 20]})
    v = model.region_view(
        np.array([[[1.5]], [[3.0]]]),
        roi,
        trailing_dims=["condition"],
        coords={"condition": ["p"]},
        resolution=model.REGION_RESOLUTION,
        window_bp=10,
        window_grid=10,
    )
    (path,) = to_bigwig(v, tmp_path / "p.bw", chrom_sizes={"chr1": 25}, how=None)
    assert pyBigWig.open(str(path)).intervals("chr1") == ((0, 10, 1.5), (10, 20, 3.0))


# -- bedGraph -----------------------------------------------------------------------------
@needs_bedtools
def test_bedgraph_sorted_and_equal_to_bigwig(tmp_path):
    vals, t = _track()
    bgs = to_bedgraph(t, tmp_path / "bg")
    bws = to_bigwig(t, tmp_path / "bw")
    assert [p.name for p in bgs][0] == "coverage.a.plus.bedGraph"
    for bg, bw in zip(bgs, bws, strict=True):
        text = bg.read_text()
        resorted = subprocess.run(
            ["bedtools", "sort", "-i", str(bg)], check=True, capture_output=True, text=True
        ).stdout
        assert resorted == text
        rows = _parse_bedgraph(bg)
        assert rows == [
            (c, s, e, float(np.float32(v)))
            for c in sorted(SIZES)
            for s, e, v in pyBigWig.open(str(bw)).intervals(c)
        ]
        assert not any(np.isnan(r[3]) for r in rows)
        # merged: no two adjacent entries hold the same value
        assert not any(
            a[0] == b[0] and a[2] == b[1] and a[3] == b[3]
            for a, b in zip(rows, rows[1:], strict=False)
        )


def test_bedgraph_values_and_gzip(tmp_path):
    import gzip

    t = model.coverage_track(
        np.array([0.1, 0.1, 7, np.nan]).reshape(1, 4, 1, 1), ["c"], [4], ["."], ["x"]
    )
    (path,) = to_bedgraph(t, tmp_path / "t.bg.gz")
    assert gzip.open(path, "rt").read() == "c\t0\t2\t0.1\nc\t2\t3\t7\n"


# -- BED ----------------------------------------------------------------------------------
def test_to_bed_columns(tmp_path):
    _, t = _track()
    roi = pd.DataFrame(
        {
            "chrom": ["chr1", "chr2"],
            "start": [20, 0],
            "end": [30, 10],
            "name": ["r1", "r2"],
            "strand": ["+", "+"],
        }
    )
    v = genomarray.view(t, roi)
    path = to_bed(v, tmp_path / "r.bed", how="max")
    lines = path.read_text().splitlines()
    assert lines[0] == "#chrom\tstart\tend\tname\tscore\tstrand\ta.plus\ta.minus\tb.plus\tb.minus"
    df = pd.read_csv(path, sep="\t", comment="#", header=None)
    assert df.shape == (2, 10)
    assert df[0].tolist() == ["chr1", "chr2"] and df[3].tolist() == ["r1", "r2"]
    expect = v.max("pos", skipna=True).transpose("region", "condition", "strand").values
    np.testing.assert_allclose(df.iloc[:, 6:].to_numpy(float), expect.reshape(2, 4))
    np.testing.assert_allclose(df[4].to_numpy(float), expect.reshape(2, 4)[:, 0])

    summed = to_bed(v, tmp_path / "s.bed", strands="sum")
    assert summed.read_text().splitlines()[0].endswith("strand\ta\tb")
    bare = to_bed(v, tmp_path / "b.bed", scores=False)
    assert bare.read_text().splitlines()[1] == "chr1\t20\t30\tr1\t0\t+"


def test_to_bed_per_region_values(tmp_path):
    roi = pd.DataFrame({"chrom": ["chr1", "chr1"], "start": [0, 10], "end": [10, 20]})
    like = model.region_view(np.zeros((2, 10)), roi, resolution=1)
    pred = from_array(np.array([[0.5, 2.0], [1.25, np.nan]]), like=like, conditions=["p", "q"])
    path = to_bed(pred, tmp_path / "p.bed")
    assert path.read_text().splitlines()[1:] == [
        "chr1\t0\t10\t.\t0.5\t.\t0.5\t2",
        "chr1\t10\t20\t.\t1.25\t.\t1.25\t.",
    ]


# -- bad input, atomicity, overwrite ------------------------------------------------------
def test_chrom_sizes_unknown(tmp_path):
    roi = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [4]})
    v = model.region_view(np.ones((1, 4)), roi, resolution=1)
    with pytest.raises(InputError, match="chromosome sizes unknown; pass chrom_sizes="):
        to_bigwig(v, tmp_path)
    with pytest.raises(ChromosomeError, match="chr1"):
        to_bigwig(v, tmp_path, chrom_sizes={"chr2": 10})
    _, t = _track()
    with pytest.raises(ChromosomeError, match="chr2"):
        to_bedgraph(t, tmp_path, chrom_sizes={"chr1": 37})
    assert list(tmp_path.iterdir()) == []


def test_overwrite_rules(tmp_path):
    _, t = _track()
    t = t.isel(condition=[0], strand=[0])
    (path,) = to_bigwig(t, tmp_path / "x.bw")
    with pytest.raises(FileExistsError):
        to_bigwig(t, tmp_path / "x.bw")
    to_bigwig(t * 2, tmp_path / "x.bw", overwrite=True)
    assert _read_bw(path, "chr1", 37)[-1] in (0.0, 2.0, 4.0)
    bed = to_bed(
        genomarray.view(t, pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [5]})),
        tmp_path / "r.bed",
    )
    with pytest.raises(FileExistsError):
        to_bed(genomarray.view(t, pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [5]})), bed)
    with pytest.raises(InputError, match="4 outputs"):
        to_bigwig(_track()[1], tmp_path / "many.bw")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.bed", "x.bw"]


def test_atomic_failure_leaves_nothing(tmp_path, monkeypatch):
    import genomarray.export.tracks as ex

    _, t = _track()
    calls = {"n": 0}
    real = ex._runs

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 3:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(ex, "_runs", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        to_bigwig(t, tmp_path / "out")
    with pytest.raises(RuntimeError, match="disk full"):
        to_bedgraph(t, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_roi_only_track_writes_stored_regions_only(tmp_path):
    t = model.coverage_track(
        np.ones((1, 10, 1, 1), np.float32),
        ["c"],
        [20],
        ["."],
        ["x"],
        resolution=2,
        stored_roi={"c": [[3, 7], [15, 20]]},
    )
    (path,) = to_bigwig(t, tmp_path / "r.bw")
    assert pyBigWig.open(str(path)).intervals("c") == ((2, 8, 1.0), (14, 20, 1.0))


def test_minus_strand_view_exports_in_genome_orientation(tmp_path):
    """A strand-aware view with minus-strand regions is written back in genome order."""
    values = np.arange(2 * 30, dtype=np.float32).reshape(1, 30, 2, 1)
    track = model.coverage_track(values, ["c"], [30], ["+", "-"], ["x"])
    roi = pd.DataFrame(
        {
            "chrom": ["c", "c"],
            "start": [2, 16],
            "end": [12, 26],
            "name": ["p", "m"],
            "score": 0.0,
            "strand": ["+", "-"],
        }
    )
    v = genomarray.view(track, roi)
    paths = to_bigwig(v, tmp_path, prefix="v")
    plus = pyBigWig.open(str(next(p for p in paths if p.name.endswith(".plus.bw"))))
    np.testing.assert_array_equal(plus.values("c", 2, 12, numpy=True), values[0, 2:12, 0, 0])
    np.testing.assert_array_equal(plus.values("c", 16, 26, numpy=True), values[0, 16:26, 0, 0])
    assert np.isnan(plus.values("c", 12, 16, numpy=True)).all()


def test_killed_export_leftovers_are_swept(tmp_path):
    """A temporary file of an export killed mid-write (lock free) is removed by the next
    export to the same target; one still being written (lock held) is kept."""
    from genomarray.atomic import hold_lock

    target = tmp_path / "x.bed"
    dead = tmp_path / ".x.bed.partial-0123abcd"
    dead.write_text("half a file")
    alive = tmp_path / ".x.bed.partial-89abcdef"
    fd = hold_lock(alive)
    try:
        roi = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [4]})
        view = model.region_view(np.ones((1, 4), np.float32), roi, resolution=1)
        to_bed(view, target)
        assert target.exists() and not dead.exists() and alive.exists()
    finally:
        os.close(fd)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".x.bed.partial-89abcdef", "x.bed"]


def test_an_output_that_appears_meanwhile_is_not_replaced(tmp_path, monkeypatch):
    """overwrite=False: a file created at the target while the export ran is kept."""
    import genomarray.atomic as export

    target = tmp_path / "x.bed"
    real = export.AtomicFiles.commit

    def racing(self):
        target.write_text("someone else's\n")
        real(self)

    monkeypatch.setattr(export.AtomicFiles, "commit", racing)
    roi = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [4]})
    view = model.region_view(np.ones((1, 4), np.float32), roi, resolution=1)
    with pytest.raises(FileExistsError, match="appeared while"):
        to_bed(view, target)
    assert target.read_text() == "someone else's\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.bed"]
