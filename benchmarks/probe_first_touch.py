"""How much a fresh process pays to touch new memory on this machine (not a genomarray
benchmark: a probe of the machine the benchmarks run on).

Every benchmark row allocates its result (T2: 80 MB, T3: 320 MB of one-hot) in a fresh
process. numpy asks the kernel for transparent huge pages for arrays of 4 MB or more
(``NUMPY_MADVISE_HUGEPAGE``); on a virtual machine whose memory the host backs lazily and
takes back when the guest frees it (free page reporting, as on Firecracker), touching
such memory the first time costs far more than on bare metal, and how much depends on
which free pages the kernel hands out: run-to-run noise that no library controls.

Prints, for ten successive 80 MB arrays in one fresh process, the time to allocate and
fill each, with numpy's huge-page advice on (its default) and off.

Run: ``python benchmarks/probe_first_touch.py``
"""

from __future__ import annotations

import os
import subprocess
import sys

CHILD = """
import time, numpy as np
t = []
keep = []
for _ in range(10):
    t0 = time.perf_counter()
    a = np.empty(20_000_000, np.float32)
    a[:] = 1
    t.append(time.perf_counter() - t0)
    keep.append(a)
print(" ".join(f"{x * 1000:.0f}" for x in t))
"""


def main() -> None:
    print("ms to allocate and fill each of ten 80 MB arrays in a fresh process")
    for advice in ("1", "0"):
        env = {**os.environ, "NUMPY_MADVISE_HUGEPAGE": advice}
        for _ in range(2):
            out = subprocess.run(
                [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True
            )
            label = "huge pages (numpy default)" if advice == "1" else "4 KB pages"
            print(f"{label:28s} {out.stdout.strip()}")


if __name__ == "__main__":
    main()
