"""Truncated and damaged bigWig files (issue 13, item 9): each test writes the bad file
itself; every reader-library failure must come back as an InputError naming the file, the
region and the failure, in both backends."""

import struct

import numpy as np
import pyBigWig
import pytest

import genomarray as ga
from genomarray.errors import InputError
from genomarray.io import bigwig, chromsizes
from genomarray.io.bigwig import BigWigReader, bigwig_chrom_sizes

BACKENDS = ["pybigtools", "pybigwig"]
SIZES = {"c1": 200_000, "c2": 150_000}


def write_bigwig(path) -> str:
    """A bigWig of random 1-10 bp runs over two chromosomes, with zoom levels."""
    rng = np.random.default_rng(11)
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(list(SIZES.items()), maxZooms=4)
    for chrom, size in SIZES.items():
        starts = np.cumsum(rng.integers(1, 10, size // 5)).astype(np.int64)
        starts = starts[starts < size - 10]
        ends = starts + 1
        bw.addEntries(
            [chrom] * len(starts),
            starts.tolist(),
            ends=ends.tolist(),
            values=rng.random(len(starts)).astype(float).tolist(),
        )
    bw.close()
    return str(path)


def header_offsets(data: bytes) -> dict[str, int]:
    return dict(zip(("tree", "data", "index"), struct.unpack_from("<QQQ", data, 8), strict=True))


def all_readers(path: str, backend: str):
    """Every public way a bigWig is read, whole file."""
    yield lambda: bigwig_chrom_sizes(path)
    reader = BigWigReader(path, backend=backend)
    yield lambda: [reader(c, 0, n) for c, n in SIZES.items()]
    binned = BigWigReader(path, backend=backend, resolution=1000)
    yield lambda: [binned(c, 0, n // 1000) for c, n in SIZES.items()]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.9, 0.999])
def test_truncated_bigwig_names_file_and_failure(tmp_path, backend, fraction):
    good = write_bigwig(tmp_path / "good.bw")
    data = open(good, "rb").read()
    path = tmp_path / "cut.bw"
    path.write_bytes(data[: int(len(data) * fraction)])
    expected = (
        rf"^{path}: the bigWig is truncated or damaged \(it does not end with the magic "
        r"number every complete bigWig ends with\); write or copy it again$"
    )
    with pytest.raises(InputError, match=expected):
        BigWigReader(str(path), backend=backend)
    with pytest.raises(InputError, match=expected):
        bigwig_chrom_sizes(path)
    with pytest.raises(InputError, match=expected):
        chromsizes.chrom_sizes(path)
    with pytest.raises(InputError, match=expected):
        ga.read_bigwig(path, storage="lazy")
    # the intact file reads
    assert bigwig_chrom_sizes(good) == SIZES


def test_bigwig_shorter_than_its_header(tmp_path):
    data = open(write_bigwig(tmp_path / "good.bw"), "rb").read()
    path = tmp_path / "stub.bw"
    path.write_bytes(data[:40])
    with pytest.raises(InputError, match=r"stub\.bw: .*\(40 bytes, shorter than the 64-byte"):
        bigwig_chrom_sizes(path)


def test_header_pointing_past_the_end(tmp_path):
    data = bytearray(open(write_bigwig(tmp_path / "good.bw"), "rb").read())
    struct.pack_into("<Q", data, 24, len(data) + 1000)  # the index offset
    path = tmp_path / "bad.bw"
    path.write_bytes(bytes(data))
    with pytest.raises(
        InputError,
        match=rf"bad\.bw: the bigWig is truncated or damaged \(its header puts the index "
        rf"at byte {len(data) + 1000}, past the end \({len(data)} bytes\)\)",
    ):
        BigWigReader(str(path))


@pytest.mark.parametrize("backend", BACKENDS)
def test_damaged_data_block_is_wrapped_with_file_and_region(tmp_path, backend):
    """Ends and header intact, data blocks zeroed: the library fails only while reading
    (pybigtools: BBIReadError or a Rust panic; pyBigWig: RuntimeError)."""
    good = write_bigwig(tmp_path / "good.bw")
    data = bytearray(open(good, "rb").read())
    off = header_offsets(bytes(data))
    middle = (off["data"] + off["index"]) // 2
    data[middle : middle + 2000] = bytes(2000)  # zero 2 kB in the middle of the data blocks
    path = tmp_path / "damaged.bw"
    path.write_bytes(bytes(data))
    reader = BigWigReader(str(path), backend=backend)  # the header and ends are fine
    with pytest.raises(InputError) as err:
        for chrom, n in SIZES.items():
            for start in range(0, n, 50_000):
                reader(chrom, start, min(start + 50_000, n))
    message = str(err.value)
    assert message.startswith(f"{path}, c")
    assert ": cannot read the bigWig (" in message
    assert message.endswith("): the file is truncated or damaged; write or copy it again")
    library = message.split("cannot read the bigWig (")[1].split(":")[0]
    assert library in {"BBIReadError", "PanicException", "RuntimeError"}
    chrom, span = message[len(f"{path}, ") :].split(":")[:2]
    assert chrom in SIZES and span.split("-")[0].isdigit()
    # once the file is written again, the same path reads (the broken handle was dropped)
    path.write_bytes(open(good, "rb").read())
    fresh = BigWigReader(str(path), backend=backend)
    np.testing.assert_array_equal(
        fresh("c1", 0, 1000), BigWigReader(good, backend=backend)("c1", 0, 1000)
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_index_damaged_fails_at_open_with_file_named(tmp_path, backend):
    """The index zeroed: the library refuses to open it; the error names file and cause."""
    data = bytearray(open(write_bigwig(tmp_path / "good.bw"), "rb").read())
    off = header_offsets(bytes(data))
    data[off["index"] : off["index"] + 48] = bytes(48)  # the R-tree header
    path = tmp_path / "noindex.bw"
    path.write_bytes(bytes(data))
    with pytest.raises(InputError) as err:
        BigWigReader(str(path), backend=backend)("c1", 0, 1000)
    message = str(err.value)
    assert message.startswith(f"{path}") and "cannot read the bigWig (" in message
    assert message.endswith("the file is truncated or damaged; write or copy it again")


def test_reading_passes_genomarray_errors_and_bugs_through():
    with pytest.raises(InputError, match="chromosome 'chrZ' is not in the bigWig"):
        BigWigReader(ga.example_path("sample.bw"))("chrZ", 0, 10)
    with pytest.raises(TypeError, match="a bug"), bigwig.reading("x.bw"):
        raise TypeError("a bug")
