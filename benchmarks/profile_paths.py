"""Where the time goes in the benchmarked user calls (T1 cold, T2, T3, T4 out of core, import).

Not a benchmark (no reference, no goal): a breakdown for speed work. Each part runs in a
fresh process (``common.Zygote``) on the benchmark dataset (``data.py``) and prints
markdown: component times measured directly (the reader alone, the codec alone, a zarr
write of ready numpy, ...), and the top functions of a cProfile of the whole call run
with dask's synchronous scheduler (cProfile sees only the calling thread; the
single-threaded wall time is shown beside the default threaded one).

Run: ``python benchmarks/profile_paths.py [--quick] [--only T1,T2,T3,T4,import]``
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]

import numpy as np  # noqa: E402
from common import PRELOAD, REPO, Zygote  # noqa: E402
from data import CHROM, Data, dataset  # noqa: E402

MODULE = "profile_paths"


def _top(prof: cProfile.Profile, n: int = 18, sort: str = "tottime") -> str:
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats(sort).print_stats(n)
    lines = buf.getvalue().splitlines()
    start = next((i for i, x in enumerate(lines) if x.strip().startswith("ncalls")), 0)
    return "\n".join(lines[start : start + n + 1])


def _by_package(prof: cProfile.Profile) -> str:
    """Own time (tottime) summed by top-level package of the function's file."""
    stats = pstats.Stats(prof)
    totals: dict[str, float] = {}
    for (file, _, func), (_, _, tt, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        m = re.search(r"site-packages/([^/]+)", file) or re.search(r"/(genomarray)/", file)
        if m:
            key = m.group(1)
        elif file == "~":
            key = f"builtin {func.split(' of ')[0].strip('<>')[:40]}"
        else:
            key = os.path.basename(file)
        totals[key] = totals.get(key, 0.0) + tt
    rows = sorted(totals.items(), key=lambda kv: -kv[1])[:14]
    return "\n".join(f"  {k:<48} {v:8.3f} s" for k, v in rows)


def _sync(fn):
    import dask

    with dask.config.set(scheduler="synchronous"):
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        out = fn()
        prof.disable()
        return time.perf_counter() - t0, prof, out


def _fresh_root() -> str:
    root = tempfile.mkdtemp(prefix="ga-prof-")
    os.environ["GENOMARRAY_OUTPUT"] = root
    return root


def _codec_int32():
    from numcodecs import Blosc

    return Blosc(cname="zstd", clevel=5, shuffle=Blosc.SHUFFLE)


def t1_cold(spec: dict) -> dict:
    """Components of ``read_bam(mode="coverage")`` building its store, then ``.values``."""
    import zarr
    from zarr.codecs import BloscCodec

    import genomarray as ga
    from genomarray.genome import cache, graph
    from genomarray.io import bam

    data = Data.from_spec(spec)
    n, chunk = data.sizes.length, graph.DEFAULT_CHUNK
    out = []
    t0 = time.perf_counter()
    bam.check_bam(data.bam)
    bam.mapped_reads(data.bam)
    bam.bam_chrom_sizes(data.bam)
    out.append(("checks: check_bam, mapped_reads, bam_chrom_sizes", time.perf_counter() - t0))
    t0 = time.perf_counter()
    cache.file_fingerprint(data.bam)
    out.append(
        (
            f"cache key: SHA-256 of the BAM ({os.path.getsize(data.bam) / 1e6:.0f} MB)",
            time.perf_counter() - t0,
        )
    )
    counter = bam.BamCounter(data.bam, mode="coverage")
    bounds = list(range(0, n, chunk))
    t0 = time.perf_counter()
    first = counter(CHROM, 0, min(chunk, n))
    out.append(
        ("reader: first 1 Mb chunk (numba JIT load/compile + index)", time.perf_counter() - t0)
    )
    t0 = time.perf_counter()
    blocks = [counter(CHROM, s, min(s + chunk, n)) for s in bounds]
    t_read = time.perf_counter() - t0
    out.append((f"reader alone, all {len(bounds)} chunks, 1 thread (dtype {first.dtype})", t_read))
    t0 = time.perf_counter()
    stacked = [np.asarray(b, np.int32)[:, :, None] for b in blocks]  # StackedReader's layout
    out.append(("int32 conversion + (pos, strand, condition) layout", time.perf_counter() - t0))
    codec = _codec_int32()
    t0 = time.perf_counter()
    encoded = [codec.encode(np.ascontiguousarray(b)) for b in stacked]
    t_comp = time.perf_counter() - t0
    ratio = sum(b.nbytes for b in stacked) / sum(len(e) for e in encoded)
    out.append((f"blosc zstd-5 shuffle compression alone, 1 thread ({ratio:.1f}x smaller)", t_comp))
    tmp = tempfile.mkdtemp(prefix="ga-prof-")
    t0 = time.perf_counter()
    for i, e in enumerate(encoded):
        with open(os.path.join(tmp, f"c{i}"), "wb") as fh:
            fh.write(e)
    out.append(("writing the compressed chunks as plain files", time.perf_counter() - t0))
    whole = np.concatenate(stacked)[None]
    t0 = time.perf_counter()
    z = zarr.create_array(
        os.path.join(tmp, "z.zarr"),
        shape=whole.shape,
        chunks=(1, chunk, 2, 1),
        dtype=np.int32,
        compressors=[BloscCodec(cname="zstd", clevel=5, shuffle="shuffle")],
        fill_value=0,
    )
    z[:] = whole
    out.append(
        (
            "zarr: write the ready numpy array (compression included), zarr's threads",
            time.perf_counter() - t0,
        )
    )
    t0 = time.perf_counter()
    np.asarray(z[:])
    out.append(("zarr: read it back whole", time.perf_counter() - t0))
    shutil.rmtree(tmp, ignore_errors=True)

    root = _fresh_root()
    t0 = time.perf_counter()
    cov = ga.read_bam(data.bam, mode="coverage")
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    _ = cov.values
    t_values = time.perf_counter() - t0
    out.append(("**whole call, default threads: `read_bam` (builds the store)**", t_build))
    out.append(("**whole call, default threads: then `.values` (re-reads the store)**", t_values))
    shutil.rmtree(root, ignore_errors=True)
    root = _fresh_root()
    t_sync, prof, _ = _sync(lambda: ga.read_bam(data.bam, mode="coverage").values)
    shutil.rmtree(root, ignore_errors=True)
    out.append(("whole call, synchronous scheduler (profiled)", t_sync))
    return {"parts": out, "top": _top(prof), "packages": _by_package(prof)}


def codecs(spec: dict) -> dict:
    """Blosc codecs on the stores' chunks (1 Mb of the genome each), one thread."""
    import numcodecs
    from numcodecs import Blosc

    numcodecs.blosc.set_nthreads(1)
    data = Data.from_spec(spec)
    chunk = 1 << 20
    arrays = {
        "coverage int32 (1 Mb x 2 strands)": data.load("coverage"),
        "coverage as uint16": data.load("coverage").astype(np.uint16),
        "genome codes uint8": data.load("codes"),
        "bigWig signal float32": data.load("signal"),
    }
    choices = [
        ("zstd", 5, Blosc.SHUFFLE),
        ("zstd", 5, Blosc.BITSHUFFLE),
        ("zstd", 1, Blosc.SHUFFLE),
        ("lz4", 5, Blosc.SHUFFLE),
        ("lz4", 5, Blosc.BITSHUFFLE),
        ("blosclz", 5, Blosc.SHUFFLE),
    ]
    names = {Blosc.SHUFFLE: "shuffle", Blosc.BITSHUFFLE: "bitshuffle"}
    out = []
    for label, arr in arrays.items():
        chunks = [np.ascontiguousarray(arr[i : i + chunk]) for i in range(0, len(arr), chunk)]
        raw = sum(c.nbytes for c in chunks)
        for cname, level, shuffle in choices:
            codec = Blosc(cname=cname, clevel=level, shuffle=shuffle)
            t0 = time.perf_counter()
            enc = [codec.encode(c) for c in chunks]
            t_enc = time.perf_counter() - t0
            t0 = time.perf_counter()
            for e in enc:
                codec.decode(e)
            t_dec = time.perf_counter() - t0
            size = sum(len(e) for e in enc)
            out.append(
                (
                    f"{label}: {cname}-{level} {names[shuffle]}: encode {t_enc:.3f} s, "
                    f"decode {t_dec:.3f} s for {len(chunks)} chunks ({raw / size:.1f}x smaller)",
                    t_dec,
                )
            )
    return {"parts": out, "top": "", "packages": ""}


def _windows_roi(data: Data, name: str = "windows"):
    import pandas as pd

    starts = data.load(name)
    return pd.DataFrame({"chrom": CHROM, "start": starts, "end": starts + data.sizes.width})


def _store_parts(data: Data, open_fn, finish, label: str) -> dict:
    """Components of ``open_fn().janggu.view(roi)`` + ``finish(view)``, from the cache."""
    import zarr

    from genomarray.genome import cache

    os.environ["GENOMARRAY_OUTPUT"] = data.cache_root
    roi = _windows_roi(data)
    out = []
    before = set(sys.modules)
    t0 = time.perf_counter()
    arr = open_fn()
    out.append(
        (f"open: `{label}` on the cached store (cache key + open_zarr)", time.perf_counter() - t0)
    )
    src = arr.encoding.get("store")
    t0 = time.perf_counter()
    cache.file_fingerprint(data.fasta if "fasta" in label else data.bigwig)
    out.append(("  of which the input file's SHA-256", time.perf_counter() - t0))
    t0 = time.perf_counter()
    view = arr.janggu.view(roi)
    out.append(
        (
            f"view(roi): graph construction ({len(view.data.__dask_graph__())} tasks, "
            f"{view.data.numblocks[0]} region chunks)",
            time.perf_counter() - t0,
        )
    )
    t0 = time.perf_counter()
    finish(view)
    out.append(("**compute (`.values`), default threads**", time.perf_counter() - t0))
    new = sorted({m.split(".")[0] for m in set(sys.modules) - before})
    out.append((f"(modules first imported by this first call: {', '.join(new)})", 0.0))
    t0 = time.perf_counter()
    finish(arr.janggu.view(roi))
    out.append(
        ("view + compute again in the same process (warm allocator)", time.perf_counter() - t0)
    )
    # the raw cost of the store: every chunk read + decompressed by zarr, then a numpy gather
    name = arr.name or "data"
    za = zarr.open_array(os.path.join(src, name), mode="r")
    t0 = time.perf_counter()
    whole = za[:]
    out.append(
        (
            f"zarr alone: read + decompress all {za.nchunks} chunks ({za.chunks})",
            time.perf_counter() - t0,
        )
    )
    starts = data.load("windows")
    flat = whole.reshape(whole.shape[1], -1)[:, 0] if whole.ndim > 2 else whole[0]
    t0 = time.perf_counter()
    np.lib.stride_tricks.sliding_window_view(flat, data.sizes.width)[starts]
    out.append(("numpy: gather the windows from the decompressed array", time.perf_counter() - t0))
    t_sync, prof, _ = _sync(lambda: finish(open_fn().janggu.view(roi)))
    out.append(("whole call, synchronous scheduler (profiled)", t_sync))
    return {"parts": out, "top": _top(prof), "packages": _by_package(prof)}


def t2_store(spec: dict) -> dict:
    import genomarray as ga

    data = Data.from_spec(spec)
    return _store_parts(
        data, lambda: ga.read_bigwig(data.bigwig), lambda v: v.values, "read_bigwig"
    )


def t3_store(spec: dict) -> dict:
    import genomarray as ga

    data = Data.from_spec(spec)
    return _store_parts(
        data,
        lambda: ga.read_fasta(data.fasta),
        lambda v: v.janggu.onehot(order=1).values,
        "read_fasta",
    )


def t4_ooc(spec: dict) -> dict:
    """Per-batch breakdown of GenomicSequence out of core over lazy views of the stores."""
    import dask

    import genomarray as ga
    from genomarray.keras import GenomicSequence

    data = Data.from_spec(spec)
    os.environ["GENOMARRAY_OUTPUT"] = data.cache_root
    roi = _windows_roi(data, "t4_starts")
    x = ga.read_fasta(data.fasta).janggu.view(roi)
    c = ga.read_bam(data.bam, mode="coverage").janggu.view(roi)
    order = spec.get("order", 1)
    seq = GenomicSequence(
        {"dna": x, "cov": c},
        onehot_order=order,
        batch_size=128,
        shuffle=spec.get("shuffle", True),
        seed=0,
        max_memory_bytes=(x.nbytes + c.nbytes) // 4,
    )
    rec: dict[str, list[float]] = {"slice": [], "compute": [], "fetch": [], "read": [], "batch": []}
    orig_fetch, orig_read = seq._fetch, seq._read

    def read(idx):
        t0 = time.perf_counter()
        r = orig_read(idx)
        rec["read"].append(time.perf_counter() - t0)
        return r

    def fetch_timed(b: int):
        t0 = time.perf_counter()
        r = orig_fetch(b)
        rec["fetch"].append(time.perf_counter() - t0)
        return r

    seq._fetch, seq._read = fetch_timed, read
    t_epoch = time.perf_counter()
    for i in range(len(seq)):
        t0 = time.perf_counter()
        seq[i]
        rec["batch"].append(time.perf_counter() - t0)
    t_epoch = time.perf_counter() - t_epoch
    block_rows = np.diff(seq.bounds)
    parts = [
        (
            f"epoch: {len(seq)} batches, {seq.n_blocks} blocks of ~{int(block_rows.mean())} "
            f"regions ({len(seq) / t_epoch:,.0f} batches/s)",
            t_epoch,
        ),
        (
            f"_fetch (one dask.compute per block, read-ahead thread included): "
            f"{len(rec['fetch'])} calls, mean {np.mean(rec['fetch']) * 1e3:.1f} ms",
            sum(rec["fetch"]),
        ),
        (
            f"_read (gather rows from blocks, waits on fetches in the main thread): mean "
            f"{np.mean(rec['read']) * 1e3:.2f} ms/batch",
            sum(rec["read"]),
        ),
        (
            "rest of __getitem__ (one-hot, cast, read-ahead bookkeeping)",
            sum(rec["batch"]) - sum(rec["read"]),
        ),
    ]
    # second pass: one block's fetch split into graph slicing and compute, and profiled
    blocks = list(range(min(seq.n_blocks, 6)))
    for b in blocks:
        lo, hi = int(seq.bounds[b]), int(seq.bounds[b + 1])
        t0 = time.perf_counter()
        sl = [a.data[lo:hi] for a in seq._ooc]
        t1 = time.perf_counter()
        ntasks = sum(len(s.__dask_graph__()) for s in sl)
        dask.compute(*sl)
        rec["slice"].append(t1 - t0)
        rec["compute"].append(time.perf_counter() - t1)
    parts.append(
        (
            f"per block: slicing the dask arrays (graph of {ntasks} tasks for the "
            f"last block), mean of {len(blocks)}",
            float(np.mean(rec["slice"])),
        )
    )
    parts.append(
        (
            "per block: dask.compute of that slice, default threads, mean",
            float(np.mean(rec["compute"])),
        )
    )
    import zarr

    for label, arr in (
        ("codes", ga.read_fasta(data.fasta)),
        ("coverage", ga.read_bam(data.bam, mode="coverage")),
    ):
        za = zarr.open_array(os.path.join(arr.encoding["store"], arr.name or "data"), mode="r")
        t0 = time.perf_counter()
        for j in range(za.nchunks):
            za[:, j * za.chunks[1] : (j + 1) * za.chunks[1]]
        parts.append(
            (
                f"zarr: read + decompress each of the {za.nchunks} {label} chunks "
                f"once ({za.chunks}, {za.dtype}), total",
                time.perf_counter() - t0,
            )
        )
        # what one block's zarr reads cost: the pos range its regions span, read directly
        starts = data.load("t4_starts")
        width = data.sizes.width
        t_read, t_gather = [], []
        for b in blocks:
            lo, hi = int(seq.bounds[b]), int(seq.bounds[b + 1])
            s = starts[lo:hi]
            t0 = time.perf_counter()
            buf = np.asarray(za[0, int(s.min()) : int(s.max()) + width])
            t1 = time.perf_counter()
            np.lib.stride_tricks.sliding_window_view(buf, width, axis=0)[s - s.min()]
            t_read.append(t1 - t0)
            t_gather.append(time.perf_counter() - t1)
        parts.append(
            (
                f"per block: zarr read of the {label} pos range its regions span "
                f"(~{int(np.mean(np.diff(seq.bounds)))} regions), mean",
                float(np.mean(t_read)),
            )
        )
        parts.append(
            (
                f"per block: numpy gather of the {label} windows from it, mean",
                float(np.mean(t_gather)),
            )
        )
    lo, hi = int(seq.bounds[0]), int(seq.bounds[1])
    t_sync, prof, _ = _sync(lambda: dask.compute(*[a.data[lo:hi] for a in seq._ooc]))
    parts.append(("one block, synchronous scheduler (profiled)", t_sync))
    return {"parts": parts, "top": _top(prof), "packages": _by_package(prof)}


def import_tree(python: str = sys.executable) -> str:
    """``-X importtime`` of ``import genomarray``: the costliest modules and, for each heavy
    library, the genomarray module whose import pulls it in."""
    proc = subprocess.run(
        [python, "-X", "importtime", "-c", "import genomarray"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    entries = []  # (depth, name, self_us, cum_us) in post-order
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if m:
            entries.append((len(m.group(3)) // 2, m.group(4), int(m.group(1)), int(m.group(2))))
    parent: dict[int, int] = {}
    pending: dict[int, list[int]] = {}
    for i, (depth, *_rest) in enumerate(entries):
        for child in pending.pop(depth + 1, []):
            parent[child] = i
        pending.setdefault(depth, []).append(i)
    total = sum(e[3] for e in entries if e[0] == 0) / 1e6
    lines = [
        f"total cumulative of top-level imports: {total:.2f} s",
        "",
        "costliest top-level packages (cumulative, first import):",
    ]
    tops: dict[str, int] = {}
    for _depth, name, _s, cum in entries:
        top = name.split(".")[0]
        tops[top] = max(tops.get(top, 0), cum)
    for name, cum in sorted(tops.items(), key=lambda kv: -kv[1])[:16]:
        lines.append(f"  {name:<28} {cum / 1e6:6.3f} s")
    lines += ["", "heavy libraries and the genomarray module that imports them:"]
    heavy = [
        "dask.array",
        "dask.dataframe",
        "sparse",
        "numba",
        "pysam",
        "pyBigWig",
        "pybigtools",
        "pandas",
        "scipy",
        "zarr",
        "distributed",
        "numcodecs",
        "xarray",
    ]
    for h in heavy:
        idx = next((i for i, e in enumerate(entries) if e[1] == h), None)
        if idx is None:
            lines.append(f"  {h:<14} not loaded")
            continue
        chain, j = [], idx
        while j in parent:
            j = parent[j]
            chain.append(entries[j][1])
        owner = next((c for c in chain if c.startswith("genomarray")), "(not via genomarray)")
        via = " <- ".join(chain[:4])
        lines.append(f"  {h:<14} {entries[idx][3] / 1e6:6.3f} s  first by {owner}   [{via}]")
    lines += ["", "genomarray modules (cumulative):"]
    ga = sorted(
        {(e[1], e[3]) for e in entries if e[1].startswith("genomarray")}, key=lambda kv: -kv[1]
    )[:14]
    for name, cum in ga:
        lines.append(f"  {name:<36} {cum / 1e6:6.3f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="T1,T2,T3,T4,import")
    args = parser.parse_args(argv)
    data = dataset(quick=args.quick)
    spec = data.spec()
    names = args.only.split(",")
    jobs = {
        "T1": [
            ('T1 cold: `read_bam(mode="coverage")` + `.values`', "t1_cold", {}),
            ("codecs on the stores' chunks (1 thread; seconds = decode)", "codecs", {}),
        ],
        "T2": [("T2 from the store: `read_bigwig` + `view(roi).values`", "t2_store", {})],
        "T3": [("T3 from the store: `read_fasta` + view + `onehot(1).values`", "t3_store", {})],
        "T4": [
            (
                "T4 out of core, lazy views of the stores, order 1, shuffled",
                "t4_ooc",
                {"order": 1, "shuffle": True},
            ),
            (
                "T4 out of core, lazy views of the stores, order 1, in order",
                "t4_ooc",
                {"order": 1, "shuffle": False},
            ),
        ],
    }
    env = {} if os.environ.get("KERAS_BACKEND") else {"KERAS_BACKEND": "numpy"}
    with Zygote([*PRELOAD, "genomarray.keras.dataset"], env=env) as z:
        for name in names:
            for title, func, extra in jobs.get(name, []):
                res = z.run(MODULE, func, {**spec, **extra})
                print(f"\n### {title}\n")
                if "error" in res:
                    print("```\n" + res["error"] + "\n```")
                    continue
                print("| part | seconds |\n| --- | --- |")
                for part, secs in res["parts"]:
                    print(f"| {part} | {secs:.3f} |")
                if res["packages"]:
                    print("\nown time by package (synchronous, profiled):")
                    print("```\n" + res["packages"] + "\n```")
                    print("\ntop functions by own time:\n```\n" + res["top"] + "\n```")
    if "import" in names:
        print("\n### `import genomarray` (-X importtime)\n\n```\n" + import_tree() + "\n```")


if __name__ == "__main__":
    main()
