"""BGZF (bgzip) blocks: the compressed FASTA a region can be read from, block by block.

A plain gzip file has no block index and cannot be read by region: it is refused with the
command that recompresses it.
"""

from __future__ import annotations

import bisect
import os
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from genomarray.errors import InputError

READ_CHUNK = 1 << 24
"""Bytes read (or decompressed) at a time when a whole file is scanned."""


def is_gzip(path: str) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def bgzf_block_size(head: bytes) -> int:
    """Total size of the BGZF block whose first bytes are ``head``, or -1 if not BGZF."""
    if len(head) < 18 or head[:4] != b"\x1f\x8b\x08\x04":
        return -1
    (xlen,) = struct.unpack_from("<H", head, 10)
    p = 12
    while p + 4 <= min(12 + xlen, len(head)):
        si1, si2, slen = head[p], head[p + 1], struct.unpack_from("<H", head, p + 2)[0]
        if si1 == 66 and si2 == 67 and slen == 2 and p + 6 <= len(head):
            return struct.unpack_from("<H", head, p + 4)[0] + 1
        p += 4 + slen
    return -1


def not_bgzip(path: str) -> InputError:
    return InputError(
        "the FASTA is gzip- but not bgzip-compressed, so it cannot be read by region; "
        f"recompress it: `gunzip -c {path} | bgzip > {path[:-3]}.bgz.gz` "
        "(or decompress it)",
        source=path,
    )


def bgzf_blocks(fh, path: str, start: int = 0) -> Iterator[tuple[int, bytes]]:
    """Yield ``(compressed offset, raw block)`` of the BGZF blocks from ``start`` on."""
    fh.seek(start)
    offset = start
    while True:
        head = fh.read(18)
        if not head:
            return
        size = bgzf_block_size(head)
        if size < 0:
            if offset == 0:
                raise not_bgzip(path)
            raise InputError(
                f"no BGZF block at byte {offset} (the compressed file is damaged or "
                "truncated); write or copy it again",
                source=path,
            )
        rest = fh.read(size - 18)
        if len(rest) < size - 18:
            raise InputError(
                f"the file ends inside the BGZF block at byte {offset} (truncated); "
                "write or copy it again",
                source=path,
            )
        yield offset, head + rest
        offset += size


def inflate(block: bytes, path: str, offset: int) -> bytes:
    (xlen,) = struct.unpack_from("<H", block, 10)
    try:
        data = zlib.decompress(block[12 + xlen : -8], -15)
    except zlib.error as err:
        raise InputError(
            f"bad BGZF block at byte {offset} ({err}); write or copy the file again",
            source=path,
        ) from err
    if len(data) != struct.unpack_from("<I", block, len(block) - 4)[0]:
        raise InputError(f"the BGZF block at byte {offset} inflates to the wrong size", source=path)
    return data


class PlainFile:
    """Random reads of an uncompressed file (or of ``fh``, an open binary file object
    with a ``size``, such as an fsspec file of a URL)."""

    def __init__(self, path: str, fh: Any = None) -> None:
        self.fh = open(path, "rb") if fh is None else fh  # noqa: SIM115 - closed in close()
        self.size = os.fstat(self.fh.fileno()).st_size if fh is None else int(fh.size)

    def read(self, offset: int, n: int) -> bytes:
        self.fh.seek(offset)
        return self.fh.read(max(n, 0))

    def close(self) -> None:
        self.fh.close()


class BgzfFile:
    """Random reads at uncompressed offsets of a BGZF file, through its ``.gzi`` (the file
    read through ``fh`` if given, as :class:`PlainFile`)."""

    def __init__(self, path: str, gzi: str, fh: Any = None) -> None:
        with open(gzi, "rb") as index:
            data = index.read()
        if len(data) < 8:
            raise ValueError("the .gzi is truncated")
        (n,) = struct.unpack_from("<Q", data)
        if len(data) != 8 + 16 * n:
            raise ValueError("the .gzi has the wrong size")
        pairs = np.frombuffer(data, "<u8", 2 * n, 8).reshape(n, 2)
        self.coffsets = [0, *pairs[:, 0].tolist()]
        self.uoffsets = [0, *pairs[:, 1].tolist()]
        if self.coffsets != sorted(self.coffsets) or self.uoffsets != sorted(self.uoffsets):
            raise ValueError("the .gzi is not in order")
        self.path = path
        self.fh = open(path, "rb") if fh is None else fh  # noqa: SIM115 - closed in close()
        size = self.uoffsets[-1]
        for _, block in bgzf_blocks(self.fh, path, self.coffsets[-1]):
            size += struct.unpack_from("<I", block, len(block) - 4)[0]
        self.size = size

    def read(self, offset: int, n: int) -> bytes:
        i = bisect.bisect_right(self.uoffsets, offset) - 1
        pos, out = self.uoffsets[i], []
        have = 0
        for coff, block in bgzf_blocks(self.fh, self.path, self.coffsets[i]):
            data = inflate(block, self.path, coff)
            out.append(data)
            have += len(data)
            if pos + have >= offset + n:
                break
        return b"".join(out)[offset - pos : offset - pos + max(n, 0)]

    def close(self) -> None:
        self.fh.close()


def decompressed_content(path: str, blocks: list[tuple[int, int]] | None = None) -> Iterator[bytes]:
    """Yield the (uncompressed) bytes of ``path`` in pieces of about 16 MB; for a BGZF file
    append ``(compressed, uncompressed offset)`` of each non-empty block to ``blocks``."""
    with open(path, "rb") as fh:
        if fh.read(2) != b"\x1f\x8b":
            fh.seek(0)
            while piece := fh.read(READ_CHUNK):
                yield piece
            return
        pieces, n, uoffset = [], 0, 0
        for coffset, block in bgzf_blocks(fh, path):
            data = inflate(block, path, coffset)
            if not data:
                continue
            if blocks is not None:
                blocks.append((coffset, uoffset))
            uoffset += len(data)
            pieces.append(data)
            n += len(data)
            if n >= READ_CHUNK:
                yield b"".join(pieces)
                pieces, n = [], 0
        if pieces:
            yield b"".join(pieces)
