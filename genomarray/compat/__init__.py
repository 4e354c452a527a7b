"""Janggu's ``janggu.data`` namespace on genomarray: change the import line, keep the script.

::

    # from janggu.data import Bioseq, Cover, ReduceDim, view
    from genomarray.compat import Bioseq, Cover, ReduceDim, view

Every public name of ``janggu.data`` (Janggu 0.10.2) is here, with Janggu's parameters:
the datasets ``Cover``, ``Bioseq``, ``Array`` (and the abstract ``Dataset``), the wrappers
``ReduceDim``, ``SqueezeDim``, ``Transpose``, ``NanToNumConverter``,
``RandomOrientation``, ``RandomSignalScale``, ``RandomShift``, the normalizers
``LogTransform``, ``ZScore``, ``ZScoreLog``, ``PercentileTrimming``,
``RegionLengthNormalization``, ``normalize_garray_tpm``, ``GenomicArray``,
``create_genomic_array``, ``GenomicIndexer``, ``check_gindexer_compatibility``,
``VariantStreamer``, ``view``, ``subset``, ``split_train_test``, ``split_train_test_``,
``plotGenomeTrack`` with ``Track``, ``LineTrack``, ``HeatTrack``, ``SeqTrack``, and
``JangguSequence`` (a keras ``PyDataset``, loaded with keras on first use).

The model side (Janggu's ``janggu`` namespace: ``Janggu``, ``inputlayer``,
``outputdense``, ``Scorer``, the layers, ...) is :mod:`genomarray.compat.keras`;
``janggu.layers``, ``janggu.utils`` and ``janggu.data.data`` are
:mod:`genomarray.compat.layers`, :mod:`genomarray.compat.utils` and
:mod:`genomarray.compat.data`. ``resource_filename`` finds Janggu's example files.

Datasets are :class:`xarray.DataArray` objects (subclasses) with Janggu's indexing:
``x[i]`` is a numpy batch ``(1, ...)``, ``x.shape``, ``len(x)``, ``x.conditions``,
``x.gindexer`` as in Janggu; anything derived from them is a plain DataArray for
genomarray's own functions. ``Cover`` values are ``(region, pos, strand, condition)``
with ``pos = ceil((binsize + 2 * flank) / resolution)`` (1 for ``resolution=None``);
``Bioseq`` one-hot ``(region, pos - order + 1, 1, 4**order)`` int8. Each constructor is
the native pipeline ``read_*(...) -> view(tile(roi, ...)) -> collapse(...) ->
normalize(...)``. Every deliberate difference from Janggu is listed in
``docs/migration.md``.
"""

from typing import Any

from genomarray.compat.base import Array, Dataset
from genomarray.compat.bioseq import Bioseq
from genomarray.compat.common import STORAGE_NAMES
from genomarray.compat.cover import COLLAPSERS, Cover
from genomarray.compat.functions import split_train_test, split_train_test_, subset, view
from genomarray.compat.gindexer import GenomicIndexer, Interval, check_gindexer_compatibility
from genomarray.compat.normalizers import (
    GenomicArray,
    LogTransform,
    PercentileTrimming,
    RegionLengthNormalization,
    ZScore,
    ZScoreLog,
    create_genomic_array,
    normalize_garray_tpm,
)
from genomarray.compat.plot import HeatTrack, LineTrack, SeqTrack, Track, plotGenomeTrack
from genomarray.compat.resources import resource_filename
from genomarray.compat.variants import VariantStreamer
from genomarray.compat.wrappers import (
    NanToNumConverter,
    RandomOrientation,
    RandomShift,
    RandomSignalScale,
    ReduceDim,
    SqueezeDim,
    Transpose,
)

__all__ = [
    "COLLAPSERS",
    "STORAGE_NAMES",
    "Array",
    "Bioseq",
    "Cover",
    "Dataset",
    "GenomicArray",
    "GenomicIndexer",
    "HeatTrack",
    "Interval",
    "JangguSequence",
    "LineTrack",
    "LogTransform",
    "NanToNumConverter",
    "PercentileTrimming",
    "RandomOrientation",
    "RandomShift",
    "RandomSignalScale",
    "ReduceDim",
    "RegionLengthNormalization",
    "SeqTrack",
    "SqueezeDim",
    "Track",
    "Transpose",
    "VariantStreamer",
    "ZScore",
    "ZScoreLog",
    "check_gindexer_compatibility",
    "create_genomic_array",
    "normalize_garray_tpm",
    "plotGenomeTrack",
    "resource_filename",
    "split_train_test",
    "split_train_test_",
    "subset",
    "view",
]


def __getattr__(name: str) -> Any:
    if name == "JangguSequence":  # a keras PyDataset: keras loads only when it is used
        from genomarray.compat.keras.sequence import JangguSequence

        return JangguSequence
    raise AttributeError(f"module 'genomarray.compat' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
