"""Janggu's interval indexing ``dataset[chrom, start, end]``: values at base-pair resolution."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from genomarray import model
from genomarray.errors import InputError


def _sequence_interval(
    ds: xr.DataArray, chrom: str, start: int, end: int, strand: str
) -> np.ndarray:
    from genomarray.genome.sequences import read_fasta
    from genomarray.transforms.onehot import onehot

    call = json.loads(ds.attrs.get(model.JANGGU_CALL, "{}") or "{}")
    refgenome = call.get("kwargs", {}).get("refgenome")
    if refgenome is None:
        raise InputError(
            "interval indexing of a Bioseq needs one built from a reference genome "
            "(create_from_refgenome)",
            source="Bioseq",
        )
    genome = read_fasta(refgenome, cache=bool(call["kwargs"].get("cache")))
    import pandas as pd

    from genomarray.views.windows import view

    roi = pd.DataFrame({"chrom": [chrom], "start": [start], "end": [end], "strand": [strand]})
    codes = view(genome, roi, flank=0)
    order = int(ds.attrs.get(model.ORDER, 1))
    x = onehot(codes, order=order, dtype=str(ds.dtype))
    return np.asarray(x.values)[:, :, None, :]


def interval_values(
    ds: xr.DataArray, chrom: str, start: int, end: int, strand: str = "."
) -> np.ndarray:
    """``(1, end - start, strands, conditions)``: the windows of ``ds`` that overlap
    ``chrom:start-end`` placed on the genome at 1 bp (bins repeated; minus-strand windows
    turned back), positions no window covers holding the padding value; a Bioseq gives the
    one-hot of the reference there."""
    from genomarray.views.predictions import to_genome

    start, end = int(start), int(end)
    if end <= start:
        raise InputError(f"empty interval {chrom}:{start}-{end}", source="interval")
    native = xr.DataArray(ds.variable, ds._coords, name=ds.name, indexes=ds._indexes, fastpath=True)
    if model.BASE in native.dims:
        return _sequence_interval(native, chrom, start, end, strand)
    if model.REGION not in native.dims or model.POS not in native.dims:
        raise InputError(
            f"interval indexing needs a (region, pos, ...) dataset; {ds.name!r} has the "
            f"dims {tuple(native.dims)}",
            source="interval",
        )
    flank = int(native.attrs.get(model.FLANK, 0) or 0)
    chroms = native[model.REGION_CHROM].values.astype(str)
    lo = native[model.REGION_START].values - flank
    hi = native[model.REGION_END].values + flank
    hits = np.flatnonzero((chroms == chrom) & (hi > start) & (lo < end))
    fill = float(native.attrs.get(model.FILL_VALUE, 0.0) or 0.0)
    n_strand = native.sizes.get(model.STRAND, 1)
    n_cond = native.sizes.get(model.CONDITION, 1)
    if not len(hits):
        return np.full((1, end - start, n_strand, n_cond), fill)
    sub = native.isel({model.REGION: hits})
    sizes = dict(native.attrs.get(model.CHROM_SIZES) or {})
    sizes = {chrom: max(int(sizes.get(chrom, 0)), int(hi[hits].max()), end)}
    track = to_genome(sub, sizes, how="mean", fill=fill, resolution=1)
    values = np.asarray(track.isel({model.CHROM: 0, model.POS: slice(start, end)}).values)
    return values[None].astype(np.float64 if values.dtype == np.float64 else values.dtype)
