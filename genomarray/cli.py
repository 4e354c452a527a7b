"""The ``genomarray`` command line.

``genomarray build`` turns a small TOML spec of genomics files into zarr stores,
``genomarray info`` describes a store, ``genomarray export`` writes one back to
bigWig/bedGraph/BED and ``genomarray demo`` trains a small model on the bundled data.
Run ``genomarray --help`` or ``genomarray COMMAND --help``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any


class CliError(Exception):
    """An error the command line reports as one line (no traceback)."""


# --------------------------------------------------------------------------- build


def _replacing(path: Path, build: Any, overwrite: bool) -> Any:
    """Run ``build()``, which writes the store ``path``; a store there from another build
    is replaced with ``overwrite`` (kept, and back in place, if the new build fails)."""
    try:
        return build()
    except FileExistsError as err:
        if not overwrite:
            raise CliError(
                f"{path} holds another build; pass --overwrite to replace it, or choose "
                "another folder with --out"
            ) from err
    import shutil
    import uuid

    # the name atomic.sweep_stale removes once ``path`` exists again (a killed run's copy)
    aside = path.with_name(f"{path.name}.old-{uuid.uuid4().hex[:12]}")
    os.rename(path, aside)
    try:
        result = build()
    except BaseException:
        if not path.exists():
            os.rename(aside, path)
        raise
    shutil.rmtree(aside, ignore_errors=True)
    return result


def build_command(args: argparse.Namespace) -> int:
    spec_path = Path(args.spec).expanduser()
    if not spec_path.exists() or spec_path.is_file():
        spec_path = spec_path.resolve()
    from genomarray.cli_spec import SpecError, check_spec, load_spec

    plan = check_spec(spec_path, load_spec(spec_path))

    import genomarray as ga
    from genomarray.paths import output_root

    out = Path(args.out) if args.out else output_root() / "build" / spec_path.stem
    out.mkdir(parents=True, exist_ok=True)
    progress = not args.quiet
    t0 = time.perf_counter()
    written: list[tuple[Path, str]] = []
    roi = None
    if plan["roi"]:
        r = plan["roi"]
        roi = ga.read_regions(r["bed"])
        if r["binsize"] or r["flank"]:
            roi = ga.tile(roi, binsize=r["binsize"], flank=r["flank"])
    like = None
    if plan["fasta"]:
        path = out / "genome.zarr"
        dna = _replacing(
            path,
            lambda: ga.read_fasta(plan["fasta"], store_path=path, progress=progress),
            args.overwrite,
        )
        like = plan["fasta"]
        written.append((path, f"genome, {dna.sizes['chrom']} chromosomes"))
        if roi is not None:
            path = out / "genome.roi.zarr"
            dna.janggu.view(roi).janggu.to_zarr(path, overwrite=True, progress=progress)
            written.append((path, f"genome cut to {len(roi)} regions"))
    for t in plan["tracks"]:
        path = out / f"{t['name']}.zarr"
        common: dict[str, Any] = {
            "resolution": t["resolution"],
            "store_path": path,
            "progress": progress,
        }
        if t["conditions"]:
            common["conditions"] = list(t["conditions"])

        if like is None and t["kind"] == "bed":
            like = t["files"][0]

        def read(t: dict[str, Any] = t, common: dict[str, Any] = common, like: Any = like) -> Any:
            if t["kind"] == "bam":
                return ga.read_bam(t["files"], mode=t["mode"] or "5prime", **common)
            if t["kind"] == "bigwig":
                return ga.read_bigwig(t["files"], how=t["mode"] or "mean", **common)
            files = t["files"][0] if len(t["files"]) == 1 else t["files"]
            return ga.read_bed(files, mode=t["mode"] or "binary", like=like, **common)

        try:
            track = _replacing(path, read, args.overwrite)
        except (ValueError, KeyError, TypeError) as err:
            raise SpecError(f"{spec_path}: track '{t['name']}': {err}") from None
        written.append(
            (
                path,
                f"track '{t['name']}' ({t['kind']}), "
                f"{track.sizes.get('condition', 1)} condition(s), "
                f"{t['resolution']} bp bins",
            )
        )
        if roi is not None:
            v = track.janggu.view(roi)
            if t["normalizers"]:
                v = v.janggu.normalize(t["normalizers"])
            path = out / f"{t['name']}.roi.zarr"
            v.janggu.to_zarr(path, overwrite=True, progress=progress)
            norm = (
                f", normalized: {', '.join(map(str, t['normalizers']))}" if t["normalizers"] else ""
            )
            written.append((path, f"track '{t['name']}' cut to {len(roi)} regions{norm}"))
        elif t["normalizers"]:
            path = out / f"{t['name']}.normalized.zarr"
            track.janggu.normalize(t["normalizers"]).janggu.to_zarr(
                path, overwrite=True, progress=progress
            )
            written.append(
                (path, f"track '{t['name']}' normalized: {', '.join(map(str, t['normalizers']))}")
            )
    print(f"built {len(written)} store(s) from {spec_path} in {time.perf_counter() - t0:.1f} s:")
    for path, what in written:
        print(f"  {path}  ({what})")
    print(f"\nlook at one with: genomarray info {written[0][0]}")
    return 0


# --------------------------------------------------------------------------- info


def _open_store(store: str, verify: bool = False) -> Any:
    import genomarray as ga
    from genomarray.errors import GenomarrayError

    if not Path(store).exists():
        raise FileNotFoundError(f"no such store: {store}")
    try:
        return ga.open_zarr(store, verify=verify)
    except (GenomarrayError, ValueError):  # genomarray's own message
        raise
    except Exception as err:
        raise CliError(
            f"{store}: cannot open it as a store ({one_line(err)}); expected a .zarr "
            "folder written by genomarray (genomarray build, ga.write_zarr)"
        ) from err


def _short(values: list[Any], n: int = 5) -> str:
    shown = ", ".join(str(v) for v in values[:n])
    return shown + (f", ... ({len(values)} in all)" if len(values) > n else "")


def info_command(args: argparse.Namespace) -> int:
    import numpy as np

    from genomarray.model import (
        CHROM,
        CHROM_LENGTH,
        CONDITION,
        KIND,
        REGION,
        REGION_CHROM,
        RESOLUTION,
        STRAND,
    )

    arr = _open_store(args.store, verify=args.verify)
    a = arr.attrs
    print(f"store:       {args.store}")
    print(f"kind:        {a.get(KIND, '?')}  (variable '{arr.name}', {arr.dtype})")
    print("dims:        " + ", ".join(f"{d}={n:,}" for d, n in arr.sizes.items()))
    if CHROM in arr.coords and CHROM in arr.dims:
        chroms = [str(c) for c in arr[CHROM].values]
        if CHROM_LENGTH in arr.coords:
            lengths = arr[CHROM_LENGTH].values
            chroms = [f"{c} ({int(n):,} bp)" for c, n in zip(chroms, lengths, strict=True)]
            print(f"genome:      {int(np.sum(lengths)):,} bp")
        print(f"chromosomes: {_short(chroms)}")
    elif REGION_CHROM in arr.coords:
        chroms = list(dict.fromkeys(str(c) for c in arr[REGION_CHROM].values))
        print(f"chromosomes: {_short(chroms)} (of the regions)")
    if REGION in arr.dims:
        geom = [f"{k} {a[k]}" for k in ("binsize", "stepsize", "flank") if k in a]
        print(f"regions:     {arr.sizes[REGION]:,}" + (f" ({', '.join(geom)})" if geom else ""))
    if CONDITION in arr.coords:
        print(f"conditions:  {_short([str(c) for c in arr[CONDITION].values])}")
    if STRAND in arr.coords and STRAND in arr.dims:
        print(f"strands:     {', '.join(str(s) for s in arr[STRAND].values)}")
    if RESOLUTION in a:
        res = a[RESOLUTION]
        print(
            f"resolution:  {res} bp"
            if isinstance(res, (int, np.integer))
            else f"resolution:  {res}"
        )
    norms = a.get("normalizers")
    if norms is not None:
        names = [n.get("name", str(n)) if isinstance(n, dict) else str(n) for n in norms]
        print(f"normalizers: {', '.join(names) if names else 'none'}")
    print("provenance:")
    print(f"  written by: {a.get('source', '?')}")
    inputs = a.get("inputs", a.get("path"))
    if inputs is not None:
        inputs = inputs if isinstance(inputs, list) else [inputs]
        print(f"  inputs:     {_short([str(i) for i in inputs], 3)}")
    for key in ("reader", "mode", "alphabet", "view_of", "cache_key"):
        if key in a:
            print(f"  {key + ':':<11} {a[key]}")
    return 0


# --------------------------------------------------------------------------- export


def export_command(args: argparse.Namespace) -> int:
    import genomarray as ga
    from genomarray import model

    arr = _open_store(args.store)
    fmt = args.format
    if fmt is None:
        low = str(args.out).lower()
        fmt = (
            "bedgraph"
            if low.endswith((".bedgraph", ".bg", ".bdg", ".bedgraph.gz"))
            else "bed"
            if low.endswith((".bed", ".bed.gz"))
            else "bigwig"
        )
    if fmt == "bed":
        if model.REGION not in arr.dims:
            raise ValueError(
                f"{args.store} is a genome-wide track: BED export needs a "
                "store of regions (a view, e.g. <track>.roi.zarr)"
            )
        paths = [ga.to_bed(arr, args.out, how=args.how, overwrite=args.overwrite)]
    elif fmt == "bedgraph":
        paths = ga.to_bedgraph(arr, args.out, how=args.how, overwrite=args.overwrite)
    else:
        paths = ga.to_bigwig(arr, args.out, how=args.how, overwrite=args.overwrite)
    print(f"wrote {len(paths)} {fmt} file(s) from {args.store}:")
    for p in paths:
        print(f"  {p}")
    return 0


# --------------------------------------------------------------------------- demo


def demo_command(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    import numpy as np
    import pandas as pd

    import genomarray as ga
    from genomarray import model as gmodel
    from genomarray.paths import output_root

    out = Path(args.out) if args.out else output_root() / "demo"
    out.mkdir(parents=True, exist_ok=True)
    progress = not args.quiet
    fasta = ga.example_path("genome.fa")
    peaks_file = ga.example_path("peaks.narrowPeak")
    print(f"genomarray {ga.__version__} demo on the bundled example data (outputs in {out})\n")

    # 1. the genome as a lazy labelled array, one-hot encoded in windows
    print(f"1. genome: {fasta}")
    dna = ga.read_fasta(fasta, progress=progress)
    print(
        f"   {dna.sizes['chrom']} chromosomes, {int(dna.chrom_length.sum()):,} bp, "
        f"stored at {dna.encoding.get('store')}"
    )
    roi = ga.tile(
        ga.read_regions(ga.example_path("roi.bed")), binsize=args.binsize, flank=args.flank
    )
    x_roi = dna.janggu.view(roi).janggu.onehot(order=args.order)
    print(
        f"   {len(roi)} regions of interest, {args.binsize} bp + {args.flank} bp flanks, "
        f"one-hot of order {args.order}:\n"
    )
    print(x_roi)

    # 2. a peak-calling task: 200 bp tiles of the whole genome, label 1 inside a peak
    sizes = gmodel.chrom_sizes(dna)
    genome = pd.DataFrame({"chrom": list(sizes), "start": 0, "end": list(sizes.values())})
    x = dna.janggu.view(ga.tile(genome, binsize=200, flank=100))
    peaks_track = ga.read_bed(peaks_file, like=dna, storage="memory", progress=False)
    tiles = peaks_track.janggu.view(ga.tile(genome, binsize=200))
    y = tiles.janggu.collapse(None, how="max").isel(pos=0, strand=0)
    # three disjoint sets of chromosomes: the test chromosome is touched only once, at
    # the end; early stopping (and the weights kept) are chosen on the validation one
    (x_fit, y_fit, _), (x_test, y_test, tiles_test) = ga.split_train_test(
        [x, y, tiles], [_TEST_CHROM]
    )
    (x_train, y_train), (x_val, y_val) = ga.split_train_test([x_fit, y_fit], [_VALIDATION_CHROM])
    train_chroms = "+".join(c for c in sizes if c not in (_TEST_CHROM, _VALIDATION_CHROM))

    def described(v: Any) -> str:
        return f"{v.sizes['region']} tiles, {float(v.values.mean()):.1%} positive"

    print(
        f"\n2. task: is a 200 bp tile inside a peak of {Path(peaks_file).name}? "
        f"DNA input: the tile + 100 bp each side (400 bp, one-hot)\n"
        f"   train on {train_chroms}: {described(y_train)}\n"
        f"   validation (early stopping) on {_VALIDATION_CHROM}: {described(y_val)}\n"
        f"   test on held-out {_TEST_CHROM}, unseen until the end: {described(y_test)}"
    )

    # 3. train a small CNN; random reverse-complement flips teach it both strands
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from genomarray.threads import configured_keras_backend, prefer_passive_openmp

    if configured_keras_backend() == "torch":  # idle CPU threads sleep, not spin
        prefer_passive_openmp()
    import keras

    from genomarray.keras import GenomicSequence, create_model, fit, report, score
    from genomarray.keras.evaluate import auprc, auroc

    keras.utils.set_random_seed(args.seed)

    train = GenomicSequence(
        {"dna": x_train},
        {"peaks": y_train},
        onehot_order=1,
        batch_size=16,
        shuffle=True,
        seed=args.seed,
        augment="flip",
    )
    validation = GenomicSequence({"dna": x_val}, {"peaks": y_val}, onehot_order=1, batch_size=64)
    net = create_model(_cnn_template(), train, name="demo_cnn")
    net.compile(keras.optimizers.Adam(0.01), "binary_crossentropy")
    t_fit = time.perf_counter()
    history = fit(net, train, validation=validation, epochs=args.epochs, patience=15)
    n_epochs = len(history.history["loss"])
    best = int(np.argmin(history.history["val_loss"]))
    print(
        f"\n3. trained a small CNN (32 motif filters of 7 bp; random reverse-complement "
        f"flips\n   teach it both strands) for {n_epochs} epochs in "
        f"{time.perf_counter() - t_fit:.1f} s; early stopping kept epoch {best + 1},\n"
        f"   the best validation loss on {_VALIDATION_CHROM} "
        f"({history.history['val_loss'][best]:.3f})"
    )

    def scored(xv: Any, yv: Any) -> tuple[Any, dict[str, float]]:
        pv = net.predict(GenomicSequence({"dna": xv}, onehot_order=1, batch_size=64), verbose=0)
        pv = pv["peaks"] if isinstance(pv, dict) else pv
        truth, p = yv.values[:, 0], np.asarray(pv)[:, 0]
        return pv, {"auroc": auroc(truth, p), "auprc": auprc(truth, p)}

    # 4. evaluate on the test chromosome, once
    _, val_values = scored(x_val, y_val)
    pred, values = scored(x_test, y_test)
    results = score(y_test, pred)
    files = report(results, out / "evaluation", y_true=y_test, y_pred=pred, name=_TEST_CHROM)
    rate = float(y_test.values.mean())

    # 5. predictions as a genome browser track and a picture
    # one value per tile, spread over the tile's 200 bp (no flank)
    pred_view = ga.from_array(
        np.repeat(np.asarray(pred)[:, None, :], 200, axis=1),
        like=tiles_test,
        conditions=["prediction"],
    )
    bigwig = out / f"prediction_{_TEST_CHROM}.bw"
    pred_view.janggu.to_bigwig(bigwig, overwrite=True)
    starts = pd.read_csv(peaks_file, sep="\t", header=None, usecols=[0, 1, 2])
    on3 = starts[starts[0] == _TEST_CHROM]
    centre = int((on3.iloc[0, 1] + on3.iloc[0, 2]) // 2) if len(on3) else 5000
    length = int(sizes[_TEST_CHROM])
    lo = max(0, min(centre - 2500, length - 5000))
    region = (_TEST_CHROM, lo, min(length, lo + 5000))
    import matplotlib

    matplotlib.use("Agg")
    fig = ga.plot_tracks(
        {"prediction": pred_view, "peaks": peaks_track},
        region,
        title=f"held-out test {_TEST_CHROM}:{region[1]:,}-{region[2]:,}",
    )
    png = out / f"tracks_{_TEST_CHROM}.png"
    fig.savefig(png, dpi=100)

    print(
        f"\n4. test on held-out {_TEST_CHROM}, used for nothing else: "
        f"auROC {values['auroc']:.3f} (chance 0.5), "
        f"auPRC {values['auprc']:.3f} (chance = positive rate {rate:.3f})\n"
        f"   validation {_VALIDATION_CHROM}, which chose the epoch (so optimistic): "
        f"auROC {val_values['auroc']:.3f}, auPRC {val_values['auprc']:.3f}"
    )
    print("\nfiles written:")
    shown = {
        "model": history.params.get("model_path"),
        "training log": history.params.get("log_path"),
    }
    shown.update({f"evaluation {k}": v for k, v in files.items()})
    shown.update({"prediction bigWig": bigwig, "track plot": png})
    for what, path in shown.items():
        print(f"  {what + ':':<24} {path}")
    summary = {
        "test_chrom": _TEST_CHROM,
        "validation_chrom": _VALIDATION_CHROM,
        "auroc": values["auroc"],
        "auprc": values["auprc"],
        "positive_rate": rate,
        "validation_auroc": val_values["auroc"],
        "validation_auprc": val_values["auprc"],
        "epochs": n_epochs,
        "best_epoch": best + 1,
        "files": {k: str(v) for k, v in shown.items()},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"  {'summary:':<24} {out / 'summary.json'}")
    print(f"\ndone in {time.perf_counter() - t0:.1f} s")
    return 0


_VALIDATION_CHROM = "chr2"
"""The demo's early stopping chooses the epoch on this chromosome ..."""
_TEST_CHROM = "chr3"
"""... and reports the score of this one, used for nothing else."""


def _cnn_template() -> Any:
    """A small CNN: Conv1D -> global max pool -> dropout -> one sigmoid unit."""
    import keras

    from genomarray.keras.models import inputlayer, outputdense

    @outputdense("sigmoid")
    @inputlayer
    def cnn(inputs: Any, filters: int = 32) -> Any:
        h = keras.layers.Conv1D(filters, 7, activation="relu", name="conv")(inputs["dna"])
        h = keras.layers.GlobalMaxPooling1D()(h)
        # 200 training windows: without dropout some seeds overfit (auROC 0.77 at seed 1;
        # with it 0.98-0.998 over seeds 1-6)
        return keras.layers.Dropout(0.3)(h)

    return cnn


def one_line(err: BaseException) -> str:
    """The message the command line prints for ``err``: one line, flags named as flags.

    Examples
    --------
    >>> one_line(FileExistsError("out.bw exists; pass overwrite=True to replace it"))
    'out.bw exists; pass --overwrite to replace it'
    >>> one_line(KeyError("chromosome 'chr9'"))
    "chromosome 'chr9'"
    """
    from genomarray.cli_spec import SpecError
    from genomarray.errors import GenomarrayError

    if isinstance(err, FileExistsError):  # the library's hint names its keyword
        text = str(err).replace("pass overwrite=True", "pass --overwrite")
    elif isinstance(err, KeyError) and not isinstance(err, GenomarrayError) and err.args:
        text = str(err.args[0])  # KeyError's str() quotes the message
    elif isinstance(err, (SpecError, CliError, GenomarrayError, ValueError, OSError, KeyError)):
        text = str(err)
    else:
        text = f"{type(err).__name__}: {err} (unexpected: rerun with --traceback and report it)"
    return " ".join(text.split()) or type(err).__name__


def main(argv: list[str] | None = None) -> int:
    """Run the ``genomarray`` command line (see :func:`genomarray_cli.main`).

    Examples
    --------
    >>> main(["info", "stores/reads.zarr"])  # doctest: +SKIP
    0
    """
    import genomarray_cli

    return genomarray_cli.main(argv)


def build_parser() -> Any:
    """Return the argument parser of the ``genomarray`` command (:mod:`genomarray_cli`)."""
    import genomarray_cli

    return genomarray_cli.build_parser()


def run(args: Any) -> int:
    """Run the parsed command ``args``; every error is one line on stderr and exit status 2
    (130 when interrupted); ``--traceback`` shows the Python traceback instead."""
    command = {
        "build": build_command,
        "info": info_command,
        "export": export_command,
        "demo": demo_command,
    }[args.command]
    try:
        return command(args)
    except KeyboardInterrupt:
        if args.traceback:
            raise
        print("genomarray: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if args.traceback:
            raise
        print(f"genomarray: error: {one_line(err)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
