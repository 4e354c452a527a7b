"""Remote inputs: URLs read where they are, cache keys from what the server says.

What reads what (measured on this machine; see docs/remote.md):

- **bigWig** over ``http(s)://``: pybigtools (bounded range requests of 10 kB blocks),
  through the same handle as local files (:mod:`genomarray.io.bigwig`). pyBigWig wheels
  are usually built without curl (``pyBigWig.remote == 0``), so ``backend="pybigwig"`` is
  refused for URLs with that reason.
- **BAM/CRAM** through htslib (pysam), by range requests. genomarray downloads the index
  itself (:func:`bam_index`, into ``<output root>/remote/``) and always passes it, so that
  htslib never writes an index into the working folder nor reuses a stale one from there.
- **FASTA** (plain or bgzipped) through htslib, by range requests; its ``.fai`` (and
  ``.gzi``) are downloaded the same way (:func:`fasta_index`).
- **BED / narrowPeak / bedGraph / GFF text**: fsspec; the text is downloaded once into
  ``<output root>/remote/<fingerprint>/`` and parsed there (the data is the whole file).

**Cache keys never download a file**: :func:`remote_info` asks the server with one ``HEAD``
(fsspec ``info``) and :func:`remote_fingerprint` hashes the URL with what the server says
about the file: ``ETag``, ``Last-Modified`` and size. A server that sends neither ``ETag`` nor
``Last-Modified`` cannot be cached safely: :func:`remote_fingerprint` raises (read it with
``storage="lazy"`` or ``cache=False``). Downloaded indexes live in a folder named after the
fingerprints of the data file *and* of the index, so a file changed on the server brings a
fresh index.

Network failures raise :class:`RemoteError` (an :class:`~genomarray.errors.InputError` and an
``OSError``) naming the URL and what happened: not found (HTTP 404; also a
``FileNotFoundError``), connection refused (server gone), response truncated.

Examples
--------
>>> is_url("https://example.org/x.bw"), is_url("/data/x.bw"), is_url("file:///data/x.bw")
(True, False, False)
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genomarray.errors import InputError

__all__ = [
    "RemoteError",
    "RemoteIndexed",
    "RemoteInfo",
    "RemoteNotFoundError",
    "bam_index",
    "changed_error",
    "describe",
    "diagnose",
    "fasta_index",
    "fetch",
    "filesystem",
    "fingerprint_of",
    "is_http",
    "is_url",
    "local_path",
    "read_range",
    "remote_error",
    "remote_fingerprint",
    "remote_info",
]

REMOTE_SCHEMES = ("http", "https", "s3", "gs", "gcs", "az", "abfs", "ftp", "memory")
"""URL schemes read remotely (``file://`` is a local path, see :func:`local_path`)."""


class RemoteError(InputError, OSError):
    """A remote input that cannot be read: the message names the URL and the cause."""


class RemoteNotFoundError(RemoteError, FileNotFoundError):
    """A URL the server answers 404 (or an object store has no such key) for."""


def is_url(path: Any) -> bool:
    """True for a ``scheme://`` string of a remote scheme (:data:`REMOTE_SCHEMES`).

    Examples
    --------
    >>> is_url("s3://bucket/store.zarr"), is_url("C:/data/x.bw"), is_url(3)
    (True, False, False)
    """
    if not isinstance(path, str) or "://" not in path:
        return False
    return urllib.parse.urlsplit(path).scheme.lower() in REMOTE_SCHEMES


def is_http(path: Any) -> bool:
    """True for an ``http://`` or ``https://`` URL (read-only: no listing, no writes).

    Examples
    --------
    >>> is_http("https://h/x.zarr"), is_http("s3://b/x.zarr")
    (True, False)
    """
    return is_url(path) and urllib.parse.urlsplit(path).scheme.lower() in ("http", "https")


def local_path(path: str | os.PathLike) -> str:
    """``file://`` URLs as local paths; anything else as it is (``os.fspath``).

    Examples
    --------
    >>> local_path("file:///data/x.bw"), local_path("s3://b/x.zarr"), local_path("a/b")
    ('/data/x.bw', 's3://b/x.zarr', 'a/b')
    """
    path = os.fspath(path)
    if isinstance(path, str) and path[:7].lower() == "file://":
        return urllib.parse.unquote(urllib.parse.urlsplit(path).path) or "/"
    return path


def _chain(err: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while err is not None and err not in seen:
        seen.append(err)
        err = err.__cause__ or err.__context__
    return seen


def describe(err: BaseException) -> tuple[str, bool]:
    """``(what happened, is it a 'not found')`` for a network error of any library.

    fsspec's HTTP filesystem raises ``FileNotFoundError`` both for a 404 and for a refused
    connection; the cause chain tells them apart.

    Examples
    --------
    >>> describe(ConnectionRefusedError(111, "Connection refused"))
    ('connection refused (is the server up?)', False)
    """
    for e in _chain(err):
        status = getattr(e, "status", None) or getattr(e, "code", None)
        name = type(e).__name__
        text = str(e)
        if isinstance(status, int) and 400 <= status < 600:
            reason = getattr(e, "message", "") or ""
            return f"HTTP {status} {reason}".strip(), status in (404, 410)
        if (
            name in ("ClientPayloadError", "ContentLengthError", "IncompleteRead")
            or "failed to fill whole buffer" in text
            or "Not enough data" in text
        ):
            return f"response truncated ({text})", False
        if (
            isinstance(e, ConnectionRefusedError)
            or name
            in ("ClientConnectorError", "EndpointConnectionError", "ServerDisconnectedError")
            or "Connection refused" in text
            or "Could not connect" in text
        ):
            return "connection refused (is the server up?)", False
        if isinstance(e, TimeoutError) or "timed out" in text.lower():
            return f"timed out ({text})", False
    if isinstance(err, FileNotFoundError):
        return "not found", True
    return f"{type(err).__name__}: {err}", False


def remote_error(url: str, err: BaseException, doing: str) -> RemoteError:
    """The :class:`RemoteError` for ``err`` raised while ``doing`` something with ``url``.

    Examples
    --------
    >>> str(remote_error("http://h/x.bam", ConnectionRefusedError(111, "x"), "read it"))
    'http://h/x.bam: cannot read it: connection refused (is the server up?)'
    """
    if isinstance(err, RemoteError):
        return err
    what, missing = describe(err)
    if what == "not found" and is_http(url):  # fsspec's bare FileNotFoundError of a 404
        what = "HTTP 404 Not Found"
    cls = RemoteNotFoundError if missing else RemoteError
    return cls(f"cannot {doing}: {what}", source=url)


def diagnose(url: str, err: BaseException, doing: str, probe: bool = False) -> RemoteError:
    """:func:`remote_error`, asking the server when ``err`` itself says nothing useful.

    htslib and pybigtools often report a network failure as a bare ``OSError`` ("truncated
    file") or "Error opening bigWig.": then a ``HEAD`` (and with ``probe`` a range read of
    the first 64 kB, where a truncated response shows) finds the cause (404, connection
    refused, truncated response), named with the URL and what was being done.
    """
    if isinstance(err, RemoteError):
        return err
    if describe(err)[0].startswith(type(err).__name__):  # nothing recognisable
        try:
            info = remote_info(url)
            if probe:
                read_range(url, 0, min(info.size or 1 << 16, 1 << 16), doing)
        except RemoteError as found:
            return remote_error(url, found.__cause__ or found, doing)
    return remote_error(url, err, doing)


def filesystem(url: str, storage_options: dict[str, Any] | None = None) -> tuple[Any, str]:
    """``(fsspec filesystem, path on it)`` for a URL, with a clear error if a backend is
    missing (``aiohttp`` for http(s), ``s3fs`` for s3)."""
    try:
        import fsspec
    except ImportError as err:  # pragma: no cover - fsspec comes with dask
        raise ImportError("remote data needs fsspec: `pip install fsspec aiohttp`") from err
    try:
        return fsspec.core.url_to_fs(url, **(storage_options or {}))
    except ImportError as err:
        raise ImportError(
            f"reading {url} needs fsspec's {urllib.parse.urlsplit(url).scheme} support: "
            f"{err} (for http(s): `pip install aiohttp`; for s3: `pip install s3fs`)"
        ) from err


@dataclass(frozen=True)
class RemoteInfo:
    """What a server says about a file, without sending it (one ``HEAD``)."""

    url: str
    size: int | None
    etag: str | None
    last_modified: str | None


def remote_info(url: str, storage_options: dict[str, Any] | None = None) -> RemoteInfo:
    """Ask the server for a file's size, ``ETag`` and ``Last-Modified`` (a ``HEAD``).

    Raises
    ------
    RemoteNotFoundError
        The server has no such file.
    RemoteError
        The server cannot be reached, or answered an error.
    """
    fs, path = filesystem(url, storage_options)
    try:
        info = fs.info(path)
    except Exception as err:  # noqa: BLE001 - every library's network errors, named below
        raise remote_error(url, err, "ask the server about the file") from err
    etag = info.get("ETag") or info.get("etag")
    modified = info.get("Last-Modified") or info.get("LastModified") or info.get("mtime")
    size = info.get("size")
    return RemoteInfo(
        url=url,
        size=None if size is None else int(size),
        etag=None if etag is None else str(etag),
        last_modified=None if modified is None else str(modified),
    )


def remote_fingerprint(url: str, storage_options: dict[str, Any] | None = None) -> str:
    """A cache-key part for a remote file from its metadata only: it never downloads it.

    SHA-256 of the URL, size, ``ETag`` and ``Last-Modified``: any change the server reports
    changes it.

    Raises
    ------
    RemoteError
        The server sends neither ``ETag`` nor ``Last-Modified``: a change of the file could
        not be noticed, so it is not cached.
    """
    return fingerprint_of(remote_info(url, storage_options))


def fingerprint_of(info: RemoteInfo) -> str:
    """The fingerprint of :func:`remote_fingerprint` from metadata already asked for.

    Examples
    --------
    >>> a = fingerprint_of(RemoteInfo("http://h/x.bw", 10, '"e1"', None))
    >>> b = fingerprint_of(RemoteInfo("http://h/x.bw", 10, '"e2"', None))
    >>> len(a), a == b
    (64, False)
    """
    if not info.etag and not info.last_modified:
        raise RemoteError(
            "the server sends neither ETag nor Last-Modified for this file, so genomarray "
            "cannot tell when it changes and does not cache it; read it with "
            "storage='lazy' (or cache=False)",
            source=info.url,
        )
    payload = json.dumps(
        {"url": info.url, "size": info.size, "etag": info.etag, "modified": info.last_modified},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def read_range(url: str, start: int, end: int, doing: str = "read the file") -> bytes:
    """Bytes ``[start, end)`` of a remote file (one range request); errors name the URL."""
    fs, path = filesystem(url)
    try:
        return fs.cat_file(path, start=start, end=end)
    except Exception as err:  # noqa: BLE001 - every library's network errors, named below
        raise remote_error(url, err, doing) from err


def _download(url: str, info: RemoteInfo, dest: Path, so: dict | None = None) -> str:
    """Copy ``url`` to ``dest`` unless a copy of the announced size is there; atomic."""
    if dest.is_file() and (info.size is None or dest.stat().st_size == info.size):
        return str(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.partial-{uuid.uuid4().hex[:12]}")
    fs, path = filesystem(url, so)
    known = {"size": info.size} if is_http(url) and info.size is not None else {}
    try:  # the size known from the HEAD already made: fsspec need not ask again
        with fs.open(path, "rb", block_size=1 << 22, **known) as src, open(tmp, "wb") as out:
            while data := src.read(1 << 22):
                out.write(data)
        got = tmp.stat().st_size
        if info.size is not None and got != info.size:
            raise RemoteError(f"download truncated: got {got} of {info.size} bytes", source=url)
        os.replace(tmp, dest)
    except RemoteError:
        raise
    except Exception as err:  # noqa: BLE001 - every library's network errors, named below
        raise remote_error(url, err, "download the file") from err
    finally:
        Path(tmp).unlink(missing_ok=True)
    return str(dest)


def _folder(*fingerprints: str) -> Path:
    from genomarray.paths import output_root

    key = hashlib.sha256("|".join(fingerprints).encode()).hexdigest()[:32]
    return output_root() / "remote" / key


def _name(url: str) -> str:
    return os.path.basename(urllib.parse.urlsplit(url).path) or "download"


def fetch(url: str, storage_options: dict[str, Any] | None = None) -> str:
    """Download a (small, text) remote file once; return the local copy's path.

    The copy lives under ``<output root>/remote/<fingerprint>/<name>``: a file changed on
    the server (another ETag, Last-Modified or size) is downloaded again. The download goes
    to a temporary name and is renamed only once complete and of the size the server
    announced, so no truncated copy is ever used.

    Raises
    ------
    RemoteError
        Network failure or a truncated download (the URL and the cause are named).
    """
    info = remote_info(url, storage_options)
    return _download(url, info, _folder(fingerprint_of(info)) / _name(url), storage_options)


def _first_present(candidates: list[str]) -> RemoteInfo | None:
    """The metadata of the first URL of ``candidates`` the server has (HEAD each in turn)."""
    for url in candidates:
        try:
            return remote_info(url)
        except RemoteNotFoundError:
            continue
    return None


@dataclass(frozen=True)
class RemoteIndexed:
    """A remote data file and the local copies of its index files."""

    info: RemoteInfo
    fingerprint: str
    indexes: tuple[str, ...]


def bam_index(url: str) -> RemoteIndexed:
    """Download the index of a remote BAM/CRAM (``.bai``/``.csi``/``.crai`` next to it).

    Probed with ``HEAD`` in turn: ``URL.bai``, ``STEM.bai``, ``URL.csi``, ``STEM.csi`` for a
    BAM; ``URL.crai``, ``STEM.crai`` for a CRAM (``STEM``: the URL without ``.bam`` /
    ``.cram``). The copy is kept under ``<output root>/remote/<key>/``, the key hashing the
    fingerprints (URL, size, ETag, Last-Modified) of the BAM and of its index: a BAM or
    index changed on the server gets a fresh copy, an unchanged one is not downloaded again.

    Raises
    ------
    InputError
        No index next to the file (the message lists the URLs tried and says to index it
        where it is stored).
    RemoteError
        The server cannot be reached, or the BAM itself is missing.
    """
    info = remote_info(url)
    fp = fingerprint_of(info)
    path = urllib.parse.urlsplit(url).path
    cram = path.lower().endswith(".cram")
    stem = url[: url.rfind(".")] if path.lower().endswith((".bam", ".cram")) else url
    exts = (".crai",) if cram else (".bai", ".csi")
    candidates = list(dict.fromkeys(base + e for e in exts for base in (url, stem)))
    found = _first_present(candidates)
    if found is None:
        kind = "CRAM" if cram else "BAM"
        raise InputError(
            f"the {kind} has no index next to it (tried {', '.join(candidates)}); index it "
            f"where it is stored: `samtools index {_name(url)}`",
            source=url,
        )
    folder = _folder(fp, fingerprint_of(found))
    local = _download(found.url, found, folder / _name(found.url))
    return RemoteIndexed(info, fp, (local,))


def fasta_index(url: str, compressed: bool) -> RemoteIndexed:
    """Download the ``.fai`` (and, for a bgzipped FASTA, the ``.gzi``) of a remote FASTA.

    Kept as :func:`bam_index` keeps BAM indexes (a folder keyed by the fingerprints of the
    FASTA and of its index files).

    Raises
    ------
    InputError
        No ``URL.fai`` (or ``URL.gzi``) on the server: genomarray cannot build one without
        downloading the whole FASTA; the message says to index it where it is stored.
    """
    info = remote_info(url)
    fp = fingerprint_of(info)
    found = []
    for ext in (".fai", ".gzi") if compressed else (".fai",):
        try:
            found.append(remote_info(url + ext))
        except RemoteNotFoundError:
            raise InputError(
                f"the FASTA has no {ext} next to it ({url + ext}); genomarray cannot build "
                "an index without downloading the whole file: index it where it is stored "
                f"(`samtools faidx {_name(url)}`), or download it",
                source=url,
            ) from None
    folder = _folder(fp, *(fingerprint_of(i) for i in found))
    local = tuple(_download(i.url, i, folder / _name(i.url)) for i in found)
    return RemoteIndexed(info, fp, local)


def changed_error(url: str, expected: str) -> RemoteError:
    """The error for a file whose fingerprint changed since a reader was set up."""
    return RemoteError(
        "the file changed on the server while it was being read (its ETag, Last-Modified "
        f"or size differ from those seen when the read began, fingerprint {expected[:12]}); "
        "read it again",
        source=url,
    )
