"""The ``genomarray`` command: its arguments are parsed here, before the library is imported.

This module sits beside the ``genomarray`` package (not inside it) and imports only the
standard library, so ``genomarray --help`` and argument errors answer at once: importing
the package would load xarray first (it registers the ``.janggu`` accessor). A valid command
is run by :func:`genomarray.cli.run`.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

_FMT = argparse.RawDescriptionHelpFormatter


class _Parser(argparse.ArgumentParser):
    """An argument error is one line on stderr (exit 2), naming the command's help."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``genomarray`` command."""
    parser = _Parser(
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
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="on an error, show the Python traceback (for bug reports) instead of one line",
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
    build.add_argument(
        "--overwrite",
        action="store_true",
        help="replace stores in the output folder that hold another build "
        "(default: an error; a store of the same build is reused)",
    )
    build.add_argument("--quiet", action="store_true", help="no progress bars")

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

    demo = sub.add_parser(
        "demo",
        formatter_class=_FMT,
        help="run the example on the bundled data: one-hot DNA, train a CNN, evaluate",
        description="On the bundled example genome (3 small chromosomes) and peaks: "
        "print a one-hot encoded window array, then train a small CNN to "
        "tell 200 bp tiles inside peaks from the others on chr1, stopping "
        "early on validation chr2, evaluate it on held-out test chr3, used for "
        "nothing else (auROC/auPRC table and curves), write "
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
        "the validation loss on chr2 stops improving for 15, keeping the best epoch)",
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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, then import genomarray and run the command.

    Examples
    --------
    >>> build_parser().parse_args(["info", "x.zarr"]).command
    'info'
    """
    args = build_parser().parse_args(argv)
    from genomarray.cli import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
