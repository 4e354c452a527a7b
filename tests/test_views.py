"""Region views against naive slicing of the FASTA text, lazy vs eager vs zarr."""

import numpy as np
import pandas as pd
import pytest

import genomarray as ga
from genomarray import encode, model
from genomarray.errors import ChromosomeError

from reference import naive_onehot, naive_revcomp, naive_window


def roi_frame(rows, binsize=None, flank=0):
    df = pd.DataFrame(rows, columns=["chrom", "start", "end", "name", "score", "strand"])
    return ga.tile(df, binsize=binsize, flank=flank)


@pytest.fixture(scope="module")
def dna_lazy():
    return ga.read_fasta(ga.example_path("genome.fa"), cache=False, chunk=4096)


ROWS = [
    ("chr1", 0, 300, "at_start", 0, "+"),
    ("chr1", 39_900, 40_000, "at_end", 0, "+"),
    ("chr2", 4_000, 4_300, "minus", 0, "-"),
    ("chr3", 8_190, 8_490, "spans_chunk", 0, "."),
    ("chr3", 19_950, 20_000, "short_at_end", 0, "-"),
]


@pytest.mark.parametrize("flank", [0, 25, 150])
def test_view_matches_naive_slices(dna_lazy, genome_seqs, flank):
    roi = roi_frame(ROWS, binsize=None, flank=flank)
    v = dna_lazy.janggu.view(roi)
    width = 300 + 2 * flank
    assert v.sizes["pos"] == width
    got = v.values
    for i, row in roi.iterrows():
        minus = row.strand == "-"  # 5' end first: minus windows are anchored at their end
        text = naive_window(
            genome_seqs, row.chrom, row.start - flank, row.end + flank, width, anchor_end=minus
        )
        if minus:
            text = naive_revcomp(text)
        assert encode.decode(got[i]) == text, row["name"]


def test_lazy_eager_and_zarr_views_agree(dna_lazy, tmp_path):
    roi = ga.tile(ga.read_regions(ga.example_path("roi.bed")), binsize=500, stepsize=250, flank=100)
    lazy = dna_lazy.janggu.view(roi)
    assert lazy.chunks is not None
    eager = dna_lazy.compute().janggu.view(roi)
    cached = ga.read_fasta(
        ga.example_path("genome.fa"), store_path=tmp_path / "g.zarr", progress=False
    ).janggu.view(roi)
    np.testing.assert_array_equal(lazy.values, eager.values)
    np.testing.assert_array_equal(lazy.values, cached.values)
    assert list(lazy["name"].values) == list(roi["name"])


def test_view_small_batches_equal_one_batch(dna_lazy):
    roi = ga.tile(ga.read_regions(ga.example_path("roi.bed")), binsize=200)
    a = dna_lazy.janggu.view(roi, batch_bytes=5_000)  # 4 windows of 200 bp + a 4 kb chunk
    b = dna_lazy.janggu.view(roi)
    assert len(a.chunks[0]) > len(b.chunks[0])
    np.testing.assert_array_equal(a.values, b.values)


def test_strand_unaware_view_keeps_forward(dna_lazy, genome_seqs):
    roi = roi_frame([("chr2", 100, 160, "r", 0, "-")])
    v = dna_lazy.janggu.view(roi, strand_aware=False)
    assert encode.decode(v.values[0]) == genome_seqs["chr2"][100:160]


@pytest.mark.parametrize("order", [1, 2, 3])
def test_onehot_view_matches_naive(dna_lazy, genome_seqs, order):
    roi = roi_frame(ROWS[:3], binsize=None, flank=10)
    x = dna_lazy.janggu.view(roi).janggu.onehot(order=order)
    assert x.dims == (model.REGION, model.POS, model.BASE)
    assert x.sizes["pos"] == 320 - order + 1
    assert list(x["base"].values) == encode.kmer_labels(order)
    assert x.attrs["order"] == order
    for i, row in roi.iterrows():
        text = naive_window(
            genome_seqs, row.chrom, row.start - 10, row.end + 10, 320, anchor_end=row.strand == "-"
        )
        if row.strand == "-":
            text = naive_revcomp(text)
        np.testing.assert_array_equal(x.values[i], naive_onehot(text, order))


def test_coverage_view_reverses_and_swaps_strands():
    values = np.arange(2 * 10 * 2 * 1, dtype=np.float32).reshape(2, 10, 2, 1)
    track = model.coverage_track(values, ["a", "b"], [10, 8], ["+", "-"], ["c1"])
    roi = roi_frame([("b", 2, 6, "x", 0, "-"), ("b", 6, 9, "y", 0, "+")], binsize=4)
    v = track.janggu.view(roi)
    assert v.dims == ("region", "pos", "strand", "condition")
    np.testing.assert_array_equal(v.values[0, :, 0, 0], values[1, 2:6, 1, 0][::-1])
    np.testing.assert_array_equal(v.values[0, :, 1, 0], values[1, 2:6, 0, 0][::-1])
    # second region runs past the end of b (length 8): padded with 0, not shifted
    np.testing.assert_array_equal(
        v.values[1, :, 0, 0], [values[1, 6, 0, 0], values[1, 7, 0, 0], 0, 0]
    )
    lazy = track.chunk({"pos": 3}).janggu.view(roi)
    np.testing.assert_array_equal(lazy.values, v.values)


def test_unknown_chromosome_names_both_spellings(dna_lazy):
    roi = roi_frame([("1", 0, 100, "x", 0, "+")])
    with pytest.raises(ChromosomeError) as err:
        dna_lazy.janggu.view(roi)
    assert "'1'" in str(err.value) and "chr1" in str(err.value)


def test_view_of_onehot_is_rejected(dna_lazy):
    roi = roi_frame([("chr1", 0, 100, "x", 0, "+")])
    x = dna_lazy.janggu.view(roi)
    with pytest.raises(ValueError, match="sequence_genome or coverage_track"):
        x.janggu.view(roi)


def test_short_minus_tile_keeps_its_5prime_end_first(tmp_path):
    """As Janggu: ACGTACGTAC, tile [0, 6) by 4 -> '+' 'ACGT', 'AC' + NN; '-' 5' end first."""
    fa = tmp_path / "g.fa"
    fa.write_text(">c\nACGTACGTAC\n")
    dna = ga.read_fasta(fa, cache=False)
    plus = ga.tile(roi_frame([("c", 0, 6, "r", 0, "+")]), binsize=4)
    minus = ga.tile(roi_frame([("c", 0, 6, "r", 0, "-")]), binsize=4)
    assert [encode.decode(w) for w in dna.janggu.view(plus).values] == ["ACGT", "ACNN"]
    assert [encode.decode(w) for w in dna.janggu.view(minus).values] == ["ACGT", "GTNN"]


def test_binned_track_keeps_the_tail_of_unaligned_regions():
    """A region starting off the 50 bp grid gets every bin it touches (none dropped)."""
    values = np.zeros((1, 8, 1, 1), np.float32)
    values[0, 4, 0, 0] = 7.0  # signal in bp 200-250 only
    track = model.coverage_track(values, ["c"], [400], ["."], ["x"], resolution=50)
    roi = roi_frame([("c", 25, 225, "r", 0, "+"), ("c", 50, 250, "s", 0, "+")], binsize=200)
    v = track.janggu.view(roi)
    assert v.sizes["pos"] == 5  # 200 bp = 4 bins, plus one for the unaligned start
    assert v.values[0, :, 0, 0].tolist() == [0, 0, 0, 0, 7]
    assert v.values[1, :, 0, 0].tolist() == [0, 0, 0, 7, 0]  # aligned: padded at its end
    assert float(v.janggu.collapse(None, how="sum").values[0].sum()) == 7.0


def test_unsorted_regions_keep_their_order(dna_lazy, genome_seqs):
    roi = ga.tile(ga.read_regions(ga.example_path("roi.bed")), binsize=300, flank=20)
    shuffled = roi.sample(frac=1.0, random_state=3).reset_index(drop=True)
    shuffled.attrs = dict(roi.attrs)
    lazy = dna_lazy.janggu.view(shuffled)
    eager = dna_lazy.compute().janggu.view(shuffled)
    np.testing.assert_array_equal(lazy.values, eager.values)
    assert list(lazy["name"].values) == list(shuffled["name"])
    row = shuffled.iloc[0]
    text = naive_window(
        genome_seqs, row.chrom, row.start - 20, row.end + 20, 340, anchor_end=row.strand == "-"
    )
    assert encode.decode(lazy.values[0]) == (naive_revcomp(text) if row.strand == "-" else text)
