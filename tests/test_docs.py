"""The docs build: ``mkdocs build --strict`` passes with no warning, and the API reference
holds the rendered docstrings."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("mkdocs", reason="mkdocs not installed (pip install '.[docs]')")
pytest.importorskip("mkdocstrings", reason="mkdocstrings not installed (pip install '.[docs]')")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(ROOT / "mkdocs.yml"),
            "-d",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return proc, out


@pytest.mark.slow
def test_build_is_strict_and_clean(site):
    proc, _ = site
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert "WARNING" not in log, log


@pytest.mark.slow
def test_every_page_is_built(site):
    _, out = site
    for md in (ROOT / "docs").rglob("*.md"):
        rel = md.relative_to(ROOT / "docs").with_suffix("")
        folder = rel.parent if rel.name == "index" else rel  # docs/x.md -> x/index.html
        html = out / folder / "index.html"
        assert html.is_file(), f"{md} was not built ({html})"


@pytest.mark.slow
@pytest.mark.parametrize(
    "page, identifier, docstring",
    [
        ("genome", "genomarray.genome.sequences.read_fasta", "Read a FASTA genome as a lazy"),
        ("genome", "genomarray.genome.coverage.read_bam", "Read counts from BAM files as a track"),
        ("io", "genomarray.regions.tile", "following Janggu"),
        ("io", "genomarray.io.regions.read_regions", "BED-like DataFrame"),
        ("views", "genomarray.views.geometry.window_layout", "Where each bin"),
        ("model", "genomarray.atomic.atomic_dir", "renamed to"),
        ("keras", "genomarray.keras.dataset.GenomicSequence", "PyDataset"),
        ("compat", "genomarray.compat.Cover", "Cover"),
        ("accessor", "accessors.janggu.JangguArrayAccessor", "Genomics operations"),
    ],
)
def test_api_pages_render_docstrings(site, page, identifier, docstring):
    _, out = site
    html = (out / "api" / page / "index.html").read_text(encoding="utf-8")
    start = html.find(f'id="{identifier}"')
    assert start >= 0, f"{identifier} is not rendered on api/{page}"
    text = re.sub(r"<[^>]+>", "", html[start : start + 20000])
    assert docstring in text
    if "read_" in identifier:
        # a numpy "Parameters" section rendered as a table, not left as text
        assert "Parameters:" in text and "----------" not in text


@pytest.mark.slow
def test_sphinx_roles_are_rewritten(site):
    _, out = site
    for html in (out / "api").rglob("index.html"):
        text = html.read_text(encoding="utf-8")
        assert not re.search(r":(func|class|mod|meth|attr|data):`", text), html
