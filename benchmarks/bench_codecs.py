"""Codecs per array kind: encode/decode speed and ratio of blosc codecs on store chunks.

The measurement behind the codec choice of :func:`genomarray.genome.store.compressors`
(table in docs/concepts.md, "Storage and caching"). One thread (``numcodecs.blosc``
threads off: zarr already compresses several chunks at once on its own threads), each
codec on the same chunks, best of ``--repeat`` passes. The kinds, chunked as genomarray
stores them:

- coverage counts: int32 per-base stranded coverage of the T1 dataset (1 M x 50 bp reads
  on 10 Mb), chunks of 1 Mb x 2 strands;
- sequence codes: uint8 codes of the T3 genome (uniform random ACGT: the worst case; a
  real genome, with repeats and N runs, compresses better), chunks of 1 Mb;
- float signal: float32 per-base bigWig signal of T2 (gamma values rounded to 0.01, 80 %
  covered), chunks of 1 Mb;
- labels: binary peak labels of 919 conditions at 200 bp (a few thousand peaks per
  condition on hg19, ~0.05 % ones), float32 and uint8, chunks of 16,384 bins x 919.

Run: ``python benchmarks/bench_codecs.py [--quick] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]

CODECS = [
    ("zstd", 5, "shuffle"),
    ("zstd", 5, "bitshuffle"),
    ("zstd", 3, "bitshuffle"),
    ("zstd", 1, "shuffle"),
    ("zstd", 1, "bitshuffle"),
    ("lz4", 5, "shuffle"),
    ("lz4", 5, "bitshuffle"),
    ("lz4", 9, "bitshuffle"),
    ("lz4hc", 5, "bitshuffle"),
    ("blosclz", 5, "bitshuffle"),
]


def label_chunks(n_chunks: int, bins: int = 16384, conditions: int = 919, seed: int = 0):
    """Binary peak labels ``(bins, 1, conditions)``: per condition ~3,000 peaks of 1-3 bins
    over hg19's 15.5 M bins of 200 bp (density as in the many-labels benchmark)."""
    rng = np.random.default_rng(seed)
    out = []
    density = 3000 * 2 / 15_500_000
    for _ in range(n_chunks):
        block = np.zeros((bins, 1, conditions), np.float32)
        n = rng.poisson(density * bins * conditions / 2)
        pos = rng.integers(0, bins - 3, n)
        cond = rng.integers(0, conditions, n)
        width = rng.integers(1, 4, n)
        for w in (1, 2, 3):
            sel = width >= w
            block[pos[sel] + w - 1, 0, cond[sel]] = 1
        out.append(block)
    return out


def kinds(quick: bool) -> dict[str, list[np.ndarray]]:
    from data import dataset

    data = dataset(quick=quick)
    chunk = 1 << 20
    cov = data.load("coverage")
    codes = data.load("codes")
    signal = data.load("signal")

    def split(a: np.ndarray) -> list[np.ndarray]:
        return [np.ascontiguousarray(a[i : i + chunk]) for i in range(0, len(a), chunk)]

    labels = label_chunks(3 if quick else 10)
    return {
        "coverage counts (int32)": split(cov),
        "sequence codes (uint8)": split(codes),
        "float signal (float32)": split(signal),
        "labels, 919 conditions (float32)": labels,
        "labels, 919 conditions (uint8)": [b.astype(np.uint8) for b in labels],
    }


def measure(chunks: list[np.ndarray], cname: str, level: int, shuffle: str, repeat: int):
    from numcodecs import Blosc

    codec = Blosc(
        cname=cname,
        clevel=level,
        shuffle=Blosc.BITSHUFFLE if shuffle == "bitshuffle" else Blosc.SHUFFLE,
    )
    raw = sum(c.nbytes for c in chunks)
    enc_t = dec_t = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        enc = [codec.encode(c) for c in chunks]
        enc_t = min(enc_t, time.perf_counter() - t0)
        t0 = time.perf_counter()
        for e, c in zip(enc, chunks, strict=True):
            back = np.frombuffer(codec.decode(e), c.dtype)
        dec_t = min(dec_t, time.perf_counter() - t0)
        assert np.array_equal(back, chunks[-1].ravel())
    size = sum(len(e) for e in enc)
    return raw / size, raw / enc_t / 1e9, raw / dec_t / 1e9


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    import numcodecs.blosc

    numcodecs.blosc.set_nthreads(1)
    numcodecs.blosc.use_threads = False
    lines = [
        "| kind | codec | ratio | encode GB/s | decode GB/s |",
        "| --- | --- | --- | --- | --- |",
    ]
    for kind, chunks in kinds(args.quick).items():
        mb = sum(c.nbytes for c in chunks) / 1e6
        for cname, level, shuffle in CODECS:
            ratio, enc, dec = measure(chunks, cname, level, shuffle, args.repeat)
            lines.append(
                f"| {kind}, {mb:.0f} MB | {cname}-{level} {shuffle} | {ratio:.1f}x "
                f"| {enc:.2f} | {dec:.2f} |"
            )
            print(lines[-1], flush=True)
    text = "\n".join(lines)
    print()
    print(text)
    return text


if __name__ == "__main__":
    main()
