"""Variant effect prediction with a fixed-weight motif detector of known effects."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

keras = pytest.importorskip("keras")

import genomarray as ga  # noqa: E402
from genomarray import encode, model  # noqa: E402
from genomarray.keras.variants import (  # noqa: E402
    REF_MISMATCH,
    SKIPPED,
    VARIANT,
    variant_effects,
    write_variant_effects,
)

MOTIFS = ("TGACTCA", "TGAGTCA")  # AP-1 and its reverse complement
BINSIZE = 101


def motif_model(order: int = 1):
    """Conv1D with one exact-match filter per motif orientation + global max pool: output
    ``(n, 2)`` is 1 where the window holds TGACTCA (column 0) / TGAGTCA (column 1)."""
    width = len(MOTIFS[0]) - order + 1
    kernel = np.stack([encode.onehot(encode.encode(m), order) for m in MOTIFS], axis=-1)
    inp = keras.Input((BINSIZE - order + 1, 4**order))
    conv = keras.layers.Conv1D(2, width, activation="relu")
    out = keras.layers.GlobalMaxPooling1D()(conv(inp))
    m = keras.Model(inp, out)
    conv.set_weights([kernel, np.full(2, 1.0 - width, np.float32)])
    return m


@pytest.fixture(scope="module")
def genome():
    return ga.read_fasta(ga.example_path("genome.fa"), cache=False).compute()


@pytest.fixture(scope="module")
def peaks():
    return ga.read_regions(ga.example_path("peaks.narrowPeak"))


def _base(genome, chrom: str, pos0: int) -> str:
    return encode.decode(genome.sel(chrom=chrom).values[pos0 : pos0 + 1])


def _other(base: str) -> str:
    return "A" if base != "A" else "T"


def _write_vcf(path, rows) -> str:
    lines = ["##fileformat=VCFv4.2", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    lines += [f"{c}\t{p0 + 1}\t{i}\t{r}\t{a}\t50\tPASS\t." for c, p0, i, r, a in rows]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def case(genome, peaks, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("variants")
    summits = [(str(p.chrom), int(p.start) + 100) for p in peaks.itertuples()][:3]
    (c0, s0), (c1, s1), (c2, s2) = summits
    near = s0 + 30
    rows = [
        (c0, s0, "motif", _base(genome, c0, s0), _other(_base(genome, c0, s0))),
        (c0, near, "neutral", _base(genome, c0, near), _other(_base(genome, c0, near))),
        (c1, s1 + 10, "mismatch", _other(_base(genome, c1, s1 + 10)), "G"),
        (c1, s1 + 20, "indel", _base(genome, c1, s1 + 20) + "A", _base(genome, c1, s1 + 20)),
        (c2, s2, "minus", _base(genome, c2, s2), _other(_base(genome, c2, s2))),
    ]
    vcf = _write_vcf(tmp / "test.vcf", rows)
    ann = pd.DataFrame(
        {
            "chrom": [c2, c0],
            "start": [s2 - 50, 0],
            "end": [s2 + 50, 10],
            "name": ["gene_minus", "gene_plus"],
            "strand": ["-", "+"],
        }
    )
    motifs = {
        name: genome.sel(chrom=c).values[s - 3 : s + 4]
        for c, s, name in [(c0, s0, "motif"), (c2, s2, "minus")]
    }
    return vcf, ann, rows, motifs


@pytest.mark.backends
@pytest.mark.parametrize("order", [1, 2])
def test_known_effects(genome, case, order):
    vcf, ann, rows, motifs = case
    m = motif_model(order)
    with pytest.warns(UserWarning) as record:
        ve = variant_effects(
            m,
            genome,
            vcf,
            binsize=BINSIZE,
            order=order,
            annotation=ann,
            conditions=["fwd", "rev"],
            batch_size=8,
        )
    messages = " | ".join(str(w.message) for w in record)
    assert "not SNVs" in messages and "indel" in messages
    assert "differs from the genome" in messages and "mismatch" in messages
    assert list(ve[model.CONDITION].values) == ["fwd", "rev"]
    assert list(ve["id"].values) == ["motif", "neutral", "minus"]
    assert ve["diff"].dims == (VARIANT, model.CONDITION)
    assert len(ve.attrs[REF_MISMATCH]) == 1 and "mismatch" in ve.attrs[REF_MISMATCH][0]
    assert len(ve.attrs[SKIPPED]) == 1 and "indel" in ve.attrs[SKIPPED][0]

    col = MOTIFS.index(encode.decode(motifs["motif"]))
    d = ve["diff"].sel(variant=0).values
    assert d[col] == pytest.approx(-1.0) and d[1 - col] == pytest.approx(0.0)
    assert ve["ref"].sel(variant=0).values[col] == pytest.approx(1.0)
    np.testing.assert_allclose(ve["diff"].sel(variant=1).values, 0.0, atol=1e-6)
    assert ve["ref"].sel(variant=1).values[col] == pytest.approx(1.0)
    assert ve["logratio"].sel(variant=0).values[col] < -10
    np.testing.assert_allclose(ve["diff"].values, ve["alt"].values - ve["ref"].values)
    np.testing.assert_array_equal(ve["vcf_pos"].values, ve["start"].values + 1)


@pytest.mark.backends
def test_minus_strand_scores_reverse_complement(genome, case):
    vcf, ann, rows, motifs = case
    m = motif_model(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ve = variant_effects(m, genome, vcf, binsize=BINSIZE, annotation=ann)
        plain = variant_effects(m, genome, vcf, binsize=BINSIZE)
    i = list(ve["id"].values).index("minus")
    assert ve[model.REGION_STRAND].values[i] == "-"
    assert list(ve[model.REGION_STRAND].values).count("-") == 1
    chrom, pos0, _, _, alt = rows[4]
    window = genome.sel(chrom=chrom).values[pos0 - BINSIZE // 2 : pos0 - BINSIZE // 2 + BINSIZE]
    patched = window.copy()
    patched[BINSIZE // 2] = encode.encode(alt)[0]
    x = encode.onehot(encode.revcomp_codes(np.stack([window, patched])), 1)
    ref, alt_pred = np.asarray(m.predict(x, verbose=0))
    np.testing.assert_allclose(ve["ref"].values[i], ref)
    np.testing.assert_allclose(ve["alt"].values[i], alt_pred)
    # on the reverse complement the motif reads in the other orientation
    np.testing.assert_allclose(ve["ref"].values[i], plain["ref"].values[i][::-1])
    assert ve["diff"].values[i].min() == pytest.approx(-1.0)


def test_example_vcf_motif_flags(genome):
    m = motif_model(1)
    with pytest.warns(UserWarning, match="not SNVs"):
        ve = variant_effects(m, genome, ga.example_path("variants.vcf"), binsize=BINSIZE)
    assert ve.attrs[REF_MISMATCH] == []
    assert len(ve.attrs[SKIPPED]) == 2  # var_12 (deletion), var_19 (insertion)
    flagged = {"var_2", "var_11", "var_13", "var_16"}
    total = ve["diff"].sum(model.CONDITION).to_series().set_axis(ve["id"].values)
    assert (total[list(flagged)] < 0).all()


def test_zarr_round_trip(genome, case, tmp_path):
    vcf, ann, _, _ = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ve = variant_effects(
            motif_model(1), genome, vcf, binsize=BINSIZE, annotation=ann, conditions=["fwd", "rev"]
        )
    store, table = write_variant_effects(ve, tmp_path / "ve.zarr")
    back = xr.open_zarr(store, consolidated=False).load()
    xr.testing.assert_allclose(back, ve)
    assert back.attrs[REF_MISMATCH] == ve.attrs[REF_MISMATCH]
    tsv = pd.read_csv(table, sep="\t")
    assert tsv.columns[:3].tolist() == ["chrom", "start", "end"]
    assert tsv["id"].tolist() == ["motif", "neutral", "minus"]
    np.testing.assert_allclose(tsv["diff_fwd"], ve["diff"].sel(condition="fwd").values, rtol=1e-5)
    with pytest.raises(FileExistsError):
        write_variant_effects(ve, store)
    write_variant_effects(ve, store, overwrite=True)


def test_bad_inputs(genome):
    with pytest.raises(ValueError, match="binsize"):
        variant_effects(motif_model(1), genome, ga.example_path("variants.vcf"), binsize=0)


@pytest.mark.backends
def test_binsize_must_fit_the_model(genome):
    """A binsize (or order) the model was not built for is a clear error naming both
    lengths, before anything is predicted, also after a good call (issue 13 item 10)."""
    from genomarray.errors import InputError

    vcf = ga.example_path("variants.vcf")
    m = motif_model(1)
    with pytest.warns(UserWarning, match="not SNVs"):
        good = variant_effects(m, genome, vcf, binsize=BINSIZE)
    assert good.sizes[VARIANT] > 0
    for binsize in (51, BINSIZE + 1, BINSIZE):  # after a good call too
        if binsize == BINSIZE:
            with pytest.raises(InputError, match="order=2 gives one-hot windows of 16 channels"):
                variant_effects(m, genome, vcf, binsize=binsize, order=2)
            continue
        with pytest.raises(InputError) as err:
            variant_effects(m, genome, vcf, binsize=binsize)
        text = str(err.value)
        assert f"binsize={binsize} gives windows of length {binsize}" in text
        assert f"input has length {BINSIZE}" in text and f"use binsize={BINSIZE}" in text
    # order 2: the model takes 100 positions, binsize 101 fits, 100 does not
    m2 = motif_model(2)
    with pytest.raises(InputError, match=f"length {BINSIZE - 2} at order=2.*length {BINSIZE - 1}"):
        variant_effects(m2, genome, vcf, binsize=BINSIZE - 1, order=2)
    # a model of any length takes any binsize
    inp = keras.Input((None, 4))
    free = keras.Model(inp, keras.layers.GlobalMaxPooling1D()(keras.layers.Conv1D(2, 7)(inp)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for binsize in (41, 101):
            ve = variant_effects(free, genome, vcf, binsize=binsize)
            assert ve.attrs["binsize"] == binsize and np.isfinite(ve["diff"].values).all()
    with pytest.raises(InputError, match="takes 2 inputs"):
        a, b = keras.Input((BINSIZE, 4)), keras.Input((BINSIZE, 4))
        two = keras.Model([a, b], keras.layers.Add()([a, b]))
        variant_effects(two, genome, vcf, binsize=BINSIZE)
