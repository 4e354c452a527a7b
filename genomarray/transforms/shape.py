"""Shape helpers: reduce a dim, squeeze size-1 dims, channel order, numpy batches.

All keep coordinates and attributes and stay lazy on dask (except
:func:`as_numpy_batch`, which computes).

Arrays and the data model
-------------------------
A result keeps its kind (``attrs["genomarray_kind"]``) while its dims still fit it; a
result whose dims leave the data model (a channel-first view, a view without ``pos``) is a
plain labelled array without a kind, fine for :func:`as_numpy_batch` and model inputs
but not for views or exports. :func:`channel_order` with ``"last"`` brings a channel-first
view back, kind included. One-hot reduced over ``base`` becomes a region view (its
``attrs["view_of"]`` says ``"onehot_view"``), no longer a sequence view.

Channel order
-------------
- channel-last ``(region, pos, *features)``: the keras / TensorFlow default (``Conv1D``),
  and genomarray's own layout;
- channel-first ``(region, *features, pos)``: PyTorch ``Conv1d``.

``features`` keep their order (``strand, condition`` for coverage, ``base`` for one-hot).

Examples
--------
>>> import genomarray as ga
>>> x = ga.onehot(ga.read_sequences(ga.example_path("seqs.fa")))
>>> as_numpy_batch(x, channel="first").shape
(30, 4, 200)
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, Literal

import numpy as np
import xarray as xr

from genomarray import model
from genomarray.errors import InputError

HOWS = ("sum", "mean", "max", "min")
"""Named reductions of :func:`reduce_dim`."""

CHANNELS = ("last", "first")
"""Channel orders of :func:`channel_order`."""

_EXAMPLE_DIMS = (model.REGION, model.CHROM)  # never squeezed or reduced
_VIEW_KINDS = (model.REGION_VIEW, model.ONEHOT_VIEW)


def _kind(arr: xr.DataArray) -> str | None:
    try:
        return model.kind_of(arr)
    except ValueError:
        return None


def _restamp(out: xr.DataArray, kind: str | None) -> xr.DataArray:
    """Set ``attrs["genomarray_kind"]`` from ``out``'s dims (a kind compatible with
    ``kind``), or drop it when the dims fit no kind."""
    attrs = {k: v for k, v in out.attrs.items() if k != model.KIND}
    out.attrs = attrs
    allowed = _VIEW_KINDS if kind in _VIEW_KINDS else (kind,)
    guess = _kind(out)
    if guess == model.ONEHOT_VIEW and model.ORDER not in attrs:
        guess = model.REGION_VIEW
    if guess in allowed:
        out.attrs[model.KIND] = guess
        try:
            model.validate(out, guess)
        except ValueError:
            out.attrs = attrs
    return out


def _dims_list(dim: Hashable | Sequence[Hashable]) -> list[Hashable]:
    return [dim] if isinstance(dim, str) or not isinstance(dim, Sequence) else list(dim)


def _check_array(arr: Any, what: str) -> str | None:
    if not isinstance(arr, xr.DataArray):
        raise TypeError(f"{what} needs an xarray.DataArray, got {type(arr).__name__}")
    return _kind(arr)


# -- reduce_dim -----------------------------------------------------------------------------
def reduce_dim(
    arr: xr.DataArray,
    dim: str | Sequence[str],
    how: Literal["sum", "mean", "max", "min"] | Callable[..., Any] = "sum",
    keepdims: bool = False,
) -> xr.DataArray:
    """Reduce one or more dims of a view or track (Janggu's ``ReduceDim``).

    Parameters
    ----------
    arr
        A coverage or one-hot view ``(region, pos, ...)``, a coverage track, or a plain
        labelled array with ``region`` first.
    dim
        Dim(s) to reduce, e.g. ``"condition"``, ``"strand"`` or ``"base"``; never
        ``region`` / ``chrom``. ``pos`` gives one value per region over the whole window,
        padding included (:func:`~genomarray.transforms.collapse.collapse` with
        ``resolution=None`` reduces over the region's own window instead).
    how
        ``"sum"``, ``"mean"``, ``"max"``, ``"min"`` (NaN propagates, as in numpy), or a
        function called like a numpy reduction, ``fn(values, axis=-1)``, with the reduced
        dims flattened into the last axis; it is called once on a dummy block to learn its
        dtype.
    keepdims
        Keep the reduced dims with size 1 (labelled ``"."`` for ``strand``, ``0`` for
        ``pos``, the reduction's name otherwise), so a track or view stays in the data
        model (reducing ``strand`` of a stranded track gives an unstranded track).

    Returns
    -------
    xarray.DataArray
        Without (or with size-1) ``dim``; other coordinates and attrs kept; lazy if
        ``arr`` is.

    Raises
    ------
    InputError
        A missing dim (the message names the array's dims), ``region``/``chrom``, sequence
        codes, or an unknown ``how`` (the message lists the valid ones).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from genomarray import model
    >>> roi = pd.DataFrame({"chrom": ["c"], "start": [0], "end": [2]})
    >>> v = model.region_view(np.arange(8.0).reshape(1, 2, 2, 2), roi,
    ...                       ("strand", "condition"), coords={"strand": ["+", "-"]})
    >>> reduce_dim(v, "strand").values
    array([[[ 2.,  4.],
            [10., 12.]]])
    >>> r = reduce_dim(v, "strand", "max", keepdims=True)
    >>> r.dims, r.strand.values.tolist()
    (('region', 'pos', 'strand', 'condition'), ['.'])
    """
    kind = _check_array(arr, "reduce_dim")
    dims = _dims_list(dim)
    if kind == model.SEQUENCE_GENOME or (kind == model.REGION_VIEW and model.is_codes_view(arr)):
        raise InputError(
            f"reduce_dim needs coverage or one-hot, got sequence codes with "
            f"dims {tuple(arr.dims)}; one-hot them first",
            source="reduce_dim",
        )
    missing = [d for d in dims if d not in arr.dims]
    if missing or not dims:
        raise InputError(
            f"cannot reduce dims {dims}: the array has dims {tuple(arr.dims)}", source="reduce_dim"
        )
    protected = [d for d in dims if d in _EXAMPLE_DIMS]
    if protected:
        raise InputError(
            f"cannot reduce {protected}: that dim indexes the examples; "
            f"reduce one of {[d for d in arr.dims if d not in _EXAMPLE_DIMS]}",
            source="reduce_dim",
        )
    if not callable(how) and how not in HOWS:
        raise InputError(
            f"unknown how={how!r}; expected one of {list(HOWS)} or a function "
            "called as fn(values, axis=-1)",
            source="reduce_dim",
        )
    name = how if isinstance(how, str) else getattr(how, "__name__", "reduced")

    if callable(how):

        def kernel(values: np.ndarray) -> np.ndarray:
            flat = values.reshape(*values.shape[: values.ndim - len(dims)], -1)
            return np.asarray(how(flat, axis=-1))

        sample = kernel(np.ones((1,) * (len(dims) + 1), dtype=arr.dtype))
        if sample.shape != (1,):
            raise InputError(
                f"the reduction {name} returned shape {sample.shape} on a "
                "(1, n) block; expected (1,) (the input without its last "
                "axis)",
                source="reduce_dim",
            )
        out = xr.apply_ufunc(
            kernel,
            arr,
            input_core_dims=[dims],
            dask="parallelized",
            output_dtypes=[sample.dtype],
            keep_attrs=True,
            dask_gufunc_kwargs={"allow_rechunk": True},
        )
    else:
        out = getattr(arr, how)(dim=dims, skipna=False, keep_attrs=True)
    out.name = arr.name
    attrs = dict(arr.attrs)
    if kind == model.ONEHOT_VIEW and model.BASE in dims:
        attrs.pop(model.ORDER, None)
        attrs[model.VIEW_OF] = model.ONEHOT_VIEW
    if model.POS in dims and kind in _VIEW_KINDS:
        attrs[model.RESOLUTION] = model.REGION_RESOLUTION
        try:
            from genomarray.views.geometry import view_grid, window_layout

            attrs.setdefault(model.WINDOW_GRID, view_grid(arr))
            attrs.setdefault(model.WINDOW_BP, window_layout(arr)["window_bp"])
        except (InputError, KeyError, TypeError, ValueError):
            pass
    out.attrs = attrs
    if keepdims:
        for d in dims:
            if d in arr.coords:
                label = "." if d == model.STRAND else 0 if d == model.POS else name
                out = out.expand_dims(
                    {d: np.array([label], dtype=arr[d].dtype if d == model.POS else object)}
                )
            else:
                out = out.expand_dims(d)
        out = out.transpose(*arr.dims)
    from genomarray.transforms.normalize import invalidate

    return invalidate(_restamp(out, kind), "reduce_dim")


# -- squeeze --------------------------------------------------------------------------------
def squeeze(arr: xr.DataArray, dims: str | Sequence[str] | None = None) -> xr.DataArray:
    """Remove size-1 dims, except ``region`` (and ``chrom``): the examples axis stays,
    even for a single region, so a batch of one is still a batch.

    Parameters
    ----------
    arr
        Any array with named dims (typically a view).
    dims
        Dims to remove (each must have size 1); default: every size-1 dim but
        ``region``/``chrom``. Their labels stay as scalar coordinates.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from genomarray import model
    >>> roi = pd.DataFrame({"chrom": ["c"], "start": [0], "end": [4]})
    >>> y = model.region_view(np.ones((1, 1, 1, 3)), roi, ("strand", "condition"),
    ...                       coords={"strand": ["."]}, resolution="region")
    >>> squeeze(y).dims, squeeze(y, "strand").dims
    (('region', 'condition'), ('region', 'pos', 'condition'))
    """
    kind = _check_array(arr, "squeeze")
    if dims is None:
        chosen = [d for d in arr.dims if arr.sizes[d] == 1 and d not in _EXAMPLE_DIMS]
    else:
        chosen = _dims_list(dims)
        missing = [d for d in chosen if d not in arr.dims]
        if missing:
            raise InputError(
                f"cannot squeeze {missing}: the array has dims {tuple(arr.dims)}", source="squeeze"
            )
        bad = [
            f"{d} (size {arr.sizes[d]})" for d in chosen if arr.sizes[d] != 1 or d in _EXAMPLE_DIMS
        ]
        if bad:
            raise InputError(
                f"cannot squeeze {', '.join(bad)}: only size-1 dims other "
                f"than {list(_EXAMPLE_DIMS)} can be removed; array dims "
                f"{dict(arr.sizes)}",
                source="squeeze",
            )
    if not chosen:
        return arr
    return _restamp(arr.squeeze(dim=chosen), kind)


# -- channel order --------------------------------------------------------------------------
def channel_order(arr: xr.DataArray, order: Literal["last", "first"] = "last") -> xr.DataArray:
    """Put ``pos`` second (channel-last) or last (channel-first), ``region`` first.

    Parameters
    ----------
    arr
        A view (or a channel-first view, or a plain array with ``region`` as a dim).
    order
        ``"last"``: ``(region, pos, *features)`` (keras/TensorFlow, genomarray's layout);
        ``"first"``: ``(region, *features, pos)`` (PyTorch ``Conv1d``). An array without
        ``pos`` is only transposed to put ``region`` first.

    Examples
    --------
    >>> import genomarray as ga
    >>> x = ga.onehot(ga.read_sequences(ga.example_path("seqs.fa")))
    >>> first = channel_order(x, "first")
    >>> first.dims, channel_order(first, "last").janggu.kind
    (('region', 'base', 'pos'), 'onehot_view')
    """
    kind = _check_array(arr, "channel_order")
    if order not in CHANNELS:
        raise InputError(
            f"unknown channel order {order!r}; expected one of {list(CHANNELS)}",
            source="channel_order",
        )
    if model.REGION not in arr.dims:
        raise InputError(
            f"channel_order needs a view with dims ({model.REGION!r}, "
            f"{model.POS!r}, ...); got dims {tuple(arr.dims)}",
            source="channel_order",
        )
    rest = [d for d in arr.dims if d not in (model.REGION, model.POS)]
    if model.POS not in arr.dims:
        new = [model.REGION, *rest]
    elif order == "last":
        new = [model.REGION, model.POS, *rest]
    else:
        new = [model.REGION, *rest, model.POS]
    if list(arr.dims) == new:
        return arr
    out = arr.transpose(*new)
    if kind is None and model.ORDER in arr.attrs:
        kind = model.ONEHOT_VIEW
    elif kind is None:
        kind = model.REGION_VIEW
    return _restamp(out, kind)


def as_numpy_batch(
    arr: xr.DataArray | xr.Dataset, channel: Literal["last", "first"] = "last"
) -> np.ndarray | dict:
    """Return a view as a plain numpy array for any framework (computes a lazy array).

    Dims are ``(region, pos, *features)`` for ``channel="last"`` (keras/TensorFlow) and
    ``(region, *features, pos)`` for ``"first"`` (PyTorch), ``features`` in the array's
    order (``strand, condition``; ``base``); a Dataset gives ``{name: array}``.

    Examples
    --------
    >>> import genomarray as ga
    >>> seqs = ga.read_sequences(ga.example_path("seqs.fa"))
    >>> b = as_numpy_batch(ga.onehot(seqs, order=2))
    >>> type(b).__name__, b.shape
    ('ndarray', (30, 199, 16))
    """
    if isinstance(arr, xr.Dataset):
        return {str(k): as_numpy_batch(v, channel) for k, v in arr.data_vars.items()}
    return np.asarray(channel_order(arr, channel).values)


__all__ = ["CHANNELS", "HOWS", "as_numpy_batch", "channel_order", "reduce_dim", "squeeze"]
