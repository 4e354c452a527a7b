"""PyTorch adapter: ``Dataset``, chunk-buffer batch sampler and ``DataLoader`` of dicts of
tensors over the batch engine (see :mod:`genomarray.torch.data`). Needs ``torch``
(``pip install 'genomarray[torch]'``); ``import genomarray`` never imports it.
"""

from genomarray.torch.data import (
    BatchIndices,
    ChunkBufferBatchSampler,
    GenomicDataset,
    collate,
    dataloader,
)

__all__ = ["BatchIndices", "ChunkBufferBatchSampler", "GenomicDataset", "collate", "dataloader"]
