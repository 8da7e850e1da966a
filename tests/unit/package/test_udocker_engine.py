"""obtain_engine: a local file, or a download cached by SHA-256; None and one notice when it cannot be had."""

from __future__ import annotations

import hashlib
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from devtools.images import fake_udocker_engine
from scar.config.specs import UdockerEngineSpec
from scar.package.udocker_engine import default_cache_dir, obtain_engine

TARBALL = fake_udocker_engine()
DIGEST = hashlib.sha256(TARBALL).hexdigest()


class Server:
    def __init__(self, base: str, requests: list[str]) -> None:
        self.base = base
        self.requests = requests

    def url(self, path: str = "/englib.tar.gz") -> str:
        return self.base + path


@pytest.fixture
def server() -> Iterator[Server]:
    """A local HTTP server: /englib.tar.gz is the tarball, /page is HTML, anything else is a 404."""
    requests: list[str] = []
    bodies = {"/englib.tar.gz": TARBALL, "/page": b"<html>moved</html>"}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            body = bodies.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_address[1]}", requests)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "udocker"


def obtain(source: UdockerEngineSpec, cache: Path) -> tuple[Path | None, list[str]]:
    notices: list[str] = []
    return obtain_engine(source, cache, notices.append), notices


@pytest.mark.parametrize("pinned", [True, False])
def test_downloaded_once_then_cached(server: Server, cache: Path, pinned: bool):
    source = UdockerEngineSpec(url=server.url(), sha256=DIGEST if pinned else None)
    first, notices = obtain(source, cache)
    second, more = obtain(source, cache)
    assert notices == more == []
    assert first == second == cache / DIGEST
    assert first.read_bytes() == TARBALL
    assert server.requests == ["/englib.tar.gz"]
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]


def test_a_corrupted_cache_file_is_downloaded_again(server: Server, cache: Path):
    source = UdockerEngineSpec(url=server.url(), sha256=DIGEST)
    obtain(source, cache)
    (cache / DIGEST).write_bytes(b"tampered")
    path, notices = obtain(source, cache)
    assert notices == [] and path.read_bytes() == TARBALL
    assert len(server.requests) == 2


def test_a_checksum_mismatch_leaves_nothing(server: Server, cache: Path):
    path, notices = obtain(UdockerEngineSpec(url=server.url(), sha256="0" * 64), cache)
    assert path is None
    assert len(notices) == 1
    assert f"has SHA-256 {DIGEST}, not the configured {'0' * 64}" in notices[0]
    assert "will install its tools on first run" in notices[0] and "\n" not in notices[0]
    assert list(cache.iterdir()) == []


def test_what_is_not_a_gzip_tarball_is_not_cached(server: Server, cache: Path):
    path, notices = obtain(UdockerEngineSpec(url=server.url("/page")), cache)
    assert path is None and "did not send a gzip tarball" in notices[0]
    assert list(cache.iterdir()) == []


def test_an_http_error(server: Server, cache: Path):
    path, notices = obtain(UdockerEngineSpec(url=server.url("/missing")), cache)
    assert path is None and len(notices) == 1 and "404" in notices[0]
    assert list(cache.iterdir()) == []


def test_offline(cache: Path):
    path, notices = obtain(UdockerEngineSpec(url="http://127.0.0.1:1/englib.tar.gz"), cache)
    assert path is None
    assert len(notices) == 1 and notices[0].startswith("udocker's engine tarball is not in the layer (cannot "
                                                       "download http://127.0.0.1:1/englib.tar.gz")


def test_a_local_file(tmp_path: Path, cache: Path):
    local = tmp_path / "englib.tar.gz"
    local.write_bytes(TARBALL)
    unreachable = "http://127.0.0.1:1/never"
    assert obtain(UdockerEngineSpec(url=unreachable, file=local), cache) == (local, [])
    assert obtain(UdockerEngineSpec(url=unreachable, sha256=DIGEST, file=local), cache) == (local, [])
    path, notices = obtain(UdockerEngineSpec(url=unreachable, sha256="f" * 64, file=local), cache)
    assert path is None and len(notices) == 1 and str(local) in notices[0]
    assert not cache.exists()


def test_default_cache_dir(isolated_env: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert default_cache_dir() == isolated_env / ".cache" / "scar" / "udocker"
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere")
    assert default_cache_dir() == Path("/somewhere/scar/udocker")
