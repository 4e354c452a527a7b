"""Self-checking stores: the manifest of the files a zarr store was written with.

zarr writes no chunk that holds only the fill value, so without a record of what was
written a lost chunk file (an interrupted copy, a cleaned scratch disk) reads back as
N or zeros, indistinguishable from empty genome. Every store genomarray writes
(:func:`genomarray.genome.store.write_zarr`: genome builds, caches, views, shuffled
stores) therefore carries ``<store>/genomarray_manifest.json``:

- ``files``: every file of the store (metadata ``zarr.json`` and chunk files, as paths
  relative to the store such as ``sequence/c/0/3``) with its size in bytes and the CRC-32
  (``zlib.crc32``, in the standard library, ~3 GB/s) of its bytes as stored, i.e. of
  the compressed chunk;
- ``absent``: the chunk keys of the chunk grid that zarr skipped because they held only
  the fill value, *absent by design*. A chunk file listed in ``files`` but missing on
  disk is damage; a file present under ``absent`` is an unexpected chunk.

The manifest is found by listing the store (an :func:`os.scandir` walk) after the write
graph has run, in the writing process, not by decoding data; the checksums read the
compressed bytes once (they are usually still in the page cache). Writes on threads and
on a ``distributed`` cluster are listed alike, as long as the store lies on a filesystem
the writing process sees. The manifest is written as the last step inside the temporary
folder, before the atomic rename, so a store without one was written by an older
genomarray or is incomplete.

Stores at fsspec URLs (``s3://bucket/x.zarr``, ``memory://``, ...; every function takes
``storage_options``) are handled alike through fsspec: listed with ``fs.find`` (sizes come
with the listing: one ``LIST`` request per 1,000 objects on S3), read with ``fs.cat``
(checksums: the writer reads its store back once), the manifest written with one ``PUT``
(atomic on object stores). A plain ``http(s)://`` server cannot list a folder, so there
the names are not compared on open (:func:`check` returns only recorded damage); every
chunk is still checked, size and CRC-32, when it is read.

Three levels of checking:

- :func:`check` (every open): the names listed against the manifest, directory reads
  only (~3 ms for 6,000 chunk files; a ``stat`` of each file for its size took ~40 ms on a
  busy local disk and costs one metadata request per file on a network filesystem, so
  sizes are compared lazily, chunk by chunk, as chunks are read).
- At read time the store's ``ManifestStore`` (:func:`genomarray.genome.store.manifest_store`)
  compares each chunk's size
  and CRC-32 as it is read, before the codec sees it: a damaged chunk is a
  :class:`~genomarray.errors.StoreError`, never a codec's error, and never silently
  wrong values (blosc/zstd frames carry no checksum of their own).
- :func:`verify` (``open_zarr(..., verify=True)``, ``genomarray info --verify``): reads
  every file and compares checksums; ``open_zarr`` then also decodes every chunk.

This module lists, reads and compares files: the standard library for local stores,
fsspec (imported on first use) for URLs.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

MANIFEST_FILE = "genomarray_manifest.json"
"""The manifest's file name, at the root of the store."""
DAMAGED_FILE = "genomarray_damaged.txt"
"""Written (best effort) into a cache store found damaged at read time: the next open
reports the damage recorded in it, so the next ``read_*`` rebuilds the store."""
FORMAT = 1
CHECKSUM = "crc32"
OWN_FILES = frozenset({MANIFEST_FILE, DAMAGED_FILE})
"""genomarray's own files at the root of a store (not part of the zarr hierarchy)."""


class Problem(NamedTuple):
    """One mismatch between a store and its manifest."""

    file: str
    """The file at fault, relative to the store (``"sequence/c/0/3"``); ``""`` for the store."""
    what: str
    """What is wrong, in words."""


def split_key(rel: str) -> tuple[str | None, str]:
    """Split a file of the store into (array, chunk key), array ``None`` if not a chunk.

    Examples
    --------
    >>> split_key("sequence/c/0/3"), split_key("sequence/zarr.json")
    (('sequence', 'c/0/3'), (None, 'sequence/zarr.json'))
    """
    head, sep, tail = ("/" + rel).partition("/c/")
    if not sep:
        return None, rel
    return head.lstrip("/"), "c/" + tail


class _LocalTree:
    """A store in a local folder: ``os.scandir`` listing, plain reads and renames."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.name = os.fspath(root)

    def listing(self, sizes: bool) -> dict[str, int] | None:
        out: dict[str, int] = {}
        stack = [(os.fspath(self.root), "")]
        while stack:
            folder, prefix = stack.pop()
            with os.scandir(folder) as entries:
                for e in entries:
                    rel = prefix + e.name
                    if e.is_dir(follow_symlinks=False):
                        stack.append((e.path, rel + "/"))
                    elif not (prefix == "" and e.name in OWN_FILES):
                        out[rel] = e.stat().st_size if sizes else -1
        return out

    def read(self, rel: str) -> bytes:
        return (self.root / rel).read_bytes()

    def crcs(self, rels: list[str], threads: int) -> dict[str, tuple[int, int] | None]:
        """``(size, CRC-32)`` of each file read (None: missing), a file at a time per thread."""

        def one(rel: str) -> tuple[int, int] | None:
            try:
                raw = self.read(rel)
            except OSError:
                return None
            return len(raw), zlib.crc32(raw)

        with ThreadPoolExecutor(max(1, min(threads, len(rels)))) as pool:
            return dict(zip(rels, pool.map(one, rels), strict=True))

    def write(self, rel: str, data: bytes) -> None:
        target = self.root / rel
        tmp = target.with_name(f"{target.name}.{uuid.uuid4().hex[:8]}")
        tmp.write_bytes(data)
        os.replace(tmp, target)

    def remove(self, rel: str) -> None:
        (self.root / rel).unlink(missing_ok=True)


class _FsTree:
    """A store at an fsspec URL: ``fs.find`` listing (None over plain HTTP), ``fs.cat``."""

    def __init__(self, url: str, storage_options: dict[str, Any] | None) -> None:
        from genomarray.io.remote import filesystem, is_http

        self.name = url
        self.fs, root = filesystem(url, storage_options)
        self.root = root.rstrip("/")
        self.http = is_http(url)

    def _path(self, rel: str) -> str:
        return f"{self.root}/{rel}"

    def listing(self, sizes: bool) -> dict[str, int] | None:
        if self.http:  # no listing of folders over plain HTTP
            return None
        self.fs.invalidate_cache(self.root)
        try:
            found = self.fs.find(self.root, detail=True)
        except FileNotFoundError:
            return {}
        out: dict[str, int] = {}
        cut = len(self.root) + 1
        for path, info in found.items():
            if info.get("type", "file") != "file":
                continue
            rel = path.rstrip("/")[cut:]
            if rel and rel not in OWN_FILES:
                out[rel] = int(info.get("size") or 0) if sizes else -1
        return out

    def read(self, rel: str) -> bytes:
        return self.fs.cat_file(self._path(rel))

    def crcs(self, rels: list[str], threads: int) -> dict[str, tuple[int, int] | None]:
        """``(size, CRC-32)`` of each file read (None: missing), ``8 * threads`` files per
        batch of concurrent requests (fsspec's async ``cat``)."""
        out: dict[str, tuple[int, int] | None] = {}
        batch = 8 * max(1, threads)
        for i in range(0, len(rels), batch):
            part = rels[i : i + batch]
            got = self.fs.cat([self._path(r) for r in part], on_error="return")
            for rel in part:
                value = got.pop(self._path(rel), None)
                if value is None or isinstance(value, FileNotFoundError):
                    out[rel] = None
                elif isinstance(value, BaseException):
                    raise value
                else:
                    out[rel] = len(value), zlib.crc32(value)
        return out

    def write(self, rel: str, data: bytes) -> None:
        self.fs.pipe_file(self._path(rel), data)  # one PUT: atomic on object stores

    def remove(self, rel: str) -> None:
        try:
            self.fs.rm_file(self._path(rel))
        except FileNotFoundError:
            pass


def tree(store: str | os.PathLike, storage_options: dict[str, Any] | None = None) -> Any:
    """The store's files, local (a folder, ``file://``) or at an fsspec URL."""
    from genomarray.io.remote import is_url, local_path

    store = local_path(store)
    return _FsTree(store, storage_options) if is_url(store) else _LocalTree(store)


def listing(
    store: str | os.PathLike, sizes: bool = True, storage_options: dict[str, Any] | None = None
) -> dict[str, int]:
    """Return every file of ``store`` (relative posix path -> size), the manifest excluded.

    ``sizes=False`` lists names only (size -1): no ``stat`` per file, only directory reads.
    A store at a URL is listed through fsspec (sizes come with the listing).

    Raises
    ------
    ValueError
        The store is on a plain HTTP server, which cannot list folders.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); (d / "a").mkdir(); _ = (d / "a" / "x").write_bytes(b"12")
    >>> listing(d)
    {'a/x': 2}
    """
    found = tree(store, storage_options).listing(sizes)
    if found is None:
        raise ValueError(f"{store}: a plain HTTP server cannot list the store's files")
    return found


def checksum(path: str | os.PathLike) -> int:
    """Return the CRC-32 of a local file's bytes (``zlib.crc32``)."""
    with open(path, "rb") as fh:
        return zlib.crc32(fh.read())


def chunk_grid(meta: dict[str, Any]) -> list[str]:
    """Return the keys of every chunk of a zarr 3 array's grid, from its ``zarr.json``.

    Examples
    --------
    >>> meta = {"shape": [1, 10], "chunk_grid": {"configuration": {"chunk_shape": [1, 4]}},
    ...         "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}}}
    >>> chunk_grid(meta)
    ['c/0/0', 'c/0/1', 'c/0/2']
    """
    shape = meta["shape"]
    chunks = meta["chunk_grid"]["configuration"]["chunk_shape"]
    encoding = meta.get("chunk_key_encoding", {"name": "default"})
    sep = encoding.get("configuration", {}).get("separator", "/")
    counts = [math.ceil(n / c) if c else 0 for n, c in zip(shape, chunks, strict=True)]
    keys = []
    for idx in itertools.product(*(range(n) for n in counts)):
        coords = sep.join(map(str, idx))
        if encoding.get("name", "default") == "default":
            keys.append(f"c{sep}{coords}" if idx else "c")
        else:  # "v2"
            keys.append(coords or "0")
    return keys


def _arrays(files: Any, names: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The arrays of the store: folder (``""`` for the root) -> parsed ``zarr.json``."""
    out = {}
    for rel in names:
        if rel == "zarr.json" or rel.endswith("/zarr.json"):
            meta = json.loads(files.read(rel))
            if meta.get("node_type") == "array":
                out[rel[: -len("zarr.json")]] = meta
    return out


def build_manifest(
    store: str | os.PathLike, threads: int = 8, storage_options: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return the manifest of a store as written: its files' sizes and checksums, and
    the chunks of each array's grid that zarr skipped (fill value only).

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "x").write_bytes(b"abc")
    >>> build_manifest(d)["files"]
    {'x': [3, 891568578]}
    """
    files = tree(store, storage_options)
    sizes = files.listing(True)
    if sizes is None:
        raise ValueError(f"{store}: a plain HTTP server cannot list the store's files")
    names = sorted(sizes)
    found = files.crcs(names, threads)
    crcs = []
    for rel in names:
        if found[rel] is None:
            raise FileNotFoundError(f"{store}: {rel} vanished while the manifest was written")
        crcs.append(found[rel][1])
    absent = []
    for folder, meta in _arrays(files, sizes).items():
        absent += [folder + k for k in chunk_grid(meta) if folder + k not in sizes]
    return {
        "format": FORMAT,
        "checksum": CHECKSUM,
        "files": {rel: [sizes[rel], crc] for rel, crc in zip(names, crcs, strict=True)},
        "absent": sorted(absent),
    }


def write_manifest(
    store: str | os.PathLike,
    storage_options: dict[str, Any] | None = None,
    manifest: dict[str, Any] | None = None,
) -> str | Path:
    """Record the manifest of ``store`` as it is now (the writer's last step).

    Also the way to adopt a store written without one (by an older genomarray) once you
    know it is complete. ``manifest`` (from :func:`build_manifest` of an identical copy of
    the store) is written as it is instead of being built again.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "x").write_bytes(b"abc")
    >>> write_manifest(d).name, check(d, read_manifest(d))
    ('genomarray_manifest.json', [])
    """
    files = tree(store, storage_options)
    if manifest is None:
        manifest = build_manifest(store, storage_options=storage_options)
    text = json.dumps(manifest, separators=(",", ":"))
    files.write(MANIFEST_FILE, text.encode())
    files.remove(DAMAGED_FILE)
    if isinstance(files, _LocalTree):
        return files.root / MANIFEST_FILE
    return f"{files.name.rstrip('/')}/{MANIFEST_FILE}"


def read_manifest(
    store: str | os.PathLike, storage_options: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Return the store's manifest, ``None`` if it has none.

    ``files`` maps each file to ``[size, crc32]``, ``absent`` lists the chunks not
    written, and ``digest`` is the CRC-32 of the manifest file itself (which identifies
    one write of the store).

    Raises
    ------
    ValueError
        The manifest is not one genomarray wrote (unreadable, or another format).
    """
    try:
        text = tree(store, storage_options).read(MANIFEST_FILE).decode()
    except FileNotFoundError:
        return None
    try:
        man = json.loads(text)
        ok = man["format"] == FORMAT and man["checksum"] == CHECKSUM
        if ok:
            ok = isinstance(man["files"], dict) and isinstance(man["absent"], list)
            man["digest"] = zlib.crc32(text.encode())
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"manifest {MANIFEST_FILE} is unreadable ({err})") from None
    if not ok:
        raise ValueError(f"manifest {MANIFEST_FILE} has an unknown format")
    return man


def _damage_note(files: Any) -> list[Problem]:
    try:
        note = files.read(DAMAGED_FILE).decode().strip()
    except (OSError, UnicodeDecodeError):
        return []
    return [Problem("", f"found damaged when read: {note or 'no detail recorded'}")]


def check(
    store: str | os.PathLike,
    manifest: dict[str, Any],
    sizes: bool = False,
    storage_options: dict[str, Any] | None = None,
) -> list[Problem]:
    """Compare the store's files with its manifest by name, and by size if ``sizes``.

    Reports chunk and metadata files that are missing (or of another size), chunk files
    zarr did not write, and files under an array's folder that the manifest does not list
    (a stray file at the root, such as ``.DS_Store``, is ignored), and damage recorded by
    an earlier read. Reads no file; ``sizes=False`` (what every open does) reads only the
    directories (~3 ms for 6,000 chunks, against ~40 ms with a ``stat`` of each file on a
    busy local disk, and far more on a network filesystem): sizes are then compared
    chunk by chunk as they are read.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "x").write_bytes(b"abc")
    >>> man = build_manifest(d); _ = (d / "x").write_bytes(b"ab")
    >>> check(d, man), check(d, man, sizes=True)
    ([], [Problem(file='x', what='is 2 bytes, the manifest says 3 (truncated or rewritten)')])
    """
    tree_ = tree(store, storage_options)
    files = manifest["files"]
    problems = _damage_note(tree_)
    on_disk = tree_.listing(sizes)
    if on_disk is None:  # plain HTTP: no listing; chunks are checked as they are read
        return problems
    for rel in sorted(files.keys() - on_disk.keys()):
        problems.append(
            Problem(rel, f"is missing (the manifest lists it, {files[rel][0]:,} bytes)")
        )
    if sizes:
        for rel, found in on_disk.items():
            size = files.get(rel, (found,))[0]
            if found != size:
                what = f"is {found:,} bytes, the manifest says {size:,} (truncated or rewritten)"
                problems.append(Problem(rel, what))
    extra = on_disk.keys() - files.keys()
    if extra:
        absent = set(manifest["absent"])
        folders = tuple(rel[: -len("zarr.json")] for rel in files if rel.endswith("/zarr.json"))
        for rel in sorted(extra):
            if rel in absent:
                problems.append(Problem(rel, "is present, but was not written (fill value only)"))
            elif rel.startswith(folders):
                problems.append(Problem(rel, "is not in the manifest (an unexpected file)"))
    return problems


def verify(
    store: str | os.PathLike,
    manifest: dict[str, Any],
    threads: int = 8,
    storage_options: dict[str, Any] | None = None,
) -> list[Problem]:
    """:func:`check`, then read every file and compare its CRC-32 with the manifest's.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "x").write_bytes(b"abc")
    >>> man = build_manifest(d); _ = (d / "x").write_bytes(b"abd")
    >>> verify(d, man)
    [Problem(file='x', what='has other bytes than were written (checksum mismatch)')]
    """
    problems = check(store, manifest, sizes=True, storage_options=storage_options)
    bad = {p.file for p in problems}
    names = [rel for rel in manifest["files"] if rel not in bad]
    found = tree(store, storage_options).crcs(names, threads)
    for rel in names:
        size, crc = manifest["files"][rel]
        got = found[rel]
        if got is None:
            problems.append(Problem(rel, f"is missing (the manifest lists it, {size:,} bytes)"))
        elif got[0] != size:
            what = f"is {got[0]:,} bytes, the manifest says {size:,} (truncated or rewritten)"
            problems.append(Problem(rel, what))
        elif got[1] != crc:
            problems.append(Problem(rel, "has other bytes than were written (checksum mismatch)"))
    return problems
