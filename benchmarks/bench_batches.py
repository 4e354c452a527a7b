"""Training batches/s: 128 x 1 kb one-hot (order 1, from uint8 codes) plus a coverage track.

Reference, measured in the same run: the genome and the track held in RAM as numpy
arrays, windows cut per batch by fancy indexing and one-hot by a lookup table ``lut[codes]``.
genomarray: :class:`genomarray.keras.GenomicSequence` over region views, (a) views held
in memory, (b) views written to zarr and reopened, larger than ``max_memory_bytes`` (the
out-of-core path: one read per zarr chunk, shuffled within a buffer of chunks).
Target (design): >= 1,500 batches/s reading lazily from zarr.

Second table, order-3 one-hot (64 channels, computed per batch from the uint8 codes) plus
the coverage track, both read from zarr by the out-of-core path (``max_memory_bytes`` below
the data size), in order and shuffled, against
(1) the same views ``.compute()``d into numpy arrays and fed through the same per-batch
gather + :func:`genomarray.encode.onehot` (target >= 0.5x of in-memory), and
(2) a naive loop on the dask-backed views: ``view.isel(region=rows).values`` per batch, then
one-hot (ratio reported; timed on a bounded sample of batches spread over the epoch and
scaled to batches/s).

Run: ``python benchmarks/bench_batches.py [--mb 10] [--windows 20000]``
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
from common import Table, best_time, peak_rss_mb, scratch_output, window_parser, write_random_fasta

import genomarray as ga
from genomarray import encode, model
from genomarray.store import open_zarr, write_zarr

BATCH = 128


def _epoch_rate(seq, shuffle_epochs: int = 2) -> float:
    """Batches/s over whole epochs (the first is a warm-up)."""
    rates = []
    for _ in range(shuffle_epochs + 1):
        t0 = time.perf_counter()
        for i in range(len(seq)):
            seq[i]
        rates.append(len(seq) / (time.perf_counter() - t0))
        seq.on_epoch_end()
    return max(rates[1:])


class _NumpyBatches:
    """Reference: numpy arrays in RAM, per batch a row gather and the same one-hot as
    GenomicSequence (a full permutation per epoch when shuffled)."""

    def __init__(self, codes: np.ndarray, cov: np.ndarray, order: int, shuffle: bool) -> None:
        self.codes, self.cov, self.k, self.shuffle = codes, cov, order, shuffle
        self.rng = np.random.default_rng(1)
        self.perm = self.rng.permutation(len(codes))

    def __len__(self) -> int:
        return -(-len(self.codes) // BATCH)

    def __getitem__(self, i: int) -> dict[str, np.ndarray]:
        rows = (
            self.perm[i * BATCH : (i + 1) * BATCH]
            if self.shuffle
            else slice(i * BATCH, (i + 1) * BATCH)
        )
        return {
            "dna": encode.onehot(self.codes[rows], self.k, dtype="float32"),
            "cov": self.cov[rows],
        }

    def on_epoch_end(self) -> None:
        self.perm = self.rng.permutation(len(self.codes))


class _NaiveDaskBatches:
    """Naive: per batch ``view.isel(region=rows).values`` on the dask-backed views, then
    one-hot; shuffled, the rows of each batch are those GenomicSequence visits."""

    def __init__(self, codes, cov, order: int, rows_order: np.ndarray | None) -> None:
        self.codes, self.cov, self.k, self.rows_order = codes, cov, order, rows_order

    def __len__(self) -> int:
        return -(-self.codes.sizes["region"] // BATCH)

    def __getitem__(self, i: int) -> dict[str, np.ndarray]:
        rows = (
            slice(i * BATCH, (i + 1) * BATCH)
            if self.rows_order is None
            else self.rows_order[i * BATCH : (i + 1) * BATCH]
        )
        return {
            "dna": encode.onehot(self.codes.isel(region=rows).values, self.k, dtype="float32"),
            "cov": self.cov.isel(region=rows).values,
        }


def _sampled_rate(seq, max_batches: int = 24, max_seconds: float = 4.0) -> tuple[float, int]:
    """Batches/s over at most ``max_batches`` batches spread evenly over the epoch (after
    one warm-up batch), stopping early after ``max_seconds``; returns (rate, batches)."""
    picks = np.unique(np.linspace(0, len(seq) - 1, max_batches).astype(int))
    seq[int(picks[0])]
    done, t0 = 0, time.perf_counter()
    for i in picks:
        seq[int(i)]
        done += 1
        if time.perf_counter() - t0 > max_seconds and done >= 2:
            break
    return done / (time.perf_counter() - t0), done


def _order3(codes_z, cov_z, budget: int) -> Table:
    """Order-3 one-hot + coverage from zarr (out of core) vs in-RAM numpy and naive dask."""
    from genomarray.keras import GenomicSequence

    order = 3
    codes_np = np.asarray(codes_z.compute().values)
    cov_np = np.asarray(cov_z.compute().values)
    table = Table(
        f"order-{order} one-hot + coverage from zarr, out of core "
        f"({BATCH} x {codes_np.shape[1]} bp)",
        ratio_label="genomarray / ref",
    )
    for shuffle in (False, True):
        label = "shuffled" if shuffle else "in order"
        seq = GenomicSequence(
            {"dna": codes_z, "cov": cov_z},
            onehot_order=order,
            batch_size=BATCH,
            shuffle=shuffle,
            seed=0,
            max_memory_bytes=budget,
        )
        assert not seq.in_memory
        rate = _epoch_rate(seq)
        ref_rate = _epoch_rate(_NumpyBatches(codes_np, cov_np, order, shuffle))
        table.add(
            f"{label}: vs same arrays in RAM (numpy)",
            f"{ref_rate:,.0f}/s",
            f"{rate:,.0f}/s",
            rate / ref_rate,
            ">= 0.5x",
        )
        naive = _NaiveDaskBatches(codes_z, cov_z, order, seq.order() if shuffle else None)
        naive_rate, timed = _sampled_rate(naive)
        table.add(
            f"{label}: vs naive dask isel().values ({timed} of {len(naive)} batches)",
            f"{naive_rate:,.1f}/s",
            f"{rate:,.0f}/s",
            rate / naive_rate,
            "(reported)",
        )
    table.print()
    print(
        f"\npeak RSS {peak_rss_mb():.0f} MB; one-hot float32 ({4**order} channels) built "
        f"per batch in every column; out of core: {seq.n_blocks} zarr chunks of 2048 "
        f"regions, LRU cache of {2 * seq.buffer_chunks} chunks, max_memory_bytes "
        f"{budget / 1e6:.0f} MB. Shuffled: the in-RAM reference draws a full permutation, "
        f"GenomicSequence permutes within buffers of {seq.buffer_chunks} chunks and the naive "
        f"loop reads those same batches"
    )
    return table


def main(argv: list[str] | None = None) -> Table:
    from genomarray.keras import GenomicSequence

    args = window_parser(__doc__).parse_args(argv)
    tmp = scratch_output("ga-bench-")
    n = int(args.mb * 1e6)
    width = args.width
    fasta = write_random_fasta(os.path.join(tmp, "g.fa"), {"chr1": n})
    dna = ga.read_fasta(fasta, store_path=os.path.join(tmp, "g.zarr"), progress=False)
    genome = np.asarray(dna.values[0])
    rng = np.random.default_rng(0)
    track_np = rng.poisson(2.0, (n, 2)).astype(np.float32)
    track = model.coverage_track(track_np.reshape(1, n, 2, 1), ["chr1"], [n], ["+", "-"], ["cov"])

    starts = np.sort(rng.integers(0, n - width, args.windows))
    roi = pd.DataFrame(
        {
            "chrom": "chr1",
            "start": starts,
            "end": starts + width,
            "name": ".",
            "score": 0.0,
            "strand": "+",
        }
    )
    lut = np.eye(5, 4, dtype=np.float32)
    offsets = np.arange(width)

    def reference(shuffle: bool) -> None:
        order = rng.permutation(len(starts)) if shuffle else np.arange(len(starts))
        for i in range(0, len(starts), BATCH):
            idx = starts[order[i : i + BATCH], None] + offsets
            lut[genome[idx]]
            track_np[idx]

    codes_mem = dna.janggu.view(roi).compute()
    cov_mem = track.janggu.view(roi).compute()
    codes_z = open_zarr(
        write_zarr(
            codes_mem, os.path.join(tmp, "codes.zarr"), chunks={"region": 2048}, progress=False
        )
    )
    cov_z = open_zarr(
        write_zarr(
            cov_mem.astype(np.float32),
            os.path.join(tmp, "cov.zarr"),
            chunks={"region": 2048},
            progress=False,
        )
    )
    on_disk = codes_z.nbytes + cov_z.nbytes
    table = Table("training batches (128 x 1 kb one-hot + coverage track)")
    for shuffle in (False, True):
        t_ref = best_time(lambda s=shuffle: reference(s))
        ref_rate = len(range(0, len(starts), BATCH)) / t_ref
        label = "shuffled" if shuffle else "in order"
        for where, (c, v, budget) in {
            "in-memory views": (codes_mem, cov_mem, 1 << 34),
            "zarr, out of core": (codes_z, cov_z, on_disk // 4),
        }.items():
            seq = GenomicSequence(
                {"dna": c, "cov": v},
                onehot_order=1,
                batch_size=BATCH,
                shuffle=shuffle,
                seed=0,
                max_memory_bytes=budget,
            )
            assert seq.in_memory is (where == "in-memory views")
            rate = _epoch_rate(seq)
            table.add(
                f"{label}, {where}",
                f"{ref_rate:,.0f}/s",
                f"{rate:,.0f}/s",
                rate / ref_rate,
                ">= 1,500/s" if "zarr" in where else ">= 1.0x",
            )
    table.print()
    print(
        f"\npeak RSS {peak_rss_mb():.0f} MB; genome {n / 1e6:.0f} Mb, {args.windows} windows "
        f"of {width} bp, zarr views {on_disk / 1e6:.0f} MB in chunks of 2048 regions, "
        f"max_memory_bytes = 1/4 of that; reference = in-RAM numpy gather + lookup table "
        f"(float32); one core, no keras workers"
    )
    _order3(codes_z, cov_z, on_disk // 4)
    return table


if __name__ == "__main__":
    main()
