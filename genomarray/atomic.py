"""Locks, atomic folders and atomic files: the ground floor every writer stands on.

Every output genomarray writes (zarr stores, caches, scratch folders, bigWig/bedGraph/BED
exports) is written under a temporary name beside its target and renamed into place only when
complete, so an error or an interrupt never leaves a half-written output that a later run
would take as complete.

The writing process holds a ``flock`` on a lock file beside its temporary folder (or on its
temporary file). The lock lasts until the process ends, however it ends, so the next writer of
the same target can tell a running writer from a dead one and removes only the leftovers of
dead ones (:func:`sweep_stale`, :func:`sweep_partial_files`), whatever host or pid namespace
wrote them. Without usable locks a leftover is removed after :data:`STALE_AFTER_S`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import uuid
from collections.abc import Iterator, Sequence
from glob import escape as glob_escape
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - non-POSIX
    fcntl = None  # type: ignore[assignment]


STALE_AFTER_S = 7 * 24 * 3600
"""A ``.partial-*`` folder whose owner cannot be asked (no lock file: an older version, or a
filesystem without ``flock``) is stale after a week."""


_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS}


_LEFTOVER = re.compile(r"\.(partial|old)-(scratch-)?[0-9a-f]{8,32}(\.lock)?")


def _lock_of(folder: Path) -> Path:
    """The lock file of a build's temporary folder: beside it, so that writing the store
    (zarr's ``mode="w"`` empties the folder) cannot remove it."""
    return folder.with_name(folder.name + ".lock")


def hold_lock(file: str | os.PathLike) -> int | None:
    """Create ``file`` if needed and hold an exclusive ``flock`` on it; return its descriptor.

    The lock lasts until the descriptor is closed or the process dies, however it dies, so
    other processes can tell a running writer from a dead one (:func:`lock_is_free`).
    None when locks are not available here (Windows, a filesystem that refuses them).

    Examples
    --------
    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "x.lock"
    >>> fd = hold_lock(f)
    >>> lock_is_free(f)
    False
    >>> os.close(fd)
    >>> lock_is_free(f)
    True
    """
    if fcntl is None:  # pragma: no cover - non-POSIX
        return None
    for _ in range(100):
        fd = os.open(file, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # blocking: a sweeper's probe is brief
        except OSError as err:
            os.close(fd)
            if err.errno in _NO_LOCKS:
                return None
            raise
        try:
            same = os.fstat(fd).st_ino == os.stat(file).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # a sweeper removed the file before we locked it: make a new one
    raise OSError(f"could not lock {file}: it keeps being removed")


@contextlib.contextmanager
def claimed(file: str | os.PathLike) -> Iterator[bool | None]:
    """Take ``file``'s ``flock`` if nobody holds it, for the duration of the block.

    Yields True (free: held by us until the block ends, so whatever the block removes
    cannot belong to a writer that locks it meanwhile), False (a live process holds it, on
    this host or, on NFS, another), or None (no such file, or locks unavailable here).

    Examples
    --------
    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "x.lock"
    >>> fd = hold_lock(f)
    >>> with claimed(f) as free:
    ...     free
    False
    >>> os.close(fd)
    >>> with claimed(f) as free:
    ...     free
    True
    """
    fd = None
    state: bool | None = None
    if fcntl is not None:
        try:
            fd = os.open(file, os.O_RDWR)
        except OSError:
            fd = None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                state = True
            except BlockingIOError:
                state = False
            except OSError:
                state = None
    try:
        yield state
    finally:
        if fd is not None:
            os.close(fd)


def lock_is_free(file: str | os.PathLike) -> bool | None:
    """Whether nobody holds ``file``'s ``flock`` (:func:`hold_lock`); None when ``file`` is
    missing or locks are not available. Only a snapshot: to remove what the lock guards,
    do it inside :func:`claimed`."""
    with claimed(file) as free:
        return free


def hold_folder_lock(folder: Path) -> int | None:
    """Hold the lock file beside ``folder`` (None: no locks here)."""
    fd = hold_lock(_lock_of(folder))
    if fd is None:
        with contextlib.suppress(OSError):
            _lock_of(folder).unlink()
    return fd


def release(folder: Path, fd: int | None) -> None:
    """Remove the lock file, then drop the lock (call once ``folder`` is renamed or gone)."""
    with contextlib.suppress(OSError):
        _lock_of(folder).unlink()
    if fd is not None:
        os.close(fd)


def _older_than_stale(folder: Path, now: float) -> bool:
    try:
        return now - folder.stat().st_mtime > STALE_AFTER_S
    except OSError:
        return False


def sweep_stale(path: str | os.PathLike) -> list[Path]:
    """Remove leftovers of builds of ``path`` that were killed before they could clean up.

    A build writes into ``<path>.partial-<id>`` and holds an exclusive ``flock`` on the
    lock file ``<path>.partial-<id>.lock`` beside it for as long as it runs; the operating
    system drops the lock when the process dies, however it dies. A SIGKILL or a lost node
    leaves the folder behind; the next build of ``path`` removes it once its lock is free.
    A folder without a lock file (an older genomarray, or a filesystem that refuses
    ``flock``) is removed only when it is older than :data:`STALE_AFTER_S`.
    ``<path>.old-<id>`` folders (a replaced store that a killed process did not finish
    deleting) are removed once ``path`` exists; without it they are the only copy and are
    kept. Only names of exactly these forms are touched.

    Parameters
    ----------
    path
        The final store path whose leftovers to sweep.

    Returns
    -------
    list of Path
        The folders removed.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "x.zarr.partial-abcd1234").mkdir()   # no lock file, new: kept
    >>> (root / "x.zarr.old-backup").mkdir()          # not a name genomarray makes: kept
    >>> sweep_stale(root / "x.zarr")
    []
    """
    import time

    path = Path(path)
    if not path.parent.is_dir():
        return []
    now = time.time()
    removed = []
    for entry in path.parent.glob(f"{glob_escape(path.name)}.*"):
        match = _LEFTOVER.fullmatch(entry.name[len(path.name) :])
        if match is None:
            continue
        if match.group(3):  # a lock file whose folder is gone (killed after removing it)
            with claimed(entry) as free:
                if free and not entry.with_name(entry.name[: -len(".lock")]).exists():
                    entry.unlink(missing_ok=True)
            continue
        if not entry.is_dir():
            continue
        if match.group(1) == "old":
            if path.exists():  # else killed between an overwrite's renames: keep it
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
            continue
        lock = _lock_of(entry)
        with claimed(lock) as free:  # removed while we hold the lock: no owner can appear
            if free is None:
                free = _older_than_stale(entry, now)
            if free:
                shutil.rmtree(entry, ignore_errors=True)
                lock.unlink(missing_ok=True)
                removed.append(entry)
    return removed


def ensure_writable(folder: str | os.PathLike) -> None:
    """Create ``folder`` if needed; a folder that cannot be written is a clear error.

    Raises
    ------
    PermissionError
        Naming the folder and ``$GENOMARRAY_OUTPUT``.

    Examples
    --------
    >>> import tempfile
    >>> ensure_writable(Path(tempfile.mkdtemp()) / "new" / "folder")
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise _read_only(folder) from err
        raise
    if not os.access(folder, os.W_OK):
        raise _read_only(folder)


def _read_only(folder: Path) -> PermissionError:
    return PermissionError(
        f"cannot write to {folder} (read-only?); choose another path or "
        "set $GENOMARRAY_OUTPUT to a writable folder"
    )


def make_locked(tmp: Path, folder: bool = True) -> int | None:
    """Create a temporary folder (or file) already locked, and return the lock's descriptor.

    For a folder the lock file beside it is locked first and the folder made after, so a
    sweeper (:func:`sweep_stale`) never sees it unlocked; for a file, the file itself is
    the lock. Close the descriptor (or :func:`release` a folder) when done.

    Raises
    ------
    PermissionError
        The parent folder is read-only.

    Examples
    --------
    >>> import tempfile
    >>> tmp = Path(tempfile.mkdtemp()) / "x.zarr.partial-0123abcd0123"
    >>> fd = make_locked(tmp)
    >>> tmp.is_dir(), lock_is_free(tmp.with_name(tmp.name + ".lock"))
    (True, False)
    >>> release(tmp, fd)
    """
    try:
        fd = hold_folder_lock(tmp) if folder else hold_lock(tmp)
        if folder:
            tmp.mkdir()
    except OSError as err:
        if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise _read_only(tmp.parent) from err
        raise
    return fd


@contextlib.contextmanager
def atomic_scratch(path: str | os.PathLike):
    """Yield a scratch folder next to ``path``, removed when the block ends, however it ends.

    It is named and locked like a build's temporary folder (``<path>.partial-scratch-<id>``),
    so a scratch folder left by a killed process is swept by the next build of ``path``.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "out.zarr"
    >>> with atomic_scratch(target) as tmp:
    ...     (tmp / "spill.npy").touch()
    >>> list(target.parent.iterdir())
    []
    """
    path = Path(path)
    ensure_writable(path.parent)
    sweep_stale(path)
    tmp = path.with_name(f"{path.name}.partial-scratch-{uuid.uuid4().hex[:12]}")
    fd = make_locked(tmp)
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        release(tmp, fd)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, overwrite: bool = False):
    """Yield a temporary folder that is renamed to ``path`` only if the block succeeds.

    On error the temporary folder is removed, so no half-written output is left behind.
    If ``path`` appeared meanwhile (another build won the race) and ``overwrite`` is False,
    the finished temporary folder is discarded and the existing one kept.

    Examples
    --------
    >>> import tempfile, os
    >>> target = os.path.join(tempfile.mkdtemp(), "out.zarr")
    >>> with atomic_dir(target) as tmp:
    ...     open(os.path.join(tmp, "x"), "w").close()
    >>> os.listdir(target)
    ['x']
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    ensure_writable(path.parent)
    sweep_stale(path)
    tmp = path.with_name(f"{path.name}.partial-{uuid.uuid4().hex[:12]}")
    fd = make_locked(tmp)
    try:
        try:
            yield tmp
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if path.exists():
            if not overwrite:
                shutil.rmtree(tmp, ignore_errors=True)
                return
            old = path.with_name(f"{path.name}.old-{uuid.uuid4().hex[:12]}")
            os.rename(path, old)
            os.rename(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            try:
                os.rename(tmp, path)
            except OSError:  # lost a race to a concurrent build of the same key
                shutil.rmtree(tmp, ignore_errors=True)
                if not path.exists():
                    raise
    finally:
        release(tmp, fd)  # after the rename: a sweeper that gets the lock finds no folder


class AtomicFiles:
    """Temporary files next to ``targets``, renamed onto them by :meth:`commit`.

    Each temporary file is locked (:func:`hold_lock`) while it is written,
    so leftovers of a killed export (lock free) are removed by the next export to the same
    target, and a running one is never touched.
    """

    def __init__(self, targets: Sequence[Path], overwrite: bool = False) -> None:
        self.targets = list(targets)
        self.overwrite = overwrite
        tag = uuid.uuid4().hex[:8]
        self.temps = [t.with_name(f".{t.name}.partial-{tag}") for t in self.targets]
        self.fds: list[int | None] = []

    def __enter__(self) -> list[Path]:
        for t in self.targets:
            ensure_writable(t.parent)
            sweep_partial_files(t)
        # writers open the temporary files with "w" (truncate): the locked inode stays
        for t in self.temps:
            try:
                self.fds.append(make_locked(t, folder=False))
            except BaseException:
                self.__exit__(OSError, None, None)
                raise
        return self.temps

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            for t in self.temps:
                t.unlink(missing_ok=True)
        self._close()

    def _close(self) -> None:
        for fd in self.fds:
            if fd is not None:
                os.close(fd)
        self.fds = []

    def commit(self) -> None:
        try:
            for tmp, target in zip(self.temps, self.targets, strict=True):
                if self.overwrite:
                    os.replace(tmp, target)
                    continue
                try:  # never replace an output that appeared while we wrote
                    os.link(tmp, target)
                except FileExistsError:
                    raise FileExistsError(
                        f"{target} appeared while it was being written; "
                        "pass overwrite=True to replace it"
                    ) from None
                except OSError:  # no hard links on this filesystem
                    if target.exists():
                        raise FileExistsError(
                            f"{target} exists; pass overwrite=True to replace it"
                        ) from None
                    os.replace(tmp, target)
        finally:
            for t in self.temps:
                t.unlink(missing_ok=True)
            self._close()


def sweep_partial_files(target: Path) -> None:
    """Remove ``.<target>.partial-<id>`` files whose writer is gone (lock free)."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.partial-[0-9a-f]{{8}}")
    if not target.parent.is_dir():
        return
    for entry in target.parent.iterdir():
        if pattern.fullmatch(entry.name):
            with claimed(entry) as free:
                if free:
                    entry.unlink(missing_ok=True)


def write_file_atomic(target: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``target`` through a locked temporary file beside it and a rename.

    The target is replaced only once the data is complete; a killed writer's temporary file
    is removed by the next write of the same target (:class:`AtomicFiles`).

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "x.fai"
    >>> write_file_atomic(target, b"chr1\\t4\\t6\\t4\\t5\\n")
    >>> target.read_bytes()
    b'chr1\\t4\\t6\\t4\\t5\\n'
    """
    target = Path(target)
    atomic = AtomicFiles([target], overwrite=True)
    with atomic as (tmp,):
        tmp.write_bytes(data)
        atomic.commit()
