"""BAM reader: read counts (5' ends or per-base depth) as numpy blocks per region.

One cohesive topic, kept in one module on purpose: the counting rules (flags, MAPQ, pairs,
5' ends, depth) are one contract that both engines must give the same numbers for, and the
index, the read filters and the engine choice all serve it; the numba kernels of the fast
engine are apart in :mod:`genomarray.io.bam_fns`.

:class:`BamCounter` is the picklable reader that :func:`genomarray.genome.graph.genome_array`
calls once per ``(chrom, pos-chunk)`` task. It has two engines giving the same numbers:

``"fast"`` (BAM with a ``.bai`` index, numba installed)
    The ``.bai`` index (parsed here, SAM specification section 5.2) gives the
    virtual-offset ranges holding every record that can touch the region (htslib's region
    query: overlapping bins, linear-index pruning, merged ranges). Their BGZF blocks are
    read with plain file reads and inflated (ISA-L if ``isal`` is installed, else
    libdeflate if ``deflate`` is, else :mod:`zlib`); a numba kernel (``nogil``, compiled
    once and cached) parses the records, applies the filters and accumulates 5' sites or
    a CIGAR-aware difference array, stopping at the first record past the region. File
    reads, inflation and the kernel all release the GIL, so chunk tasks scale over
    threads. Measured once with the former ``bench_bam.py`` (2 M reads, 10 Mb, 1 Mb chunks, 2
    cores): coverage and 5' counts 3.2-3.5x as fast as ``samtools depth -a`` on 2 threads
    and 1.9-2.0x on one (ISA-L); 1.6-1.8x on 2 threads with zlib. The kernels compile
    once per installation (~2.5 s; numba's cache), later processes load them in ~0.3 s.
``"pysam"``
    An obviously-correct ``pysam`` fetch loop: the reference implementation, and the
    engine for CRAM files, CSI-indexed BAMs, and machines without numba
    (``engine="auto"`` falls back to it when ``import numba`` fails). About 1 M reads/s
    on one thread.

SAM text files are refused (:func:`check_bam` says how to convert them): they cannot be
read by region, and a genome-wide build reads one region per chunk task.

A BAM or CRAM **URL** (``http(s)://``) is read by the pysam engine (the fast engine reads
local files only; ``engine="auto"`` falls back to pysam): htslib fetches the records of each
region by range requests. Its index is downloaded by genomarray into its own output root
(:func:`genomarray.io.remote.bam_index`) and always passed to htslib, which so neither
writes one into the working folder nor uses a stale one found there. A CRAM URL needs
``reference=``; :func:`local_cram_references` keeps htslib off the EBI reference server.

Counting rules (Janggu's, with its off-by-one at reverse 5' ends fixed):

- Reads with a flag in ``exclude_flags`` or a MAPQ below ``min_mapq`` are skipped;
  unmapped reads (flag 0x4) always are, and so are reads without CIGAR or aligned bases.
- ``mode="5prime"``: a single-end read counts at its 5' end: ``reference_start`` on the
  forward strand, its last aligned base ``reference_end - 1`` on the reverse strand.
  Paired reads (flag 0x1) count only in proper pairs (0x2) with both mates on one
  chromosome. ``pairedend="5prime"``: **every mate** counts at its own 5' end, by the
  single-end rule, on its own strand (both ends of a fragment are cut sites in DNase- and
  ATAC-seq), as Janggu and ``bedtools genomecov -5`` on the proper pairs (``samtools view
  -f 2``) count. ``"midpoint"``: one count per fragment, via read 1, at
  ``min(reference_start, next_reference_start) + |TLEN| // 2`` on read 1's strand; pairs
  with ``|TLEN| > max_fragment`` are not counted, so that chunking never changes a count
  (raise ``max_fragment`` for long-insert libraries). ``template_extension`` has no effect
  in this mode.
- ``mode="coverage"``: per-base depth as ``samtools depth -a`` computes it: M, = and X
  CIGAR operations cover bases, D and N do not, I, S and H cover nothing; every read counts
  (both mates of a pair), on its own strand. With the default ``exclude_flags`` this equals
  ``samtools depth -a -G SUPPLEMENTARY`` (samtools counts supplementary reads by default).
  ``template_extension=E`` extends each read 3'-ward by ``E`` bases (deepTools-like,
  but *by* ``E`` where deepTools' ``--extendReads`` extends *to* a fragment length): a
  forward read also covers ``[reference_end, reference_end + E)``, a reverse one
  ``[reference_start - E, reference_start)``, clipped to the chromosome; deletions and
  splices inside the read stay uncovered.
- With ``resolution > 1`` the counts (depths) of the bases of a bin are summed. Sums are
  taken in int64; a bin whose sum does not fit the int32 result raises
  :class:`~genomarray.errors.InputError` (use a smaller resolution, or ``mode="5prime"``)
  rather than wrapping around.
"""

from __future__ import annotations

import os
import struct
import threading
import zlib
from dataclasses import dataclass, field

import numpy as np

from genomarray.errors import ChromosomeError, InputError, check_exists, missing_file
from genomarray.io import remote
from genomarray.io.handles import cached_handle, discard_handle

try:  # the fast engine needs numba; without it every file is read with pysam
    from genomarray.io import bam_fns as _fns
except Exception:  # pragma: no cover - numba missing or broken (e.g. too new a numpy)
    _fns = None

DEFAULT_EXCLUDE_FLAGS = 0x4 | 0x100 | 0x200 | 0x400 | 0x800
"""Unmapped, secondary, QC-fail, duplicate and supplementary reads are skipped by default."""

MODES = ("5prime", "coverage")
PAIREDEND = ("5prime", "midpoint")
ENGINES = ("auto", "fast", "pysam")


def _pick_inflater():
    """The fastest raw-deflate decompressor importable: ISA-L (``isal``), libdeflate
    (``deflate``), else :mod:`zlib`. All release the GIL; the first two inflate BGZF blocks
    about twice as fast as zlib (measured: 250 MB of BAM records in 0.25 s vs 0.54 s)."""
    try:
        from isal import isal_zlib

        return "isal", lambda data, n: isal_zlib.decompress(data, -15, n), isal_zlib.error
    except ImportError:
        pass
    try:
        import deflate

        return "deflate", deflate.deflate_decompress, deflate.DeflateError
    except ImportError:
        pass
    return "zlib", lambda data, n: zlib.decompress(data, -15, n), zlib.error


INFLATER, _inflate, _inflate_error = _pick_inflater()
"""Name of the inflater the fast engine uses (``"isal"``, ``"deflate"`` or ``"zlib"``)."""

_CONSUMES_REF = frozenset((0, 2, 3, 7, 8))  # CIGAR M, D, N, =, X
_SORT_HINT = "sort it: samtools sort -o sorted.bam {path} && samtools index sorted.bam"
_INT32_MAX = int(np.iinfo(np.int32).max)
_PIECE = 1 << 20  # compressed bytes read and inflated at a time (L2/L3 sized)
_BGZF_MAX = 1 << 16  # a BGZF block is at most 64 KiB, compressed and inflated


# -- checks and header facts -------------------------------------------------------------


def _index_path(path: str) -> str | None:
    """Return the BAI/CSI/CRAI index next to ``path`` (htslib's naming), or None."""
    stem = (
        path[:-4]
        if path.endswith((".bam", ".sam"))
        else path[:-5]
        if path.endswith(".cram")
        else path
    )
    for candidate in (
        path + ".bai",
        stem + ".bai",
        path + ".csi",
        stem + ".csi",
        path + ".crai",
        stem + ".crai",
    ):
        if os.path.exists(candidate):
            return candidate
    return None


def local_cram_references() -> None:
    """Point htslib's ``REF_PATH`` and ``REF_CACHE`` at a local folder if they are unset.

    Unset, htslib looks a CRAM's reference up by MD5 at the EBI reference server (a
    network call nobody asked for); genomarray sets both to
    ``<output root>/cram-ref/%2s/%2s/%s`` (an empty local cache) instead, so a CRAM whose
    reference is neither given (``reference=``) nor found at its header's ``UR`` path
    fails with htslib's error rather than reaching out. Values set by the user are kept.
    """
    from genomarray.paths import output_root

    cache = str(output_root() / "cram-ref" / "%2s" / "%2s" / "%s")
    os.environ.setdefault("REF_CACHE", cache)
    os.environ.setdefault("REF_PATH", cache)


def _is_cram(path: str) -> bool:
    name = path.split("?", 1)[0].lower()
    return name.endswith(".cram")


def _open_alignments(path: str, reference: str | None = None, fingerprint: str | None = None):
    """Open an alignment file with pysam, always naming its index (local or downloaded).

    For a URL the index is downloaded by :func:`genomarray.io.remote.bam_index` and passed
    as ``index_filename``, so htslib writes nothing into the working folder and never
    uses a stale index it finds there; ``fingerprint`` (when given) must still match the
    server's (else :class:`~genomarray.io.remote.RemoteError`). A CRAM URL needs its
    ``reference``.
    """
    import pysam

    kwargs: dict = {}
    cram = _is_cram(path)
    if cram:
        local_cram_references()
        if reference is not None:
            kwargs["reference_filename"] = remote.local_path(reference)
    if remote.is_url(path):
        if cram and reference is None:
            raise InputError(
                "a CRAM URL needs reference= (the FASTA it was written against, a local "
                "path or a URL): without it htslib would look the reference up elsewhere",
                source=path,
            )
        got = remote.bam_index(path)
        if fingerprint is not None and got.fingerprint != fingerprint:
            raise remote.changed_error(path, fingerprint)
        try:
            return pysam.AlignmentFile(
                path, "r", check_sq=False, index_filename=got.indexes[0], **kwargs
            )
        except (ValueError, OSError) as err:
            raise remote.diagnose(path, err, "open the alignments") from err
    index = _index_path(path)
    if index is not None:
        kwargs["index_filename"] = index
    try:
        return pysam.AlignmentFile(path, "r", check_sq=False, **kwargs)
    except (ValueError, OSError) as err:
        if "truncated" in str(err):
            raise InputError(
                f"the file is truncated ({err}); write or copy it again", source=path
            ) from err
        raise InputError(
            f"not a BAM, CRAM or SAM file (cannot read its header: {err})", source=path
        ) from err


def _coordinate_sorted_prefix(bam, limit: int = 100_000) -> bool:
    """True if the first ``limit`` records are in coordinate order."""
    last = (-1, -1)
    for i, aln in enumerate(bam.fetch(until_eof=True)):
        if i >= limit:
            break
        tid = aln.reference_id
        key = (tid if tid >= 0 else 1 << 62, aln.reference_start)
        if key < last:
            return False
        last = key
    return True


def _sam_error(path: str) -> InputError:
    """The error for a SAM text file, saying how to turn it into an indexed BAM."""
    stem = path
    for ext in (".sam.gz", ".sam"):
        if path.endswith(ext):
            stem = path[: -len(ext)]
            break
    return InputError(
        "SAM text files are not supported: they cannot be read by region, and a "
        "genome-wide build reads one region per chunk (rescanning the whole file each "
        "time); convert it to a sorted, indexed BAM: "
        f"`samtools sort -o {stem}.bam {path} && samtools index {stem}.bam`",
        source=path,
    )


def _checked_path(path: str | os.PathLike) -> str:
    """``path`` as a string: a URL as it is, a local file checked to exist."""
    path = remote.local_path(path)
    return path if remote.is_url(path) else check_exists(path, "BAM file", random_access=True)


def check_bam(path: str | os.PathLike, reference: str | None = None) -> None:
    """Check that ``path`` (a file or URL) is a coordinate-sorted, indexed BAM or CRAM file.

    A URL's index is looked for next to it on the server (and downloaded, see
    :func:`genomarray.io.remote.bam_index`); a CRAM URL needs ``reference``.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    InputError
        It is not an alignment file; or a SAM text file (plain or bgzipped: it cannot be
        read by region; the message says ``samtools sort -o x.bam x.sam && samtools index
        x.bam``); or a BAM/CRAM without index (the message says ``samtools index
        <path>``); or unsorted (``SO:unsorted``/``SO:queryname`` header, or records out of
        order) and so cannot be indexed (the message says how to sort).

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> check_bam(example_path("sample.bam"))
    >>> check_bam("nope.bam")
    Traceback (most recent call last):
    ...
    FileNotFoundError: BAM file not found: nope.bam
    """
    path = _checked_path(path)
    with _open_alignments(path, reference) as bam:
        if not (bam.is_bam or bam.is_cram):
            raise _sam_error(path)  # pysam cannot fetch regions of a SAM, even bgzipped
        if remote.is_url(path) or _index_path(path) is not None:
            return
        order = bam.header.to_dict().get("HD", {}).get("SO", "unknown")
        if order in ("unsorted", "queryname") or not _coordinate_sorted_prefix(bam):
            why = (
                f"header says SO:{order}"
                if order in ("unsorted", "queryname")
                else "records are not in coordinate order"
            )
            raise InputError(
                f"the BAM is not coordinate-sorted ({why}), so it cannot be "
                f"indexed; {_SORT_HINT.format(path=path)}",
                source=path,
            )
        kind, ext = ("BAM", "bai") if bam.is_bam else ("CRAM", "crai")
    raise InputError(
        f"the {kind} has no index (.{ext}); index it: "
        f"`samtools index {path}` (or in Python: `pysam.index({path!r})`)",
        source=path,
    )


def bam_chrom_sizes(path: str | os.PathLike, reference: str | None = None) -> dict[str, int]:
    """Return ``{chrom: length}`` from the header of a BAM/CRAM/SAM file (or URL).

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> bam_chrom_sizes(example_path("sample.bam"))
    {'chr1': 40000, 'chr2': 30000, 'chr3': 20000}
    """
    path = _checked_path(path)
    with _open_alignments(path, reference) as bam:
        return dict(zip(bam.references, bam.lengths, strict=True))


def mapped_reads(path: str | os.PathLike, reference: str | None = None) -> int:
    """Return the number of mapped records, ``-1`` if unknown, 0 only if there are none.

    An indexed BAM's count comes from its index. A CRAM index (``.crai``) keeps no counts,
    nor do indexes some tools write: then the file is only checked for a first mapped
    record, and ``-1`` (unknown, but not empty) is returned if there is one. Files without
    index (and SAM) are counted record by record.

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> mapped_reads(example_path("paired.bam")) > 0
    True
    """
    path = _checked_path(path)
    with _open_alignments(path, reference) as bam:
        indexed = remote.is_url(path) or _index_path(path) is not None
        if (bam.is_bam or bam.is_cram) and indexed:
            try:
                count = int(bam.mapped) if bam.is_bam else 0
            except (ValueError, AttributeError):
                count = 0
            if count > 0:
                return count
            # 0 may mean "no statistics" (CRAI; some BAI writers): look for a mapped read,
            # which in a coordinate-sorted file comes before any unplaced one
            reads = bam.fetch(until_eof=True)
            return -1 if any(not aln.is_unmapped for aln in reads) else 0
        return sum(1 for aln in bam.fetch(until_eof=True) if not aln.is_unmapped)


# -- the reader --------------------------------------------------------------------------


@dataclass(frozen=True)
class BamCounter:
    """Picklable reader of one BAM file: ``counter(chrom, start, end)`` -> int32 counts.

    Parameters
    ----------
    path
        BAM or CRAM file, sorted and indexed (SAM is refused, see :func:`check_bam`).
    mode
        ``"5prime"``: count reads at their 5' end (each mate of a proper pair at its own);
        ``"coverage"``: per-base read depth (``samtools depth -a``). See the module doc.
    stranded
        Two columns (``+``, ``-``) or one (their sum).
    min_mapq
        Skip reads with a lower mapping quality.
    pairedend
        Proper pairs in 5' mode: ``"5prime"`` (each mate at its own 5' end, on its own
        strand) or ``"midpoint"`` (one count per fragment, at its middle).
    template_extension
        Coverage mode: extend reads 3'-ward by this many bases (no effect in 5' mode).
    exclude_flags
        Skip reads with any of these SAM flags (default unmapped, secondary, QC-fail,
        duplicate, supplementary).
    resolution
        Bin size in bp: ``start, end`` are bins, bin ``p`` covers bp
        ``[p * resolution, (p + 1) * resolution)``.
    max_fragment
        Reads up to this far outside a chunk are fetched so that pairs (and extended
        reads) near chunk edges count; with ``pairedend="midpoint"`` pairs with a longer
        ``|TLEN|`` are not counted.
    engine
        ``"auto"`` (fast numba parser for indexed local BAMs, else pysam), ``"fast"`` or
        ``"pysam"``. All engines give the same counts. The fast engine reads local files
        only: ``"auto"`` reads a URL with pysam (htslib's range requests), ``"fast"``
        refuses one.
    reference
        CRAM only: the FASTA (path or URL) the CRAM was written against; required for a
        CRAM URL (see :func:`local_cram_references` for what happens without one).

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> cov = BamCounter(example_path("sample.bam"), mode="coverage")
    >>> block = cov("chr1", 0, 100)
    >>> block.shape, block.dtype
    ((100, 2), dtype('int32'))
    >>> five = BamCounter(example_path("sample.bam"), stranded=False, resolution=50)
    >>> five("chr1", 0, 4)[:, 0].tolist()  # 5' ends per 50 bp bin
    [2, 4, 3, 6]
    """

    path: str
    mode: str = "5prime"
    stranded: bool = True
    min_mapq: int = 0
    pairedend: str = "5prime"
    template_extension: int = 0
    exclude_flags: int = DEFAULT_EXCLUDE_FLAGS
    resolution: int = 1
    max_fragment: int = 2000
    engine: str = "auto"
    reference: str | None = None
    fingerprint: str | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", remote.local_path(self.path))
        if self.reference is not None:
            object.__setattr__(self, "reference", remote.local_path(self.reference))
        if self.mode not in MODES:
            raise InputError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.pairedend not in PAIREDEND:
            raise InputError(f"pairedend must be one of {PAIREDEND}, got {self.pairedend!r}")
        if self.engine not in ENGINES:
            raise InputError(f"engine must be one of {ENGINES}, got {self.engine!r}")
        for name in ("min_mapq", "template_extension", "exclude_flags", "max_fragment"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < 0:
                raise InputError(f"{name} must be a non-negative integer, got {value!r}")
        if not isinstance(self.resolution, int | np.integer) or self.resolution < 1:
            raise InputError(f"resolution must be a positive integer, got {self.resolution!r}")
        if remote.is_url(self.path):
            if self.engine == "fast":
                raise InputError(
                    "the fast engine reads local files only; engine='auto' (or 'pysam') "
                    "reads a URL with pysam",
                    source=self.path,
                )
            # the version seen now: a handle opened later (on a worker) must see the same
            fingerprint = remote.fingerprint_of(remote.remote_info(self.path))
            object.__setattr__(self, "fingerprint", fingerprint)

    @property
    def margin(self) -> int:
        """How far outside a region reads can still count inside it (bp)."""
        return self.template_extension if self.mode == "coverage" else self.max_fragment

    def __call__(self, chrom: str, start: int, end: int) -> np.ndarray:
        """Return counts of bins ``[start, end)`` of ``chrom``, int32 ``(end - start, 2|1)``.

        Bins past the chromosome end are 0.
        """
        start, end = int(start), int(end)
        if start < 0 or end < start:
            raise InputError(
                f"bad bin range {start}-{end}", source=self.path, record=f"{chrom}:{start}-{end}"
            )
        if self.engine != "pysam" and self.fingerprint is None:  # a local file
            info = _fast_info(self.path)
            if info is not None:
                return _count_fast(self, info, chrom, start, end)
            if self.engine == "fast":
                raise InputError(
                    "the fast engine needs numba and a BAM with a .bai index", source=self.path
                )
        return _count_pysam(self, chrom, start, end)


def _empty(counter: BamCounter, n_bins: int, dtype: type = np.int32) -> np.ndarray:
    return np.zeros((n_bins, 2 if counter.stranded else 1), dtype=dtype)


def _to_int32(
    counter: BamCounter, sums: np.ndarray, chrom: str, start: int, length: int
) -> np.ndarray:
    """Return the int64 per-bin sums ``sums`` (bins from ``start`` on) as int32.

    Raises
    ------
    InputError
        A sum exceeds the int32 maximum (summed depth of a big bin over deep coverage):
        the message names the file, the bin as ``chrom:start-end`` (bp, 0-based half-open)
        and the fixes, rather than letting the value wrap around to a negative one.
    """
    if sums.size and sums.max() > _INT32_MAX:
        k = int(np.flatnonzero((sums > _INT32_MAX).any(axis=1))[0])
        res = counter.resolution
        lo, hi = (start + k) * res, min((start + k + 1) * res, length)
        if counter.mode == "coverage":
            what, fix = (
                "summed read depth",
                ('a smaller resolution, or mode="5prime" (reads counted once, not once per base)'),
            )
        else:
            what, fix = "read count", "a smaller resolution"
        raise InputError(
            f"the {what} of this {res} bp bin, {int(sums[k].max())}, exceeds "
            f"the int32 maximum ({_INT32_MAX}); use {fix}",
            source=counter.path,
            record=f"{chrom}:{lo}-{hi}",
        )
    return sums.astype(np.int32)


def _unknown_chrom(counter: BamCounter, chrom: str, names) -> ChromosomeError:
    return ChromosomeError(
        f"chromosome {chrom!r} is not in the BAM header (it has "
        f"{', '.join(list(names)[:5])}{', ...' if len(names) > 5 else ''})",
        source=counter.path,
    )


# -- pysam engine ------------------------------------------------------------------------


def _pysam_handle(path: str, reference: str | None = None, fingerprint: str | None = None):
    """A pysam handle on ``path`` cached per process and thread, keyed on file identity
    (a URL: on its ``fingerprint``, checked against the server when it is opened)."""

    def opener(p: str):
        if fingerprint is not None:  # a URL: the index is downloaded, the version checked
            return _open_alignments(p, reference, fingerprint)
        check_bam(p, reference)
        return _open_alignments(p, reference)

    return cached_handle(
        path,
        opener,
        tag=(reference, fingerprint),
        missing=lambda p: missing_file(p, "BAM file"),
    )


def _guarded(reads, counter: BamCounter, chrom: str, lo: int, hi: int):
    """Yield from pysam's iterator ``reads``, turning htslib's read errors (a truncated or
    damaged BGZF block raises a bare ``OSError: truncated file``) into an InputError that
    names the file, the region and the failure (for a URL a RemoteError: the server is
    asked what went wrong)."""
    path = counter.path
    try:
        yield from reads
    except (OSError, ValueError) as err:
        discard_handle(path, (counter.reference, counter.fingerprint))  # state unknown
        if counter.fingerprint is not None:
            doing = f"read the alignments ({chrom}:{lo}-{hi})"
            raise remote.diagnose(path, err, doing) from err
        raise InputError(
            f"cannot read the alignments ({err}): the BAM is truncated or damaged; "
            f"write or copy it again (if it is intact, re-index it: `samtools index {path}`)",
            source=path,
            record=f"{chrom}:{lo}-{hi}",
        ) from err


def _count_pysam(counter: BamCounter, chrom: str, start: int, end: int) -> np.ndarray:
    """The reference engine: a plain pysam loop applying the rules of the module doc."""
    bam = _pysam_handle(counter.path, counter.reference, counter.fingerprint)
    if chrom not in bam.references:
        raise _unknown_chrom(counter, chrom, bam.references)
    length = bam.get_reference_length(chrom)
    res = counter.resolution
    out = _empty(counter, end - start)
    lo, hi = start * res, min(end * res, length)
    if hi <= lo:
        return out
    margin = counter.margin
    fetch_lo, fetch_hi = max(0, lo - margin), min(length, hi + margin)
    # a fresh region iterator per call (SAM, which would need one shared stream read to
    # its end, is refused by check_bam), so reusing the cached handle is safe
    reads = _guarded(bam.fetch(chrom, fetch_lo, fetch_hi), counter, chrom, lo, hi)
    coverage = counter.mode == "coverage"
    ext = counter.template_extension
    opens: tuple[list[int], list[int]] = ([], [])  # coverage: covered intervals per strand
    closes: tuple[list[int], list[int]] = ([], [])
    sites: tuple[list[int], list[int]] = ([], [])  # 5' mode: bins of the counted sites
    for aln in reads:
        flag = aln.flag
        if flag & counter.exclude_flags or flag & 4 or aln.mapping_quality < counter.min_mapq:
            continue
        ref_start, ref_end = aln.reference_start, aln.reference_end
        if ref_end is None or ref_end <= ref_start:
            continue
        if ref_end - ref_start == 1 and not any(
            op in _CONSUMES_REF for op, _ in aln.cigartuples
        ):  # htslib says 1 bp for a read with no aligned bases (only S/H/I)
            continue
        reverse = aln.is_reverse
        strand = 1 if reverse else 0
        if coverage:
            intervals = aln.get_blocks()
            if ext:
                intervals.append(
                    (ref_start - ext, ref_start) if reverse else (ref_end, ref_end + ext)
                )
            for a, b in intervals:
                a, b = max(a, lo), min(b, hi)
                if a < b:
                    opens[strand].append(a - lo)
                    closes[strand].append(b - lo)
            continue
        site = ref_end - 1 if reverse else ref_start  # single reads and pairs' mates
        if aln.is_paired:
            if not aln.is_proper_pair or aln.next_reference_id != aln.reference_id:
                continue
            if counter.pairedend == "midpoint":  # one per fragment, via read 1
                if aln.is_read2 or abs(aln.template_length) > counter.max_fragment:
                    continue
                frag_start = min(ref_start, aln.next_reference_start)
                site = frag_start + abs(aln.template_length) // 2
        if lo <= site < hi:
            sites[strand].append(site // res - start)
    n_bins, n_bases = end - start, hi - lo
    acc = np.zeros((2, n_bins), dtype=np.int64)
    for s in range(2):
        if not coverage:
            acc[s] = np.bincount(np.array(sites[s], np.int64), minlength=n_bins)
            continue
        diff = np.bincount(np.array(opens[s], np.int64), minlength=n_bases + 1) - np.bincount(
            np.array(closes[s], np.int64), minlength=n_bases + 1
        )
        depth = np.cumsum(diff[:n_bases])
        per_bin = np.add.reduceat(depth, np.arange(0, n_bases, res)) if res > 1 else depth
        acc[s, : len(per_bin)] = per_bin
    sums = acc.T if counter.stranded else acc.sum(axis=0)[:, None]
    return _to_int32(counter, sums, chrom, start, length)


# -- fast engine: BAI index + BGZF + numba -----------------------------------------------


def _reg2bins(beg: int, end: int) -> list[int]:
    """Bins overlapping ``[beg, end)`` (SAM specification 5.3)."""
    end -= 1
    bins = [0]
    for shift, first in ((26, 1), (23, 9), (20, 73), (17, 585), (14, 4681)):
        bins.extend(range(first + (beg >> shift), first + (end >> shift) + 1))
    return bins


class _BaiIndex:
    """A parsed ``.bai`` file: per reference, its bins' chunk lists and linear index."""

    def __init__(self, path: str) -> None:
        with open(path, "rb") as fh:
            data = fh.read()
        self.data = data
        if data[:4] != b"BAI\x01":
            raise InputError("not a BAI index (no 'BAI\\1' magic)", source=path)
        try:
            (n_ref,) = struct.unpack_from("<i", data, 4)
            p = 8
            self.refs: list[tuple[dict[int, tuple[int, int]], np.ndarray]] = []
            for _ in range(n_ref):
                (n_bin,) = struct.unpack_from("<i", data, p)
                p += 4
                bins: dict[int, tuple[int, int]] = {}
                for _ in range(n_bin):
                    bin_id, n_chunk = struct.unpack_from("<Ii", data, p)
                    bins[bin_id] = (p + 8, n_chunk)
                    p += 8 + 16 * n_chunk
                (n_intv,) = struct.unpack_from("<i", data, p)
                linear = np.frombuffer(data, "<u8", n_intv, p + 4)
                p += 4 + 8 * n_intv
                self.refs.append((bins, linear))
        except struct.error as err:
            raise InputError(f"truncated or corrupt BAI index ({err})", source=path) from err

    def chunks(self, tid: int, bin_id: int) -> np.ndarray:
        where = self.refs[tid][0].get(bin_id)
        if where is None:
            return np.empty((0, 2), np.uint64)
        return np.frombuffer(self.data, "<u8", 2 * where[1], where[0]).reshape(-1, 2)

    def region_chunks(self, tid: int, beg: int, end: int) -> list[tuple[int, int]]:
        """Virtual-offset ranges ``[beg, end)`` holding every record that overlaps
        ``[beg, end)`` of reference ``tid``, sorted and merged, as htslib's region query
        computes them (bins overlapping the region, chunks ending before the linear index's
        offset dropped). Ranges that meet in one BGZF block are merged, so no block is
        inflated twice; the scan stops at the first record past the region, so ranges of
        big bins further on are never read."""
        if tid >= len(self.refs):
            return []
        bins, linear = self.refs[tid]
        min_off = 0
        if len(linear):  # as hts_itr_query
            min_off = int(linear[min(beg >> 14, len(linear) - 1)])
            if min_off == 0:
                nonzero = np.flatnonzero(linear[: min(beg >> 14, len(linear))])
                min_off = int(linear[nonzero[-1]]) if len(nonzero) else 0
        parts = [self.chunks(tid, b) for b in _reg2bins(beg, end) if b in bins]
        if not parts:
            return []
        ch = np.concatenate(parts)
        ch = ch[ch[:, 1] > min_off]
        if not len(ch):
            return []
        merged: list[tuple[int, int]] = []
        cur_beg, cur_end = -1, -1
        for c_beg, c_end in ch[np.argsort(ch[:, 0], kind="stable")].tolist():
            if cur_end >= 0 and (c_beg >> 16) <= (cur_end >> 16):
                cur_end = max(cur_end, c_end)
                continue
            if cur_end >= 0:
                merged.append((cur_beg, cur_end))
            cur_beg, cur_end = c_beg, c_end
        merged.append((cur_beg, cur_end))
        return merged


@dataclass
class _FastInfo:
    path: str
    tids: dict[str, int]
    lengths: list[int]
    index: _BaiIndex


_fast_cache: dict[tuple, _FastInfo | None] = {}
_fast_lock = threading.Lock()
_local = threading.local()  # per-thread scratch buffers of the fast engine


def _fast_info(path: str) -> _FastInfo | None:
    """Header and parsed index of a BAM for the fast engine (cached per process and file
    identity), or None where the fast engine does not apply (no numba, not BAM, no .bai)."""
    if _fns is None:
        return None
    st = os.stat(check_exists(path, "BAM file"))
    bai = _index_path(path)
    bst = os.stat(bai) if bai is not None else None
    key = (
        path,
        (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino),
        bai,
        bst and (bst.st_size, bst.st_mtime_ns, bst.st_ctime_ns, bst.st_ino),
    )
    info = _fast_cache.get(key, False)
    if info is not False:
        return info
    with _fast_lock:
        if key in _fast_cache:
            return _fast_cache[key]
        check_bam(path)
        info = None
        with _open_alignments(path) as bam:
            is_bam = bam.is_bam
            names, lengths = list(bam.references), list(bam.lengths)
        if is_bam and bai is not None and bai.endswith(".bai"):
            with open(path, "rb") as fh:
                magic = fh.read(4)
            if magic[:2] == b"\x1f\x8b":  # BGZF (not an uncompressed BAM)
                index = _BaiIndex(bai)
                if len(index.refs) != len(names):
                    raise _corrupt(
                        path,
                        f"the index {bai} lists {len(index.refs)} "
                        f"references, the BAM header {len(names)}",
                    )
                info = _FastInfo(path, {n: i for i, n in enumerate(names)}, lengths, index)
        for old in [k for k in _fast_cache if k[0] == path]:
            del _fast_cache[old]
        _fast_cache[key] = info
        return info


def _corrupt(path: str, what: str) -> InputError:
    return InputError(
        f"{what}: the BAM is damaged, or its index does not belong to it (if "
        f"the BAM is intact, re-index it: `samtools index {path}`)",
        source=path,
    )


def _count_fast(
    counter: BamCounter, info: _FastInfo, chrom: str, start: int, end: int
) -> np.ndarray:
    tid = info.tids.get(chrom)
    if tid is None:
        raise _unknown_chrom(counter, chrom, info.tids)
    length = info.lengths[tid]
    res = counter.resolution
    out = _empty(counter, end - start)
    lo, hi = start * res, min(end * res, length)
    if hi <= lo:
        return out
    coverage = counter.mode == "coverage"
    fetch_lo, fetch_hi = max(0, lo - counter.margin), min(length, hi + counter.margin)
    scratch = _Scratch.get()
    acc = scratch.counts(2 * (hi - lo + 1 if coverage else end - start)).reshape(2, -1)
    chunks = info.index.region_chunks(tid, fetch_lo, fetch_hi)
    if chunks:
        params = (
            counter.exclude_flags,
            counter.min_mapq,
            coverage,
            counter.pairedend == "midpoint",
            counter.template_extension,
            counter.max_fragment,
            lo,
            hi,
            res,
            start,
            acc,
        )
        with open(info.path, "rb", buffering=0) as fh:
            scratch.size = os.fstat(fh.fileno()).st_size
            for chunk in chunks:
                if _scan_chunk(fh, info.path, scratch, chunk, tid, fetch_hi, params):
                    break
    if not coverage:
        _fns.finish_sites(acc, out, counter.stranded)
    elif _fns.finish_coverage(acc, lo, hi, res, start, out, counter.stranded):
        # a bin's depth sum passed the int32 maximum (it wrapped in ``out``): sum again in
        # int64 to raise the error naming the bin and value
        sums = _empty(counter, end - start, np.int64)
        _fns.finish_coverage(acc, lo, hi, res, start, sums, counter.stranded)
        return _to_int32(counter, sums, chrom, start, length)
    return out


class _Scratch:
    """Work buffers of the fast engine, reused by every call on one thread (fresh 1 MiB
    buffers would cost a page fault per 4 KiB on every call)."""

    def __init__(self) -> None:
        n = _PIECE // 18 + 2
        self.heads, self.starts = np.empty(n, np.int64), np.empty(n, np.int64)
        self.csizes, self.isizes = np.empty(n, np.int64), np.empty(n, np.int64)
        self.raw = np.empty(_PIECE, np.uint8)
        self.buf = np.empty(17 * _BGZF_MAX, np.uint8)
        self.acc = np.empty(0, np.int32)
        self.size = 0

    @staticmethod
    def get() -> _Scratch:
        scratch = getattr(_local, "scratch", None)
        if scratch is None:
            scratch = _local.scratch = _Scratch()
        return scratch

    def counts(self, n: int) -> np.ndarray:
        """A zeroed int32 accumulator of ``n`` values (the reused buffer's first ``n``)."""
        if len(self.acc) < n:
            self.acc = np.empty(n, np.int32)
        acc = self.acc[:n]
        acc.fill(0)
        return acc

    def buffer(self, n: int, keep: int) -> np.ndarray:
        """The work buffer, grown to at least ``n`` bytes, its first ``keep`` kept."""
        if len(self.buf) < n:
            new = np.empty(max(n, 2 * len(self.buf)), np.uint8)
            new[:keep] = self.buf[:keep]
            self.buf = new
        return self.buf


def _scan_chunk(
    fh, path: str, scratch: _Scratch, chunk: tuple[int, int], tid: int, fetch_hi: int, params: tuple
) -> bool:
    """Feed the records of one virtual-offset range to the kernel; True once a record past
    the fetched region was reached (no later range can count).

    Compressed data is read in pieces of up to 1 MiB; the BGZF blocks of a piece are
    inflated in groups of 1, 2, 4, ... 16 blocks, each group scanned before the next is
    inflated, so a small region inflates little more than it needs and a large one stays
    in the CPU cache.
    """
    coffset, skip = chunk[0] >> 16, chunk[0] & 0xFFFF
    end_c, end_u = chunk[1] >> 16, chunk[1] & 0xFFFF
    heads, starts, csizes, isizes = scratch.heads, scratch.starts, scratch.csizes, scratch.isizes
    kept = 0  # bytes of an incomplete record kept at the start of the work buffer
    group = 1
    check_first = True
    while True:
        want = min(end_c - coffset + (_BGZF_MAX if end_u else 0), _PIECE)
        if want <= 0:  # every block before the range's end is read
            if kept:
                raise _corrupt(path, "a BAM record runs past the end its index gives")
            return False
        raw = scratch.raw
        fh.seek(coffset)
        got = fh.readinto(memoryview(raw)[:want])
        k = _fns.bgzf_blocks(raw, got, heads, starts, csizes, isizes)
        if k < 0:
            raise _corrupt(path, f"no BGZF block at byte {coffset - k - 1}")
        if k == 0:
            raise _corrupt(path, "the file ends inside a BGZF block (truncated?)")
        view = memoryview(raw)
        heads_k, starts_k = heads[:k].tolist(), starts[:k].tolist()
        csizes_k, isizes_k = csizes[:k].tolist(), isizes[:k].tolist()
        i = 0
        while i < k:
            j = min(k, i + group)
            group = min(2 * group, 16)
            buf = scratch.buffer(kept + sum(isizes_k[i:j]), kept)
            pos = kept
            limit = -1
            for b in range(i, j):
                i = b + 1
                block = coffset + heads_k[b]
                if block > end_c or (block == end_c and end_u == 0):
                    limit = pos
                    break
                n = isizes_k[b]
                if n:
                    a = starts_k[b]
                    try:
                        data = _inflate(view[a : a + csizes_k[b]], n)
                    except _inflate_error as err:
                        raise _corrupt(path, f"bad BGZF block ({err})") from err
                    if len(data) != n:
                        raise _corrupt(path, "a BGZF block inflates to the wrong size")
                    buf[pos : pos + n] = np.frombuffer(data, np.uint8)
                if block == end_c:
                    limit = pos + end_u
                    pos += n
                    break
                pos += n
            valid = pos if limit < 0 else limit
            if valid > skip:
                offset, status = _fns.scan_records(
                    buf, valid, skip, tid, fetch_hi, check_first, *params
                )
                skip, check_first = 0, False
                if status == _fns.DONE:
                    return True
                if status == _fns.CORRUPT:
                    raise _corrupt(path, "a BAM record is malformed")
            else:
                offset = skip
            if limit >= 0:
                if offset != limit:
                    raise _corrupt(path, "a BAM record runs past the end its index gives")
                return False
            kept = pos - offset
            buf[:kept] = buf[offset:pos]
            skip = 0
        coffset += starts_k[-1] + csizes_k[-1] + 8
        if coffset >= scratch.size:
            raise _corrupt(path, "the file ends before the index says (truncated?)")
