"""Servers on 127.0.0.1 for the remote-data tests, started and stopped by each test.

- :func:`http_server`: a threaded HTTP/1.1 file server over a folder, run in a child process
  (pysam and pybigtools hold the GIL while reading a URL, so a server thread of the test
  process would deadlock), with what htslib, pybigtools and fsspec need from a real server:
  ``HEAD``, ``Range: bytes=`` requests (206 with ``Content-Range``, 416 when unsatisfiable),
  ``ETag``, ``Last-Modified``, ``Content-Length`` and ``Accept-Ranges``. Hooks simulate
  failures: ``set_missing(name)`` (404 even if the file exists), ``set_truncate(name, n, times)``
  (``n`` bytes of a body sent, then the connection is dropped while ``Content-Length``
  promised more) and ``stop()`` (server gone: connections refused). ``requests`` logs
  ``(method, path, Range)`` and ``sent(name)`` the body bytes written, so a test can check
  what was fetched.
- :func:`s3_server`: a moto S3 server (``ThreadedMotoServer``) with one empty bucket, and the
  ``storage_options`` for s3fs / fsspec pointing at it.

Every socket binds 127.0.0.1 on a port the OS picks; nothing else is ever contacted.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

HOST = "127.0.0.1"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def etag_of(path: str | os.PathLike) -> str:
    """The ETag the server sends for a file: a hash of its size and modification time."""
    st = os.stat(path)
    return '"' + hashlib.sha1(f"{st.st_size}-{st.st_mtime_ns}".encode()).hexdigest()[:16] + '"'


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as htslib's libcurl expects of a real server
    server: _FileServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        pass  # quiet; requests are logged in server.requests

    def do_HEAD(self) -> None:  # noqa: N802 - stdlib's name
        self._serve(body=False)

    def do_GET(self) -> None:  # noqa: N802 - stdlib's name
        self._serve(body=True)

    def _fail(self, status: HTTPStatus) -> None:
        payload = f"{status.value} {status.phrase}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(payload)

    def setup(self) -> None:
        super().setup()
        # a small send buffer: bytes "sent" (logged) are close to the bytes the client
        # read, so a test can tell a range read from a whole-file download
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 16)

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):  # the client hung up mid-body
            self.close_connection = True

    def _serve(self, body: bool) -> None:
        rel = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        self.sent = 0
        self.server.log(self.command, "/" + rel, self.headers.get("Range"))
        try:
            self._respond(rel, body)
        finally:  # once answered (or cut off): the body bytes written
            self.server.log_sent("/" + rel, self.sent)

    def _respond(self, rel: str, body: bool) -> None:
        srv = self.server
        rng = self.headers.get("Range")
        target = (srv.root / rel).resolve()
        hooks = srv.hooks()
        if (
            "/" + rel in hooks.get("missing", ())
            or srv.root not in (target, *target.parents)
            or not target.is_file()
        ):
            self._fail(HTTPStatus.NOT_FOUND)
            return
        st = target.stat()
        size = st.st_size
        start, stop = 0, size  # [start, stop)
        status = HTTPStatus.OK
        if rng is not None:
            m = _RANGE.match(rng.strip())
            if m is None or (not m[1] and not m[2]):
                self._fail(HTTPStatus.BAD_REQUEST)
                return
            if m[1]:
                start = int(m[1])
                stop = min(int(m[2]) + 1, size) if m[2] else size
            else:  # suffix range: the last n bytes
                start = max(size - int(m[2]), 0)
            if start >= size or stop <= start:
                self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = HTTPStatus.PARTIAL_CONTENT
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", etag_of(target))
        self.send_header("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True))
        self.send_header("Content-Length", str(stop - start))
        if status == HTTPStatus.PARTIAL_CONTENT:
            self.send_header("Content-Range", f"bytes {start}-{stop - 1}/{size}")
        cut = srv.take_cut("/" + rel, hooks) if body else None
        if cut is not None:
            self.send_header("Connection", "close")
        self.end_headers()
        if not body:
            return
        with open(target, "rb") as fh:
            fh.seek(start)
            todo = stop - start if cut is None else min(stop - start, cut)
            while todo > 0:
                data = fh.read(min(todo, 1 << 16))
                if not data:
                    break
                self.wfile.write(data)
                self.sent += len(data)
                todo -= len(data)
        if cut is not None:  # promised more than was sent: drop the connection
            self.wfile.flush()
            self.close_connection = True


class _FileServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, control: Path) -> None:
        super().__init__((HOST, 0), _Handler)
        self.root = root.resolve()
        self.control = control
        self._log_lock = threading.Lock()
        self._cuts: dict[tuple[str, int], int] = {}

    def hooks(self) -> dict[str, Any]:
        try:
            return json.loads((self.control / "hooks.json").read_text())
        except (OSError, ValueError):
            return {}

    @property
    def missing(self) -> set[str]:
        return set(self.hooks().get("missing", []))

    def take_cut(self, path: str, hooks: dict[str, Any]) -> int | None:
        """Bytes to send of this GET of ``path`` before hanging up (None: all of them)."""
        rule = hooks.get("truncate", {}).get(path)
        if rule is None:
            return None
        nbytes, times, generation = rule
        with self._log_lock:
            key = (path, generation)
            done = self._cuts.get(key, 0)
            if times is not None and done >= times:
                return None
            self._cuts[key] = done + 1
        return int(nbytes)

    def log(self, method: str, path: str, rng: str | None) -> None:
        with self._log_lock, open(self.control / "requests.jsonl", "a") as fh:
            fh.write(json.dumps([method, path, rng]) + "\n")

    def log_sent(self, path: str, sent: int) -> None:
        with self._log_lock, open(self.control / "sent.jsonl", "a") as fh:
            fh.write(json.dumps([path, sent]) + "\n")


def _serve_forever(root: str, control: str) -> None:
    """The server process: bind, publish the port, serve until killed."""
    srv = _FileServer(Path(root), Path(control))
    tmp = Path(control) / "port.tmp"
    tmp.write_text(str(srv.server_address[1]))
    os.replace(tmp, Path(control) / "port")
    parent = os.getppid()

    def orphaned() -> None:  # never outlive the test process, even if it is killed
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=orphaned, daemon=True).start()
    srv.serve_forever(poll_interval=0.05)


@dataclass
class HTTPFileServer:
    """A file server in its own process: its folder, base URL, request log and hooks.

    It runs in a child process, not a thread: pysam (CRAM references) and pybigtools hold
    the GIL while they read a URL, so a server thread of the test process could never
    answer them.
    """

    root: Path
    control: Path
    process: subprocess.Popen
    port: int

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def url(self, name: str) -> str:
        """The URL of ``root/name``."""
        return f"{self.base}/{urllib.parse.quote(name)}"

    def add(self, src: str | os.PathLike, name: str | None = None) -> str:
        """Copy ``src`` into the served folder (as ``name``); return its URL."""
        name = name or Path(src).name
        dest = self.root / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        return self.url(name)

    def _log(self, name: str) -> list[list]:
        try:
            lines = (self.control / name).read_text().splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line]

    @property
    def requests(self) -> list[tuple[str, str, str | None]]:
        """``(method, path, Range header)`` of every request so far, in order."""
        return [tuple(entry) for entry in self._log("requests.jsonl")]

    def sent(self, name: str) -> int:
        """Body bytes the server wrote for ``name`` so far, in requests it has finished
        answering (a response the client stops reading is finished when the client
        closes the connection). The socket's send buffer is small (64 kB), so this is
        close to what the client read."""
        key = "/" + name.lstrip("/")
        return sum(n for path, n in self._log("sent.jsonl") if path == key)

    def clear_requests(self) -> None:
        (self.control / "requests.jsonl").unlink(missing_ok=True)
        (self.control / "sent.jsonl").unlink(missing_ok=True)

    def _set_hooks(self, **changes: Any) -> None:
        path = self.control / "hooks.json"
        hooks = json.loads(path.read_text()) if path.exists() else {}
        hooks.update(changes)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(hooks))
        os.replace(tmp, path)

    def set_missing(self, *names: str) -> None:
        """Answer 404 for these files (names relative to the root), present or not."""
        self._set_hooks(missing=["/" + n.lstrip("/") for n in names])

    def set_truncate(self, name: str, nbytes: int | None, times: int | None = None) -> None:
        """Send only ``nbytes`` of a GET body of ``name``, then drop the connection while
        ``Content-Length`` promised more: for the next ``times`` GETs (None: every one);
        ``nbytes=None`` ends it."""
        path = self.control / "hooks.json"
        cuts = (json.loads(path.read_text()) if path.exists() else {}).get("truncate", {})
        key = "/" + name.lstrip("/")
        if nbytes is None:
            cuts.pop(key, None)
        else:
            cuts[key] = [int(nbytes), times, time.monotonic_ns()]
        self._set_hooks(truncate=cuts)

    def gets(self, name: str) -> list[str | None]:
        """The ``Range`` headers of the GETs of ``name`` (None: no range, the whole file)."""
        key = "/" + name.lstrip("/")
        return [r for m, p, r in self.requests if m == "GET" and p == key]

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Stop the server process (the 'server gone' case; connections then refused)."""
        if self.running:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_http_server(root: str | os.PathLike, control: str | os.PathLike) -> HTTPFileServer:
    """Serve ``root`` on 127.0.0.1 at a free port, from a child process."""
    root, control = Path(root), Path(control)
    root.mkdir(parents=True, exist_ok=True)
    control.mkdir(parents=True, exist_ok=True)
    with open(control / "server.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), str(root), str(control)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    deadline = time.monotonic() + 30
    while not (control / "port").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the test HTTP server did not start (exit {proc.poll()})")
        time.sleep(0.02)
    port = int((control / "port").read_text())
    return HTTPFileServer(root, control, proc, port)


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[HTTPFileServer]:
    """An HTTP file server over a fresh folder (``server.add(file)`` publishes a file)."""
    server = start_http_server(tmp_path / "served", tmp_path / "server-control")
    try:
        yield server
    finally:
        server.stop()


# -- S3 ---------------------------------------------------------------------------------


@dataclass
class S3Server:
    """A running moto S3 server with one bucket."""

    endpoint_url: str
    bucket: str
    moto: Any

    @property
    def storage_options(self) -> dict[str, Any]:
        """fsspec / s3fs options reaching this server only (dummy credentials)."""
        return {
            "key": "testing",
            "secret": "testing",
            "endpoint_url": self.endpoint_url,
            "client_kwargs": {"region_name": "us-east-1"},
            "use_listings_cache": False,
        }

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def filesystem(self) -> Any:
        """A fresh ``s3fs.S3FileSystem`` on this server (no instance cache)."""
        import s3fs

        return s3fs.S3FileSystem(skip_instance_cache=True, **self.storage_options)


@pytest.fixture
def s3_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Server]:
    """A moto S3 server on 127.0.0.1 with an empty bucket ``genomarray-test``."""
    pytest.importorskip("s3fs")
    moto_server = pytest.importorskip("moto.server")
    # no real AWS configuration may leak in (profiles, endpoints, credentials)
    for var in [v for v in os.environ if v.startswith("AWS_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto logs every request
    server = moto_server.ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        s3 = S3Server(f"http://{host}:{port}", "genomarray-test", server)
        # moto keeps its buckets in this process across servers: start from none
        reset = urllib.request.Request(f"{s3.endpoint_url}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset, timeout=30).close()  # noqa: S310 - 127.0.0.1 only
        # boto3, not s3fs.mkdir: with region us-east-1 s3fs sends a LocationConstraint
        # that S3 (and moto) reject
        boto3 = pytest.importorskip("boto3")
        boto3.client(
            "s3",
            endpoint_url=s3.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).create_bucket(Bucket=s3.bucket)
        yield s3
    finally:
        server.stop()


if __name__ == "__main__":
    _serve_forever(sys.argv[1], sys.argv[2])
