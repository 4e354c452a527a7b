"""The FASTA index (``.fai``, and ``.gzi`` for bgzip): built, checked and refused here.

The ``.fai`` index is genomarray's to check and to write, not htslib's:

- Before a FASTA is opened, its index is **validated against the file** (cheaply, a few
  small reads per record; :func:`index_problem`): every record's header line must sit
  just before the offset the index gives, each record must end where the index says,
  nothing but blank lines may lie between records, and the last record must end at the
  end of the file. A FASTA replaced by another one that kept an older modification time
  (``cp -p``, ``rsync -a``, ``tar x``) is so caught, where comparing times would not.
- A missing or stale index is **rebuilt** (:func:`index_fasta`) where the folder is
  writable, written to a temporary name and renamed, so no half-written ``.fai`` is ever
  left; in a read-only folder the error says how to index it.
- Building the index reads the whole file once and refuses what htslib would misread
  or drop without a word (:func:`scan_fasta`): an empty file, sequence before the first
  header, two records of one name (htslib keeps the first), a space, tab or other
  non-printing character inside a sequence line (htslib counts the line's bytes but not
  its spaces, and then reads a space as a base), and lines of uneven length within a
  record (every line but the last must hold the same number of bases). Each error names
  the file, the record and the line.

A bgzip-compressed FASTA (``.fa.gz``) is indexed the same way, with its ``.gzi`` (block
offsets) written next to it; a plain gzip file cannot be read by region and is refused
with the command that recompresses it.
"""

from __future__ import annotations

import os
import re
import struct
import threading
import warnings
from typing import NamedTuple

import numpy as np

from genomarray.atomic import write_file_atomic
from genomarray.errors import InputError, check_exists
from genomarray.io.bgzf import BgzfFile, PlainFile, decompressed_content, is_gzip

_BACK = 4096  # bytes read back from a record's offset to find its header line


_MAX_GAP = 1 << 16  # bytes between records (blank lines) that validation reads


_REWRAP = "rewrap it with lines of one length, e.g. `seqkit seq -w 60 {path} > fixed.fa`"


BAD_BYTE = re.compile(rb"[^\x21-\x7e]")  # anything but printable, non-space ASCII


class FaiRecord(NamedTuple):
    """One record of a FASTA index (the five ``.fai`` columns) and its header's line."""

    name: str
    length: int
    offset: int
    linebases: int
    linewidth: int
    line: int = 0  # 1-based line number of the header (0: not known, read from a .fai)


class _Record:
    """A record being scanned."""

    __slots__ = ("blank", "length", "line", "linebases", "name", "offset", "short", "term")

    def __init__(self, name: str, line: int, offset: int) -> None:
        self.name, self.line, self.offset = name, line, offset
        self.length = 0
        self.linebases = 0  # bases on the first sequence line
        self.term = 0  # its line terminator: 1 (\n), 2 (\r\n), 0 (end of file)
        self.short = (0, 0)  # (line, bases) of a line shorter than the first, if any
        self.blank = 0  # line of the first blank line after the sequence, if any

    def done(self) -> FaiRecord:
        width = self.linebases + (self.term or 1) if self.length else 0
        return FaiRecord(self.name, self.length, self.offset, self.linebases, width, self.line)


def describe_byte(byte: int) -> str:
    names = {32: "a space", 9: "a tab", 13: "a carriage return (\\r)", 0: "a NUL byte"}
    return names.get(byte, f"the byte {bytes([byte])!r}")


class FastaScanner:
    """Line-by-line checks of a FASTA's layout, vectorised over pieces of the file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.records: list[FaiRecord] = []
        self.seen: dict[str, int] = {}
        self.cur: _Record | None = None
        self.lineno = 0  # complete lines consumed
        self.pos = 0  # file offset of the first pending byte
        self.pending: list[bytes] = []
        self.nonblank = False

    def error(self, message: str, line: int, record: str | None = None) -> InputError:
        where = f"record {record!r}, line {line}" if record else f"line {line}"
        return InputError(message, source=self.path, record=where)

    def feed(self, piece: bytes) -> None:
        k = piece.rfind(b"\n")
        if k < 0:
            self.pending.append(piece)
            return
        buf = b"".join([*self.pending, piece[: k + 1]])
        self.pending = [piece[k + 1 :]] if k + 1 < len(piece) else []
        self._lines(buf, final=False)

    def finish(self) -> list[FaiRecord]:
        if self.pending:
            self._lines(b"".join(self.pending), final=True)
            self.pending = []
        if self.cur is not None:
            self.records.append(self.cur.done())
        if not self.records:
            what = "it has only blank lines" if self.pos else "the file is empty"
            raise InputError(
                f"the FASTA holds no sequences ({what}; expected '>name' header lines "
                "each followed by sequence lines)",
                source=self.path,
            )
        return self.records

    def _lines(self, buf: bytes, final: bool) -> None:
        arr = np.frombuffer(buf, np.uint8)
        nl = np.flatnonzero(arr == 10)
        ends = np.append(nl, len(arr)) if final else nl
        starts = np.concatenate(([0], nl + 1))[: len(ends)]
        cr = np.zeros(len(ends), bool)
        has = ends > starts
        cr[has] = arr[ends[has] - 1] == 13
        lens = ends - starts - cr
        terms = (ends < len(arr)).astype(np.int64) + cr
        first = np.zeros(len(ends), np.uint8)
        first[has] = arr[starts[has]]
        heads = np.flatnonzero((lens > 0) & (first == 62))
        mask = (arr < 33) | (arr > 126)
        mask[nl] = False
        mask[ends[cr] - 1] = False
        bad_pos = np.flatnonzero(mask)
        bad_line = np.searchsorted(starts, bad_pos, side="right") - 1
        keep = first[bad_line] != 62
        bad_pos, bad_line = bad_pos[keep], bad_line[keep]
        bounds = [0, *heads.tolist(), len(ends)]
        for i in range(len(bounds) - 1):
            a = bounds[i] + (1 if i else 0)
            if i:
                self._header(buf, bounds[i], starts, lens, terms)
            self._segment(a, bounds[i + 1], buf, starts, lens, terms, arr, bad_pos, bad_line)
        self.lineno += len(ends)
        self.pos += len(buf)

    def _header(self, buf: bytes, h: int, starts, lens, terms) -> None:
        line = self.lineno + h + 1
        text = buf[starts[h] + 1 : starts[h] + lens[h]]
        if not text or text[:1].isspace():
            raise self.error(
                "a header line without a name right after '>' (expected '>name')", line
            )
        name = text.split(None, 1)[0].decode("utf-8", errors="replace")
        if name in self.seen:
            raise self.error(
                f"a second record named {name!r} (lines {self.seen[name]} and {line}); "
                "record names must be unique (an index keeps only the first, so the "
                "second would be dropped without a word): rename or remove one",
                line,
                name,
            )
        self.seen[name] = line
        if self.cur is not None:
            self.records.append(self.cur.done())
        offset = self.pos + int(starts[h] + lens[h] + terms[h])
        self.cur = _Record(name, line, offset)

    def _segment(self, a, b, buf, starts, lens, terms, arr, bad_pos, bad_line) -> None:
        """Check the sequence lines ``[a, b)`` (no header among them) of the current
        record and add them to it."""
        if a >= b:
            return
        base = self.lineno + a + 1  # line number of line ``a``
        seg = lens[a:b]
        nonempty = np.flatnonzero(seg > 0)
        cur = self.cur
        if cur is None:  # before the first header: only blank lines may come
            for k in nonempty.tolist():
                text = buf[starts[a + k] : starts[a + k] + int(seg[k])]
                if not text.strip():
                    continue
                text = text[:30]
                raise self.error(
                    f"expected a '>name' header line before any sequence, got {text!r}"
                    " (is this a FASTA file?)",
                    base + k,
                )
            return
        errors: list[tuple[int, str]] = []  # (line, message); a bad byte first
        i = int(np.searchsorted(bad_line, a))
        if i < len(bad_line) and bad_line[i] < b:
            byte = int(arr[bad_pos[i]])
            column = int(bad_pos[i] - starts[bad_line[i]]) + 1
            errors.append(
                (
                    int(bad_line[i]) - a,
                    f"{describe_byte(byte)} inside a sequence line (column {column}); "
                    "sequence lines must hold only letters (no spaces, tabs or other "
                    "characters), else bases are read from the wrong places: remove them, "
                    f"e.g. `sed '/^>/!s/[[:space:]]//g' {self.path} > fixed.fa`",
                )
            )
        if nonempty.size:
            if cur.blank or cur.short[0]:
                k = int(nonempty[0])
                if cur.short[0]:
                    raise self._short_error(cur, base + k)
                errors.append(
                    (k, f"sequence after a blank line (line {cur.blank}) inside a record")
                )
            else:
                if not cur.linebases:
                    cur.linebases = int(seg[nonempty[0]])
                    cur.term = int(terms[a + nonempty[0]])
                empties = np.flatnonzero(seg == 0)
                if empties.size and empties[0] < nonempty[-1]:
                    k = int(nonempty[np.searchsorted(nonempty, empties[0])])
                    errors.append(
                        (
                            k,
                            f"sequence after a blank line (line {base + int(empties[0])}) "
                            "inside a record",
                        )
                    )
                values = seg[nonempty]
                longer = np.flatnonzero(values > cur.linebases)
                if longer.size:
                    k = int(nonempty[longer[0]])
                    errors.append(
                        (
                            k,
                            f"{int(seg[k])} bases on this line, more than the "
                            f"{cur.linebases} of the record's first line; lines of "
                            f"uneven length cannot be indexed: {_REWRAP.format(path=self.path)}",
                        )
                    )
                shorter = np.flatnonzero(values < cur.linebases)
                if shorter.size:
                    k = int(nonempty[shorter[0]])
                    if shorter[0] < len(values) - 1:
                        cur.short = (base + k, int(seg[k]))
                        raise self._short_error(cur, base + int(nonempty[shorter[0] + 1]))
                    cur.short = (base + k, int(seg[k]))
                seg_terms = terms[a:b][nonempty]
                mixed = np.flatnonzero((seg_terms != cur.term) & (seg_terms != 0))
                if mixed.size and cur.term:
                    k = int(nonempty[mixed[0]])
                    errors.append(
                        (
                            k,
                            "a line ending other than the record's first line's (mixed \\n "
                            "and \\r\\n); convert it, e.g. `dos2unix`",
                        )
                    )
                if empties.size and not cur.blank:
                    cur.blank = base + int(empties[0])
                cur.length += int(values.sum())
        elif not cur.blank:
            cur.blank = base
        if errors:
            k, message = min(errors, key=lambda e: e[0])  # stable: a bad byte wins
            raise self.error(message, base + k, cur.name)

    def _short_error(self, cur: _Record, after: int) -> InputError:
        line, n = cur.short
        return self.error(
            f"{n} bases on this line where the record's other lines hold {cur.linebases}, "
            f"and more sequence follows (line {after}); only a record's last line may be "
            f"shorter, so this FASTA cannot be indexed: {_REWRAP.format(path=self.path)}",
            line,
            cur.name,
        )


def scan_fasta(path: str | os.PathLike) -> list[FaiRecord]:
    """Read a FASTA once, check its layout, and return its index records in file order.

    Records with no sequence are included (``length`` 0); :func:`index_fasta` leaves them
    out of the ``.fai``, as ``samtools faidx`` does.

    Raises
    ------
    InputError
        Naming the file, the record and the line: the file holds no sequences (empty, or
        blank lines only); sequence before the first ``>`` header; a header without a
        name; two records of one name (with both line numbers); a space, tab or other
        non-printing character inside a sequence line; a sequence line longer than the
        record's first, or shorter but followed by more sequence (ragged lines); sequence
        after a blank line; mixed ``\\n`` and ``\\r\\n`` line endings in a record; a plain
        gzip (not bgzip) file.

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> scan_fasta(example_path("genome.fa"))[1][:5]
    ('chr2', 30000, 40679, 60, 61)
    """
    path = check_exists(path, "FASTA file")
    scanner = FastaScanner(path)
    for piece in decompressed_content(path):
        scanner.feed(piece)
    return scanner.finish()


def index_fasta(path: str | os.PathLike) -> list[FaiRecord]:
    """Check a FASTA (:func:`scan_fasta`) and write its ``.fai`` (and ``.gzi``) atomically.

    The index files are written to temporary names and renamed into place, so a failed or
    interrupted build never leaves a half-written index. Records with no sequence are
    left out of the ``.fai`` (as ``samtools faidx`` does) with a warning naming them.

    Returns
    -------
    list of FaiRecord
        The records written.

    Examples
    --------
    >>> import os, tempfile
    >>> fa = os.path.join(tempfile.mkdtemp(), "g.fa")
    >>> _ = open(fa, "w").write(">a\\nACGT\\nAC\\n>b\\nTT\\n")
    >>> [r.name for r in index_fasta(fa)], open(fa + ".fai").read().split("\\n")[0]
    (['a', 'b'], 'a\\t6\\t3\\t4\\t5')
    """
    path = check_exists(path, "FASTA file", random_access=True)
    scanner = FastaScanner(path)
    blocks: list[tuple[int, int]] = []
    for piece in decompressed_content(path, blocks):
        scanner.feed(piece)
    records = scanner.finish()
    kept = [r for r in records if r.length > 0]
    empty = [r for r in records if r.length == 0]
    if not kept:
        raise InputError(
            f"the FASTA holds no sequences (its {len(records)} record(s) are all empty)",
            source=path,
        )
    if empty:
        shown = ", ".join(f"{r.name!r} (line {r.line})" for r in empty[:5])
        warnings.warn(
            f"{path}: {len(empty)} record(s) without sequence left out: {shown}"
            f"{', ...' if len(empty) > 5 else ''}",
            UserWarning,
            stacklevel=2,
        )
    if is_gzip(path):
        gzi = struct.pack("<Q", max(len(blocks) - 1, 0)) + b"".join(
            struct.pack("<QQ", c, u) for c, u in blocks[1:]
        )
        write_file_atomic(path + ".gzi", gzi)
    text = "".join(
        f"{r.name}\t{r.length}\t{r.offset}\t{r.linebases}\t{r.linewidth}\n" for r in kept
    )
    write_file_atomic(path + ".fai", text.encode())
    return kept


def read_fai(fai: str) -> list[FaiRecord]:
    """The records of a ``.fai`` file (not checked against its FASTA: see
    :func:`index_problem`)."""
    records = []
    with open(fai, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            cols = line.rstrip(b"\r\n").split(b"\t")
            try:
                name = cols[0].decode("utf-8", errors="replace")
                length, offset, bases, width = (int(c) for c in cols[1:5])
            except (ValueError, IndexError):
                raise ValueError(f"line {lineno} of the index is not a .fai line") from None
            records.append(FaiRecord(name, length, offset, bases, width))
    return records


def _whitespace_or_headers(data: bytes) -> bool:
    """True if ``data`` holds only blank lines and header lines (of empty records)."""
    return all(not ln.strip() or ln.startswith(b">") for ln in data.split(b"\n"))


def _problem(path: str, fai: str) -> str | None:
    """Why the index ``fai`` does not describe ``path`` (a short phrase), or None."""
    try:
        records = read_fai(fai)
    except (OSError, ValueError) as err:
        return str(err)
    if not records:
        return "the index is empty"
    gzi = path + ".gzi"
    try:
        reader = BgzfFile(path, gzi) if is_gzip(path) else PlainFile(path)
    except FileNotFoundError:
        return f"there is no {gzi} (block index of the compressed FASTA)"
    except (OSError, ValueError, InputError) as err:
        return f"its block index {gzi} does not fit the file ({err})"
    try:
        return _check_records(reader, records)
    except InputError as err:  # a damaged compressed block
        return str(err)
    finally:
        reader.close()


def _check_records(reader, records: list[FaiRecord]) -> str | None:
    size = reader.size
    prev_end, names = 0, set()
    for rec in records:
        name, length, offset, bases, width = rec[:5]
        what = f"record {name!r} of the index"
        if name in names:
            return f"{what} is listed twice"
        names.add(name)
        if length < 0 or bases < 0 or (length and (bases < 1 or width - bases not in (1, 2))):
            return f"{what} has impossible line lengths ({bases} bases, {width} bytes)"
        if offset < prev_end or offset > size:
            return f"{what} starts at byte {offset}, outside the FASTA's records ({size} bytes)"
        # the header line just before the offset names the record
        back = _BACK
        while True:
            lo = max(0, offset - back)
            before = reader.read(lo, offset - lo)
            cut = before[:-1].rfind(b"\n")
            if cut >= 0 or lo == 0 or back >= _MAX_GAP:
                break
            back *= 4
        if not before.endswith(b"\n") or (cut < 0 and lo > 0):
            return f"{what} starts at byte {offset}, which is not the start of a line"
        header = before[cut + 1 :].rstrip(b"\r\n")
        if not header.startswith(b">") or header[1:].split(None, 1)[:1] != [name.encode()]:
            return (
                f"{what} starts at byte {offset}, but the line before it is "
                f"{header[:40].decode('utf-8', 'replace')!r}, not '>{name}'"
            )
        header_start = lo + cut + 1
        gap = header_start - prev_end
        if gap > _MAX_GAP or not _whitespace_or_headers(reader.read(prev_end, gap)):
            return f"the FASTA holds sequence before record {name!r} that the index does not"
        if length == 0:
            prev_end = offset
            continue
        term = width - bases
        n_lines = -(-length // bases)
        last = length - (n_lines - 1) * bases  # bases on the last line
        newline = b"\n" if term == 1 else b"\r\n"
        for start, n in ((offset, min(length, bases)), (offset + (n_lines - 1) * width, last)):
            line = reader.read(start, n + term)
            if len(line) < n or BAD_BYTE.search(line[:n]):
                return f"{what} does not match the sequence line at byte {start}"
            ending = line[n:]
            at_eof = start + len(line) == size and newline.startswith(ending)
            if ending != newline and not at_eof:
                return f"{what} expects a line of {n} bases at byte {start}"
        prev_end = offset + (n_lines - 1) * width + last
    tail = size - prev_end
    if tail > _MAX_GAP or not _whitespace_or_headers(reader.read(prev_end, tail)):
        return "the FASTA goes on after the last record of the index"
    return None


_valid_lock = threading.Lock()


def _identity(path: str) -> tuple:
    st = os.stat(path)
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def index_problem(path: str | os.PathLike) -> str | None:
    """Why the ``.fai`` next to a FASTA does not describe it, or None if it does.

    A cheap check (a few hundred bytes read per record, so fine for thousands of
    contigs): for every record of the index, the line just before its offset is its
    ``>name`` header, its first and last sequence lines have the lengths the index gives,
    only blank lines (or headers of empty records) lie between records, and the file ends
    after the last one. A compressed FASTA is read through its ``.gzi``. A result is
    remembered per process for the files' identities (size, times, inode).

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> index_problem(example_path("genome.fa")) is None
    True
    """
    path = os.path.abspath(check_exists(path, "FASTA file"))
    fai = path + ".fai"
    if not os.path.exists(fai):
        return f"there is no index {fai}"
    extra = (path + ".gzi",) if is_gzip(path) else ()
    try:
        key = (path, _identity(path), *(_identity(p) for p in (fai, *extra)))
    except FileNotFoundError as err:
        return f"there is no {err.filename}"
    if key in _valid:
        return None
    problem = _problem(path, fai)
    if problem is None:
        with _valid_lock:
            _valid.add(key)
    return problem


_valid: set[tuple] = set()


def remote_index_problem(url: str, fai: str, gzi: str | None) -> str | None:
    """Why the downloaded ``fai`` (and ``gzi``) do not describe the FASTA at ``url``, or None.

    The checks of :func:`index_problem`, made through range requests (64 kB blocks, a few
    per record: the line before each record's offset, its first and last sequence lines).
    The result is remembered in the folder of the downloaded index (keyed by the
    fingerprints of the FASTA and its index files, see
    :func:`genomarray.io.remote.fasta_index`), so each version is validated once.
    """
    from genomarray.io import remote

    marker = os.path.join(os.path.dirname(fai), "validated")
    if os.path.exists(marker):
        return None
    try:
        records = read_fai(fai)
    except ValueError as err:
        return str(err)
    if not records:
        return "the index is empty"
    fs, path = remote.filesystem(url)
    try:
        with fs.open(path, "rb", block_size=1 << 16, cache_type="blockcache") as fh:
            try:
                reader = PlainFile(url, fh) if gzi is None else BgzfFile(url, gzi, fh)
            except ValueError as err:
                return f"its block index {url}.gzi does not fit the file ({err})"
            try:
                problem = _check_records(reader, records)
            except InputError as err:  # a damaged compressed block
                problem = str(err)
    except Exception as err:  # noqa: BLE001 - every library's network errors, named below
        raise remote.diagnose(url, err, "check the FASTA against its index") from err
    if problem is None:
        write_file_atomic(marker, b"ok\n")
    return problem
