"""The content-hash cache: a build's key from its inputs' content and parameters.

A genome-wide array built from files is written once to ``<output root>/cache/<key>.zarr``
and reopened lazily afterwards. The key hashes the files' content (not their names or
mtimes), the build's parameters and genomarray's cache format, so any change to what is read
gives a new key, and two builds of the same key at once are safe. A remote input (a URL) is
not downloaded for its key: the key hashes what the server says about it (size, ``ETag``,
``Last-Modified``; see :func:`fingerprint`), so a file changed on the server gives a new key.

A cache store that does not match its manifest (a chunk file lost or truncated by an
interrupted copy or a cleaned scratch disk, no manifest, or damage found by an earlier
read) is rebuilt, atomically, with a warning naming the store and the problem. A store
given as ``path`` (``store_path=`` of the readers) is the user's: a mismatch there is a
:class:`~genomarray.errors.StoreError` naming the store, the problem and the remedy.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import uuid
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from genomarray import model
from genomarray.errors import InputError, StoreError
from genomarray.genome.store import open_zarr, store_exists, write_zarr
from genomarray.io.remote import is_url, local_path
from genomarray.paths import cache_dir, output_root

CACHE_FORMAT = 2
"""Bumped when the on-disk layout changes, so old caches are rebuilt, not misread
(2: stores carry a manifest of their chunks)."""


def file_fingerprint(path: str | os.PathLike, block: int = 1 << 22) -> str:
    """Return the SHA-256 of a file's content (streamed through one 4 MB buffer).

    The digest is remembered under the output root, keyed on the file's path, size,
    modification time, status-change time and inode, so a cache hit does not re-read a
    30 GB BAM; any change to the file changes that key and the content is hashed again
    (the status-change time is set by the system on every write and cannot be set back,
    so a rewrite that restores the size and modification time, as ``cp -p`` onto an
    existing file can, is still seen).

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> len(file_fingerprint(example_path("genome.fa")))
    64
    """
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise InputError(
            "not a regular file (a pipe, FIFO or device): a cached build hashes its "
            "inputs' content, and a pipe cannot be read again; write it to a file first",
            source=path,
        )
    identity = f"{os.path.abspath(path)}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}|{st.st_ino}"
    memo = output_root() / "fingerprints" / hashlib.sha256(identity.encode()).hexdigest()
    try:
        known = memo.read_text().strip()
        if len(known) == 64:
            return known
    except OSError:
        pass
    digest = hashlib.sha256()
    buf = memoryview(bytearray(block))  # one buffer read into: no fresh block per read
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            digest.update(buf[:n])
    try:  # best effort: write to a temporary name, then rename (atomic)
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_name(f"{memo.name}.{uuid.uuid4().hex[:8]}")
        tmp.write_text(digest.hexdigest())
        os.replace(tmp, memo)
    except OSError:
        pass
    return digest.hexdigest()


def fingerprint(path: str | os.PathLike) -> str:
    """A local file's content hash; a URL's metadata hash (never a download).

    For a URL: the SHA-256 of the URL, size, ``ETag`` and ``Last-Modified`` the server
    answers a ``HEAD`` with (:func:`genomarray.io.remote.remote_fingerprint`): a file
    replaced on the server gives a new key (and a rebuilt cache) without being downloaded.

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> fingerprint(example_path("genome.fa")) == file_fingerprint(example_path("genome.fa"))
    True
    """
    from genomarray.io.remote import remote_fingerprint

    path = local_path(path)
    return remote_fingerprint(path) if is_url(path) else file_fingerprint(path)


def cache_key(kind: str, inputs: Sequence[str | os.PathLike], **params: Any) -> str:
    """Return the cache key of a build: its kind, its inputs' content and its parameters.

    Examples
    --------
    >>> from genomarray.data import example_path
    >>> cache_key("fasta", [example_path("genome.fa")], chunk=65536).startswith("fasta-")
    True
    """
    payload = json.dumps(
        {
            "kind": kind,
            "format": CACHE_FORMAT,
            "inputs": [fingerprint(p) for p in inputs],
            "params": params,
        },
        sort_keys=True,
        default=str,
    )
    return f"{kind}-{hashlib.sha256(payload.encode()).hexdigest()[:24]}"


def cached(
    key: str,
    build: Callable[[], xr.DataArray],
    path: str | os.PathLike | None = None,
    progress: bool = True,
    rebuild: bool = False,
    storage_options: dict[str, Any] | None = None,
) -> xr.DataArray:
    """Return the array stored under ``key`` in the cache, building and writing it once.

    ``build`` returns a lazy array; it is written atomically to ``path`` (default:
    ``<output root>/cache/<key>.zarr``) and the store is reopened lazily. Two builds of
    the same key at once are safe: one rename wins, the other result is discarded.
    A cache store found damaged when opened is rebuilt with a warning; a damaged store at
    a given ``path`` raises :class:`~genomarray.errors.StoreError`. ``path`` may be an
    fsspec URL (``s3://bucket/x.zarr``; opened with ``storage_options``).

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> make = lambda: model.sequence_genome(np.zeros((1, 8), np.uint8), ["c"], [8])
    >>> target = os.path.join(tempfile.mkdtemp(), "demo.zarr")
    >>> cached("demo-1", make, path=target, progress=False).sizes["pos"]
    8
    """
    so = storage_options
    target = local_path(path) if path is not None else cache_dir() / f"{key}.zarr"
    if not is_url(target):
        target = Path(target)
    if not rebuild and store_exists(target, so):
        try:
            return _check_key(open_zarr(target, storage_options=so), target, key)
        except StoreError as err:
            if path is not None:
                raise
            where = f"{err.record}: " if err.record else ""
            warnings.warn(
                f"genomarray: cache store {target} is damaged ({where}{err.problem}); "
                "rebuilding it",
                stacklevel=3,
            )
            rebuild = True
    if rebuild or not store_exists(target, so):
        arr = build()
        arr.attrs[model.CACHE_KEY] = key
        try:  # rebuild: the old store is swapped out only once the new one is complete
            write_zarr(arr, target, overwrite=rebuild, progress=progress, storage_options=so)
        except FileExistsError:
            if not store_exists(target, so):
                raise  # another process finished first otherwise: use its store
    return _check_key(open_zarr(target, storage_options=so), target, key)


def _check_key(arr: xr.DataArray, target: Path | str, key: str) -> xr.DataArray:
    if arr.attrs.get(model.CACHE_KEY) != key:
        raise FileExistsError(
            f"{target} holds another build (cache key "
            f"{arr.attrs.get(model.CACHE_KEY)!r}, expected {key!r}); remove it "
            "or choose another store path"
        )
    return arr
