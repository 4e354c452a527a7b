"""BAM, CRAM and FASTA over HTTP (htslib range requests) against a server on 127.0.0.1.

The BAM is generated here (a few MB, shared by the module) so that a region read is a
real range read: the server's log shows that far less than the file was sent. Indexes are
downloaded by genomarray into the output root (never into the working folder, never
taken from it), keyed by the server's metadata, so a file changed on the server gets a
new index and a new cache key.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dask
import numpy as np
import pysam
import pytest

import genomarray as ga
from genomarray.errors import InputError
from genomarray.genome import cache
from genomarray.io import bam, remote
from genomarray.io.bam import BamCounter
from genomarray.io.handles import ANY_TAG, discard_handle
from genomarray.paths import cache_dir, output_root

pytest.importorskip("aiohttp", reason="fsspec's HTTP filesystem needs aiohttp")

FASTA = ga.example_path("genome.fa")
SAMPLE = ga.example_path("sample.bam")
SIZES = {"chr1": 2_000_000, "chr2": 1_000_000}


def write_bam(path: Path, n_reads: int, seed: int) -> Path:
    """A sorted, indexed BAM of ``n_reads`` random 50 bp reads (random bases, so that it
    does not compress away: ~26 bytes a read)."""
    rng = np.random.default_rng(seed)
    lines = ["@HD\tVN:1.6\tSO:coordinate"] + [f"@SQ\tSN:{c}\tLN:{n}" for c, n in SIZES.items()]
    total = sum(SIZES.values())
    for chrom, length in SIZES.items():
        k = n_reads * length // total
        pos = np.sort(rng.integers(0, length - 50, k))
        flags = rng.choice([0, 16], k)
        mapq = rng.integers(0, 60, k)
        bases = np.frombuffer(b"ACGT", np.uint8)[rng.integers(0, 4, (k, 50))]
        for i in range(k):
            seq = bases[i].tobytes().decode()
            where = f"{chrom}\t{pos[i] + 1}\t{mapq[i]}"
            lines.append(f"r{chrom}_{i}\t{flags[i]}\t{where}\t50M\t*\t0\t0\t{seq}\t*")
    sam = path.with_suffix(".sam")
    sam.write_text("\n".join(lines) + "\n")
    pysam.view("-b", "-o", str(path), str(sam), catch_stdout=False)
    pysam.index(str(path))
    sam.unlink()
    return path


@pytest.fixture(scope="module")
def big_bam(tmp_path_factory) -> Path:
    """An 8 MB BAM (300,000 reads on 3 Mb) and its .bai."""
    return write_bam(tmp_path_factory.mktemp("bam") / "big.bam", 300_000, seed=0)


def serve_bam(server, path: Path, name: str = "big.bam") -> str:
    url = server.add(path, name)
    server.add(str(path) + ".bai", name + ".bai")
    return url


def _close_handles(url: str) -> None:
    """Close this thread's handles on ``url``, so that the server logs what it sent."""
    discard_handle(url, ANY_TAG)


def _remote_files() -> list[str]:
    root = output_root() / "remote"
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


# -- BAM --------------------------------------------------------------------------------


def test_bam_region_is_range_read_not_downloaded(http_server, big_bam, tmp_path, monkeypatch):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    url = serve_bam(http_server, big_bam)
    for mode in ("5prime", "coverage"):
        got = BamCounter(url, mode=mode)("chr1", 1_000_000, 1_005_000)
        ref = BamCounter(str(big_bam), mode=mode, engine="pysam")("chr1", 1_000_000, 1_005_000)
        np.testing.assert_array_equal(got, ref)
        assert got.sum() > 0
    _close_handles(url)
    size = big_bam.stat().st_size
    sent = http_server.sent("big.bam")
    assert 0 < sent < size / 4, f"{sent} of {size} bytes sent for a 5 kb region"
    ranges = [r for r in http_server.gets("big.bam") if r is not None]
    assert any(not r.startswith(f"bytes={size - 28}") for r in ranges)  # a seek into the data
    assert os.listdir(cwd) == []  # htslib wrote no index into the working folder
    assert _remote_files() == ["big.bam.bai"]  # genomarray's own copy of the index
    assert {m for m, p, _ in http_server.requests if p == "/big.bam.bai"} == {"HEAD", "GET"}


def test_bam_stale_index_in_the_working_folder_is_not_used(
    http_server, big_bam, tmp_path, monkeypatch
):
    """htslib alone would take ./big.bam.bai (here the index of another BAM) without asking."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    shutil.copyfile(SAMPLE + ".bai", cwd / "big.bam.bai")
    monkeypatch.chdir(cwd)
    url = serve_bam(http_server, big_bam)
    got = BamCounter(url, stranded=False)("chr2", 0, 200_000)
    ref = BamCounter(str(big_bam), stranded=False, engine="fast")("chr2", 0, 200_000)
    np.testing.assert_array_equal(got, ref)
    assert int(got.sum()) > 10_000


def test_read_bam_url_equals_local_and_caches_once(http_server, big_bam):
    url = serve_bam(http_server, big_bam)
    got = ga.read_bam(url, resolution=1000, progress=False)
    ref = ga.read_bam(str(big_bam), resolution=1000, storage="lazy")
    np.testing.assert_array_equal(got.values, ref.values)
    assert got.attrs["inputs"] == [url] and list(got.condition.values) == ["big"]
    assert (
        ga.read_bam(url, resolution=1000, progress=False).encoding["store"]
        == (got.encoding["store"])
    )
    assert len(list(cache_dir().glob("*.zarr"))) == 1
    assert bam.bam_chrom_sizes(url) == SIZES
    assert ga.chrom_sizes(url) == SIZES
    assert bam.mapped_reads(url) == bam.mapped_reads(str(big_bam))


def test_bam_changed_on_the_server_gives_a_new_key_index_and_cache(http_server, big_bam, tmp_path):
    url = serve_bam(http_server, big_bam)
    key = cache.cache_key("bam", [url], resolution=1000)
    first = ga.read_bam(url, resolution=1000, progress=False)
    http_server.clear_requests()
    assert cache.cache_key("bam", [url], resolution=1000) == key
    assert {m for m, _, _ in http_server.requests} == {"HEAD"}  # the key: metadata only
    smaller = write_bam(tmp_path / "small.bam", 30_000, seed=1)
    serve_bam(http_server, smaller)  # replaced on the server: new size, ETag and index
    assert cache.cache_key("bam", [url], resolution=1000) != key
    second = ga.read_bam(url, resolution=1000, progress=False)
    ref = ga.read_bam(str(smaller), resolution=1000, storage="lazy")
    np.testing.assert_array_equal(second.values, ref.values)
    assert second.encoding["store"] != first.encoding["store"]
    assert int(second.sum()) < int(first.sum())
    assert _remote_files() == ["big.bam.bai", "big.bam.bai"]  # one index per version


def test_fast_engine_refuses_urls_auto_falls_back_to_pysam(http_server):
    url = serve_bam(http_server, Path(SAMPLE), "sample.bam")
    with pytest.raises(InputError, match="fast engine reads local files only"):
        BamCounter(url, engine="fast")
    got = BamCounter(url, engine="auto")("chr1", 0, 5000)
    np.testing.assert_array_equal(got, BamCounter(SAMPLE, engine="fast")("chr1", 0, 5000))


def test_bam_url_without_index_is_refused(http_server):
    url = http_server.add(SAMPLE)
    with pytest.raises(InputError, match=r"has no index next to it.*samtools index"):
        ga.read_bam(url, storage="lazy")


def test_bam_url_errors_name_the_url(http_server):
    url = serve_bam(http_server, Path(SAMPLE), "sample.bam")
    http_server.set_missing("sample.bam")
    with pytest.raises(remote.RemoteNotFoundError, match=r"sample\.bam.*HTTP 404"):
        ga.read_bam(url)
    http_server.set_missing()
    http_server.set_truncate("sample.bam.bai", 100)  # the index download is cut
    with pytest.raises(remote.RemoteError, match=r"sample\.bam\.bai.*truncated"):
        ga.read_bam(url)
    assert _remote_files() == []  # no partial index kept
    assert not list(cache_dir().glob("*")) and not list(output_root().rglob("*.partial-*"))
    http_server.set_truncate("sample.bam.bai", None)
    track = ga.read_bam(url, storage="lazy")
    http_server.stop()
    with pytest.raises(remote.RemoteError, match="connection refused") as err:
        ga.read_bam(url)
    assert url in str(err.value)
    with pytest.raises(remote.RemoteError, match="connection refused"):  # in a chunk task
        track.sel(chrom="chr3").values  # noqa: B018


def test_bam_truncated_response_is_resumed_by_htslib(http_server):
    """htslib reconnects at the offset where a cut response stopped: the counts are right."""
    url = serve_bam(http_server, Path(SAMPLE), "sample.bam")
    http_server.set_truncate("sample.bam", 20_000, times=2)
    got = ga.read_bam(url, storage="lazy", resolution=10).values
    np.testing.assert_array_equal(got, ga.read_bam(SAMPLE, storage="lazy", resolution=10).values)


# -- CRAM -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_cram(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cram") / "sample.cram"
    pysam.view("-C", "-T", FASTA, "-o", str(out), SAMPLE, catch_stdout=False)
    pysam.index(str(out))
    return out


def test_cram_url_with_reference(http_server, sample_cram, monkeypatch):
    monkeypatch.delenv("REF_PATH", raising=False)
    monkeypatch.delenv("REF_CACHE", raising=False)
    url = http_server.add(sample_cram)
    http_server.add(str(sample_cram) + ".crai")
    with pytest.raises(InputError, match="CRAM URL needs reference="):
        ga.read_bam(url, storage="lazy")
    got = ga.read_bam(url, reference=FASTA, storage="lazy", resolution=10)
    np.testing.assert_array_equal(
        got.values, ga.read_bam(SAMPLE, storage="lazy", resolution=10).values
    )
    # htslib never looks a reference up at the EBI: both point at a local folder
    for var in ("REF_PATH", "REF_CACHE"):
        assert os.environ[var].startswith(str(output_root())), os.environ[var]
    assert {p for _, p, _ in http_server.requests} == {"/sample.cram", "/sample.cram.crai"}


# -- FASTA ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bgzipped(tmp_path_factory) -> Path:
    """genome.fa bgzipped (with .fai and .gzi)."""
    out = tmp_path_factory.mktemp("fa") / "genome.fa.gz"
    pysam.tabix_compress(FASTA, str(out))
    pysam.faidx(str(out))
    return out


def _serve_fasta(server, path: Path) -> str:
    url = server.add(path)
    for ext in (".fai", ".gzi"):
        if Path(str(path) + ext).exists():
            server.add(str(path) + ext)
    return url


@pytest.fixture(scope="module")
def big_fasta(tmp_path_factory) -> dict[str, Path]:
    """A 24 Mb random genome (two records), plain (24 MB) and bgzipped (7 MB), indexed."""
    folder = tmp_path_factory.mktemp("bigfa")
    rng = np.random.default_rng(2)
    plain = folder / "big.fa"
    with open(plain, "wb") as fh:
        for name, n in (("c1", 15_000_000), ("c2", 9_000_000)):  # lines of 60 bases
            lines = np.full((n // 60, 61), ord("\n"), np.uint8)
            lines[:, :60] = np.frombuffer(b"ACGT", np.uint8)[rng.integers(0, 4, (n // 60, 60))]
            fh.write(f">{name}\n".encode() + lines.tobytes())
    pysam.faidx(str(plain))
    packed = folder / "big.fa.gz"
    pysam.tabix_compress(str(plain), str(packed))
    pysam.faidx(str(packed))
    return {"plain": plain, "bgzip": packed}


@pytest.mark.parametrize("kind", ["plain", "bgzip"])
def test_fasta_region_is_range_read_not_downloaded(
    http_server, big_fasta, kind, tmp_path, monkeypatch
):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    path = big_fasta[kind]
    url = _serve_fasta(http_server, path)
    lazy = ga.read_fasta(url, cache=False, chunk=1 << 16)
    ref = ga.read_fasta(str(path), cache=False, chunk=1 << 16)
    where = {"chrom": "c2", "pos": slice(2_000_000, 2_010_000)}
    with dask.config.set(scheduler="synchronous"):  # handles of this thread, closed below
        np.testing.assert_array_equal(lazy.sel(**where).values, ref.sel(**where).values)
    _close_handles(url)
    sent, size = http_server.sent(path.name), path.stat().st_size
    assert 0 < sent < size / 3, f"{sent} of {size} bytes sent for a 10 kb region"
    assert os.listdir(cwd) == []
    assert sorted(_remote_files()) == sorted(
        ["validated", path.name + ".fai"] + ([path.name + ".gzi"] if kind == "bgzip" else [])
    )


def test_read_fasta_url_equals_local(http_server, bgzipped, genome_seqs):
    url = _serve_fasta(http_server, bgzipped)
    lazy = ga.read_fasta(url, cache=False)
    part = lazy.sel(chrom="chr2").isel(pos=slice(1000, 1100)).values
    letters = "".join(np.array(list("ACGTN"))[part])
    expected = "".join(c if c in "ACGT" else "N" for c in genome_seqs["chr2"][1000:1100])
    assert letters == expected
    stored = ga.read_fasta(url, progress=False)
    np.testing.assert_array_equal(stored.values, ga.read_fasta(FASTA, cache=False).values)
    assert stored.attrs["path"] == url
    assert ga.chrom_sizes(url) == {"chr1": 40000, "chr2": 30000, "chr3": 20000}


def test_fasta_url_index_problems_are_refused(http_server, bgzipped, tmp_path):
    url = http_server.add(bgzipped)
    with pytest.raises(InputError, match=r"no \.fai next to it.*samtools faidx"):
        ga.read_fasta(url, cache=False)
    http_server.add(str(bgzipped) + ".fai")
    with pytest.raises(InputError, match=r"no \.gzi next to it"):
        ga.read_fasta(url, cache=False)
    http_server.add(str(bgzipped) + ".gzi")
    other = tmp_path / "other.fa"
    other.write_text(">chr1\nACGT\n>chr2\nAC\n")
    pysam.faidx(str(other))
    http_server.add(str(other) + ".fai", "genome.fa.gz.fai")  # the index of another FASTA
    with pytest.raises(InputError, match=r"does not match the FASTA.*re-index it"):
        ga.read_fasta(url, cache=False)


def test_fasta_url_errors_name_the_url(http_server, bgzipped):
    url = _serve_fasta(http_server, bgzipped)
    http_server.set_missing("genome.fa.gz")
    with pytest.raises(remote.RemoteNotFoundError, match=r"genome\.fa\.gz.*HTTP 404"):
        ga.read_fasta(url)
    http_server.set_missing()
    http_server.set_truncate("genome.fa.gz.fai", 10)
    with pytest.raises(remote.RemoteError, match=r"genome\.fa\.gz\.fai.*truncated"):
        ga.read_fasta(url)
    assert _remote_files() == [] and not list(cache_dir().glob("*"))
    http_server.set_truncate("genome.fa.gz.fai", None)
    genome = ga.read_fasta(url, cache=False)
    http_server.stop()
    with pytest.raises(remote.RemoteError, match="connection refused") as err:
        ga.read_fasta(url)
    assert url in str(err.value)
    with pytest.raises(remote.RemoteError, match="connection refused"):
        genome.sel(chrom="chr3").values  # noqa: B018


def test_fasta_changed_on_the_server_gives_a_new_key(http_server, bgzipped, tmp_path):
    url = _serve_fasta(http_server, bgzipped)
    first = ga.read_fasta(url, progress=False)
    small = tmp_path / "small.fa"
    small.write_text(">chr1\n" + "ACGT" * 15 + "\n")
    (tmp_path / "gz").mkdir()
    target = tmp_path / "gz" / "genome.fa.gz"
    pysam.tabix_compress(str(small), str(target))
    pysam.faidx(str(target))
    _serve_fasta(http_server, target)
    second = ga.read_fasta(url, progress=False)
    assert second.encoding["store"] != first.encoding["store"]
    assert list(second.chrom.values) == ["chr1"] and second.sizes["pos"] == 60
