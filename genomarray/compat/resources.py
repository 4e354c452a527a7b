"""Janggu's bundled example files, for scripts ported with import-line changes only.

Janggu's examples find their data with ``pkg_resources.resource_filename('janggu',
'resources/<file>')``; :func:`resource_filename` here answers the same call. Janggu's
resource files are GPL-3.0 data and are not installed with genomarray: they ship in a
source checkout under ``tests/data/janggu/`` (see the NOTICE there), or in the folder
named by ``$GENOMARRAY_JANGGU_RESOURCES``. ``pseudo_genome.fa`` (1.6 MB) is not shipped:
it is the concatenation of ``sample.fa`` + ``sample2.fa`` (``pseudo1``) and
``sample_test.fa`` + ``sample2_test.fa`` (``pseudo2``), and is written on first use under
the output root.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from genomarray.atomic import AtomicFiles
from genomarray.paths import output_root

ENV = "GENOMARRAY_JANGGU_RESOURCES"
"""Environment variable naming the folder of Janggu's resource files."""

PSEUDO_GENOME = {
    "pseudo1": ("sample.fa", "sample2.fa"),
    "pseudo2": ("sample_test.fa", "sample2_test.fa"),
}
"""How ``pseudo_genome.fa`` is made: each chromosome is the records of these files, in order."""


def resource_dir() -> Path:
    """The folder holding Janggu's resource files (see the module documentation)."""
    env = os.environ.get(ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "tests" / "data" / "janggu"


def _sequence(path: Path) -> str:
    lines = [ln.strip() for ln in path.read_text().splitlines()]
    return "".join(ln for ln in lines if ln and not ln.startswith(">"))


def pseudo_genome(folder: Path) -> Path:
    """Write (once) ``pseudo_genome.fa`` from the four FASTA files in ``folder``."""
    parts = [folder / f for files in PSEUDO_GENOME.values() for f in files]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()[:16]
    target = output_root() / "compat" / "janggu_resources" / digest / "pseudo_genome.fa"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    files = AtomicFiles([target], overwrite=True)
    with files as (tmp,):
        with open(tmp, "w") as out:
            for chrom, names in PSEUDO_GENOME.items():
                seq = "".join(_sequence(folder / n) for n in names)
                out.write(f">{chrom} <unknown description>\n")
                for i in range(0, len(seq), 60):
                    out.write(seq[i : i + 60] + "\n")
    files.commit()
    return target


def resource_filename(package: str, resource: str) -> str:
    """Path of one of Janggu's resource files: ``resource_filename('janggu',
    'resources/sample.bed')``, or the folder itself for ``'resources/'``.

    Raises
    ------
    FileNotFoundError
        The resources are not there (an installed genomarray without a source checkout:
        set ``$GENOMARRAY_JANGGU_RESOURCES``).
    """
    if package != "janggu":
        raise ValueError(f"genomarray.compat.resource_filename serves 'janggu', not {package!r}")
    name = resource.removeprefix("resources").lstrip("/")
    folder = resource_dir()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"Janggu's resource files are not at {folder}: they ship in genomarray's source "
            f"checkout (tests/data/janggu/); point ${ENV} at a copy"
        )
    if not name:
        return str(folder) + os.sep
    path = folder / name
    if not path.exists() and name == "pseudo_genome.fa":
        return str(pseudo_genome(folder))
    if not path.exists():
        raise FileNotFoundError(f"no Janggu resource {name!r} in {folder}")
    return str(path)
