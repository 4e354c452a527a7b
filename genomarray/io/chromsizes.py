"""Chromosome sizes from a FASTA index, a BAM header, a bigWig header or a sizes file."""

from __future__ import annotations

import os

from genomarray.errors import InputError, check_exists
from genomarray.io.remote import is_url, local_path


def from_fasta(path: str | os.PathLike) -> dict[str, int]:
    """Return ``{chrom: length}`` from a FASTA file (its ``.fai`` is created if missing).

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> from_fasta(example_path("genome.fa"))["chr1"]
    40000
    """
    from genomarray.io.fasta import fasta_sizes

    return fasta_sizes(path)


def from_bam(path: str | os.PathLike) -> dict[str, int]:
    """Return ``{chrom: length}`` from a BAM/CRAM/SAM header (a URL: through
    :func:`genomarray.io.bam.bam_chrom_sizes`, with the index it downloads)."""
    import pysam

    if is_url(path):
        from genomarray.io.bam import bam_chrom_sizes

        return bam_chrom_sizes(path)
    path = check_exists(path, "alignment file", random_access=True)
    try:
        with pysam.AlignmentFile(path, "r") as bam:
            return dict(zip(bam.references, bam.lengths, strict=True))
    except (ValueError, OSError) as err:
        raise InputError(f"cannot read the alignment header ({err})", source=path) from err


def from_bigwig(path: str | os.PathLike) -> dict[str, int]:
    """Return ``{chrom: length}`` from a bigWig header (checked as every bigWig read is:
    not a bigWig, truncated or damaged files raise an InputError naming the file)."""
    from genomarray.io.bigwig import bigwig_chrom_sizes

    return bigwig_chrom_sizes(
        path if is_url(path) else check_exists(path, "bigWig file", random_access=True)
    )


def from_sizes_file(path: str | os.PathLike) -> dict[str, int]:
    """Return ``{chrom: length}`` from a two-column ``chrom<TAB>length`` file."""
    path = check_exists(path, "chromosome sizes file")
    sizes: dict[str, int] = {}
    with open(path) as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split()
            try:
                sizes[parts[0]] = int(parts[1])
            except (IndexError, ValueError) as err:
                raise InputError(
                    "expected 'chrom<TAB>length'", source=path, record=f"line {lineno}"
                ) from err
    return sizes


def chrom_sizes(source: str | os.PathLike | dict) -> dict[str, int]:
    """Return chromosome sizes from any supported source, chosen by file extension.

    Parameters
    ----------
    source
        A dict (returned as is), a FASTA (``.fa``, ``.fasta``, ``.fna``, optionally
        ``.gz``), BAM/CRAM/SAM, bigWig (``.bw``, ``.bigwig``) or ``chrom<TAB>length`` file;
        a FASTA, BAM/CRAM or bigWig may be an ``http(s)://`` URL.

    Examples
    --------
    >>> chrom_sizes({"chr1": 10})
    {'chr1': 10}
    """
    if isinstance(source, dict):
        return {str(k): int(v) for k, v in source.items()}
    source = local_path(source)
    name = source.split("?", 1)[0] if is_url(source) else source
    name = name.lower().removesuffix(".gz")
    if name.endswith((".fa", ".fasta", ".fna", ".fas")):
        return from_fasta(source)
    if name.endswith((".bam", ".cram", ".sam")):
        return from_bam(source)
    if name.endswith((".bw", ".bigwig")):
        return from_bigwig(source)
    return from_sizes_file(source)
