"""genomarray's bigWig section reader against the values the files were written with and
against pyBigWig: bedGraph, varStep and fixedStep sections, several chromosomes, files of
two writers (libBigWig through pyBigWig, bigtools through pybigtools), a multi-level index,
damaged sections and records it must not lay out."""

import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyBigWig
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genomarray.data import example_path
from genomarray.errors import InputError
from genomarray.io import bigwig, bigwig_fns
from genomarray.io.bigwig_blocks import SectionReader, section_reader


def _write(path, sizes, entries) -> dict[str, np.ndarray]:
    """Write ``entries`` (per chromosome, in order: ``("bedgraph", starts, ends, values)``,
    ``("varstep", starts, span, values)``, ``("fixedstep", start, step, span, values)``)
    with pyBigWig; return the per-base values they describe (NaN: no record)."""
    truth = {c: np.full(n, np.nan, np.float32) for c, n in sizes.items()}
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(list(sizes.items()), maxZooms=2)
    for c, blocks in entries.items():
        for kind, *args in blocks:
            if kind == "bedgraph":
                starts, ends, values = args
                bw.addEntries([c] * len(starts), starts, ends=ends, values=values)
                for s, e, v in zip(starts, ends, values, strict=True):
                    truth[c][s:e] = v
            elif kind == "varstep":
                starts, span, values = args
                bw.addEntries(c, starts, values=values, span=span)
                for s, v in zip(starts, values, strict=True):
                    truth[c][s : s + span] = v
            else:
                start, step, span, values = args
                bw.addEntries(c, start, values=values, span=span, step=step)
                for i, v in enumerate(values):
                    truth[c][start + i * step : start + i * step + span] = v
    bw.close()
    return truth


@st.composite
def tracks(draw):
    """Chromosome sizes and, per chromosome, sections of the three kinds, in order."""
    n_chroms = draw(st.integers(1, 3))
    sizes = {f"c{i}": draw(st.integers(30, 3000)) for i in range(n_chroms)}
    entries = {}
    value = st.floats(-1e6, 1e6, width=32, allow_nan=False)

    def values(k: int):
        return st.lists(value, min_size=k, max_size=k)

    for c, n in sizes.items():
        blocks, pos = [], draw(st.integers(0, 20))
        for _ in range(draw(st.integers(0, 4))):
            kind = draw(st.sampled_from(["bedgraph", "varstep", "fixedstep"]))
            k = draw(st.integers(1, 40))
            if kind == "bedgraph":
                starts, ends = [], []
                for _ in range(k):
                    s = pos + draw(st.integers(0, 6))
                    e = s + draw(st.integers(1, 25))
                    if e > n:
                        break
                    starts.append(s)
                    ends.append(e)
                    pos = e
                if starts:
                    blocks.append((kind, starts, ends, draw(values(len(starts)))))
            elif kind == "varstep":
                span = draw(st.integers(1, 8))
                starts = []
                for _ in range(k):
                    s = pos + draw(st.integers(0, 6))
                    if s + span > n:
                        break
                    starts.append(s)
                    pos = s + span
                if starts:
                    blocks.append((kind, starts, span, draw(values(len(starts)))))
            else:
                span = draw(st.integers(1, 8))
                step = span + draw(st.integers(0, 5))
                start = pos + draw(st.integers(0, 6))
                k = min(k, (n - start - span) // step + 1) if n - start >= span else 0
                if k > 0:
                    blocks.append((kind, start, step, span, draw(values(k))))
                    pos = start + k * step + span  # pyBigWig counts a whole last step
            pos += draw(st.integers(1, 30))  # pyBigWig refuses a block starting where one ends
        entries[c] = blocks
    return sizes, entries


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(track=tracks(), data=st.data())
def test_sections_equal_what_was_written_and_pybigwig(tmp_path, track, data):
    sizes, entries = track
    path = tmp_path / "t.bw"
    truth = _write(path, sizes, entries)
    reader = section_reader(str(path))
    assert reader is not None and reader.chroms == sizes
    bw = pyBigWig.open(str(path))
    try:
        for c, n in sizes.items():
            whole = reader.values(c, 0, n)
            np.testing.assert_array_equal(whole, truth[c])
            if any(entries.values()):  # pyBigWig returns no values from a file without records
                theirs = np.asarray(bw.values(c, 0, n, numpy=True), np.float32)
                np.testing.assert_array_equal(whole, theirs)
            lo = data.draw(st.integers(0, n))
            hi = data.draw(st.integers(lo, n))
            got = reader.values(c, lo, hi, fill=0.0)
            np.testing.assert_array_equal(got, np.nan_to_num(truth[c][lo:hi], nan=0.0))
            assert got.dtype == np.float32 and got.shape == (hi - lo,)
    finally:
        bw.close()
        reader.close()


def test_many_sections_two_writers_and_threads(tmp_path):
    """Files of ~800 k records written by libBigWig and by bigtools (~300 sections, an
    R-tree of two levels): every chromosome and windows read in threads equal the
    written values."""
    import struct

    rng = np.random.default_rng(3)
    sizes = {"chrA": 2_000_000, "chrB": 400_000}
    truth = {}
    entries = {}
    for c, n in sizes.items():
        starts = np.sort(rng.choice(n - 3, n // 3, replace=False))
        starts = starts[np.append(np.diff(starts) >= 3, True)]
        ends = starts + rng.integers(1, 4, len(starts))
        ends = np.minimum(ends, np.append(starts[1:], n))
        values = rng.normal(size=len(starts)).astype(np.float32)
        entries[c] = [("bedgraph", starts.tolist(), ends.tolist(), values.tolist())]
    truth = _write(tmp_path / "lib.bw", sizes, entries)
    paths = [tmp_path / "lib.bw"]
    try:
        import pybigtools

        out = pybigtools.open(str(tmp_path / "tools.bw"), "w")
        out.write(
            sizes,
            (
                (c, s, e, v)
                for c, blocks in entries.items()
                for s, e, v in zip(*blocks[0][1:], strict=True)
            ),
        )
        paths.append(tmp_path / "tools.bw")
    except ImportError:
        pass
    for path in paths:
        reader = SectionReader(str(path))
        if path.name == "tools.bw":  # bigtools: 256 sections per node, so a root above leaves
            assert struct.unpack("<B", reader._pread(reader._root, 1))[0] == 0
        for c, n in sizes.items():
            np.testing.assert_array_equal(reader.values(c, 0, n), truth[c])
        windows = [
            (c, int(lo), int(lo) + 70_001)
            for c in sizes
            for lo in rng.integers(0, sizes[c] - 70_001, 6)
        ]
        with ThreadPoolExecutor(2) as pool:
            got = list(pool.map(lambda w, p=str(path): SectionReader(p).values(*w), windows))
        for (c, lo, hi), g in zip(windows, got, strict=True):
            np.testing.assert_array_equal(g, truth[c][lo:hi])


def test_damaged_section_is_an_error_naming_the_offset(tmp_path):
    path = tmp_path / "d.bw"
    shutil.copy(example_path("sample.bw"), path)
    entry = SectionReader(str(path))._sections(0, 0, 40_000)[0]
    offset, size = int(entry["offset"]), int(entry["size"])
    with open(path, "r+b") as fh:  # garble the middle of the first compressed section
        fh.seek(offset + size // 2)
        fh.write(bytes(16))
    with pytest.raises(InputError, match=f"data section at byte {offset} does not inflate"):
        SectionReader(str(path)).values("chr1", 0, 40_000)
    reader = bigwig.BigWigReader(str(path), backend="genomarray")
    with pytest.raises(InputError, match=r"d\.bw.*chr1:0-40000"):
        reader("chr1", 0, 40_000)


def test_records_out_of_order_are_left_to_the_library():
    """The kernel declines records that overlap or go backwards (the format forbids them;
    a library decides what such a file means), and lays out touching ones."""

    # one bedGraph section, as words: (start, end, value) x 3
    def paint(records):
        words = np.array([[s, e, 0] for s, e, _ in records], np.uint32).ravel()
        values = np.zeros(len(words), np.float32)
        values[2::3] = [v for *_, v in records]
        table = np.array([[0, bigwig_fns.BEDGRAPH, len(records), 0, 0, 0]], np.int64)
        out = np.empty(10, np.float32)
        status = bigwig_fns.paint(words, values, *table.T, 0, 10, np.float32(-1), out)
        return status, out

    status, out = paint([(0, 2, 1.0), (2, 3, 2.0), (5, 6, 3.0)])
    assert status == bigwig_fns.OK
    assert out.tolist() == [1, 1, 2, -1, -1, 3, -1, -1, -1, -1]
    assert paint([(0, 3, 1.0), (2, 4, 2.0)])[0] == bigwig_fns.UNORDERED  # overlap
    assert paint([(4, 5, 1.0), (1, 2, 2.0)])[0] == bigwig_fns.UNORDERED  # backwards
    assert paint([(4, 4, 1.0)])[0] == bigwig_fns.UNORDERED  # empty record


def test_declined_region_is_read_by_the_library(monkeypatch):
    reader = bigwig.BigWigReader(example_path("sample.bw"), backend="genomarray")
    want = bigwig.BigWigReader(example_path("sample.bw"), backend="pybigwig")("chr1", 0, 500)
    handle = bigwig._handle(reader.path, "genomarray")
    monkeypatch.setattr(handle.sections, "values", lambda *a, **k: None)
    np.testing.assert_array_equal(reader("chr1", 0, 500), want)


def test_auto_uses_sections_for_large_files_only(monkeypatch, tmp_path):
    path = str(tmp_path / "s.bw")
    shutil.copy(example_path("sample.bw"), path)
    assert os.path.getsize(path) < bigwig.SECTIONS_MIN_BYTES
    assert bigwig._handle(path, "auto").sections is None
    monkeypatch.setattr(bigwig, "SECTIONS_MIN_BYTES", 0)
    big = str(tmp_path / "big.bw")
    shutil.copy(path, big)
    assert bigwig._handle(big, "auto").sections is not None
    np.testing.assert_array_equal(
        bigwig.BigWigReader(big)("chr2", 0, 30_000),
        bigwig.BigWigReader(path, backend="pybigwig")("chr2", 0, 30_000),
    )


def _small_track(path, n=2_000_000):
    """A bigtools-written track whose R-tree has an inner root (~500 sections)."""
    import pybigtools

    out = pybigtools.open(str(path), "w")
    out.write({"a": n}, (("a", i, i + 1, 1.0) for i in range(0, n, 2)))
    return str(path)


def test_damaged_index_sizes_and_cycles_are_errors(tmp_path):
    """An index entry whose section runs past the end of the file is an InputError before
    anything is allocated, and trees that point back into themselves are InputErrors,
    not endless walks (a reader on its own: pyBigWig crashes on such files)."""
    import struct

    pytest.importorskip("pybigtools")
    src = _small_track(tmp_path / "src.bw")
    data = open(src, "rb").read()
    root = SectionReader(src)._root
    assert data[root] == 0  # an inner node

    def damaged(name: str, at: int, patch: bytes) -> str:
        dst = tmp_path / name
        dst.write_bytes(data[:at] + patch + data[at + len(patch) :])
        return str(dst)

    # the first child of the root node points to the root itself
    looped = damaged("rtree.bw", root + 4 + 16, struct.pack("<Q", root))
    with pytest.raises(InputError, match="R-tree index points back to its node"):
        SectionReader(looped).values("a", 0, 10)
    # the chromosome tree's root becomes an inner node whose child is itself
    tree = struct.unpack_from("<Q", data, 8)[0]
    key_size = struct.unpack_from("<I", data, tree + 8)[0]
    node = struct.pack("<BBH", 0, 0, 1) + b"a".ljust(key_size, b"\0")
    looped = damaged("chroms.bw", tree + 32, node + struct.pack("<Q", tree + 32))
    with pytest.raises(InputError, match="chromosome tree points back to its node"):
        SectionReader(looped)
    # a leaf entry's section size of 2**45 bytes: refused before reading (no MemoryError)
    leaf = SectionReader(src)._sections(0, 0, 10)
    entries_at = data.find(struct.pack("<QQ", int(leaf["offset"][0]), int(leaf["size"][0])))
    assert entries_at > 0
    huge = damaged("huge.bw", entries_at + 8, struct.pack("<Q", 1 << 45))
    with pytest.raises(InputError, match="run past the end of the file"):
        SectionReader(huge).values("a", 0, 10)
    with pytest.raises(InputError, match=r"huge\.bw"):
        bigwig.BigWigReader(huge, backend="genomarray")("a", 0, 10)


def test_layouts_it_does_not_read_are_left_to_the_library(tmp_path):
    """Big-endian and uncompressed bigWigs: no section reader (the library reads them)."""
    import struct

    data = open(example_path("sample.bw"), "rb").read()
    big = tmp_path / "big.bw"  # the magic number as a big-endian writer stores it
    big.write_bytes(struct.pack(">I", 0x888FFC26) + data[4:])
    raw = tmp_path / "raw.bw"  # uncompressBufSize 0: sections stored as they are
    raw.write_bytes(data[:52] + bytes(4) + data[56:])
    assert section_reader(str(big)) is None and section_reader(str(raw)) is None
    assert section_reader(example_path("sample.bw")) is not None
