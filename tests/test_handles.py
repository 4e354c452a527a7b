"""Per-thread handle cache: identity key, reuse, LRU eviction closes handles."""

import os
import threading
import time

import pytest

from genomarray.io import handles
from genomarray.io.handles import cached_handle


class FakeHandle:
    def __init__(self, path: str) -> None:
        self.path = path
        self.closed = False

    def close(self) -> None:
        self.closed = True


class Opener:
    """Records every handle it opens."""

    def __init__(self) -> None:
        self.opened: list[FakeHandle] = []

    def __call__(self, path: str) -> FakeHandle:
        handle = FakeHandle(path)
        self.opened.append(handle)
        return handle


@pytest.fixture
def files(tmp_path):
    paths = []
    for i in range(10):
        path = tmp_path / f"f{i}.txt"
        path.write_text(str(i))
        paths.append(str(path))
    return paths


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    """Each test starts with an empty cache on its thread."""
    monkeypatch.setattr(handles, "_local", threading.local())


def test_same_file_same_handle(files):
    opener = Opener()
    assert cached_handle(files[0], opener) is cached_handle(files[0], opener)
    assert len(opener.opened) == 1
    # another tag is another handle on the same file
    assert cached_handle(files[0], opener, tag="b") is not cached_handle(files[0], opener)
    assert len(opener.opened) == 2


def test_lru_closes_evicted_handles_and_reopens(files, monkeypatch):
    monkeypatch.setattr(handles, "MAX_HANDLES", 3, raising=False)
    opener = Opener()
    first = [cached_handle(p, opener) for p in files[:3]]
    assert not any(h.closed for h in first)
    cached_handle(files[0], opener)  # f0 is now the most recently used: f1 goes next
    fourth = cached_handle(files[3], opener)
    assert first[1].closed and not first[0].closed and not first[2].closed
    assert not fourth.closed
    fifth = cached_handle(files[4], opener)
    assert first[2].closed and not first[0].closed
    open_now = [h for h in opener.opened if not h.closed]
    assert len(open_now) == 3 and set(open_now) == {first[0], fourth, fifth}
    # an evicted file is opened again, as a new handle
    again = cached_handle(files[1], opener)
    assert again is not first[1] and not again.closed and again.path == files[1]
    assert len(opener.opened) == 6
    assert first[0].closed  # the least recently used one made room


def test_many_files_keep_at_most_max_handles_open(files, monkeypatch):
    monkeypatch.setattr(handles, "MAX_HANDLES", 4, raising=False)
    opener = Opener()
    for _ in range(3):
        for p in files:
            assert not cached_handle(p, opener).closed
    assert sum(not h.closed for h in opener.opened) == 4


def test_rewritten_file_is_reopened_and_old_handle_closed(files):
    opener = Opener()
    old = cached_handle(files[0], opener)
    with open(files[0], "w") as fh:
        fh.write("a longer content")
    st = os.stat(files[0])
    os.utime(files[0], ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    new = cached_handle(files[0], opener)
    assert new is not old and old.closed and not new.closed


def test_handles_are_per_thread(files):
    opener = Opener()
    main = cached_handle(files[0], opener)
    other: list = []
    thread = threading.Thread(target=lambda: other.append(cached_handle(files[0], opener)))
    thread.start()
    thread.join()
    assert other[0] is not main and not main.closed


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="file not found: .*nope"):
        cached_handle(str(tmp_path / "nope"), Opener())
    with pytest.raises(KeyError, match="gone"):
        cached_handle(str(tmp_path / "nope"), Opener(), missing=lambda p: KeyError("gone"))


def test_in_place_rewrite_restoring_size_and_mtime_reopens(tmp_path):
    """``cp -p`` onto an existing file keeps its inode and may restore size and mtime; the
    status-change time in the key still tells the handles apart."""
    path = tmp_path / "x.txt"
    path.write_text("old!")
    st = os.stat(path)
    first = cached_handle(str(path), open)
    assert first.read() == "old!"
    time.sleep(0.01)
    with open(path, "r+") as fh:
        fh.write("new!")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (os.stat(path).st_size, os.stat(path).st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    second = cached_handle(str(path), open)
    assert second is not first and first.closed
    assert second.read() == "new!"
