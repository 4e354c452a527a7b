"""The data model: dimension names, array constructors and validators.

Every dimension and coordinate name is declared here once; no other module spells them
as literals. The four array kinds of the design are built by the constructors below, which
stamp ``attrs["source"] = "genomarray-<version>"``, and checked by :func:`validate`.

=================  ==================================  ===========================
kind               dims                                built by
=================  ==================================  ===========================
sequence genome    ``chrom, pos``                      :func:`sequence_genome`
coverage track     ``chrom, pos, strand, condition``   :func:`coverage_track`
region view        ``region, pos, ...``                :func:`region_view`
one-hot view       ``region, pos, base``               :func:`onehot_view`
=================  ==================================  ===========================

Genome-wide arrays carry no ``pos`` coordinate: ``pos`` is padded to the longest
chromosome and a coordinate of genome length would cost O(bases) memory to open.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from genomarray._version import __version__

# -- dimensions -------------------------------------------------------------------------
CHROM = "chrom"
POS = "pos"
STRAND = "strand"
CONDITION = "condition"
REGION = "region"
BASE = "base"
VARIANT = "variant"

# -- coordinates ------------------------------------------------------------------------
CHROM_LENGTH = "chrom_length"  # on CHROM: length of each chromosome in bp
REGION_CHROM = "chrom"  # on REGION (a non-dimension coordinate: the region's chromosome)
REGION_START = "start"
REGION_END = "end"
REGION_STRAND = "region_strand"  # ``strand`` is taken by the dimension
REGION_NAME = "name"
REGION_COORDS = (REGION_CHROM, REGION_START, REGION_END, REGION_STRAND, REGION_NAME)
REGION_INDEX = "region_index"  # on REGION, after a shuffle: each region's original position

# -- attributes -------------------------------------------------------------------------
SOURCE = "source"
ALPHABET = "alphabet"
ORDER = "order"
RESOLUTION = "resolution"
NORMALIZERS = "normalizers"
BINSIZE = "binsize"
STEPSIZE = "stepsize"
FLANK = "flank"
STRAND_AWARE = "strand_aware"
KIND = "genomarray_kind"
WINDOW_GRID = "window_grid"  # bin size (bp) of the grid a view's windows start on
WINDOW_BP = "window_bp"  # span (bp) of the window a view was cut with, before collapse padding
CHROM_SIZES = "chrom_sizes"  # {chrom: length} of the genome a view was cut from
STORED_ROI = "stored_roi"  # {chrom: [[start, end], ...]} an ROI-only track keeps
REGION_RESOLUTION = "region"  # attrs["resolution"] of one value per region (pos of size 1)

# -- the array kinds --------------------------------------------------------------------
SEQUENCE_GENOME = "sequence_genome"
COVERAGE_TRACK = "coverage_track"
REGION_VIEW = "region_view"
ONEHOT_VIEW = "onehot_view"

# -- what a view holds: the layout of its numpy batches -------------------------------------
ONEHOT = "onehot"
CODES = "codes"
COVERAGE = "coverage"
PER_REGION = "per_region"
CONTENTS = (ONEHOT, CODES, COVERAGE, PER_REGION)
"""What a view holds, as batch adapters and augmentations see it (:func:`content_of`):
one-hot channels, sequence codes, a coverage signal, or one value per region."""

VIEW_OF = "view_of"  # attrs key of a view: the kind of array it was cut from
SEQUENCES = "sequences"  # attrs[VIEW_OF] of a set of sequences (read_sequences)
SEQUENCE_SOURCES = (SEQUENCE_GENOME, SEQUENCES)
MODE = "mode"  # attrs key of an interval track: binary, score, ... (genomarray.io.intervals)
FILL_VALUE = "fill_value"  # attrs key: the padding value, where it is not the default
CACHE_KEY = "cache_key"  # attrs key of a cached store: its content-hash key
PATH = "path"  # attrs key: the file an array was read from
AUGMENTATION = "augmentation"  # attrs key: the augmentation applied to a view
STORE_VAR = "genomarray_var"  # attrs key of a store: the name of its variable
STORE_VERSION = "genomarray_version"  # attrs key of a store: the version that wrote it
ZERO_PADDING = "zero_padding"  # DataFrame.attrs key of a tiling: short last tiles kept
TILE_COLLAPSE = "collapse"  # DataFrame.attrs key of a tiling: one tile per region
READER = "reader"  # attrs key of a built track: which reader made it (bam, bigwig, intervals)
HOW = "how"  # attrs key of a track placed back on the genome: how overlaps were combined
HAS_SCORE = "has_score"  # DataFrame.attrs key of parsed regions: the file had a score column
JANGGU_CALL = "janggu_call"  # attrs key: the Janggu constructor call (JSON) that made a view
JANGGU_WRAPPERS = "janggu_wrappers"  # attrs key: Janggu wrappers (JSON) applied to a compat view
SHUFFLE_SEED = "shuffle_random_state"  # attrs key of a shuffled store: its permutation's seed
NORMALIZERS_INVALID = "normalizers_invalid"  # attrs key: why attrs["normalizers"] no longer
# inverts the values (an operation changed them after normalizing)
RECIPE = "genomarray_recipe"  # encoding key: how a lazy array was made (genomarray.batches)
RECIPE_STORE = "store"  # recipe op: an array opened from a zarr store, as stored
RECIPE_READER = "reader"  # recipe op: a genome-wide array read from its files (no store)
RECIPE_WINDOWS = "windows"  # recipe op: windows of a stored genome-wide array (a view)
RECIPE_ONEHOT = "onehot"  # recipe op: one-hot of a sequence view of codes
RECIPE_ROWS = "rows"  # recipe op: some regions of a view (subset, shuffle), by index
LABEL_MODES = ("binary",)
"""Interval-track modes whose values are labels, not signal (with every ``*_category``)."""

STRANDS_STRANDED = ("+", "-")
STRAND_UNSTRANDED = "."

SPECS: dict[str, tuple[str, ...]] = {
    SEQUENCE_GENOME: (CHROM, POS),
    COVERAGE_TRACK: (CHROM, POS, STRAND, CONDITION),
    ONEHOT_VIEW: (REGION, POS, BASE),
}
"""Required dims of each array kind (a region view has ``region, pos`` then its source's
trailing dims)."""

SPEC_VARIANTS: dict[str, tuple[tuple[str, ...], ...]] = {
    ONEHOT_VIEW: ((REGION, POS, STRAND, BASE),),
}
"""Other dims an array kind may have: a one-hot view may carry a singleton ``strand`` axis
(``"."``) before ``base``, the layout of Janggu's ``Bioseq`` (see :mod:`genomarray.compat`)."""


def source_stamp() -> str:
    """Return the ``attrs["source"]`` value stamped on every array genomarray builds."""
    return f"genomarray-{__version__}"


def _chrom_coords(chroms: Sequence[str], lengths: Sequence[int]) -> dict[str, Any]:
    chroms = [str(c) for c in chroms]
    lengths = np.asarray(lengths, dtype=np.int64)
    if len(chroms) != len(lengths):
        raise ValueError(f"{len(chroms)} chromosome names but {len(lengths)} lengths")
    if len(set(chroms)) != len(chroms):
        dup = pd.Series(chroms)[pd.Series(chroms).duplicated()].tolist()
        raise ValueError(f"duplicate chromosome names: {dup}")
    return {CHROM: np.array(chroms, dtype=object), CHROM_LENGTH: (CHROM, lengths)}


def sequence_genome(
    codes: Any, chroms: Sequence[str], lengths: Sequence[int], alphabet: str = "dna", **attrs: Any
) -> xr.DataArray:
    """Build a genome-wide sequence array ``(chrom, pos)`` of uint8 codes.

    Parameters
    ----------
    codes
        numpy or dask array of shape ``(n_chrom, max_length)``, uint8 codes as in
        :mod:`genomarray.encode` (positions past a chromosome's end hold the unknown code).
    chroms, lengths
        Chromosome names and lengths in bp.
    alphabet
        ``"dna"`` or ``"protein"``.
    **attrs
        Extra attributes (``path`` of the FASTA, for example).

    Examples
    --------
    >>> import numpy as np
    >>> g = sequence_genome(np.zeros((1, 4), np.uint8), ["chr1"], [4])
    >>> g.dims
    ('chrom', 'pos')
    """
    da = xr.DataArray(
        codes,
        dims=(CHROM, POS),
        coords=_chrom_coords(chroms, lengths),
        name="sequence",
        attrs={KIND: SEQUENCE_GENOME, ALPHABET: alphabet, SOURCE: source_stamp(), **attrs},
    )
    validate(da, SEQUENCE_GENOME)
    return da


def coverage_track(
    values: Any,
    chroms: Sequence[str],
    lengths: Sequence[int],
    strands: Sequence[str],
    conditions: Sequence[str],
    resolution: int = 1,
    normalizers: Sequence[str] = (),
    **attrs: Any,
) -> xr.DataArray:
    """Build a genome-wide coverage track ``(chrom, pos, strand, condition)``.

    ``pos`` counts bins of ``resolution`` bp, padded to the longest chromosome.

    Examples
    --------
    >>> import numpy as np
    >>> t = coverage_track(np.zeros((1, 10, 1, 2), np.float32), ["chr1"], [10], ["."],
    ...                    ["rep1", "rep2"])
    >>> t.sizes["condition"]
    2
    """
    coords = _chrom_coords(chroms, lengths)
    coords[STRAND] = np.array(list(strands), dtype=object)
    coords[CONDITION] = np.array([str(c) for c in conditions], dtype=object)
    da = xr.DataArray(
        values,
        dims=(CHROM, POS, STRAND, CONDITION),
        coords=coords,
        name="coverage",
        attrs={
            KIND: COVERAGE_TRACK,
            RESOLUTION: int(resolution),
            NORMALIZERS: list(normalizers),
            SOURCE: source_stamp(),
            **attrs,
        },
    )
    validate(da, COVERAGE_TRACK)
    return da


def region_coords(regions: pd.DataFrame) -> dict[str, Any]:
    """Return the per-region coordinates of a view from a regions DataFrame."""
    n = len(regions)
    dot = np.full(n, ".", dtype=object)
    strand = regions["strand"].astype(str).to_numpy(dtype=object) if "strand" in regions else dot
    name = regions["name"].astype(str).to_numpy(dtype=object) if "name" in regions else dot
    return {  # new arrays (a view's coordinates never share memory with the DataFrame)
        REGION_CHROM: (REGION, regions["chrom"].astype(str).to_numpy(dtype=object)),
        REGION_START: (REGION, np.array(regions["start"], dtype=np.int64)),
        REGION_END: (REGION, np.array(regions["end"], dtype=np.int64)),
        REGION_STRAND: (REGION, strand),
        REGION_NAME: (REGION, name.copy() if name is dot else name),
    }


def region_view(
    values: Any,
    regions: pd.DataFrame,
    trailing_dims: Sequence[str] = (),
    coords: dict[str, Any] | None = None,
    name: str | None = "view",
    **attrs: Any,
) -> xr.DataArray:
    """Build a region view ``(region, pos, *trailing_dims)``.

    ``pos`` is the bin offset inside each window; per-region coordinates ``chrom``,
    ``start``, ``end``, ``region_strand``, ``name`` come from ``regions`` (tile
    coordinates, without flank).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> roi = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [4]})
    >>> region_view(np.zeros((1, 4), np.uint8), roi).dims
    ('region', 'pos')
    """
    all_coords = region_coords(regions)
    all_coords[POS] = np.arange(np.shape(values)[1], dtype=np.int64)
    all_coords.update(coords or {})
    # built without xarray's deep copy of every coordinate (an object array of region
    # names, chromosomes and strands is copied element by element: 6 ms per 20,000)
    dims = (REGION, POS, *trailing_dims)
    variable = xr.Variable(dims, values, {KIND: REGION_VIEW, SOURCE: source_stamp(), **attrs})
    built = xr.Coordinates(all_coords)
    for key, coord in built.variables.items():
        for dim, size in zip(coord.dims, coord.shape, strict=True):
            if dim not in variable.sizes or variable.sizes[dim] != size:
                raise ValueError(
                    f"coordinate {key!r} has {size} values along {dim!r}; the view has "
                    f"{variable.sizes.get(dim, 0)}"
                )
    da = xr.DataArray(
        variable,
        coords=dict(built.variables),
        name=name,
        indexes=dict(built.xindexes),
        fastpath=True,
    )
    validate(da, REGION_VIEW)
    return da


def regions_of(view: xr.DataArray | xr.Dataset) -> pd.DataFrame:
    """Return the regions of a view as a BED-like DataFrame.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> roi = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [4]})
    >>> regions_of(region_view(np.zeros((1, 4), np.uint8), roi))["end"].tolist()
    [4]
    """
    return pd.DataFrame(
        {
            "chrom": view[REGION_CHROM].values.astype(str),
            "start": view[REGION_START].values,
            "end": view[REGION_END].values,
            "name": view[REGION_NAME].values.astype(str),
            "strand": view[REGION_STRAND].values.astype(str),
        }
    )


def onehot_view(
    values: Any, like: xr.DataArray, labels: Sequence[str], order: int, **attrs: Any
) -> xr.DataArray:
    """Build a one-hot view ``(region, pos, base)`` sharing the regions of ``like``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> roi = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [4]})
    >>> codes = region_view(np.zeros((1, 4), np.uint8), roi)
    >>> onehot_view(np.zeros((1, 4, 4), np.uint8), codes, list("ACGT"), 1).sizes["base"]
    4
    """
    keep = {k: v for k, v in like.attrs.items() if k not in (KIND, ORDER)}
    variable = xr.Variable(
        (REGION, POS, BASE),
        values,
        {**keep, KIND: ONEHOT_VIEW, ORDER: int(order), SOURCE: source_stamp(), **attrs},
    )
    # the region coordinates are shared with ``like`` (immutable), not deep-copied element
    # by element as xarray's constructor does for object arrays
    built = xr.Coordinates(
        {
            POS: np.arange(variable.shape[1], dtype=np.int64),
            BASE: np.array(list(labels), dtype=object),
        }
    )
    coords = {k: like[k].variable for k in REGION_COORDS} | dict(built.variables)
    if like.sizes[REGION] != variable.shape[0] or len(labels) != variable.shape[2]:
        raise ValueError(
            f"one-hot values of shape {variable.shape} do not fit {like.sizes[REGION]} "
            f"regions and {len(labels)} labels"
        )
    da = xr.DataArray(
        variable,
        coords=coords,
        name="onehot",
        indexes=dict(built.xindexes),
        fastpath=True,
    )
    validate(da, ONEHOT_VIEW)
    return da


def kind_of(arr: xr.DataArray) -> str:
    """Return the kind of ``arr`` (from its attrs, else guessed from its dims).

    Examples
    --------
    >>> import numpy as np
    >>> kind_of(sequence_genome(np.zeros((1, 4), np.uint8), ["chr1"], [4]))
    'sequence_genome'
    """
    kind = arr.attrs.get(KIND)
    if kind:
        return kind
    dims = tuple(arr.dims)
    if dims == SPECS[SEQUENCE_GENOME]:
        return SEQUENCE_GENOME
    if dims == SPECS[COVERAGE_TRACK]:
        return COVERAGE_TRACK
    if dims == SPECS[ONEHOT_VIEW] or dims in SPEC_VARIANTS[ONEHOT_VIEW]:
        return ONEHOT_VIEW
    if dims[:2] == (REGION, POS):
        return REGION_VIEW
    raise ValueError(
        f"not a genomarray array: dims {dims} match none of "
        f"{[*SPECS.values(), (REGION, POS, '...')]}"
    )


def validate(arr: xr.DataArray, kind: str | Sequence[str] | None = None) -> str:
    """Check that ``arr`` is a well-formed array of ``kind`` (any kind if None).

    Returns the kind. Raises ``ValueError`` naming what is missing or wrong, so a wrong
    array fails at the public function that received it, not deep inside dask.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> validate(xr.DataArray(np.zeros(3), dims="x"))
    Traceback (most recent call last):
    ...
    ValueError: not a genomarray array: dims ('x',) match none of ...
    """
    if not isinstance(arr, xr.DataArray):
        raise TypeError(f"expected an xarray.DataArray, got {type(arr).__name__}")
    found = kind_of(arr)
    allowed = [kind] if isinstance(kind, str) else list(kind or [])
    if allowed and found not in allowed:
        raise ValueError(
            f"expected a {' or '.join(allowed)} array, got a {found} with dims {tuple(arr.dims)}"
        )
    if found in SPECS and tuple(arr.dims) not in (SPECS[found], *SPEC_VARIANTS.get(found, ())):
        shapes = " or ".join(map(str, (SPECS[found], *SPEC_VARIANTS.get(found, ()))))
        raise ValueError(f"a {found} must have dims {shapes}, got {tuple(arr.dims)}")
    if found in (SEQUENCE_GENOME, COVERAGE_TRACK):
        for name in (CHROM, CHROM_LENGTH):
            if name not in arr.coords:
                raise ValueError(f"a {found} needs the coordinate {name!r}")
        if (
            POS in arr.coords
            and arr.sizes[POS] > 1_000_000
            and not isinstance(arr.indexes.get(POS), xr.indexes.RangeIndex)
        ):
            raise ValueError(
                "genome-wide arrays must not carry a materialised 'pos' "
                "coordinate (it costs O(genome) memory); drop it"
            )
    if found in (REGION_VIEW, ONEHOT_VIEW):
        if tuple(arr.dims[:2]) != (REGION, POS):
            raise ValueError(
                f"a {found} must start with dims ({REGION!r}, {POS!r}), got {tuple(arr.dims)}"
            )
        missing = [c for c in REGION_COORDS if c not in arr.coords]
        if missing:
            raise ValueError(f"a {found} needs the per-region coordinates {missing}")
    return found


def fill_value(arr: xr.DataArray) -> Any:
    """Return the padding value of an array: the unknown code for sequences, else 0.

    Examples
    --------
    >>> import numpy as np
    >>> fill_value(sequence_genome(np.zeros((1, 4), np.uint8), ["chr1"], [4]))
    4
    """
    from genomarray.encode import DNA, unknown_code

    if arr.attrs.get(KIND) == SEQUENCE_GENOME or is_codes_view(arr):
        return unknown_code(arr.attrs.get(ALPHABET, DNA))
    return arr.attrs.get(FILL_VALUE, 0)


def is_codes_view(arr: xr.DataArray) -> bool:
    """Whether ``arr`` is a view of sequence codes ``(region, pos)`` (not yet one-hot).

    Examples
    --------
    >>> import genomarray as ga
    >>> seqs = ga.read_sequences(ga.example_path("seqs.fa"))
    >>> is_codes_view(seqs), is_codes_view(ga.onehot(seqs))
    (True, False)
    """
    return (
        arr.ndim == 2
        and tuple(arr.dims) == (REGION, POS)
        and arr.attrs.get(VIEW_OF) in SEQUENCE_SOURCES
    )


def record_recipe(arr: xr.DataArray, op: str, of: dict | None = None, **params: Any) -> None:
    """Record in ``arr.encoding`` how its lazy (dask) data was made, stamped with its
    dask name.

    The batch engine (:mod:`genomarray.batches`) reads such arrays straight from their
    zarr chunks instead of computing their dask graph. The stamp makes the recipe
    self-checking: any later operation on the array gives its data a new dask name, so
    :func:`recipe_of` no longer returns the recipe (xarray may copy ``encoding`` along).
    Numpy-backed arrays get no recipe.

    Parameters
    ----------
    arr
        The array just made (changed in place: ``arr.encoding``).
    op
        What made it: :data:`RECIPE_STORE`, :data:`RECIPE_READER`,
        :data:`RECIPE_WINDOWS`, :data:`RECIPE_ONEHOT` or :data:`RECIPE_ROWS`.
    of
        The recipe of the array it was made from.
    **params
        What the engine needs to redo it (numpy arrays and plain values).

    Examples
    --------
    >>> import dask.array as da
    >>> a = xr.DataArray(da.zeros((2, 3), chunks=1), dims=("region", "pos"))
    >>> record_recipe(a, "store", path="a.zarr", var="v")
    >>> recipe_of(a)["path"], recipe_of(a + 1)
    ('a.zarr', None)
    """
    name = getattr(arr.data, "name", None)
    if not isinstance(name, str):
        return
    arr.encoding[RECIPE] = {"op": op, "name": name, "of": of, **params}


def recipe_of(arr: Any) -> dict | None:
    """The recipe :func:`record_recipe` recorded for ``arr``, if its data is still exactly
    what the recipe made (same dask name); else None."""
    encoding = getattr(arr, "encoding", None)
    recipe = encoding.get(RECIPE) if isinstance(encoding, dict) else None
    name = getattr(getattr(arr, "data", None), "name", None)
    if not isinstance(recipe, dict) or name is None or recipe.get("name") != name:
        return None
    return recipe


def record_rows(out: Any, src: Any, rows: Any) -> None:
    """Record that ``out`` holds the regions ``rows`` of ``src`` (a DataArray, or every
    variable of a Dataset), where ``src`` has a recipe (see :func:`record_recipe`)."""
    if isinstance(out, xr.Dataset):
        for name in out.data_vars:
            if name in src.data_vars and REGION in src[name].dims:
                record_rows(out[name], src[name], rows)
        return
    of = recipe_of(src)
    if of is not None and src.dims[:1] == (REGION,):
        record_recipe(out, RECIPE_ROWS, of=of, rows=np.asarray(rows, dtype=np.int64))


def is_label_track(arr: xr.DataArray) -> bool:
    """Whether ``arr`` holds labels (a binary or categorical interval track), not a signal.

    Examples
    --------
    >>> import genomarray as ga
    >>> peaks = ga.read_bed(ga.example_path("peaks.narrowPeak"),
    ...                     like=ga.example_path("genome.fa"), storage="memory")
    >>> is_label_track(peaks)
    True
    """
    mode = str(arr.attrs.get(MODE, ""))
    return mode in LABEL_MODES or mode.endswith("_category")


def content_of(arr: xr.DataArray) -> str:
    """What a view with ``region`` first holds: ``ONEHOT``, ``CODES``, ``COVERAGE`` or
    ``PER_REGION`` (``pos`` of size 1, squeezed away, or one value per region).

    Examples
    --------
    >>> import genomarray as ga
    >>> seqs = ga.read_sequences(ga.example_path("seqs.fa"))
    >>> content_of(seqs), content_of(ga.onehot(seqs))
    ('codes', 'onehot')
    """
    dims = tuple(arr.dims)
    if BASE in dims and (arr.attrs.get(KIND) == ONEHOT_VIEW or ORDER in arr.attrs):
        return ONEHOT
    if is_codes_view(arr):
        return CODES
    resolution = arr.attrs.get(RESOLUTION, 1)
    if POS not in dims or arr.sizes[POS] == 1 or resolution in (None, REGION_RESOLUTION):
        return PER_REGION
    return COVERAGE


def chrom_sizes(arr: xr.DataArray | xr.Dataset) -> dict[str, int]:
    """Return ``{chrom: length}`` of a genome-wide array.

    Examples
    --------
    >>> import numpy as np
    >>> chrom_sizes(sequence_genome(np.zeros((1, 4), np.uint8), ["chr1"], [4]))
    {'chr1': 4}
    """
    return {
        str(c): int(n) for c, n in zip(arr[CHROM].values, arr[CHROM_LENGTH].values, strict=True)
    }


def map_variables(
    ds: xr.Dataset, kinds: Sequence[str], fn: Any, what: str = "this operation"
) -> xr.Dataset:
    """Apply ``fn`` to every variable of ``ds`` whose kind is one of ``kinds``; keep the rest.

    The shared dispatch of functions that accept a Dataset as well as a DataArray.

    Raises
    ------
    ValueError
        No variable of ``ds`` has one of ``kinds``.

    Examples
    --------
    >>> import numpy as np
    >>> g = sequence_genome(np.zeros((1, 4), np.uint8), ["chr1"], [4])
    >>> ds = xr.Dataset({"dna": g, "other": ("x", [1, 2])})
    >>> map_variables(ds, [SEQUENCE_GENOME], lambda v: v + 1)["dna"].values.tolist()
    [[1, 1, 1, 1]]
    """

    def kind(var: xr.DataArray) -> str | None:
        try:
            return kind_of(var)
        except ValueError:
            return None

    chosen = [n for n, v in ds.data_vars.items() if kind(v) in kinds]
    if not chosen:
        raise ValueError(
            f"{what}: no variable of kind {' or '.join(kinds)} in this Dataset "
            f"(variables: {list(ds.data_vars)})"
        )
    out = {n: fn(v) if n in chosen else v for n, v in ds.data_vars.items()}
    return xr.Dataset(out, attrs=ds.attrs)
