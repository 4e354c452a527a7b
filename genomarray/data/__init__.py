"""Small example files bundled with genomarray (genome, peaks, reads, tracks, variants).

The files are made by :mod:`genomarray.data.make_example`; ``README.md`` in this folder says
what each holds. This module stays import-light: it uses only :mod:`os` and :mod:`pathlib`.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["example_path"]

_DATA_DIR = Path(__file__).resolve().parent


def _available() -> list[str]:
    """Return the names of the bundled example files, sorted."""
    return sorted(
        entry.name
        for entry in _DATA_DIR.iterdir()
        if entry.is_file()
        and not entry.name.endswith((".py", ".pyc"))
        and not entry.name.startswith((".", "_"))
    )


def example_path(name: str) -> str:
    """Return the absolute path of a bundled example file.

    Parameters
    ----------
    name : str
        File name inside ``genomarray/data`` (for example ``"genome.fa"``, ``"sample.bam"``,
        ``"peaks.narrowPeak"``). Sub-folders and path separators are not accepted.

    Returns
    -------
    str
        Absolute path of the file.

    Raises
    ------
    FileNotFoundError
        If no bundled file has that name; the message lists the available files.

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> os.path.basename(example_path("genome.fa"))
    'genome.fa'
    >>> os.path.isabs(example_path("sample.bam"))
    True
    """
    name = os.fspath(name)
    if name and os.path.basename(name) == name and name not in (".", ".."):
        path = _DATA_DIR / name
        if path.is_file() and not name.endswith((".py", ".pyc")):
            return str(path)
    raise FileNotFoundError(
        f"no bundled example file named {name!r} in {_DATA_DIR}; "
        f"available: {', '.join(_available())}"
    )
