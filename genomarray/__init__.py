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

from genomarray import accessors as _accessors  # noqa: F401  (registers .janggu)
from genomarray._version import __version__
from genomarray.data import example_path
from genomarray.encode import kmer_labels
from genomarray.io.chromsizes import chrom_sizes
from genomarray.model import (
    BASE,
    CHROM,
    CONDITION,
    POS,
    REGION,
    STRAND,
)
from genomarray.regions import read_regions, tile
from genomarray.sequences import onehot, read_fasta, read_sequences, revcomp
from genomarray.store import open_zarr, write_zarr
from genomarray.views import view

__all__ = [
    "BASE", "CHROM", "CONDITION", "POS", "REGION", "STRAND", "__version__", "chrom_sizes",
    "example_path", "kmer_labels", "onehot", "open_zarr", "read_fasta", "read_regions",
    "read_sequences", "revcomp", "tile", "view", "write_zarr",
]
