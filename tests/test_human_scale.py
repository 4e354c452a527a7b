"""A human-sized genome layout (25 chromosomes, 3.09 Gb) costs memory by chromosome, not base.

The BAM holds hg38's sequence header and a few hundred reads on three chromosomes. A fresh
child process builds its stranded coverage store (``read_bam(..., store_path=...)``), reopens
it, views it through a small ROI and iterates the windows through
``genomarray.keras.GenomicSequence``; its peak RSS (``VmHWM``, its own, unlike ru_maxrss
which carries the parent's across fork + exec) must stay under 1 GB until keras is imported
(importing keras' TensorFlow backend alone peaks at ~750 MB, which says nothing about
genomarray), and iterating the batches may add at most 128 MB to the peak after that
import. Chunks past a chromosome's end are padding and never read; chunks without reads are
all zero and never written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pysam = pytest.importorskip("pysam")

HG38 = {
    "chr1": 248_956_422,
    "chr2": 242_193_529,
    "chr3": 198_295_559,
    "chr4": 190_214_555,
    "chr5": 181_538_259,
    "chr6": 170_805_979,
    "chr7": 159_345_973,
    "chr8": 145_138_636,
    "chr9": 138_394_717,
    "chr10": 133_797_422,
    "chr11": 135_086_622,
    "chr12": 133_275_309,
    "chr13": 114_364_328,
    "chr14": 107_043_718,
    "chr15": 101_991_189,
    "chr16": 90_338_345,
    "chr17": 83_257_441,
    "chr18": 80_373_285,
    "chr19": 58_617_616,
    "chr20": 64_444_167,
    "chr21": 46_709_983,
    "chr22": 50_818_468,
    "chrX": 156_040_895,
    "chrY": 57_227_415,
    "chrM": 16_569,
}
READS = {"chr1": (10_000_000, 150), "chr2": (242_000_000, 100), "chrX": (5_000, 50)}
"""chrom -> (first read start, number of reads); reads every 100 bp, 50M, alternating
strands; chr2's reach close to its end."""

PEAK_LIMIT_MB = 1024

CHILD = r"""
import json, os, sys, time
import numpy as np, pandas as pd
import genomarray as ga
bam, tmp = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
ga.read_bam(bam, store_path=os.path.join(tmp, "cov.zarr"), progress=False)
t_build = time.perf_counter() - t0
cov = ga.open_zarr(os.path.join(tmp, "cov.zarr"))
out = {"build_s": t_build, "shape": list(cov.shape),
       "chroms": [str(c) for c in cov.chrom.values],
       "lengths": [int(n) for n in cov.chrom_length.values]}
roi = pd.DataFrame({"chrom": ["chr1", "chr2", "chrX", "chr7"],
                    "start": [10_000_000, 242_000_000, 5_000, 1_000_000],
                    "end": [10_002_000, 242_002_000, 7_000, 1_002_000]})
view = cov.janggu.view(roi)
out["view_sums"] = [int(x) for x in np.asarray(view.sum(["pos", "strand", "condition"]))]
out["peak_before_keras_mb"] = next(int(line.split()[1]) for line in open("/proc/self/status")
                                   if line.startswith("VmHWM")) / 1024
import keras  # noqa: F401  (its backend, e.g. TensorFlow, costs ~600 MB by itself)
out["peak_keras_import_mb"] = next(int(line.split()[1]) for line in open("/proc/self/status")
                                   if line.startswith("VmHWM")) / 1024
from genomarray.keras import GenomicSequence
seq = GenomicSequence(view, batch_size=3)
out["batches"] = [list(np.shape(seq[i])) for i in range(len(seq))]
out["store_mb"] = sum(os.path.getsize(os.path.join(d, f))
                      for d, _, fs in os.walk(os.path.join(tmp, "cov.zarr"))
                      for f in fs) / 2**20
out["seconds"] = time.perf_counter() - t0
out["peak_mb"] = next(int(line.split()[1]) for line in open("/proc/self/status")
                      if line.startswith("VmHWM")) / 1024
print(json.dumps(out))
"""


def write_header_bam(path: str) -> str:
    """A sorted, indexed BAM with hg38's header and the reads of ``READS``."""
    header = {
        "HD": {"VN": "1.6", "SO": "coordinate"},
        "SQ": [{"SN": c, "LN": n} for c, n in HG38.items()],
    }
    tids = {c: i for i, c in enumerate(HG38)}
    unsorted = path + ".unsorted.bam"
    with pysam.AlignmentFile(unsorted, "wb", header=header) as out:
        for chrom, (first, n) in READS.items():
            for i in range(n):
                a = pysam.AlignedSegment(out.header)
                a.query_name = f"{chrom}_{i}"
                a.reference_id, a.reference_start = tids[chrom], first + 100 * i
                a.flag, a.mapping_quality, a.cigarstring = 16 * (i % 2), 60, "50M"
                a.query_sequence = "A" * 50
                a.query_qualities = pysam.qualitystring_to_array("I" * 50)
                out.write(a)
    pysam.sort("-o", path, unsorted)
    os.remove(unsorted)
    pysam.index(path)
    return path


@pytest.mark.slow
def test_human_layout_build_open_view_iterate_under_1gb(tmp_path):
    bam = write_header_bam(str(tmp_path / "hg38_sparse.bam"))
    env = {**os.environ, "GENOMARRAY_OUTPUT": str(tmp_path / "output"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run(
        [sys.executable, "-c", CHILD, bam, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    res = json.loads(run.stdout.strip().splitlines()[-1])
    print(
        f"\nhuman layout: build {res['build_s']:.1f} s, all {res['seconds']:.1f} s, "
        f"peak RSS {res['peak_before_keras_mb']:.0f} MB before keras, "
        f"{res['peak_keras_import_mb']:.0f} MB after importing keras, "
        f"{res['peak_mb']:.0f} MB at the end, store {res['store_mb']:.2f} MB"
    )

    assert res["chroms"] == list(HG38)
    assert res["lengths"] == list(HG38.values())
    assert res["shape"] == [25, max(HG38.values()), 2, 1]
    # 5' counts: every read lands in its window (chr1 15 reads per 2 kb window ... etc.)
    expected = []
    for chrom, start, end in (
        ("chr1", 10_000_000, 10_002_000),
        ("chr2", 242_000_000, 242_002_000),
        ("chrX", 5_000, 7_000),
        ("chr7", 1_000_000, 1_002_000),
    ):
        first, n = READS.get(chrom, (0, 0))
        starts = first + 100 * np.arange(n)
        five = np.where(np.arange(n) % 2, starts + 49, starts)  # reverse: last base
        expected.append(int(((five >= start) & (five < end)).sum()))
    assert res["view_sums"] == expected
    assert expected[0] > 0 and expected[-1] == 0
    assert [b[0] for b in res["batches"]] == [3, 1]
    assert res["store_mb"] < 5  # only the chunks with reads are written
    assert res["peak_before_keras_mb"] <= PEAK_LIMIT_MB
    assert res["peak_mb"] - res["peak_keras_import_mb"] <= 128, f"peak RSS {res['peak_mb']:.0f} MB"
