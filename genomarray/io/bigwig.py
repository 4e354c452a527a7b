"""bigWig reader: float32 blocks of a signal track for ``(chrom, start, end)`` in bins.

:class:`BigWigReader` is a picklable callable for :func:`genomarray.genome.graph.genome_array`:
``reader(chrom, start, end)`` returns the ``(end - start, 1)`` float32 block of bins
``[start, end)`` of ``resolution`` bp each (bin ``p`` covers bp ``[p * resolution,
(p + 1) * resolution)``; the last bin of a chromosome may be partial; bins past the
chromosome end are 0). A block always equals the same slice of the whole-chromosome result.

Two libraries read bigWig files here (``backend=``):

- **pybigtools** (Rust; used when installed, ``backend="auto"``): per-base reads measured
  ~2x faster than pyBigWig on 1 Mb chunks, and it reads zoom levels in one pass: binned
  reads at resolution 50 from zoom records took 1.4 ms per Mb, against 14 ms per Mb from
  per-base values and ~1.3 s per Mb through pyBigWig's ``stats`` (which walks the index and
  decompresses a block once per bin).
- **pyBigWig** (C): per-base ``values(numpy=True)``; binned reads are always computed
  exactly from per-base values (pyBigWig's zoom ``stats`` are slower than that, and its
  zoom ``type="sum"`` returned wrong numbers with pyBigWig 0.3.29).

Per-base values of large local files (:data:`SECTIONS_MIN_BYTES`, or always with
``backend="genomarray"``) are read by genomarray's own section reader
(:mod:`genomarray.io.bigwig_blocks`): it inflates a chunk's data sections with ISA-L and
lays them out with a ``nogil`` numba kernel, so the chunks of a build are read side by
side in threads; a 60 Mb dense track (200 MB file) read in 1 Mb chunks on 2 threads took
0.74-0.96 s against pybigtools' 0.88-1.72 s. Records the format forbids (overlapping,
out of order) are left to the library, which reads that region.

Handles are not picklable, so each process and thread opens its own, cached on the file's
identity (path, size, times, inode): a rewritten file is reopened, never read through a
stale handle.

URLs (``http(s)://``) are read by pybigtools through range requests, with the same checks
(magic numbers, header offsets: a ``HEAD`` and two small range reads) and the same
summaries as local files. A reader remembers the URL's fingerprint (size, ETag,
Last-Modified) when it is made; a handle opened later (on a worker) checks that the server
still has that version, else :class:`~genomarray.io.remote.RemoteError`. Network failures
are :class:`~genomarray.io.remote.RemoteError` naming the URL and the cause.

Bad files: every bigWig writer (UCSC's tools, libBigWig/pyBigWig, bigtools) ends the file
with the magic number it starts with, and UCSC's tools check both; a file that does not, or
whose header points past its end, is reported as truncated before any read. Whatever a
reader library raises while reading (pybigtools' ``BBIReadError`` or a Rust panic,
pyBigWig's ``RuntimeError``, ...) is re-raised by :func:`reading` as an
:class:`~genomarray.errors.InputError` naming the file, the region and the failure.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genomarray.errors import ChromosomeError, InputError
from genomarray.io.bigwig_blocks import MAGIC as _MAGIC
from genomarray.io.handles import ANY_TAG, cached_handle, discard_handle
from genomarray.io.remote import (
    changed_error,
    diagnose,
    fingerprint_of,
    is_url,
    read_range,
    remote_info,
)
from genomarray.threads import scratch

__all__ = [
    "HOWS",
    "BigWigNotFoundError",
    "BigWigReader",
    "bigwig_chrom_sizes",
    "bigwig_zoom_levels",
    "reading",
]

HOWS = ("mean", "max", "min", "sum", "coverage")
"""Per-bin summaries :class:`BigWigReader` computes at ``resolution > 1``."""

BACKENDS = ("auto", "pybigtools", "pybigwig", "genomarray")
"""Values of ``BigWigReader.backend``."""

SECTIONS_MIN_BYTES = 128 << 20
"""``backend="auto"`` reads per-base values of local bigWigs at least this large with
genomarray's own section reader (:mod:`genomarray.io.bigwig_blocks`). Its numba kernel
costs ~0.5 s once per process (numba's start), which a read of this much data gains
back; smaller files are read by the library."""

_BLOCK_BP = 1 << 22  # exact binned reads hold at most this many bases at once
_PYBIGTOOLS_SUMMARY = {
    "mean": "mean",
    "max": "max",
    "min": "min",
    "sum": "sum",
    "coverage": "bin_covered",
}


class BigWigNotFoundError(InputError, FileNotFoundError):
    """A bigWig file that does not exist (both an InputError and a FileNotFoundError)."""


_LIBRARY_ERRORS = (OSError, RuntimeError, ValueError, EOFError, struct.error, zlib.error)


@contextmanager
def reading(path: str, region: str | None = None) -> Iterator[None]:
    """Re-raise what a bigWig library raises inside the block as an InputError naming the
    file, the region read (if any) and the failure; genomarray's own errors pass as they are.

    pybigtools reports a damaged file with ``BBIReadError`` (an ``Exception``) or, from
    some code paths, a Rust panic (``pyo3_runtime.PanicException``, a ``BaseException``);
    pyBigWig with a ``RuntimeError``. The shared handle is discarded, so a later read
    opens the file afresh.

    Examples
    --------
    >>> with reading("x.bw", "chr1:0-10"):
    ...     raise RuntimeError("An error occurred while fetching values!")
    Traceback (most recent call last):
    ...
    genomarray.errors.InputError: x.bw, chr1:0-10: cannot read the bigWig (RuntimeError: ...
    """
    try:
        yield
    except InputError:
        raise
    except BaseException as err:
        library = isinstance(err, _LIBRARY_ERRORS) or type(err).__name__ in (
            "BBIReadError",
            "PanicException",
        )
        if not library:
            raise
        for backend in BACKENDS:
            discard_handle(path, backend)
        if is_url(path):
            discard_handle(path, ANY_TAG)  # keyed on (backend, fingerprint)
            doing = "read the bigWig" + (f" ({region})" if region else "")
            raise diagnose(path, err, doing, probe=True) from err
        raise InputError(
            f"cannot read the bigWig ({type(err).__name__}: {err}): the file is truncated "
            "or damaged; write or copy it again",
            source=path,
            record=region,
        ) from err


# -- public API -------------------------------------------------------------------------
@dataclass(frozen=True)
class BigWigReader:
    """Read a bigWig track as float32 blocks of bins: ``reader(chrom, start, end)``.

    Parameters
    ----------
    path
        The bigWig file.
    resolution
        Bin size in bp; ``start, end`` of a call count bins of this size.
    how
        Per-bin summary at ``resolution > 1``, one of :data:`HOWS`:

        - ``"mean"``: the mean over **all** bases of the bin, uncovered bases counting as 0
          when ``nan_to_num`` (so it equals per-base values with NaN -> 0, then averaged);
          with ``nan_to_num=False`` the mean over the *covered* bases only, NaN where no
          base is covered (per-base values, then ``np.nanmean``);
        - ``"max"``, ``"min"``: over all bases with uncovered = 0 when ``nan_to_num``, over
          the covered bases otherwise (NaN where none is);
        - ``"sum"``: the sum of the values (uncovered add 0; NaN where none is covered and
          not ``nan_to_num``);
        - ``"coverage"``: the fraction of the bin's bases that the file covers (0 to 1).

        A partial last bin is summarised over its real bases. At ``resolution=1`` every
        summary is the base's value (``"coverage"``: 1 where covered, else 0).
    nan_to_num
        Uncovered bases (no bigWig record) read as 0; else NaN.
    exact
        ``False`` (default): at ``resolution > 1``, summarise from the file's zoom levels
        when one applies (fast, approximate; see Notes). ``True``: exact statistics from
        the per-base values.
    backend
        ``"auto"`` (pybigtools if installed, else pyBigWig; per-base values of local
        files of at least :data:`SECTIONS_MIN_BYTES` by genomarray's section reader),
        ``"pybigtools"``, ``"pybigwig"`` (that library only) or ``"genomarray"``
        (per-base values of local files always by the section reader, which inflates
        and lays out sections in parallel threads, about 2x pybigtools' speed on two
        cores; zoom summaries by the library). The values are the same whichever reads
        them, except where the libraries themselves differ: a file without records
        (the section reader reads it as all uncovered; through pyBigWig or pybigtools
        the read fails) and fixedStep items longer than their step (which the section
        reader leaves to the library: pybigtools adds the overlapping values, pyBigWig
        keeps the later one).
        With ``"pybigwig"`` binned reads are always exact.

    Notes
    -----
    **Zoom levels.** A bigWig stores, next to its per-base records, zoom levels: summaries
    (covered bases, sum, sum of squares, min, max) of consecutive stretches of ``z`` bp, for
    a few reduction levels ``z`` (pyBigWig writes 4x the mean record length, then x4 each
    level). As in UCSC's tools and libBigWig, bins are summarised from the coarsest level
    with ``z <= resolution // 2`` (pybigtools picks it); if there is none (``resolution``
    below twice the finest level) the bins are computed exactly, so the result equals
    ``exact=True``.

    A zoom record does not start on bin boundaries (pyBigWig starts records at the first
    covered base after the previous one), so a record straddling two bins is split between
    them in proportion to its overlap, as if its signal were uniform along it. Hence, with
    ``exact=False``:

    - ``"mean"``, ``"sum"`` and ``"coverage"`` move mass between neighbouring bins (the
      total over a long region is kept, to float32 rounding). The error grows with
      ``z / resolution``; measured mean absolute error of ``"mean"``, relative to the mean
      signal: 3.9 % at resolution 50 with ``z = 16`` (10 Mb track of 1-2 bp records,
      measured with the former ``bench_bigwig.py``); on ``sample.bw`` (``z = 64, 256``)
      9.7 % at 128,
      1.3 % at 1000, 0.5 % at 3000. ``"coverage"`` errs by < 0.2 %;
    - ``"max"`` / ``"min"`` are taken over every record touching the bin, so they may come
      from up to ``z`` bp outside it: ``max`` is >= the exact one, ``min`` <= it.

    Zoom summaries know only covered-base counts, so "mean over covered bases" (what
    libBigWig's and UCSC's zoom ``mean`` returns) differs from the mean over all bases by
    the covered fraction; this reader returns the latter when ``nan_to_num`` (pybigtools'
    ``uncovered=0``), and the former otherwise. Use ``exact=True`` where bins must match
    per-base values exactly (e.g. targets); zoom reads suit inputs and plots.

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> reader = BigWigReader(example_path("sample.bw"))
    >>> reader("chr1", 0, 4).ravel().tolist()
    [1.0, 1.0, 1.0, 1.0]
    >>> binned = BigWigReader(example_path("sample.bw"), resolution=10, exact=True)
    >>> binned("chr1", 0, 2).shape
    (2, 1)
    """

    path: str
    resolution: int = 1
    how: str = "mean"
    nan_to_num: bool = True
    exact: bool = False
    backend: str = "auto"
    fingerprint: str | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", os.fspath(self.path))
        res = self.resolution
        if isinstance(res, (bool, np.bool_)) or not isinstance(res, (int, np.integer)) or res < 1:
            raise InputError(f"resolution must be an integer >= 1, got {res!r}", source=self.path)
        object.__setattr__(self, "resolution", int(res))
        if self.how not in HOWS:
            raise InputError(
                f"how must be one of {', '.join(HOWS)}, got {self.how!r}", source=self.path
            )
        if self.backend not in BACKENDS:
            raise InputError(
                f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}",
                source=self.path,
            )
        # a URL's fingerprint (size, ETag, Last-Modified) as seen now: a handle opened
        # later (on a worker) checks that the file is still the same
        object.__setattr__(self, "fingerprint", _check_file(self.path, self.backend))

    def __call__(self, chrom: str, start: int, end: int) -> np.ndarray:
        """Return bins ``[start, end)`` of ``chrom`` as float32 of shape ``(end - start, 1)``.

        Raises
        ------
        ChromosomeError
            ``chrom`` is not in the file (an InputError naming the file and chromosome).
        """
        start, end = int(start), int(end)
        if start < 0 or end < start:
            raise InputError(
                f"invalid bin range {start}-{end}", source=self.path, record=str(chrom)
            )
        handle = _handle(self.path, self.backend, self.fingerprint)
        length = handle.length(chrom)
        with reading(self.path, f"{chrom}:{start * self.resolution}-{end * self.resolution}"):
            return self._read(handle, chrom, start, end, length)

    def _read(self, handle: _Handle, chrom: str, start: int, end: int, length: int):
        res = self.resolution
        if res == 1 and start < end <= length:  # a whole block: the values as read
            values = self._per_base(handle.values(chrom, start, end, self._uncovered))
            return np.asarray(values, dtype=np.float32).reshape(end - start, 1)
        out = np.zeros(end - start, dtype=np.float32)
        if res == 1:
            stop = min(end, length)
            if stop > start:
                out[: stop - start] = self._per_base(
                    handle.values(chrom, start, stop, self._uncovered)
                )
            return out[:, None]

        n_full = length // res  # bins [0, n_full) are whole; bin n_full may be partial
        lo, hi = start, min(end, n_full)
        if hi > lo:
            if self._use_zoom(handle):
                out[: hi - lo] = handle.summary(
                    chrom, lo * res, hi * res, hi - lo, self.how, self.nan_to_num
                )
            else:
                step = max(1, _BLOCK_BP // res)
                for b in range(lo, hi, step):
                    b_end = min(b + step, hi)
                    values = handle.values(chrom, b * res, b_end * res)
                    out[b - lo : b_end - lo] = self._reduce(values.reshape(b_end - b, res))
        if length % res and start <= n_full < end:  # the partial last bin, exactly
            values = handle.values(chrom, n_full * res, length)
            out[n_full - start] = self._reduce(values[None])[0]
        return out[:, None]

    # -- helpers ---------------------------------------------------------------------
    def _use_zoom(self, handle: _Handle) -> bool:
        if self.exact or not handle.has_zoom_summaries:
            return False
        return any(z <= self.resolution // 2 for z in handle.zooms)

    @property
    def _uncovered(self) -> float | None:
        """What per-base reads may fill uncovered bases with as they read: 0 where they
        become 0 anyway (``nan_to_num``); None (NaN) where coverage is counted or NaN is
        kept (``nan_to_num=False``)."""
        return 0.0 if self.nan_to_num and self.how != "coverage" else None

    def _per_base(self, values: np.ndarray) -> np.ndarray:
        if self.how == "coverage":
            return (~np.isnan(values)).astype(np.float32)
        if self.nan_to_num:
            # min and max are NaN or infinite only if some value is: two passes without
            # temporaries, where nan_to_num costs ~8 ms per Mb (its infinity checks)
            if values.size and not (np.isfinite(values.min()) and np.isfinite(values.max())):
                return np.nan_to_num(values, nan=0.0, copy=False)
            return values
        return values

    def _reduce(self, values: np.ndarray) -> np.ndarray:
        """Summarise rows of per-base values (NaN = uncovered) exactly, in float64."""
        covered = ~np.isnan(values)
        n_cov = covered.sum(axis=1)
        how = self.how
        if how == "coverage":
            return n_cov / values.shape[1]
        if self.nan_to_num:
            filled = np.where(covered, values, 0).astype(np.float64)
            if how == "mean":
                return filled.sum(axis=1) / values.shape[1]
            if how == "sum":
                return filled.sum(axis=1)
            return filled.max(axis=1) if how == "max" else filled.min(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            total = np.where(covered, values, 0).astype(np.float64).sum(axis=1)
            if how == "mean":
                result = total / n_cov
            elif how == "sum":
                result = total
            elif how == "max":
                result = np.fmax.reduce(values, axis=1).astype(np.float64)
            else:
                result = np.fmin.reduce(values, axis=1).astype(np.float64)
        result[n_cov == 0] = np.nan
        return result


def bigwig_chrom_sizes(path: str | os.PathLike) -> dict[str, int]:
    """Return ``{chrom: length}`` from a bigWig header, in file order (a path or URL).

    Raises
    ------
    BigWigNotFoundError
        The file does not exist.
    InputError
        The file is not a bigWig.

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> bigwig_chrom_sizes(example_path("sample.bw"))
    {'chr1': 40000, 'chr2': 30000, 'chr3': 20000}
    """
    path = os.fspath(path)
    fingerprint = _check_file(path)
    return dict(_handle(path, "auto", fingerprint).chroms)


def bigwig_zoom_levels(path: str | os.PathLike) -> list[int]:
    """Return the zoom (reduction) levels of a bigWig in bp, finest first (a path or URL).

    Read from the file header, whatever library reads the data.

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> bigwig_zoom_levels(example_path("sample.bw"))
    [64, 256]
    """
    path = os.fspath(path)
    _check_file(path)
    return _zoom_levels(path)


# -- files and handles ------------------------------------------------------------------
class _Bytes:
    """Random reads of a local file or (by range requests) of a URL, for the header checks."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fh = None
        if is_url(path):
            self.size = remote_info(path).size or 0
        else:
            self.fh = open(path, "rb")  # noqa: SIM115 - closed in close()
            self.size = os.fstat(self.fh.fileno()).st_size

    def read(self, offset: int, n: int) -> bytes:
        n = max(0, min(n, self.size - offset))
        if self.fh is None:
            return read_range(self.path, offset, offset + n, "read the bigWig header") if n else b""
        self.fh.seek(offset)
        return self.fh.read(n)

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()


_CHECKED: set[str] = set()
"""Fingerprints of remote bigWigs whose header was checked in this process."""


def _check_file(path: str, backend: str = "auto") -> str | None:
    """Raise unless ``path`` exists, starts with the bigWig magic number and is whole (it
    ends with the magic number too and its header's offsets lie inside it).

    A URL is checked the same way through range requests (one ``HEAD``, the first 1 kB,
    the last 4 bytes; once per version of the file and process), and its fingerprint
    (:func:`genomarray.io.remote.fingerprint_of`) is returned (None for a local file).
    """
    fingerprint = None
    if is_url(path):
        if backend == "pybigwig":
            import pyBigWig

            if not getattr(pyBigWig, "remote", 0):
                raise InputError(
                    "backend='pybigwig' cannot read URLs here: this pyBigWig was built "
                    "without curl (pyBigWig.remote == 0); use backend='pybigtools'",
                    source=path,
                )
        fingerprint = fingerprint_of(remote_info(path))  # one HEAD: a clear error now
        if fingerprint in _CHECKED:
            return fingerprint
    elif not os.path.exists(path):
        raise BigWigNotFoundError("bigWig file not found", source=path)
    elif os.path.isdir(path):
        raise InputError("expected a bigWig file, got a folder", source=path)
    data = _Bytes(path)
    try:
        head = data.read(0, 1024)
        if len(head) < 4 or struct.unpack("<I", head[:4])[0] not in (
            _MAGIC,
            struct.unpack(">I", struct.pack("<I", _MAGIC))[0],
        ):
            hint = ""
            if head.startswith(b"\x1f\x8b"):
                hint = " (it is gzip-compressed; a bedGraph? convert it with bedGraphToBigWig)"
            elif head[:1] in (b"c", b"t", b"#", b"b"):
                hint = " (it looks like text: a bedGraph or wig? convert it with bedGraphToBigWig)"
            raise InputError(f"not a bigWig file (bad magic number){hint}", source=path)
        problem = _truncation(data, head)
    finally:
        data.close()
    if problem:
        raise InputError(
            f"the bigWig is truncated or damaged ({problem}); write or copy it again",
            source=path,
        )
    if fingerprint is not None:
        _CHECKED.add(fingerprint)
    return fingerprint


def _truncation(data: _Bytes, head: bytes) -> str | None:
    """Why the bigWig read by ``data`` (which starts with the magic number) is not whole."""
    size = data.size
    header = head[:64]
    if len(header) < 64:
        return f"{size} bytes, shorter than the 64-byte header"
    order = "<" if struct.unpack("<I", header[:4])[0] == _MAGIC else ">"
    n_levels = struct.unpack_from(order + "H", header, 6)[0]
    zooms = head[64 : 64 + 24 * n_levels]
    if len(zooms) < 24 * n_levels:
        zooms = data.read(64, 24 * n_levels)
    if len(zooms) < 24 * n_levels:
        return f"the header lists {n_levels} zoom levels that the file does not hold"
    tail = data.read(size - 4, 4)
    if struct.unpack(order + "I", tail)[0] != _MAGIC:
        return "it does not end with the magic number every complete bigWig ends with"
    offsets = {
        "chromosome tree": struct.unpack_from(order + "Q", header, 8)[0],
        "data": struct.unpack_from(order + "Q", header, 16)[0],
        "index": struct.unpack_from(order + "Q", header, 24)[0],
    }
    for i in range(n_levels):
        data_at, index = struct.unpack_from(order + "QQ", zooms, 24 * i + 8)
        offsets[f"zoom level {i + 1} data"] = data_at
        offsets[f"zoom level {i + 1} index"] = index
    for what, offset in offsets.items():
        if offset >= size:
            return f"its header puts the {what} at byte {offset}, past the end ({size} bytes)"
    return None


def _zoom_levels(path: str) -> list[int]:
    if is_url(path):
        return sorted(_handle(path, "pybigtools").zooms)
    with reading(path), open(path, "rb") as fh:
        header = fh.read(64)
        order = "<" if struct.unpack("<I", header[:4])[0] == _MAGIC else ">"
        n_levels = struct.unpack(order + "H", header[6:8])[0]
        raw = fh.read(24 * n_levels)
    levels = [struct.unpack(order + "I", raw[24 * i : 24 * i + 4])[0] for i in range(n_levels)]
    return sorted(levels)


class _Handle:
    """An open bigWig: ``chroms``, ``zooms``, ``values`` (float32, NaN uncovered).

    ``sections`` (set by :func:`_handle`): a :class:`~genomarray.io.bigwig_blocks.
    SectionReader` that reads per-base values instead of the library, which reads any
    region the section reader declines (records out of order or unlike the index)."""

    has_zoom_summaries = False
    sections: Any = None

    def __init__(self, path: str) -> None:
        self.path = path
        self.chroms: dict[str, int] = {}
        self.zooms: list[int] = _zoom_levels(path)

    def length(self, chrom: str) -> int:
        try:
            return self.chroms[chrom]
        except KeyError:
            names = list(self.chroms)
            shown = ", ".join(repr(c) for c in names[:10])
            more = f", ... ({len(names)} in all)" if len(names) > 10 else ""
            hint = ""
            other = chrom[3:] if chrom.lower().startswith("chr") else "chr" + chrom
            if other in self.chroms:
                hint = (
                    f"; did you mean {other!r}? The inputs spell chromosome names "
                    f"differently ({chrom!r} vs {other!r})"
                )
            raise ChromosomeError(
                f"chromosome {chrom!r} is not in the bigWig{hint}. It has {shown}{more}",
                source=self.path,
                record=chrom,
            ) from None

    def values(
        self, chrom: str, start: int, end: int, uncovered: float | None = None
    ) -> np.ndarray:
        """Per-base float32 values; uncovered bases NaN, or ``uncovered`` where the
        reader can fill them as it reads (a hint: callers still handle NaN)."""
        if self.sections is not None and chrom in self.sections.chroms:
            fill = np.nan if uncovered is None else uncovered
            got = self.sections.values(chrom, start, end, fill)
            if got is not None:
                return got
        return self._library_values(chrom, start, end, uncovered)

    def _library_values(
        self, chrom: str, start: int, end: int, uncovered: float | None = None
    ) -> np.ndarray:
        raise NotImplementedError

    def summary(
        self, chrom: str, start: int, end: int, bins: int, how: str, nan_to_num: bool
    ) -> np.ndarray:
        raise NotImplementedError

    def close(self) -> None:
        self._close_sections()

    def _close_sections(self) -> None:
        sections, self.sections = self.sections, None
        if sections is not None:
            sections.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - never raise from a finaliser
            pass


class _PyBigToolsHandle(_Handle):
    """pybigtools on a local file or a URL (range requests).

    A read that fails is retried once on a freshly opened handle: one truncated response
    leaves a pybigtools handle unusable (it keeps the short block and fails again without
    a new request), a fresh one reads correctly. A second failure is raised (wrapped by
    :func:`reading`).
    """

    has_zoom_summaries = True

    def __init__(self, path: str) -> None:
        self.path = path
        self.bw = self._file = None
        self._open()
        self.chroms = {str(k): int(v) for k, v in self.bw.chroms().items()}
        self.zooms = sorted(int(z) for z in self.bw.zooms())

    def _open(self) -> None:
        import pybigtools

        try:  # a library error is wrapped by ``reading`` around the opener
            try:
                self.bw = pybigtools.open(self.path)
            except ValueError:  # pybigtools checks a path's extension; a file object it sniffs
                if is_url(self.path):
                    raise
                self._file = open(self.path, "rb")  # noqa: SIM115 - closed in close()
                self.bw = pybigtools.open(self._file)
        except BaseException:
            self.close()
            raise

    def _call(self, read: Any) -> np.ndarray:
        try:
            return read(self.bw)
        except Exception:  # noqa: BLE001 - BBIReadError, OSError ...: reopen once
            self.close()
            self._open()
            return read(self.bw)

    def _library_values(
        self, chrom: str, start: int, end: int, uncovered: float | None = None
    ) -> np.ndarray:
        # pybigtools writes float64 only: into this thread's reused buffer, then one cast
        buf = scratch("bigwig float64 values", (max(end - start, 0),), np.float64)
        return self._call(
            lambda bw: bw.values(chrom, start, end, fillna=uncovered, arr=buf)
        ).astype(np.float32)

    def summary(
        self, chrom: str, start: int, end: int, bins: int, how: str, nan_to_num: bool
    ) -> np.ndarray:
        fill: Any = 0.0 if nan_to_num or how == "coverage" else None
        return self._call(
            lambda bw: bw.values(
                chrom,
                start,
                end,
                bins=bins,
                summary=_PYBIGTOOLS_SUMMARY[how],
                exact=False,
                uncovered=0.0 if nan_to_num else None,
                fillna=fill,
            )
        )

    def close(self) -> None:
        self._close_sections()
        bw, file = getattr(self, "bw", None), getattr(self, "_file", None)
        self.bw = self._file = None
        if bw is not None:
            try:
                bw.close()
            except Exception:  # noqa: BLE001 - closing a broken handle
                pass
        if file is not None:
            file.close()


class _PyBigWigHandle(_Handle):
    def __init__(self, path: str) -> None:
        import pyBigWig

        super().__init__(path)
        bw = pyBigWig.open(path)  # a RuntimeError is wrapped by ``reading`` around the opener
        if bw is None or not bw.isBigWig():
            raise InputError("not a bigWig file", source=path)
        self.bw = bw
        self.chroms = {str(k): int(v) for k, v in bw.chroms().items()}

    def _library_values(
        self, chrom: str, start: int, end: int, uncovered: float | None = None
    ) -> np.ndarray:
        # pyBigWig cannot fill as it reads: uncovered bases are NaN, ``uncovered`` ignored
        return np.asarray(self.bw.values(chrom, start, end, numpy=True), dtype=np.float32)

    def close(self) -> None:
        self._close_sections()
        bw = getattr(self, "bw", None)
        if bw is not None:
            bw.close()
            self.bw = None


def _reads_sections(path: str, backend: str) -> bool:
    """Whether per-base values of the local file ``path`` are read by genomarray's section
    reader (see :data:`SECTIONS_MIN_BYTES`); it needs numba."""
    if backend not in ("auto", "genomarray"):
        return False
    if backend == "auto" and os.path.getsize(path) < SECTIONS_MIN_BYTES:
        return False
    try:
        import genomarray.io.bigwig_fns  # noqa: F401 - imports numba
    except Exception:  # noqa: BLE001 - numba missing or broken
        if backend == "genomarray":
            raise ImportError("backend='genomarray' needs numba: `pip install numba`") from None
        return False
    return True


def _backend_class(backend: str) -> type[_Handle]:
    if backend == "pybigwig":
        return _PyBigWigHandle
    try:
        import pybigtools  # noqa: F401
    except ImportError:
        if backend == "pybigtools":
            raise ImportError(
                "backend='pybigtools' needs pybigtools: `pip install pybigtools`"
            ) from None
        return _PyBigWigHandle
    return _PyBigToolsHandle


def resolved_backend(backend: str = "auto") -> str:
    """The backend ``backend`` resolves to here: ``"pybigtools"`` or ``"pybigwig"``.

    Their binned (zoom-level) reads differ, so it belongs in a cache key.

    Examples
    --------
    >>> resolved_backend("pybigwig")
    'pybigwig'
    """
    return "pybigwig" if _backend_class(backend) is _PyBigWigHandle else "pybigtools"


def _handle(path: str, backend: str, fingerprint: str | None = None) -> _Handle:
    """Return a cached open handle on ``path`` for this process and thread.

    A URL's handle is keyed on its ``fingerprint`` too; opening one checks (one ``HEAD``)
    that the server still has that version of the file.
    """
    remote = is_url(path)

    def opener(p: str) -> Any:
        if remote:
            if fingerprint is not None and fingerprint_of(remote_info(p)) != fingerprint:
                raise changed_error(p, fingerprint)
            return _PyBigToolsHandle(p)
        _check_file(p)
        handle = _backend_class(backend)(p)
        if _reads_sections(p, backend):
            from genomarray.io.bigwig_blocks import section_reader

            try:
                handle.sections = section_reader(p)
            except BaseException:
                handle.close()
                raise
        return handle

    with reading(path):
        return cached_handle(
            path,
            opener,
            tag=(backend, fingerprint) if remote else backend,
            missing=lambda p: BigWigNotFoundError("bigWig file not found", source=p),
        )
