"""Janggu's ``JangguSequence``: batches of Janggu datasets as a keras 3 ``PyDataset``.

``JangguSequence(inputs, outputs=None, sample_weights=None, batch_size=32, shuffle=False,
as_dict=True)``: ``len`` is ``ceil(N / batch_size)``; item ``i`` is the batch
``(inputs, outputs, sample_weights)``, each a dict by dataset name (``as_dict=True``) or a
list, indexed with Janggu's ``dataset[idx]``; a part with a single dataset is its array
(keras 3 does not match a one-key dict to a single input or output, keras 2 did). Parts that
are None are left out of the tuple (keras 3 takes ``(x,)``, ``(x, y)`` or ``(x, y, w)``;
Janggu returned Nones). With ``shuffle=True`` the order is permuted after every epoch
with numpy's global random state, as Janggu did.

Datasets whose values fit in ``MEMORY_BUDGET`` bytes are read into memory once (Janggu
held its ``ndarray`` storage in memory too); larger ones are read per batch. The random
wrappers still draw per batch.

The class is built on first use (keras is imported then).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import xarray as xr

MEMORY_BUDGET = 1 << 30
"""Datasets up to this many bytes are read into memory once."""

__all__ = ["JangguSequence"]  # noqa: F822 - module __getattr__ builds them


def as_named(data: Any) -> dict[str, Any] | None:
    """Janggu's datasets (one, a list or a dict) as ``{name: dataset}``."""
    if data is None:
        return None
    if isinstance(data, dict):
        return dict(data)
    items = list(data) if isinstance(data, list | tuple) else [data]
    out = {}
    for i, item in enumerate(items):
        name = getattr(item, "name", None)
        out[str(name) if isinstance(name, str) else f"input_{i}"] = item
    return out


class _Source:
    """One dataset's batches: from memory when it fits, else per batch."""

    def __init__(self, data: Any) -> None:
        from genomarray.compat.base import Dataset

        self.data = data
        self.values = None
        self.finish = None
        if isinstance(data, Dataset):
            if data.nbytes <= MEMORY_BUDGET:
                self.values = np.asarray(data.native.values)
                self.finish = data.finish_batch
        elif isinstance(data, xr.DataArray):
            self.values = np.asarray(data.values)
        elif isinstance(data, np.ndarray):
            self.values = data

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, idx: list[int]) -> np.ndarray:
        if self.values is not None:
            batch = self.values[idx]
            return self.finish(batch) if self.finish is not None else batch
        return np.asarray(self.data[idx])


@functools.cache
def _class() -> type:
    import keras

    class JangguSequence(keras.utils.PyDataset):
        """Janggu's ``JangguSequence`` (see the module documentation).

        Examples
        --------
        >>> import numpy as np
        >>> from genomarray.compat import Array
        >>> seq = JangguSequence(Array("x", np.zeros((70, 3))), Array("y", np.ones((70, 1))))
        >>> len(seq), seq[2][0]["x"].shape
        (3, (6, 3))
        """

        def __init__(
            self,
            inputs: Any,
            outputs: Any = None,
            sample_weights: Any = None,
            batch_size: int = 32,
            shuffle: bool = False,
            as_dict: bool = True,
            workers: int = 1,
            use_multiprocessing: bool = False,
            max_queue_size: int = 10,
        ) -> None:
            super().__init__(
                workers=workers,
                use_multiprocessing=use_multiprocessing,
                max_queue_size=max_queue_size,
            )
            self.inputs = as_named(inputs)
            self.outputs = as_named(outputs)
            self.sample_weights = sample_weights
            self.batch_size = int(batch_size)
            self.shuffle = bool(shuffle)
            self.as_dict = bool(as_dict)
            self._sources = {
                part: {k: _Source(v) for k, v in (data or {}).items()}
                for part, data in (("x", self.inputs), ("y", self.outputs))
            }
            lengths = {len(s) for part in self._sources.values() for s in part.values()}
            if len(lengths) > 1:
                raise ValueError(
                    f"the datasets have different lengths {sorted(lengths)}; inputs and "
                    "outputs must describe the same examples"
                )
            n = lengths.pop() if lengths else 0
            self.indices = list(range(n))
            if self.shuffle:
                np.random.shuffle(self.indices)  # noqa: NPY002 - Janggu drew from numpy's global state

        def __len__(self) -> int:
            return int(math.ceil(len(self.indices) / self.batch_size))

        def _pack(self, part: str, idx: list[int]) -> Any:
            sources = self._sources[part]
            if not sources:
                return None
            arrays = {k: s[idx] for k, s in sources.items()}
            values = list(arrays.values())
            if len(values) == 1:  # keras 3 wants one array for a single input or output
                return values[0]
            return arrays if self.as_dict else values

        def __getitem__(self, idx: int) -> tuple[Any, ...]:
            if not 0 <= idx < len(self):
                raise IndexError(f"batch {idx} of a sequence of {len(self)} batches")
            sel = self.indices[idx * self.batch_size : (idx + 1) * self.batch_size]
            x = self._pack("x", sel)
            y = self._pack("y", sel)
            w = None
            if self.sample_weights is not None:
                w = np.asarray(self.sample_weights)[sel]
            parts: tuple[Any, ...] = (x,)
            if y is not None or w is not None:
                parts = (x, y)
            if w is not None:
                parts = (x, y, w)
            return parts

        def on_epoch_end(self) -> None:
            if self.shuffle:
                np.random.shuffle(self.indices)  # noqa: NPY002 - Janggu drew from numpy's global state

    return JangguSequence


def __getattr__(name: str) -> Any:
    if name == "JangguSequence":
        return _class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
