"""Exceptions raised for bad input.

Every error raised on bad input names the file (or object), the record and what was
expected, so that a user can find the offending line without a debugger.
"""

from __future__ import annotations

import os
import stat


class GenomarrayError(Exception):
    """Base class of genomarray's own errors."""


class InputError(GenomarrayError, ValueError):
    """A file, record or argument that genomarray cannot use.

    Parameters
    ----------
    message
        What is wrong and what was expected.
    source
        The file path (or a description of the object) the bad input came from.
    record
        The record, line or region at fault (for example ``"line 12"`` or ``"chr1:10-5"``).

    Examples
    --------
    >>> raise InputError("end <= start", source="roi.bed", record="line 3")
    Traceback (most recent call last):
    ...
    genomarray.errors.InputError: roi.bed, line 3: end <= start
    """

    def __init__(
        self, message: str, source: str | os.PathLike | None = None, record: str | None = None
    ) -> None:
        self.source = None if source is None else str(source)
        self.record = record
        where = ", ".join(p for p in (self.source, record) if p)
        super().__init__(f"{where}: {message}" if where else message)


class ChromosomeError(InputError, KeyError):
    """A chromosome named by one input is absent from another (e.g. ``chr1`` vs ``1``)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class StoreError(InputError):
    """A zarr store that does not match the manifest it was written with.

    Raised when a store is opened (a missing, truncated or unexpected file; no manifest)
    or read (a chunk whose bytes differ from those written), never a codec's error.

    Parameters
    ----------
    problem
        What is wrong.
    store
        The store's path.
    remedy
        How to fix it.
    array, chunk
        The array and chunk key at fault, where one is.

    Examples
    --------
    >>> raise StoreError("is missing", "g.zarr", "write it again", "sequence", "c/0/3")
    Traceback (most recent call last):
    ...
    genomarray.errors.StoreError: g.zarr, array 'sequence', chunk c/0/3: is missing; write it again
    """

    def __init__(
        self,
        problem: str,
        store: str | os.PathLike,
        remedy: str,
        array: str | None = None,
        chunk: str | None = None,
    ) -> None:
        self.problem, self.remedy, self.array, self.chunk = problem, remedy, array, chunk
        record = ", ".join(
            p
            for p in (None if array is None else f"array {array!r}", chunk and f"chunk {chunk}")
            if p
        )
        super().__init__(f"{problem}; {remedy}", source=store, record=record or None)

    def __reduce__(self) -> tuple:  # pickled across distributed workers with all its fields
        return (type(self), (self.problem, self.source, self.remedy, self.array, self.chunk))


def missing_file(path: str | os.PathLike, what: str = "file") -> FileNotFoundError:
    """Return a FileNotFoundError naming the missing ``what`` and its path."""
    return FileNotFoundError(f"{what} not found: {os.fspath(path)}")


def check_exists(
    path: str | os.PathLike, what: str = "file", *, random_access: bool = False
) -> str:
    """Return ``path`` as a string, raising a clear FileNotFoundError if it is missing.

    A pipe, FIFO or ``/dev/fd/N`` path exists like a file and is accepted: text inputs
    are read once, as a stream. With ``random_access`` (a FASTA, BAM or bigWig, read by
    region through an index) a path that is not a regular file is an :class:`InputError`.

    Examples
    --------
    >>> check_exists("/dev/null", "BAM file", random_access=True)
    Traceback (most recent call last):
    ...
    genomarray.errors.InputError: /dev/null: a BAM file is read by region (random ...
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise missing_file(path, what)
    if random_access and not stat.S_ISREG(os.stat(path).st_mode):
        raise InputError(
            f"a {what} is read by region (random access through its index), which a pipe, "
            "FIFO or device cannot give; write it to a regular file first",
            source=path,
        )
    return path
