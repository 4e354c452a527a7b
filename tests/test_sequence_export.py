"""Sequence views are not signals: to_bigwig, to_bedgraph, to_bed refuse them (issue 13 item 6)."""

from __future__ import annotations

import pytest

import genomarray as ga
from genomarray.errors import InputError


@pytest.fixture(scope="module")
def codes_view():
    dna = ga.read_fasta(ga.example_path("genome.fa"), progress=False)  # zarr-backed
    roi = ga.tile(ga.read_regions(ga.example_path("roi.bed")), binsize=200)
    return dna.janggu.view(roi)


@pytest.mark.parametrize(
    ("fn", "name"), [(ga.to_bigwig, "to_bigwig"), (ga.to_bedgraph, "to_bedgraph")]
)
def test_dna_view_refused_by_signal_writers(tmp_path, codes_view, fn, name):
    with pytest.raises(InputError) as err:
        fn(codes_view, tmp_path)
    message = str(err.value)
    assert message.startswith(f"{name}: this is a view of DNA sequence codes (A,C,G,T,N = 0..4)")
    assert "not a signal" in message and "coverage track or predictions" in message
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_accessor_and_stored_view_refused(tmp_path, codes_view):
    store = tmp_path / "dna.roi.zarr"
    ga.write_zarr(codes_view, store, progress=False)
    reopened = ga.open_zarr(store)
    for arr in (codes_view, reopened):
        with pytest.raises(InputError, match="to_bigwig: this is a view of DNA sequence codes"):
            arr.janggu.to_bigwig(tmp_path / "out.bw")
    assert not (tmp_path / "out.bw").exists()


def test_sequences_and_protein_refused(tmp_path):
    seqs = ga.read_sequences(ga.example_path("seqs.fa"))  # numpy-backed
    with pytest.raises(InputError, match="DNA sequence codes"):
        ga.to_bedgraph(seqs, tmp_path / "x.bedGraph", chrom_sizes={"seq_0": 10})
    prot = ga.read_sequences(ga.example_path("proteins.fa"), fixedlen=60, alphabet="protein")
    with pytest.raises(InputError, match=r"protein sequence codes \(amino acids"):
        ga.to_bigwig(prot, tmp_path, chrom_sizes={"x": 10})
    assert list(tmp_path.iterdir()) == []


def test_to_bed_scores_refused_regions_written(tmp_path, codes_view):
    with pytest.raises(InputError, match="to_bed: this is a view of DNA sequence codes"):
        ga.to_bed(codes_view, tmp_path / "scores.bed")
    with pytest.raises(InputError, match="to_bed: this is a one-hot sequence view"):
        ga.to_bed(ga.onehot(codes_view), tmp_path / "scores.bed")
    assert not (tmp_path / "scores.bed").exists()
    out = ga.to_bed(codes_view, tmp_path / "regions.bed", scores=False)
    lines = out.read_text().splitlines()
    assert lines[0] == "#chrom\tstart\tend\tname\tscore\tstrand"
    assert len(lines) == 1 + codes_view.sizes["region"]


def test_onehot_and_genome_still_refused(tmp_path, codes_view):
    for arr in (ga.onehot(codes_view), ga.read_fasta(ga.example_path("genome.fa"), progress=False)):
        with pytest.raises(ValueError, match="expected a coverage_track or region_view"):
            ga.to_bigwig(arr, tmp_path)


def test_coverage_view_still_written(tmp_path, codes_view):
    pred = ga.from_array(codes_view.values[:, :, None] * 0.0 + 0.5, like=codes_view)
    (path,) = ga.to_bigwig(pred, tmp_path / "pred.bw")
    assert path.exists()
