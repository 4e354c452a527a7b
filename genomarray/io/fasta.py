"""FASTA reader: numpy code blocks for ``(chrom, start, end)``, and the FASTA index.

pysam handles are not picklable, so tasks never ship one: :func:`fasta_handle` opens (and
caches, per process and thread) a handle from the path.

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
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

import numpy as np

from genomarray import encode
from genomarray.errors import InputError, check_exists, missing_file
from genomarray.io import remote
from genomarray.io.bgzf import bgzf_block_size, not_bgzip
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
    fa = fasta_handle(path, fingerprint)
    length = fa.get_reference_length(chrom)
    stop = min(end, length)
    out = np.empty(end - start, dtype=np.uint8)
    out[max(stop - start, 0) :] = encode.unknown_code(alphabet)
    if stop > start:
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
        raw = seq.encode("ascii", errors="replace")
        # bytes outside '!'..'~' (whitespace, control bytes) become NOT_A_LETTER
        codes = encode.encode_bytes(raw, alphabet, checked=True)
        k = codes.find(bytes([encode.NOT_A_LETTER]))
        if k >= 0:
            base = start + k
            raise InputError(
                f"{describe_byte(raw[k])} where a base was expected (base "
                f"{base}): the FASTA has whitespace or uneven lines inside this record that "
                "its index does not describe; remove the whitespace (sequence lines must hold "
                "only letters) and delete the .fai so that it is rebuilt and checked",
                source=path,
                record=f"record {chrom!r}",
            )
        out[: stop - start] = np.frombuffer(codes, np.uint8)
    return out


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
