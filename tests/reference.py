"""Naive reference implementations the tests compare genomarray against.

Deliberately simple per-position Python, sharing no code with genomarray.
"""

import itertools

import numpy as np

COMPLEMENT = {"A": "T", "C": "G", "G": "C", "T": "A"}


def naive_onehot(seq: str, order: int, letters: str = "ACGT") -> np.ndarray:
    labels = ["".join(p) for p in itertools.product(letters, repeat=order)]
    out = np.zeros((len(seq) - order + 1, len(labels)), dtype=np.float32)
    for i in range(len(seq) - order + 1):
        kmer = seq[i : i + order].upper()
        if kmer in labels:
            out[i, labels.index(kmer)] = 1
    return out


def naive_revcomp(seq: str) -> str:
    return "".join(COMPLEMENT.get(c, "N") for c in reversed(seq.upper()))


def naive_window(
    genome: dict[str, str], chrom: str, start: int, end: int, width: int, anchor_end: bool = False
) -> str:
    """Window [start, start + width) (or [end - width, end) with ``anchor_end``) of which
    only [start, end) is read; N elsewhere."""
    seq = genome[chrom]
    out = []
    first = end - width if anchor_end else start
    for p in range(first, first + width):
        out.append(seq[p] if 0 <= p < len(seq) and start <= p < end else "N")
    return "".join(out)
