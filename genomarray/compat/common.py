"""What Janggu's ``Cover`` and ``Bioseq`` constructors share: names, storage, provenance."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from genomarray import model
from genomarray.errors import InputError

STORAGE_NAMES: dict[str, str] = {"ndarray": "memory", "sparse": "sparse", "hdf5": "zarr"}
"""Janggu's ``storage=`` names and the genomarray storage each maps to (genomarray's own
names, ``"memory"``, ``"sparse"``, ``"zarr"``, ``"lazy"``, are accepted too)."""


JANGGU_CALL = model.JANGGU_CALL
"""Attribute recording the constructor call (JSON), so that :func:`view` can repeat it."""


NATIVE_STORAGES = ("memory", "sparse", "zarr", "lazy")


# -- argument handling ------------------------------------------------------------------
def check_name(name: Any) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    return name


def storage_name(storage: str, allowed: Sequence[str] = (*STORAGE_NAMES, *NATIVE_STORAGES)) -> str:
    if storage not in allowed:
        raise InputError(
            f"storage must be one of {list(allowed)} (Janggu's ndarray, sparse, "
            f"hdf5 map to memory, sparse, zarr), got {storage!r}",
            source="compat",
        )
    return STORAGE_NAMES.get(storage, storage)


def warn_ignored(datatags: Any, overwrite: bool) -> None:
    """Janggu's ``datatags``/``overwrite`` have no effect (caches are keyed by content)."""
    if datatags is not None:
        warnings.warn(
            "datatags has no effect: genomarray keys caches by the content of the "
            "inputs and the parameters",
            DeprecationWarning,
            stacklevel=3,
        )
    if overwrite:
        warnings.warn(
            "overwrite has no effect: genomarray keys caches by the content of the "
            "inputs and the parameters, so a changed input builds a new cache",
            DeprecationWarning,
            stacklevel=3,
        )


def record_call(x: xr.DataArray, fn: str, args: dict[str, Any]) -> xr.DataArray:
    """Record the call in ``attrs`` (JSON) when its arguments allow, for :func:`view`."""
    kwargs = {k: v for k, v in args.items() if k not in ("cls", "self", "name", "roi")}
    kwargs = {k: os.fspath(v) if isinstance(v, os.PathLike) else v for k, v in kwargs.items()}
    try:
        text = json.dumps({"fn": fn, "kwargs": kwargs})
    except (TypeError, ValueError):
        x.attrs.pop(JANGGU_CALL, None)
        return x
    x.attrs[JANGGU_CALL] = text
    return x


def finish(
    x: xr.DataArray,
    name: str,
    *,
    dtype: Any = None,
    random_state: Any = None,
    materialize: bool = False,
    channel_last: bool = True,
    channel_first_dims: Sequence[str] = (),
) -> xr.DataArray:
    from genomarray.transforms.split import shuffle

    if dtype is not None and x.dtype != np.dtype(dtype):
        x = x.astype(dtype)
    if random_state is not None and model.REGION in x.dims:
        x = shuffle(x, random_state)
    if materialize:
        x = x.compute()
    x = x.rename(name)
    if not channel_last and model.REGION in x.dims:
        x = x.transpose(*channel_first_dims)
    return x


def file_list(paths: Any) -> list[str]:
    if isinstance(paths, str | os.PathLike):
        return [os.fspath(paths)]
    return [os.fspath(p) for p in paths]


def add_strand(x: xr.DataArray) -> xr.DataArray:
    """``(region, pos, base)`` -> ``(region, pos, strand=".", base)``, Janggu's layout."""
    out = x.expand_dims({model.STRAND: np.array([model.STRAND_UNSTRANDED], dtype=object)}, axis=2)
    model.validate(out, model.ONEHOT_VIEW)
    return out


def like_from_regions(regions: Any) -> xr.DataArray:
    """A stand-in view (lazy zeros) with the windows of ``regions``."""
    from genomarray.regions import tile

    tiles = (
        regions
        if isinstance(regions, pd.DataFrame) and model.BINSIZE in regions.attrs
        else tile(regions)
    )
    flank = int(tiles.attrs.get(model.FLANK, 0) or 0)
    lengths = (tiles["end"] - tiles["start"]).to_numpy(np.int64)
    binsize = tiles.attrs.get(model.BINSIZE) or int(lengths.max(initial=1))
    width = int(binsize) + 2 * flank
    zeros = da.zeros((len(tiles), width), dtype=np.uint8, chunks=(max(len(tiles), 1), width))
    return model.region_view(
        zeros,
        tiles,
        resolution=1,
        binsize=int(binsize),
        flank=flank,
        stepsize=tiles.attrs.get(model.STEPSIZE) or int(binsize),
    )
