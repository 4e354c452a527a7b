"""FASTA reader: numpy code blocks for ``(chrom, start, end)``.

pysam handles are not picklable, so tasks never ship one: :func:`fasta_handle` opens (and
caches, per process and thread) a handle from the path. An unindexed FASTA gets its
``.fai`` created next to it; where that folder is read-only the error says how to index it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from genomarray import encode
from genomarray.errors import InputError, check_exists, missing_file
from genomarray.io.handles import cached_handle


def _open(path: str):
    import pysam

    fai = path + ".fai"
    has_index = os.path.exists(fai)
    writable = os.access(os.path.dirname(os.path.abspath(path)), os.W_OK)
    if has_index and os.path.getmtime(fai) < os.path.getmtime(path):
        if not writable:
            raise InputError(
                f"the index {fai} is older than the FASTA (stale); re-index it: "
                f"`samtools faidx {path}`",
                source=path,
            )
        os.remove(fai)  # stale index: pysam rebuilds it below
        has_index = False
    if not has_index and not writable:
        raise InputError(
            "the FASTA has no index (.fai) and its folder is read-only; "
            f"index it where you can write: `samtools faidx {path}`, or copy it",
            source=path,
        )
    try:
        return pysam.FastaFile(path)
    except (OSError, ValueError) as err:
        hint = ""
        if path.endswith(".gz"):
            hint = (
                " (a compressed FASTA must be bgzip-compressed: "
                f"`gunzip -c {path} | bgzip > {path[:-3]}.bgz.gz`)"
            )
        raise InputError(f"cannot open or index the FASTA: {err}{hint}", source=path) from err


@contextmanager
def open_fasta(path: str | os.PathLike) -> Iterator:
    """Open a FASTA with pysam (indexing it if needed), closing it afterwards.

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> with open_fasta(example_path("genome.fa")) as fa:
    ...     fa.references
    ['chr1', 'chr2', 'chr3']
    """
    path = check_exists(path, "FASTA file")
    fa = _open(path)
    try:
        if fa.nreferences == 0:
            raise InputError("no sequences found (expected '>name' header lines)", source=path)
        yield fa
    finally:
        fa.close()


def fasta_handle(path: str):
    """Return a pysam handle on ``path`` cached for this process and thread."""
    return cached_handle(path, _open, missing=lambda p: missing_file(p, "FASTA file"))


def read_block(
    path: str, chrom: str, start: int, end: int, alphabet: str = encode.DNA
) -> np.ndarray:
    """Return uint8 codes of ``chrom:start-end`` (0-based, half-open).

    Positions past the chromosome end are returned as the unknown code.

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> read_block(example_path("genome.fa"), "chr1", 0, 5).shape
    (5,)
    """
    fa = fasta_handle(path)
    length = fa.get_reference_length(chrom)
    stop = min(end, length)
    out = np.full(end - start, encode.unknown_code(alphabet), dtype=np.uint8)
    if stop > start:
        seq = fa.fetch(chrom, start, stop)
        out[: stop - start] = encode.encode(seq, alphabet)
    return out


def iter_records(path: str | os.PathLike) -> Iterator[tuple[str, str]]:
    """Yield ``(name, sequence)`` for every record of a FASTA, in file order.

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> next(iter_records(example_path("seqs.fa")))[0]
    'seq_0'
    """
    import pysam

    path = check_exists(path, "FASTA file")
    n = 0
    with pysam.FastxFile(path) as fh:
        for rec in fh:
            n += 1
            yield rec.name, rec.sequence or ""
    if n == 0:
        raise InputError("no sequences found (expected '>name' header lines)", source=path)
