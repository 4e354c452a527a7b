"""Sequence codes, one-hot of any order, reverse complement; pure numpy.

DNA is stored as uint8 codes ``A,C,G,T = 0..3`` and ``N``/anything else ``= 4``; protein as
the 20 standard amino acids ``ACDEFGHIKLMNPQRSTVWY = 0..19`` and anything else ``= 20``.
Lower case is upper-cased. One-hot of order ``k`` is computed on the fly from the codes: a
window of ``N`` positions gives ``N - k + 1`` positions of ``A**k`` channels, labelled by
their k-mer with the first letter most significant (Janggu's layout). A k-mer that
contains an unknown letter gets an all-zero row.

Low orders (a padded lookup table of at most 256 KB: DNA orders 1-3 in float32, 1-4 in
uint8) are one :func:`numpy.take` from that table, 4-8x faster than fancy indexing or
broadcast comparison. Any higher order is index arithmetic: the k-mer index is a rolling
base-4 number, and a 1 is scattered at that index into a zeroed output, in time linear in
the output (no ``4**k x 4**k`` table: order 9 of a 20 bp window takes milliseconds).
"""

from __future__ import annotations

import itertools
from functools import cache, lru_cache

import numpy as np

DNA = "dna"
PROTEIN = "protein"
ALPHABETS: dict[str, str] = {DNA: "ACGT", PROTEIN: "ACDEFGHIKLMNPQRSTVWY"}
"""Letters of each alphabet, in code order."""

COMPLEMENT_CODES = np.array([3, 2, 1, 0, 4], dtype=np.uint8)
COMPLEMENT_CODES.setflags(write=False)  # shared by every view and recipe: never written
"""The complement of each DNA code (A<->T, C<->G, N stays N), indexed by code."""


def letters(alphabet: str) -> str:
    """Return the letters of ``alphabet`` (``"dna"`` or ``"protein"``) in code order.

    Examples
    --------
    >>> letters("dna")
    'ACGT'
    """
    try:
        return ALPHABETS[alphabet]
    except KeyError:
        raise ValueError(
            f"unknown alphabet {alphabet!r}; expected one of {sorted(ALPHABETS)}"
        ) from None


def unknown_code(alphabet: str) -> int:
    """Return the code of an unknown letter (4 for DNA, 20 for protein).

    Examples
    --------
    >>> unknown_code("protein")
    20
    """
    return len(letters(alphabet))


@cache
def _byte_table(alphabet: str) -> np.ndarray:
    table = np.full(256, unknown_code(alphabet), dtype=np.uint8)
    for code, letter in enumerate(letters(alphabet)):
        table[ord(letter)] = code
        table[ord(letter.lower())] = code
    if alphabet == DNA:  # RNA input reads as DNA
        table[ord("U")] = table[ord("u")] = 3
    return table


NOT_A_LETTER = 255
"""The code :func:`encode_bytes` gives, with ``checked=True``, to bytes that cannot be in
a sequence (outside ``'!'..'~'``: whitespace, control bytes); no alphabet's code."""


@cache
def _translation(alphabet: str, checked: bool) -> bytes:
    table = _byte_table(alphabet).copy()
    if checked:
        printable = np.arange(256)
        table[(printable < 33) | (printable > 126)] = NOT_A_LETTER
    return table.tobytes()


def encode_bytes(
    seq: bytes, alphabet: str = DNA, checked: bool = False, delete: bytes = b""
) -> bytes:
    """Encode ASCII bytes to codes, one byte each (``bytes.translate``: no index array).

    With ``checked``, bytes that cannot be in a sequence (whitespace, control bytes)
    become :data:`NOT_A_LETTER`, so one ``find`` locates the first of them. Bytes in
    ``delete`` are dropped (line terminators where a caller has checked them).

    Examples
    --------
    >>> list(encode_bytes(b"ACgtN"))
    [0, 1, 2, 3, 4]
    >>> encode_bytes(b"AC GT", checked=True).find(bytes([NOT_A_LETTER]))
    2
    >>> list(encode_bytes(b"AC\\nGT", delete=b"\\n"))
    [0, 1, 2, 3]
    """
    return seq.translate(_translation(alphabet, checked), delete)


def encode(seq: str | bytes | np.ndarray, alphabet: str = DNA) -> np.ndarray:
    """Encode a sequence (str, bytes or uint8 ASCII array) to uint8 codes.

    Examples
    --------
    >>> encode("ACgtN").tolist()
    [0, 1, 2, 3, 4]
    """
    if isinstance(seq, str):
        seq = seq.encode("ascii", errors="replace")
    if isinstance(seq, bytes):
        return np.frombuffer(bytearray(encode_bytes(seq, alphabet)), dtype=np.uint8)
    return np.take(_byte_table(alphabet), np.asarray(seq))


def decode(codes: np.ndarray, alphabet: str = DNA) -> str:
    """Decode a 1-d array of codes back to a string (unknown as ``N`` or ``X``).

    Examples
    --------
    >>> decode(encode("ACGTN"))
    'ACGTN'
    """
    table = np.frombuffer(
        (letters(alphabet) + ("N" if alphabet == DNA else "X")).encode(), dtype=np.uint8
    )
    codes = np.minimum(np.asarray(codes), len(table) - 1)
    return np.take(table, codes).tobytes().decode("ascii")


def kmer_labels(order: int = 1, alphabet: str = DNA) -> list[str]:
    """Return the channel labels of a one-hot of ``order``, first letter most significant.

    Examples
    --------
    >>> kmer_labels(2)[:5]
    ['AA', 'AC', 'AG', 'AT', 'CA']
    """
    _check_order(order)
    return ["".join(p) for p in itertools.product(letters(alphabet), repeat=order)]


def _check_order(order: int) -> None:
    if not isinstance(order, int | np.integer) or order < 1:
        raise ValueError(f"one-hot order must be an integer >= 1, got {order!r}")


_PADDED_TABLE_LIMIT = 1 << 18
"""Largest padded lookup table (bytes) of the table path; above it, the output is
scattered. Measured on 128 x 1000 bp (ms, table / scatter): float32 order 1 0.1 / 1.7,
order 2 0.5 / 0.6, order 3 1.3 / 1.2, order 4 10 / 9, order 5 1070 / 37."""


@lru_cache(maxsize=16)
def _padded_table(alphabet_size: int, order: int, dtype: str) -> np.ndarray:
    """One-hot table indexed in base ``alphabet_size + 1``: rows of k-mers that contain the
    unknown code (= ``alphabet_size``) are all zero, so no mask is needed."""
    a1 = alphabet_size + 1
    table = np.zeros((a1**order, alphabet_size**order), dtype=dtype)
    digits = np.indices((a1,) * order).reshape(order, -1)  # first digit most significant
    known = (digits < alphabet_size).all(axis=0)
    channel = np.zeros(digits.shape[1], dtype=np.int64)
    for d in digits:
        channel = channel * alphabet_size + np.minimum(d, alphabet_size - 1)
    table[np.flatnonzero(known), channel[known]] = 1
    return table


def kmer_index(codes: np.ndarray, order: int = 1, alphabet_size: int = 4) -> np.ndarray:
    """Return the k-mer index of every position (``alphabet_size**order`` if unknown).

    ``codes`` has shape ``(..., N)``; the result has shape ``(..., N - order + 1)``.

    Examples
    --------
    >>> kmer_index(encode("ACGN"), order=2).tolist()
    [1, 6, 16]
    """
    _check_order(order)
    codes = np.asarray(codes)
    n_out = codes.shape[-1] - order + 1
    if n_out <= 0:
        return np.zeros(codes.shape[:-1] + (0,), dtype=np.intp)
    n_channels = alphabet_size**order
    dtype = np.uint16 if n_channels < 2**16 - 1 else np.int64
    if order == 1:
        idx = codes.astype(dtype, copy=True)
        bad = codes >= alphabet_size
    else:
        idx = np.zeros(codes.shape[:-1] + (n_out,), dtype=dtype)
        bad = np.zeros(idx.shape, dtype=bool)
        for j in range(order):
            part = codes[..., j : j + n_out]
            idx *= alphabet_size
            idx += part
            bad |= part >= alphabet_size
    idx[bad] = n_channels
    return idx


def onehot(
    codes: np.ndarray,
    order: int = 1,
    alphabet: str = DNA,
    dtype: str | np.dtype = "float32",
    out: np.ndarray | None = None,
) -> np.ndarray:
    """One-hot encode codes of shape ``(..., N)`` to ``(..., N - order + 1, A**order)``.

    Parameters
    ----------
    codes
        uint8 codes (see :func:`encode`).
    order
        k-mer order (1 = mono-, 2 = di-, 3 = tri-nucleotides, ...).
    alphabet
        ``"dna"`` or ``"protein"``.
    dtype
        Output dtype; ``"uint8"`` is 4x smaller and faster to build than ``"float32"``.
    out
        Array to write the one-hot into (C-contiguous, of the result's shape and
        ``dtype``); returned.

    Examples
    --------
    >>> onehot(encode("ACN")).tolist()
    [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    >>> onehot(encode("ACG"), order=2, dtype="uint8").argmax(-1).tolist()
    [1, 6]
    """
    _check_order(order)
    size = len(letters(alphabet))
    dtype = np.dtype(dtype)
    codes = np.asarray(codes)
    if out is not None:
        shape = onehot_shape(codes.shape, order, alphabet)
        if out.shape != shape or out.dtype != dtype or not out.flags.c_contiguous:
            raise ValueError(
                f"out must be a C-contiguous {dtype} array of shape {shape}, "
                f"got {out.dtype} {out.shape}"
            )
    if (size + 1) ** order * size**order * dtype.itemsize > _PADDED_TABLE_LIMIT:
        return _scattered(kmer_index(codes, order, size), size**order, dtype, out)
    # fast path: codes clipped to the unknown code, k-mer index in base size + 1
    n_out = max(codes.shape[-1] - order + 1, 0)
    if order == 1 and codes.dtype.kind == "u":
        idx = codes  # take's mode="clip" below maps codes past ``size`` to the zero row
    elif order == 1:
        idx = np.minimum(codes, size) if codes.size and codes.max() > size else codes
    else:
        clipped = np.minimum(codes, size) if codes.size and codes.max() > size else codes
        idx = clipped[..., :n_out].astype(np.uint16 if (size + 1) ** order < 2**16 else np.int64)
        for j in range(1, order):
            idx *= size + 1
            idx += clipped[..., j : j + n_out]
    # unsigned codes index the table only in range (clipped above): mode="clip" checks
    # nothing and, unlike numpy's default mode="raise", writes into ``out`` directly
    # instead of through a temporary of out's size (20 M one-hot rows: 0.20 -> 0.09 s).
    # Signed codes keep numpy's checks (a negative code must not become row 0, 'A').
    mode = "clip" if idx.dtype.kind == "u" else "raise"
    return np.take(_padded_table(size, order, dtype.str), idx, axis=0, out=out, mode=mode)


def onehot_shape(shape: tuple[int, ...], order: int = 1, alphabet: str = DNA) -> tuple[int, ...]:
    """Shape of :func:`onehot` of codes of shape ``shape``.

    Examples
    --------
    >>> onehot_shape((8, 200), order=2)
    (8, 199, 16)
    """
    n_out = max(int(shape[-1]) - order + 1, 0)
    return (*(int(s) for s in shape[:-1]), n_out, len(letters(alphabet)) ** order)


def _scattered(
    idx: np.ndarray, n_channels: int, dtype: np.dtype, out: np.ndarray | None = None
) -> np.ndarray:
    """One-hot of k-mer indices: a 1 at ``idx`` in a zeroed output (an index equal to
    ``n_channels``, an unknown k-mer, leaves its row zero)."""
    if out is None:
        out = np.zeros(idx.shape + (n_channels,), dtype=dtype)
    else:
        out.fill(0)
    flat = idx.reshape(-1)
    rows = np.flatnonzero(flat < n_channels)
    out.reshape(-1)[rows * n_channels + flat[rows]] = 1
    return out


def complement_codes(codes: np.ndarray) -> np.ndarray:
    """Complement DNA codes (A<->T, C<->G, N stays N).

    Examples
    --------
    >>> decode(complement_codes(encode("ACGTN")))
    'TGCAN'
    """
    return np.take(COMPLEMENT_CODES, np.minimum(codes, 4))


def revcomp_codes(codes: np.ndarray, axis: int = -1) -> np.ndarray:
    """Reverse-complement DNA codes along ``axis``.

    Examples
    --------
    >>> decode(revcomp_codes(encode("AACGN")))
    'NCGTT'
    """
    return np.flip(complement_codes(codes), axis=axis)


@lru_cache(maxsize=16)
def revcomp_permutation(order: int) -> np.ndarray:
    """Return ``perm`` with ``perm[i]`` = channel of the reverse complement of k-mer ``i``.

    Examples
    --------
    >>> [kmer_labels(2)[i] for i in revcomp_permutation(2)[:3]]
    ['TT', 'GT', 'CT']
    """
    labels = kmer_labels(order)
    position = {label: i for i, label in enumerate(labels)}
    comp = str.maketrans("ACGT", "TGCA")
    return np.array([position[label.translate(comp)[::-1]] for label in labels], dtype=np.intp)


def revcomp_onehot(x: np.ndarray, order: int = 1, pos_axis: int = -2) -> np.ndarray:
    """Reverse-complement a DNA one-hot array of any order (positions last but one).

    Equal to ``onehot(revcomp_codes(codes), order)`` for ``x = onehot(codes, order)``.

    Examples
    --------
    >>> c = encode("ACGGT")
    >>> bool((revcomp_onehot(onehot(c, 2), 2) == onehot(revcomp_codes(c), 2)).all())
    True
    """
    return np.take(np.flip(x, axis=pos_axis), revcomp_permutation(order), axis=-1)
