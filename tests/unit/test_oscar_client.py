"""The OSCAR client on real sockets (a tiny local HTTP server, no mocks): timeouts, retries only for
idempotent calls, errors naming cluster, call and status, one TLS warning; and the service body."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scar.config.specs import (
    MinioProviderSpec,
    OscarClusterSpec,
    OscarServiceSpec,
    S3ProviderSpec,
    StorageIOSpec,
    StorageProvidersSpec,
)
from scar.oscar import client as client_module
from scar.oscar.client import OscarClient, OscarError
from scar.oscar.service import comparable, service_body


class Flaky:
    """Answers 503 to the first `failures` requests of each method, then 200 `[]`; counts every request."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.seen: dict[str, int] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                count = owner.seen[self.command] = owner.seen.get(self.command, 0) + 1
                status = 503 if count <= owner.failures else 200
                body = b"busy" if status == 503 else b"[]"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def flaky() -> Iterator[Flaky]:
    server = Flaky(failures=2)
    yield server
    server.server.shutdown()
    server.server.server_close()


def cluster(endpoint: str, **extra: object) -> OscarClusterSpec:
    return OscarClusterSpec("c1", endpoint, "u", "p", **extra)  # type: ignore[arg-type]


def test_idempotent_calls_are_retried_and_posts_are_not(flaky):
    client = OscarClient(cluster(flaky.endpoint))
    assert client.list_services() == []
    assert flaky.seen["GET"] == 3  # two 503s, then the answer
    with pytest.raises(OscarError) as caught:
        client.create_service({"name": "s", "image": "i", "script": ""})
    assert flaky.seen["POST"] == 1
    assert caught.value.message == "OSCAR cluster c1: POST /system/services: HTTP 503: busy"
    assert caught.value.status == 503


def test_every_call_has_a_timeout(monkeypatch):
    """A server that accepts the connection and never answers: the call ends, it does not hang."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    monkeypatch.setattr(client_module, "READ_TIMEOUT", 0.3)
    monkeypatch.setattr(client_module, "_retries", lambda: 0)
    client = OscarClient(cluster(f"http://127.0.0.1:{listener.getsockname()[1]}"))
    try:
        with pytest.raises(OscarError, match=r"OSCAR cluster c1: GET /system/services/x: no answer from "):
            client.get_service("x")
    finally:
        listener.close()


def test_an_unreachable_cluster_is_named():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = OscarClient(cluster(f"http://127.0.0.1:{port}"))
    with pytest.raises(OscarError, match=rf"OSCAR cluster c1: DELETE /system/services/s: cannot reach "
                                         rf"http://127.0.0.1:{port}"):
        client.delete_service("s")


def test_tls_is_verified_unless_the_cluster_says_otherwise_and_that_is_said_once():
    notices: list[str] = []
    assert OscarClient(cluster("https://a.example.org"), notices.append)._session.verify is True
    assert notices == []
    insecure = OscarClusterSpec("insecure-once", "https://b.example.org", ssl_verify=False)
    for _ in range(3):
        assert OscarClient(insecure, notices.append)._session.verify is False
    assert notices == ["warning: OSCAR cluster insecure-once: ssl_verify is false, so the TLS certificate of "
                       "https://b.example.org is not checked"]


def test_credentials_are_not_in_reprs():
    spec = OscarClusterSpec("c1", "https://o", "user", "PASSWORD-1", "TOKEN-1")
    assert "PASSWORD-1" not in repr(spec) and "TOKEN-1" not in repr(spec)
    assert "TOKEN-1" not in repr(OscarClient(spec)._auth)


def test_the_body_has_the_script_and_only_the_referenced_providers(tmp_path: Path):
    script = tmp_path / "s.sh"
    script.write_text("echo hi\n")
    spec = OscarServiceSpec(name="svc", image="img", script=script, endpoint="https://o", auth_user="u",
                            auth_password="CLUSTER-PASSWORD", cluster_id="c1",
                            input=[StorageIOSpec("minio.mine", "b/in"), StorageIOSpec("minio.default", "b/x")],
                            output=[StorageIOSpec("s3.out", "b/out")])
    providers = StorageProvidersSpec(
        s3={"out": S3ProviderSpec("AK", "SK", "eu-west-1"), "other": S3ProviderSpec("AK2", "SK2")},
        minio={"mine": MinioProviderSpec("https://m", access_key="MA", secret_key="MS")})
    body = service_body(spec, providers)
    assert body["script"] == "echo hi\n"
    assert body["storage_providers"] == {
        "minio": {"mine": {"endpoint": "https://m", "verify": True, "region": "us-east-1", "access_key": "MA",
                           "secret_key": "MS"}},
        "s3": {"out": {"access_key": "AK", "secret_key": "SK", "region": "eu-west-1"}}}
    assert "CLUSTER-PASSWORD" not in repr(body) and "auth_user" not in body and "token" not in body
    assert comparable({**body, "token": "t", "owner": "someone"}) == body  # the cluster's own fields ignored
