"""zarr 3 stores of genomarray arrays: written atomically, opened lazily.

Writes are atomic (:func:`genomarray.atomic.atomic_dir`): a store is written to
``<path>.partial-<id>`` and renamed into place only when complete, so an error or an
interrupt never leaves a half-written store that a later run would take as complete.
Stores carry consolidated metadata (so that one can be read over plain HTTP, where
folders cannot be listed).

A path may be an fsspec URL (``s3://bucket/x.zarr``, ``http(s)://`` read-only,
``file://``), with ``storage_options`` handed to fsspec: see
:mod:`genomarray.genome.store_remote` for how a store is written where nothing can be
renamed.

Stores check themselves (:mod:`genomarray.genome.manifest`): the writer records a manifest
of the files written as its last step; every open compares the files with it (count and
sizes), and every chunk read through :class:`ManifestStore` is compared (size and CRC-32)
before it is decoded. A mismatch is a :class:`~genomarray.errors.StoreError` naming the
store, the array, the chunk and the remedy.
"""

from __future__ import annotations

import asyncio
import json
import os
import zlib
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from genomarray import model
from genomarray._version import __version__
from genomarray.atomic import atomic_dir
from genomarray.errors import StoreError
from genomarray.genome import manifest
from genomarray.genome.compute import rechunk, write_dataset
from genomarray.genome.graph import DEFAULT_CHUNK, decoded_as_stored
from genomarray.genome.quick_values import quick_values, with_recipe
from genomarray.io.remote import describe, is_url, local_path, remote_error
from genomarray.paths import output_root

# -- zarr -------------------------------------------------------------------------------


CODEC = "lz4"
"""Blosc's inner codec for every store. Measured per array kind (``benchmarks/bench_codecs.py``,
table in docs/concepts.md "Storage and caching"): lz4 encodes int32 coverage counts ~10x
faster than zstd-5 (1.0-1.2 vs 0.1 GB/s on one thread: a cold build was compression-bound)
and float32 signal ~60x faster, decodes as fast or faster, for a ratio 1.5-2.5x lower
(coverage 13x instead of 33x smaller than raw)."""
CODEC_LEVEL = 5


def _compressors(dtype: np.dtype, labels: bool = False) -> list:
    """Blosc lz4-5 with bit-shuffle for 1-byte dtypes (sequence codes: 3.9x smaller, vs
    1.7x with byte shuffle), byte shuffle otherwise (coverage counts, signal) and for
    label tracks of any dtype (sparse 0/1: as small, and uint8 labels decode ~10x faster
    than bit-shuffled: 19 vs 1.8 GB/s)."""
    from zarr.codecs import BloscCodec

    shuffle = "bitshuffle" if np.dtype(dtype).itemsize == 1 and not labels else "shuffle"
    return [BloscCodec(cname=CODEC, clevel=CODEC_LEVEL, shuffle=shuffle)]


def _to_dataset(arr: xr.DataArray) -> xr.Dataset:
    name = arr.name or "data"
    ds = arr.to_dataset(name=name)
    ds.attrs[model.STORE_VAR] = name
    ds.attrs[model.STORE_VERSION] = __version__
    return ds


def _uniform_chunks(arr: xr.DataArray, chunks: dict[str, int] | None) -> da.Array:
    """The data as a dask array with the uniform chunks zarr needs (the last may be
    shorter): lazy views have uneven ones; numpy data gets 1 Mb chunks along ``pos``."""
    data = arr.data
    if isinstance(data, da.Array) and not chunks:
        return rechunk(data, tuple(max(c) for c in data.chunks))
    spec = {d: arr.sizes[d] for d in arr.dims}
    if model.POS in spec and arr.dims[0] == model.CHROM:
        spec[model.CHROM] = 1
        spec[model.POS] = min(DEFAULT_CHUNK, arr.sizes[model.POS])
    spec.update(chunks or {})
    sizes = tuple(spec[d] for d in arr.dims)
    return rechunk(data, sizes) if isinstance(data, da.Array) else da.from_array(data, sizes)


def write_zarr(
    arr: xr.DataArray,
    path: str | os.PathLike,
    overwrite: bool = False,
    chunks: dict[str, int] | None = None,
    progress: bool = True,
    storage_options: dict[str, Any] | None = None,
) -> Path | str:
    """Write a genomarray array to a zarr 3 store, atomically.

    Chunks that hold only the fill value are not written (they cost nothing on disk).
    Compression is blosc lz4, bit-shuffled for 1-byte dtypes other than labels, else
    byte-shuffled (:func:`_compressors`; measured per array kind in docs/concepts.md).

    Parameters
    ----------
    arr
        The array to write (numpy- or dask-backed).
    path
        Target folder (``.zarr``), or an fsspec URL (``s3://bucket/x.zarr``; ``file://``).
    overwrite
        Replace an existing store.
    chunks
        Chunk sizes per dim; default: the dask chunks, else 64 kb along ``pos``.
    progress
        Show a progress bar while writing.
    storage_options
        fsspec options for a URL (credentials, ``endpoint_url``, ...).

    Returns
    -------
    Path or str
        The store's path (a URL as a string).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> g = model.sequence_genome(np.zeros((1, 8), np.uint8), ["chr1"], [8])
    >>> p = write_zarr(g, os.path.join(tempfile.mkdtemp(), "g.zarr"), progress=False)
    >>> open_zarr(p).sizes["pos"]
    8
    """
    arr = arr.copy(data=_uniform_chunks(arr, chunks))
    lazy_coords = {k: c.compute() for k, c in arr.coords.items() if c.chunks is not None}
    arr = arr.assign_coords(lazy_coords)  # per-region / per-chromosome labels: small
    ds = _to_dataset(arr)
    name = ds.attrs[model.STORE_VAR]
    compressors = _compressors(arr.dtype, model.is_label_track(arr))
    encoding = {name: {"compressors": compressors, "fill_value": model.fill_value(arr)}}
    path = local_path(path)
    if is_url(path):
        from genomarray.genome.store_remote import write_remote

        return write_remote(ds, path, encoding, overwrite, progress, storage_options)
    with atomic_dir(path, overwrite=overwrite) as tmp:
        write_dataset(
            ds,
            tmp,
            progress,
            f"writing {path}",
            direct=name,
            mode="w",
            encoding=encoding,
            consolidated=False,
            zarr_format=3,
        )
        finish_store(tmp)  # the last step before the rename
    return Path(path)


def finish_store(path: str | os.PathLike) -> None:
    """Consolidate a written local store's metadata, then record its manifest (last)."""
    from genomarray.genome.store_remote import consolidate

    consolidate(os.fspath(path), None)
    manifest.write_manifest(path)


def store_exists(path: str | os.PathLike, storage_options: dict[str, Any] | None = None) -> bool:
    """Whether anything is stored at ``path`` (a folder, or an fsspec URL's prefix).

    Examples
    --------
    >>> store_exists("/no/such/store.zarr")
    False
    """
    path = local_path(path)
    if not is_url(path):
        return os.path.exists(path)
    files = manifest.tree(path, storage_options)
    try:
        found = files.listing(False)
        if found is None:  # plain HTTP: no listing; a store has its root metadata
            files.read("zarr.json")
            return True
        return bool(found)
    except FileNotFoundError as err:
        if describe(err)[1]:
            return False
        raise remote_error(path, err, "look for the store") from err
    except Exception as err:  # noqa: BLE001 - network errors, named with the URL
        raise remote_error(path, err, "look for the store") from err


CACHE_REMEDY = "it is a genomarray cache store: the next read_* call rebuilds it (or delete it)"
USER_REMEDY = (
    "remove it and write it again (the write_zarr, .janggu.to_zarr, read_*(store_path=...) "
    "or genomarray build that made it)"
)
NO_MANIFEST = (
    "has no manifest (genomarray_manifest.json): it was written by an older genomarray, "
    "or its writing or copying was interrupted"
)


def is_cache_store(path: str | os.PathLike) -> bool:
    """Whether ``path`` lies in genomarray's cache folder (``<output root>/cache``)."""
    if is_url(path):
        return False
    return Path(path).resolve().parent == (output_root() / "cache").resolve()


def _remedy(cache: bool, adopt: bool = False) -> str:
    if cache:
        return CACHE_REMEDY
    if adopt:
        return (
            f"{USER_REMEDY}; if you know it is complete, adopt it with "
            "genomarray.genome.manifest.write_manifest(path)"
        )
    return USER_REMEDY


def store_error(path: str, problems: list[manifest.Problem], cache: bool) -> StoreError:
    """Return the :class:`StoreError` reporting ``problems`` (the first, and how many more)."""
    first = problems[0]
    array, chunk = manifest.split_key(first.file)
    what = first.what if array is not None or not first.file else f"{first.file} {first.what}"
    if len(problems) > 1:
        more = problems[1]
        what += f" (and {len(problems) - 1} more, such as {more.file} {more.what})"
    return StoreError(what, path, _remedy(cache), array, chunk if array is not None else None)


def _read_crc(path: Path) -> tuple[bytes, int] | None:
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    return raw, zlib.crc32(raw)


def _byte_range(raw: bytes, byte_range: Any) -> bytes:
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


_MANIFESTS: dict[tuple[str, int], tuple[dict, frozenset]] = {}
"""Manifests read in this process, by (store, digest of the manifest file): a pickled
``ManifestStore`` carries only the digest and reads the manifest once per process."""


def _manifest_of(root: str, digest: int, cache: bool) -> tuple[dict, frozenset]:
    got = _MANIFESTS.get((root, digest))
    if got is None:
        try:
            man = manifest.read_manifest(root)
        except ValueError:
            man = None
        if man is None or man["digest"] != digest:
            raise StoreError(
                "was replaced or rewritten since it was opened (its manifest changed)",
                root,
                "open it again",
            )
        got = _remember(root, man)
    return got


def _remember(root: str, man: dict) -> tuple[dict, frozenset]:
    while len(_MANIFESTS) >= 32:
        _MANIFESTS.pop(next(iter(_MANIFESTS)), None)
    got = _MANIFESTS[root, man["digest"]] = man["files"], frozenset(man["absent"])
    return got


def _manifest_store_class() -> type:
    from zarr.core.buffer.core import default_buffer_prototype
    from zarr.storage import LocalStore

    class ManifestStore(LocalStore):
        """A zarr ``LocalStore`` that checks every file it reads against the manifest.

        A file the manifest lists must exist with its size and CRC-32 (computed on the
        reading thread, ~3 GB/s of compressed bytes), and a chunk it records as absent
        (fill value only) must not exist; otherwise :class:`StoreError`, before any codec
        sees the bytes. Pickles small (root, the manifest's digest, the cache flag): on a
        ``distributed`` worker the manifest is read once per process, and a store whose
        manifest changed since it was opened is an error.
        """

        def __init__(
            self, root: str | os.PathLike, *, read_only: bool = True, digest: int, cache: bool
        ) -> None:
            super().__init__(Path(root), read_only=read_only)
            self.digest, self.cache = digest, cache

        def with_read_only(self, read_only: bool = False) -> ManifestStore:
            return type(self)(self.root, read_only=read_only, digest=self.digest, cache=self.cache)

        def __reduce__(self) -> tuple:
            return (manifest_store, (str(self.root), self.digest, self.cache))

        def fail(self, key: str, what: str) -> None:
            if self.cache:  # best effort: the next open of the cache store rebuilds it
                try:
                    (self.root / manifest.DAMAGED_FILE).write_text(f"{key} {what}\n")
                except OSError:
                    pass
            raise store_error(str(self.root), [manifest.Problem(key, what)], self.cache)

        async def get(self, key: str, prototype: Any = None, byte_range: Any = None) -> Any:
            files, absent = _manifest_of(str(self.root), self.digest, self.cache)
            expected = files.get(key)
            if expected is None and key not in absent:
                return await super().get(key, prototype, byte_range)
            if prototype is None:
                prototype = default_buffer_prototype()
            if not self._is_open:
                await self._open()
            got = await asyncio.to_thread(_read_crc, self.root / key)
            if expected is None:
                if got is not None:
                    self.fail(key, "is present, but was not written (fill value only)")
                return None
            size, crc = expected
            if got is None:
                self.fail(key, f"is missing (the manifest lists it, {size:,} bytes)")
            raw, found = got
            if len(raw) != size:
                self.fail(key, f"is {len(raw):,} bytes, the manifest says {size:,} (truncated)")
            if found != crc:
                self.fail(key, "has other bytes than were written (checksum mismatch)")
            return prototype.buffer.from_bytes(_byte_range(raw, byte_range))

        async def list_dir(self, prefix: str) -> Any:  # the manifest is no zarr node
            async for key in super().list_dir(prefix):
                if prefix.strip("/") or key not in manifest.OWN_FILES:
                    yield key

        async def get_partial_values(self, prototype: Any, key_ranges: Any) -> list:
            return [await self.get(key, prototype, rng) for key, rng in key_ranges]

    return ManifestStore


_STORE_CLASS: list[type] = []


def manifest_store(root: str | os.PathLike, digest: int, cache: bool = False) -> Any:
    """Return a ``ManifestStore`` on ``root``: a read-only zarr ``LocalStore`` that checks
    every file it reads against the store's manifest (whose digest is ``digest``, see
    :func:`genomarray.genome.manifest.read_manifest`). The class is defined on first use,
    so that ``import genomarray`` does not import zarr.

    Examples
    --------
    >>> import numpy as np, tempfile, os, pickle
    >>> from genomarray.genome import manifest
    >>> g = model.sequence_genome(np.zeros((1, 8), np.uint8), ["chr1"], [8])
    >>> p = write_zarr(g, os.path.join(tempfile.mkdtemp(), "g.zarr"), progress=False)
    >>> s = manifest_store(p, manifest.read_manifest(p)["digest"])
    >>> pickle.loads(pickle.dumps(s)).digest == s.digest
    True
    """
    if not _STORE_CLASS:
        _STORE_CLASS.append(_manifest_store_class())
    return _STORE_CLASS[0](os.fspath(root), digest=digest, cache=cache)


def _load_manifest(path: str, cache: bool) -> dict:
    try:
        man = manifest.read_manifest(path)
    except ValueError as err:
        raise StoreError(str(err), path, _remedy(cache)) from None
    if man is not None:
        return man
    try:
        root = json.loads((Path(path) / "zarr.json").read_text())
    except (OSError, ValueError):
        root = {}
    if model.STORE_VAR not in root.get("attributes", {}):
        raise ValueError(f"{path} is not a genomarray store (no 'genomarray_var' attribute)")
    raise StoreError(NO_MANIFEST, path, _remedy(cache, adopt=True))


def decode_all(store: Any, man: dict, slab_bytes: int = 64 << 20) -> None:
    """Decode every written chunk (``verify=True``): codec damage is a StoreError too.

    Chunks are decoded in slabs of up to ``slab_bytes`` along the array's longest chunk
    axis (one read per slab, its chunks decoded concurrently); a slab that fails is read
    again chunk by chunk to name the chunk at fault.
    """
    import zarr

    group = zarr.open_group(store, mode="r", zarr_format=3)
    written: dict[str, list[tuple[int, ...]]] = {}
    for rel in man["files"]:
        name, key = manifest.split_key(rel)
        if name is not None:
            written.setdefault(name, []).append(tuple(int(i) for i in key.split("/")[1:]))
    for name, blocks in written.items():
        arr = group[name] if name else zarr.open_array(store, mode="r", zarr_format=3)
        if not arr.ndim:
            _decode(store, arr, name, ())
            continue
        grid = [-(-n // c) for n, c in zip(arr.shape, arr.chunks, strict=True)]
        axis = int(np.argmax(grid))
        step = max(1, slab_bytes // (int(np.prod(arr.chunks)) * arr.dtype.itemsize))
        runs: dict[tuple, list[int]] = {}
        for idx in blocks:
            runs.setdefault(idx[:axis] + idx[axis + 1 :], []).append(idx[axis])
        for rest, along in runs.items():
            along.sort()
            for i in range(0, len(along), step):
                part = along[i : i + step]
                sel = rest[:axis] + (slice(part[0], part[-1] + 1),) + rest[axis:]
                try:
                    _ = arr.blocks[sel]
                except StoreError:
                    raise
                except Exception:  # a codec's error: find the chunk
                    for j in part:
                        _decode(store, arr, name, rest[:axis] + (j,) + rest[axis:])


def _consolidated(root: str) -> bool:
    """Whether the local store's root ``zarr.json`` holds consolidated metadata (stores
    written before genomarray consolidated them do not)."""
    try:
        meta = json.loads((Path(root) / "zarr.json").read_text())
    except (OSError, ValueError):
        return False
    return bool(meta.get("consolidated_metadata"))


def _decode(store: Any, arr: Any, name: str, idx: tuple[int, ...]) -> None:
    try:
        _ = arr.blocks[idx] if idx else arr[...]
    except StoreError:
        raise
    except Exception as err:  # the bytes were damaged before the manifest was recorded
        rel = (f"{name}/" if name else "") + "/".join(("c", *map(str, idx)))
        problem = manifest.Problem(rel, f"does not decode ({type(err).__name__}: {err})")
        raise store_error(str(store.root), [problem], store.cache) from None


def open_zarr(
    path: str | os.PathLike, verify: bool = False, storage_options: dict[str, Any] | None = None
) -> xr.DataArray:
    """Open a store written by :func:`write_zarr` lazily, with dask chunks = zarr chunks.

    Opening costs O(chromosomes) memory whatever the genome size: no ``pos`` coordinate
    is materialised. The store's files are checked against its manifest (count and
    sizes, no reads: ~10 ms for 6,000 chunks) and every chunk is checked (size and
    CRC-32) when it is read.

    Parameters
    ----------
    path
        The store's folder, or an fsspec URL (``s3://...``, ``http(s)://...`` read-only,
        ``file://...``): see :mod:`genomarray.genome.store_remote`.
    verify
        Also read every file, compare checksums and decode every chunk (reads the whole
        store once).
    storage_options
        fsspec options for a URL (credentials, ``endpoint_url``, ...).

    Raises
    ------
    StoreError
        The store does not match its manifest, or has none: names the store, the file
        or chunk and the remedy (a cache store: the next ``read_*`` rebuilds it).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> g = model.sequence_genome(np.zeros((1, 8), np.uint8), ["chr1"], [8])
    >>> p = write_zarr(g, os.path.join(tempfile.mkdtemp(), "g.zarr"), progress=False)
    >>> open_zarr(p, verify=True).attrs["alphabet"]
    'dna'
    """
    path = local_path(path)
    if is_url(path):
        from genomarray.genome.store_remote import open_remote

        ds = open_remote(path, verify, storage_options)
    else:
        if not os.path.isdir(path):
            raise FileNotFoundError(f"zarr store not found: {path}")
        cache = is_cache_store(path)
        man = _load_manifest(path, cache)
        problems = manifest.verify(path, man) if verify else manifest.check(path, man)
        if problems:
            raise store_error(path, problems, cache)
        root = os.path.abspath(path)  # workers of a cluster may run in another folder
        _remember(root, man)
        store = manifest_store(root, man["digest"], cache)
        ds = xr.open_zarr(store, chunks=None, consolidated=_consolidated(root), zarr_format=3)
        ds = _chunked(ds, f"{root}:{man['digest']}")
        if verify:
            decode_all(store, man)
    name = ds.attrs.get(model.STORE_VAR)
    if name is None or name not in ds:
        raise ValueError(f"{path} is not a genomarray store (no 'genomarray_var' attribute)")
    arr = ds[name]
    # zarr 3 returns text as numpy StringDType; labels are object arrays of str everywhere
    text = {
        k: (c.dims, np.asarray(c.values).astype(object))
        for k, c in arr.coords.items()
        if c.dtype.kind == "T"
    }
    arr = arr.assign_coords(text)
    arr = _load_small_coords(arr)
    arr.attrs.setdefault(model.SOURCE, model.source_stamp())
    arr.encoding["store"] = path
    if not is_url(path) and decoded_as_stored(arr):  # the batch engine reads its chunks
        model.record_recipe(
            arr,
            model.RECIPE_STORE,
            path=root,
            var=str(name),
            digest=man["digest"],  # the write it checks chunks against (manifest)
            cache=cache,
        )
        if arr.dims[:1] == (model.REGION,):  # a written view: .values as genomarray.load
            with_recipe(arr)
    return arr


def _chunked(ds: xr.Dataset, version: str) -> xr.Dataset:
    """``ds`` opened without dask (``chunks=None``) with its data variables as dask arrays
    of the zarr chunks, as ``xr.open_zarr(chunks={})`` makes them, and its other lazy
    variables (coordinates: one value per chromosome or per region) read into memory.

    Made here rather than by xarray: xarray's chunking looks its chunk managers up among
    every installed package's entry points (20-30 ms, once per process) and computes the
    coordinates through dask (~7 ms). Dask names are ``open_dataset-<var>-<token>`` with
    the token of the store's path and manifest digest (``version``), so they change
    whenever the store is written again.
    """
    from dask.base import tokenize
    from xarray.core.indexing import (
        ExplicitlyIndexed,
        ImplicitToExplicitIndexingAdapter,
        OuterIndexer,
    )

    token = tokenize(version)
    variables = {}
    for key, var in ds.variables.items():
        if var._in_memory or not var.ndim:
            variables[key] = var
        elif key not in ds.data_vars:
            variables[key] = var.load()
        else:
            data = var._data
            if isinstance(data, ExplicitlyIndexed):  # as xarray's chunk(): outer indexing
                data = ImplicitToExplicitIndexingAdapter(data, OuterIndexer)
            preferred = var.encoding.get("preferred_chunks", {})
            chunks = tuple(
                preferred.get(d, c)
                for d, c in zip(var.dims, var.encoding.get("chunks", var.shape), strict=True)
            )
            dask_data = quick_values(  # its .values skips dask's client look
                da.from_array(
                    data,
                    chunks,
                    name=f"open_dataset-{key}-{token}",
                    lock=None,
                    inline_array=False,
                    meta=np.ndarray,
                )
            )
            variables[key] = xr.Variable(var.dims, dask_data, var.attrs, var.encoding)
    return ds._replace(variables)


def _load_small_coords(arr: xr.DataArray) -> xr.DataArray:
    """The store's array with its dask-backed coordinates (``chrom_length``: one value per
    chromosome) loaded, synchronously: each read of a lazy coordinate was a dask compute,
    and the first one in a process imports ``distributed`` through dask's scheduler
    lookup (0.2 s), which a callable scheduler skips."""
    from dask.local import get_sync

    lazy = {
        k: (c.dims, c.data.compute(scheduler=get_sync))
        for k, c in arr.coords.items()
        if k not in arr.dims and isinstance(c.data, da.Array)
    }
    return arr.assign_coords(lazy) if lazy else arr
