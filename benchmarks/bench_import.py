"""Start-up: ``import genomarray`` and ``genomarray --help`` in fresh interpreters.

Each command is a new ``python`` process started from the repository root (so the
checkout's ``genomarray`` is the one imported), timed as the wall time of the whole
process, best of 5 (2 with ``--quick``):

- ``python -c pass`` (the interpreter alone), ``import xarray`` and
  ``import xarray, dask.array`` (the references);
- ``python -c "import genomarray"``; goal (issue 15): at most xarray's own import + 0.25 s;
- ``genomarray --help``, the console script (``genomarray_cli.main``, run as the script
  pip writes runs it); goal (issue 15): at most 0.5 s; and ``python -m genomarray --help``,
  which imports the ``genomarray`` package (so xarray) before its ``__main__`` runs;
- which heavy modules ``import genomarray`` loads (goal: dask.array, sparse, numba, pysam,
  pyBigWig, pybigtools, keras, tensorflow, matplotlib load only when used).

Run alone: ``python benchmarks/bench_import.py [--quick]``
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from common import REPO, Row, fmt_s, yes_no
from data import Data

HEAVY = [
    "dask.array",
    "dask.dataframe",
    "distributed",
    "sparse",
    "numba",
    "pysam",
    "pyBigWig",
    "pybigtools",
    "pandas",
    "zarr",
    "scipy",
    "keras",
    "tensorflow",
    "torch",
    "matplotlib",
]
SHOULD_BE_LAZY = [
    "dask.array",
    "sparse",
    "numba",
    "pysam",
    "pyBigWig",
    "pybigtools",
    "keras",
    "tensorflow",
    "torch",
    "matplotlib",
]


def wall(args: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True, cwd=REPO)
        best = min(best, time.perf_counter() - t0)
    return best


def loaded_by_import() -> list[str]:
    code = (
        "import sys, json; import genomarray; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=REPO
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def rows(data: Data | None, repeat: int, quick: bool = False) -> list[Row]:
    repeat = 2 if quick else max(repeat, 5)
    py = sys.executable
    bare = wall([py, "-c", "pass"], repeat)
    xr = wall([py, "-c", "import xarray"], repeat)
    xr_dask = wall([py, "-c", "import xarray, dask.array"], repeat)
    ga = wall([py, "-c", "import genomarray"], repeat)
    script = "import sys; from genomarray_cli import main; sys.argv[1:] = ['--help']; main()"
    try:
        console = wall([py, "-c", script], repeat)
    except subprocess.CalledProcessError:
        console = None
    try:
        cli = wall([py, "-m", "genomarray", "--help"], repeat)
    except subprocess.CalledProcessError as err:
        cli = None
        cli_error = (err.stderr or b"").decode().strip().splitlines()[-1:]
    loaded = loaded_by_import()
    eager = [m for m in SHOULD_BE_LAZY if m in loaded]
    ref_s = (
        f"`import xarray` {fmt_s(xr)} (+ dask.array {fmt_s(xr_dask)}; bare python {fmt_s(bare)})"
    )
    out = [
        Row(
            "import `import genomarray` (fresh process, wall)",
            ref_s,
            fmt_s(ga),
            f"{ga / xr:.2f}x (+{ga - xr:.2f} s)",
            "≤ xarray + 0.25 s",
            yes_no(ga <= xr + 0.25),
        ),
        Row(
            "import `genomarray --help` (the console script)",
            f"bare python {fmt_s(bare)}",
            fmt_s(console) if console is not None else "FAILED",
            f"{console / bare:.1f}x bare" if console is not None else "",
            "≤ 0.5 s",
            yes_no(console is not None and console <= 0.5),
        ),
        Row(
            "import `python -m genomarray --help`",
            f"bare python {fmt_s(bare)}",
            fmt_s(cli) if cli is not None else f"FAILED: {cli_error}",
            f"{cli / bare:.1f}x bare" if cli is not None else "",
            "≤ 0.5 s",
            yes_no(cli is not None and cli <= 0.5),
        ),
        Row(
            "import: heavy modules loaded by `import genomarray`",
            "",
            ", ".join(loaded) or "none",
            "",
            "none of " + ", ".join(SHOULD_BE_LAZY[:6]) + ", ...",
            yes_no(not eager),
        ),
    ]
    return out


def main(argv: list[str] | None = None) -> list[Row]:
    import run_all

    return run_all.main(["--only", "import", *(argv or [])])


if __name__ == "__main__":
    main(sys.argv[1:])
