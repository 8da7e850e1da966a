"""A small HTTP proxy in front of a local AWS emulator that fails the Nth mutating request, with the error a
real service sends (its own protocol, a non-retryable code), and forwards everything else unchanged.

    with FaultProxy(moto.endpoint) as proxy:
        os.environ["AWS_ENDPOINT_URL"] = proxy.endpoint
        proxy.arm(3)          # the third mutating call fails; all others go through
        ...
        proxy.mutating        # what was asked, in order: ["logs.CreateLogGroup", "lambda.POST /2015-03-31/...", ...]

Mutating: a JSON-protocol operation whose name is not a read (Get, List, Describe, ...), or a REST request
(Lambda, S3) with a method other than GET and HEAD. Bound to 127.0.0.1; forwards only to the upstream given.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

READS = ("Get", "List", "Describe", "Head", "Filter", "Lookup", "Search")
_SERVICE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.mutating: list[str] = []
        self.failed: str | None = None
        self.delay = 0.0  # seconds each mutating request waits before it is forwarded (to interrupt a run)
        self._fail_at: int | None = None
        self._seen: dict[str, bool] = {}  # SDK invocation id → failed
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def arm(self, call: int | None) -> None:
        """Fail the `call`-th mutating request from now on (None: fail nothing); restart the count."""
        with self._lock:
            self._fail_at = call
            self.mutating = []
            self.failed = None
            self._seen = {}

    def _decide(self, operation: str, invocation: str | None) -> bool:
        """Whether to fail this request. A call the SDK retries (same `amz-sdk-invocation-id`) counts once, so
        the numbering does not depend on the machine's load; every attempt of the failed call fails."""
        with self._lock:
            if invocation is not None and invocation in self._seen:
                return self._seen[invocation]
            self.mutating.append(operation)
            fail = self._fail_at is not None and len(self.mutating) == self._fail_at
            if fail:
                self.failed = operation
            if invocation is not None:
                self._seen[invocation] = fail
            return fail

    def __enter__(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                service, operation, protocol = _describe(self.command, self.path, self.headers, body)
                if operation is not None:
                    if proxy._decide(f"{service}.{operation}", self.headers.get("amz-sdk-invocation-id")):
                        self._fail(protocol, f"injected fault at {service}.{operation}")
                        return
                    time.sleep(proxy.delay)
                self._forward(body)

            def _forward(self, body: bytes) -> None:
                connection = http.client.HTTPConnection(*proxy.upstream, timeout=120)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                connection.request(self.command, self.path, body=body or None, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
                self.send_response(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                connection.close()

            def _fail(self, protocol: str, message: str) -> None:
                if protocol == "rest-xml":
                    data = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InvalidRequest</Code>"
                            f"<Message>{message}</Message></Error>").encode()
                    headers = {"Content-Type": "application/xml"}
                elif protocol == "ec2":
                    data = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error>"
                            f"<Code>InvalidParameterValue</Code><Message>{message}</Message></Error></Errors>"
                            "<RequestID>fault</RequestID></Response>").encode()
                    headers = {"Content-Type": "text/xml"}
                elif protocol == "rest-json":
                    data = json.dumps({"message": message, "Type": "User"}).encode()
                    headers = {"Content-Type": "application/json",
                               "x-amzn-ErrorType": "InvalidParameterValueException"}
                else:
                    data = json.dumps({"__type": "ValidationException", "message": message}).encode()
                    headers = {"Content-Type": "application/x-amz-json-1.1"}
                self.send_response(400)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _describe(method: str, path: str, headers: Any, body: bytes = b"") -> tuple[str, str | None, str]:
    """(service, the mutating operation or None for a read, protocol) of one request."""
    match = _SERVICE.search(headers.get("Authorization", ""))
    service = match.group(1) if match else "unknown"
    target = headers.get("X-Amz-Target")
    if target:
        operation = target.rsplit(".", 1)[-1]
        return service, None if operation.startswith(READS) else operation, "json"
    if service in ("sts", "iam"):
        return service, None, "query"  # scar only reads these
    if service == "ec2":  # the EC2 query protocol: the operation is the form's Action
        action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
        return service, None if action.startswith(READS) else action, "ec2"
    if service == "batch":  # every Batch operation is a POST to /v1/<operation in lower case>
        operation = urllib.parse.urlsplit(path).path.rsplit("/", 1)[-1]
        return service, None if operation.startswith(tuple(r.lower() for r in READS)) else operation, "rest-json"
    protocol = "rest-xml" if service == "s3" else "rest-json"
    if method in ("GET", "HEAD"):
        return service, None, protocol
    return service, f"{method} {urllib.parse.urlsplit(path).path}", protocol
