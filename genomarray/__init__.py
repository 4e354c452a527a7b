"""genomarray: genomics files as labelled, lazy xarray arrays for deep learning.

Importing genomarray registers the ``.janggu`` accessor on xarray objects and loads little
else: every function below loads its module on first use, so dask.array, zarr, pysam,
pyBigWig, numba and sparse load when a reader or a transform is first called, and keras,
tensorflow, torch and matplotlib only in the modules that need them.

Examples
--------
>>> import genomarray as ga
>>> dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
>>> roi = ga.tile(ga.read_regions(ga.example_path("roi.bed")), binsize=200, flank=100)
>>> x = dna.janggu.view(roi).janggu.onehot(order=2)
>>> x.dims
('region', 'pos', 'base')
"""

import os as _os
from typing import TYPE_CHECKING, Any

# Installed, ``genomarray.accessors`` is the top-level ``accessors/`` folder (setuptools
# package-dir). In a source checkout that is imported without installing (``python -m
# pytest`` from the repository root), resolve it to the same folder.
_root = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if not _os.path.isdir(_os.path.join(__path__[0], "accessors")) and _os.path.isfile(
    _os.path.join(_root, "accessors", "janggu.py")
):
    __path__.append(_root)

from genomarray import accessors as _accessors  # noqa: E402, F401  (registers .janggu)
from genomarray import direct_reads as _direct_reads  # noqa: E402
from genomarray._version import __version__  # noqa: E402
from genomarray.model import BASE, CHROM, CONDITION, POS, REGION, STRAND  # noqa: E402


def _read_recorded(data: Any, recipe: dict) -> Any:
    """The batch engine's read of a recorded view (imported on first use)."""
    from genomarray.batches.load import recorded_values

    return recorded_values(data, recipe)


_direct_reads.set_values_reader(_read_recorded)  # .values of recorded views: no dask graph

_EXPORTS = {
    "genomarray.batches.load": ["load"],
    "genomarray.data": ["example_path"],
    "genomarray.encode": ["kmer_labels"],
    "genomarray.export.tracks": ["to_bed", "to_bedgraph", "to_bigwig"],
    "genomarray.export.plot": ["plot_track", "plot_tracks"],
    "genomarray.genome.coverage": ["read_bam", "read_bed", "read_bigwig", "read_gff"],
    "genomarray.genome.sequences": ["read_fasta", "read_sequences"],
    "genomarray.genome.store": ["open_zarr", "write_zarr"],
    "genomarray.io.chromsizes": ["chrom_sizes"],
    "genomarray.io.regions": ["read_regions"],
    "genomarray.regions": ["tile"],
    "genomarray.transforms.augment": ["augment", "flip", "with_reverse_complement"],
    "genomarray.transforms.collapse": ["collapse"],
    "genomarray.transforms.normalize": ["denormalize", "normalize"],
    "genomarray.transforms.onehot": ["onehot", "revcomp"],
    "genomarray.transforms.shape": ["as_numpy_batch", "channel_order", "reduce_dim", "squeeze"],
    "genomarray.transforms.split": ["retile", "shuffle", "split_train_test", "subset"],
    "genomarray.views.predictions": ["from_array", "to_genome"],
    "genomarray.views.shuffled": ["open_shuffled", "write_shuffled"],
    "genomarray.views.windows": ["view"],
}
_LAZY = {name: module for module, names in _EXPORTS.items() for name in names}
_SUBPACKAGES = {
    "compat": "genomarray.compat",
    "keras": "genomarray.keras",
    "torch": "genomarray.torch",
}

if TYPE_CHECKING:  # the names as static tools (type checkers, IDEs) should see them
    from genomarray.batches.load import load
    from genomarray.data import example_path
    from genomarray.encode import kmer_labels
    from genomarray.export.plot import plot_track, plot_tracks
    from genomarray.export.tracks import to_bed, to_bedgraph, to_bigwig
    from genomarray.genome.coverage import read_bam, read_bed, read_bigwig, read_gff
    from genomarray.genome.sequences import read_fasta, read_sequences
    from genomarray.genome.store import open_zarr, write_zarr
    from genomarray.io.chromsizes import chrom_sizes
    from genomarray.io.regions import read_regions
    from genomarray.regions import tile
    from genomarray.transforms.augment import augment, flip, with_reverse_complement
    from genomarray.transforms.collapse import collapse
    from genomarray.transforms.normalize import denormalize, normalize
    from genomarray.transforms.onehot import onehot, revcomp
    from genomarray.transforms.shape import as_numpy_batch, channel_order, reduce_dim, squeeze
    from genomarray.transforms.split import retile, shuffle, split_train_test, subset
    from genomarray.views.predictions import from_array, to_genome
    from genomarray.views.shuffled import open_shuffled, write_shuffled
    from genomarray.views.windows import view


def __getattr__(name: str):
    """Load each function's module on first use, so ``import genomarray`` stays light:
    it loads xarray and the accessor, not dask.array, zarr, pysam, numba or matplotlib."""
    import importlib

    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later lookups skip this function
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(_SUBPACKAGES[name])
    if name in ("errors", "model", "paths", "atomic", "encode", "regions"):
        return importlib.import_module(f"genomarray.{name}")
    raise AttributeError(f"module 'genomarray' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBPACKAGES})


__all__ = [
    "plot_track",
    "plot_tracks",
    "BASE",
    "CHROM",
    "CONDITION",
    "POS",
    "REGION",
    "STRAND",
    "__version__",
    "as_numpy_batch",
    "augment",
    "channel_order",
    "chrom_sizes",
    "collapse",
    "denormalize",
    "example_path",
    "flip",
    "from_array",
    "kmer_labels",
    "load",
    "normalize",
    "onehot",
    "open_shuffled",
    "open_zarr",
    "read_bam",
    "read_bed",
    "read_bigwig",
    "read_fasta",
    "read_gff",
    "read_regions",
    "read_sequences",
    "reduce_dim",
    "retile",
    "revcomp",
    "shuffle",
    "split_train_test",
    "squeeze",
    "subset",
    "tile",
    "to_bed",
    "to_bedgraph",
    "to_bigwig",
    "to_genome",
    "view",
    "with_reverse_complement",
    "write_shuffled",
    "write_zarr",
]
