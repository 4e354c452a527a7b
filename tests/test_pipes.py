"""Text inputs through pipes: a named FIFO, /dev/fd/N, gzip through a pipe (issue 13 item 3).

Every text input is opened and read exactly once, so a pipe gives what the file gives; a
format read by region (FASTA, BAM, bigWig) through a pipe is a clear error.
"""

from __future__ import annotations

import gzip
import os
import threading
import time

import numpy as np
import pandas as pd
import pytest

import genomarray as ga
from genomarray.errors import InputError
from genomarray.io.regions import read_regions
from genomarray.io.text import is_stream, open_decompressed

N_LINES = 3000  # ~80 KB: more than a pipe buffer and the old 8 KB sniffing read


def bed_text(n: int = N_LINES, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, 30_000, n)
    lines = ["track name=roi", "# a comment"]
    for i, s in enumerate(starts.tolist()):
        lines.append(f"chr{i % 3 + 1}\t{s}\t{s + 1 + i % 500}\tr{i}\t{i % 1000}\t{'+-.'[i % 3]}")
    return "\n".join(lines) + "\n"


class Writer(threading.Thread):
    """Write ``data`` to a path or file descriptor, in pieces, then close it."""

    def __init__(self, target: str | int, data: bytes, first: int = 0) -> None:
        super().__init__(daemon=True)
        self.target, self.data, self.first = target, data, first
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            fd = self.target if isinstance(self.target, int) else os.open(self.target, os.O_WRONLY)
            try:
                if self.first:  # the head in tiny writes: the sniffing read must wait for it
                    for k in range(self.first):
                        os.write(fd, self.data[k : k + 1])
                        time.sleep(0.01)
                view = memoryview(self.data)[self.first :]
                while len(view):
                    view = view[os.write(fd, view[: 1 << 14]) :]
            finally:
                os.close(fd)
        except BrokenPipeError:
            pass
        except BaseException as err:  # pragma: no cover - reported by the test
            self.error = err


def through_fifo(
    tmp_path, data: bytes, name: str = "roi.fifo", first: int = 0
) -> tuple[str, Writer]:
    fifo = tmp_path / name
    os.mkfifo(fifo)
    writer = Writer(str(fifo), data, first)
    writer.start()
    return str(fifo), writer


def through_fd(data: bytes, first: int = 0) -> tuple[str, int, Writer]:
    r, w = os.pipe()
    writer = Writer(w, data, first)
    writer.start()
    return f"/dev/fd/{r}", r, writer


def assert_same_regions(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert len(got) == len(want) > 0
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))


@pytest.fixture
def bed_file(tmp_path):
    path = tmp_path / "roi.bed"
    path.write_text(bed_text())
    return path


def test_named_fifo_gives_the_file(tmp_path, bed_file):
    want = read_regions(bed_file)
    fifo, writer = through_fifo(tmp_path, bed_file.read_bytes())
    assert is_stream(fifo) and not is_stream(bed_file)
    got = read_regions(fifo)
    writer.join(10)
    assert writer.error is None
    assert_same_regions(got, want)
    assert got.attrs["source"] == fifo


def test_dev_fd_pipe_gives_the_file(bed_file):
    want = read_regions(bed_file)
    path, r, writer = through_fd(bed_file.read_bytes())
    try:
        got = read_regions(path)
    finally:
        os.close(r)
    writer.join(10)
    assert_same_regions(got, want)


@pytest.mark.parametrize("first", [0, 1, 2])
def test_gzip_through_a_pipe(bed_file, first):
    """``<(cat roi.bed.gz)``: gzip is sniffed from the stream, also when its two magic
    bytes arrive in separate writes."""
    want = read_regions(bed_file)
    path, r, writer = through_fd(gzip.compress(bed_file.read_bytes()), first=first)
    try:
        got = read_regions(path)
    finally:
        os.close(r)
    writer.join(10)
    assert_same_regions(got, want)


def test_plain_text_head_in_single_bytes(bed_file):
    want = read_regions(bed_file)
    path, r, writer = through_fd(bed_file.read_bytes(), first=3)
    try:
        got = read_regions(path)
    finally:
        os.close(r)
    assert_same_regions(got, want)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("peaks.narrowPeak", "narrowpeak"), ("genes.gtf", "gtf"), ("variants.vcf", "vcf")],
)
def test_other_formats_through_a_fifo(tmp_path, name, fmt):
    path = ga.example_path(name)
    want = read_regions(path)
    with open(path, "rb") as fh:
        data = gzip.compress(fh.read())
    fifo, writer = through_fifo(tmp_path, data)
    got = read_regions(fifo, fmt=fmt)
    writer.join(10)
    assert_same_regions(got, want)


def test_empty_pipe_is_empty_not_a_hang(tmp_path):
    fifo, writer = through_fifo(tmp_path, b"")
    got = read_regions(fifo)
    writer.join(10)
    assert len(got) == 0


def test_malformed_line_through_a_pipe_names_the_line(tmp_path):
    data = b"chr1\t0\t10\nchr1\t20\tx\n"
    fifo, writer = through_fifo(tmp_path, gzip.compress(data))
    with pytest.raises(InputError, match=r"roi\.fifo, line 2: end is not an integer"):
        read_regions(fifo)
    writer.join(10)


def test_read_bed_of_a_pipe_is_keyed_on_its_content(tmp_path):
    """A cached interval track built from a pipe: each pipe's own content, never the
    store of an earlier pipe (the key used to hash the spent, empty stream)."""
    text = open(ga.example_path("peaks.narrowPeak")).read().splitlines(keepends=True)
    like = ga.example_path("genome.fa")
    sums = []
    for lines in (text[:5], text):
        fifo, writer = through_fifo(tmp_path, "".join(lines).encode(), name=f"p{len(lines)}")
        track = ga.read_bed(fifo, like=like, progress=False)  # default: cached zarr store
        writer.join(10)
        sums.append(int(track.sum()))
        assert track.attrs["inputs"] == [fifo]
    want = [
        int(
            ga.read_bed(
                pd.DataFrame(read_regions(ga.example_path("peaks.narrowPeak"))[:n]),
                like=like,
                storage="memory",
            ).sum()
        )
        for n in (5, len(text))
    ]
    assert sums == want and sums[0] < sums[1]


def test_read_sequences_through_a_pipe(tmp_path):
    path = ga.example_path("seqs.fa")
    want = ga.read_sequences(path)
    with open(path, "rb") as fh:
        data = gzip.compress(fh.read())
    fifo, writer = through_fifo(tmp_path, data, name="seqs.fifo")
    got = ga.read_sequences(fifo)
    writer.join(10)
    np.testing.assert_array_equal(got.values, want.values)
    assert got["name"].values.tolist() == want["name"].values.tolist()


def test_open_decompressed_reads_once(tmp_path):
    payload = os.urandom(50_000)
    fifo, writer = through_fifo(tmp_path, gzip.compress(payload), first=1)
    with open_decompressed(fifo) as fh:
        assert fh.read() == payload
    writer.join(10)


@pytest.mark.parametrize(
    ("reader", "what"),
    [
        (ga.read_fasta, "FASTA file"),
        (ga.read_bam, "BAM file"),
        (ga.read_bigwig, "bigWig file"),
    ],
)
def test_random_access_formats_refuse_a_pipe(reader, what):
    """FASTA, BAM and bigWig are read by region through an index: a pipe is a clear
    error naming it, not a misleading 'no index' or 'truncated'."""
    path, r, writer = through_fd(b"")
    try:
        with pytest.raises(InputError) as err:
            reader(path)
    finally:
        os.close(r)
    message = str(err.value)
    assert message.startswith(f"{path}: a {what} is read by region")
    assert "regular file" in message


def test_chrom_sizes_file_through_a_pipe(tmp_path):
    fifo, writer = through_fifo(tmp_path, b"chr1\t1000\nchr2\t500\n", name="sizes.fifo")
    assert ga.chrom_sizes(fifo) == {"chr1": 1000, "chr2": 500}
    writer.join(10)
