"""``GenomicSequence``: a keras 3 ``PyDataset`` over region views, with no dask per batch.

A thin wrapper over the framework-free batch engine :class:`genomarray.batches.BatchEngine`
(read its module notes for how arrays are read, shuffled and augmented): this module only
checks and packs inputs, outputs and sample weights in keras' structures.

- numpy-backed views are used as they are;
- dask-backed views are read into memory at construction when together they fit
  ``max_memory_bytes``;
- larger ones stay on disk: lazy views of a cached genome store and views reopened from
  zarr are read straight from their zarr chunks (each chunk decoded once, several in
  parallel threads, the next ones read ahead); other dask arrays one region chunk at a
  time with one ``dask.compute``.

Shuffling
---------
In memory, ``shuffle=True`` draws a full permutation of the regions per epoch, seeded by
``(seed, epoch)``. Out of core, the order is shuffled *within a buffer of whole blocks*
(blocks are cut at the chunks of the on-disk arrays): the block order is permuted per
epoch, consecutive groups of ``buffer_chunks`` blocks form buffers, and the regions are
permuted inside each buffer. Every region is still seen exactly once per epoch and each
chunk is read about once per epoch.

:meth:`GenomicSequence.on_epoch_end` (called by keras) advances the epoch. Augmentation
draws are keyed by ``(seed, epoch, region)``: batches are reproducible whatever order
keras' workers fetch them in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from genomarray import model
from genomarray.batches.chunks import CACHE_BYTES
from genomarray.batches.engine import (
    MAX_MEMORY_BYTES,
    BatchEngine,
    Request,
    onehot_order_of,
    served_dtype,
)
from genomarray.errors import InputError

try:  # keras is an optional extra: the module imports (for doctests) without it
    import keras

    _PyDataset: Any = keras.utils.PyDataset
except ImportError:  # pragma: no cover - exercised only without the extra
    keras = None
    _PyDataset = object

_SINGLE, _LIST, _DICT = "single", "list", "dict"


def _structure(obj: Any, what: str) -> tuple[str, list[Any], list[Any]]:
    """Split ``obj`` into (structure, keys, arrays)."""
    if isinstance(obj, Mapping):
        if not obj:
            raise InputError(f"{what} is an empty dict", source="GenomicSequence")
        return _DICT, list(obj), list(obj.values())
    if isinstance(obj, list | tuple):
        if not obj:
            raise InputError(f"{what} is an empty list", source="GenomicSequence")
        return _LIST, list(range(len(obj))), list(obj)
    return _SINGLE, [0], [obj]


def _pack(structure: str, keys: list[Any], arrays: list[np.ndarray]) -> Any:
    if structure == _DICT:
        return dict(zip(keys, arrays, strict=True))
    if structure == _LIST:
        return tuple(arrays)
    return arrays[0]


def _check_regions(first: xr.DataArray, first_name: str, other: xr.DataArray, name: str) -> None:
    """Raise naming the first region where ``other`` differs from ``first``."""
    if other.sizes[model.REGION] != first.sizes[model.REGION]:
        raise InputError(
            f"{name} has {other.sizes[model.REGION]} regions but {first_name} "
            f"has {first.sizes[model.REGION]}",
            source="GenomicSequence",
        )
    for coord in (model.REGION_CHROM, model.REGION_START, model.REGION_END):
        if coord not in first.coords or coord not in other.coords:
            continue
        a = np.asarray(first[coord].values)
        b = np.asarray(other[coord].values)
        diff = np.flatnonzero(a.astype(str) != b.astype(str) if a.dtype == object else a != b)
        if diff.size:
            i = int(diff[0])
            raise InputError(
                f"{name} and {first_name} do not share the same regions: region {i} is "
                f"{_region_str(other, i)} in {name} but {_region_str(first, i)} in "
                f"{first_name}",
                source="GenomicSequence",
            )


def _region_str(arr: xr.DataArray, i: int) -> str:
    return (
        f"{arr[model.REGION_CHROM].values[i]}:{int(arr[model.REGION_START].values[i])}-"
        f"{int(arr[model.REGION_END].values[i])}"
    )


class _Part:
    """One array as the model builders see it: its label, data (the view's, or its values
    once in memory), the one-hot order asked for and its alphabet."""

    def __init__(self, served: Any, order: int | None) -> None:
        self.key = served.key
        self.data = served.data
        self.order = order
        self.alphabet = served.alphabet


class GenomicSequence(_PyDataset):  # type: ignore[misc, valid-type]
    """Batches of region views for keras 3 ``fit``, ``evaluate`` and ``predict``.

    Parameters
    ----------
    inputs
        A view, a list of views or a dict ``{model input name: view}``: sequence code
        views ``(region, pos)`` (one-hot encoded per batch when ``onehot_order`` is set),
        one-hot views, coverage views ``(region, pos, strand, condition)`` or per-region
        arrays. All must share the same regions (``chrom``, ``start``, ``end``).
    outputs
        Targets in the same forms, or None (``predict``: batches hold only ``x``).
    sample_weights
        Per-example weights in the structure of ``outputs`` (arrays of length n or
        views); never augmented.
    batch_size
        Examples per batch; the last batch may be shorter.
    shuffle
        Shuffle the examples each epoch (see the module notes for the out-of-core order).
    seed
        Seed of the shuffles and the augmentation draws (random if None, then fixed for
        the life of this object).
    augment
        ``"flip"``, ``"shift"``, ``"scale"``, an
        :class:`~genomarray.transforms.augment.Augmentation` or a list of them: one draw
        per example, applied to all its inputs and outputs.
    onehot_order
        One-hot order for the sequence code views: an int for all of them, a dict
        ``{name or position: order}``, or None to feed the uint8 codes as they are.
    dtype
        dtype of the one-hot and of all other inputs and outputs (None: as stored).
        Sequence code views that are not one-hot encoded here (``onehot_order`` None for
        them) always go as uint8 codes: put a :class:`~genomarray.keras.layers.OneHot`
        layer first in the model and a batch is 4·4ᵏ× smaller (16× at order 1).
    max_memory_bytes
        Dask-backed views are read into memory at construction when together they take
        at most this many bytes; larger ones are read from disk chunk by chunk (lazy views
        of a genome store and views reopened from zarr straight from their zarr chunks,
        with the decoded chunks of about three shuffle buffers held in memory).
    buffer_chunks
        Blocks per shuffle buffer of the out-of-core path.
    threads
        Threads that decode chunks (default: up to 4, one per core); more can help out of
        core on a machine with many cores.
    cache_bytes
        Out of core, the most bytes of decoded chunks held per view (at least 4 chunks;
        default 512 MiB). Where an epoch needs more chunks than that, they are decoded
        again every epoch.
    workers, use_multiprocessing, max_queue_size
        Passed to :class:`keras.utils.PyDataset`.

    Examples
    --------
    >>> import genomarray as ga  # doctest: +SKIP
    >>> from genomarray.keras import GenomicSequence  # doctest: +SKIP
    >>> seq = GenomicSequence({"dna": codes_view}, labels, onehot_order=1,
    ...                       batch_size=64, shuffle=True, seed=0,
    ...                       augment="flip")  # doctest: +SKIP
    >>> model.fit(seq, validation_data=val_seq, epochs=10)  # doctest: +SKIP
    """

    def __init__(
        self,
        inputs: Any,
        outputs: Any = None,
        *,
        sample_weights: Any = None,
        batch_size: int = 32,
        shuffle: bool = False,
        seed: int | None = None,
        augment: Any = None,
        onehot_order: int | Mapping[Any, int] | None = None,
        dtype: str | np.dtype | None = "float32",
        max_memory_bytes: int = MAX_MEMORY_BYTES,
        buffer_chunks: int = 4,
        threads: int | None = None,
        cache_bytes: int = CACHE_BYTES,
        workers: int = 1,
        use_multiprocessing: bool = False,
        max_queue_size: int = 10,
    ) -> None:
        if keras is None:  # pragma: no cover
            raise ImportError("GenomicSequence needs keras 3: pip install 'genomarray[keras]'")
        super().__init__(
            workers=workers, use_multiprocessing=use_multiprocessing, max_queue_size=max_queue_size
        )
        if int(batch_size) < 1:
            raise InputError(f"batch_size must be >= 1, got {batch_size}", source="GenomicSequence")
        if int(buffer_chunks) < 1:
            raise InputError(
                f"buffer_chunks must be >= 1, got {buffer_chunks}", source="GenomicSequence"
            )
        aug = augment is not None
        requests: list[Request] = []
        self._parts: dict[str, tuple[str, list[Any], Any]] = {}
        first: tuple[str, xr.DataArray] | None = None
        for part, obj in (("x", inputs), ("y", outputs), ("w", sample_weights)):
            if obj is None:
                continue
            what = {"x": "inputs", "y": "outputs", "w": "sample_weights"}[part]
            structure, keys, arrays = _structure(obj, what)
            labels = []
            for k, arr in zip(keys, arrays, strict=True):
                label = what if structure == _SINGLE else f"{what}[{k!r}]"
                if isinstance(arr, xr.DataArray):
                    if first is None:
                        first = (label, arr)
                    else:
                        _check_regions(first[1], first[0], arr, label)
                order = onehot_order_of(onehot_order, k, arr) if part == "x" else None
                want = np.dtype("float32") if part == "w" else served_dtype(arr, order, dtype)
                requests.append(Request(label, arr, order, want, aug and part != "w"))
                labels.append(label)
            self._parts[part] = (structure, keys, labels)
        if "x" not in self._parts:
            raise InputError("inputs is None", source="GenomicSequence")
        if "w" in self._parts and "y" not in self._parts:
            raise InputError("sample_weights need outputs", source="GenomicSequence")
        self.engine = BatchEngine(
            requests,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            augment=augment,
            max_memory_bytes=int(max_memory_bytes),
            buffer_chunks=buffer_chunks,
            threads=threads,
            who="GenomicSequence",
            cache_bytes=cache_bytes,
        )
        served = {a.key: a for a in self.engine.served}
        orders = {r.key: r.order for r in requests}
        self._parts = {  # what keras.models reads: per array its data, one-hot order, alphabet
            part: (structure, keys, [_Part(served[k], orders[k]) for k in labels])
            for part, (structure, keys, labels) in self._parts.items()
        }

    # -- construction ---------------------------------------------------------------------
    # -- what the engine holds ------------------------------------------------------------
    @property
    def batch_size(self) -> int:
        return self.engine.batch_size

    @property
    def shuffle(self) -> bool:
        return self.engine.shuffle

    @property
    def seed(self) -> int:
        return self.engine.seed

    @property
    def augmentation(self) -> Any:
        return self.engine.augmentation

    @property
    def buffer_chunks(self) -> int:
        return self.engine.buffer_chunks

    @property
    def n(self) -> int:
        """Number of examples."""
        return self.engine.n

    @property
    def epoch(self) -> int:
        """The current epoch (advanced by :meth:`on_epoch_end`)."""
        return self.engine.epoch

    @epoch.setter
    def epoch(self, value: int) -> None:
        self.engine.epoch = int(value)

    @property
    def in_memory(self) -> bool:
        """Whether every source is held in memory (else read from disk chunk by chunk)."""
        return self.engine.in_memory

    @property
    def n_blocks(self) -> int:
        """Number of blocks the out-of-core sources are read in (1 in memory)."""
        return self.engine.n_blocks

    @property
    def bounds(self) -> np.ndarray:
        """Block boundaries, in storage order (see :attr:`BatchEngine.storage`)."""
        return self.engine.bounds

    # -- epochs and order -----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.engine)

    def on_epoch_end(self) -> None:
        """Advance the epoch: a new shuffle and new augmentation draws."""
        self.engine.epoch += 1

    def order(self, epoch: int | None = None) -> np.ndarray:
        """Region indices in the order the batches of ``epoch`` visit them."""
        return self.engine.order(epoch)

    def __getitem__(self, index: int) -> Any:
        batch = self.engine.batch(int(index))
        result = []
        for part in ("x", "y", "w"):
            if part in self._parts:
                structure, keys, arrays = self._parts[part]
                result.append(_pack(structure, keys, [batch[a.key] for a in arrays]))
        return result[0] if len(result) == 1 and self._parts["x"][0] != _LIST else tuple(result)


__all__ = ["GenomicSequence", "MAX_MEMORY_BYTES"]
