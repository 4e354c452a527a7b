"""Data model: dims declared once, constructors stamp provenance, validators explain."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import genomarray as ga
from genomarray import model


def test_dimension_names_are_declared_once():
    assert (ga.CHROM, ga.POS, ga.STRAND, ga.CONDITION, ga.REGION, ga.BASE) == (
        "chrom",
        "pos",
        "strand",
        "condition",
        "region",
        "base",
    )


def test_constructors_stamp_source_and_kind():
    g = model.sequence_genome(np.zeros((1, 5), np.uint8), ["c"], [5])
    t = model.coverage_track(
        np.zeros((1, 5, 2, 1), np.float32), ["c"], [5], ["+", "-"], ["x"], resolution=1
    )
    for arr, kind in ((g, model.SEQUENCE_GENOME), (t, model.COVERAGE_TRACK)):
        assert arr.attrs["source"] == f"genomarray-{ga.__version__}"
        assert arr.janggu.kind == kind and arr.janggu.validate() == kind
    assert t.janggu.chrom_sizes() == {"c": 5}
    assert model.fill_value(g) == 4 and model.fill_value(t) == 0


def test_validators_explain():
    with pytest.raises(ValueError, match="must have dims"):
        model.validate(
            xr.DataArray(
                np.zeros((1, 2)), dims=("pos", "chrom"), attrs={model.KIND: model.SEQUENCE_GENOME}
            )
        )
    with pytest.raises(ValueError, match="needs the coordinate 'chrom_length'"):
        model.validate(
            xr.DataArray(np.zeros((1, 2)), dims=("chrom", "pos"), coords={"chrom": ["c"]})
        )
    with pytest.raises(ValueError, match="per-region coordinates"):
        model.validate(xr.DataArray(np.zeros((1, 2)), dims=("region", "pos")))
    with pytest.raises(TypeError, match="DataArray"):
        model.validate(np.zeros(3))
    with pytest.raises(ValueError, match="duplicate chromosome"):
        model.sequence_genome(np.zeros((2, 5), np.uint8), ["c", "c"], [5, 5])
    with pytest.raises(ValueError, match="expected a coverage_track"):
        model.validate(
            model.sequence_genome(np.zeros((1, 5), np.uint8), ["c"], [5]), model.COVERAGE_TRACK
        )


def test_region_view_coordinates_and_regions_roundtrip():
    roi = pd.DataFrame(
        {
            "chrom": ["a", "b"],
            "start": [0, 5],
            "end": [4, 9],
            "name": ["x", "y"],
            "strand": ["+", "-"],
        }
    )
    v = model.region_view(np.zeros((2, 4), np.uint8), roi)
    assert v.dims == ("region", "pos")
    assert v["region_strand"].values.tolist() == ["+", "-"]
    back = v.janggu.regions()
    pd.testing.assert_frame_equal(
        back[["chrom", "start", "end", "name", "strand"]],
        roi[["chrom", "start", "end", "name", "strand"]],
        check_dtype=False,
    )


def test_dataset_accessor_views_every_genome_variable():
    dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    roi = ga.tile(ga.read_regions(ga.example_path("roi.bed")), binsize=100)
    ds = xr.Dataset({"dna": dna}).janggu.view(roi)
    assert ds["dna"].dims == ("region", "pos")
    oh = ds.janggu.onehot(order=2, dtype="uint8")
    assert oh["dna"].dims == ("region", "pos", "base") and oh["dna"].dtype == np.uint8
    with pytest.raises(ValueError, match="no variable"):
        xr.Dataset({"x": xr.DataArray(np.zeros(2), dims="q")}).janggu.view(roi)
