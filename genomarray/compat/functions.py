"""Janggu's ``view``, ``subset`` and ``split_train_test`` on genomarray arrays."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import xarray as xr

from genomarray.compat.bioseq import Bioseq
from genomarray.compat.common import (
    JANGGU_CALL,
)
from genomarray.compat.cover import Cover
from genomarray.errors import InputError


def view(dataset: xr.DataArray, use_regions: Any) -> xr.DataArray:
    """The same data through other regions, tiled like ``dataset`` (Janggu's ``view``).

    Repeats the constructor call that built ``dataset`` (recorded in
    ``attrs["janggu_call"]``) with ``roi=use_regions``; the cached genome-wide store is
    reused, not copied. For arrays built otherwise, view the genome-wide array directly:
    ``genome.janggu.view(genomarray.transforms.split.retile(use_regions, like=dataset))``.

    Examples
    --------
    >>> import genomarray as ga, pandas as pd
    >>> x = Bioseq.create_from_refgenome("dna", ga.example_path("genome.fa"),
    ...                                  roi=ga.example_path("roi.bed"), binsize=200)
    >>> new = pd.DataFrame({"chrom": ["chr2"], "start": [0], "end": [1000]})
    >>> view(x, new).shape
    (5, 200, 1, 4)
    """
    call = dataset.attrs.get(JANGGU_CALL)
    if call is None:
        raise InputError(
            "this array does not record the genomarray.compat call that built "
            "it (one of its arguments was not JSON-serializable, or it was "
            "built otherwise); view the genome-wide array instead: "
            "genome.janggu.view(retile(use_regions, like=dataset))",
            source="view",
        )
    spec = json.loads(call)
    kwargs = {**spec["kwargs"], "roi": use_regions}
    return _CONSTRUCTORS[spec["fn"]](str(dataset.name), **kwargs)


def subset(
    dataset: xr.DataArray | xr.Dataset,
    include_regions: str | Sequence[str] | None = None,
    exclude_regions: str | Sequence[str] | None = None,
) -> xr.DataArray | xr.Dataset:
    """Keep the regions on some chromosomes (Janggu's ``subset``).

    See :func:`genomarray.transforms.split.subset` (which also selects by overlap).

    Examples
    --------
    >>> import genomarray as ga
    >>> x = Bioseq.create_from_refgenome("dna", ga.example_path("genome.fa"),
    ...                                  roi=ga.example_path("roi.bed"), binsize=200)
    >>> len(subset(x, include_regions="chr3"))
    50
    """
    from genomarray.transforms import split

    return split.subset(dataset, include=include_regions, exclude=exclude_regions)


def split_train_test(datasets: Any, holdout_chroms: str | Sequence[str]) -> tuple[Any, Any]:
    """Hold out chromosomes as a test set (Janggu's ``split_train_test``).

    ``datasets`` is one array, a list, a dict or Janggu's ``(inputs, outputs)`` tuple;
    ``(train, test)`` keep its structure (a dict stays a dict). See
    :func:`genomarray.transforms.split.split_train_test`.

    Examples
    --------
    >>> import genomarray as ga
    >>> x = Bioseq.create_from_refgenome("dna", ga.example_path("genome.fa"),
    ...                                  roi=ga.example_path("roi.bed"), binsize=200)
    >>> train, test = split_train_test(x, holdout_chroms=["chr3"])
    >>> len(train), len(test)
    (180, 50)
    """
    from genomarray.transforms import split

    return split.split_train_test(datasets, holdout_chroms)


# -- Janggu's view, subset and split_train_test -----------------------------------------
_CONSTRUCTORS: dict[str, Callable[..., xr.DataArray]] = {
    "Cover.create_from_bam": Cover.create_from_bam,
    "Cover.create_from_bigwig": Cover.create_from_bigwig,
    "Cover.create_from_bed": Cover.create_from_bed,
    "Bioseq.create_from_refgenome": Bioseq.create_from_refgenome,
}
