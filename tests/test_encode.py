"""One-hot of orders 1-3 and reverse complement against naive per-position references."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genomarray import encode

from reference import naive_onehot, naive_revcomp


def random_seq(rng, n, with_n=True):
    alphabet = list("ACGTacgt") + (["N", "n", "R", "-"] if with_n else [])
    return "".join(rng.choice(alphabet, size=n))


@pytest.mark.parametrize("order", [1, 2, 3])
def test_onehot_matches_naive_reference(order):
    rng = np.random.default_rng(order)
    for _ in range(20):
        seq = random_seq(rng, int(rng.integers(order, 60)))
        got = encode.onehot(encode.encode(seq), order=order)
        np.testing.assert_array_equal(got, naive_onehot(seq, order))


@pytest.mark.parametrize("order", [1, 2, 3])
def test_onehot_batched_equals_per_sequence(order):
    rng = np.random.default_rng(10 + order)
    seqs = [random_seq(rng, 40) for _ in range(7)]
    codes = np.stack([encode.encode(s) for s in seqs])
    got = encode.onehot(codes, order=order, dtype="uint8")
    assert got.shape == (7, 40 - order + 1, 4**order)
    assert got.dtype == np.uint8
    for i, s in enumerate(seqs):
        np.testing.assert_array_equal(got[i], naive_onehot(s, order))


def test_unknown_letter_zeroes_every_kmer_containing_it():
    x = encode.onehot(encode.encode("ACNGT"), order=3)
    assert x.sum(axis=1).tolist() == [0, 0, 0]  # every 3-mer touches the N
    x2 = encode.onehot(encode.encode("ACNGT"), order=2)
    assert x2.sum(axis=1).tolist() == [1, 0, 0, 1]


def test_labels_first_letter_most_significant():
    assert encode.kmer_labels(1) == list("ACGT")
    assert encode.kmer_labels(2)[:4] == ["AA", "AC", "AG", "AT"]
    assert len(encode.kmer_labels(3)) == 64 and encode.kmer_labels(3)[-1] == "TTT"
    assert encode.onehot(encode.encode("CA"), 2).argmax() == encode.kmer_labels(2).index("CA")


@pytest.mark.parametrize("order", [1, 2, 3])
def test_revcomp_onehot_any_order(order):
    rng = np.random.default_rng(20 + order)
    for _ in range(10):
        seq = random_seq(rng, 30)
        oh = encode.onehot(encode.encode(seq), order)
        expected = naive_onehot(naive_revcomp(seq), order)
        np.testing.assert_array_equal(encode.revcomp_onehot(oh, order), expected)
        np.testing.assert_array_equal(
            encode.onehot(encode.revcomp_codes(encode.encode(seq)), order), expected
        )


def test_encode_decode_case_and_unknown():
    assert encode.encode("acgtNRU").tolist() == [0, 1, 2, 3, 4, 4, 3]
    assert encode.decode(encode.encode("ACGTNX")) == "ACGTNN"
    assert encode.decode(encode.revcomp_codes(encode.encode("AACGTN"))) == "NACGTT"


def test_protein_alphabet():
    seq = "ACDEFGHIKLMNPQRSTVWYXa"
    codes = encode.encode(seq, "protein")
    assert codes.tolist() == list(range(20)) + [20, 0]
    oh = encode.onehot(codes, 1, alphabet="protein")
    np.testing.assert_array_equal(oh, naive_onehot(seq, 1, encode.letters("protein")))
    assert encode.onehot(codes, 2, alphabet="protein").shape == (21, 400)


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_bad_order(bad):
    with pytest.raises(ValueError, match="order"):
        encode.onehot(encode.encode("ACGT"), order=bad)


def test_window_shorter_than_order():
    assert encode.onehot(encode.encode("AC"), order=3).shape == (0, 64)


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("alphabet", ["dna", "protein"])
def test_onehot_into_out_equals_onehot(order, alphabet):
    """``onehot(..., out=)`` writes exactly what ``onehot`` returns (the fast table and the
    scattered path), into the array it was given; a wrong ``out`` is refused."""
    size = len(encode.letters(alphabet))
    codes = np.random.default_rng(order).integers(0, size + 2, (7, 30)).astype(np.uint8)
    codes[:, ::7] = 255  # far past the alphabet (taken with mode="clip" at order 1)
    want = encode.onehot(codes, order, alphabet, dtype="float32")
    naive = np.zeros_like(want)  # a k-mer with an unknown code (>= size) stays all zero
    for i, j in np.ndindex(*want.shape[:2]):
        kmer = codes[i, j : j + order].astype(int)
        if (kmer < size).all():
            naive[i, j, sum(int(c) * size ** (order - 1 - t) for t, c in enumerate(kmer))] = 1
    np.testing.assert_array_equal(want, naive)
    out = np.full(want.shape, 9.0, np.float32)
    got = encode.onehot(codes, order, alphabet, dtype="float32", out=out)
    assert got is out
    np.testing.assert_array_equal(out, want)
    with pytest.raises(ValueError, match="out must be"):
        encode.onehot(codes, order, alphabet, out=np.empty(want.shape, np.uint8))


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=600), alphabet=st.sampled_from(["dna", "protein"]))
def test_byte_encoding_matches_the_table_lookup(raw, alphabet):
    """``encode`` of bytes (``bytes.translate``) equals the lookup of each byte in the
    alphabet's table, as for an array; ``checked`` marks exactly the non-printable bytes."""
    arr = np.frombuffer(raw, np.uint8)
    table = encode._byte_table(alphabet)
    want = np.array([table[b] for b in raw], dtype=np.uint8)
    np.testing.assert_array_equal(encode.encode(raw, alphabet), want)
    np.testing.assert_array_equal(encode.encode(arr, alphabet), want)
    checked = np.frombuffer(encode.encode_bytes(raw, alphabet, checked=True), np.uint8)
    printable = (arr >= 33) & (arr <= 126)
    np.testing.assert_array_equal(checked[printable], want[printable])
    assert (checked[~printable] == encode.NOT_A_LETTER).all()
    assert encode.NOT_A_LETTER not in table  # no letter's code


def test_signed_codes_keep_numpys_index_checks():
    """Only unsigned codes take the unchecked fast path: a negative code is never read
    as 'A' (-1 is the last table row, the unknown's zeros; lower raises)."""
    got = encode.onehot(np.array([0, 1, -1], np.int64))
    assert got.sum(axis=1).tolist() == [1.0, 1.0, 0.0]
    with pytest.raises(IndexError):
        encode.onehot(np.array([2, -7], np.int8))
