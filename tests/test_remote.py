"""Remote inputs against real servers on 127.0.0.1 (tests/servers.py), started per test.

Covers the test servers themselves, bigWig and BED text over HTTP (values equal the local
reads), cache keys built from HEAD metadata only (a file changed on the server: a new key
and a new build), and the errors for 404, server gone and truncated responses (naming the
URL, leaving no store or copy behind). BAM, CRAM and FASTA over HTTP: test_remote_htslib.py;
stores on S3 and HTTP: test_remote_store.py.
"""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
import xarray as xr

import genomarray as ga
from genomarray.genome import cache
from genomarray.io import remote
from genomarray.io.bigwig import BigWigReader, bigwig_chrom_sizes, bigwig_zoom_levels
from genomarray.paths import cache_dir, output_root

FASTA = ga.example_path("genome.fa")
BW = ga.example_path("sample.bw")
PEAKS = ga.example_path("peaks.narrowPeak")

pytest.importorskip("aiohttp", reason="fsspec's HTTP filesystem needs aiohttp")


def _request(url: str, method: str = "GET", **headers: str):
    req = urllib.request.Request(url, method=method, headers=headers)
    return urllib.request.urlopen(req, timeout=10)  # noqa: S310 - 127.0.0.1 only


def _leftovers() -> list[str]:
    """Stores and partial folders under the output root (caches, downloads)."""
    root = output_root()
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.name.endswith(".zarr") or ".partial-" in p.name
    )


# -- the test servers -------------------------------------------------------------------


def test_http_server_ranges_head_and_hooks(http_server):
    url = http_server.add(BW)
    data = open(BW, "rb").read()
    with _request(url, "HEAD") as r:
        assert r.status == 200 and int(r.headers["Content-Length"]) == len(data)
        assert r.headers["Accept-Ranges"] == "bytes" and r.headers["ETag"]
        assert r.headers["Last-Modified"].endswith("GMT") and r.read() == b""
    with _request(url, Range="bytes=10-19") as r:
        assert r.status == 206 and r.read() == data[10:20]
        assert r.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    with _request(url, Range="bytes=-5") as r:
        assert r.read() == data[-5:]
    with pytest.raises(urllib.error.HTTPError) as err:
        _request(url, Range=f"bytes={len(data)}-")
    assert err.value.code == 416
    http_server.set_missing("sample.bw")
    with pytest.raises(urllib.error.HTTPError) as err:
        _request(url)
    assert err.value.code == 404
    http_server.set_missing()
    http_server.set_truncate("sample.bw", 100, times=1)
    with pytest.raises(Exception, match="IncompleteRead|incomplete|truncat"):
        _request(url).read()
    with _request(url) as r:  # only the first GET was cut
        assert r.read() == data
    methods = [m for m, p, _ in http_server.requests if p == "/sample.bw"]
    assert methods == ["HEAD"] + ["GET"] * 6  # range, suffix, 416, 404, cut, whole
    http_server.stop()
    with pytest.raises(urllib.error.URLError):
        _request(url)


def test_s3_server_zarr_roundtrip(s3_server):
    track = ga.read_bigwig(BW, resolution=100, storage="lazy")
    url = s3_server.url("sig.zarr")
    track.to_dataset().to_zarr(url, zarr_format=3, storage_options=s3_server.storage_options)
    back = xr.open_zarr(url, zarr_format=3, storage_options=s3_server.storage_options)
    np.testing.assert_array_equal(back.coverage.values, track.values)
    assert sorted(s3_server.filesystem().ls(url))[-1].endswith("zarr.json")


# -- URLs, errors, fingerprints ---------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("http://127.0.0.1:1/x.bw", True),
        ("HTTPS://h/x.bed", True),
        ("s3://bucket/x.zarr", True),
        ("file:///tmp/x.bw", False),
        ("/tmp/x.bw", False),
        ("x://y", False),
    ],
)
def test_is_url(path, expected):
    assert remote.is_url(path) is expected


def test_fingerprint_needs_etag_or_last_modified():
    with pytest.raises(remote.RemoteError, match="neither ETag nor Last-Modified"):
        remote.fingerprint_of(remote.RemoteInfo("http://h/x.bw", 10, None, None))
    a = remote.fingerprint_of(remote.RemoteInfo("http://h/x.bw", 10, None, "Mon"))
    b = remote.fingerprint_of(remote.RemoteInfo("http://h/x.bw", 11, None, "Mon"))
    assert a != b


def test_cache_key_of_a_url_sends_one_head_and_follows_changes(http_server):
    url = http_server.add(BW)
    http_server.clear_requests()
    key = cache.cache_key("bigwig", [url], resolution=1)
    assert http_server.requests == [("HEAD", "/sample.bw", None)]  # nothing downloaded
    assert cache.cache_key("bigwig", [url], resolution=1) == key
    served = http_server.root / "sample.bw"
    st = served.stat()
    os.utime(served, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))  # a new version
    assert cache.cache_key("bigwig", [url], resolution=1) != key


def test_remote_info_errors_name_the_url(http_server):
    url = http_server.add(BW)
    info = remote.remote_info(url)
    assert info.size == os.path.getsize(BW) and info.etag and info.last_modified
    http_server.set_missing("sample.bw")
    with pytest.raises(remote.RemoteNotFoundError, match=r"sample\.bw.*HTTP 404") as err:
        remote.remote_info(url)
    assert isinstance(err.value, FileNotFoundError) and isinstance(err.value, ga.errors.InputError)
    http_server.stop()
    with pytest.raises(remote.RemoteError, match="connection refused") as err:
        remote.remote_info(url)
    assert url in str(err.value) and not isinstance(err.value, FileNotFoundError)


# -- bigWig over HTTP -------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{}, {"resolution": 50}, {"resolution": 50, "exact": True}])
def test_read_bigwig_url_equals_local(http_server, kwargs):
    url = http_server.add(BW)
    got = ga.read_bigwig(url, storage="lazy", **kwargs)
    ref = ga.read_bigwig(BW, storage="lazy", **kwargs)
    np.testing.assert_array_equal(got.values, ref.values)
    assert list(got.condition.values) == ["sample"] and got.attrs["inputs"] == [url]
    assert all(r is not None for m, p, r in http_server.requests if m == "GET")  # ranges only


def test_read_bigwig_url_builds_the_cache_once(http_server):
    url = http_server.add(BW)
    first = ga.read_bigwig(url, resolution=10, progress=False)
    ref = ga.read_bigwig(BW, resolution=10, storage="lazy")
    np.testing.assert_array_equal(first.values, ref.values)
    stores = sorted(p.name for p in cache_dir().glob("*.zarr"))
    assert len(stores) == 1
    http_server.clear_requests()
    again = ga.read_bigwig(url, resolution=10, progress=False)
    assert again.encoding["store"] == first.encoding["store"]
    assert sorted(p.name for p in cache_dir().glob("*.zarr")) == stores
    assert {m for m, _, _ in http_server.requests} == {"HEAD"}  # metadata, no data


def test_bigwig_pybigwig_backend_refused_for_urls(http_server):
    pybigwig = pytest.importorskip("pyBigWig")
    if pybigwig.remote:
        pytest.skip("this pyBigWig was built with curl")
    url = http_server.add(BW)
    with pytest.raises(ga.errors.InputError, match="built without curl"):
        BigWigReader(url, backend="pybigwig")


def test_bigwig_url_errors(http_server):
    url = http_server.add(BW)
    http_server.set_missing("sample.bw")
    with pytest.raises(remote.RemoteNotFoundError, match="HTTP 404"):
        ga.read_bigwig(url)
    http_server.set_missing()
    http_server.set_truncate("sample.bw", 100)  # every response cut: the file is unreadable
    with pytest.raises(remote.RemoteError, match=r"sample\.bw.*truncated"):
        ga.read_bigwig(url, progress=False)
    assert _leftovers() == []  # no store, no partial folder
    http_server.stop()
    with pytest.raises(remote.RemoteError, match="connection refused"):
        ga.read_bigwig(url)


def test_bigwig_url_truncated_once_is_read_again(http_server):
    url = http_server.add(BW)
    reader = BigWigReader(url)
    ref = BigWigReader(BW)
    np.testing.assert_array_equal(reader("chr1", 0, 100), ref("chr1", 0, 100))
    before = len(http_server.gets("sample.bw"))
    http_server.set_truncate("sample.bw", 100, times=1)  # the next response is cut
    np.testing.assert_array_equal(reader("chr3", 0, 20000), ref("chr3", 0, 20000))
    # the cut GET, then the reopened handle's header, index and data reads
    assert len(http_server.gets("sample.bw")) - before >= 3
    assert http_server.gets("sample.bw")[before + 1] == "bytes=0-10239"  # reopened


def test_bigwig_header_facts_of_a_url(http_server):
    url = http_server.add(BW)
    assert bigwig_zoom_levels(url) == bigwig_zoom_levels(BW) == [64, 256]
    assert bigwig_chrom_sizes(url) == bigwig_chrom_sizes(BW)
    assert ga.chrom_sizes(url) == {"chr1": 40000, "chr2": 30000, "chr3": 20000}
    (http_server.root / "text.bw").write_text("chr1\t0\t10\t1.0\n")
    with pytest.raises(ga.errors.InputError, match="not a bigWig file.*looks like text"):
        BigWigReader(http_server.url("text.bw"))
    data = open(BW, "rb").read()
    (http_server.root / "cut.bw").write_bytes(data[: len(data) // 2])
    with pytest.raises(ga.errors.InputError, match="truncated or damaged"):
        BigWigReader(http_server.url("cut.bw"))


def test_bigwig_changed_on_the_server_gives_a_new_key_and_cache(http_server, tmp_path):
    url = http_server.add(BW)
    first = ga.read_bigwig(url, resolution=10, progress=False)
    # another version of the file: the values of chr1 doubled (written with pyBigWig)
    pybigwig = pytest.importorskip("pyBigWig")
    src, changed = pybigwig.open(BW), pybigwig.open(str(tmp_path / "x.bw"), "w")
    changed.addHeader(list(src.chroms().items()))
    for chrom in src.chroms():
        items = src.intervals(chrom)
        scale = 2.0 if chrom == "chr1" else 1.0
        changed.addEntries(
            [chrom] * len(items),
            [a for a, _, _ in items],
            ends=[b for _, b, _ in items],
            values=[v * scale for _, _, v in items],
        )
    changed.close()
    http_server.add(tmp_path / "x.bw", "sample.bw")
    second = ga.read_bigwig(url, resolution=10, progress=False)
    assert second.encoding["store"] != first.encoding["store"]  # a new key, a new build
    assert len(list(cache_dir().glob("*.zarr"))) == 2
    ref = ga.read_bigwig(str(tmp_path / "x.bw"), resolution=10, exact=False, storage="lazy")
    np.testing.assert_array_equal(second.values, ref.values)
    chr1 = second.sel(chrom="chr1").sum()
    assert float(chr1) == pytest.approx(2 * float(first.sel(chrom="chr1").sum()), rel=1e-5)


def test_bigwig_replaced_while_read_is_refused(http_server):
    """A handle opened after the file changed (here in another thread, as on a worker) does
    not mix two versions: the reader knows the version it was set up with."""
    import threading

    url = http_server.add(BW)
    reader = BigWigReader(url)
    time.sleep(0.01)
    data = open(BW, "rb").read()
    (http_server.root / "sample.bw").write_bytes(data)  # same bytes, new mtime: new ETag
    errors = []
    thread = threading.Thread(target=lambda: _call_into(reader, errors))
    thread.start()
    thread.join()
    assert len(errors) == 1 and isinstance(errors[0], remote.RemoteError)
    assert "changed on the server" in str(errors[0]) and url in str(errors[0])


def _call_into(reader, errors):
    try:
        reader("chr1", 0, 10)
    except Exception as err:  # noqa: BLE001 - the test inspects it
        errors.append(err)


def test_bigwig_server_gone_after_opening(http_server):
    url = http_server.add(BW)
    track = ga.read_bigwig(url, storage="lazy")
    http_server.stop()
    # pybigtools keeps no data beyond its 10 kB blocks, so a later chromosome needs the server
    with pytest.raises(remote.RemoteError, match="connection refused") as err:
        track.sel(chrom="chr3").values  # noqa: B018
    assert url in str(err.value)


# -- BED text over HTTP -----------------------------------------------------------------


def test_read_bed_url_equals_local(http_server):
    url = http_server.add(PEAKS)
    got = ga.read_bed(url, like=FASTA, storage="memory")
    ref = ga.read_bed(PEAKS, like=FASTA, storage="memory")
    np.testing.assert_array_equal(got.values, ref.values)
    assert got.attrs["inputs"] == [url] and list(got.condition.values) == ["peaks"]
    http_server.clear_requests()
    ga.read_bed(url, like=FASTA, storage="memory")  # the copy is reused: metadata only
    assert {m for m, _, _ in http_server.requests} == {"HEAD"}


def test_read_bed_url_changed_on_the_server_is_fetched_again(http_server):
    url = http_server.add(PEAKS)
    before = ga.read_bed(url, like=FASTA, storage="memory")
    lines = open(PEAKS).read().splitlines(keepends=True)
    time.sleep(0.01)
    (http_server.root / "peaks.narrowPeak").write_text("".join(lines[:5]))
    after = ga.read_bed(url, like=FASTA, storage="memory")
    ref = ga.read_bed(ga.read_regions(PEAKS).iloc[:5], like=FASTA, storage="memory")
    np.testing.assert_array_equal(after.values, ref.values)
    assert float(after.sum()) < float(before.sum())


def test_read_bed_url_errors_leave_no_copy(http_server):
    url = http_server.add(PEAKS)
    http_server.set_truncate("peaks.narrowPeak", 1000)
    with pytest.raises(remote.RemoteError, match=r"peaks\.narrowPeak.*truncated"):
        ga.read_bed(url, like=FASTA)
    assert _leftovers() == [] and not list((output_root() / "remote").rglob("*.narrowPeak"))
    http_server.set_missing("peaks.narrowPeak")
    with pytest.raises(remote.RemoteNotFoundError, match="HTTP 404"):
        ga.read_bed(url, like=FASTA)
    http_server.stop()
    with pytest.raises(remote.RemoteError, match="connection refused"):
        ga.read_bed(url, like=FASTA)


def test_xarray_engine_opens_a_bigwig_url(http_server):
    from genomarray.xarray_engines import BigWigBackendEntrypoint

    url = http_server.add(BW)
    assert BigWigBackendEntrypoint().guess_can_open(url)
    ds = xr.open_dataset(url, engine=BigWigBackendEntrypoint)
    ref = ga.read_bigwig(BW, storage="lazy")
    np.testing.assert_array_equal(ds.coverage.values, ref.values)
    assert ds.coverage.attrs["inputs"] == [url]
