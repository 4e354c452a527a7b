"""Stage 2, genome-wide arrays: builders per source, the zarr store and the cache.

:mod:`~genomarray.genome.sequences` (FASTA) and :mod:`~genomarray.genome.coverage` (BAM,
bigWig, BED/GFF) lay dask graphs (:mod:`~genomarray.genome.graph`) over the readers of
:mod:`genomarray.io`, write them once to zarr stores (:mod:`~genomarray.genome.store`)
keyed by content (:mod:`~genomarray.genome.cache`), on threads or a Dask cluster
(:mod:`~genomarray.genome.compute`); :mod:`~genomarray.genome.shuffled` writes views in a
shuffled order for contiguous reads.
"""
