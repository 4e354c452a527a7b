"""Codes to the model: bytes per batch and speed, one-hot batches vs uint8 codes + OneHot.

The same T4 data as ``bench_batch_engine`` (10 Mb chromosome, 20,000 windows of 1 kb,
the lazy views of the cached genome store, out of core: ``max_memory_bytes`` = 1 MB),
served two ways by :class:`genomarray.keras.GenomicSequence`:

- ``one-hot batches``: ``onehot_order=k``, float32 one-hot ``(128, 1001 - k, 4**k)``
  per batch, fed to a model whose first layer is a ``Conv1D``;
- ``codes batches``: no ``onehot_order``, uint8 codes ``(128, 1000)`` per batch, fed to
  the same model with :class:`genomarray.keras.layers.OneHot` ``(order=k)`` in front.

Per way and order, in fresh processes (best of 3): bytes of ``x`` per batch (what crosses
to an accelerator), batches/s of building 200 batches (``seq[i]``), and windows/s of
``model.predict`` over 20 batches with the batch building included (CPU here, keras
default backend). The first process of each pair checks that both ways give identical
predictions (``assert_array_equal``).

Run: ``python benchmarks/bench_codes_to_model.py [--repeat 3] [--data DIR]``
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
REPO = HERE.parent
N_BATCHES = 200
N_PREDICT = 20
BATCH = 128
SMALL = 1 << 20


def _sequence(folder: Path, order: int, codes_way: bool):
    sys.path.insert(0, str(HERE))
    from bench_batch_engine import _arrays

    from genomarray.keras import GenomicSequence

    codes, _ = _arrays(folder, "lazy")
    return GenomicSequence(
        {"dna": codes},
        onehot_order=None if codes_way else order,
        batch_size=BATCH,
        max_memory_bytes=SMALL,
    )


def _model(order: int, codes_way: bool, width: int):
    import keras

    from genomarray.keras.layers import OneHot

    keras.utils.set_random_seed(0)
    conv = keras.layers.Conv1D(16, 9, activation="relu", bias_initializer="glorot_uniform")
    head = keras.layers.Dense(1)
    pool = keras.layers.GlobalMaxPooling1D()
    if codes_way:
        inp = keras.Input((width,), dtype="uint8", name="dna")
        return keras.Model({"dna": inp}, head(pool(conv(OneHot(order)(inp)))))
    inp = keras.Input((width - order + 1, 4**order), name="dna")
    return keras.Model({"dna": inp}, head(pool(conv(inp))))


def measure(folder: Path, order: int, codes_way: bool, save: str | None) -> dict:
    seq = _sequence(folder, order, codes_way)
    first = seq[0]["dna"]
    t0 = time.perf_counter()
    for i in range(N_BATCHES):
        seq[i % len(seq)]
    build = N_BATCHES / (time.perf_counter() - t0)

    model = _model(order, codes_way, 1000)
    model.predict(_Take(seq, 1), verbose=0)  # build and trace once, outside the timing
    t0 = time.perf_counter()
    pred = model.predict(_Take(seq, N_PREDICT), verbose=0)
    rate = N_PREDICT * BATCH / (time.perf_counter() - t0)
    if save:
        np.save(save, pred)
    return {
        "bytes": int(first.nbytes),
        "dtype": str(first.dtype),
        "shape": list(first.shape),
        "build": build,
        "predict": rate,
    }


class _Take:
    """The first ``n`` batches of a GenomicSequence, inputs only, as a keras PyDataset."""

    def __new__(cls, seq, n):
        import keras

        class Take(keras.utils.PyDataset):
            def __init__(self) -> None:
                super().__init__()

            def __len__(self) -> int:
                return n

            def __getitem__(self, i: int):
                x = seq[i]
                return (x,) if isinstance(x, dict) else x[:1]

        return Take()


def _run(job: dict, folder: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_WAIT_POLICY": "PASSIVE"}
    cmd = [sys.executable, __file__, "--one", json.dumps(job), "--data", str(folder)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(REPO))
    if out.returncode:
        raise RuntimeError(f"{job} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", default=None, help="data folder (default: a fresh one)")
    parser.add_argument("--orders", default="1,3")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        job = json.loads(args.one)
        folder = Path(args.data)
        if job["kind"] == "make":
            sys.path.insert(0, str(HERE))
            from bench_batch_engine import N_BP, N_WINDOWS, make_data

            make_data(folder, N_BP, N_WINDOWS)
            print("{}")
            return
        print(json.dumps(measure(folder, job["order"], job["codes"], job.get("save"))))
        return
    folder = Path(args.data or tempfile.mkdtemp(prefix="ga-bench-codes-"))
    if not (folder / "cov.zarr").exists():
        _run({"kind": "make"}, folder)
    rows = []
    for order in [int(o) for o in args.orders.split(",")]:
        best = {}
        for codes_way in (False, True):
            runs = []
            for i in range(args.repeat):
                save = str(folder / f"pred-{order}-{int(codes_way)}.npy") if i == 0 else None
                runs.append(
                    _run({"kind": "one", "order": order, "codes": codes_way, "save": save}, folder)
                )
            best[codes_way] = {
                "bytes": runs[0]["bytes"],
                "dtype": runs[0]["dtype"],
                "shape": runs[0]["shape"],
                "build": max(r["build"] for r in runs),
                "predict": max(r["predict"] for r in runs),
            }
        a = np.load(folder / f"pred-{order}-0.npy")
        b = np.load(folder / f"pred-{order}-1.npy")
        np.testing.assert_array_equal(a, b)
        hot, raw = best[False], best[True]
        rows.append((order, hot, raw, a.shape[0]))
        print(_line(rows[-1]), flush=True)
    print()
    print(
        "| order | way | x per batch | bytes per batch | batches/s built | predict windows/s |"
        "\n|---|---|---|---|---|---|"
    )
    for r in rows:
        print(_line(r))


def _line(r: tuple) -> str:
    order, hot, raw, n = r
    lines = []
    for way, d in (("one-hot batches", hot), ("codes + OneHot layer", raw)):
        shape = "x".join(map(str, d["shape"]))
        lines.append(
            f"| {order} | {way} | {d['dtype']} {shape} | {d['bytes'] / 1e6:.3f} MB | "
            f"{d['build']:,.0f}/s | {d['predict']:,.0f}/s |"
        )
    lines.append(
        f"| {order} | ratio | | {hot['bytes'] / raw['bytes']:.0f}x smaller | "
        f"{raw['build'] / hot['build']:.2f}x | {raw['predict'] / hot['predict']:.2f}x "
        f"(predictions of {n} windows identical) |"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
