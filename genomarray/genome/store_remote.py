"""zarr stores at fsspec URLs (``s3://``, ``memory://``, ... read-write; ``http(s)://`` read-only).

Used by :func:`genomarray.genome.store.write_zarr` and
:func:`~genomarray.genome.store.open_zarr` for a path that is a URL; ``storage_options``
(credentials, ``endpoint_url``, ...) are handed to fsspec as they are, and travel with the
dask graph to the workers of a cluster.

**Writing.** An object store has no rename, so the local recipe (write a temporary
folder, rename it) becomes:

1. the store is written under the temporary prefix ``<url>.partial-<id>/`` (by the workers
   of a cluster too), its metadata consolidated, its manifest built from what is there
   (sizes from the listing, CRC-32 from reading the objects back once);
2. it is copied into place object by object (a server-side copy on S3: no data passes
   through this process); over an existing store (``overwrite=True`` only) the old
   manifest is deleted first, so the old store reads as incomplete from then on, and the
   old objects the new store does not have are removed after the copy;
3. the manifest is written last (one ``PUT``, atomic): readers refuse a store without one,
   so a store is never taken as complete before it is.

On failure the temporary prefix is removed (and the target, if the copy had begun); a
store already complete at the target is never touched unless ``overwrite=True``. A
process killed mid-write leaves at most a ``.partial-<id>`` prefix, which no reader opens.

**Reading.** The manifest is read first; the store's objects are listed and compared with
it (names; S3 lists 1,000 objects per request). Every chunk is checked, size and CRC-32,
as it is read (:func:`remote_manifest_store`). Stores are written with consolidated
metadata, which a plain HTTP server needs: it cannot list folders, and zarr opens a store
without consolidated metadata there as an empty group; such a store is refused with a
:class:`~genomarray.errors.StoreError` rather than opened empty. Over HTTP the names are
not compared on open (no listing); chunks are still checked when read. Network failures
are :class:`~genomarray.io.remote.RemoteError` naming the URL.
"""

from __future__ import annotations

import contextlib
import json
import uuid
import warnings
import zlib
from typing import Any

import xarray as xr

from genomarray import model
from genomarray.errors import InputError, StoreError
from genomarray.genome import manifest
from genomarray.genome.compute import compute_writes
from genomarray.io.remote import (
    RemoteError,
    RemoteNotFoundError,
    describe,
    filesystem,
    is_http,
    remote_error,
)

CONSOLIDATED = "consolidated_metadata"
"""The key of zarr 3's (provisional) consolidated metadata in the root ``zarr.json``."""


_NETWORK_LIBRARIES = ("aiohttp", "botocore", "aiobotocore", "s3fs")


def _network(err: BaseException) -> bool:
    """Whether ``err`` is a network failure: one :func:`~genomarray.io.remote.describe`
    recognises, or any error of the HTTP/S3 libraries (genomarray's own errors, such as an
    input's :class:`~genomarray.io.remote.RemoteError`, pass as they are)."""
    if isinstance(err, InputError) or not isinstance(err, Exception):
        return False
    recognised = not describe(err)[0].startswith(type(err).__name__)
    return recognised or type(err).__module__.split(".")[0] in _NETWORK_LIBRARIES


def consolidate(url: str, storage_options: dict[str, Any] | None) -> None:
    """Write the consolidated metadata of the zarr 3 store at ``url`` (or a local folder)."""
    import zarr

    target: Any = url
    if "://" in url:
        from zarr.storage import FsspecStore

        target = FsspecStore.from_url(url, storage_options=storage_options)
    with warnings.catch_warnings():  # "not yet part of the zarr 3 specification"
        warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)
        zarr.consolidate_metadata(target, zarr_format=3)


def write_remote(
    ds: xr.Dataset,
    url: str,
    encoding: dict[str, Any],
    overwrite: bool,
    progress: bool,
    storage_options: dict[str, Any] | None,
) -> str:
    """Write ``ds`` to a zarr 3 store at ``url`` as the module doc says; return ``url``.

    Raises
    ------
    InputError
        ``url`` is an ``http(s)://`` URL (read-only).
    FileExistsError
        Something is stored at ``url`` and ``overwrite`` is False.
    RemoteError
        A network failure, naming the URL (nothing is left at ``url``).
    """
    if is_http(url):
        raise InputError(
            "cannot write a zarr store over plain HTTP (read-only: no PUT); write it to an "
            "object store (s3://...) or a local folder and serve that",
            source=url,
        )
    so = storage_options
    fs, root = filesystem(url, so)
    root = root.rstrip("/")
    target = manifest.tree(url, so)
    try:
        old = target.listing(False) or {}
    except Exception as err:  # noqa: BLE001 - named below
        raise remote_error(url, err, "list the store") from err
    if old and not overwrite:
        raise FileExistsError(f"{url} exists; pass overwrite=True to replace it")
    tmp_root = f"{root}.partial-{uuid.uuid4().hex[:12]}"
    tmp_url = fs.unstrip_protocol(tmp_root)
    published = False
    try:
        delayed = ds.to_zarr(
            tmp_url,
            storage_options=so,
            mode="w",
            encoding=encoding,
            compute=False,
            consolidated=False,
            zarr_format=3,
        )
        compute_writes(delayed, progress, f"writing {url}")
        consolidate(tmp_url, so)
        built = manifest.build_manifest(tmp_url, storage_options=so)
        if not overwrite and manifest.read_manifest(url, so) is not None:
            return url  # another writer completed the same store meanwhile: keep it
        published = True
        old = target.listing(False) or {}
        if old:
            target.remove(manifest.MANIFEST_FILE)  # the old store is incomplete from now
        names = sorted(built["files"])
        fs.copy([f"{tmp_root}/{r}" for r in names], [f"{root}/{r}" for r in names])
        stale = sorted(set(old) - set(names) - manifest.OWN_FILES)
        if stale:
            fs.rm([f"{root}/{r}" for r in stale])
        manifest.write_manifest(url, so, manifest=built)  # the last step: now complete
    except BaseException as err:
        if published:
            with contextlib.suppress(Exception):
                fs.rm(root, recursive=True)
        if _network(err):
            raise remote_error(url, err, "write the store") from err
        raise
    finally:
        with contextlib.suppress(Exception):
            fs.rm(tmp_root, recursive=True)
    return url


# -- reading ------------------------------------------------------------------------------

_MANIFESTS: dict[tuple[str, int], tuple[dict, frozenset]] = {}
"""Manifests of remote stores read in this process, by (URL, digest)."""


def _manifest_of(url: str, digest: int, so: dict[str, Any] | None) -> tuple[dict, frozenset]:
    got = _MANIFESTS.get((url, digest))
    if got is None:
        try:
            man = manifest.read_manifest(url, so)
        except ValueError:
            man = None
        if man is None or man["digest"] != digest:
            raise StoreError(
                "was replaced or rewritten since it was opened (its manifest changed)",
                url,
                "open it again",
            )
        got = remember(url, man)
    return got


def remember(url: str, man: dict) -> tuple[dict, frozenset]:
    """Keep a remote store's manifest for this process (at most 32)."""
    while len(_MANIFESTS) >= 32:
        _MANIFESTS.pop(next(iter(_MANIFESTS)), None)
    got = _MANIFESTS[url, man["digest"]] = man["files"], frozenset(man["absent"])
    return got


def _slice(raw: bytes, byte_range: Any) -> bytes:
    from zarr.abc.store import OffsetByteRequest, RangeByteRequest, SuffixByteRequest

    if byte_range is None:
        return raw
    if isinstance(byte_range, RangeByteRequest):
        return raw[byte_range.start : byte_range.end]
    if isinstance(byte_range, OffsetByteRequest):
        return raw[byte_range.offset :]
    if isinstance(byte_range, SuffixByteRequest):
        return raw[max(0, len(raw) - byte_range.suffix) :]
    raise TypeError(f"Unexpected byte_range, got {byte_range}.")


def _store_class() -> type:
    from zarr.core.buffer.core import default_buffer_prototype
    from zarr.storage import FsspecStore

    class RemoteManifestStore(FsspecStore):
        """A zarr ``FsspecStore`` that checks every file it reads against the manifest,
        as the local ``ManifestStore`` does, and names the URL on a network failure
        (fsspec's HTTP filesystem reports a refused connection as ``FileNotFoundError``,
        which zarr would take for a missing chunk, i.e. fill values)."""

        def __init__(
            self,
            fs: Any,
            path: str,
            *,
            url: str,
            storage_options: dict[str, Any] | None,
            digest: int,
            read_only: bool = True,
        ) -> None:
            super().__init__(fs=fs, read_only=read_only, path=path)
            self.url, self.storage_options, self.digest = url, storage_options, digest
            self.root, self.cache = url, False  # as ManifestStore (``verify`` names them)

        def with_read_only(self, read_only: bool = False) -> RemoteManifestStore:
            return type(self)(
                self.fs,
                self.path,
                url=self.url,
                storage_options=self.storage_options,
                digest=self.digest,
                read_only=read_only,
            )

        def __reduce__(self) -> tuple:
            return (remote_manifest_store, (self.url, self.storage_options, self.digest))

        def fail(self, key: str, what: str) -> None:
            from genomarray.genome.store import store_error

            raise store_error(self.url, [manifest.Problem(key, what)], False)

        async def _cat(self, key: str) -> bytes | None:
            try:
                return await self.fs._cat_file(f"{self.path.rstrip('/')}/{key}")
            except Exception as err:  # noqa: BLE001 - a 404 is None, the rest is named
                if isinstance(err, FileNotFoundError) and describe(err)[1]:
                    return None
                raise remote_error(f"{self.url.rstrip('/')}/{key}", err, "read the store") from err

        async def get(self, key: str, prototype: Any = None, byte_range: Any = None) -> Any:
            files, absent = _manifest_of(self.url, self.digest, self.storage_options)
            if prototype is None:
                prototype = default_buffer_prototype()
            if not self._is_open:
                await self._open()
            expected = files.get(key)
            raw = await self._cat(key)
            if expected is None:
                if key in absent and raw is not None:
                    self.fail(key, "is present, but was not written (fill value only)")
                if raw is None:
                    return None
                return prototype.buffer.from_bytes(_slice(raw, byte_range))
            size, crc = expected
            if raw is None:
                self.fail(key, f"is missing (the manifest lists it, {size:,} bytes)")
            if len(raw) != size:
                self.fail(key, f"is {len(raw):,} bytes, the manifest says {size:,} (truncated)")
            if zlib.crc32(raw) != crc:
                self.fail(key, "has other bytes than were written (checksum mismatch)")
            return prototype.buffer.from_bytes(_slice(raw, byte_range))

        async def get_partial_values(self, prototype: Any, key_ranges: Any) -> list:
            return [await self.get(key, prototype, rng) for key, rng in key_ranges]

        async def list_dir(self, prefix: str) -> Any:  # the manifest is no zarr node
            async for key in super().list_dir(prefix):
                if prefix.strip("/") or key not in manifest.OWN_FILES:
                    yield key

    return RemoteManifestStore


_CLASS: list[type] = []


def remote_manifest_store(url: str, storage_options: dict[str, Any] | None, digest: int) -> Any:
    """A read-only zarr store on ``url`` that checks every file it reads against the
    store's manifest (whose digest is ``digest``); pickles as its URL, options and digest
    (a worker of a cluster reads the manifest once per process)."""
    from zarr.storage import FsspecStore

    if not _CLASS:
        _CLASS.append(_store_class())
    base = FsspecStore.from_url(url, storage_options=storage_options, read_only=True)
    return _CLASS[0](base.fs, base.path, url=url, storage_options=storage_options, digest=digest)


def open_remote(url: str, verify: bool, storage_options: dict[str, Any] | None) -> xr.Dataset:
    """The Dataset of the genomarray store at ``url``, checked against its manifest.

    Raises
    ------
    RemoteNotFoundError
        Nothing is stored at ``url``.
    StoreError
        No manifest (incomplete, or written by an older genomarray), a mismatch, or (over
        HTTP) no consolidated metadata.
    RemoteError
        A network failure.
    """
    from genomarray.genome.store import NO_MANIFEST, USER_REMEDY, decode_all, store_error

    files = manifest.tree(url, storage_options)
    try:
        try:
            man = manifest.read_manifest(url, storage_options)
        except ValueError as err:
            raise StoreError(str(err), url, USER_REMEDY) from None
        try:
            root = json.loads(files.read("zarr.json"))
        except FileNotFoundError as err:
            if describe(err)[1]:
                raise RemoteNotFoundError("zarr store not found", source=url) from None
            raise
        if man is None:
            if model.STORE_VAR not in root.get("attributes", {}):
                raise ValueError(f"{url} is not a genomarray store (no 'genomarray_var' attribute)")
            raise StoreError(NO_MANIFEST, url, USER_REMEDY)
        check = manifest.verify if verify else manifest.check
        problems = check(url, man, storage_options=storage_options)
    except (StoreError, ValueError):
        raise
    except Exception as err:  # noqa: BLE001 - network errors, named with the URL
        raise remote_error(url, err, "open the store") from err
    if problems:
        raise store_error(url, problems, False)
    consolidated = bool(root.get(CONSOLIDATED))
    if is_http(url) and not consolidated:
        raise StoreError(
            "has no consolidated metadata, which a store read over plain HTTP needs (a web "
            "server cannot list the store's arrays, and zarr would open it as an empty "
            "group)",
            url,
            "write it again with genomarray's write_zarr, which consolidates its metadata",
        )
    remember(url, man)
    store = remote_manifest_store(url, storage_options, man["digest"])
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)
            ds = xr.open_zarr(store, chunks={}, consolidated=consolidated, zarr_format=3)
    except RemoteError:
        raise
    except Exception as err:  # noqa: BLE001
        if _network(err):
            raise remote_error(url, err, "open the store") from err
        raise
    if verify:
        decode_all(store, man)
    return ds
