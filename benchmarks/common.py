"""Shared helpers of the benchmarks: fresh-process measurements and the one result table.

Fresh processes
---------------
Every measured row runs in a *fresh process* so that nothing a previous row read,
compiled or cached (zarr/dask caches, numba's JIT in memory, the LRU of an open store)
makes it faster than a user's first call. Starting a new interpreter per measurement would
pay the imports every time (keras alone takes ~6 s here), so a :class:`Zygote` -- a
server process that has *only imported the libraries* -- forks one child per measurement.
The child runs the benchmark function, which times the user-facing call itself (the
libraries it uses are imported by the zygote, :data:`PRELOAD`; start-up is measured on
its own by ``bench_import``),
checks the values against the truth arrays, and writes a JSON result. A row is the best
of ``repeat`` such children (3 by default, 1 with ``--quick``). The operating system's
page cache is shared, as for a user who reruns a script: the data files are warm.

Rows of other tools (GenVarLoader) run the same way in another interpreter (the venv
that has them installed).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))

PRELOAD = [
    "numpy",
    "pandas",
    "xarray",
    "dask.array",
    "zarr",
    "numcodecs",
    "numba",
    "genomarray",
    "genomarray.genome.store",
    "genomarray.io.bam",
    "genomarray.io.bigwig",
    "genomarray.io.fasta",
    "genomarray.genome.sequences",
    "genomarray.genome.coverage",
    "genomarray.views.windows",
    "genomarray.batches.load",
]
"""What the zygotes import before forking: the libraries that genomarray and the
references need, so no timed call pays an import (start-up is measured by
``bench_import``). ``distributed`` is deliberately not preloaded: genomarray imports it on
first use only to look for a client, and that cost stays in its first call."""
REPO = os.path.dirname(HERE)
"""The checkout whose ``genomarray`` is measured (put first on ``sys.path``)."""


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (``VmHWM``)."""
    try:
        with open("/proc/self/status") as fh:
            return next(int(x.split()[1]) for x in fh if x.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(wall seconds, result) of one call."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


# -- the zygote -------------------------------------------------------------------------------


def _run_job(job: dict, log: str) -> int:
    """Run one job in this (fresh) process; its result goes to the job's ``out`` file."""
    code = 0
    try:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.environ.update(job.get("env", {}))
        module = importlib.import_module(job["module"])
        result = getattr(module, job["func"])(job["spec"])
        result.setdefault("peak_mb", peak_rss_mb())
    except BaseException:  # noqa: BLE001 - reported to the parent as a failed row
        result = {"error": traceback.format_exc()}
        code = 1
    with open(job["out"], "w") as fh:
        json.dump(result, fh)
    sys.stdout.flush()
    return code


def _serve(preload: list[str], log: str, fork: bool = True) -> None:
    """Server loop (in the zygote interpreter): import ``preload``, then fork one child per
    job line read from stdin (or, with ``fork=False``, start a new interpreter per job,
    for libraries that must not be forked, e.g. after GNU OpenMP was used)."""
    for name in preload:
        try:
            importlib.import_module(name)
        except ImportError:  # optional libraries: the rows that need them report it
            pass
    print("ready", flush=True)
    while True:
        line = sys.stdin.readline()
        if not line:
            return
        job = json.loads(line)
        if not fork:
            code = (
                f"import sys, json; sys.path[:0] = [{HERE!r}, {REPO!r}]; import common; "
                f"sys.exit(common._run_job(json.loads({line.strip()!r}), {log!r}))"
            )
            subprocess.run([sys.executable, "-c", code], check=False, cwd=REPO)
        else:
            pid = os.fork()
            if pid == 0:  # the fresh child
                os._exit(_run_job(job, log))
            os.waitpid(pid, 0)
        print("done", flush=True)


class Zygote:
    """A process that has imported ``preload`` and forks a fresh child per :meth:`run`
    (``fork=False``: starts a new interpreter per run; nothing is preloaded then)."""

    def __init__(
        self,
        preload: Sequence[str],
        python: str | None = None,
        env: dict | None = None,
        fork: bool = True,
    ):
        self.keep_log = False
        self.log = tempfile.NamedTemporaryFile(prefix="ga-bench-", suffix=".log", delete=False).name
        code = (
            f"import sys; sys.path[:0] = [{HERE!r}, {REPO!r}]; import common; "
            f"common._serve({list(preload)!r}, {self.log!r}, {fork!r})"
        )
        self.proc = subprocess.Popen(
            [python or sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, **(env or {})},
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"benchmark zygote failed to start: {python or sys.executable}")

    def run(self, module: str, func: str, spec: dict, env: dict | None = None) -> dict:
        """Run ``module.func(spec)`` in a fresh forked child and return its result."""
        out = tempfile.NamedTemporaryFile(prefix="ga-bench-", suffix=".json", delete=False).name
        job = {"module": module, "func": func, "spec": spec, "env": env or {}, "out": out}
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        if self.proc.stdout.readline().strip() != "done":
            raise RuntimeError("benchmark zygote died")
        try:
            with open(out) as fh:
                result = json.load(fh)
        except (OSError, ValueError):
            result = {"error": f"no result (child crashed?); see {self.log}"}
        finally:
            if os.path.exists(out):
                os.remove(out)
        if "error" in result:
            self.keep_log = True
        return result

    def close(self) -> None:
        """Stop the zygote; its children's output log is kept only if a run failed."""
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)
        if self.keep_log:
            print(f"  (children's output: {self.log})", file=sys.stderr)
        elif os.path.exists(self.log):
            os.remove(self.log)

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Result:
    """Best of several fresh-process runs of one measurement."""

    seconds: float = float("nan")
    ok: bool = False
    check: str = ""
    error: str = ""
    runs: list[dict] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.error) or not self.ok

    def extra(self, key: str, default: Any = None) -> Any:
        """A field of the best run's result."""
        best = min((r for r in self.runs if "seconds" in r), key=lambda r: r["seconds"], default={})
        return best.get(key, default)


Job = tuple  # (zygote, module, func, spec)


def best_of_all(jobs: dict[Any, Job], repeat: int) -> dict[Any, Result]:
    """Best wall time of ``repeat`` fresh children per job; every run's check must pass.

    The repeats are interleaved (job 1, job 2, ..., then again), so that a burst of load on
    the shared machine slows one try of every row rather than every try of one row."""
    results = {key: Result() for key in jobs}
    for _ in range(repeat):
        for key, (zygote, module, func, spec) in jobs.items():
            res = results[key]
            if res.error:
                continue
            r = zygote.run(module, func, spec)
            res.runs.append(r)
            if "error" in r:
                res.error = r["error"].strip().splitlines()[-1]
                print(f"  ! {module}.{func}: {r['error']}", file=sys.stderr)
            elif not r.get("ok", False):
                res.error = f"check failed: {r.get('check', '')}"
            else:
                res.seconds = min(res.seconds, r["seconds"]) if len(res.runs) > 1 else r["seconds"]
                res.check = r.get("check", "")
    for res in results.values():
        res.ok = bool(res.runs) and not res.error
    return results


def best_of(zygote: Zygote, module: str, func: str, spec: dict, repeat: int) -> Result:
    """:func:`best_of_all` of one job."""
    return best_of_all({0: (zygote, module, func, spec)}, repeat)[0]


# -- the table --------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the result table."""

    task: str
    reference: str
    genomarray: str
    ratio: str
    goal: str
    met: str

    @staticmethod
    def failed(task: str, reference: str, why: str, goal: str = "") -> Row:
        return Row(task, reference, f"FAILED: {why}", "", goal, "no")


def fmt_s(seconds: float) -> str:
    return f"{seconds:.3f} s" if seconds < 10 else f"{seconds:.1f} s"


def time_ratio(ours: Result, ref: Result) -> float:
    """genomarray time / reference time (> 1: genomarray is slower)."""
    return ours.seconds / ref.seconds


def yes_no(ok: bool) -> str:
    return "yes" if ok else "**no**"


def print_table(rows: list[Row], title: str = "genomarray benchmarks", notes: str = "") -> str:
    """Print (and return) the rows as one markdown table."""
    header = Row("task", "reference", "genomarray", "ratio", "goal", "met?")
    cols = ("task", "reference", "genomarray", "ratio", "goal", "met")
    cells = [[getattr(r, c) for c in cols] for r in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cols))]

    def line(row: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    out = [f"\n## {title}\n", line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in cells[1:]]
    if notes:
        out += ["", notes]
    text = "\n".join(out)
    print(text, flush=True)
    return text


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
        return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} cores"
    except OSError:
        return f"{os.cpu_count()} cores"


def other_python() -> str | None:
    """An interpreter that has GenVarLoader (``GENOMARRAY_BENCH_PEERS``, or the venv
    ``/tmp/ga-bench-venv`` when present), for the peer rows; None when there is none."""
    for python in (
        os.environ.get("GENOMARRAY_BENCH_PEERS"),
        sys.executable,
        os.path.join(tempfile.gettempdir(), "ga-bench-venv", "bin", "python"),
    ):
        if not python or not os.path.exists(python):
            continue
        ok = subprocess.run([python, "-c", "import genvarloader"], capture_output=True, check=False)
        if ok.returncode == 0:
            return python
    return None
