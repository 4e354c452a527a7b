"""bigWig -> 1 kb windows: genomarray's BigWigReader against a raw pyBigWig per-window loop.

Data, made here: a 10 Mb chromosome of dense signal (runs of 1-2 bp, ~80 % covered)
written with pyBigWig, whose zoom levels start at 4x the mean record length (16 bp here,
so resolution 50 reads from zoom records). 20k windows of 1 kb at random places.

- reference: ``bw.values(chrom, s, s + 1000, numpy=True)`` per window (NaN -> 0);
- genomarray: ``genome_array(BigWigReader(...))`` computed in 1 Mb chunks on 2 threads,
  then the windows gathered by fancy indexing (backends pybigtools and pyBigWig);
- binned at resolution 50: zoom (``exact=False``) and exact, against pyBigWig's
  ``stats(..., nBins=20)`` per window (zoom, and ``exact=True``);
- zarr: a one-time ``write_zarr`` of the per-base track, then windows read from the store;
- when ``genvarloader`` is installed (optional, not a dependency): the same windows written
  to and read from GenVarLoader's own store, for a side-by-side time (values checked).

Run: ``python benchmarks/bench_bigwig.py [--mb 10] [--windows 20000]``
"""

from __future__ import annotations

import os
import time

import dask
import numpy as np
import pyBigWig
from common import Table, best_time, peak_rss_mb, scratch_output, window_parser

from genomarray import model
from genomarray.io.bigwig import BigWigReader, bigwig_zoom_levels
from genomarray.store import DEFAULT_CHUNK, genome_array, open_zarr, write_zarr

CHROM = "chr1"


def write_signal(path: str, n: int, seed: int = 0) -> int:
    """Write a dense bigWig (runs of 1-2 bp, ~80 % covered) and return its record count."""
    rng = np.random.default_rng(seed)
    ends = np.cumsum(rng.integers(1, 3, n // 2 + 1))
    ends = ends[ends < n]
    starts = np.r_[0, ends[:-1]]
    keep = rng.random(len(starts)) < 0.8
    starts, ends = starts[keep], ends[keep]
    values = rng.gamma(2.0, 3.0, len(starts)).round(2)
    bw = pyBigWig.open(path, "w")
    bw.addHeader([(CHROM, n)], maxZooms=10)
    bw.addEntries(
        [CHROM] * len(starts), starts.tolist(), ends=ends.tolist(), values=values.tolist()
    )
    bw.close()
    return len(starts)


def gather(track: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    return track[starts[:, None] + np.arange(width)]


def _genvarloader(
    path: str, starts: np.ndarray, width: int, tmp: str, expected: np.ndarray
) -> tuple[float, float] | None:
    """(read time, build time) of the same windows through GenVarLoader's own store, when
    ``genvarloader`` is installed (it is not a dependency); values checked equal."""
    try:
        import genvarloader as gvl
        import polars as pl
    except ImportError:
        return None
    bed = pl.DataFrame(
        {"chrom": [CHROM] * len(starts), "chromStart": starts, "chromEnd": starts + width}
    )
    t0 = time.perf_counter()
    gvl.write(
        os.path.join(tmp, "signal.gvl"),
        bed,
        tracks=gvl.BigWigs("signal", {"s": path}),
        overwrite=True,
    )
    t_build = time.perf_counter() - t0
    ds = gvl.Dataset.open(os.path.join(tmp, "signal.gvl")).with_tracks("signal").with_len(width)
    rows = np.arange(len(starts))

    def read() -> np.ndarray:
        return np.asarray(ds[rows, 0]).reshape(len(starts), width)

    np.testing.assert_allclose(read(), expected, rtol=1e-6)
    return best_time(read), t_build


def main(argv: list[str] | None = None) -> Table:
    parser = window_parser(__doc__, what="chromosome")
    parser.add_argument("--res", type=int, default=50, help="binned resolution (50)")
    args = parser.parse_args(argv)
    tmp = scratch_output("ga-bench-bw-")
    n, width, res = int(args.mb * 1e6), args.width, args.res
    path = os.path.join(tmp, "signal.bw")
    t0 = time.perf_counter()
    records = write_signal(path, n)
    t_write = time.perf_counter() - t0
    zooms = bigwig_zoom_levels(path)
    rng = np.random.default_rng(1)
    starts = np.sort(rng.integers(0, n - width, args.windows))
    bin_starts = np.sort(rng.integers(0, (n - width) // res, args.windows)) * res
    table = Table(f"bigWig -> {args.windows} windows of {width} bp")

    bw = pyBigWig.open(path)

    def reference():
        return [np.nan_to_num(bw.values(CHROM, int(s), int(s) + width, numpy=True)) for s in starts]

    t_ref = best_time(reference)
    expected = np.stack(reference())

    backends = ["pybigwig"]
    try:
        import pybigtools  # noqa: F401

        backends.insert(0, "pybigtools")
    except ImportError:
        pass

    def genomarray_windows(reader: BigWigReader, starts: np.ndarray, w: int) -> np.ndarray:
        arr = genome_array(
            reader,
            [CHROM],
            [-(-n // reader.resolution)],
            np.float32,
            trailing=(1,),
            chunk=DEFAULT_CHUNK,
        )
        with dask.config.set(scheduler="threads", num_workers=2):
            track = arr.compute()[0, :, 0]
        return gather(track, starts, w)

    for backend in backends:
        reader = BigWigReader(path, backend=backend)
        got = genomarray_windows(reader, starts, width)
        np.testing.assert_array_equal(got, expected)
        t = best_time(lambda reader=reader: genomarray_windows(reader, starts, width))
        table.add(
            f"per-base windows, {backend}, 2 threads",
            f"{t_ref:.3f} s",
            f"{t:.3f} s",
            t_ref / t,
            ">= 0.9x",
        )

    # binned windows at resolution `res`; pyBigWig's stats loop costs ~1 ms per window, so
    # it is timed once on a subset and scaled to all windows
    nb = width // res
    subset = bin_starts[:: max(1, len(bin_starts) // 2000)]

    def ref_stats(exact: bool) -> float:
        t0 = time.perf_counter()
        for s in subset:
            bw.stats(CHROM, int(s), int(s) + width, nBins=nb, exact=exact)
        return (time.perf_counter() - t0) * len(bin_starts) / len(subset)

    t_ref_bins = {False: ref_stats(False), True: ref_stats(True)}
    per_base = np.stack(
        [np.nan_to_num(bw.values(CHROM, int(s), int(s) + width, numpy=True)) for s in bin_starts]
    )
    exact_mean = per_base.reshape(len(bin_starts), nb, res).astype(np.float64).mean(axis=2)
    for backend in backends:
        for exact in (False, True):
            reader = BigWigReader(path, resolution=res, exact=exact, backend=backend)
            got = genomarray_windows(reader, bin_starts // res, nb)
            err = np.abs(got - exact_mean).mean() / exact_mean.mean()
            t = best_time(lambda reader=reader: genomarray_windows(reader, bin_starts // res, nb))
            label = "exact" if exact else "zoom"
            table.add(
                f"res {res} {label}, {backend} (mean abs err {err:.1%})",
                f"{t_ref_bins[exact]:.2f} s (stats {label})",
                f"{t:.3f} s",
                t_ref_bins[exact] / t,
                ">= 1.0x",
            )

    # zarr: one-time build, then windows from the store
    reader = BigWigReader(path)
    arr = genome_array(reader, [CHROM], [n], np.float32, trailing=(1,), chunk=DEFAULT_CHUNK)
    cov = model.coverage_track(arr[..., None], [CHROM], [n], ["."], ["signal"])
    store = os.path.join(tmp, "signal.zarr")
    t0 = time.perf_counter()
    with dask.config.set(scheduler="threads", num_workers=2):
        write_zarr(cov, store, progress=False)
    t_build = time.perf_counter() - t0

    def from_zarr():
        track = open_zarr(store).data[0, :, 0, 0]
        with dask.config.set(scheduler="threads", num_workers=2):
            return gather(track.compute(), starts, width)

    np.testing.assert_array_equal(from_zarr(), expected)
    t_zarr = best_time(from_zarr)
    gvl = _genvarloader(path, starts, width, tmp, expected)
    table.add(
        f"zarr window reads (build once {t_build:.2f} s)",
        f"{t_ref:.3f} s",
        f"{t_zarr:.3f} s",
        t_ref / t_zarr,
        "GenVarLoader, row below" if gvl else "GenVarLoader 0.044 s (published)",
    )
    if gvl:
        t_gvl, t_gvl_build = gvl
        table.add(
            f"GenVarLoader, same windows from its own store (build once "
            f"{t_gvl_build:.2f} s): not genomarray",
            f"{t_ref:.3f} s",
            f"{t_gvl:.3f} s",
            t_ref / t_gvl,
            f"zarr row is {t_zarr / t_gvl:.1f}x its time",
        )
    bw.close()
    table.print()
    print(
        f"\npeak RSS {peak_rss_mb():.0f} MB; {n / 1e6:.0f} Mb chromosome, {records:,} "
        f"bigWig records (written in {t_write:.1f} s), zoom levels {zooms}; "
        f"{args.windows} windows of {width} bp; reference = pyBigWig per-window "
        "values(numpy=True) / stats(nBins) loops in this process"
    )
    return table


if __name__ == "__main__":
    main()
