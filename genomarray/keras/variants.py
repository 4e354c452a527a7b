"""Variant effect prediction: score SNVs by the change they cause in a model's prediction.

For every SNV of a VCF, :func:`variant_effects` cuts a window of ``binsize`` bp centred on
the variant from a sequence genome, checks the VCF's REF against the genome, patches the
ALT base into a copy of the codes and one-hot encodes both (so for order ``k`` every k-mer
that overlaps the variant changes), optionally reverse-complements both when the variant lies
on a minus-strand annotation, and runs batches of windows through ``model.predict``. The
result is an :class:`xarray.Dataset` of ``ref``, ``alt``, ``diff`` and ``logratio`` over
``(variant, condition)``; :func:`write_variant_effects` saves it to zarr and a TSV.

Nothing is silently dropped: REF mismatches, non-SNVs and variants on chromosomes the genome
lacks are excluded with a warning that names them and listed in the result's ``attrs``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from genomarray import encode
from genomarray import model as gm
from genomarray.atomic import atomic_dir
from genomarray.errors import InputError
from genomarray.io.regions import read_regions

__all__ = ["variant_effects", "variant_table", "write_variant_effects"]

VARIANT = gm.VARIANT
"""Dimension of the variants (re-exported from :mod:`genomarray.model`)."""
REF_MISMATCH = "ref_mismatch"
"""``attrs`` key: variants excluded because their REF differs from the genome."""
SKIPPED = "skipped"
"""``attrs`` key: variants skipped as non-SNVs or on chromosomes the genome lacks."""
SCORES = ("ref", "alt", "diff", "logratio")
"""Data variables of :func:`variant_effects`, in the order :func:`variant_table` writes."""

_SOURCE = "variant_effects"
_BASES = frozenset("ACGT")
_N = encode.unknown_code(encode.DNA)


def _label(chrom: str, start: int, ident: str, ref: str, alt: str) -> str:
    return f"{ident} ({chrom}:{start + 1} {ref}>{alt})"


def _warn(what: str, labels: list[str], limit: int = 10) -> None:
    shown = ", ".join(labels[:limit])
    more = f" and {len(labels) - limit} more" if len(labels) > limit else ""
    warnings.warn(f"{len(labels)} variant(s) {what}: {shown}{more}", UserWarning, stacklevel=3)


def _read_variants(vcf: Any) -> tuple[pd.DataFrame, str]:
    """Read the VCF and split multi-allelic ALTs into one row per allele."""
    table = (
        read_regions(vcf, fmt="vcf") if isinstance(vcf, str | os.PathLike) else read_regions(vcf)
    )
    source = str(
        table.attrs.get("source", vcf if isinstance(vcf, str | os.PathLike) else type(vcf).__name__)
    )
    missing = [c for c in ("ref", "alt") if c not in table.columns]
    if missing:
        raise InputError(f"variants need 'ref' and 'alt' columns; missing {missing}", source=source)
    table = table[["chrom", "start", "name", "ref", "alt"]].copy()
    table["alt"] = table["alt"].astype(str).str.split(",")
    table = table.explode("alt", ignore_index=True)
    table["chrom"] = table["chrom"].astype(str)
    table["start"] = table["start"].astype(np.int64)
    for col in ("name", "ref", "alt"):
        table[col] = table[col].astype(str)
    return table, source


def _inside(chroms: np.ndarray, starts: np.ndarray, regions: pd.DataFrame) -> np.ndarray:
    """Whether each position ``(chrom, start)`` lies inside any of ``regions``."""
    hit = np.zeros(len(starts), dtype=bool)
    for chrom, group in regions.groupby("chrom", sort=False):
        rows = np.flatnonzero(chroms == chrom)
        if not len(rows):
            continue
        group = group.sort_values("start")
        begin = group["start"].to_numpy(np.int64)
        reach = np.maximum.accumulate(group["end"].to_numpy(np.int64))
        idx = np.searchsorted(begin, starts[rows], side="right") - 1
        ok = idx >= 0
        hit[rows[ok]] = reach[idx[ok]] > starts[rows[ok]]
    return hit


def _strands(table: pd.DataFrame, annotation: Any) -> np.ndarray:
    """Region strand of each variant: ``-`` inside only minus regions, ``+`` inside a plus
    region, ``.`` otherwise (both strands: ``+`` with a warning)."""
    strand = np.full(len(table), gm.STRAND_UNSTRANDED, dtype=object)
    if annotation is None or not len(table):
        return strand
    regions = read_regions(annotation)
    chroms = table["chrom"].to_numpy(dtype=object)
    starts = table["start"].to_numpy(np.int64)
    plus = _inside(chroms, starts, regions[regions["strand"] == "+"])
    minus = _inside(chroms, starts, regions[regions["strand"] == "-"])
    strand[plus] = "+"
    strand[minus & ~plus] = "-"
    both = np.flatnonzero(plus & minus)
    if len(both):
        _warn(
            "lie in both plus- and minus-strand annotation regions and are scored on the "
            "plus strand",
            [table["label"].iat[i] for i in both],
        )
    return strand


def _gather(data: Any, rows: np.ndarray, pos: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Codes at ``(rows[i], pos[i, j])`` of a ``(chrom, pos)`` array; off-chromosome = N."""
    rows = np.broadcast_to(rows.reshape(-1, *([1] * (pos.ndim - 1))), pos.shape)
    valid = (pos >= 0) & (pos < lengths[rows])
    clipped = np.clip(pos, 0, data.shape[1] - 1)
    if hasattr(data, "vindex"):
        codes = np.asarray(data.vindex[rows, clipped].compute(), dtype=np.uint8)
    else:
        codes = np.asarray(data)[rows, clipped].astype(np.uint8, copy=False)
    return np.where(valid, codes, np.uint8(_N))


def _select(out: Any, output: int | str | None, model: Any) -> np.ndarray:
    """The chosen output of ``model.predict`` as a numpy array."""
    if isinstance(out, dict):
        names = list(out)
        if output is None:
            if len(names) != 1:
                raise InputError(
                    f"the model has {len(names)} outputs {names}; choose one with output=",
                    source=_SOURCE,
                )
            return np.asarray(out[names[0]])
        key = output if isinstance(output, str) else names[output]
        return np.asarray(out[key])
    if isinstance(out, list | tuple):
        if output is None:
            if len(out) != 1:
                raise InputError(
                    f"the model has {len(out)} outputs; choose one with output=", source=_SOURCE
                )
            return np.asarray(out[0])
        if isinstance(output, str):
            names = list(getattr(model, "output_names", None) or [])
            if output not in names:
                raise InputError(
                    f"output={output!r} is not one of the model's outputs {names}", source=_SOURCE
                )
            output = names.index(output)
        return np.asarray(out[output])
    if output not in (None, 0) and not (
        isinstance(output, str) and output in (getattr(model, "output_names", None) or [])
    ):
        raise InputError(f"the model has a single output; got output={output!r}", source=_SOURCE)
    return np.asarray(out)


def _as_matrix(y: np.ndarray) -> np.ndarray:
    """``(n,)`` -> ``(n, 1)``; ``(n, ..., c)`` -> ``(n, c)`` summed over the middle axes."""
    if y.ndim == 1:
        return y[:, None]
    if y.ndim > 2:
        return y.sum(axis=tuple(range(1, y.ndim - 1)))
    return y


def _check_args(binsize: Any, order: Any, batch_size: Any, eps: Any) -> None:
    if not isinstance(binsize, int | np.integer) or binsize < 1:
        raise InputError(f"binsize must be an integer >= 1, got {binsize!r}", source=_SOURCE)
    if not isinstance(order, int | np.integer) or order < 1:
        raise InputError(f"order must be an integer >= 1, got {order!r}", source=_SOURCE)
    if order > binsize:
        raise InputError(f"order={order} exceeds binsize={binsize}", source=_SOURCE)
    if not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise InputError(f"batch_size must be an integer >= 1, got {batch_size!r}", source=_SOURCE)
    if not eps >= 0:
        raise InputError(f"eps must be >= 0, got {eps!r}", source=_SOURCE)


def _model_input_shape(model: Any) -> tuple[Any, ...] | None:
    """The input shape of a one-input keras model, or None where it cannot be known
    (a subclassed model not yet built, or any other callable)."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs:
        return None
    if len(inputs) != 1:
        raise InputError(
            f"variant_effects feeds one one-hot input, but the model takes {len(inputs)} "
            f"inputs {[tuple(t.shape) for t in inputs]}",
            source=_SOURCE,
        )
    return tuple(inputs[0].shape)


def _check_model(model: Any, binsize: int, order: int) -> None:
    """Raise before predicting when the windows do not fit the model's input."""
    shape = _model_input_shape(model)
    if shape is None:
        return
    positions, channels = binsize - order + 1, 4**order
    if len(shape) != 3:
        raise InputError(
            f"the model takes inputs of shape {shape}, but variant_effects feeds one-hot "
            f"windows of shape (n, {positions}, {channels}) (binsize={binsize}, order={order})",
            source=_SOURCE,
        )
    length, width = shape[1], shape[2]
    if width is not None and width != channels:
        fits = round(float(np.log(width) / np.log(4))) if width > 0 else 0
        hint = f"; order={fits} gives {width}" if fits >= 1 and 4**fits == width else ""
        raise InputError(
            f"order={order} gives one-hot windows of {channels} channels, but the model's "
            f"input has {width} (input shape {shape}){hint}",
            source=_SOURCE,
        )
    if length is not None and length != positions:
        raise InputError(
            f"binsize={binsize} gives windows of length {positions} at order={order}, but the "
            f"model's input has length {length} (input shape {shape}); use "
            f"binsize={length + order - 1}",
            source=_SOURCE,
        )


def variant_effects(
    model: Any,
    genome: xr.DataArray,
    vcf: Any,
    *,
    binsize: int,
    order: int = 1,
    annotation: Any = None,
    conditions: Sequence[str] | None = None,
    batch_size: int = 256,
    output: int | str | None = None,
    eps: float = 1e-6,
) -> xr.Dataset:
    """Score SNVs by the change they cause in a keras model's prediction.

    Parameters
    ----------
    model
        A keras 3 model taking one-hot windows ``(n, binsize - order + 1, 4**order)``
        (called through ``model.predict``).
    genome
        A sequence genome ``(chrom, pos)`` of codes (numpy- or dask-backed, e.g. from
        :func:`genomarray.read_fasta` or a zarr store).
    vcf
        A VCF path (or a DataFrame with ``chrom, start, name, ref, alt``, as
        :func:`genomarray.read_regions` returns). Multi-allelic ALTs (``A,C``) give one
        variant per allele.
    binsize
        Window length in bp; the variant sits at offset ``binsize // 2``. Bases off the
        chromosome read as ``N``.
    order
        One-hot order; every k-mer that overlaps the variant changes.
    annotation
        Stranded regions (BED path or DataFrame): a variant inside a minus-strand region,
        and no plus-strand one, is scored on the reverse complement.
    conditions
        Labels of the model's output columns; default ``c0, c1, ...``.
    batch_size
        Windows per ``model.predict`` call (ref and alt windows together).
    output
        Which output of a multi-output model (index, or name).
    eps
        Pseudo-count of ``logratio``.

    Returns
    -------
    xarray.Dataset
        ``ref``, ``alt``, ``diff`` (alt - ref) and ``logratio``
        (``log2((alt + eps) / (ref + eps))``) over ``(variant, condition)``; coordinates on
        ``variant``: ``chrom``, ``start`` (0-based), ``vcf_pos`` (1-based), ``id``,
        ``ref_allele``, ``alt_allele``, ``region_strand``. Outputs with more than two dims
        are summed over their middle axes. ``attrs`` hold ``binsize``, ``order``, ``eps``,
        ``source``, ``vcf`` and the excluded variants ``ref_mismatch`` and ``skipped``
        (lists of strings).

    Warns
    -----
    UserWarning
        Naming the variants whose REF differs from the genome (excluded), the non-SNVs and
        variants on chromosomes the genome lacks (skipped), and variants inside both plus-
        and minus-strand annotation regions (scored on plus).

    Raises
    ------
    InputError
        Bad ``binsize``, ``order``, ``batch_size``, ``eps``, ``conditions`` or ``output``;
        windows that do not fit the model's input (its length must be
        ``binsize - order + 1`` and its channels ``4**order``, where the model declares
        them), checked before anything is predicted.

    Examples
    --------
    >>> import genomarray as ga
    >>> from genomarray.keras.variants import variant_effects
    >>> genome = ga.read_fasta(ga.example_path("genome.fa"))              # doctest: +SKIP
    >>> ve = variant_effects(model, genome, ga.example_path("variants.vcf"),
    ...                      binsize=101)                                 # doctest: +SKIP
    >>> ve["diff"].to_pandas()                                            # doctest: +SKIP
    """
    _check_args(binsize, order, batch_size, eps)
    _check_model(model, int(binsize), int(order))
    if gm.CHROM not in genome.dims or genome.ndim != 2:
        raise InputError(
            f"genome must be a ({gm.CHROM}, {gm.POS}) sequence array, got dims {genome.dims}",
            source=_SOURCE,
        )
    genome = genome.transpose(gm.CHROM, ...)
    table, source = _read_variants(vcf)
    table["label"] = [
        _label(*r) for r in table[["chrom", "start", "name", "ref", "alt"]].itertuples(index=False)
    ]

    chrom_names = [str(c) for c in genome[gm.CHROM].values]
    lengths = (
        genome[gm.CHROM_LENGTH].values.astype(np.int64)
        if gm.CHROM_LENGTH in genome.coords
        else np.full(len(chrom_names), genome.shape[1], np.int64)
    )
    snv = (
        table["ref"].str.len().eq(1)
        & table["alt"].str.len().eq(1)
        & table["ref"].str.upper().isin(_BASES)
        & table["alt"].str.upper().isin(_BASES)
    )
    known = table["chrom"].isin(chrom_names)
    skipped: list[str] = []
    not_snv = table.loc[~snv, "label"].tolist()
    if not_snv:
        _warn("are not SNVs and were skipped", not_snv)
        skipped += [f"{s}: not an SNV" for s in not_snv]
    unknown = table.loc[snv & ~known, "label"].tolist()
    if unknown:
        have = ", ".join(chrom_names[:5]) + (", ..." if len(chrom_names) > 5 else "")
        _warn(f"lie on chromosomes the genome lacks (it has {have}) and were skipped", unknown)
        skipped += [f"{s}: chromosome not in the genome" for s in unknown]
    table = table[snv & known].reset_index(drop=True)

    index = {c: i for i, c in enumerate(chrom_names)}
    rows = table["chrom"].map(index).to_numpy(np.int64)
    starts = table["start"].to_numpy(np.int64)
    centre = _gather(genome.data, rows, starts, lengths)
    genome_base = (
        np.array(list(encode.decode(centre)), dtype=object)
        if len(centre)
        else np.array([], dtype=object)
    )
    match = table["ref"].str.upper().to_numpy(dtype=object) == genome_base
    mismatched = [
        f"{lab}: genome has {g}"
        for lab, g in zip(table.loc[~match, "label"], genome_base[~match], strict=True)
    ]
    if mismatched:
        _warn("have a REF that differs from the genome and were excluded", mismatched)
    table = table[match].reset_index(drop=True)
    rows, starts = rows[match], starts[match]
    strand = _strands(table, annotation)

    half = binsize // 2
    offsets = np.arange(binsize, dtype=np.int64) - half
    alt_codes = (
        encode.encode("".join(table["alt"].str.upper())) if len(table) else np.zeros(0, np.uint8)
    )
    minus = strand == "-"
    refs, alts = [], []
    for lo in range(0, len(table), batch_size):
        sl = slice(lo, lo + batch_size)
        window = _gather(genome.data, rows[sl], starts[sl, None] + offsets, lengths)
        patched = window.copy()
        patched[:, half] = alt_codes[sl]
        codes = np.concatenate([window, patched])
        flip = np.concatenate([minus[sl], minus[sl]])
        codes[flip] = encode.revcomp_codes(codes[flip])
        x = encode.onehot(codes, order)
        y = _as_matrix(_select(model.predict(x, batch_size=batch_size, verbose=0), output, model))
        n = window.shape[0]
        refs.append(y[:n])
        alts.append(y[n:])

    if refs:
        ref = np.concatenate(refs)
        alt = np.concatenate(alts)
    else:
        width = len(conditions) if conditions is not None else 0
        ref = alt = np.zeros((0, width), np.float32)
    n_cond = ref.shape[1]
    labels = (
        [str(c) for c in conditions] if conditions is not None else [f"c{i}" for i in range(n_cond)]
    )
    if len(labels) != n_cond:
        raise InputError(
            f"{len(labels)} conditions {labels} for {n_cond} model output columns", source=_SOURCE
        )
    dims = (VARIANT, gm.CONDITION)
    with np.errstate(divide="ignore", invalid="ignore"):
        logratio = np.log2((alt + eps) / (ref + eps)).astype(ref.dtype)
    coords = {
        gm.CONDITION: np.array(labels, dtype=object),
        gm.REGION_CHROM: (VARIANT, table["chrom"].to_numpy(dtype=object)),
        gm.REGION_START: (VARIANT, starts),
        "vcf_pos": (VARIANT, starts + 1),
        "id": (VARIANT, table["name"].to_numpy(dtype=object)),
        "ref_allele": (VARIANT, table["ref"].str.upper().to_numpy(dtype=object)),
        "alt_allele": (VARIANT, table["alt"].str.upper().to_numpy(dtype=object)),
        gm.REGION_STRAND: (VARIANT, strand.astype(object)),
    }
    attrs = {
        gm.BINSIZE: int(binsize),
        gm.ORDER: int(order),
        "eps": float(eps),
        gm.SOURCE: gm.source_stamp(),
        "vcf": source,
        REF_MISMATCH: mismatched,
        SKIPPED: skipped,
    }
    return xr.Dataset(
        {
            "ref": (dims, ref),
            "alt": (dims, alt),
            "diff": (dims, alt - ref),
            "logratio": (dims, logratio),
        },
        coords=coords,
        attrs=attrs,
    )


def variant_table(ds: xr.Dataset) -> pd.DataFrame:
    """Flatten a :func:`variant_effects` result to one row per variant.

    Parameters
    ----------
    ds
        The result of :func:`variant_effects`.

    Returns
    -------
    pandas.DataFrame
        Columns ``chrom, start, end, id, ref, alt, strand`` (0-based, half-open; BED-like),
        then ``<score>_<condition>`` for each of ``ref, alt, diff, logratio``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> ds = xr.Dataset({s: (("variant", "condition"), np.zeros((1, 1)))
    ...                  for s in ("ref", "alt", "diff", "logratio")},
    ...                 coords={"condition": ["c0"], "chrom": ("variant", ["chr1"]),
    ...                         "start": ("variant", [9]), "id": ("variant", ["v"]),
    ...                         "ref_allele": ("variant", ["A"]),
    ...                         "alt_allele": ("variant", ["G"]),
    ...                         "region_strand": ("variant", ["."])})
    >>> variant_table(ds).columns.tolist()[:8]
    ['chrom', 'start', 'end', 'id', 'ref', 'alt', 'strand', 'ref_c0']
    """
    starts = np.asarray(ds[gm.REGION_START].values, dtype=np.int64)
    table = pd.DataFrame(
        {
            "chrom": np.asarray(ds[gm.REGION_CHROM].values).astype(str),
            "start": starts,
            "end": starts + 1,
            "id": np.asarray(ds["id"].values).astype(str),
            "ref": np.asarray(ds["ref_allele"].values).astype(str),
            "alt": np.asarray(ds["alt_allele"].values).astype(str),
            "strand": np.asarray(ds[gm.REGION_STRAND].values).astype(str),
        }
    )
    conditions = [str(c) for c in ds[gm.CONDITION].values]
    for score in SCORES:
        if score not in ds:
            continue
        values = ds[score].transpose(VARIANT, gm.CONDITION).values
        for j, cond in enumerate(conditions):
            table[f"{score}_{cond}"] = values[:, j]
    return table


def write_variant_effects(
    ds: xr.Dataset,
    path: str | os.PathLike,
    overwrite: bool = False,
    table: str | os.PathLike | None = None,
) -> tuple[Path, Path]:
    """Save a :func:`variant_effects` result as a zarr v3 store and a TSV table.

    Parameters
    ----------
    ds
        The result of :func:`variant_effects`.
    path
        The zarr store to write (atomically: a failed write leaves nothing behind).
    overwrite
        Replace an existing store (and table).
    table
        The TSV (:func:`variant_table`); default ``path`` with the suffix ``.tsv``.

    Returns
    -------
    tuple of pathlib.Path
        The store and the table. Reopen the store with
        ``xr.open_zarr(path, consolidated=False)``.

    Raises
    ------
    FileExistsError
        The store or the table exists and ``overwrite`` is False.

    Examples
    --------
    >>> store, tsv = write_variant_effects(ve, "effects.zarr")            # doctest: +SKIP
    """
    path = Path(path)
    table_path = Path(table) if table is not None else path.with_suffix(".tsv")
    if table_path.exists() and not overwrite:
        raise FileExistsError(f"{table_path} exists; pass overwrite=True to replace it")
    frame = variant_table(ds)
    with atomic_dir(path, overwrite=overwrite) as tmp:
        ds.to_zarr(tmp, mode="w", consolidated=False, zarr_format=3)
    table_path.parent.mkdir(parents=True, exist_ok=True)
    partial = table_path.with_name(f"{table_path.name}.partial-{os.getpid()}")
    try:
        frame.to_csv(partial, sep="\t", index=False)
        os.replace(partial, table_path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path, table_path
