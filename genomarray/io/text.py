"""Text input: every region file is opened once and read as a stream of numbered lines.

gzip is detected from the content (not the name).
"""

from __future__ import annotations

import gc
import gzip
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from genomarray.errors import InputError


def open_text(path: str) -> TextIO:
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: parsing allocates millions of small lists that
    hold no cycles, and its scans would otherwise triple the reading time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def numbered_lines(path: str) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, line without its newline)``, 1-based."""
    with open_text(path) as fh:
        try:
            for number, line in enumerate(fh, 1):
                yield number, line.rstrip("\r\n")
        except (OSError, EOFError) as err:  # gzip.BadGzipFile is an OSError
            raise InputError(f"cannot decompress the file ({err})", source=path) from err


def is_header(line: str) -> bool:
    if line.startswith("#"):
        return True
    word = line.split(None, 1)[0]
    return word in ("track", "browser")
