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


class SpecError(Exception):
    """A spec that cannot be used: the message names the spec file and the key."""


# --------------------------------------------------------------------------- build


def _load_spec(path: Path) -> dict[str, Any]:
    import tomllib

    if not path.is_file():
        raise SpecError(f"{path}: spec file not found")
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{path}: not valid TOML: {err}") from None


def _need(table: dict[str, Any], key: str, where: str, spec: Path) -> Any:
    if not isinstance(table, dict) or key not in table:
        raise SpecError(f"{spec}: missing key '{where}.{key}'")
    return table[key]


def _file(value: Any, where: str, spec: Path) -> str:
    if not isinstance(value, str):
        raise SpecError(f"{spec}: key '{where}' must be a file path, got {value!r}")
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = spec.parent / path
    if not path.exists():
        raise SpecError(f"{spec}: key '{where}': file not found: {path}")
    return str(path)


def _files(value: Any, where: str, spec: Path) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise SpecError(f"{spec}: key '{where}' is an empty list")
    return [
        _file(v, f"{where}[{i}]" if isinstance(value, list) else where, spec)
        for i, v in enumerate(values)
    ]


def _int(table: dict[str, Any], key: str, default: int, where: str, spec: Path) -> int:
    value = table.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SpecError(f"{spec}: key '{where}.{key}' must be a whole number >= 0, got {value!r}")
    return value


_KNOWN_TRACK_KEYS = {
    "name",
    "bam",
    "bigwig",
    "bed",
    "mode",
    "resolution",
    "normalizers",
    "conditions",
}


def _check_spec(spec_path: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """Validate the whole spec (every key and file) before anything is built."""
    plan: dict[str, Any] = {"fasta": None, "tracks": [], "roi": None}
    unknown = set(spec) - {"genome", "tracks", "roi"}
    if unknown:
        raise SpecError(
            f"{spec_path}: unknown key '{sorted(unknown)[0]}' "
            "(expected [genome], [[tracks]], [roi])"
        )
    if "genome" in spec:
        plan["fasta"] = _file(
            _need(spec["genome"], "fasta", "genome", spec_path), "genome.fasta", spec_path
        )
    tracks = spec.get("tracks", [])
    if not isinstance(tracks, list):
        raise SpecError(f"{spec_path}: key 'tracks' must be written [[tracks]]")
    if plan["fasta"] is None and not tracks:
        raise SpecError(f"{spec_path}: missing key 'genome.fasta' (or a [[tracks]] table)")
    names = set()
    for i, track in enumerate(tracks):
        where = f"tracks[{i}]"
        name = _need(track, "name", where, spec_path)
        if not isinstance(name, str) or not name or "/" in name or name in names:
            raise SpecError(
                f"{spec_path}: key '{where}.name' must be a new name without '/', got {name!r}"
            )
        names.add(name)
        unknown = set(track) - _KNOWN_TRACK_KEYS
        if unknown:
            raise SpecError(f"{spec_path}: unknown key '{where}.{sorted(unknown)[0]}'")
        kinds = [k for k in ("bam", "bigwig", "bed") if k in track]
        if len(kinds) != 1:
            raise SpecError(
                f"{spec_path}: key '{where}' ({name}) needs exactly one of 'bam', 'bigwig', 'bed'"
            )
        kind = kinds[0]
        normalizers = track.get("normalizers", [])
        if isinstance(normalizers, str):
            normalizers = [normalizers]
        plan["tracks"].append(
            {
                "name": name,
                "kind": kind,
                "files": _files(track[kind], f"{where}.{kind}", spec_path),
                "mode": track.get("mode"),
                "resolution": _int(track, "resolution", 1, where, spec_path) or 1,
                "normalizers": list(normalizers),
                "conditions": track.get("conditions"),
            }
        )
    if "roi" in spec:
        roi = spec["roi"]
        plan["roi"] = {
            "bed": _file(_need(roi, "bed", "roi", spec_path), "roi.bed", spec_path),
            "binsize": roi.get("binsize"),
            "flank": _int(roi, "flank", 0, "roi", spec_path),
        }
        if plan["roi"]["binsize"] is not None:
            _int(roi, "binsize", 0, "roi", spec_path)
    return plan


def _build(args: argparse.Namespace) -> int:
    import genomarray as ga
    from genomarray.paths import output_root

    spec_path = Path(args.spec).expanduser().resolve()
    plan = _check_spec(spec_path, _load_spec(spec_path))
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
        dna = ga.read_fasta(plan["fasta"], store_path=path, progress=progress)
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
        try:
            if t["kind"] == "bam":
                track = ga.read_bam(t["files"], mode=t["mode"] or "5prime", **common)
            elif t["kind"] == "bigwig":
                track = ga.read_bigwig(t["files"], how=t["mode"] or "mean", **common)
            else:
                if like is None:
                    like = t["files"][0]
                files = t["files"][0] if len(t["files"]) == 1 else t["files"]
                track = ga.read_bed(files, mode=t["mode"] or "binary", like=like, **common)
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


def _short(values: list[Any], n: int = 5) -> str:
    shown = ", ".join(str(v) for v in values[:n])
    return shown + (f", ... ({len(values)} in all)" if len(values) > n else "")


def _info(args: argparse.Namespace) -> int:
    import numpy as np

    import genomarray as ga
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

    if not Path(args.store).exists():
        raise FileNotFoundError(f"no such store: {args.store}")
    arr = ga.open_zarr(args.store, verify=args.verify)
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


def _export(args: argparse.Namespace) -> int:
    import genomarray as ga
    from genomarray import model

    if not Path(args.store).exists():
        raise FileNotFoundError(f"no such store: {args.store}")
    arr = ga.open_zarr(args.store)
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


def _demo(args: argparse.Namespace) -> int:
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
    (x_train, y_train, _), (x_test, y_test, tiles_test) = ga.split_train_test(
        [x, y, tiles], ["chr3"]
    )
    print(
        f"\n2. task: is a 200 bp tile inside a peak of {Path(peaks_file).name}? "
        f"DNA input: the tile + 100 bp each side (400 bp, one-hot)\n"
        f"   train on chr1+chr2: {x_train.sizes['region']} tiles, "
        f"{float(y_train.values.mean()):.1%} positive; "
        f"test on held-out chr3: {x_test.sizes['region']} tiles, "
        f"{float(y_test.values.mean()):.1%} positive"
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
    test = GenomicSequence({"dna": x_test}, {"peaks": y_test}, onehot_order=1, batch_size=64)
    net = create_model(_cnn_template(), train, name="demo_cnn")
    net.compile(keras.optimizers.Adam(0.01), "binary_crossentropy")
    t_fit = time.perf_counter()
    history = fit(net, train, validation=test, epochs=args.epochs, patience=15)
    n_epochs = len(history.history["loss"])
    print(
        f"\n3. trained a small CNN (16 motif filters of 7 bp; random reverse-complement "
        f"flips\n   teach it both strands) for {n_epochs} epochs "
        f"in {time.perf_counter() - t_fit:.1f} s (best val loss "
        f"{min(history.history['val_loss']):.3f})"
    )

    # 4. evaluate on chr3
    pred = net.predict(GenomicSequence({"dna": x_test}, onehot_order=1, batch_size=64), verbose=0)
    pred = pred["peaks"] if isinstance(pred, dict) else pred
    results = score(y_test, pred)
    files = report(results, out / "evaluation", y_true=y_test, y_pred=pred, name="chr3")
    truth, p = y_test.values[:, 0], np.asarray(pred)[:, 0]
    values = {"auroc": auroc(truth, p), "auprc": auprc(truth, p)}
    rate = float(y_test.values.mean())

    # 5. predictions as a genome browser track and a picture
    # one value per tile, spread over the tile's 200 bp (no flank)
    pred_view = ga.from_array(
        np.repeat(np.asarray(pred)[:, None, :], 200, axis=1),
        like=tiles_test,
        conditions=["prediction"],
    )
    bigwig = out / "prediction_chr3.bw"
    pred_view.janggu.to_bigwig(bigwig, overwrite=True)
    starts = pd.read_csv(peaks_file, sep="\t", header=None, usecols=[0, 1, 2])
    on3 = starts[starts[0] == "chr3"]
    centre = int((on3.iloc[0, 1] + on3.iloc[0, 2]) // 2) if len(on3) else 5000
    length = int(sizes["chr3"])
    lo = max(0, min(centre - 2500, length - 5000))
    region = ("chr3", lo, min(length, lo + 5000))
    import matplotlib

    matplotlib.use("Agg")
    fig = ga.plot_tracks(
        {"prediction": pred_view, "peaks": peaks_track},
        region,
        title=f"held-out chr3:{region[1]:,}-{region[2]:,}",
    )
    png = out / "tracks_chr3.png"
    fig.savefig(png, dpi=100)

    print(
        f"\n4. held-out chr3: auROC {values['auroc']:.3f} (chance 0.5), "
        f"auPRC {values['auprc']:.3f} (chance = positive rate {rate:.3f})"
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
        "auroc": values["auroc"],
        "auprc": values["auprc"],
        "positive_rate": rate,
        "epochs": n_epochs,
        "files": {k: str(v) for k, v in shown.items()},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"  {'summary:':<24} {out / 'summary.json'}")
    print(f"\ndone in {time.perf_counter() - t0:.1f} s")
    return 0


def _cnn_template() -> Any:
    """A small CNN: Conv1D -> global max pool -> one sigmoid unit."""
    import keras

    from genomarray.keras.models import inputlayer, outputdense

    @outputdense("sigmoid")
    @inputlayer
    def cnn(inputs: Any, filters: int = 16) -> Any:
        h = keras.layers.Conv1D(filters, 7, activation="relu", name="conv")(inputs["dna"])
        return keras.layers.GlobalMaxPooling1D()(h)

    return cnn


# --------------------------------------------------------------------------- parser

_FMT = argparse.RawDescriptionHelpFormatter


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``genomarray`` command."""
    parser = argparse.ArgumentParser(
        prog="genomarray",
        formatter_class=_FMT,
        description="genomarray turns genomics files (FASTA, BAM, bigWig, BED) into "
        "labelled arrays for deep learning.\n\n"
        "  genomarray build spec.toml      read files listed in a spec into stores\n"
        "  genomarray info store.zarr      describe a store\n"
        "  genomarray export store.zarr out.bw   write a store as bigWig\n"
        "  genomarray demo                 train a small model on example data\n\n"
        "Outputs go under $GENOMARRAY_OUTPUT (default ~/.cache/genomarray).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = sub.add_parser(
        "build",
        formatter_class=_FMT,
        help="read the genome, BAM, bigWig and BED files named in a TOML spec into stores",
        description=(
            "Read the files named in a TOML spec (a FASTA genome, BAM / bigWig / BED "
            "tracks, and optionally a BED of regions of interest) into zarr stores, one "
            "per input: <out>/genome.zarr, <out>/<track>.zarr, and with [roi] also "
            "<out>/<track>.roi.zarr cut to those regions (normalized as asked).\n"
            "Relative paths in the spec are read from the spec's folder.\n\n"
            "spec example:\n"
            '  [genome]\n  fasta = "genome.fa"\n\n'
            '  [[tracks]]\n  name = "reads"\n  bam = ["rep1.bam", "rep2.bam"]'
            '   # or bigwig = [...], or bed = "peaks.bed"\n'
            '  mode = "5prime"         # bam: 5prime|coverage; bed: binary|score|...\n'
            "  resolution = 50         # bin size in bp\n"
            '  normalizers = ["tpm"]   # e.g. tpm, zscore, zscorelog\n\n'
            '  [roi]\n  bed = "regions.bed"\n  binsize = 200\n  flank = 100\n\n'
            "example:\n  genomarray build genomarray/data/demo_spec.toml --out stores/"
        ),
    )
    build.add_argument("spec", help="the TOML spec file (see above)")
    build.add_argument(
        "--out",
        metavar="DIR",
        help="folder for the stores (default: $GENOMARRAY_OUTPUT/build/<spec name>)",
    )
    build.add_argument("--quiet", action="store_true", help="no progress bars")
    build.set_defaults(func=_build)

    info = sub.add_parser(
        "info",
        formatter_class=_FMT,
        help="describe a genomarray zarr store",
        description="Print what a .zarr store written by genomarray holds: its dims and "
        "sizes, chromosomes, conditions, resolution, normalizers and where "
        "it came from (input files, cache key).\n\n"
        "example:\n  genomarray info stores/reads.zarr",
    )
    info.add_argument("store", help="path of a .zarr store written by genomarray")
    info.add_argument("--verify", action="store_true", help="read and check every chunk")
    info.set_defaults(func=_info)

    export = sub.add_parser(
        "export",
        formatter_class=_FMT,
        help="write a store as bigWig, bedGraph or BED for a genome browser",
        description="Read a .zarr store (a genome-wide track or a region view such as "
        "predictions) and write it as bigWig (default), bedGraph or BED. "
        "OUT is a file (.bw, .bedGraph, .bed) when there is one condition "
        "and strand, else a folder receiving one file each.\n\n"
        "example:\n  genomarray export stores/signal.zarr signal.bw",
    )
    export.add_argument("store", help="path of a .zarr store written by genomarray")
    export.add_argument("out", help="output file or folder")
    export.add_argument(
        "--format",
        choices=["bigwig", "bedgraph", "bed"],
        help="output format (default: from OUT's ending, else bigwig)",
    )
    export.add_argument(
        "--how",
        choices=["mean", "max"],
        default="mean",
        help="how overlapping windows are combined (mean)",
    )
    export.add_argument("--overwrite", action="store_true", help="replace existing output files")
    export.set_defaults(func=_export)

    demo = sub.add_parser(
        "demo",
        formatter_class=_FMT,
        help="run the example on the bundled data: one-hot DNA, train a CNN, evaluate",
        description="On the bundled example genome (3 small chromosomes) and peaks: "
        "print a one-hot encoded window array, then train a small CNN to "
        "tell 200 bp tiles inside peaks from the others on chr1+chr2, "
        "evaluate it on held-out chr3 (auROC/auPRC table and curves), write "
        "its predictions as a bigWig and a genome-track PNG.\n\n"
        "example:\n  genomarray demo --out demo_results/",
    )
    demo.add_argument(
        "--out", metavar="DIR", help="folder for the outputs (default: $GENOMARRAY_OUTPUT/demo)"
    )
    demo.add_argument(
        "--epochs",
        type=int,
        default=60,
        help="at most this many training epochs (60; stops early when "
        "the held-out loss stops improving for 15)",
    )
    demo.add_argument("--seed", type=int, default=1, help="random seed (1)")
    demo.add_argument(
        "--binsize", type=int, default=200, help="window length in bp of the one-hot printout (200)"
    )
    demo.add_argument(
        "--flank",
        type=int,
        default=100,
        help="bp added on both sides of each window of the printout (100)",
    )
    demo.add_argument(
        "--order",
        type=int,
        default=2,
        help="one-hot order of the printout: 1 = bases, 2 = dinucleotides (2)",
    )
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``genomarray`` command line.

    Examples
    --------
    >>> main(["info", "stores/reads.zarr"])  # doctest: +SKIP
    0
    """
    from genomarray.errors import GenomarrayError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SpecError as err:
        print(f"genomarray: error: {err}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError, KeyError, GenomarrayError) as err:
        print(f"genomarray: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
