"""PyTorch data loading over the batch engine: a ``Dataset``, a batch sampler, a loader.

The same engine as :class:`genomarray.keras.GenomicSequence`
(:class:`genomarray.batches.BatchEngine`): lazy views of genome stores and views reopened
from zarr are read straight from their zarr chunks (no dask per batch), sequence codes are
one-hot encoded per batch, out of core the order is shuffled within buffers of whole
chunks, and augmentation draws are keyed by ``(seed, epoch, region)``, so every array of
an example gets the same draw in whichever worker process reads it.

- :class:`GenomicDataset`: a map-style ``torch.utils.data.Dataset`` of examples (dicts of
  tensors). ``__getitems__`` reads a whole batch at once (PyTorch calls it with a batch
  sampler).
- :class:`ChunkBufferBatchSampler`: yields the engine's batches of an epoch (each a
  :class:`BatchIndices`: the region indices, their epoch and batch number); every full
  pass is a new epoch (or call :meth:`~ChunkBufferBatchSampler.set_epoch`).
- :func:`dataloader`: both in a ``DataLoader`` whose batches are dicts of tensors, built
  without stacking examples one by one.

Everything pickles without open zarr handles, threads or cached chunks, so
``num_workers > 0`` works with the ``fork`` and the ``spawn`` start methods; each worker
decodes the chunks its batches need.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler
from torch.utils.data._utils.collate import default_collate

from genomarray.batches.chunks import CACHE_BYTES
from genomarray.batches.engine import (
    MAX_MEMORY_BYTES,
    BatchEngine,
    Request,
    onehot_order_of,
    served_dtype,
)
from genomarray.errors import InputError


class BatchIndices(list):
    """The region indices of one batch, with the epoch and batch number they belong to.

    Examples
    --------
    >>> b = BatchIndices([4, 1], epoch=2, index=0)
    >>> list(b), b.epoch, b.index
    ([4, 1], 2, 0)
    """

    def __init__(self, rows: Sequence[int], epoch: int, index: int) -> None:
        super().__init__(int(r) for r in rows)
        self.epoch = int(epoch)
        self.index = int(index)

    def __reduce__(self) -> Any:
        return (BatchIndices, (list(self), self.epoch, self.index))


def _named(obj: Any, default: str, what: str) -> dict[str, Any]:
    if obj is None:
        return {}
    if isinstance(obj, Mapping):
        if not obj:
            raise InputError(f"{what} is an empty dict", source="GenomicDataset")
        return {str(k): v for k, v in obj.items()}
    return {default: obj}


def _tensor(a: np.ndarray) -> torch.Tensor:
    if a.base is not None or not a.flags.writeable or not a.flags.c_contiguous:
        a = np.array(a)  # a view of the data in memory: the batch gets its own copy
    return torch.from_numpy(a)


class _Examples(Sequence):
    """What ``__getitems__`` returns: the examples of one batch, read at once. The
    collate function of :func:`dataloader` takes the batch as it is; PyTorch's default
    collate stacks the examples (made on demand)."""

    def __init__(self, batch: dict[str, torch.Tensor]) -> None:
        self.batch = batch
        self._n = len(next(iter(batch.values()))) if batch else 0

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        return {k: v[i] for k, v in self.batch.items()}


def collate(data: Any) -> Any:
    """Collate function of :func:`dataloader`: a batch read by
    :meth:`GenomicDataset.__getitems__` as it is, anything else by PyTorch's default.

    Examples
    --------
    >>> import torch
    >>> collate([{"x": torch.zeros(2)}, {"x": torch.ones(2)}])["x"].shape
    torch.Size([2, 2])
    """
    if isinstance(data, _Examples):
        return data.batch
    return default_collate(data)


class GenomicDataset(Dataset):
    """Examples of region views as dicts of tensors, over :class:`~genomarray.batches.BatchEngine`.

    Parameters
    ----------
    inputs
        A view or a dict ``{name: view}``: sequence code views (one-hot encoded per batch
        when ``onehot_order`` is set), one-hot views, coverage views or per-region arrays,
        all with the same regions. A single view is named ``"x"``.
    outputs
        Targets in the same forms (a single one named ``"y"``), or None.
    batch_size
        Examples per batch of :meth:`batch_sampler`.
    shuffle, seed, augment, buffer_chunks, max_memory_bytes, cache_bytes
        As for :class:`genomarray.keras.GenomicSequence`.
    onehot_order
        One-hot order of the sequence code views (an int, a dict ``{name: order}``, or
        None for the uint8 codes).
    dtype
        dtype of the one-hot and of all other arrays (None: as stored); sequence code
        views not one-hot encoded stay uint8 codes.
    threads
        Threads that decode chunks.

    Examples
    --------
    >>> import genomarray as ga
    >>> seqs = ga.read_sequences(ga.example_path("seqs.fa"))
    >>> ds = GenomicDataset({"dna": seqs}, onehot_order=1, batch_size=8)
    >>> len(ds), ds[0]["dna"].shape, ds.__getitems__([0, 3]).batch["dna"].shape
    (30, torch.Size([200, 4]), torch.Size([2, 200, 4]))
    """

    def __init__(
        self,
        inputs: Any,
        outputs: Any = None,
        *,
        batch_size: int = 32,
        shuffle: bool = False,
        seed: int | None = None,
        augment: Any = None,
        onehot_order: int | Mapping[str, int] | None = None,
        dtype: str | np.dtype | None = "float32",
        max_memory_bytes: int = MAX_MEMORY_BYTES,
        buffer_chunks: int = 4,
        threads: int | None = None,
        cache_bytes: int = CACHE_BYTES,
    ) -> None:
        named = _named(inputs, "x", "inputs")
        if not named:
            raise InputError("inputs is None", source="GenomicDataset")
        targets = _named(outputs, "y", "outputs")
        both = set(named) & set(targets)
        if both:
            raise InputError(
                f"inputs and outputs share the names {sorted(both)}; a batch is one dict",
                source="GenomicDataset",
            )
        requests = []
        for part, arrays in (("inputs", named), ("outputs", targets)):
            for k, arr in arrays.items():
                order = onehot_order_of(onehot_order, k, arr) if part == "inputs" else None
                want = served_dtype(arr, order, dtype)
                requests.append(Request(k, arr, order, want, augment is not None))
        self.input_names = list(named)
        self.output_names = list(targets)
        self.engine = BatchEngine(
            requests,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            augment=augment,
            max_memory_bytes=max_memory_bytes,
            buffer_chunks=buffer_chunks,
            threads=threads,
            who="GenomicDataset",
            cache_bytes=cache_bytes,
        )
        self.epoch = 0

    def __len__(self) -> int:
        return self.engine.n

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose augmentation draws plain index lists get."""
        self.epoch = int(epoch)

    def _tensors(self, batch: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
        return {k: _tensor(v) for k, v in batch.items()}

    def __getitem__(self, index: Any) -> dict[str, torch.Tensor]:
        """One example (an int), or a whole batch (a :class:`BatchIndices`)."""
        if isinstance(index, BatchIndices):
            return self._tensors(self._read(index))
        i = int(index)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"example {index} out of range for {len(self)} examples")
        batch = self.engine.take(np.array([i]), self.epoch)
        return {k: _tensor(v[0]) for k, v in batch.items()}

    def _read(self, indices: Sequence[int]) -> dict[str, np.ndarray]:
        if isinstance(indices, BatchIndices):
            engine = self.engine
            rows = engine.rows(indices.index, indices.epoch) if len(engine) else []
            if len(rows) == len(indices) and np.array_equal(rows, indices):
                return engine.batch(indices.index, indices.epoch)  # reads ahead as well
            return engine.take(np.asarray(indices, np.int64), indices.epoch)
        return self.engine.take(np.asarray(list(indices), np.int64), self.epoch)

    def __getitems__(self, indices: Sequence[int]) -> _Examples:
        """The examples ``indices``, read as one batch (what ``DataLoader`` calls with a
        batch sampler)."""
        return _Examples(self._tensors(self._read(indices)))

    def batch_sampler(self, epoch: int = 0) -> ChunkBufferBatchSampler:
        """The engine's batches, epoch after epoch."""
        return ChunkBufferBatchSampler(self, epoch)


class ChunkBufferBatchSampler(Sampler[BatchIndices]):
    """Batches of a :class:`GenomicDataset` in the engine's order: a full permutation in
    memory, shuffled within buffers of whole chunks out of core, in order without
    ``shuffle``. Every full pass advances the epoch.

    Examples
    --------
    >>> import genomarray as ga
    >>> seqs = ga.read_sequences(ga.example_path("seqs.fa"))
    >>> s = ChunkBufferBatchSampler(GenomicDataset(seqs, batch_size=8, shuffle=True, seed=0))
    >>> first = [list(b) for b in s]; second = [list(b) for b in s]
    >>> len(first), sorted(sum(first, [])) == list(range(30)), first != second
    (4, True, True)
    """

    def __init__(self, dataset: GenomicDataset, epoch: int = 0) -> None:
        self.dataset = dataset
        self.epoch = int(epoch)

    def set_epoch(self, epoch: int) -> None:
        """Start the next pass at ``epoch``."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.dataset.engine)

    def __iter__(self) -> Iterator[BatchIndices]:
        engine, epoch = self.dataset.engine, self.epoch
        for i in range(len(engine)):
            yield BatchIndices(engine.rows(i, epoch), epoch, i)
        self.epoch = epoch + 1


def dataloader(
    inputs: Any,
    outputs: Any = None,
    batch_size: int = 32,
    shuffle: bool = False,
    augment: Any = None,
    *,
    seed: int | None = None,
    onehot_order: int | Mapping[str, int] | None = 1,
    dtype: str | np.dtype | None = "float32",
    num_workers: int = 0,
    max_memory_bytes: int = MAX_MEMORY_BYTES,
    buffer_chunks: int = 4,
    threads: int | None = None,
    cache_bytes: int = CACHE_BYTES,
    **kwargs: Any,
) -> DataLoader:
    """A ``DataLoader`` of dicts of tensors over region views, read by the batch engine.

    Parameters
    ----------
    inputs, outputs
        A view or a dict ``{name: view}`` each (see :class:`GenomicDataset`); a batch is
        one dict holding both.
    batch_size, shuffle, augment, seed
        Examples per batch; shuffle each epoch (chunk buffers out of core); augmentations
        (``"flip"``, ``"shift"``, ``"scale"``, objects or a list); seed of both.
    onehot_order
        One-hot order of sequence code views (default 1; None feeds uint8 codes).
    dtype
        dtype of all arrays (None: as stored).
    num_workers
        Worker processes (each decodes the chunks of the batches it reads).
    max_memory_bytes, buffer_chunks, threads, cache_bytes
        As for :class:`GenomicDataset`.
    **kwargs
        Passed to ``torch.utils.data.DataLoader`` (``pin_memory``, ``persistent_workers``,
        ``multiprocessing_context``, ``prefetch_factor``, ...).

    Examples
    --------
    >>> import genomarray as ga
    >>> seqs = ga.read_sequences(ga.example_path("seqs.fa"))
    >>> batch = next(iter(dataloader({"dna": seqs}, batch_size=8, shuffle=True, seed=0)))
    >>> batch["dna"].shape, batch["dna"].dtype
    (torch.Size([8, 200, 4]), torch.float32)
    """
    for key in ("batch_size", "shuffle", "sampler", "batch_sampler", "collate_fn"):
        if key in kwargs:
            raise TypeError(f"dataloader() sets {key} itself")
    dataset = GenomicDataset(
        inputs,
        outputs,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        augment=augment,
        onehot_order=onehot_order,
        dtype=dtype,
        max_memory_bytes=max_memory_bytes,
        buffer_chunks=buffer_chunks,
        threads=threads,
        cache_bytes=cache_bytes,
    )
    return DataLoader(
        dataset,
        batch_sampler=dataset.batch_sampler(),
        collate_fn=collate,
        num_workers=num_workers,
        **kwargs,
    )


__all__ = [
    "BatchIndices",
    "ChunkBufferBatchSampler",
    "GenomicDataset",
    "collate",
    "dataloader",
]
