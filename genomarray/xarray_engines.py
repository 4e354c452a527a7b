"""xarray backend engines: ``xr.open_dataset("x.bw")`` for genomics files.

Four engines, registered under ``[project.entry-points."xarray.backends"]``, each picked by the
file's extension so that no ``engine=`` is needed:

=====================  ======================================================  =============
engine                 extensions (any case; ``.gz`` / ``.bgz`` where noted)   reads with
=====================  ======================================================  =============
``genomarray_bigwig``  ``.bw``, ``.bigwig``                                    ``read_bigwig``
``genomarray_bam``     ``.bam``, ``.cram``                                     ``read_bam``
``genomarray_fasta``   ``.fa``, ``.fasta``, ``.fna`` (+ ``.gz``, ``.bgz``)     ``read_fasta``
``genomarray_bed``     ``.bed``, ``.narrowPeak``, ``.broadPeak``, ``.bedGraph``,  ``read_bed`` /
                       ``.bdg``, ``.gff``, ``.gff3``, ``.gtf`` (+ ``.gz``)     ``read_gff``
=====================  ======================================================  =============

Each engine calls the ``ga.read_*`` function with the same keywords (``resolution``,
``stranded``, ``like``, ``mode``, ``storage``, ``storage_options``, ...; the defaults are the
function's own), so it reads through the same cache and gives the same values and
coordinates; the Dataset holds that array under its name (``"coverage"`` or
``"sequence"``, also in ``ds.attrs["genomarray_var"]``). One generic ``open_dataset`` serves
the four engines: each declares the keywords it takes in ``open_dataset_parameters`` (which
xarray reads instead of the signature) and an unknown keyword is a ``TypeError`` listing
them. Two keywords differ, because ``xr.open_dataset`` keeps their names for itself:

- ``use_cache`` is ``ga.read_*``'s ``cache`` (xarray's ``cache=`` is its in-memory cache and
  never reaches a backend, not even through ``backend_kwargs``);
- ``chunk`` (bins per chunk along ``pos`` of the genomarray store) is not xarray's
  ``chunks``.

As for any xarray engine, ``xr.open_dataset(path)`` gives lazily indexed arrays (indexing
reads only what it selects) and ``xr.open_dataset(path, chunks={})`` gives dask arrays with
the chunks of the genomarray array (``encoding["preferred_chunks"]``);
``xr.open_mfdataset(paths, concat_dim="condition", combine="nested")`` stacks files as
conditions. ``progress`` defaults to ``False`` here (``True`` in ``ga.read_*``).

This module imports only xarray's backend API at import time: xarray imports it whenever it
lists its engines.

Examples
--------
>>> import xarray as xr
>>> import genomarray as ga
>>> ds = xr.open_dataset(ga.example_path("sample.bw"), engine=BigWigBackendEntrypoint,
...                      resolution=100, storage="lazy")
>>> ds.coverage.dims, ds.attrs["genomarray_var"]
(('chrom', 'pos', 'strand', 'condition'), 'coverage')
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterable
from typing import Any, ClassVar

from xarray.backends import BackendArray, BackendEntrypoint

__all__ = [
    "BamBackendEntrypoint",
    "BedBackendEntrypoint",
    "BigWigBackendEntrypoint",
    "FastaBackendEntrypoint",
]

_COMPRESSED = (".gz", ".bgz")


def _name_of(filename_or_obj: Any) -> str | None:
    """The lower-cased file name of a path or URL (no query), or None for other objects."""
    if not isinstance(filename_or_obj, str | os.PathLike):
        return None
    name = os.fspath(filename_or_obj)
    if not isinstance(name, str):
        return None
    if "://" in name:
        name = urllib.parse.urlsplit(name).path
    return os.path.basename(name).lower()


class GenomeBackendArray(BackendArray):
    """A genomarray array (dask, numpy or sparse chunks) behind xarray's lazy indexing.

    Indexing computes only the selected part of the dask graph (in the calling thread: no
    scheduler inside a scheduler's task).
    """

    def __init__(self, data: Any) -> None:
        self.data = data
        self.shape = tuple(int(n) for n in data.shape)
        self.dtype = data.dtype

    def __getitem__(self, key: Any) -> Any:
        from xarray.core import indexing

        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.OUTER_1VECTOR, self._getitem
        )

    def _getitem(self, key: tuple) -> Any:
        import numpy as np

        part = self.data[key]
        if hasattr(part, "dask"):
            part = part.compute(scheduler="synchronous")
        if hasattr(part, "todense"):  # sparse.COO chunks
            part = part.todense()
        return np.asarray(part)


def _preferred_chunks(arr: Any) -> dict[str, int | tuple[int, ...]]:
    """``{dim: chunk}`` of a dask-backed array (regular chunks as one int)."""
    if arr.chunks is None:
        return {}
    out: dict[str, int | tuple[int, ...]] = {}
    for dim, sizes in zip(arr.dims, arr.chunks, strict=True):
        sizes = tuple(int(s) for s in sizes)
        regular = len(set(sizes[:-1])) <= 1 and sizes[-1] <= sizes[0]
        out[dim] = sizes[0] if regular else sizes
    return out


def to_backend_dataset(arr: Any, drop_variables: str | Iterable[str] | None = None) -> Any:
    """Wrap a genomarray DataArray as the Dataset an engine returns.

    The data variable is lazily indexed (:class:`GenomeBackendArray`) with the array's
    chunks as ``encoding["preferred_chunks"]``; ``drop_variables`` are left out.

    Examples
    --------
    >>> import numpy as np
    >>> from genomarray import model
    >>> g = model.sequence_genome(np.zeros((1, 8), np.uint8), ["chr1"], [8])
    >>> ds = to_backend_dataset(g, drop_variables="chrom_length")
    >>> sorted(ds.variables)
    ['chrom', 'sequence']
    """
    import xarray as xr
    from xarray.core import indexing

    name = arr.name or "data"
    drop = {drop_variables} if isinstance(drop_variables, str) else set(drop_variables or ())
    coords = {k: c.variable for k, c in arr.coords.items() if k not in drop}
    data_vars = {}
    if name not in drop:
        preferred = _preferred_chunks(arr)
        encoding = {}
        if preferred:
            encoding["preferred_chunks"] = preferred
        lazy = indexing.LazilyIndexedArray(GenomeBackendArray(arr.data))
        data_vars[name] = xr.Variable(arr.dims, lazy, attrs=dict(arr.attrs), encoding=encoding)
    ds = xr.Dataset(data_vars, coords=coords)
    ds.attrs["genomarray_var"] = name
    if "store" in arr.encoding:
        ds.encoding["genomarray_store"] = str(arr.encoding["store"])
    return ds


_COMMON = ("roi", "store_whole_genome", "storage", "use_cache", "store_path", "chunk")
_LAST = ("progress", "storage_options")


class _GenomarrayBackend(BackendEntrypoint):
    """One generic ``open_dataset``, driven by the class's declared parameters.

    ``open_dataset_parameters`` lists what the engine takes (xarray reads it instead of the
    signature, so ``**kwargs`` is allowed); the keywords given are checked against it and
    handed to ``reader`` (``"module:function"``) as they are, but for ``use_cache`` (the
    reader's ``cache``) and the defaults of :attr:`defaults`. Every other default is the
    reader's own, so that the engine and ``ga.read_*`` cannot drift apart.
    """

    extensions: ClassVar[tuple[str, ...]] = ()
    compressed: ClassVar[bool] = False
    reader: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {"progress": False}

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        name = _name_of(filename_or_obj)
        if name is None:
            return False
        if self.compressed:
            for suffix in _COMPRESSED:
                name = name.removesuffix(suffix)
        return name.endswith(self.extensions)

    def open_dataset(  # type: ignore[override]
        self,
        filename_or_obj: str | os.PathLike,
        *,
        drop_variables: str | Iterable[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Read ``filename_or_obj`` with :attr:`reader` and wrap it as a Dataset.

        Raises
        ------
        TypeError
            A keyword the engine does not take (the message lists those it takes).
        """
        allowed = self.open_dataset_parameters or ()
        unknown = sorted(set(kwargs) - set(allowed))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}.open_dataset() got unexpected keyword argument(s) "
                f"{', '.join(unknown)}; it takes {', '.join(allowed[2:])}"
            )
        options = {**self.defaults, **kwargs}
        if options.get("chunk", 0) is None:  # the reader's default chunk
            del options["chunk"]
        if "use_cache" in options:
            options["cache"] = options.pop("use_cache")
        return to_backend_dataset(self.read(filename_or_obj, options), drop_variables)

    def read(self, path: Any, options: dict[str, Any]) -> Any:
        """Call the reader (imported now: listing the engines imports nothing heavy)."""
        import importlib

        module, name = self.reader.split(":")
        return getattr(importlib.import_module(module), name)(path, **options)


class BigWigBackendEntrypoint(_GenomarrayBackend):
    """``xr.open_dataset("signal.bw", resolution=50)``: :func:`genomarray.read_bigwig`.

    Keywords as in :func:`genomarray.read_bigwig` (``use_cache`` is its ``cache``).

    Examples
    --------
    >>> BigWigBackendEntrypoint().guess_can_open("a/B.BigWig")
    True
    """

    description = "bigWig signal as a genomarray coverage track (chrom, pos, strand, condition)"
    extensions = (".bw", ".bigwig")
    reader = "genomarray.genome.coverage:read_bigwig"
    open_dataset_parameters = (
        "filename_or_obj",
        "drop_variables",
        "conditions",
        "resolution",
        "how",
        "nan_to_num",
        "exact",
        *_COMMON,
        *_LAST,
    )


class BamBackendEntrypoint(_GenomarrayBackend):
    """``xr.open_dataset("reads.bam", resolution=50, stranded=True)``: :func:`genomarray.read_bam`.

    Keywords as in :func:`genomarray.read_bam` (``use_cache`` is its ``cache``).

    Examples
    --------
    >>> BamBackendEntrypoint().guess_can_open("reads.sorted.bam")
    True
    """

    description = "BAM/CRAM read counts as a genomarray coverage track"
    extensions = (".bam", ".cram")
    reader = "genomarray.genome.coverage:read_bam"
    open_dataset_parameters = (
        "filename_or_obj",
        "drop_variables",
        "conditions",
        "mode",
        "stranded",
        "min_mapq",
        "pairedend",
        "template_extension",
        "exclude_flags",
        "resolution",
        "reference",
        *_COMMON,
        *_LAST,
    )


class FastaBackendEntrypoint(_GenomarrayBackend):
    """``xr.open_dataset("genome.fa")``: :func:`genomarray.read_fasta` (uint8 codes).

    ``use_cache`` is ``read_fasta``'s ``cache`` (default ``True``: a zarr store written once).

    Examples
    --------
    >>> FastaBackendEntrypoint().guess_can_open("hg38.fa.gz")
    True
    """

    description = "a FASTA genome as genomarray uint8 codes (chrom, pos)"
    extensions = (".fa", ".fasta", ".fna")
    compressed = True
    reader = "genomarray.genome.sequences:read_fasta"
    open_dataset_parameters = (
        "filename_or_obj",
        "drop_variables",
        "alphabet",
        "use_cache",
        "store_path",
        "chunk",
        *_LAST,
    )


_BEDGRAPH = (".bedgraph", ".bdg")
_GFF = (".gff", ".gff3", ".gtf")


class BedBackendEntrypoint(_GenomarrayBackend):
    """``xr.open_dataset("peaks.narrowPeak", like="genome.fa")``: :func:`genomarray.read_bed`.

    Keywords as in :func:`genomarray.read_bed`, with ``mode`` defaulting to ``"bedgraph"``
    for bedGraph files (their values) and ``"binary"`` otherwise. GFF/GTF files go through
    :func:`genomarray.read_gff` (``mode="feature_category"``: one condition per feature).

    Examples
    --------
    >>> BedBackendEntrypoint().guess_can_open("peaks.narrowPeak.gz")
    True
    """

    description = "BED, narrowPeak, broadPeak, bedGraph, GFF/GTF intervals as a coverage track"
    extensions = (".bed", ".narrowpeak", ".broadpeak", *_BEDGRAPH, *_GFF)
    compressed = True
    reader = "genomarray.genome.coverage:read_bed"
    open_dataset_parameters = (
        "filename_or_obj",
        "drop_variables",
        "mode",
        "like",
        "conditions",
        "resolution",
        "minoverlap",
        "feature",
        "category_column",
        *_COMMON,
        *_LAST,
    )

    def read(self, path: Any, options: dict[str, Any]) -> Any:
        from genomarray.genome.coverage import read_bed, read_gff

        name = _name_of(path) or ""
        for suffix in _COMPRESSED:
            name = name.removesuffix(suffix)
        mode = options.pop("mode", None)
        if name.endswith(_GFF) and options.get("category_column") is None:
            options.pop("category_column", None)
            return read_gff(path, mode=mode or "binary", **options)
        if mode is None:
            mode = "bedgraph" if name.endswith(_BEDGRAPH) else "binary"
        return read_bed(path, mode, **options)
