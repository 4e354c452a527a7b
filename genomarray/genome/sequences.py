"""Sequences as arrays: the genome from a FASTA, sets of equal-length sequences, one-hot.

``read_fasta`` gives the lazy ``(chrom, pos)`` genome of uint8 codes. The normal path
writes it to a zarr store once (content-addressed cache) and reopens it lazily; with
``cache=False`` each chunk is read from the FASTA on demand.
"""

from __future__ import annotations

import os
from functools import partial
from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr

from genomarray import encode, model
from genomarray.errors import InputError, check_exists
from genomarray.genome import graph
from genomarray.genome.cache import cache_key, cached
from genomarray.io import fasta
from genomarray.io.remote import fingerprint_of, is_url, local_path, remote_info


def read_fasta(
    path: str | os.PathLike,
    alphabet: str = encode.DNA,
    cache: bool = True,
    store_path: str | os.PathLike | None = None,
    chunk: int = graph.DEFAULT_CHUNK,
    progress: bool = True,
    storage_options: dict[str, Any] | None = None,
) -> xr.DataArray:
    """Read a FASTA genome as a lazy ``(chrom, pos)`` array of uint8 codes.

    Parameters
    ----------
    path
        FASTA file (plain or bgzip-compressed) or its ``http(s)://`` URL (read by range
        requests; its ``.fai``/``.gzi`` must be next to it on the server). Its ``.fai``
        index is checked against the file and (re)built where missing or stale (see
        :mod:`genomarray.io.fasta`).
        Refused with an :class:`~genomarray.errors.InputError` naming the record and line:
        an empty file, two records of one name, lines of uneven length within a record,
        and any space, tab or other non-letter character inside a sequence line (it is
        not stripped: a space would otherwise be read as a base, shifting the rest).
    alphabet
        ``"dna"`` (A,C,G,T = 0..3, anything else 4) or ``"protein"`` (20 letters, else 20).
        Lower case is upper-cased.
    cache
        Write the genome to a zarr store once (keyed by the FASTA's content) and reopen
        it lazily. ``False`` reads chunks from the FASTA on demand.
    store_path
        Where to write the store (default: ``<output root>/cache/``): a folder or an fsspec
        URL (``s3://bucket/genome.zarr``). Implies ``cache``.
    chunk
        Chunk length along ``pos``.
    progress
        Show a progress bar while the store is built.
    storage_options
        fsspec options for a ``store_path`` URL (credentials, ``endpoint_url``, ...).

    Returns
    -------
    xarray.DataArray
        ``(chrom, pos)`` uint8, dask-backed, with ``chrom_length`` on ``chrom``.

    Examples
    --------
    >>> import genomarray as ga
    >>> dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    >>> dna.sizes["chrom"], int(dna.chrom_length.sel(chrom="chr2"))
    (3, 30000)
    """
    path = local_path(path)
    url = is_url(path)  # read by range requests; its fingerprint names the version read
    path = path if url else os.path.abspath(check_exists(path, "FASTA file", random_access=True))
    encode.letters(alphabet)
    sizes = fasta.fasta_sizes(path)
    chroms, lengths = list(sizes), list(sizes.values())
    version = fingerprint_of(remote_info(path)) if url else None

    keep = graph.KeptBlocks()  # a fresh store's first reads come from the blocks written

    def build(kept: bool = True) -> xr.DataArray:
        reader = partial(fasta.read_block, path, alphabet=alphabet, fingerprint=version)
        spec = dict(
            reader=reader,
            chroms=chroms,
            lengths=lengths,
            dtype=np.uint8,
            fill=encode.unknown_code(alphabet),
            chunk=chunk,
        )
        codes = graph.genome_array(**spec)
        if kept:
            codes = keep.wrap(codes)
        arr = model.sequence_genome(codes, chroms, lengths, alphabet=alphabet, path=path)
        return arr if kept else graph.record_reader(arr, spec)  # views: read without dask

    if not cache and store_path is None:
        return build(kept=False)
    key = cache_key("fasta", [path], alphabet=alphabet, chunk=chunk)
    return keep.serve(
        cached(key, build, path=store_path, progress=progress, storage_options=storage_options)
    )


def read_sequences(
    path: str | os.PathLike,
    fixedlen: int | None = None,
    alphabet: str = encode.DNA,
    truncate: Literal["end", "start"] = "end",
) -> xr.DataArray:
    """Read a FASTA of many sequences as a ``(region, pos)`` view of codes.

    Janggu's ``Bioseq.create_from_seq``: each record is one region. Sequences must have
    equal length unless ``fixedlen`` is given, in which case longer ones are truncated
    and shorter ones padded (with N / X) at their end.

    Parameters
    ----------
    path
        FASTA file of sequences.
    fixedlen
        Common length to truncate or pad to.
    alphabet
        ``"dna"`` or ``"protein"``.
    truncate
        Which end to cut when a sequence is longer than ``fixedlen``.

    Examples
    --------
    >>> import genomarray as ga
    >>> seqs = ga.read_sequences(ga.example_path("seqs.fa"))
    >>> seqs.dims, seqs.sizes["pos"]
    (('region', 'pos'), 200)
    """
    path = os.fspath(path)
    names, codes = [], []
    for name, seq in fasta.iter_records(path):
        names.append(name)
        codes.append(encode.encode(seq, alphabet))
    lengths = np.array([len(c) for c in codes])
    if fixedlen is None:
        if len(set(lengths.tolist())) > 1:
            first_bad = int(np.flatnonzero(lengths != lengths[0])[0])
            raise InputError(
                f"sequences differ in length ({lengths.min()}-{lengths.max()} "
                "bp); pass fixedlen= to truncate or pad them",
                source=path,
                record=f"record {names[first_bad]!r}",
            )
        width = int(lengths[0])
    else:
        if fixedlen <= 0:
            raise InputError(f"fixedlen must be positive, got {fixedlen}", source=path)
        width = int(fixedlen)
    out = np.full((len(codes), width), encode.unknown_code(alphabet), dtype=np.uint8)
    for i, c in enumerate(codes):
        c = c[-width:] if truncate == "start" and len(c) > width else c[:width]
        out[i, : len(c)] = c
    roi = pd.DataFrame(
        {
            "chrom": names,
            "start": 0,
            "end": np.minimum(lengths, width),
            "name": names,
            "strand": "+",
        }
    )
    return model.region_view(
        out,
        roi,
        alphabet=alphabet,
        path=os.path.abspath(path),
        binsize=width,
        flank=0,
        resolution=1,
        **{model.VIEW_OF: model.SEQUENCES},
    )
