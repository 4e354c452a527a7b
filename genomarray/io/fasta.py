"""FASTA reader: numpy code blocks for ``(chrom, start, end)``, and the FASTA index.

A local uncompressed FASTA is read at its checked ``.fai``'s offsets with ``os.pread``
(:class:`PlainFasta`: every line break checked where the index puts it, no htslib, whose
import and open cost 10-25 ms in a fresh process); a bgzip-compressed one and a URL through
pysam. Neither handle is shipped to tasks: :func:`fasta_handle` and :class:`PlainFasta`
are opened (and cached, per process and thread) from the path.

The ``.fai`` index is genomarray's to check and to write, not htslib's: see
:mod:`genomarray.io.fasta_index`; bgzip-compressed FASTAs are read through
:mod:`genomarray.io.bgzf`.

A FASTA URL (``http(s)://``, plain or bgzipped) is read by htslib through range requests.
Its ``.fai`` (and ``.gzi``) must lie next to it on the server: they are downloaded into
``<output root>/remote/`` (keyed by the server's metadata of the three files) and checked
against the FASTA by range requests, once per version. genomarray cannot build a missing
index of a URL without downloading the whole file, so it refuses with the command to run
where the file is stored.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import numpy as np

from genomarray import encode
from genomarray.errors import InputError, check_exists, missing_file
from genomarray.io import remote
from genomarray.io.bgzf import bgzf_block_size, is_gzip, not_bgzip
from genomarray.io.fasta_index import (
    BAD_BYTE,
    FastaScanner,
    describe_byte,
    index_fasta,
    index_problem,
    read_fai,
    remote_index_problem,
)
from genomarray.io.handles import cached_handle, discard_handle
from genomarray.io.text import open_decompressed

# -- opening ---------------------------------------------------------------------------------


def _open_remote(url: str, fingerprint: str | None = None):
    """A pysam handle on a FASTA URL with its downloaded, validated ``.fai`` (and ``.gzi``).

    pysam reads the sequence by range requests; the index files are downloaded by
    :func:`genomarray.io.remote.fasta_index` and checked against the FASTA by range
    requests (:func:`~genomarray.io.fasta_index.remote_index_problem`, once per version).
    """
    import pysam

    head = remote.read_range(url, 0, 18, "read the FASTA")
    compressed = head[:2] == b"\x1f\x8b"
    if compressed and bgzf_block_size(head) < 0:
        raise not_bgzip(url)
    got = remote.fasta_index(url, compressed)
    if fingerprint is not None and got.fingerprint != fingerprint:
        raise remote.changed_error(url, fingerprint)
    fai, gzi = got.indexes[0], (got.indexes[1] if compressed else None)
    problem = remote_index_problem(url, fai, gzi)
    if problem is not None:
        raise InputError(
            f"the index {url}.fai does not match the FASTA ({problem}); re-index it where "
            f"it is stored: `samtools faidx {os.path.basename(url)}`",
            source=url,
        )
    kwargs = {"filepath_index": fai}
    remote.isolate_libcurl()
    if gzi is not None:
        kwargs["filepath_index_compressed"] = gzi
    try:
        return pysam.FastaFile(url, **kwargs)
    except (OSError, ValueError) as err:
        raise remote.diagnose(url, err, "open the FASTA") from err


def _open(path: str):
    import pysam

    if remote.is_url(path):
        return _open_remote(path)
    _ensure_index(path)
    try:
        return pysam.FastaFile(path)
    except (OSError, ValueError) as err:
        raise InputError(f"cannot open the FASTA: {err}", source=path) from err


def _ensure_index(path: str) -> None:
    """Check the local FASTA's ``.fai`` against it; (re)build it where missing or stale."""
    fai = path + ".fai"
    problem = index_problem(path)
    if problem is not None:
        if not os.access(os.path.dirname(os.path.abspath(path)), os.W_OK):
            stale = os.path.exists(fai)
            raise InputError(
                (
                    f"the index {fai} does not match the FASTA ({problem})"
                    if stale
                    else "the FASTA has no index (.fai)"
                )
                + " and its folder is read-only; index it where you can write: "
                f"`samtools faidx {path}`, or copy it",
                source=path,
            )
        try:
            index_fasta(path)
        except OSError as err:  # e.g. a full disk, or a file-level permission
            raise InputError(
                f"cannot write the index {fai} ({err}); nothing was left half-written; "
                f"index it where you can write: `samtools faidx {path}`, or copy it",
                source=path,
            ) from err


_NO_SEQUENCES = "the FASTA holds no sequences (expected '>name' header lines)"


def fasta_sizes(path: str | os.PathLike) -> dict[str, int]:
    """``{record: length}`` of a FASTA in file order, from its checked ``.fai`` (built or
    rebuilt where missing or stale, as :func:`open_fasta` does); a URL's through htslib.

    A local file is not opened with pysam (whose import and open cost ~25 ms in a fresh
    process): reading a cached genome store needs only the names and lengths.

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> fasta_sizes(example_path("genome.fa"))
    {'chr1': 40000, 'chr2': 30000, 'chr3': 20000}
    """
    path = remote.local_path(path)
    if remote.is_url(path):
        with open_fasta(path) as fa:
            return dict(zip(fa.references, fa.lengths, strict=True))
    path = check_exists(path, "FASTA file", random_access=True)
    _ensure_index(path)
    records = read_fai(path + ".fai")
    if not records:
        raise InputError(_NO_SEQUENCES, source=path)
    return {r.name: r.length for r in records}


@contextmanager
def open_fasta(path: str | os.PathLike) -> Iterator:
    """Open a FASTA with pysam (checking its index, rebuilding it if needed), then close it.

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> with open_fasta(example_path("genome.fa")) as fa:
    ...     fa.references
    ['chr1', 'chr2', 'chr3']
    """
    path = remote.local_path(path)
    if not remote.is_url(path):
        path = check_exists(path, "FASTA file", random_access=True)
    fa = _open(path)
    try:
        if fa.nreferences == 0:
            raise InputError(_NO_SEQUENCES, source=path)
        yield fa
    finally:
        fa.close()


def fasta_handle(path: str, fingerprint: str | None = None):
    """Return a pysam handle on ``path`` cached for this process and thread (a URL's on
    its ``fingerprint``, checked against the server when the handle is opened)."""
    if fingerprint is not None:
        return cached_handle(path, partial(_open_remote, fingerprint=fingerprint), fingerprint)
    return cached_handle(path, _open, missing=lambda p: missing_file(p, "FASTA file"))


class PlainFasta:
    """A local FASTA read at its checked ``.fai``'s offsets with ``os.pread``, without
    htslib (pysam's import and open cost 10-25 ms in a fresh process): the bytes of a
    block are read in one call, every line's terminator checked where the index puts it,
    and the bases encoded by one ``bytes.translate`` that drops the terminators
    (``plain`` is False for a bgzip-compressed file: :func:`read_block` reads those with
    pysam).

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> fa = PlainFasta(example_path("genome.fa"))
    >>> fa.plain, list(fa.codes("chr1", 0, 5)) == read_block(example_path("genome.fa"),
    ...                                                      "chr1", 0, 5).tolist()
    (True, True)
    """

    def __init__(self, path: str) -> None:
        _ensure_index(path)
        self.path = path
        self._fh = open(path, "rb", buffering=0)  # noqa: SIM115 - kept open (cached_handle)
        self.plain = not is_gzip(path)
        self.records = {r.name: r for r in read_fai(path + ".fai")} if self.plain else {}

    def close(self) -> None:
        self._fh.close()

    def length(self, chrom: str) -> int:
        return int(self.records[chrom].length)

    def byte_at(self, chrom: str, base: int) -> int:
        """The byte of the file where the index puts base ``base`` of ``chrom``."""
        rec = self.records[chrom]
        line, col = divmod(base, int(rec.linebases))
        return os.pread(self._fh.fileno(), 1, rec.offset + line * rec.linewidth + col)[0]

    def codes(self, chrom: str, start: int, stop: int, alphabet: str = encode.DNA) -> bytes:
        """Codes of ``chrom:start-stop`` (inside the record), one byte each,
        :data:`encode.NOT_A_LETTER` where a byte cannot be a base; raises
        :class:`InputError` where the lines are not the ones the index describes."""
        rec = self.records[chrom]
        lb, lw = int(rec.linebases), int(rec.linewidth)
        if stop <= start:
            return b""
        term = b"\r\n"[-(lw - lb) :] if lw - lb in (1, 2) else b""
        first, col = divmod(start, lb)
        last, end_col = divmod(stop - 1, lb)  # the line and column of the last base
        lo = rec.offset + first * lw + col
        hi = rec.offset + last * lw + end_col + 1
        raw = os.pread(self._fh.fileno(), hi - lo, lo)
        if len(raw) != hi - lo:
            raise InputError(
                "cannot read the sequence (the file ends early): the file is truncated or "
                "damaged; write or copy it again",
                source=self.path,
                record=f"{chrom}:{start}-{stop}",
            )
        # every line break where the index puts one: ``raw`` holds exactly ``last - first``
        # of them, the first at ``lb - col``, then one every ``lw`` bytes
        buf = np.frombuffer(raw, np.uint8)
        ok = last == first or (
            bool(term)
            and all(bool((buf[lb - col + i :: lw] == byte).all()) for i, byte in enumerate(term))
        )
        # bases: the line terminators dropped, every other byte encoded (checked)
        codes = encode.encode_bytes(raw, alphabet, checked=True, delete=term)
        if not ok or len(codes) != stop - start:  # a line break where the index puts a base
            raise InputError(
                f"the lines of record {chrom!r} are not where its index puts them (bases "
                f"{start}-{stop}): the FASTA has uneven lines or line breaks inside this "
                "record that its index does not describe; make every sequence line but the "
                "last of a record equally long and delete the .fai so that it is rebuilt "
                "and checked",
                source=self.path,
                record=f"record {chrom!r}",
            )
        return codes


def _not_a_base(path: str, chrom: str, base: int, byte: int) -> InputError:
    return InputError(
        f"{describe_byte(byte)} where a base was expected (base "
        f"{base}): the FASTA has whitespace or uneven lines inside this record that "
        "its index does not describe; remove the whitespace (sequence lines must hold "
        "only letters) and delete the .fai so that it is rebuilt and checked",
        source=path,
        record=f"record {chrom!r}",
    )


def _plain_handle(path: str) -> PlainFasta:
    return cached_handle(
        path, PlainFasta, tag="plain", missing=lambda p: missing_file(p, "FASTA file")
    )


def read_block(
    path: str,
    chrom: str,
    start: int,
    end: int,
    alphabet: str = encode.DNA,
    fingerprint: str | None = None,
) -> np.ndarray:
    """Return uint8 codes of ``chrom:start-end`` (0-based, half-open).

    ``path`` may be a URL; ``fingerprint`` (of :func:`genomarray.io.remote.fingerprint_of`)
    then names the version of the file the reads must come from.

    Positions past the chromosome end are returned as the unknown code.

    Raises
    ------
    InputError
        The bases read hold a space, tab or line break: the FASTA has whitespace inside
        its sequence lines, or lines its index does not describe (an index written by
        another tool for a file genomarray would refuse); or the file cannot be read
        (truncated or damaged compressed file). The message names the record and base.

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> read_block(example_path("genome.fa"), "chr1", 0, 5).shape
    (5,)
    """
    plain = _plain_handle(path) if fingerprint is None and not remote.is_url(path) else None
    if plain is not None and plain.plain:
        length = plain.length(chrom)

        def fetch(stop: int) -> tuple[bytes, Callable[[int], int]]:
            codes = plain.codes(chrom, start, stop, alphabet)
            return codes, lambda k: plain.byte_at(chrom, start + k)
    else:
        fa = fasta_handle(path, fingerprint)
        length = fa.get_reference_length(chrom)

        def fetch(stop: int) -> tuple[bytes, Callable[[int], int]]:
            raw = _pysam_bases(fa, path, fingerprint, chrom, start, stop)
            # bytes outside '!'..'~' (whitespace, control bytes) become NOT_A_LETTER
            return encode.encode_bytes(raw, alphabet, checked=True), raw.__getitem__

    stop = min(end, length)
    out = np.empty(end - start, dtype=np.uint8)
    out[max(stop - start, 0) :] = encode.unknown_code(alphabet)
    if stop > start:
        codes, byte_at = fetch(stop)
        k = codes.find(bytes([encode.NOT_A_LETTER]))
        if k >= 0:
            raise _not_a_base(path, chrom, start + k, byte_at(k))
        out[: stop - start] = np.frombuffer(codes, np.uint8)
    return out


def _pysam_bases(
    fa: Any, path: str, fingerprint: str | None, chrom: str, start: int, stop: int
) -> bytes:
    """The bytes of ``chrom:start-stop`` as htslib fetches them (bgzip files, URLs)."""
    try:
        seq = fa.fetch(chrom, start, stop)
    except (OSError, ValueError) as err:
        if remote.is_url(path):
            discard_handle(path, fingerprint)
            doing = f"read the sequence ({chrom}:{start}-{stop})"
            raise remote.diagnose(path, err, doing) from err
        raise InputError(
            f"cannot read the sequence ({err}): the file is truncated or damaged; "
            "write or copy it again",
            source=path,
            record=f"{chrom}:{start}-{stop}",
        ) from err
    return seq.encode("ascii", errors="replace")


def _text_lines(path: str) -> Iterator[bytes]:
    try:
        with open_decompressed(path) as fh:  # opened once: a pipe works too
            yield from fh
    except (OSError, EOFError, zlib.error) as err:
        raise InputError(
            f"cannot read the file ({err}): truncated or damaged; write or copy it again",
            source=path,
        ) from err


def iter_records(path: str | os.PathLike) -> Iterator[tuple[str, str]]:
    """Yield ``(name, sequence)`` for every record of a FASTA, in file order.

    Lines may have any length (no index is involved); blank lines are skipped.

    Raises
    ------
    InputError
        Naming the file, record and line: no sequences (empty file); sequence before the
        first header; a header without a name; two records of one name (both lines); a
        space, tab or other non-printing character inside a sequence line.

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> next(iter_records(example_path("seqs.fa")))[0]
    'seq_0'
    """
    path = check_exists(path, "FASTA file")
    scanner = FastaScanner(path)  # for its error messages
    name, parts, seen = None, [], {}
    lineno = 0
    for lineno, raw in enumerate(_text_lines(path), 1):  # noqa: B007 - used after the loop
        line = raw.rstrip(b"\r\n")
        if line.startswith(b">"):
            if name is not None:
                yield name, b"".join(parts).decode("ascii")
            text = line[1:]
            if not text or text[:1].isspace():
                raise scanner.error(
                    "a header line without a name right after '>' (expected '>name')", lineno
                )
            name = text.split(None, 1)[0].decode("utf-8", errors="replace")
            if name in seen:
                raise scanner.error(
                    f"a second record named {name!r} (lines {seen[name]} and {lineno}); "
                    "record names must be unique: rename or remove one",
                    lineno,
                    name,
                )
            seen[name], parts = lineno, []
        elif line:
            if name is None:
                if not line.strip():
                    continue
                raise scanner.error(
                    "expected a '>name' header line before any sequence, got "
                    f"{line[:30]!r} (is this a FASTA file?)",
                    lineno,
                )
            bad = BAD_BYTE.search(line)
            if bad is not None:
                raise scanner.error(
                    f"{describe_byte(line[bad.start()])} inside a sequence line (column "
                    f"{bad.start() + 1}); sequence lines must hold only letters",
                    lineno,
                    name,
                )
            parts.append(line)
    if name is None:
        what = "it has only blank lines" if lineno else "the file is empty"
        raise InputError(
            f"the FASTA holds no sequences ({what}; expected '>name' header lines)",
            source=path,
        )
    yield name, b"".join(parts).decode("ascii")
