"""genomarray: genomics files as labelled, lazy xarray arrays for deep learning.

Importing genomarray registers the ``.janggu`` accessor on xarray objects. It never
imports keras, tensorflow or matplotlib: those load in the modules that need them.

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

# Installed, ``genomarray.accessors`` is the top-level ``accessors/`` folder (setuptools
# package-dir). In a source checkout that is imported without installing (``python -m
# pytest`` from the repository root), resolve it to the same folder.
_root = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if not _os.path.isdir(_os.path.join(__path__[0], "accessors")) and _os.path.isfile(
    _os.path.join(_root, "accessors", "janggu.py")
):
    __path__.append(_root)

from genomarray import accessors as _accessors  # noqa: E402, F401  (registers .janggu)
from genomarray._version import __version__  # noqa: E402
from genomarray.data import example_path  # noqa: E402
from genomarray.encode import kmer_labels  # noqa: E402
from genomarray.export.tracks import to_bed, to_bedgraph, to_bigwig  # noqa: E402
from genomarray.genome.coverage import read_bam, read_bed, read_bigwig, read_gff  # noqa: E402
from genomarray.genome.sequences import read_fasta, read_sequences  # noqa: E402
from genomarray.genome.store import open_zarr, write_zarr  # noqa: E402
from genomarray.io.chromsizes import chrom_sizes  # noqa: E402
from genomarray.io.regions import read_regions  # noqa: E402
from genomarray.model import (  # noqa: E402
    BASE,
    CHROM,
    CONDITION,
    POS,
    REGION,
    STRAND,
)
from genomarray.regions import tile  # noqa: E402
from genomarray.transforms.augment import (  # noqa: E402
    augment,
    flip,
    with_reverse_complement,
)
from genomarray.transforms.collapse import collapse  # noqa: E402
from genomarray.transforms.normalize import denormalize, normalize  # noqa: E402
from genomarray.transforms.onehot import onehot, revcomp  # noqa: E402
from genomarray.transforms.shape import (  # noqa: E402
    as_numpy_batch,
    channel_order,
    reduce_dim,
    squeeze,
)
from genomarray.transforms.split import retile, shuffle, split_train_test, subset  # noqa: E402
from genomarray.views.predictions import from_array, to_genome  # noqa: E402
from genomarray.views.shuffled import open_shuffled, write_shuffled  # noqa: E402
from genomarray.views.windows import view  # noqa: E402

_LAZY = {
    "plot_tracks": "genomarray.export.plot",
    "plot_track": "genomarray.export.plot",
    "compat": "genomarray.compat",
    "keras": "genomarray.keras",
    "plot": "genomarray.export.plot",
}


def __getattr__(name: str):
    """Load matplotlib-using (and other heavier) parts only when asked for."""
    if name in _LAZY:
        import importlib

        module = importlib.import_module(_LAZY[name])
        return module if module.__name__.endswith(name) else getattr(module, name)
    raise AttributeError(f"module 'genomarray' has no attribute {name!r}")


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
