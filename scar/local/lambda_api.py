"""A local Lambda Runtime API: what Lambda serves to an image function's entry point (next invocation,
response, error, init error), served by scar on 127.0.0.1 so that `scar run --local` runs the function image
exactly as Lambda starts it. One server hands out the events it is given, one at a time."""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/2018-06-01/runtime"


@dataclass(frozen=True)
class Outcome:
    request_id: str  # empty for an init error
    kind: str  # "response", "error" or "init-error"
    document: Any


class LocalRuntimeApi:
    """`invoke(event)` queues one event and waits for the function's answer (or its init error)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._events: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._outcomes: queue.Queue[Outcome] = queue.Queue()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def __enter__(self) -> LocalRuntimeApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()
        self._server.shutdown()
        self._server.server_close()

    def finish(self) -> None:
        """Answer the next `invocation/next` with 410 Gone: the supervisor's loop ends there."""
        self._events.put(("", b""))

    def invoke(self, event: Any, wait: float) -> Outcome | None:
        """The function's answer to `event`, or None when none came within `wait` seconds."""
        request_id = str(uuid.uuid4())
        self._events.put((request_id, json.dumps(event).encode()))
        try:
            return self._outcomes.get(timeout=wait)
        except queue.Empty:
            return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass  # the function's own output is what the user reads

            def do_GET(self) -> None:
                if self.path != f"{PREFIX}/invocation/next":
                    self._answer(404, {"errorMessage": f"unknown path {self.path}"})
                    return
                request_id, body = api._events.get()  # blocks, as Lambda's does, until an event arrives
                if not request_id:
                    api._events.put(("", b""))  # for any other caller too
                    self._answer(410, {"errorMessage": "no more invocations"})
                    return
                deadline = int((time.time() + api.timeout) * 1000)
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
                self.send_header("Lambda-Runtime-Deadline-Ms", str(deadline))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    document = json.loads(raw) if raw else None
                except ValueError:
                    document = raw.decode("utf-8", "replace")
                parts = self.path[len(PREFIX):].strip("/").split("/")
                if parts == ["init", "error"]:
                    api._outcomes.put(Outcome("", "init-error", document))
                elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                    api._outcomes.put(Outcome(parts[1], parts[2], document))
                else:
                    self._answer(404, {"errorMessage": f"unknown path {self.path}"})
                    return
                self._answer(202, {"status": "OK"})

            def _answer(self, status: int, document: dict[str, Any]) -> None:
                data = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
