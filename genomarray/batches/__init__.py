"""Framework-free batches of region views: plain numpy from memory or straight from zarr.

The engine behind :class:`genomarray.keras.GenomicSequence` and :mod:`genomarray.torch`
(see :mod:`genomarray.batches.engine`): numpy and zarr only, no keras or torch.
"""

from genomarray.batches.chunks import ChunkReader, SlabCache
from genomarray.batches.engine import MAX_MEMORY_BYTES, BatchEngine, Request, epoch_seed
from genomarray.batches.load import load
from genomarray.batches.sources import (
    DaskRows,
    NumpySource,
    Source,
    StoreRows,
    StoreWindows,
    source_of,
    verified_recipe,
)

__all__ = [
    "MAX_MEMORY_BYTES",
    "BatchEngine",
    "ChunkReader",
    "DaskRows",
    "NumpySource",
    "Request",
    "SlabCache",
    "Source",
    "StoreRows",
    "StoreWindows",
    "epoch_seed",
    "load",
    "source_of",
    "verified_recipe",
]
