"""Janggu's ``view``, ``subset``, ``split_train_test`` and ``split_train_test_``."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import xarray as xr

from genomarray import model
from genomarray.compat.base import JANGGU_CALL, Dataset, plain, wrappers_of
from genomarray.compat.bioseq import Bioseq
from genomarray.compat.cover import Cover
from genomarray.errors import InputError


def _readopt(like: Any, x: Any) -> Any:
    """``x`` (a plain result) as the same compat class as ``like``."""
    if isinstance(like, Dataset) and isinstance(x, xr.DataArray):
        return type(like).adopt(x)
    return x


def view(dataset: xr.DataArray, use_regions: Any) -> xr.DataArray:
    """The same data through other regions, tiled like ``dataset`` (Janggu's ``view``).

    Repeats the constructor call that built ``dataset`` (recorded in
    ``attrs["janggu_call"]``) with ``roi=use_regions`` (the cached genome-wide store is
    reused, not copied), then the wrappers around it: a view of ``ReduceDim(cover)`` is a
    ``ReduceDim`` of the same shape per region, as in Janggu. For arrays built otherwise,
    view the genome-wide array directly:
    ``genome.janggu.view(genomarray.transforms.split.retile(use_regions, like=dataset))``.

    Examples
    --------
    >>> import genomarray as ga, pandas as pd
    >>> from genomarray.compat import ReduceDim
    >>> x = Bioseq.create_from_refgenome("dna", ga.example_path("genome.fa"),
    ...                                  roi=ga.example_path("roi.bed"), binsize=200)
    >>> new = pd.DataFrame({"chrom": ["chr2"], "start": [0], "end": [1000]})
    >>> view(x, new).shape
    (5, 200, 1, 4)
    >>> y = ReduceDim(Cover.create_from_bed("peaks", ga.example_path("peaks.narrowPeak"),
    ...     roi=ga.example_path("roi.bed"), binsize=200, resolution=200))
    >>> v = view(y, new)
    >>> v.shape, str(v)
    ((5, 1), 'ReduceDim(Cover("peaks"))')
    """
    if not isinstance(dataset, xr.DataArray) or model.REGION not in dataset.dims:
        raise ValueError(f"Unknown dataset type: {type(dataset)}")
    call = dataset.attrs.get(JANGGU_CALL)
    if call is None:
        raise InputError(
            "this array does not record the genomarray.compat call that built "
            "it (one of its arguments was not JSON-serializable, or it was "
            "built otherwise); view the genome-wide array instead: "
            "genome.janggu.view(retile(use_regions, like=dataset))",
            source="view",
        )
    from genomarray.compat.wrappers import WRAPPERS

    spec = json.loads(call)
    kwargs = {**spec["kwargs"], "roi": use_regions}
    out: Any = _CONSTRUCTORS[spec["fn"]](str(dataset.name), **kwargs)
    for name, args in wrappers_of(dataset):
        if args.get("callable"):
            raise InputError(
                f"cannot repeat {name} with a function as aggregator; view the inner "
                "dataset and wrap it again",
                source="view",
            )
        out = WRAPPERS[name](out, **args)
    return out


def subset(
    dataset: xr.DataArray | xr.Dataset,
    include_regions: str | Sequence[str] | None = None,
    exclude_regions: str | Sequence[str] | None = None,
) -> xr.DataArray | xr.Dataset:
    """Keep the regions on some chromosomes (Janggu's ``subset``); the result is the same
    kind of dataset (a ``ReduceDim`` stays one).

    See :func:`genomarray.transforms.split.subset` (which also selects by overlap).

    Examples
    --------
    >>> import genomarray as ga
    >>> x = Bioseq.create_from_refgenome("dna", ga.example_path("genome.fa"),
    ...                                  roi=ga.example_path("roi.bed"), binsize=200)
    >>> s = subset(x, include_regions="chr3")
    >>> len(s), type(s).__name__
    (50, 'Bioseq')
    """
    from genomarray.transforms import split

    if include_regions is None and exclude_regions is None:
        raise ValueError("No filter specified.")
    native = plain(dataset) if isinstance(dataset, xr.DataArray) else dataset
    out = split.subset(native, include=include_regions, exclude=exclude_regions)
    return _readopt(dataset, out)


def _map(datasets: Any, fn: Callable[[Any, Any], Any], result: Any) -> Any:
    if isinstance(datasets, dict):
        return {k: fn(v, result[k]) for k, v in datasets.items()}
    if isinstance(datasets, list | tuple):
        return type(datasets)(_map(d, fn, r) for d, r in zip(datasets, result, strict=True))
    return fn(datasets, result)


def _plain_leaves(datasets: Any) -> Any:
    if isinstance(datasets, dict):
        return {k: _plain_leaves(v) for k, v in datasets.items()}
    if isinstance(datasets, list | tuple):
        return type(datasets)(_plain_leaves(d) for d in datasets)
    return plain(datasets) if isinstance(datasets, xr.DataArray) else datasets


def split_train_test(datasets: Any, holdout_chroms: str | Sequence[str]) -> tuple[Any, Any]:
    """Hold out chromosomes as a test set (Janggu's ``split_train_test``).

    ``datasets`` is one dataset, a list, a dict or Janggu's ``(inputs, outputs)`` tuple;
    ``(train, test)`` keep its structure (a dict stays a dict) and every dataset its kind.
    See :func:`genomarray.transforms.split.split_train_test`.

    Examples
    --------
    >>> import genomarray as ga
    >>> x = Bioseq.create_from_refgenome("dna", ga.example_path("genome.fa"),
    ...                                  roi=ga.example_path("roi.bed"), binsize=200)
    >>> train, test = split_train_test(x, holdout_chroms=["chr3"])
    >>> len(train), len(test), type(test).__name__
    (180, 50, 'Bioseq')
    """
    from genomarray.transforms import split

    train, test = split.split_train_test(_plain_leaves(datasets), holdout_chroms)
    return _map(datasets, _readopt, train), _map(datasets, _readopt, test)


def split_train_test_(dataset: Any, holdout_chroms: str | Sequence[str]) -> tuple[Any, Any]:
    """Janggu's ``split_train_test_``: ``(subset(exclude=holdout), subset(include=holdout))``
    of one dataset.

    Examples
    --------
    >>> import genomarray as ga
    >>> x = Bioseq.create_from_refgenome("dna", ga.example_path("genome.fa"),
    ...                                  roi=ga.example_path("roi.bed"), binsize=200)
    >>> [len(p) for p in split_train_test_(x, "chr1")]
    [130, 100]
    """
    return (
        subset(dataset, exclude_regions=holdout_chroms),
        subset(dataset, include_regions=holdout_chroms),
    )


_CONSTRUCTORS: dict[str, Callable[..., xr.DataArray]] = {
    "Cover.create_from_bam": Cover.create_from_bam,
    "Cover.create_from_bigwig": Cover.create_from_bigwig,
    "Cover.create_from_bed": Cover.create_from_bed,
    "Bioseq.create_from_refgenome": Bioseq.create_from_refgenome,
}
