"""Coverage tracks end to end: storage modes, cache, ROI-only storage, views, bad input."""

import os
import shutil
import subprocess
import warnings

import numpy as np
import pysam
import pytest

import genomarray as ga
from genomarray import model
from genomarray.errors import ChromosomeError, InputError

BAM = ga.example_path("sample.bam")
FASTA = ga.example_path("genome.fa")


def samtools_depth(path, *args):
    """Per-base depth {chrom: array} from `samtools depth -a` (independent tool)."""
    out = subprocess.run(
        ["samtools", "depth", "-a", *args, path], check=True, capture_output=True, text=True
    ).stdout
    depth = {}
    for line in out.splitlines():
        chrom, pos, d = line.split("\t")
        depth.setdefault(chrom, []).append(int(d))
    return {c: np.array(v) for c, v in depth.items()}


def test_bam_coverage_track_equals_samtools_depth():
    cov = ga.read_bam(BAM, mode="coverage", stranded=False, progress=False)
    assert cov.dims == ("chrom", "pos", "strand", "condition")
    assert list(cov.condition.values) == ["sample"] and list(cov.strand.values) == ["."]
    ref = samtools_depth(BAM, "-G", "SUPPLEMENTARY")
    for i, chrom in enumerate(cov.chrom.values):
        n = int(cov.chrom_length[i])
        np.testing.assert_array_equal(cov.values[i, :n, 0, 0], ref[chrom])
        assert (cov.values[i, n:] == 0).all()


def test_storage_modes_agree(tmp_path):
    kwargs = {"mode": "5prime", "progress": False}
    z = ga.read_bam(BAM, **kwargs)
    lazy = ga.read_bam(BAM, storage="lazy", **kwargs)
    mem = ga.read_bam(BAM, storage="memory", **kwargs)
    sp = ga.read_bam(BAM, storage="sparse", **kwargs)
    assert isinstance(mem.data, np.ndarray) and z.chunks is not None
    assert "store" in z.encoding
    np.testing.assert_array_equal(z.values, lazy.values)
    np.testing.assert_array_equal(z.values, mem.values)
    np.testing.assert_array_equal(sp.data.compute().todense(), mem.values)
    assert int(mem.sum()) > 10_000


def test_round_trip_and_cache_hit_miss(tmp_path):
    bam = tmp_path / "s.bam"
    shutil.copy(BAM, bam)
    shutil.copy(BAM + ".bai", str(bam) + ".bai")
    a = ga.read_bam(bam, progress=False)
    b = ga.read_bam(bam, progress=False)
    assert a.encoding["store"] == b.encoding["store"]  # hit
    c = ga.read_bam(bam, min_mapq=30, progress=False)
    assert c.encoding["store"] != a.encoding["store"]  # parameter change: miss
    reopened = ga.open_zarr(a.encoding["store"])
    np.testing.assert_array_equal(reopened.values, a.values)
    assert reopened.attrs["resolution"] == 1 and reopened.attrs["reader"] == "bam"
    # content change: keep only chr1 reads
    pysam.view("-b", "-o", str(tmp_path / "chr1.bam"), str(bam), "chr1", catch_stdout=False)
    os.replace(tmp_path / "chr1.bam", bam)
    pysam.index(str(bam))
    d = ga.read_bam(bam, progress=False)
    assert d.encoding["store"] != a.encoding["store"]
    assert int(d.sel(chrom="chr2").sum()) == 0 and int(a.sel(chrom="chr2").sum()) > 0


def test_store_whole_genome_false_keeps_only_roi(tmp_path):
    roi = ga.tile(ga.read_regions(ga.example_path("roi.bed")), binsize=200, flank=50)
    full = ga.read_bam(BAM, storage="memory", progress=False)
    part = ga.read_bam(BAM, roi=roi, store_whole_genome=False, progress=False)
    np.testing.assert_array_equal(part.janggu.view(roi).values, full.janggu.view(roi).values)
    assert int(part.sum()) < int(full.sum())
    inside = np.zeros(full.shape[:2], bool)
    chroms = list(full.chrom.values)
    for row in roi.itertuples():
        inside[chroms.index(row.chrom), max(row.start - 50, 0) : row.end + 50] = True
    assert (part.values[~inside] == 0).all()
    np.testing.assert_array_equal(part.values[inside], full.values[inside])
    with pytest.raises(InputError, match="pass roi="):
        ga.read_bam(BAM, store_whole_genome=False, progress=False)


def test_resolution_sums_bins():
    base = ga.read_bam(BAM, storage="memory", progress=False)
    binned = ga.read_bam(BAM, resolution=50, storage="memory", progress=False)
    assert binned.attrs["resolution"] == 50
    n = base.sizes["pos"]
    padded = np.zeros((base.shape[0], -(-n // 50) * 50, *base.shape[2:]), base.dtype)
    padded[:, :n] = base.values
    expected = padded.reshape(base.shape[0], -1, 50, *base.shape[2:]).sum(axis=2)
    np.testing.assert_array_equal(binned.values, expected)


def test_view_of_coverage_reverses_minus_strand():
    cov = ga.read_bam(BAM, storage="memory", progress=False)
    roi = ga.tile(ga.read_regions(ga.example_path("roi.bed")), binsize=2000)
    v = cov.janggu.view(roi)
    assert v.dims == ("region", "pos", "strand", "condition")
    chroms = list(cov.chrom.values)
    for i, row in enumerate(roi.itertuples()):
        window = cov.values[chroms.index(row.chrom), row.start : row.end]
        if row.strand == "-":
            window = window[::-1, ::-1]
        np.testing.assert_array_equal(v.values[i], window)


def test_two_conditions_and_names(tmp_path):
    other = tmp_path / "rep2.bam"
    shutil.copy(BAM, other)
    shutil.copy(BAM + ".bai", str(other) + ".bai")
    t = ga.read_bam([BAM, other], storage="memory", progress=False)
    assert list(t.condition.values) == ["sample", "rep2"]
    np.testing.assert_array_equal(t.values[..., 0], t.values[..., 1])
    t2 = ga.read_bam([BAM, other], conditions=["a", "b"], storage="lazy")
    assert list(t2.condition.values) == ["a", "b"]
    with pytest.raises(InputError, match="2 files"):
        ga.read_bam([BAM, other], conditions=["a"])


@pytest.mark.filterwarnings("ignore:.*no mapped reads")
def test_chromosome_naming_mismatch_between_bams(tmp_path):
    renamed = tmp_path / "nochr.bam"
    header = pysam.AlignmentFile(BAM).header.to_dict()
    for sq in header["SQ"]:
        sq["SN"] = sq["SN"].removeprefix("chr")
    with pysam.AlignmentFile(str(renamed), "wb", header=header):
        pass
    pysam.index(str(renamed))
    with pytest.raises(ChromosomeError, match=r"'chr1'.*'1'"):
        ga.read_bam([BAM, renamed])


def test_empty_bam_warns_and_gives_zeros(tmp_path):
    empty = tmp_path / "empty.bam"
    header = pysam.AlignmentFile(BAM).header
    with pysam.AlignmentFile(str(empty), "wb", header=header):
        pass
    pysam.index(str(empty))
    with pytest.warns(UserWarning, match="no mapped reads"):
        t = ga.read_bam(empty, storage="memory", progress=False)
    assert int(t.sum()) == 0


def test_bigwig_track_equals_pybigwig():
    import pyBigWig

    sig = ga.read_bigwig(ga.example_path("sample.bw"), storage="memory", progress=False)
    bw = pyBigWig.open(ga.example_path("sample.bw"))
    for i, chrom in enumerate(sig.chrom.values):
        n = int(sig.chrom_length[i])
        ref = np.nan_to_num(bw.values(chrom, 0, n, numpy=True))
        np.testing.assert_allclose(sig.values[i, :n, 0, 0], ref)


def test_bed_binary_and_views():
    peaks = ga.read_bed(
        ga.example_path("peaks.narrowPeak"), like=FASTA, storage="memory", progress=False
    )
    regions = ga.read_regions(ga.example_path("peaks.narrowPeak"))
    chroms = list(peaks.chrom.values)
    expected = np.zeros(peaks.shape[:2], np.float32)
    for row in regions.itertuples():
        expected[chroms.index(row.chrom), row.start : row.end] = 1
    np.testing.assert_array_equal(peaks.values[:, :, 0, 0], expected)
    with pytest.raises(InputError, match="chromosome sizes unknown"):
        ga.read_bed(ga.example_path("peaks.narrowPeak"))


def test_bed_categories_and_gff():
    genes = ga.read_gff(
        ga.example_path("genes.gtf"),
        mode="feature_category",
        like=FASTA,
        storage="memory",
        progress=False,
    )
    feats = sorted(set(ga.read_regions(ga.example_path("genes.gtf"))["feature"]))
    assert list(genes.condition.values) == feats
    exons = ga.read_gff(
        ga.example_path("genes.gtf"), feature="exon", like=FASTA, storage="memory", progress=False
    )
    k = feats.index("exon")
    np.testing.assert_array_equal(exons.values[..., 0], genes.values[..., k])


def test_empty_bed_warns(tmp_path):
    empty = tmp_path / "empty.bed"
    empty.write_text("")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = ga.read_bed(empty, like=FASTA, storage="memory", progress=False)
    assert any("empty.bed" in str(w.message) for w in caught)
    assert int(t.sum()) == 0


def test_progress_bar_is_silenceable(tmp_path, capsys):
    ga.read_bam(BAM, store_path=tmp_path / "a.zarr", progress=False)
    assert "genomarray: writing" not in capsys.readouterr().out
    ga.read_bam(BAM, store_path=tmp_path / "b.zarr", progress=True, min_mapq=1)
    assert "genomarray: writing" in capsys.readouterr().out


def test_track_kind_and_validation():
    t = ga.read_bam(BAM, storage="lazy")
    assert model.validate(t) == model.COVERAGE_TRACK
    assert t.attrs["source"].startswith("genomarray-")


def test_memory_storage_touches_no_disk(isolated_output):
    ga.read_bam(BAM, storage="memory", progress=False)
    ga.read_bed(ga.example_path("peaks.narrowPeak"), like=FASTA, storage="sparse", progress=False)
    assert not (isolated_output / "cache").exists() or not any(
        (isolated_output / "cache").iterdir()
    )
    kept = ga.read_bam(BAM, storage="memory", cache=True, progress=False)
    assert isinstance(kept.data, np.ndarray)
    assert len(list((isolated_output / "cache").iterdir())) == 1


def test_roi_only_track_refuses_windows_outside_what_it_kept():
    roi = ga.tile(ga.read_regions(ga.example_path("roi.bed")), binsize=200, flank=50)
    part = ga.read_bam(BAM, roi=roi, store_whole_genome=False, progress=False)
    assert part.janggu.view(roi).sizes["region"] == len(roi)  # what it kept: fine
    with pytest.raises(InputError, match="store_whole_genome=False.*300 bp flank"):
        part.janggu.view(roi, flank=300)
    reopened = ga.open_zarr(part.encoding["store"])  # the kept extent survives the store
    with pytest.raises(InputError, match="reaches outside"):
        reopened.janggu.view(ga.read_regions(ga.example_path("peaks.narrowPeak")))


def test_cache_false_rebuilds_in_place(tmp_path):
    a = ga.read_bam(BAM, store_path=tmp_path / "s.zarr", progress=False)
    before = os.stat(tmp_path / "s.zarr").st_ino
    b = ga.read_bam(BAM, store_path=tmp_path / "s.zarr", cache=False, progress=False)
    assert os.stat(tmp_path / "s.zarr").st_ino != before  # a new store swapped in
    np.testing.assert_array_equal(a.values, b.values)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.zarr"]
