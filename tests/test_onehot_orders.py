"""One-hot of any order by index arithmetic, against a naive loop (issue 13 item 8).

Orders 9 and above used to allocate a ``4**k x 4**k`` identity table (MemoryError) and
order 8 took over a minute for one 20 bp window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import genomarray as ga
from genomarray import encode


def naive_onehot(codes: np.ndarray, order: int, size: int, dtype) -> np.ndarray:
    """A plain loop: each k-mer's index as a base-``size`` number, first letter most
    significant; a k-mer holding an unknown code gets a zero row."""
    codes = np.asarray(codes)
    lead, n = codes.shape[:-1], codes.shape[-1]
    n_out = max(n - order + 1, 0)
    out = np.zeros((*lead, n_out, size**order), dtype=dtype)
    for where in np.ndindex(*lead):
        row = [int(c) for c in codes[where]]
        for p in range(n_out):
            kmer = row[p : p + order]
            if all(c < size for c in kmer):
                index = 0
                for c in kmer:
                    index = index * size + c
                out[(*where, p, index)] = 1
    return out


@pytest.mark.parametrize("order", range(1, 11))
@pytest.mark.parametrize("dtype", ["float32", "uint8"])
def test_dna_orders_against_naive_loop(order, dtype):
    rng = np.random.default_rng(order)
    n = 16 if order <= 6 else order + 3  # order 10: 4 windows x 4 positions x 4**10
    codes = rng.integers(0, 4, (2, 2, n)).astype(np.uint8)  # extra leading dims too
    codes[0, 1, 2] = 4  # an N
    codes[1, 0, rng.integers(0, n)] = 9  # anything above the alphabet is unknown too
    got = encode.onehot(codes, order=order, dtype=dtype)
    want = naive_onehot(np.minimum(codes, 4), order, 4, dtype)
    assert got.dtype == np.dtype(dtype) and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    # every known k-mer is exactly one channel; a k-mer with an N is all zero
    assert set(np.unique(got.sum(-1)).tolist()) <= {0, 1}


@pytest.mark.parametrize("order", [1, 2, 3])
def test_protein_orders_against_naive_loop(order):
    rng = np.random.default_rng(order)
    codes = rng.integers(0, 21, (3, 12)).astype(np.uint8)  # 20 = unknown amino acid
    got = encode.onehot(codes, order=order, alphabet="protein", dtype="uint8")
    np.testing.assert_array_equal(got, naive_onehot(codes, order, 20, np.uint8))


@pytest.mark.parametrize("order", [1, 3, 5, 8])
def test_channels_match_kmer_labels(order):
    seq = "ACGTTGCAAGCTNACG"
    x = encode.onehot(encode.encode(seq), order=order, dtype="uint8")
    labels = encode.kmer_labels(order)
    for p in range(len(seq) - order + 1):
        kmer = seq[p : p + order]
        if "N" in kmer:
            assert x[p].sum() == 0
        else:
            assert x[p].sum() == 1 and labels[int(x[p].argmax())] == kmer


def test_short_and_empty_windows():
    assert encode.onehot(encode.encode("ACG"), order=9).shape == (0, 4**9)
    assert encode.onehot(np.zeros((2, 0), np.uint8), order=6).shape == (2, 0, 4**6)


def test_order_9_of_a_20bp_window_through_a_view():
    """The issue's case: a 20 bp window at order 9 (262,144 channels) computes, equal to
    the naive loop on its codes."""
    dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    view = dna.janggu.view(pd.DataFrame({"chrom": ["chr1"], "start": [1000], "end": [1020]}))
    for dtype in ("float32", "uint8"):
        x = ga.onehot(view, order=9, dtype=dtype)
        assert x.sizes == {"region": 1, "pos": 12, "base": 4**9}
        values = x.values
        assert values.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(values, naive_onehot(view.values, 9, 4, dtype))
        assert x["base"].values[0] == "A" * 9 and x["base"].values[-1] == "T" * 9


def test_revcomp_of_a_high_order():
    codes = encode.encode("ACGGTACCATTGA")
    x = encode.onehot(codes, order=6)
    np.testing.assert_array_equal(
        encode.revcomp_onehot(x, order=6), encode.onehot(encode.revcomp_codes(codes), order=6)
    )
