"""Numba kernels of the fast BAM reader: parse decompressed BAM records and count them.

The kernels run with ``nogil=True``, so the chunk tasks of a build run them on several
threads at once, and ``cache=True``, so the JIT compiles once per installation (a few
seconds) and later processes load the machine code from numba's cache (~0.1 s).

Importing this module imports numba; :mod:`genomarray.io.bam` falls back to its pysam
reader when that fails. The kernels see the BAM record layout of the SAM specification
(section 4.2): ``block_size`` then 32 fixed bytes (refID, pos, l_read_name, mapq, bin,
n_cigar_op, flag, l_seq, next_refID, next_pos, tlen), read name, CIGAR, sequence,
qualities, tags.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# status codes returned by scan_records
NEED_MORE = 0  # the buffer ended inside a record: feed more data from ``offset`` on
DONE = 1  # a record past the region (or of another reference, or EOF marker) was reached
CORRUPT = -1  # a record that cannot be a BAM record

_CIGAR_CONSUMES_REF = np.array([1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0], np.int64)
_CIGAR_COVERS = np.array([1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0], np.int64)


@njit(inline="always")
def _u16(b, i):
    return np.int64(b[i]) | (np.int64(b[i + 1]) << 8)


@njit(inline="always")
def _u32(b, i):
    return (
        np.int64(b[i])
        | (np.int64(b[i + 1]) << 8)
        | (np.int64(b[i + 2]) << 16)
        | (np.int64(b[i + 3]) << 24)
    )


@njit(inline="always")
def _i32(b, i):
    v = _u32(b, i)
    if v >= 2147483648:
        v -= 4294967296
    return v


@njit(nogil=True, cache=True)
def _find_cg_tag(b, p, stop):
    """Return ``(offset, count)`` of the ``CG:B:I`` tag's values in ``b[p:stop]``, or
    ``(-1, 0)``. Long CIGARs (> 65535 operations) are stored there (SAM spec 4.2.2)."""
    while p + 3 <= stop:
        t0 = b[p]
        t1 = b[p + 1]
        ty = b[p + 2]
        p += 3
        if ty == 65 or ty == 99 or ty == 67:  # A c C
            p += 1
        elif ty == 115 or ty == 83:  # s S
            p += 2
        elif ty == 105 or ty == 73 or ty == 102:  # i I f
            p += 4
        elif ty == 90 or ty == 72:  # Z H: NUL-terminated
            while p < stop and b[p] != 0:
                p += 1
            p += 1
        elif ty == 66:  # B: subtype, int32 count, values
            if p + 5 > stop:
                return -1, 0
            sub = b[p]
            count = _i32(b, p + 1)
            if t0 == 67 and t1 == 71 and sub == 73:  # CG:B:I
                return p + 5, count
            size = 1
            if sub == 115 or sub == 83:
                size = 2
            elif sub == 105 or sub == 73 or sub == 102:
                size = 4
            p += 5 + count * size
        else:
            return -1, 0
    return -1, 0


@njit(inline="always")
def _add_interval(diff, strand, a, b, lo, hi):
    if a < lo:
        a = lo
    if b > hi:
        b = hi
    if a < b:
        diff[strand, a - lo] += 1
        diff[strand, b - lo] -= 1


@njit(nogil=True, cache=True)
def scan_records(
    buf,
    n,
    offset,
    tid,
    fetch_end,
    check_first,
    exclude_flags,
    min_mapq,
    coverage,
    midpoint,
    extension,
    max_fragment,
    lo,
    hi,
    resolution,
    bin0,
    acc,
):
    """Count the records of ``buf[offset:n]`` into ``acc``; return ``(offset, status)``.

    Parameters
    ----------
    buf, n
        Decompressed BAM data (uint8) and how much of it is valid.
    offset
        Where the first record starts.
    tid, fetch_end
        Reference id and end of the fetched interval: the scan stops (``DONE``) at the
        first record of another reference or starting at or after ``fetch_end``.
    check_first
        The first record must be one of ``tid`` (the index said so), else ``CORRUPT``.
    exclude_flags, min_mapq
        Records with any of these flags, or a lower MAPQ, are skipped (unmapped ones always).
    coverage
        True: add every read's aligned blocks (M, =, X) to the difference array ``acc``
        (shape ``(2, hi - lo + 1)``, base ``lo``). False: add each read's 5' site (every
        mate of a proper pair at its own; with ``midpoint`` one site per proper pair) to
        ``acc`` (shape ``(2, n_bins)``) at bin ``site // resolution - bin0``.
    midpoint, extension, max_fragment
        Count proper pairs once, at their midpoint, instead of each mate at its 5' end;
        3'-ward extension of reads in coverage mode; pairs with a longer ``|TLEN|`` are
        skipped (midpoint only).
    lo, hi
        Only sites (bases) in ``[lo, hi)`` are counted.

    Returns
    -------
    tuple of int
        The offset of the first record not consumed and the status: ``NEED_MORE`` (the
        buffer ends inside the record at ``offset``), ``DONE`` or ``CORRUPT``.
    """
    while True:
        if offset + 4 > n:
            return offset, NEED_MORE
        size = _i32(buf, offset)
        if size < 32:
            return offset, CORRUPT
        if offset + 4 + size > n:
            return offset, NEED_MORE
        p = offset + 4
        stop = p + size
        offset = stop
        ref = _i32(buf, p)
        l_name = np.int64(buf[p + 8])
        n_cigar = _u16(buf, p + 12)
        l_seq = _i32(buf, p + 16)
        if (
            l_name < 1
            or l_seq < 0
            or 32 + l_name + 4 * n_cigar + (l_seq + 1) // 2 + l_seq > size
            or buf[p + 32 + l_name - 1] != 0
        ):
            return p - 4, CORRUPT
        if check_first and ref != tid:
            return p - 4, CORRUPT
        check_first = False
        if ref != tid:
            if 0 <= ref < tid:  # cannot happen in a sorted file; harmless to skip
                continue
            return p - 4, DONE
        pos = _i32(buf, p + 4)
        if pos >= fetch_end:
            return p - 4, DONE
        flag = _u16(buf, p + 14)
        if (flag & exclude_flags) != 0 or (flag & 4) != 0:
            continue
        if np.int64(buf[p + 9]) < min_mapq:
            continue
        cig = p + 32 + l_name
        if n_cigar == 0:
            continue
        if (
            n_cigar == 2
            and (_u32(buf, cig) & 15) == 4
            and (_u32(buf, cig) >> 4) == l_seq
            and (_u32(buf, cig + 4) & 15) == 3
        ):
            # placeholder "<l_seq>S<rlen>N": the real CIGAR is in the CG:B:I tag
            tags = cig + 8 + (l_seq + 1) // 2 + l_seq
            cg, count = _find_cg_tag(buf, tags, stop)
            if cg >= 0 and cg + 4 * count <= stop:
                cig = cg
                n_cigar = count
        rlen = 0
        for k in range(n_cigar):
            op = _u32(buf, cig + 4 * k)
            rlen += _CIGAR_CONSUMES_REF[op & 15] * (op >> 4)
        if rlen <= 0:
            continue
        end = pos + rlen
        reverse = (flag & 16) != 0
        strand = 1 if reverse else 0
        if coverage:
            r = pos
            for k in range(n_cigar):
                op = _u32(buf, cig + 4 * k)
                length = op >> 4
                if _CIGAR_COVERS[op & 15]:
                    _add_interval(acc, strand, r, r + length, lo, hi)
                r += _CIGAR_CONSUMES_REF[op & 15] * length
            if extension > 0:
                if reverse:
                    _add_interval(acc, strand, pos - extension, pos, lo, hi)
                else:
                    _add_interval(acc, strand, end, end + extension, lo, hi)
            continue
        site = end - 1 if reverse else pos  # single reads and each mate of a pair
        if flag & 1:  # paired: only proper pairs with both mates on this chromosome
            if (flag & 2) == 0 or _i32(buf, p + 20) != ref:
                continue
            if midpoint:  # one count per fragment, via read 1
                if (flag & 128) != 0:
                    continue
                tlen = _i32(buf, p + 28)
                if tlen < 0:
                    tlen = -tlen
                if tlen > max_fragment:
                    continue
                site = min(pos, _i32(buf, p + 24)) + tlen // 2
        if lo <= site < hi:
            acc[strand, site // resolution - bin0] += 1


_INT32_MAX = 2147483647


@njit(nogil=True, cache=True)
def finish_coverage(diff, lo, hi, resolution, bin0, out, stranded):
    """Turn the difference array of bases ``[lo, hi)`` into per-bin depth sums in ``out``
    (int32 or int64, ``(n_bins, 2 or 1)``, bin ``k`` = bin ``bin0 + k``).

    Sums are taken in int64. Returns True if a value of ``out`` passes the int32 maximum
    (a bin's sum is depth times up to ``resolution`` bases: depth 60,000 over 50 kb bins
    is 3e9): an int32 ``out`` then holds wrapped values, and the caller recomputes into an
    int64 ``out`` to report the bin (``diff`` is left as it was).
    """
    overflow = False
    for s in range(2):
        depth = np.int64(0)
        col = s if stranded else 0
        if resolution == 1:
            for i in range(hi - lo):
                depth += diff[s, i]
                v = np.int64(out[i, col]) + depth
                if v > _INT32_MAX:
                    overflow = True
                out[i, col] = v
            continue
        k = lo // resolution - bin0
        left = resolution - lo % resolution  # bases left in bin k
        total = np.int64(0)
        for i in range(hi - lo):
            depth += diff[s, i]
            total += depth
            left -= 1
            if left == 0:
                v = np.int64(out[k, col]) + total
                if v > _INT32_MAX:
                    overflow = True
                out[k, col] = v
                total = 0
                k += 1
                left = resolution
        if total:
            v = np.int64(out[k, col]) + total
            if v > _INT32_MAX:
                overflow = True
            out[k, col] = v
    return overflow


@njit(nogil=True, cache=True)
def finish_sites(acc, out, stranded):
    """Copy per-bin site counts ``acc`` (``(2, n_bins)``) into ``out`` (``(n_bins, 2|1)``)."""
    for k in range(acc.shape[1]):
        if stranded:
            out[k, 0] = acc[0, k]
            out[k, 1] = acc[1, k]
        else:
            out[k, 0] = acc[0, k] + acc[1, k]


@njit(nogil=True, cache=True)
def bgzf_blocks(data, n, heads, starts, csizes, isizes):
    """Find the complete BGZF blocks of ``data[:n]``; return how many were found.

    ``heads[i]`` is the offset of block ``i`` (its gzip header), ``starts[i]`` the offset
    of its compressed deflate stream, ``csizes[i]``
    its length and ``isizes[i]`` its decompressed size. Returns ``-(offset + 1)`` of a
    block that does not start with a BGZF header.
    """
    p = 0
    k = 0
    while p + 18 <= n and k < len(starts):
        if data[p] != 31 or data[p + 1] != 139 or data[p + 2] != 8 or (data[p + 3] & 4) == 0:
            return -(p + 1)
        xlen = _u16(data, p + 10)
        q = p + 12
        bsize = -1
        while q + 4 <= p + 12 + xlen:
            slen = _u16(data, q + 2)
            if data[q] == 66 and data[q + 1] == 67 and slen == 2:
                bsize = _u16(data, q + 4) + 1
            q += 4 + slen
        if bsize < 0:
            return -(p + 1)
        if p + bsize > n:
            break
        heads[k] = p
        starts[k] = p + 12 + xlen
        csizes[k] = bsize - 12 - xlen - 8
        isizes[k] = _u32(data, p + bsize - 4)
        k += 1
        p += bsize
    return k
