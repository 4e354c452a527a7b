"""T4 training batches/s of the batch engine, before (another checkout) and after, in one run.

T4: 200 batches of 128 windows x (1 kb one-hot of order 1 or 3, computed per batch from
uint8 codes, + a 1 kb stranded float32 coverage track), shuffled and in order, from a
10 Mb random chromosome and 20,000 windows of 1 kb (sorted random starts, + strand).
Paths, all through the user-facing :class:`genomarray.keras.GenomicSequence`:

- ``in memory``: the views computed into numpy first;
- ``write_zarr store``: the views written with ``write_zarr`` (2,048 regions a chunk)
  and reopened, ``max_memory_bytes`` = 1 MB (out of core);
- ``lazy genome views``: ``view()`` of the cached genome stores (``read_fasta`` store,
  a coverage track store, 1 Mb chunks), ``max_memory_bytes`` = 1 MB (the default path).

Each number is the best of 3 fresh processes, each timing the first 200 batches of a new
``GenomicSequence`` (so every chunk is decoded at least once in the timed span; the decoded
chunk count is reported). Every batch of the timed span is checked (in the first process)
against the in-memory reference (numpy views, :func:`genomarray.encode.onehot`). The
``--before`` checkout (default ``/work/main``) runs the same code through its own
``GenomicSequence``; ratios are to the in-memory row of the same checkout in the same run.
Last, the PyTorch ``DataLoader`` of :mod:`genomarray.torch` over the lazy genome views
(``num_workers`` 0 and 2).

Run: ``python benchmarks/bench_batch_engine.py [--before /work/main] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
AFTER = HERE.parent
N_BP = 10_000_000
N_WINDOWS = 20_000
WIDTH = 1000
BATCH = 128
N_BATCHES = 200
SMALL = 1 << 20


# -- data (made once, by the checkout under test) -----------------------------------------
def make_data(folder: Path, n_bp: int = N_BP, n_windows: int = N_WINDOWS) -> None:
    import genomarray as ga
    from genomarray import model
    from genomarray.genome.store import write_zarr

    folder.mkdir(parents=True, exist_ok=True)
    os.environ["GENOMARRAY_OUTPUT"] = str(folder / "out")
    rng = np.random.default_rng(0)
    fasta = folder / "g.fa"
    letters = np.frombuffer(b"ACGT", np.uint8)[rng.integers(0, 4, n_bp)]
    with open(fasta, "wb") as fh:
        fh.write(b">chr1\n")
        for i in range(0, n_bp, 60):
            fh.write(letters[i : i + 60].tobytes() + b"\n")
    dna = ga.read_fasta(fasta, store_path=folder / "g.zarr", progress=False)
    cov = rng.poisson(2.0, (1, n_bp, 2, 1)).astype(np.float32)
    track = model.coverage_track(cov, ["chr1"], [n_bp], ["+", "-"], ["cov"])
    write_zarr(track, folder / "t.zarr", progress=False)
    starts = np.sort(rng.integers(0, n_bp - WIDTH, n_windows))
    np.save(folder / "starts.npy", starts)
    roi = _roi(starts)
    for name, arr in (("codes", dna.janggu.view(roi)), ("cov", track.janggu.view(roi))):
        write_zarr(arr.compute(), folder / f"{name}.zarr", chunks={"region": 2048}, progress=False)


def _roi(starts: np.ndarray):
    import pandas as pd

    return pd.DataFrame(
        {
            "chrom": "chr1",
            "start": starts,
            "end": starts + WIDTH,
            "name": ".",
            "score": 0.0,
            "strand": "+",
        }
    )


# -- one measurement, in a fresh process ----------------------------------------------------
def _arrays(folder: Path, path: str):
    import genomarray as ga

    try:
        from genomarray.genome.store import open_zarr
    except ImportError:  # an older layout
        from genomarray.store import open_zarr
    os.environ["GENOMARRAY_OUTPUT"] = str(folder / "out")
    if path == "lazy":
        roi = _roi(np.load(folder / "starts.npy"))
        dna = ga.read_fasta(folder / "g.fa", store_path=folder / "g.zarr", progress=False)
        track = open_zarr(folder / "t.zarr")
        return dna.janggu.view(roi), track.janggu.view(roi)
    codes, cov = open_zarr(folder / "codes.zarr"), open_zarr(folder / "cov.zarr")
    if path == "memory":
        return codes.compute(), cov.compute()
    return codes, cov


def _batches(seq, n: int):
    """The first ``n`` batches, wrapping into the next epoch like keras."""
    out = []
    for i in range(n):
        j = i % len(seq)
        if i and j == 0:
            seq.on_epoch_end()
        out.append((seq.epoch, j, seq[j]))
    return out


def measure(folder: Path, path: str, shuffle: bool, order: int, check: bool) -> dict:
    from genomarray.keras import GenomicSequence

    codes, cov = _arrays(folder, path)
    budget = 1 << 34 if path == "memory" else SMALL

    def make():
        return GenomicSequence(
            {"dna": codes, "cov": cov},
            onehot_order=order,
            batch_size=BATCH,
            shuffle=shuffle,
            seed=0,
            max_memory_bytes=budget,
        )

    seq = make()
    assert seq.in_memory is (path == "memory")
    t0 = time.perf_counter()
    for i in range(N_BATCHES):
        j = i % len(seq)
        if i and j == 0:
            seq.on_epoch_end()
        seq[j]
    seconds = time.perf_counter() - t0
    engine = getattr(seq, "engine", None)
    loads = None
    if engine is not None and not seq.in_memory:
        loads = sum(s.cache.loads for s in engine._ooc)
    checked = 0
    if check:
        from genomarray.encode import onehot

        ref_codes = np.asarray(codes.values)
        ref_cov = np.asarray(cov.values).astype(np.float32)
        fresh = make()
        for epoch, j, x in _batches(fresh, N_BATCHES):
            rows = fresh.order(epoch)[j * BATCH : (j + 1) * BATCH]
            np.testing.assert_array_equal(x["dna"], onehot(ref_codes[rows], order))
            np.testing.assert_array_equal(x["cov"], ref_cov[rows])
            checked += 1
    return {"rate": N_BATCHES / seconds, "loads": loads, "checked": checked}


def measure_torch(folder: Path, workers: int, check: bool) -> dict:
    import torch

    from genomarray.encode import onehot
    from genomarray.torch import dataloader

    torch.set_num_threads(1)
    codes, cov = _arrays(folder, "lazy")
    loader = dataloader(
        {"dna": codes, "cov": cov},
        batch_size=BATCH,
        shuffle=True,
        seed=0,
        max_memory_bytes=SMALL,
        num_workers=workers,
    )
    t0 = time.perf_counter()
    got = []
    while len(got) < N_BATCHES:
        for batch in loader:
            got.append(batch if check else None)
            if len(got) == N_BATCHES:
                break
    seconds = time.perf_counter() - t0
    checked = 0
    if check:
        ref_codes, ref_cov = np.asarray(codes.values), np.asarray(cov.values)
        sampler = type(loader.batch_sampler)(loader.dataset)
        epochs = -(-N_BATCHES // len(sampler))
        rows = [list(b) for _ in range(epochs) for b in sampler][:N_BATCHES]
        for r, batch in zip(rows, got, strict=True):
            np.testing.assert_array_equal(batch["dna"].numpy(), onehot(ref_codes[r], 1))
            np.testing.assert_array_equal(batch["cov"].numpy(), ref_cov[r])
            checked += 1
    return {"rate": N_BATCHES / seconds, "loads": None, "checked": checked}


# -- the driver ----------------------------------------------------------------------------
def _run(repo: Path, folder: Path, job: dict) -> dict:
    env = {**os.environ, "PYTHONPATH": str(repo), "OMP_WAIT_POLICY": "PASSIVE"}
    out = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--one",
            json.dumps(job),
            "--data",
            str(folder),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(repo),
    )
    if out.returncode:
        raise RuntimeError(f"{job} in {repo} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="/work/main", help="checkout measured as before")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", default=None, help="data folder (default: a fresh one)")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--only", default=None, help="e.g. lazy,store: paths to run")
    parser.add_argument("--orders", default="1,3", help="one-hot orders to run")
    parser.add_argument("--modes", default="shuffled,in order", help="shuffled and/or in order")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch rows")
    parser.add_argument("--mb", type=float, default=N_BP / 1e6, help="chromosome size, Mb")
    parser.add_argument("--windows", type=int, default=N_WINDOWS)
    args = parser.parse_args(argv)
    if args.one:
        job = json.loads(args.one)
        if job["kind"] == "make":
            make_data(Path(args.data), job["n_bp"], job["n_windows"])
            res: dict = {}
        elif job["kind"] == "torch":
            res = measure_torch(Path(args.data), job["workers"], job["check"])
        else:
            res = measure(Path(args.data), job["path"], job["shuffle"], job["order"], job["check"])
        print(json.dumps(res))
        return
    folder = Path(args.data or tempfile.mkdtemp(prefix="ga-bench-engine-"))
    if not (folder / "cov.zarr").exists():  # made by the checkout under test
        _run(AFTER, folder, {"kind": "make", "n_bp": int(args.mb * 1e6), "n_windows": args.windows})
    paths = {"memory": "in memory", "store": "write_zarr store", "lazy": "lazy genome views"}
    only = set(args.only.split(",")) if args.only else set(paths)
    repos = {"before": Path(args.before), "after": AFTER}
    rows = []
    modes = [m.strip() for m in args.modes.split(",")]
    orders = [int(o) for o in args.orders.split(",")]
    for shuffle in [m == "shuffled" for m in ("shuffled", "in order") if m in modes]:
        for order in orders:
            best: dict = {}
            for which, repo in repos.items():
                for path in [p for p in paths if p in only or p == "memory"]:
                    runs = [
                        _run(
                            repo,
                            folder,
                            {
                                "kind": "keras",
                                "path": path,
                                "shuffle": shuffle,
                                "order": order,
                                "check": i == 0,
                            },
                        )
                        for i in range(args.repeat)
                    ]
                    best[which, path] = max(runs, key=lambda r: r["rate"]) | {
                        "checked": runs[0]["checked"]
                    }
            for path, label in paths.items():
                if path not in only and path != "memory":
                    continue
                b, a = best["before", path], best["after", path]
                rows.append(
                    (
                        "shuffled" if shuffle else "in order",
                        order,
                        label,
                        b["rate"],
                        b["rate"] / best["before", "memory"]["rate"],
                        a["rate"],
                        a["rate"] / best["after", "memory"]["rate"],
                        a["loads"],
                        a["checked"],
                    )
                )
                print(_line(rows[-1]), flush=True)
    print()
    print(_header())
    for r in rows:
        print(_line(r))
    if args.no_torch:
        return
    print(
        "\nPyTorch DataLoader (genomarray.torch.dataloader), lazy genome views, order 1, "
        "shuffled, 128 x 1 kb one-hot + coverage:"
    )
    mem = max(
        _run(
            AFTER,
            folder,
            {"kind": "keras", "path": "memory", "shuffle": True, "order": 1, "check": False},
        )["rate"]
        for _ in range(args.repeat)
    )
    for workers in (0, 2):
        runs = [
            _run(AFTER, folder, {"kind": "torch", "workers": workers, "check": i == 0})
            for i in range(args.repeat)
        ]
        rate = max(r["rate"] for r in runs)
        print(
            f"| num_workers={workers} | {rate:,.0f}/s | {rate / mem:.2f}x in-memory keras "
            f"({mem:,.0f}/s) | {runs[0]['checked']} batches checked |"
        )


def _header() -> str:
    return (
        "| T4 | order | path | before | before / in memory | after | after / in memory | "
        "chunks decoded (after) | batches checked |\n|---|---|---|---|---|---|---|---|---|"
    )


def _line(r: tuple) -> str:
    order, label = r[1], r[2]
    loads = "-" if r[7] is None else str(r[7])
    return (
        f"| {r[0]} | {order} | {label} | {r[3]:,.0f}/s | {r[4]:.2f}x | {r[5]:,.0f}/s | "
        f"{r[6]:.2f}x | {loads} | {r[8]} |"
    )


if __name__ == "__main__":
    main()
