"""Stage 1, readers: one module per format, and all text parsing.

Genome-wide readers (:mod:`~genomarray.io.fasta`, :mod:`~genomarray.io.bam`,
:mod:`~genomarray.io.bigwig`, :mod:`~genomarray.io.intervals`) return numpy blocks for
``(chrom, start, end)`` and know nothing of dask or zarr (that is :mod:`genomarray.genome`'s
job). Region files (BED, narrowPeak, bedGraph, GFF/GTF, VCF) are parsed into BED-like
DataFrames by :func:`genomarray.io.regions.read_regions`; chromosome sizes come from
:mod:`~genomarray.io.chromsizes`.
"""
