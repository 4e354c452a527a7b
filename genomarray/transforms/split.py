"""Subsets, train/test splits and shuffling of region views.

Janggu's ``subset``, ``split_train_test`` and ``random_state=`` rebuilt on labelled arrays:

- :func:`subset` keeps the regions of a view (or of a Dataset of views) on some
  chromosomes, or overlapping some regions; a genome-wide array keeps whole chromosomes.
- :func:`split_train_test` splits one view, a list, a dict or a tuple of views that share
  their regions into ``(train, test)`` of the same structure, holding out chromosomes.
- :func:`shuffle` permutes the regions of views lazily (labels travel with the values);
  storage-time shuffling (writing views in a random order) is
  :mod:`genomarray.views.shuffled`.
- :func:`retile` tiles new regions with the geometry of an existing view, for viewing a
  genome-wide array through another region set without copying it (Janggu's ``view``):
  ``genome.janggu.view(retile(new_roi, like=x))``.

Everything here selects along ``region`` (or ``chrom``) with ``isel``: numpy-backed arrays
stay numpy, dask-backed arrays stay lazy and memory stays bounded by their chunks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from genomarray import model
from genomarray.errors import InputError
from genomarray.views.aligned import (
    Arrays,
    check_aligned,
    coord_values,
    has_regions,
    is_array,
    map_leaves,
    permutation,
    permute,
)

__all__ = [
    "check_aligned",
    "permutation",
    "retile",
    "shuffle",
    "split_train_test",
    "subset",
]


# -- helpers ----------------------------------------------------------------------------
def _names(value: str | Sequence[str] | None, what: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Sequence | np.ndarray | pd.Index | set):
        raise InputError(
            f"{what} must be a chromosome name or a list of them, got {type(value).__name__}",
            source="subset",
        )
    return [str(v) for v in value]


def _known_chroms(obj: xr.DataArray | xr.Dataset) -> dict[str, int]:
    """Chromosomes an array knows: its genome's for a view (when recorded), else its own."""
    if has_regions(obj):
        sizes = obj.attrs.get(model.CHROM_SIZES)
        if not sizes and isinstance(obj, xr.Dataset):
            sizes = next(
                (
                    v.attrs[model.CHROM_SIZES]
                    for v in obj.data_vars.values()
                    if v.attrs.get(model.CHROM_SIZES)
                ),
                None,
            )
        if sizes:
            return {str(k): int(v) for k, v in sizes.items()}
        chroms = pd.unique(coord_values(obj, model.REGION_CHROM).astype(str))
        return {str(c): 1 for c in chroms}
    return {str(c): 1 for c in obj[model.CHROM].values}


def _check_known(names: list[str], obj: xr.DataArray | xr.Dataset, what: str) -> None:
    from genomarray.regions import check_chromosomes

    if not names:
        return
    probe = pd.DataFrame({"chrom": names, "start": 0, "end": 1})
    check_chromosomes(probe, _known_chroms(obj), source=what, genome="the array")


def _overlaps(obj: xr.DataArray | xr.Dataset, regions: Any) -> np.ndarray:
    """Mask of the view's regions (tile coordinates) that overlap any of ``regions``."""
    from genomarray.io.regions import read_regions
    from genomarray.regions import check_chromosomes

    other = read_regions(regions)
    chrom = coord_values(obj, model.REGION_CHROM).astype(str)
    start = coord_values(obj, model.REGION_START).astype(np.int64)
    end = coord_values(obj, model.REGION_END).astype(np.int64)
    keep = np.zeros(len(chrom), dtype=bool)
    if not len(other):
        return keep
    known = _known_chroms(obj)
    if not other["chrom"].astype(str).isin(list(known)).any():
        check_chromosomes(
            other, known, source=str(other.attrs.get("source", "regions")), genome="the view"
        )
    for name, grp in other.groupby("chrom", sort=False, observed=True):
        rows = np.flatnonzero(chrom == str(name))
        if not len(rows):
            continue
        order = np.argsort(grp["start"].to_numpy(np.int64), kind="stable")
        o_start = grp["start"].to_numpy(np.int64)[order]
        o_end = np.maximum.accumulate(grp["end"].to_numpy(np.int64)[order])
        n_before = np.searchsorted(o_start, end[rows], side="left")
        hit = n_before > 0
        hit[hit] = o_end[n_before[hit] - 1] > start[rows][hit]
        keep[rows] = hit
    return keep


# -- subset and split -------------------------------------------------------------------
def subset(
    arr: xr.DataArray | xr.Dataset,
    include: str | Sequence[str] | None = None,
    exclude: str | Sequence[str] | None = None,
    regions: Any = None,
) -> xr.DataArray | xr.Dataset:
    """Keep the regions of a view on some chromosomes, or overlapping some regions.

    Janggu's ``subset(dataset, include_regions, exclude_regions)``, plus selection by
    overlap. The result keeps the kept regions' values and labels, in their order; it is
    lazy if ``arr`` is.

    Parameters
    ----------
    arr
        A region or one-hot view, a Dataset of views sharing their regions, or a
        genome-wide array (``chrom`` dim; only ``include``/``exclude`` apply).
    include
        Chromosome name(s) to keep (default: all).
    exclude
        Chromosome name(s) to drop.
    regions
        Keep the regions whose tile (``start``-``end``, without flank) overlaps one of
        these by at least 1 bp: anything :func:`genomarray.io.regions.read_regions` reads
        (BED path, DataFrame, PyRanges).

    Returns
    -------
    xarray.DataArray or xarray.Dataset
        Same kind, dims and attrs; fewer regions (or chromosomes).

    Raises
    ------
    ChromosomeError
        A name in ``include``/``exclude`` is not a chromosome of the array's genome (the
        message suggests the other spelling, ``chr1`` vs ``1``), or no chromosome of
        ``regions`` is.
    InputError
        No filter given, or ``regions`` with a genome-wide array.

    Examples
    --------
    >>> import genomarray as ga
    >>> dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    >>> x = dna.janggu.view(ga.tile(ga.example_path("roi.bed"), binsize=200))
    >>> sorted(set(subset(x, exclude=["chr1", "chr2"]).chrom.values))
    ['chr3']
    >>> import pandas as pd
    >>> peak = pd.DataFrame({"chrom": ["chr1"], "start": [1000], "end": [1001]})
    >>> subset(x, regions=peak).sizes["region"]
    1
    """
    if not is_array(arr):
        raise TypeError(f"subset expects an xarray DataArray or Dataset, got {type(arr).__name__}")
    inc, exc = _names(include, "include"), _names(exclude, "exclude")
    if inc is None and exc is None and regions is None:
        raise InputError("no filter given: pass include=, exclude= or regions=", source="subset")
    _check_known(inc or [], arr, "include")
    _check_known(exc or [], arr, "exclude")
    if has_regions(arr):
        chrom = coord_values(arr, model.REGION_CHROM).astype(str)
        keep = np.ones(len(chrom), dtype=bool)
        if inc is not None:
            keep &= np.isin(chrom, inc)
        if exc is not None:
            keep &= ~np.isin(chrom, exc)
        if regions is not None:
            keep &= _overlaps(arr, regions)
        rows = np.flatnonzero(keep)
        out = arr.isel({model.REGION: rows})
        model.record_rows(out, arr, rows)  # the batch engine still reads it from its store
        from genomarray.genome.quick_values import quick_recorded

        return quick_recorded(out)  # and so does its .values
    if model.CHROM in arr.dims:
        if regions is not None:
            raise InputError(
                "regions= selects regions of a view; a genome-wide array is "
                "viewed through regions with .janggu.view(regions)",
                source="subset",
            )
        chrom = np.asarray(arr[model.CHROM].values).astype(str)
        keep = np.ones(len(chrom), dtype=bool)
        if inc is not None:
            keep &= np.isin(chrom, inc)
        if exc is not None:
            keep &= ~np.isin(chrom, exc)
        return arr.isel({model.CHROM: np.flatnonzero(keep)})
    raise InputError(
        f"subset needs a {model.REGION!r} or {model.CHROM!r} dim, got dims {tuple(arr.dims)}",
        source="subset",
    )


def split_train_test(arrays: Arrays, holdout_chroms: str | Sequence[str]) -> tuple[Any, Any]:
    """Split views into a training set and a test set of held-out chromosomes.

    Janggu's ``split_train_test``: the training set excludes ``holdout_chroms``, the test
    set holds only them. Every view must have the same regions in the same order (checked),
    so inputs and labels stay aligned.

    Parameters
    ----------
    arrays
        One view (or Dataset of views), or a list, tuple or dict of them (nested
        containers, e.g. Janggu's ``(inputs, outputs)`` tuple, are fine). Genome-wide
        arrays are split by chromosome too.
    holdout_chroms
        Chromosome name(s) of the test set.

    Returns
    -------
    tuple
        ``(train, test)``, each with the structure of ``arrays`` (a dict stays a dict).

    Raises
    ------
    InputError
        The views do not share their regions (the message names both arrays and the
        first region that differs), or ``holdout_chroms`` is empty.
    ChromosomeError
        A held-out name is not a chromosome of the arrays' genome.

    Examples
    --------
    >>> import genomarray as ga
    >>> dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    >>> roi = ga.tile(ga.example_path("roi.bed"), binsize=200)
    >>> x = dna.janggu.view(roi).janggu.onehot()
    >>> y = ga.read_bed(ga.example_path("peaks.narrowPeak"), like=dna, storage="memory",
    ...                 progress=False).janggu.view(roi)
    >>> train, test = split_train_test({"dna": x, "peaks": y}, holdout_chroms="chr3")
    >>> train["dna"].sizes["region"] + test["dna"].sizes["region"] == x.sizes["region"]
    True
    >>> set(test["peaks"].chrom.values)
    {'chr3'}
    """
    holdout = _names(holdout_chroms, "holdout_chroms")
    if not holdout:
        raise InputError(
            "holdout_chroms is empty; name the chromosome(s) of the test set",
            source="split_train_test",
        )
    check_aligned(arrays)
    train = map_leaves(arrays, lambda a: subset(a, exclude=holdout))
    test = map_leaves(arrays, lambda a: subset(a, include=holdout))
    return train, test


# -- re-tiling --------------------------------------------------------------------------
def retile(
    regions: Any, like: xr.DataArray | xr.Dataset, zero_padding: bool = True
) -> pd.DataFrame:
    """Tile new regions with the ``binsize``, ``stepsize`` and ``flank`` of a view.

    Janggu's ``view(dataset, use_regions)``: view the same genome-wide array through
    another region set, without copying it, as
    ``genome.janggu.view(retile(new_roi, like=x))``; the new view has the windows of ``x``.

    Parameters
    ----------
    regions
        New regions: anything :func:`genomarray.io.regions.read_regions` reads.
    like
        A view whose tiling to reuse (``attrs`` ``binsize``, ``stepsize``, ``flank``; a
        view without ``binsize`` was tiled with ``collapse=True``).
    zero_padding
        Keep the short last tile of each region (as :func:`genomarray.regions.tile`).

    Examples
    --------
    >>> import genomarray as ga
    >>> dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    >>> x = dna.janggu.view(ga.tile(ga.example_path("roi.bed"), binsize=200, flank=50))
    >>> import pandas as pd
    >>> new = pd.DataFrame({"chrom": ["chr2"], "start": [0], "end": [1000]})
    >>> dna.janggu.view(retile(new, like=x)).shape
    (5, 300)
    """
    from genomarray.regions import tile

    binsize = like.attrs.get(model.BINSIZE)
    stepsize = like.attrs.get(model.STEPSIZE)
    flank = int(like.attrs.get(model.FLANK, 0) or 0)
    if binsize is None:
        return tile(regions, flank=flank, collapse=True)
    return tile(
        regions,
        binsize=int(binsize),
        stepsize=None if stepsize is None else int(stepsize),
        flank=flank,
        zero_padding=zero_padding,
    )


def shuffle(arrays: Arrays, random_state: Any = None) -> Any:
    """Permute the regions of views, lazily; every array by the same permutation.

    Values and per-region labels move together, and a coordinate ``region_index`` records
    each region's position before shuffling (shuffling again composes). With the same
    integer ``random_state``, separate calls on views of as many regions give the same
    permutation, Janggu's (see :func:`permutation`).

    Parameters
    ----------
    arrays
        A view, a Dataset of views, or a list, tuple or dict of views sharing their
        regions (checked).
    random_state
        Integer seed, numpy ``Generator`` / ``RandomState``, or None (a fresh permutation).

    Returns
    -------
    Same structure as ``arrays``: lazy where the input is.

    Examples
    --------
    >>> import genomarray as ga
    >>> dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    >>> x = dna.janggu.view(ga.tile(ga.example_path("roi.bed"), binsize=500))
    >>> s = shuffle(x, random_state=3)
    >>> bool((s.isel(region=0) == x.isel(region=int(s.region_index[0]))).all())
    True
    """
    n = check_aligned(arrays)
    if n is None:
        raise InputError(
            "shuffle permutes regions; no array given has a 'region' dim", source="shuffle"
        )
    perm = permutation(n, random_state)
    return map_leaves(arrays, lambda a: permute(a, perm))
