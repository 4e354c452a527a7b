"""Text input: every region file is opened once and read as a stream of numbered lines.

gzip is detected from the content (not the name), from the same stream that is then
parsed: a file is opened and read exactly once, so a pipe works like a file
(``read_regions("/dev/fd/63")`` from a shell's ``<(zcat roi.bed.gz)``, a named FIFO,
``/dev/stdin``).
"""

from __future__ import annotations

import gc
import gzip
import io
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from genomarray.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
BUFFER = 1 << 20
"""Bytes read from the file at a time."""


def is_stream(path: str | os.PathLike) -> bool:
    """Whether ``path`` can be read only once: a pipe, FIFO, socket or device, not a
    regular file (``/dev/fd/63`` from a shell's ``<(zcat roi.bed.gz)``).

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> is_stream(example_path("roi.bed")), is_stream("/dev/null")
    (False, True)
    """
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


class _Rejoined(io.RawIOBase):
    """A raw stream that yields ``head`` (the bytes sniffed), then the rest of ``raw``:
    what was read from a pipe to recognise its format is not lost."""

    def __init__(self, head: bytes, raw: io.RawIOBase) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int | None:  # type: ignore[override]
        if len(self._head):
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        return self._raw.readinto(buffer)

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


class _OwnedGzip(gzip.GzipFile):
    """A GzipFile that closes the stream it reads from (``gzip.GzipFile(fileobj=...)``
    leaves it open)."""

    def __init__(self, fileobj: io.BufferedIOBase) -> None:
        super().__init__(fileobj=fileobj, mode="rb")
        self._owned = fileobj

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._owned.close()


def open_decompressed(path: str | os.PathLike) -> io.BufferedIOBase:
    """Open a file as a binary stream, gunzipped if it is gzip (sniffed from its first
    bytes), reading it once.

    The file is opened one time: the first two bytes tell gzip from plain and are then
    read again from memory, so a pipe or FIFO loses nothing.

    Examples
    --------
    >>> import gzip, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "x.txt.gz")
    >>> with gzip.open(path, "wb") as fh:
    ...     _ = fh.write(b"hello")
    >>> with open_decompressed(path) as fh:
    ...     fh.read()
    b'hello'
    """
    raw = open(path, "rb", buffering=0)  # noqa: SIM115 - owned by the stream returned
    try:
        head = b""
        while len(head) < len(GZIP_MAGIC):  # a pipe may deliver one byte at a time
            more = raw.read(len(GZIP_MAGIC) - len(head))
            if not more:
                break
            head += more
        if raw.seekable():
            raw.seek(0)
            stream: io.RawIOBase = raw
        else:
            stream = _Rejoined(head, raw)
        buffered = io.BufferedReader(stream, BUFFER)
    except BaseException:
        raw.close()
        raise
    return _OwnedGzip(buffered) if head == GZIP_MAGIC else buffered


def open_text(path: str | os.PathLike) -> TextIO:
    """Open a text file, gzipped or not, reading it once (see :func:`open_decompressed`).

    Undecodable bytes are replaced (the parsers report what they cannot read with its
    line number).

    Examples
    --------
    >>> import gzip, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "x.bed.gz")
    >>> with gzip.open(path, "wt") as fh:
    ...     _ = fh.write("chr1\\t0\\t10\\n")
    >>> with open_text(path) as fh:
    ...     fh.read()
    'chr1\\t0\\t10\\n'
    """
    return io.TextIOWrapper(open_decompressed(path), encoding="utf-8", errors="replace")


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
