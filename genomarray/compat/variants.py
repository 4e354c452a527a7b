"""Janggu's ``VariantStreamer``: reference and alternative one-hot windows of SNVs.

Windows follow genomarray's variant-effect convention
(:func:`genomarray.keras.variants.variant_effects`): ``binsize`` bp with the variant at
offset ``binsize // 2`` (Janggu put it at ``binsize // 2 - 1`` for an even binsize), bases
off the chromosome read as N. A variant whose REF differs from the genome is skipped with
a warning (Janggu logged it and streamed the reference as the alternative too), unless
``ignore_reference_match=True``, which uses the VCF's REF and ALT as they are. A variant
inside a minus-strand ``annotation`` region is streamed reverse-complemented.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from genomarray import encode, model
from genomarray.errors import InputError


class VariantRecord:
    """One VCF record (the fields of ``pysam.VariantRecord`` Janggu's code read)."""

    __slots__ = ("alts", "chrom", "id", "pos", "ref")

    def __init__(self, chrom: str, pos: int, ident: str, ref: str, alts: tuple[str, ...]) -> None:
        self.chrom = chrom
        self.pos = int(pos)
        self.id = ident
        self.ref = ref
        self.alts = alts

    def __repr__(self) -> str:
        return f"VariantRecord({self.chrom}:{self.pos} {self.ref}>{','.join(self.alts)})"


def _records(variants: Any) -> list[VariantRecord]:
    from genomarray.io.regions import read_regions

    table = read_regions(variants, fmt="vcf")
    return [
        VariantRecord(
            str(r.chrom),
            int(r.start) + 1,
            "" if str(r.name) == "." else str(r.name),
            str(r.ref),
            tuple(str(r.alt).split(",")),
        )
        for r in table.itertuples(index=False)
    ]


def genome_of(bioseq: Any) -> xr.DataArray:
    """The sequence genome behind a Bioseq built from a reference, or of a FASTA path."""
    from genomarray.genome.sequences import read_fasta

    if isinstance(bioseq, xr.DataArray):
        if bioseq.dims == (model.CHROM, model.POS):
            return bioseq
        call = json.loads(bioseq.attrs.get(model.JANGGU_CALL, "{}") or "{}").get("kwargs", {})
        if not call.get("store_whole_genome") or call.get("refgenome") is None:
            raise ValueError(
                "Incompatible Bioseq: it must be loaded with store_whole_genome=True "
                "from a reference genome (or pass the FASTA path)"
            )
        return read_fasta(call["refgenome"], cache=bool(call.get("cache")))
    return read_fasta(bioseq, cache=False)


class VariantStreamer:
    """Stream reference and alternative one-hot windows of the SNVs of a VCF.

    Parameters
    ----------
    bioseq
        A Bioseq loaded with ``store_whole_genome=True`` from a reference, or a FASTA path.
    variants
        VCF path.
    binsize
        Window length in bp.
    batch_size
        Variants per batch of :meth:`flow`.
    annotation
        Stranded regions (BED path or DataFrame); variants in minus-strand regions are
        streamed reverse-complemented.
    ignore_reference_match
        Stream variants whose REF differs from the genome, with the VCF's alleles.
    order
        One-hot order.

    Examples
    --------
    >>> import genomarray as ga
    >>> vs = VariantStreamer(ga.example_path("genome.fa"), ga.example_path("variants.vcf"),
    ...                      binsize=50, batch_size=8)
    >>> names, chroms, pos, ref, alt, refs, alts = next(vs.flow())
    >>> refs.shape, refs.dtype, int((refs != alts).any(axis=(1, 2, 3)).sum())
    ((8, 50, 1, 4), dtype('float64'), 8)
    """

    def __init__(
        self,
        bioseq: Any,
        variants: Any,
        binsize: int,
        batch_size: int,
        annotation: Any = None,
        ignore_reference_match: bool = False,
        order: int = 1,
    ) -> None:
        if int(binsize) < int(order):
            raise InputError(f"binsize {binsize} is shorter than the order {order}")
        self.binsize = int(binsize)
        self.batch_size = int(batch_size)
        self.annotation = annotation
        self.ignore_reference_match = bool(ignore_reference_match)
        self.order = int(order)
        self.variants = variants
        self.bioseq = self.get_bioseq(bioseq, order)

    def get_bioseq(self, bioseq: Any, order: int) -> xr.DataArray:
        """The sequence genome the windows are read from (codes)."""
        return genome_of(bioseq)

    def is_compatible(self, rec: VariantRecord) -> bool:
        """A single-base REF and one single-base ALT in A/C/G/T, with a window starting
        at or after position 0."""
        iv_start, _ = self.get_interval(rec)
        return (
            iv_start >= 0
            and len(rec.alts) == 1
            and len(rec.ref) == 1
            and len(rec.alts[0]) == 1
            and rec.ref.upper() in "ACGT"
            and rec.alts[0].upper() in "ACGT"
        )

    def get_interval(self, rec: VariantRecord) -> tuple[int, int]:
        """The 0-based window ``[start, end)`` of a record (variant at ``binsize // 2``)."""
        start = rec.pos - 1 - self.binsize // 2
        return start, start + self.binsize

    def get_variant_count(self) -> int:
        """The number of compatible records."""
        return sum(self.is_compatible(r) for r in _records(self.variants))

    def _minus(self, recs: list[VariantRecord]) -> np.ndarray:
        if self.annotation is None or not recs:
            return np.zeros(len(recs), dtype=bool)
        from genomarray.io.regions import read_regions

        ann = read_regions(self.annotation)
        out = np.zeros(len(recs), dtype=bool)
        for i, r in enumerate(recs):
            hit = ann[(ann["chrom"] == r.chrom) & (ann["start"] < r.pos) & (ann["end"] >= r.pos)]
            out[i] = (
                bool(len(hit)) and (hit["strand"] == "-").any() and not (hit["strand"] == "+").any()
            )
        return out

    def _windows(self, recs: list[VariantRecord]) -> tuple[np.ndarray, np.ndarray]:
        from genomarray.views.windows import view

        starts = [self.get_interval(r)[0] for r in recs]
        roi = pd.DataFrame(
            {
                "chrom": [r.chrom for r in recs],
                "start": starts,
                "end": [s + self.binsize for s in starts],
            }
        )
        roi.attrs[model.BINSIZE] = self.binsize
        codes = np.array(view(self.bioseq, roi, flank=0).values, dtype=np.uint8)
        ref_codes = codes.copy()
        alt_codes = codes.copy()
        mid = self.binsize // 2
        for i, r in enumerate(recs):
            if self.ignore_reference_match:
                ref_codes[i, mid] = encode.encode(r.ref.upper())[0]
            alt_codes[i, mid] = encode.encode(r.alts[0].upper())[0]
        return ref_codes, alt_codes

    def flow(self) -> Iterator[tuple[Any, ...]]:
        """Yield ``(names, chroms, positions0, ref_alleles, alt_alleles, refs, alts)``
        per batch; ``refs``/``alts`` are float64 ``(batch, binsize - order + 1, 1,
        4**order)``."""
        recs = [r for r in _records(self.variants) if self.is_compatible(r)]
        known = set(str(c) for c in self.bioseq[model.CHROM].values)
        recs = [r for r in recs if r.chrom in known]
        for lo in range(0, len(recs), self.batch_size):
            batch = recs[lo : lo + self.batch_size]
            ref_codes, alt_codes = self._windows(batch)
            mid = self.binsize // 2
            if not self.ignore_reference_match:
                genome_base = ref_codes[:, mid]
                vcf_base = np.array([encode.encode(r.ref.upper())[0] for r in batch])
                bad = genome_base != vcf_base
                if bad.any():
                    warnings.warn(
                        "REF differs from the genome for "
                        + ", ".join(
                            f"{r.chrom}:{r.pos}" for r, b in zip(batch, bad, strict=True) if b
                        )
                        + "; those variants are skipped",
                        UserWarning,
                        stacklevel=2,
                    )
                    keep = ~bad
                    batch = [r for r, k in zip(batch, keep, strict=True) if k]
                    ref_codes, alt_codes = ref_codes[keep], alt_codes[keep]
            minus = self._minus(batch)
            ref_codes[minus] = encode.revcomp_codes(ref_codes[minus])
            alt_codes[minus] = encode.revcomp_codes(alt_codes[minus])
            refs = encode.onehot(ref_codes, self.order, dtype="float64")[:, :, None, :]
            alts = encode.onehot(alt_codes, self.order, dtype="float64")[:, :, None, :]
            yield (
                [f"{r.id}_{r.ref}>{r.alts[0]}" for r in batch],
                [r.chrom for r in batch],
                [r.pos - 1 for r in batch],
                [r.ref for r in batch],
                [r.alts[0] for r in batch],
                refs,
                alts,
            )
