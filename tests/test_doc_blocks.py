"""Every fenced ``python`` block of README.md and docs/*.md runs.

Each page's blocks run in page order, in one namespace per page (a block may use what an
earlier block of its page defined), with a scratch folder as the working directory and a
temporary ``$GENOMARRAY_OUTPUT``; data come from the bundled files (``ga.example_path``)
or Janggu's resource files (``genomarray.compat.resource_filename``). A block opts out only
with an HTML comment right before it (blank lines between are allowed)::

    <!-- skip-run: needs a GPU -->

and the reason must say why (a cluster, a GPU, the network). Pages whose blocks train
models are marked slow.
"""

from __future__ import annotations

import os
import re
import traceback
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S
)
SKIP = re.compile(r"<!--\s*skip-run:\s*(?P<reason>[^>]*?)\s*-->\s*$")

SLOW_PAGES = {"keras.md", "architectures.md", "migration.md", "cluster.md"}
"""Pages whose blocks train models or start clusters (a few seconds to a minute)."""


def blocks(page: Path) -> list[tuple[int, str, str | None]]:
    """``(line, code, skip reason or None)`` of the page's python blocks, in order."""
    text = page.read_text(encoding="utf-8")
    out = []
    for m in FENCE.finditer(text):
        if m.group("lang").strip().lower() not in ("python", "py"):
            continue
        line = text.count("\n", 0, m.start()) + 1
        before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip = SKIP.search(before)
        indent = m.group("indent")
        code = "\n".join(
            ln[len(indent) :] if ln.startswith(indent) else ln
            for ln in m.group("body").splitlines()
        )
        out.append((line, code, skip.group("reason") if skip else None))
    return out


def _params():
    for page in PAGES:
        marks = [pytest.mark.slow] if page.name in SLOW_PAGES else []
        if any(b for b in blocks(page)):
            yield pytest.param(page, id=str(page.relative_to(ROOT)), marks=marks)


def test_skip_markers_give_a_reason():
    for page in PAGES:
        for line, _, reason in blocks(page):
            if reason is not None:
                assert len(reason) > 8, f"{page.name}:{line}: skip-run needs a reason"


def test_collector_finds_blocks():
    assert sum(len(blocks(p)) for p in PAGES) > 20


@pytest.mark.parametrize("page", list(_params()))
def test_page_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JANGGU_OUTPUT", raising=False)
    import matplotlib

    matplotlib.use("Agg")
    namespace: dict = {"__name__": "__doc_page__"}
    ran = 0
    for line, code, skip in blocks(page):
        if skip is not None:
            continue
        try:
            exec(compile(code, f"{page.name}:{line}", "exec"), namespace)  # noqa: S102
        except Exception as err:  # noqa: BLE001 - report the page and line
            tb = traceback.format_exc(limit=-3)
            pytest.fail(f"{page.relative_to(ROOT)}, block at line {line} failed: {err!r}\n{tb}")
        ran += 1
    assert ran or all(skip for _, _, skip in blocks(page))
    os.chdir(ROOT)
