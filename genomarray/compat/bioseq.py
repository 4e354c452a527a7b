"""Janggu's ``Bioseq``: sequence views ``(region, pos, strand, base)`` from a genome or
sequences, with Janggu's constructor names and shapes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from genomarray import model
from genomarray.compat.base import Dataset, adopt
from genomarray.compat.common import (
    add_strand,
    check_name,
    file_list,
    finish,
    record_call,
    storage_name,
    warn_ignored,
)
from genomarray.errors import InputError

ONEHOT_DTYPE = "int8"
"""dtype of Bioseq's one-hot, as Janggu documents (``dtype=int8``)."""

NOLETTER = -100000000
"""Janggu's code of an unknown letter in :meth:`Bioseq.iseq4idx`."""


def _onehot(codes: xr.DataArray, order: int, materialize: bool) -> xr.DataArray:
    """One-hot (with Janggu's strand axis) of a codes view; shuffling coordinates kept."""
    from genomarray.transforms.onehot import onehot

    if materialize:  # the codes (1 byte/base) in memory, one-hot computed per access
        values = np.asarray(codes.values)
        codes = codes.copy(data=da.from_array(values, chunks=-1))
    x = onehot(codes, order=order, dtype=ONEHOT_DTYPE)
    if model.REGION_INDEX in codes.coords:
        x = x.assign_coords({model.REGION_INDEX: codes[model.REGION_INDEX].variable})
    return add_strand(x)


# -- Bioseq -----------------------------------------------------------------------------
class Bioseq(Dataset):
    """Janggu's ``Bioseq``: one-hot sequences ``(region, pos, strand, base)``, int8.

    A :class:`~genomarray.compat.base.Dataset` (an :class:`xarray.DataArray` with Janggu's
    indexing) of shape ``(N, L - order + 1, 1, 4**order)``; ``base`` labels the k-mers
    (``AA``, ``AC``, ...), which are also its ``conditions``. Build it with
    ``create_from_refgenome`` / ``create_from_seq``, or from a genome and a
    ``GenomicIndexer``: ``Bioseq(name, garray=genome, gindexer=gi, order=1)`` with
    ``genome`` from :func:`genomarray.read_fasta`.

    Examples
    --------
    >>> import genomarray as ga
    >>> x = Bioseq.create_from_refgenome("dna", refgenome=ga.example_path("genome.fa"),
    ...                                  roi=ga.example_path("roi.bed"), binsize=200,
    ...                                  order=2)
    >>> x.shape, x.conditions[:3], x[0].dtype
    ((230, 199, 1, 16), ['AA', 'AC', 'AG'], dtype('int8'))
    """

    __slots__ = ()

    def __init__(
        self, name: str, garray: Any, gindexer: Any, alphabet: Any = None, order: int = 1
    ) -> None:
        from genomarray.views.windows import view as view_of

        check_name(name)
        if not isinstance(garray, xr.DataArray) or garray.dims != (model.CHROM, model.POS):
            raise InputError(
                "Bioseq(name, garray, gindexer) takes a sequence genome (chrom, pos) as "
                "garray (genomarray.read_fasta)",
                source="Bioseq",
            )
        codes = view_of(garray, gindexer.tiles())
        x = _onehot(codes, order, materialize=False).rename(name)
        xr.DataArray.__init__(
            self, x.variable, x._coords, name=name, indexes=x._indexes, fastpath=True
        )

    def iseq4idx(self, idxs: Any) -> np.ndarray:
        """Integer-coded k-mers of the regions ``idxs``, ``(len(idxs), L - order + 1)``:
        A 0, C 1, G 2, T 3 (base 4, first letter most significant), ``-100000000`` where
        a k-mer holds an unknown letter (Janggu's ``iseq4idx``)."""
        onehot = self.batch(idxs)[:, :, 0, :]
        codes = onehot.argmax(axis=-1).astype(np.int64)
        codes[onehot.max(axis=-1) == 0] = NOLETTER
        return codes

    @classmethod
    def create_from_refgenome(
        cls,
        name: str,
        refgenome: Any,
        roi: Any = None,
        binsize: int | None = None,
        stepsize: int | None = None,
        flank: int = 0,
        order: int = 1,
        storage: str = "ndarray",
        datatags: Any = None,
        cache: bool = False,
        overwrite: bool = False,
        random_state: Any = None,
        store_whole_genome: bool = False,
        verbose: bool = False,
        channel_last: bool = True,
        zero_padding: bool = True,
    ) -> xr.DataArray:
        """One-hot sequence of regions of a reference genome.

        Janggu's ``Bioseq.create_from_refgenome``: minus-strand regions are
        reverse-complemented; windows past a chromosome end are padded with N (all-zero
        rows).

        Parameters
        ----------
        name
            Name of the returned DataArray.
        refgenome
            FASTA path, or a genome array from :func:`genomarray.genome.sequences.read_fasta`.
        roi
            Regions of interest (BED/GFF path, DataFrame, PyRanges); None with
            ``store_whole_genome=True`` returns the genome's ``(chrom, pos)`` codes.
        binsize, stepsize, flank, zero_padding
            Tiling of ``roi`` (see :func:`genomarray.regions.tile`).
        order
            k-mer order of the one-hot encoding.
        storage
            ``"ndarray"`` (the window codes in memory, one-hot computed per access) or
            ``"hdf5"`` (lazy over the genome's zarr store).
        cache
            Keep the genome in the zarr cache (always so with ``"hdf5"``).
        random_state
            Shuffle the regions (Janggu's permutation for an integer seed).
        channel_last
            False gives Janggu's channel-first layout ``(region, base, pos, strand)``.
        store_whole_genome, verbose
            ``verbose`` shows progress bars; the genome is always read whole and lazily.
        datatags, overwrite
            No effect (DeprecationWarning when set).

        Examples
        --------
        >>> import genomarray as ga
        >>> x = Bioseq.create_from_refgenome("dna", ga.example_path("genome.fa"),
        ...                                  roi=ga.example_path("roi.bed"), binsize=100,
        ...                                  flank=10, storage="hdf5")
        >>> len(x), x[0:4].shape
        (460, (4, 120, 1, 4))
        """
        args = dict(locals())
        from genomarray.genome.sequences import read_fasta
        from genomarray.regions import tile
        from genomarray.transforms.split import shuffle
        from genomarray.views.windows import view as view_of

        check_name(name)
        warn_ignored(datatags, overwrite)
        native = storage_name(storage, ("ndarray", "hdf5", "memory", "zarr", "lazy"))
        if isinstance(refgenome, xr.DataArray):
            genome = refgenome
        else:
            genome = read_fasta(refgenome, cache=cache or native == "zarr", progress=verbose)
        if roi is None:
            if not store_whole_genome:
                raise InputError(
                    "either roi must be supplied or store_whole_genome must be True",
                    source="create_from_refgenome",
                )
            return genome.rename(name)
        tiles = tile(
            roi, binsize=binsize, stepsize=stepsize, flank=flank, zero_padding=zero_padding
        )
        codes = view_of(genome, tiles)
        if random_state is not None:
            codes = shuffle(codes, random_state)
        x = _onehot(codes, order, materialize=native == "memory")
        x = finish(
            x,
            name,
            channel_last=channel_last,
            channel_first_dims=(model.REGION, model.BASE, model.POS, model.STRAND),
        )
        if isinstance(refgenome, xr.DataArray):
            return adopt(cls, x)
        return adopt(cls, record_call(x, "Bioseq.create_from_refgenome", args))

    @classmethod
    def create_from_seq(
        cls,
        name: str,
        fastafile: str | Sequence[str],
        storage: str = "ndarray",
        seqtype: str = "dna",
        order: int = 1,
        fixedlen: int | None = None,
        datatags: Any = None,
        cache: bool = False,
        channel_last: bool = True,
        overwrite: bool = False,
        verbose: bool = False,
    ) -> xr.DataArray:
        """One-hot of a FASTA of sequences (Janggu's ``Bioseq.create_from_seq``).

        Parameters
        ----------
        name
            Name of the returned DataArray.
        fastafile
            FASTA file or list of files; each record is one region (named by its ID).
        seqtype
            ``"dna"`` or ``"protein"`` (20 letters: ``20**order`` channels).
        order
            k-mer order of the one-hot encoding.
        fixedlen
            Truncate or pad (with N / X at the end) every sequence to this length; else
            all must be equally long.
        storage
            ``"ndarray"`` or ``"hdf5"`` (both hold the codes in memory here).
        channel_last
            False gives the channel-first layout ``(region, base, pos, strand)``.
        cache, datatags, overwrite, verbose
            No effect (``datatags``/``overwrite``: DeprecationWarning when set).

        Examples
        --------
        >>> import genomarray as ga
        >>> x = Bioseq.create_from_seq("seqs", ga.example_path("proteins.fa"),
        ...                            seqtype="protein", fixedlen=60)
        >>> x.shape
        (10, 60, 1, 20)
        """
        from genomarray.genome.sequences import read_sequences

        check_name(name)
        warn_ignored(datatags, overwrite)
        storage_name(storage, ("ndarray", "hdf5", "memory", "zarr", "lazy"))
        parts = [
            read_sequences(p, fixedlen=fixedlen, alphabet=seqtype) for p in file_list(fastafile)
        ]
        widths = {p.sizes[model.POS] for p in parts}
        if len(widths) > 1:
            raise InputError(
                f"the files hold sequences of different lengths {sorted(widths)};"
                " pass fixedlen= to truncate or pad them",
                source="create_from_seq",
            )
        codes = (
            parts[0]
            if len(parts) == 1
            else xr.concat(parts, dim=model.REGION, combine_attrs="drop_conflicts")
        )
        ids = pd.Series(codes[model.REGION_NAME].values)
        if ids.duplicated().any():
            raise InputError(
                f"sequence IDs must be unique; {ids[ids.duplicated()].iloc[0]!r} "
                "appears more than once",
                source="create_from_seq",
            )
        x = _onehot(codes, order, materialize=True)
        x = finish(
            x,
            name,
            channel_last=channel_last,
            channel_first_dims=(model.REGION, model.BASE, model.POS, model.STRAND),
        )
        return adopt(cls, x)
