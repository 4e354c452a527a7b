"""Per-base values of a local bigWig read straight from its data sections.

A bigWig's per-base records lie in zlib-compressed *sections* (bedGraph, varStep or
fixedStep items of one chromosome), found through an R-tree index. :class:`SectionReader`
walks that index for a region, reads the sections it names in one read per contiguous run
of bytes, inflates them with ISA-L (:mod:`isal.isal_zlib`, which releases the GIL, so
threads read chunks side by side) and lays the values out per base with a numba kernel
(:func:`genomarray.io.bigwig_fns.paint`, ``nogil``). pyBigWig holds the GIL while it
reads; pybigtools' reads of several chunks overlapped only in part where we measured.

Trust: every section header is checked against the index entry that points to it
(chromosome, range) and its item count against its inflated size; a section that does
not inflate, or disagrees, is an :class:`~genomarray.errors.InputError` naming the file,
the region and the byte offset. Records that overlap or are out of order (which the
bigWig format forbids and bedGraphToBigWig refuses) make :meth:`SectionReader.values`
return None, and the caller reads that region with a library instead, so the result is
never a guess. The file layout follows UCSC's ``bbiFile.h`` / ``bwgInternal.h``.
"""

from __future__ import annotations

import os
import struct
from typing import Any

import numpy as np

from genomarray.errors import InputError

__all__ = ["MAGIC", "SectionReader", "UnreadLayout", "section_reader"]

MAGIC = 0x888FFC26
"""The bigWig magic number (first and last 4 bytes of every bigWig)."""
_ORDER = "<"  # little-endian: the byte order read here (big-endian files: UnreadLayout)
_CHROM_TREE_MAGIC = 0x78CA8C91
_RTREE_MAGIC = 0x2468ACE0
_BEDGRAPH, _VARSTEP, _FIXEDSTEP = 1, 2, 3
_ITEM_BYTES = {_BEDGRAPH: 12, _VARSTEP: 8, _FIXEDSTEP: 4}
_MAX_GAP = 1 << 16
"""Sections closer than this many bytes in the file are read in one read."""


def _inflate() -> Any:
    try:
        from isal.isal_zlib import decompress
    except ImportError:  # pragma: no cover - isal is a dependency; zlib also frees the GIL
        from zlib import decompress
    return decompress


class UnreadLayout(ValueError):
    """A bigWig layout the section reader leaves to the libraries."""


def section_reader(path: str) -> SectionReader | None:
    """A :class:`SectionReader` on ``path``, or None where its layout is one the reader
    leaves to the libraries: big-endian files and files without compression (both rare,
    and not written by the tools these tests can run).

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> section_reader(example_path("sample.bw")) is not None
    True
    """
    try:
        return SectionReader(path)
    except UnreadLayout:
        return None


class SectionReader:
    """Per-base values of a local bigWig file, read from its data sections.

    Parameters
    ----------
    path
        A local bigWig file (its magic number and size already checked), little-endian
        and compressed (else :class:`UnreadLayout`).

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> r = SectionReader(example_path("sample.bw"))
    >>> r.chroms["chr1"], r.values("chr1", 0, 4).tolist()
    (40000, [1.0, 1.0, 1.0, 1.0])
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDONLY)
        try:
            self._size = os.fstat(self._fd).st_size
            self._read_header()
        except BaseException:
            self.close()
            raise

    # -- layout -------------------------------------------------------------------------
    def _pread(self, offset: int, n: int) -> bytes:
        if offset < 0 or n < 0 or offset + n > self._size:  # before allocating n bytes
            raise self._damaged(
                f"{n} bytes at byte {offset} run past the end of the file ({self._size} bytes)"
            )
        data = os.pread(self._fd, n, offset)
        if len(data) != n:
            raise self._damaged(f"{n} bytes at byte {offset} run past the end of the file")
        return data

    def _visit(self, seen: set[int], node: int, what: str) -> None:
        """Note ``node`` as read on this walk of a tree: a node reached twice means the
        damaged tree points back into itself (the walk would never end)."""
        if node in seen:
            raise self._damaged(f"the {what} points back to its node at byte {node}")
        seen.add(node)

    def _damaged(self, what: str, region: str | None = None) -> InputError:
        return InputError(
            f"the bigWig is damaged ({what}); write or copy it again",
            source=self.path,
            record=region,
        )

    def _read_header(self) -> None:
        head = self._pread(0, 64)
        if struct.unpack("<I", head[:4])[0] != MAGIC:
            raise UnreadLayout(f"{self.path}: a big-endian bigWig")
        o = _ORDER
        _, _, _, chrom_tree, _, index, *_ = struct.unpack(o + "IHHQQQHHQQIQ", head)
        if struct.unpack_from(o + "I", head, 52)[0] == 0:
            raise UnreadLayout(f"{self.path}: a bigWig without compression")
        self.chroms, self._ids = self._chrom_tree(chrom_tree)
        self._root = None  # a file without records (libBigWig writes index offset 0)
        if index:
            rtree = self._pread(index, 48)
            if struct.unpack_from(o + "I", rtree)[0] != _RTREE_MAGIC:
                raise self._damaged(f"no R-tree index at byte {index}")
            self._root = index + 48
        box = [(k, o + "u4") for k in ("c0", "b0", "c1", "b1")]  # first and last base
        self._leaf = np.dtype([*box, ("offset", o + "u8"), ("size", o + "u8")])
        self._inner = np.dtype([*box, ("child", o + "u8")])

    def _chrom_tree(self, offset: int) -> tuple[dict[str, int], dict[str, int]]:
        o = _ORDER
        magic, _, key_size, val_size, _ = struct.unpack(o + "IIIIQ", self._pread(offset, 24))
        if magic != _CHROM_TREE_MAGIC:
            raise self._damaged(f"no chromosome tree at byte {offset}")
        if val_size != 8:  # (chromosome id, size): what every bigWig holds
            raise self._damaged(f"chromosome tree values of {val_size} bytes, expected 8")
        sizes: dict[str, int] = {}
        ids: dict[str, int] = {}
        todo = [offset + 32]
        seen: set[int] = set()
        while todo:
            node = todo.pop()
            self._visit(seen, node, "chromosome tree")
            leaf, _, count = struct.unpack(o + "BBH", self._pread(node, 4))
            width = key_size + 8
            raw = self._pread(node + 4, count * width)
            for i in range(count):
                item = raw[i * width : (i + 1) * width]
                if leaf:
                    name = item[:key_size].rstrip(b"\0").decode("utf-8", "replace")
                    ids[name], sizes[name] = struct.unpack_from(o + "II", item, key_size)
                else:
                    todo.append(struct.unpack_from(o + "Q", item, key_size)[0])
        order = sorted(sizes, key=ids.__getitem__)
        return {c: sizes[c] for c in order}, ids

    def _sections(self, cid: int, start: int, end: int) -> np.ndarray:
        """The index's leaf entries (file offset, size, range) of the sections that may
        hold bases ``[start, end)`` of chromosome ``cid``, in file order."""
        found = []
        todo = [] if self._root is None else [self._root]
        seen: set[int] = set()
        while todo:
            node = todo.pop()
            self._visit(seen, node, "R-tree index")
            leaf, _, count = struct.unpack(_ORDER + "BBH", self._pread(node, 4))
            kind = self._leaf if leaf else self._inner
            items = np.frombuffer(self._pread(node + 4, count * kind.itemsize), kind)
            c0, b0 = items["c0"].astype(np.int64), items["b0"].astype(np.int64)
            c1, b1 = items["c1"].astype(np.int64), items["b1"].astype(np.int64)
            # (c0, b0) < (cid, end) and (c1, b1) > (cid, start): the entry overlaps
            hit = ((c0 < cid) | ((c0 == cid) & (b0 < end))) & (
                (c1 > cid) | ((c1 == cid) & (b1 > start))
            )
            if leaf:
                found.append(items[hit])
            else:
                todo.extend(int(c) for c in items["child"][hit])
        if not found:
            return np.zeros(0, self._leaf)
        got = np.concatenate(found)
        return got[np.argsort(got["offset"], kind="stable")]

    # -- values -------------------------------------------------------------------------
    def values(self, chrom: str, start: int, end: int, fill: float = np.nan) -> np.ndarray | None:
        """Per-base float32 values of ``[start, end)`` on ``chrom``, ``fill`` where no
        record covers a base; None where the records overlap or are out of order, or a
        section is not what its index entry says (read that region with a library).

        Raises
        ------
        KeyError
            ``chrom`` is not in the file.
        InputError
            A section does not inflate, or its size does not match its item count
            (names the byte offset).
        """
        from genomarray.io import bigwig_fns

        cid = self._ids[chrom]
        start, end = int(start), int(end)
        region = f"{chrom}:{start}-{end}"
        out = np.empty(max(end - start, 0), np.float32)
        if end <= start:
            return out
        entries = self._sections(cid, start, end)
        parts: list[Any] = []
        heads: list[tuple[int, ...]] = []
        word = 0
        for entry, raw in zip(entries, self._raw_sections(entries, region), strict=True):
            head = self._header(raw, entry, region)
            if head is None:
                return None  # a section unlike its index entry: a library reads it
            if head[0] != cid:
                continue  # another chromosome's section, listed by a straddling entry
            parts.append(raw)
            heads.append((word + 6, *head[1:]))  # items start after the 24-byte header
            word += len(raw) // 4
        table = np.array(heads, np.int64).reshape(-1, 6)
        joined = b"".join(parts)
        words = np.frombuffer(joined, _ORDER + "u4").astype(np.uint32, copy=False)  # native order
        values = np.frombuffer(joined, _ORDER + "f4").astype(np.float32, copy=False)
        status = bigwig_fns.paint(words, values, *table.T, start, end, np.float32(fill), out)
        return out if status == bigwig_fns.OK else None

    def _raw_sections(self, entries: np.ndarray, region: str):
        """The inflated bytes of each section in ``entries``, the bytes of nearby
        sections read together."""
        inflate = _inflate()
        offsets = entries["offset"].astype(np.int64)
        sizes = entries["size"].astype(np.int64)
        i = 0
        while i < len(entries):
            j = i + 1
            while j < len(entries) and offsets[j] - (offsets[j - 1] + sizes[j - 1]) < _MAX_GAP:
                j += 1
            lo = int(offsets[i])
            hi = int(max(offsets[k] + sizes[k] for k in range(i, j)))
            block = memoryview(self._pread(lo, hi - lo))
            for k in range(i, j):
                at = int(offsets[k])
                piece = block[at - lo : at - lo + int(sizes[k])]
                try:
                    inflated = inflate(piece)
                except Exception as err:  # isal's / zlib's error: the bytes are damaged
                    raise self._damaged(
                        f"the data section at byte {at} does not inflate ({err})", region
                    ) from None
                yield inflated
            i = j

    def _header(self, raw: Any, entry: np.void, region: str) -> tuple[int, ...] | None:
        """(chromosome id, type, items, start, step, span) of one inflated section; None
        where its chromosome is not one its index entry ``entry`` spans."""
        offset = int(entry["offset"])
        if len(raw) < 24:
            raise self._damaged(f"the data section at byte {offset} is {len(raw)} bytes", region)
        chrom_id, sec_start, _, step, span, kind, _, count = struct.unpack_from(
            _ORDER + "IIIIIBBH", raw
        )
        item = _ITEM_BYTES.get(kind)
        if item is None or len(raw) != 24 + count * item:
            raise self._damaged(
                f"the data section at byte {offset} has type {kind} and {count} items in "
                f"{len(raw)} bytes",
                region,
            )
        if not int(entry["c0"]) <= chrom_id <= int(entry["c1"]):
            return None
        return chrom_id, kind, count, sec_start, step, span

    def close(self) -> None:
        fd, self._fd = getattr(self, "_fd", None), None
        if fd is not None:
            os.close(fd)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - never raise from a finaliser
            pass
