"""The ``genomarray`` command line.

``genomarray demo`` runs the main job on the bundled example data; ``genomarray info``
describes a store. Run ``genomarray --help`` for the list.
"""

from __future__ import annotations

import argparse
import sys
import time


def _demo(args: argparse.Namespace) -> int:
    import genomarray as ga

    t0 = time.perf_counter()
    fasta = ga.example_path("genome.fa")
    print(f"genomarray {ga.__version__} demo on the bundled example data\n")
    print(f"1. genome: {fasta}")
    dna = ga.read_fasta(fasta, progress=not args.quiet)
    print(f"   {dna.sizes['chrom']} chromosomes, {int(dna.chrom_length.sum()):,} bp, "
          f"stored at {dna.encoding.get('store')}\n")
    roi = ga.tile(ga.read_regions(ga.example_path("roi.bed")), binsize=args.binsize,
                  flank=args.flank)
    print(f"2. regions of interest: {len(roi)} windows of {args.binsize} bp "
          f"+ {args.flank} bp flanks (minus-strand windows reverse-complemented)\n")
    x = dna.janggu.view(roi).janggu.onehot(order=args.order)
    print(f"3. one-hot of order {args.order}, a lazy labelled array:\n")
    print(x)
    first = x.isel(region=0).values
    print(f"\n   first window: {x['name'].values[0]} {x['chrom'].values[0]}:"
          f"{int(x['start'].values[0])}-{int(x['end'].values[0])} "
          f"({x['region_strand'].values[0]}), {int(first.sum())} of "
          f"{first.shape[0]} positions are known k-mers")
    print(f"\ndone in {time.perf_counter() - t0:.1f} s")
    return 0


def _info(args: argparse.Namespace) -> int:
    import genomarray as ga

    arr = ga.open_zarr(args.store)
    print(arr)
    print(f"\nkind: {arr.janggu.kind}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``genomarray`` command."""
    parser = argparse.ArgumentParser(
        prog="genomarray",
        description="genomarray turns genomics files (FASTA, BAM, bigWig, BED) into "
                    "labelled arrays for deep learning.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help="run the example on the bundled data and print the result",
        description="Read the bundled example genome, cut windows around the bundled "
                    "regions of interest and one-hot encode them; prints the labelled array.")
    demo.add_argument("--binsize", type=int, default=200, help="window length in bp (200)")
    demo.add_argument("--flank", type=int, default=100,
                      help="bp added on both sides of each window (100)")
    demo.add_argument("--order", type=int, default=2,
                      help="one-hot order: 1 = bases, 2 = dinucleotides, ... (2)")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(func=_demo)
    info = sub.add_parser("info", help="describe a genomarray zarr store",
                          description="Print what a store holds: dims, chromosomes, "
                                      "conditions, attributes.")
    info.add_argument("store", help="path of a .zarr store written by genomarray")
    info.set_defaults(func=_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``genomarray`` command line.

    Examples
    --------
    >>> main(["demo", "--quiet", "--order", "1"])  # doctest: +SKIP
    0
    """
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError, KeyError) as err:
        print(f"genomarray: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
