"""Readers, one per format. Each returns numpy blocks for ``(chrom, start, end)`` and knows
nothing of dask or zarr (that is :mod:`genomarray.store`'s job)."""
