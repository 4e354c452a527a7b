"""Sequences as arrays: the genome from a FASTA, sets of equal-length sequences, one-hot.

``read_fasta`` gives the lazy ``(chrom, pos)`` genome of uint8 codes. The normal path
writes it to a zarr store once (content-addressed cache) and reopens it lazily; with
``cache=False`` each chunk is read from the FASTA on demand.
"""

from __future__ import annotations

from functools import partial

import dask.array as da
import numpy as np
import xarray as xr

from genomarray import encode, model
from genomarray.errors import InputError
from genomarray.genome.compute import rechunk
from genomarray.genome.quick_values import quick_values, with_recipe

ONEHOT_CHUNK_BYTES = 8 << 20
"""Target size of one one-hot block (kept under the allocator's 32 MB reuse limit)."""


def _alphabet_of(codes: xr.DataArray) -> str:
    return str(codes.attrs.get(model.ALPHABET, encode.DNA))


def onehot(
    codes: xr.DataArray | xr.Dataset, order: int = 1, dtype: str = "float32"
) -> xr.DataArray | xr.Dataset:
    """One-hot encode a sequence view ``(region, pos)`` to ``(region, pos, base)``.

    Computed per chunk from the uint8 codes (never stored genome-wide): a window of N
    positions gives ``N - order + 1`` positions of ``4**order`` channels labelled
    ``A..T``, ``AA..TT``, ... (first letter most significant). A k-mer containing an
    unknown letter is an all-zero row.

    Parameters
    ----------
    codes
        A region view of sequence codes.
    order
        k-mer order (>= 1).
    dtype
        ``"float32"`` (default) or ``"uint8"`` (4x smaller).

    Examples
    --------
    >>> import genomarray as ga
    >>> seqs = ga.read_sequences(ga.example_path("seqs.fa"))
    >>> onehot(seqs, order=2).sizes
    Frozen({'region': 30, 'pos': 199, 'base': 16})
    """
    if isinstance(codes, xr.Dataset):  # every sequence view (codes); others are kept
        return model.map_variables(
            codes,
            (model.REGION_VIEW,),
            lambda v: onehot(v, order, dtype) if model.is_codes_view(v) else v,
            "onehot",
        )
    model.validate(codes, model.REGION_VIEW)
    if codes.ndim != 2:
        raise ValueError(f"onehot needs a sequence view with dims (region, pos), got {codes.dims}")
    if not isinstance(order, int | np.integer) or order < 1:
        raise InputError(f"one-hot order must be an integer >= 1, got {order!r}")
    alphabet = _alphabet_of(codes)
    n_letters = len(encode.letters(alphabet))
    n_channels = n_letters**order
    width = max(codes.sizes[model.POS] - order + 1, 0)
    dtype = np.dtype(dtype)
    # the kernel's own arguments are bound here: map_blocks keeps ``dtype`` for itself
    # (the dtype it declares) and would not pass it on to the kernel
    kernel = partial(encode.onehot, order=order, alphabet=alphabet, dtype=dtype)
    data = codes.data
    if isinstance(data, da.Array):
        per_region = max(width * n_channels * dtype.itemsize, 1)
        rows = max(1, ONEHOT_CHUNK_BYTES // per_region)
        if max(data.chunks[0], default=0) > rows:
            data = rechunk(data, {0: rows})
        data = rechunk(data, {1: -1})
        values = quick_values(
            data.map_blocks(
                kernel,
                chunks=(data.chunks[0], (width,), (n_channels,)),
                new_axis=2,
                dtype=dtype,
                meta=np.empty((0, 0, 0), dtype=dtype),
            )
        )
    else:
        values = kernel(np.asarray(data))
    out = model.onehot_view(values, codes, encode.kmer_labels(order, alphabet), order)
    of = model.recipe_of(codes)
    if of is not None:  # the batch engine one-hots the codes per batch instead
        model.record_recipe(
            out, model.RECIPE_ONEHOT, of=of, order=int(order), alphabet=alphabet, dtype=str(dtype)
        )
        with_recipe(out)  # its .values reads as genomarray.load does
    return out


def revcomp(arr: xr.DataArray) -> xr.DataArray:
    """Reverse-complement a DNA sequence view (codes) or one-hot view of any order.

    Regions keep their coordinates; ``region_strand`` flips (``+`` <-> ``-``).

    Examples
    --------
    >>> import genomarray as ga
    >>> seqs = ga.read_sequences(ga.example_path("seqs.fa"))
    >>> x = onehot(seqs, order=3)
    >>> bool((revcomp(revcomp(x)) == x).all())
    True
    """
    kind = model.validate(arr, (model.REGION_VIEW, model.ONEHOT_VIEW))
    if _alphabet_of(arr) != encode.DNA:
        raise ValueError(
            f"reverse complement needs a DNA array, got alphabet {_alphabet_of(arr)!r}"
        )
    if kind == model.ONEHOT_VIEW:
        order = int(arr.attrs[model.ORDER])
        fn = partial(encode.revcomp_onehot, order=order, pos_axis=1)
    else:
        if arr.ndim != 2:
            raise ValueError(
                f"revcomp of a region view needs sequence codes (region, pos), got {arr.dims}"
            )
        fn = partial(encode.revcomp_codes, axis=1)
    data = arr.data
    if isinstance(data, da.Array):
        data = rechunk(data, {1: -1}).map_blocks(fn, dtype=data.dtype)
    else:
        data = fn(np.asarray(data))
    flipped = {"+": "-", "-": "+"}
    strands = [flipped.get(s, s) for s in arr[model.REGION_STRAND].values]
    return arr.copy(data=data).assign_coords(
        {model.REGION_STRAND: (model.REGION, np.array(strands, dtype=object))}
    )
