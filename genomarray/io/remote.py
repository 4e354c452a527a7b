"""Remote inputs (prototype): URLs read where they are, cache keys from the server's metadata.

What reads what (measured on this machine, see the remote-data notes):

- **bigWig** over ``http(s)://``: pybigtools (bounded range requests of 10 kB blocks).
  pyBigWig wheels are usually built without curl (``pyBigWig.remote == 0``), so
  ``backend="pybigwig"`` is refused for URLs with that reason.
- **BED / narrowPeak / bedGraph / GFF text**: fsspec (``http``, ``https``, ``s3``, ... with
  ``aiohttp`` / ``s3fs`` installed): the text is downloaded once into
  ``<output root>/remote/<fingerprint>/`` and parsed there (the data is the whole file).
- BAM/CRAM and bgzipped FASTA through htslib: not wired yet (see the notes).

**Cache keys never download a file**: :func:`remote_info` asks the server with one ``HEAD``
(fsspec ``info``) and :func:`remote_fingerprint` hashes the URL with what the server says
about the file: ``ETag``, ``Last-Modified`` and size. A server that sends neither ``ETag`` nor
``Last-Modified`` cannot be cached safely: :func:`remote_fingerprint` raises (read it with
``storage="lazy"`` or ``cache=False``).

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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from genomarray.errors import ChromosomeError, InputError

__all__ = [
    "RemoteError",
    "RemoteInfo",
    "RemoteNotFoundError",
    "RemoteBigWigHandle",
    "check_bigwig",
    "fetch",
    "fingerprint_of",
    "is_url",
    "remote_fingerprint",
    "remote_info",
]

REMOTE_SCHEMES = ("http", "https", "s3", "gs", "gcs", "az", "abfs", "ftp")
"""URL schemes read remotely (``file://`` is a local path)."""

_SUMMARY = {"mean": "mean", "max": "max", "min": "min", "sum": "sum", "coverage": "bin_covered"}


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


def _chain(err: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while err is not None and err not in seen:
        seen.append(err)
        err = err.__cause__ or err.__context__
    return seen


def describe(err: BaseException) -> tuple[str, bool]:
    """``(what happened, is it a 'not found')`` for a network error of any library.

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
        if name == "ClientPayloadError" or "failed to fill whole buffer" in text:
            return f"response truncated ({text})", False
        if (
            isinstance(e, ConnectionRefusedError)
            or name in ("ClientConnectorError", "EndpointConnectionError")
            or "Connection refused" in text
        ):
            return "connection refused (is the server up?)", False
        if isinstance(e, TimeoutError) or "timed out" in text.lower():
            return f"timed out ({text})", False
    if isinstance(err, FileNotFoundError):
        return "not found", True
    return f"{type(err).__name__}: {err}", False


def remote_error(url: str, err: BaseException, doing: str) -> RemoteError:
    """The :class:`RemoteError` for ``err`` raised while ``doing`` something with ``url``."""
    what, missing = describe(err)
    cls = RemoteNotFoundError if missing else RemoteError
    return cls(f"cannot {doing}: {what}", source=url)


def _filesystem(url: str, storage_options: dict[str, Any] | None) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError as err:  # pragma: no cover - fsspec comes with dask
        raise ImportError("remote inputs need fsspec: `pip install fsspec aiohttp`") from err
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
    fs, path = _filesystem(url, storage_options)
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
        {
            "url": info.url,
            "size": info.size,
            "etag": info.etag,
            "modified": info.last_modified,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


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
    from genomarray.paths import output_root

    info = remote_info(url, storage_options)
    key = fingerprint_of(info)
    name = os.path.basename(urllib.parse.urlsplit(url).path) or "download"
    dest = output_root() / "remote" / key[:32] / name
    if dest.is_file() and (info.size is None or dest.stat().st_size == info.size):
        return str(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{name}.partial-{uuid.uuid4().hex[:12]}")
    fs, path = _filesystem(url, storage_options)
    try:
        with fs.open(path, "rb", block_size=1 << 22) as src, open(tmp, "wb") as out:
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


# -- bigWig -----------------------------------------------------------------------------


def check_bigwig(url: str, backend: str = "auto") -> str:
    """Check that a remote bigWig can be read here (its server answers; a backend reads URLs).

    Examples
    --------
    >>> check_bigwig("http://127.0.0.1:8000/x.bw")  # doctest: +SKIP
    'http://127.0.0.1:8000/x.bw'
    """
    if backend == "pybigwig":
        import pyBigWig

        if not getattr(pyBigWig, "remote", 0):
            raise InputError(
                "backend='pybigwig' cannot read URLs here: this pyBigWig was built without "
                "curl (pyBigWig.remote == 0); use backend='pybigtools'",
                source=url,
            )
    remote_info(url)  # one HEAD: a clear error now rather than inside a dask task
    return url


class RemoteBigWigHandle:
    """A pybigtools handle on a bigWig URL, with the interface of ``io.bigwig``'s handles.

    A truncated response leaves a pybigtools handle unusable (it keeps the short block and
    fails again without a new request), so on a read error the handle is reopened once and
    the read retried; a second failure raises :class:`RemoteError`.
    """

    has_zoom_summaries = True

    def __init__(self, url: str) -> None:
        self.path = url
        self.bw = self._open()
        self.chroms = {str(k): int(v) for k, v in self.bw.chroms().items()}
        self.zooms = sorted(int(z) for z in self.bw.zooms())

    def _open(self) -> Any:
        import pybigtools

        try:
            return pybigtools.open(self.path)
        except Exception as err:  # noqa: BLE001 - BBIReadError and OSError, named below
            raise self._diagnose(err, "open the bigWig") from err

    def _diagnose(self, err: BaseException, doing: str) -> RemoteError:
        """pybigtools often says only "Error opening bigWig.": ask the server what is wrong."""
        if describe(err)[0].startswith(type(err).__name__):  # nothing recognisable
            info = remote_info(self.path)  # raises the RemoteError of a 404 / refused server
            fs, path = _filesystem(self.path, None)
            try:  # the block pybigtools starts with (a truncated response shows here)
                fs.cat_file(path, start=0, end=min(info.size or 1 << 16, 1 << 16))
            except Exception as probe:  # noqa: BLE001 - named by remote_error
                return remote_error(self.path, probe, doing)
        return remote_error(self.path, err, doing)

    def _call(self, read: Callable[[Any], np.ndarray], what: str) -> np.ndarray:
        try:
            return read(self.bw)
        except Exception:  # noqa: BLE001 - a poisoned handle: reopen once
            self.close()
            self.bw = self._open()
            try:
                return read(self.bw)
            except RemoteError:
                raise
            except Exception as err:  # noqa: BLE001
                raise self._diagnose(err, f"read {what}") from err

    def length(self, chrom: str) -> int:
        try:
            return self.chroms[chrom]
        except KeyError:
            shown = ", ".join(repr(c) for c in list(self.chroms)[:10])
            raise ChromosomeError(
                f"chromosome {chrom!r} is not in the bigWig. It has {shown}",
                source=self.path,
                record=chrom,
            ) from None

    def values(self, chrom: str, start: int, end: int) -> np.ndarray:
        out = self._call(
            lambda bw: bw.values(chrom, start, end, fillna=None), f"{chrom}:{start}-{end}"
        )
        return out.astype(np.float32)

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
                summary=_SUMMARY[how],
                exact=False,
                uncovered=0.0 if nan_to_num else None,
                fillna=fill,
            ),
            f"{chrom}:{start}-{end}",
        )

    def close(self) -> None:
        bw, self.bw = getattr(self, "bw", None), None
        if bw is not None:
            try:
                bw.close()
            except Exception:  # noqa: BLE001 - closing a broken handle
                pass
