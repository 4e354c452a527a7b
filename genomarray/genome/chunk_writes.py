"""A local store's chunks written straight to their files, not through zarr's API.

zarr 3 writes each chunk through its event loop: from the threads of a dask write, a
1 MB chunk of sequence codes took ~8 ms (96 such chunks: 0.84 s on 2 threads), where
compressing it takes 0.35 ms and writing its file well under 1 ms (the same 96 chunks:
0.04-0.07 s). :func:`genomarray.genome.compute.write_dataset` lets xarray write what is
small (the array metadata, the coordinates: :func:`metadata_dataset`) and writes the
data variable's chunks with :func:`chunk_writes`: each dask block, which is one zarr
chunk, compressed with numcodecs' blosc as the array's metadata says (blosc releases the
GIL, so the threads of the write compress side by side) and written to the chunk's file,
padded to the chunk shape at the array's end as zarr pads it. A chunk that holds only
the fill value is not written, as zarr does not write it.

It does so only where the array's metadata is exactly the layout it writes: zarr 3, a
regular chunk grid whose chunks are the dask blocks, the default chunk key encoding,
``bytes`` (little-endian) then ``blosc``, a numeric or boolean dtype. Anything else
(another codec, a URL, blocks that are not chunks, a view: its every dim has
coordinates) is written by zarr, as before. The store reads back through zarr exactly as
zarr's own writes do (tested against zarr reading the same arrays written both ways).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from genomarray.genome.compute import all_fill

_SHUFFLES = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}


@dataclass(frozen=True)
class ChunkLayout:
    """How an array's chunks are laid out and encoded, from its ``zarr.json``."""

    chunk_shape: tuple[int, ...]
    dtype: np.dtype
    fill: Any
    separator: str
    cname: str
    clevel: int
    shuffle: int
    blocksize: int


def chunk_layout(meta: dict[str, Any]) -> ChunkLayout | None:
    """The layout of a zarr 3 array's metadata if its chunks can be written directly
    (see the module notes), else None.

    Examples
    --------
    >>> meta = {
    ...     "zarr_format": 3, "node_type": "array", "data_type": "uint8",
    ...     "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1, 4]}},
    ...     "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
    ...     "fill_value": 4, "codecs": [{"name": "bytes"}, {"name": "blosc", "configuration":
    ...     {"typesize": 1, "cname": "lz4", "clevel": 5, "shuffle": "bitshuffle",
    ...      "blocksize": 0}}],
    ... }
    >>> chunk_layout(meta).chunk_shape, chunk_layout({**meta, "codecs": []})
    ((1, 4), None)
    """
    try:
        if meta.get("zarr_format") != 3 or meta.get("node_type") != "array":
            return None
        grid = meta["chunk_grid"]
        keys = meta["chunk_key_encoding"]
        if grid["name"] != "regular" or keys["name"] != "default":
            return None
        if meta.get("storage_transformers"):
            return None
        dtype = np.dtype(meta["data_type"])
        if dtype.kind not in "biuf":
            return None
        codecs = meta["codecs"]
        if len(codecs) != 2 or codecs[0]["name"] != "bytes" or codecs[1]["name"] != "blosc":
            return None
        endian = (codecs[0].get("configuration") or {}).get("endian", "little")
        if dtype.itemsize > 1 and endian != "little":
            return None
        blosc = codecs[1]["configuration"]
        fill = meta["fill_value"]
        if isinstance(fill, str):  # "NaN", "Infinity", "-Infinity", hex bit patterns
            return None
        return ChunkLayout(
            chunk_shape=tuple(int(c) for c in grid["configuration"]["chunk_shape"]),
            dtype=dtype.newbyteorder("<") if dtype.itemsize > 1 else dtype,
            fill=np.asarray(fill, dtype=dtype)[()],
            separator=str((keys.get("configuration") or {}).get("separator", "/")),
            cname=str(blosc["cname"]),
            clevel=int(blosc["clevel"]),
            shuffle=_SHUFFLES[str(blosc["shuffle"])],
            blocksize=int(blosc.get("blocksize", 0)),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _is_fill(block: np.ndarray, fill: Any) -> bool:
    quick = all_fill(block, fill)
    if quick is not None:
        return quick
    return bool(np.array_equal(block, np.broadcast_to(np.asarray(fill, block.dtype), block.shape)))


def write_chunk(
    block: np.ndarray, var_dir: str, layout: ChunkLayout, block_info: Any = None
) -> np.ndarray:
    """Write one dask block (one zarr chunk) of an array to its chunk file; returns the
    bytes written, as a one-element array per block (0: all fill, not written).

    Examples
    --------
    >>> import tempfile, dask.array as da
    >>> layout = ChunkLayout((4,), np.dtype("uint8"), 0, "/", "lz4", 5, 2, 0)
    >>> d = tempfile.mkdtemp()
    >>> x = da.from_array(np.array([0, 0, 0, 0, 1, 2], np.uint8), chunks=4)
    >>> written = x.map_blocks(write_chunk, d, layout, chunks=(1,), dtype=np.int64).compute()
    >>> int(written[0]), sorted(os.listdir(os.path.join(d, "c")))
    (0, ['1'])
    """
    loc = block_info[0]["chunk-location"] if block_info else (0,) * block.ndim
    block = np.asarray(block)
    if _is_fill(block, layout.fill):
        return np.zeros((1,) * block.ndim, np.int64)
    if block.shape != layout.chunk_shape:  # the array's last chunk: padded, as zarr does
        full = np.full(layout.chunk_shape, layout.fill, dtype=layout.dtype)
        full[tuple(slice(0, n) for n in block.shape)] = block
        block = full
    block = np.ascontiguousarray(block, dtype=layout.dtype)
    from numcodecs import Blosc

    codec = Blosc(layout.cname, layout.clevel, layout.shuffle, layout.blocksize)
    encoded = codec.encode(block)
    name = os.path.join(var_dir, layout.separator.join(("c", *map(str, loc))))  # zarr's key
    os.makedirs(os.path.dirname(name), exist_ok=True)
    with open(name, "wb") as fh:
        fh.write(encoded)
    return np.full((1,) * block.ndim, len(encoded), np.int64)


def metadata_dataset(ds: Any, name: str, fill: Any) -> Any | None:
    """``ds`` with the data variable ``name`` cut to length 1 along its dims that carry no
    coordinate (``pos``), all ``fill``: what xarray writes of it then is the array's
    metadata (its real shape set by :func:`chunk_writes`) and the coordinates, with no
    chunk. None where every dim of ``name`` carries coordinates, or another variable
    shares a dim that would be cut.

    Examples
    --------
    >>> import xarray as xr
    >>> ds = xr.Dataset({"v": (("chrom", "pos"), np.zeros((2, 9), np.uint8))},
    ...                 coords={"chrom": ["a", "b"]})
    >>> metadata_dataset(ds, "v", 4)["v"].shape
    (2, 1)
    """
    import xarray as xr

    var = ds[name].variable
    with_coords = {d for c in ds.coords.values() for d in c.dims}
    cut = [d for d in var.dims if d not in with_coords]
    if not cut or any(set(cut) & set(v.dims) for k, v in ds.variables.items() if k != name):
        return None
    shape = tuple(1 if d in cut else n for d, n in zip(var.dims, var.shape, strict=True))
    small = np.broadcast_to(np.asarray(fill, dtype=var.dtype), shape)
    return ds.assign({name: xr.Variable(var.dims, small, var.attrs, var.encoding)})


def chunk_writes(target: str, name: str, data: Any) -> Any | None:
    """A dask array whose compute writes every block of ``data`` to its chunk file in the
    store ``target`` (:func:`write_chunk`), where the array ``name``'s metadata there
    (written from :func:`metadata_dataset`; its shape is set here to ``data``'s) allows
    it (see the module notes) and ``data``'s blocks are its chunks; else None.

    Examples
    --------
    >>> import tempfile, dask.array as da, xarray as xr, zarr
    >>> from zarr.codecs import BloscCodec
    >>> ds = xr.Dataset({"v": ("x", da.arange(10, chunks=4, dtype="uint8"))})
    >>> d = tempfile.mkdtemp()
    >>> enc = {"v": {"chunks": 4, "compressors": [BloscCodec(cname="lz4", clevel=5)]}}
    >>> _ = metadata_dataset(ds, "v", 0).to_zarr(d, zarr_format=3, consolidated=False, encoding=enc)
    >>> (chunk_writes(d, "v", ds["v"].data).compute() > 0).tolist()
    [True, True, True]
    >>> zarr.open_array(d, path="v")[:].tolist()
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    """
    from dask.base import tokenize

    meta_path = os.path.join(target, name, "zarr.json")
    try:
        with open(meta_path) as fh:
            meta = json.load(fh)
    except (OSError, ValueError):
        return None
    layout = chunk_layout(meta)
    if layout is None or not _blocks_are_chunks(data, layout):
        return None
    meta["shape"] = [int(n) for n in data.shape]
    with open(meta_path, "w") as fh:  # inside the store's temporary folder: not yet seen
        json.dump(meta, fh, indent=2)
    return data.map_blocks(
        write_chunk,
        os.path.join(target, name),
        layout,
        chunks=tuple((1,) * len(c) for c in data.chunks),
        dtype=np.int64,
        meta=np.empty((0,) * data.ndim, np.int64),
        name=f"write-chunks-{tokenize(data.name)}",  # tasks named "write-chunks"
    )


def _blocks_are_chunks(data: Any, layout: ChunkLayout) -> bool:
    if not hasattr(data, "chunks") or data.ndim != len(layout.chunk_shape):
        return False
    if np.dtype(data.dtype) != layout.dtype.newbyteorder("="):
        return False
    return all(
        all(b == size for b in blocks[:-1]) and (not blocks or blocks[-1] <= size)
        for blocks, size in zip(data.chunks, layout.chunk_shape, strict=True)
    )
