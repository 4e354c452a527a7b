"""Janggu's model wrapper ``Janggu`` and the functions around it.

:class:`Janggu` wraps a ``keras.Model`` built from Janggu's templates
(:func:`create_model`, ``Janggu.create``), trains on Janggu datasets (batched by
:class:`~genomarray.compat.keras.sequence.JangguSequence`), evaluates with ``Scorer``
callbacks and keeps Janggu's output folder:

::

    <root>/logs/janggu.log                       the model summary and messages
    <root>/models/<name>.h5                      saved after fit (keras HDF5), hyper-
                                                 parameters as attrs of "model_weights"
    <root>/evaluation/<name>/training.log        keras' CSV log of fit
    <root>/evaluation/<name>/[<tags>/]<scorer>.<ext>   Scorer exports

``<root>`` is ``$JANGGU_OUTPUT`` when set (Janggu's scripts set it), else genomarray's
output root (``$GENOMARRAY_OUTPUT``, else the per-user cache folder); ``<name>`` is the
name given, else the md5 of the model's JSON (printed as ``Generated model-id``).
:func:`input_attribution` and :func:`predict_variant_effect` use genomarray's integrated
gradients and variant-effect scoring.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from genomarray import model as gm
from genomarray.compat.keras.sequence import as_named
from genomarray.errors import InputError


def output_root() -> Path:
    """``$JANGGU_OUTPUT`` if set, else :func:`genomarray.paths.output_root` (created)."""
    from genomarray.paths import output_root as native_root

    value = os.environ.get("JANGGU_OUTPUT")
    if value:
        root = Path(value).expanduser()
        root.mkdir(parents=True, exist_ok=True)
        return root
    return native_root()


def _keras() -> Any:
    import keras

    return keras


KERAS2_LEARNING_RATES = {"adadelta": 1.0, "adagrad": 0.01, "adamax": 0.002, "nadam": 0.002}
"""Keras 2 default learning rates that keras 3 changed (to 0.001), by optimizer name."""


def keras2_optimizer(optimizer: Any) -> Any:
    """An optimizer named as in Janggu's scripts, with keras 2's default learning rate.

    Examples
    --------
    >>> keras2_optimizer("sgd")
    'sgd'
    >>> float(keras2_optimizer("adadelta").learning_rate)  # doctest: +SKIP
    1.0
    """
    if isinstance(optimizer, str) and optimizer.lower() in KERAS2_LEARNING_RATES:
        keras = _keras()
        cls = keras.optimizers.get(optimizer.lower()).__class__
        return cls(learning_rate=KERAS2_LEARNING_RATES[optimizer.lower()])
    return optimizer


def _single(tensors: Any) -> Any:
    if isinstance(tensors, list | tuple) and len(tensors) == 1:
        return tensors[0]
    return tensors


def data_props(data: Any) -> dict[str, dict[str, tuple[int, ...]]]:
    """Janggu's ``{name: {"shape": per-example shape}}`` of a dataset, list or dict (a dict
    is passed through, as Janggu did)."""
    if isinstance(data, Mapping):
        return dict(data)
    items = list(data) if isinstance(data, list | tuple) else [data]
    props = {}
    for item in items:
        name = getattr(item, "name", None)
        if not isinstance(name, str):
            raise InputError(
                f"a template's datasets need names; got {type(item).__name__}",
                source="create_model",
            )
        props[name] = {"shape": tuple(int(n) for n in item.shape[1:]) or (1,)}
    return props


def create_model(
    template: Callable[..., Any],
    modelparams: Any = None,
    inputs: Any = None,
    outputs: Any = None,
    name: str | None = None,
) -> Any:
    """Janggu's ``create_model``: a ``keras.Model`` from a template and the datasets.

    The template is called as ``template(None, inp, oup, modelparams)`` with ``inp`` /
    ``oup`` the datasets' ``{name: {"shape": ...}}`` (None when not given) and returns
    ``(input tensors, output tensors)``.

    Examples
    --------
    >>> import keras  # doctest: +SKIP
    >>> def template(inputs, inp, oup, params):
    ...     x = keras.Input((10,), name="ip")
    ...     return x, keras.layers.Dense(params)(x)  # doctest: +SKIP
    >>> create_model(template, modelparams=3).output.shape  # doctest: +SKIP
    (None, 3)
    """
    keras = _keras()
    inp = data_props(inputs) if inputs is not None else None
    oup = data_props(outputs) if outputs is not None else None
    input_tensors, output_tensors = template(None, inp, oup, modelparams)
    return keras.Model(inputs=_single(input_tensors), outputs=_single(output_tensors), name=name)


def _custom_objects(custom_objects: Mapping[str, Any] | None) -> dict[str, Any]:
    from genomarray.compat.keras.layers import custom_objects as janggu_layers

    return {**janggu_layers(), **dict(custom_objects or {})}


def model_from_json(json_string: str, custom_objects: Mapping[str, Any] | None = None) -> Any:
    """Janggu's ``model_from_json`` (its layers known)."""
    return _keras().models.model_from_json(
        json_string, custom_objects=_custom_objects(custom_objects)
    )


def model_from_yaml(yaml_string: str, custom_objects: Mapping[str, Any] | None = None) -> Any:
    """Janggu's ``model_from_yaml``: keras 3 has no YAML, so the YAML is read (PyYAML)
    and loaded as JSON."""
    import json

    try:
        import yaml
    except ImportError as err:  # pragma: no cover - optional
        raise ImportError("model_from_yaml needs PyYAML: pip install pyyaml") from err
    return model_from_json(json.dumps(yaml.safe_load(yaml_string)), custom_objects)


def _logger(outputdir: Path, name: str) -> logging.Logger:
    logdir = outputdir / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(f"janggu.{name}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    target = str(logdir / "janggu.log")
    if not any(getattr(h, "baseFilename", None) == target for h in logger.handlers):
        handler = logging.FileHandler(target)
        handler.setFormatter(logging.Formatter("%(asctime)s:%(name)s:%(message)s"))
        logger.addHandler(handler)
    return logger


def _is_sequence(obj: Any) -> bool:
    try:
        keras = _keras()
    except ImportError:  # pragma: no cover
        return False
    return isinstance(obj, keras.utils.PyDataset)


def _chromosome_names(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


class Janggu:
    """Janggu's model wrapper ``Janggu(inputs, outputs, name=None)``.

    Parameters
    ----------
    inputs, outputs
        keras tensors (as for ``keras.Model``).
    name
        Model name (folder and file names); default: the md5 of the model's JSON.

    Attributes
    ----------
    kerasmodel
        The ``keras.Model`` (named ``"janggu"``).
    name
        The model name.
    outputdir
        The output root (see the module documentation).
    logger
        A logger writing to ``<outputdir>/logs/janggu.log``.

    Examples
    --------
    >>> import keras  # doctest: +SKIP
    >>> x = keras.Input((10,), name="ip")  # doctest: +SKIP
    >>> model = Janggu(x, keras.layers.Dense(1, name="out")(x), name="tiny")  # doctest: +SKIP
    >>> model.name, model.kerasmodel.name  # doctest: +SKIP
    ('tiny', 'janggu')
    """

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None) -> None:
        keras = _keras()
        self.kerasmodel = keras.Model(_single(inputs), _single(outputs), name="janggu")
        self._setup(name)

    def _setup(self, name: str | None) -> None:
        if not name:
            name = hashlib.md5(self.kerasmodel.to_json().encode()).hexdigest()
            print(f"Generated model-id: '{name}'")
        if "/" in name or name in (".", ".."):
            raise InputError(f"not a usable model name: {name!r}", source="Janggu")
        self._name = name
        self.outputdir = str(output_root())
        self.logger = _logger(Path(self.outputdir), name)
        lines: list[str] = []
        self.kerasmodel.summary(print_fn=lambda line, *a, **k: lines.append(line))
        self.logger.info("Model Summary:\n%s", "\n".join(lines))

    @property
    def name(self) -> str:
        return self._name

    @property
    def output_names(self) -> list[str]:
        return [t._keras_history[0].name for t in self.kerasmodel.outputs]

    @property
    def input_names(self) -> list[str]:
        return [t._keras_history[0].name for t in self.kerasmodel.inputs]

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        template: Callable[..., Any],
        modelparams: Any = None,
        inputs: Any = None,
        outputs: Any = None,
        name: str | None = None,
    ) -> Janggu:
        """Build the model from a Janggu template (see :func:`create_model`)."""
        net = create_model(template, modelparams, inputs, outputs)
        return cls(net.inputs, net.outputs, name)

    @classmethod
    def create_by_name(cls, name: str, custom_objects: Mapping[str, Any] | None = None) -> Janggu:
        """Load the model saved as ``<output root>/models/<name>.h5``."""
        path = output_root() / "models" / f"{name}.h5"
        if not path.exists():
            raise FileNotFoundError(f"no saved model {name!r}: {path} does not exist")
        obj = cls.__new__(cls)
        obj.kerasmodel = _keras().models.load_model(
            str(path), custom_objects=_custom_objects(custom_objects)
        )
        obj._setup(name)
        return obj

    # -- keras delegates -------------------------------------------------------------------
    def compile(self, *args: Any, **kargs: Any) -> None:
        """``kerasmodel.compile(...)``; an optimizer given by name gets the learning rate
        keras 2 gave it (Janggu ran on keras 2: ``'adadelta'`` is ``Adadelta(1.0)``
        there, ``Adadelta(0.001)`` in keras 3), see :data:`KERAS2_LEARNING_RATES`."""
        if args:
            args = (keras2_optimizer(args[0]), *args[1:])
        elif "optimizer" in kargs:
            kargs["optimizer"] = keras2_optimizer(kargs["optimizer"])
        self.kerasmodel.compile(*args, **kargs)

    def summary(self) -> None:
        """``kerasmodel.summary()``."""
        self.kerasmodel.summary()

    def get_config(self) -> dict[str, Any]:
        """``kerasmodel.get_config()``."""
        return self.kerasmodel.get_config()

    def save(
        self, filename: str | None = None, overwrite: bool = True, show_shapes: bool = True
    ) -> None:
        """Save the model (keras HDF5), default ``<output root>/models/<name>.h5``, and try
        to draw it next to it (``.png``; a failure is logged)."""
        if filename is None:
            folder = Path(self.outputdir) / "models"
            folder.mkdir(parents=True, exist_ok=True)
            filename = str(folder / f"{self.name}.h5")
        import importlib.util

        try:
            if importlib.util.find_spec("pydot") is None:
                raise ImportError("pydot is not installed")
            _keras().utils.plot_model(
                self.kerasmodel, str(Path(filename).with_suffix(".png")), show_shapes=show_shapes
            )
        except Exception as err:  # noqa: BLE001 - Janggu logged and went on
            self.logger.info("model plot not written: %s", err)
        absl = logging.getLogger("absl")  # keras logs that HDF5 is its legacy format
        level = absl.level
        absl.setLevel(logging.ERROR)
        try:
            self.kerasmodel.save(filename, overwrite=overwrite)
        finally:
            absl.setLevel(level)

    # -- data ------------------------------------------------------------------------------
    def _sequence(
        self,
        inputs: Any,
        outputs: Any = None,
        sample_weight: Any = None,
        batch_size: int | None = None,
        shuffle: bool = False,
        workers: int = 1,
        use_multiprocessing: bool = False,
    ) -> Any:
        from genomarray.compat.keras.sequence import JangguSequence

        if _is_sequence(inputs):
            return inputs
        return JangguSequence(
            _inputs_for(self.input_names, inputs),
            _inputs_for(self.output_names, outputs) if outputs is not None else None,
            sample_weights=sample_weight,
            batch_size=batch_size or 32,
            shuffle=shuffle,
            as_dict=False,
            workers=workers,
            use_multiprocessing=use_multiprocessing,
        )

    def fit(
        self,
        inputs: Any = None,
        outputs: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: int = 1,
        callbacks: list[Any] | None = None,
        validation_data: Any = None,
        shuffle: bool = True,
        class_weight: Any = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        use_multiprocessing: bool = False,
        workers: int = 1,
    ) -> Any:
        """Train (Janggu's ``fit``): datasets are batched by ``JangguSequence``;
        ``validation_data`` is ``(inputs, outputs[, weights])``, a keras ``PyDataset``, or
        a list of chromosome names held out of ``inputs``/``outputs`` (``split_train_test``).
        Logs to ``evaluation/<name>/training.log``, saves ``models/<name>.h5``.

        Returns
        -------
        keras.callbacks.History
        """
        keras = _keras()
        valseq = None
        if _chromosome_names(validation_data):
            from genomarray.compat.functions import split_train_test

            (inputs, outputs), (val_in, val_out) = split_train_test(
                (as_named(inputs), as_named(outputs)), validation_data
            )
            valseq = self._sequence(val_in, val_out, batch_size=batch_size)
        elif isinstance(validation_data, tuple):
            valseq = self._sequence(*validation_data, batch_size=batch_size)
        elif validation_data is not None:
            valseq = validation_data
        seq = self._sequence(
            inputs,
            outputs,
            sample_weight,
            batch_size,
            shuffle=shuffle,
            workers=workers,
            use_multiprocessing=use_multiprocessing,
        )
        logdir = Path(self.outputdir) / "evaluation" / self.name
        logdir.mkdir(parents=True, exist_ok=True)
        cbs = [*(callbacks or []), keras.callbacks.CSVLogger(str(logdir / "training.log"))]
        history = self.kerasmodel.fit(
            seq,
            epochs=epochs,
            verbose=verbose,
            callbacks=cbs,
            validation_data=valseq,
            class_weight=class_weight,
            initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch,
        )
        self.save()
        self._save_hyper_params(
            {
                "epochs": epochs,
                "batch_size": batch_size,
                "shuffle": shuffle,
                "class_weight": class_weight,
                "initial_epoch": initial_epoch,
                "steps_per_epoch": steps_per_epoch,
                "use_multiprocessing": use_multiprocessing,
                "workers": workers,
            }
        )
        return history

    def _save_hyper_params(self, params: dict[str, Any]) -> None:
        import h5py

        path = Path(self.outputdir) / "models" / f"{self.name}.h5"
        with h5py.File(path, "a") as f:
            group = f.require_group("model_weights")
            for key, value in params.items():
                if value:
                    group.attrs[key] = str(value)

    def predict(
        self,
        inputs: Any,
        batch_size: int | None = None,
        verbose: int = 0,
        steps: int | None = None,
        layername: str | None = None,
        datatags: list[str] | None = None,
        callbacks: list[Any] | None = None,
        use_multiprocessing: bool = False,
        workers: int = 1,
    ) -> Any:
        """Predict (of the layer ``layername`` if given); ``Scorer`` callbacks get the
        predictions (``layername`` is appended to ``datatags``). Returns a numpy array (a
        list for several outputs)."""
        keras = _keras()
        net = self.kerasmodel
        names = self.output_names
        if layername is not None:
            net = keras.Model(self.kerasmodel.inputs, self.kerasmodel.get_layer(layername).output)
            names = [layername]
            datatags = [*(datatags or []), layername]
        seq = self._sequence(
            inputs, batch_size=batch_size, workers=workers, use_multiprocessing=use_multiprocessing
        )
        preds = net.predict(seq, verbose=verbose, steps=steps)
        listed = list(preds) if isinstance(preds, list | tuple) else [preds]
        for callback in callbacks or []:
            callback.score(
                _Named(self, names), dict(zip(names, listed, strict=True)), datatags=datatags
            )
        return preds

    def evaluate(
        self,
        inputs: Any = None,
        outputs: Any = None,
        batch_size: int | None = None,
        sample_weight: Any = None,
        steps: int | None = None,
        datatags: list[str] | None = None,
        callbacks: list[Any] | None = None,
        use_multiprocessing: bool = False,
        workers: int = 1,
    ) -> Any:
        """Evaluate (``[loss, *metrics]``); callbacks are ``Scorer`` objects or names
        (``'auc'``, ``'prc'``, ``'roc'``, ``'auprc'``, ``'cor'``, ...), scored against the
        outputs and exported."""
        from genomarray.compat.keras.evaluation import get_scorer

        seq = self._sequence(
            inputs,
            outputs,
            sample_weight,
            batch_size,
            workers=workers,
            use_multiprocessing=use_multiprocessing,
        )
        values = self.kerasmodel.evaluate(seq, steps=steps, verbose=0)
        if callbacks:
            xseq = (
                self._sequence(inputs, batch_size=batch_size)
                if not _is_sequence(inputs)
                else inputs
            )
            preds = self.kerasmodel.predict(xseq, verbose=0, steps=steps)
            listed = list(preds) if isinstance(preds, list | tuple) else [preds]
            predicted = dict(zip(self.output_names, listed, strict=True))
            truth = _inputs_for(self.output_names, outputs)
            for callback in callbacks:
                get_scorer(callback).score(self, predicted, outputs=truth, datatags=datatags)
        return values

    def predict_variant_effect(
        self,
        bioseq: Any,
        variants: Any,
        conditions: Sequence[str],
        output_folder: str | os.PathLike,
        condition_filter: str | None = None,
        batch_size: int | None = None,
        annotation: Any = None,
        ignore_reference_match: bool = False,
        order: int = 1,
    ) -> tuple[str, str]:
        """:func:`predict_variant_effect` with this model (``order`` is passed on)."""
        return predict_variant_effect(
            self.kerasmodel,
            bioseq,
            variants,
            conditions,
            output_folder,
            condition_filter=condition_filter,
            batch_size=batch_size,
            annotation=annotation,
            ignore_reference_match=ignore_reference_match,
            order=order,
        )


class _Named:
    """A Janggu model seen with other output names (a predicted inner layer)."""

    def __init__(self, model: Janggu, names: list[str]) -> None:
        self.name = model.name
        self.outputdir = model.outputdir
        self.output_names = names


def _inputs_for(names: list[str], data: Any) -> Any:
    """Datasets keyed by the model's layer names: a single dataset or a list in layer
    order is matched by position (keras' rule), a dict by key."""
    if data is None:
        return data
    if isinstance(data, Mapping):
        return {n: data[n] for n in names} if set(data) == set(names) else dict(data)
    items = list(data) if isinstance(data, list | tuple) else [data]
    given = [getattr(item, "name", None) for item in items]
    if sorted(map(str, given)) == sorted(names):  # matched by name, as Janggu did
        by_name = {str(g): item for g, item in zip(given, items, strict=True)}
        return {n: by_name[n] for n in names}
    if len(items) != len(names):
        raise InputError(
            f"{len(items)} datasets for the model's {len(names)} layers {names}",
            source="Janggu",
        )
    return dict(zip(names, items, strict=True))


# -- attribution ----------------------------------------------------------------------------
def input_attribution(
    model: Janggu,
    inputs: Any,
    chrom: str | None = None,
    start: int | None = None,
    end: int | None = None,
    idx: int | None = None,
) -> list[Any]:
    """Janggu's ``input_attribution``: integrated gradients (50 steps, zero baseline) of
    the model's summed output, per position the largest magnitude over the windows that
    overlap ``chrom:start-end`` (or window ``idx`` of the first input).

    Returns one ``Cover`` per input, named ``attr_<input name>``, of shape ``(1, end -
    start, strands, channels)`` over that interval (conditions: the input's), for
    ``SeqTrack``. Uses :func:`genomarray.keras.attribution.integrated_gradients`
    (trapezoid rule; Janggu summed the 50 right-hand points).
    """
    from genomarray.compat.cover import Cover
    from genomarray.compat.gindexer import GenomicIndexer
    from genomarray.keras.attribution import integrated_gradients

    items = list(inputs) if isinstance(inputs, list | tuple) else [inputs]
    if idx is not None:
        iv = items[0].gindexer[int(idx)]
        chrom, start, end = iv.chrom, iv.start, iv.end
    if chrom is None or start is None or end is None:
        raise InputError("give chrom, start and end, or idx", source="input_attribution")
    start, end = int(start), int(end)
    gis = [item.gindexer for item in items]
    common = set(gis[0].idx_by_region(include=chrom, start=start, end=end))
    for gi in gis[1:]:
        common &= set(gi.idx_by_region(include=chrom, start=start, end=end))
    if not common:
        raise InputError(f"no window overlaps {chrom}:{start}-{end}", source="input_attribution")
    rows = _data_rows(gis[0], sorted(common))
    net = model.kerasmodel if isinstance(model, Janggu) else model
    names = [t._keras_history[0].name for t in net.inputs]
    batches = {
        n: np.asarray(item[rows], dtype=np.float32) for n, item in zip(names, items, strict=True)
    }
    attr = integrated_gradients(net, batches if len(items) > 1 else batches[names[0]], steps=50)
    attrs = attr if isinstance(attr, dict) else {names[0]: attr}
    region = GenomicIndexer.create_from_region(
        chrom, start, end, ".", binsize=end - start, stepsize=1
    )
    out = []
    for name, item, gi in zip(names, items, gis, strict=True):
        values = np.abs(np.asarray(attrs[name]))
        res = item.attrs.get(gm.RESOLUTION, 1) if isinstance(item, xr.DataArray) else 1
        res = int(res) if isinstance(res, int | np.integer) else 1
        best = np.zeros((end - start, *values.shape[2:]), dtype=np.float32)
        for k, row in enumerate(rows):
            iv = gi[int(row)]
            window = np.repeat(values[k], res, axis=0)
            a, b = max(iv.start, start), min(iv.start + len(window), end)
            if b > a:
                seg = window[a - iv.start : b - iv.start]
                best[a - start : b - start] = np.maximum(best[a - start : b - start], seg)
        out.append(
            Cover.create_from_array(
                f"attr_{getattr(item, 'name', name)}",
                best[None],
                region,
                conditions=getattr(item, "conditions", None),
            )
        )
    return out


def _data_rows(gi: Any, rows: list[int]) -> list[int]:
    """Data rows of the windows ``rows`` (indices into ``gi.chrs``) of a shuffled view."""
    if gi.randomidx is None:
        return list(rows)
    inverse = np.empty(len(gi.randomidx), dtype=np.int64)
    inverse[gi.randomidx] = np.arange(len(gi.randomidx))
    return [int(inverse[r]) for r in rows]


# -- variant effects ------------------------------------------------------------------------
def _three_d(net: Any) -> Any:
    """``net`` taking ``(n, L, 4**order)`` one-hot (genomarray's variant windows)."""
    keras = _keras()
    shape = tuple(net.inputs[0].shape[1:])
    if len(shape) == 2:
        return net
    inp = keras.Input((shape[0], shape[-1]))
    return keras.Model(inp, net(keras.layers.Reshape(shape)(inp)))


def predict_variant_effect(
    model: Any,
    bioseq: Any,
    variants: Any,
    conditions: Sequence[str],
    output_folder: str | os.PathLike,
    condition_filter: str | None = None,
    batch_size: int | None = None,
    annotation: Any = None,
    ignore_reference_match: bool = False,
    order: int = 1,
) -> tuple[str, str]:
    """Janggu's ``predict_variant_effect``: score the SNVs of a VCF with a one-input model.

    Writes ``<output_folder>/scores.hdf5`` (datasets ``labels``, ``refscore``,
    ``altscore``, ``diffscore`` = alt - ref, ``logoddsscore`` = ``log(alt / ref + 1e-7)``,
    each ``(variants, conditions)`` float16) and ``snps.bed.gz`` (gzip; ``chrom, pos0,
    pos0 + 1, <id>_<ref>><alt>``). The scoring is
    :func:`genomarray.keras.variants.variant_effects` (variant at offset ``binsize // 2``;
    variants whose REF differs from the genome are left out with a warning).

    Parameters
    ----------
    model
        A keras model or :class:`Janggu` with one input ``(binsize - order + 1, 1,
        4**order)``.
    bioseq
        A Bioseq loaded with ``store_whole_genome=True`` from a reference, or a FASTA path.
    variants
        VCF path.
    conditions
        Labels of the model's output units (after ``condition_filter``).
    output_folder
        Existing folder.
    condition_filter
        Regular expression; only matching conditions are kept (the count must still match
        the output units, as in Janggu).
    batch_size
        Default 128.
    annotation
        Stranded regions; variants in minus-strand regions are scored reverse-complemented.
    ignore_reference_match
        Not supported: genomarray never scores a variant whose REF disagrees with the
        genome (use :class:`~genomarray.compat.variants.VariantStreamer` with
        ``ignore_reference_match=True`` and ``model.predict`` for that).
    order
        One-hot order (taken from ``bioseq`` when it is a Bioseq).

    Returns
    -------
    tuple of str
        The paths of ``scores.hdf5`` and ``snps.bed.gz``.
    """
    import h5py

    from genomarray.compat.variants import genome_of
    from genomarray.keras.variants import variant_effects

    if ignore_reference_match:
        raise InputError(
            "ignore_reference_match=True is not supported: genomarray does not score a "
            "variant whose REF differs from the genome (VariantStreamer(..., "
            "ignore_reference_match=True) streams such windows for model.predict)",
            source="predict_variant_effect",
        )
    net = model.kerasmodel if isinstance(model, Janggu) else model
    if len(net.inputs) != 1:
        raise ValueError("Only models with a single input layer are supported.")
    if isinstance(bioseq, xr.DataArray) and gm.ORDER in bioseq.attrs:
        order = int(bioseq.attrs[gm.ORDER])
    binsize = int(net.inputs[0].shape[1]) + int(order) - 1
    labels = [str(c) for c in conditions]
    if condition_filter is not None:
        labels = [c for c in labels if re.search(condition_filter, c)]
    n_out = int(net.outputs[0].shape[-1])
    if len(labels) != n_out:
        raise ValueError(
            f"The number of conditions ({len(labels)}) must equal the model's output units "
            f"({n_out})"
        )
    effects = variant_effects(
        _three_d(net),
        genome_of(bioseq),
        variants,
        binsize=binsize,
        order=int(order),
        annotation=annotation,
        conditions=labels,
        batch_size=2 * int(batch_size or 128),
    )
    ref = effects["ref"].values.astype(np.float16)
    alt = effects["alt"].values.astype(np.float16)
    folder = Path(output_folder)
    scores = folder / "scores.hdf5"
    with h5py.File(scores, "w") as f:
        f.create_dataset("labels", data=np.array(labels, dtype=object), dtype=h5py.string_dtype())
        f.create_dataset("refscore", data=ref, dtype="float16")
        f.create_dataset("altscore", data=alt, dtype="float16")
        f.create_dataset("diffscore", data=alt - ref, dtype="float16")
        with np.errstate(divide="ignore", invalid="ignore"):
            logodds = np.log(alt / ref + np.float16(1e-7))
        f.create_dataset("logoddsscore", data=logodds, dtype="float16")
    bed = folder / "snps.bed.gz"
    ids = effects["id"].values.astype(str)
    with gzip.open(bed, "wt") as out:
        for chrom, pos0, ident, r, a in zip(
            effects[gm.REGION_CHROM].values.astype(str),
            effects[gm.REGION_START].values.astype(np.int64),
            ids,
            effects["ref_allele"].values.astype(str),
            effects["alt_allele"].values.astype(str),
            strict=True,
        ):
            label = "" if ident == "." else ident
            out.write(f"{chrom}\t{pos0}\t{pos0 + 1}\t{label}_{r}>{a}\n")
    return str(scores), str(bed)
