"""A local OSCAR API on 127.0.0.1 for tests: every request is checked against OSCAR's own OpenAPI
description (path, method, security, request body) and every JSON answer against its response schema;
what breaks the description is collected in `problems` instead of passing silently.

Services live in memory, each with its own token (for /run and /job); jobs and their logs are kept per
service. Basic auth checks `users`, bearer auth the OIDC `tokens` (or, on /run and /job, the service's
token). `fail_write_at = N` makes the Nth write to /system/services answer 500 without changing anything.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator

SPEC_FILE = Path(__file__).resolve().parents[1] / "tests" / "data" / "oscar-openapi.yaml"


@dataclass
class Recorded:
    method: str
    path: str
    auth: str | None  # "basic USER", "bearer", or None
    body: bytes
    headers: dict[str, str]


class _Api:
    """The OpenAPI description: operations by method and path template, and schema validators."""

    def __init__(self, spec_file: Path) -> None:
        self.spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
        self.routes: list[tuple[re.Pattern[str], str, dict[str, Any]]] = []
        for template, item in self.spec["paths"].items():
            pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "([^/]+)", template) + "$")
            self.routes.append((pattern, template, item))

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any], list[str]] | None:
        for pattern, template, item in self.routes:
            match = pattern.match(path)
            if match and method.lower() in item:
                return template, item[method.lower()], [unquote(g) for g in match.groups()]
        return None

    def problems(self, schema: dict[str, Any], instance: Any, write: bool) -> list[str]:
        rooted = {**schema, "components": self.spec["components"]}
        validator = (OAS30WriteValidator if write else OAS30ReadValidator)(rooted)
        return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
                for e in validator.iter_errors(instance)]


class OscarServer:
    def __init__(self, users: dict[str, str] | None = None, tokens: tuple[str, ...] = (),
                 spec_file: Path = SPEC_FILE) -> None:
        self.users = dict(users or {})
        self.tokens = set(tokens)
        self.api = _Api(spec_file)
        self.services: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, dict[str, dict[str, Any]]] = {}
        self.logs: dict[tuple[str, str], str] = {}
        self.requests: list[Recorded] = []
        self.problems: list[str] = []
        self.fail_write_at: int | None = None
        self.writes = 0
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> OscarServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.services)

    def writes_to_services(self) -> list[Recorded]:
        return [r for r in self.requests if r.method in ("POST", "PUT", "DELETE") and r.path.startswith("/system/")]

    # -- the HTTP side ----------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def do_GET(self) -> None:
                server._serve(self, "GET")

            def do_POST(self) -> None:
                server._serve(self, "POST")

            def do_PUT(self) -> None:
                server._serve(self, "PUT")

            def do_DELETE(self) -> None:
                server._serve(self, "DELETE")

        return Handler

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        auth = _auth_kind(handler.headers.get("Authorization"))
        with self.lock:
            self.requests.append(Recorded(method, url.path, auth, body, dict(handler.headers.items())))
            status, content_type, answer, schema = self._answer(method, url.path, parse_qs(url.query), body,
                                                                handler.headers.get("Authorization"))
        if schema is not None and content_type == "application/json":
            self._check(schema, answer, write=False, where=f"answer to {method} {url.path}")
        data = answer if isinstance(answer, bytes) else (
            answer.encode() if isinstance(answer, str) else json.dumps(answer).encode() if answer is not None else b"")
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _check(self, schema: dict[str, Any], instance: Any, write: bool, where: str) -> None:
        found = self.api.problems(schema, instance, write)
        self.problems += [f"{where}: {problem}" for problem in found]

    def _answer(self, method: str, path: str, query: dict[str, list[str]], body: bytes,
                authorization: str | None) -> tuple[int, str, Any, dict[str, Any] | None]:
        found = self.api.operation(method, path)
        if found is None:
            self.problems.append(f"{method} {path}: not an operation of the OSCAR API")
            return 404, "text/plain", "not found", None
        template, operation, params = found
        if not self._authorized(operation, template, params, authorization):
            return 401, "text/plain", "unauthorized", None
        request_schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        document: Any = None
        if request_schema is not None and template.startswith("/system/"):
            try:
                document = json.loads(body)
            except ValueError:
                self.problems.append(f"{method} {path}: the body is not JSON")
                return 400, "text/plain", "bad request", None
            before = len(self.problems)
            self._check(request_schema, document, write=True, where=f"{method} {path}")
            if len(self.problems) > before:
                return 400, "text/plain", "the body does not follow the Service schema", None
        if method != "GET" and template.startswith("/system/services"):
            self.writes += 1
            if self.fail_write_at is not None and self.writes == self.fail_write_at:
                return 500, "text/plain", "injected failure", None
        success = _success_schema(operation)
        status, content_type, answer = self._act(method, template, params, query, document, body)
        return status, content_type, answer, success if 200 <= status < 300 else None

    def _authorized(self, operation: dict[str, Any], template: str, params: list[str],
                    authorization: str | None) -> bool:
        schemes = {name for requirement in operation.get("security", []) for name in requirement}
        if not schemes:
            return True
        kind, _, credential = (authorization or "").partition(" ")
        if kind.lower() == "basic" and "basicAuth" in schemes:
            try:
                user, _, password = base64.b64decode(credential).decode().partition(":")
            except ValueError:
                return False
            return self.users.get(user) == password and bool(password)
        if kind.lower() == "bearer" and "token" in schemes:
            if template.startswith(("/job/", "/run/")):
                service = self.services.get(params[0])
                return service is not None and secrets.compare_digest(service["token"], credential)
            return credential in self.tokens
        return False

    def _act(self, method: str, template: str, params: list[str], query: dict[str, list[str]], document: Any,
             body: bytes) -> tuple[int, str, Any]:
        services = self.services
        if template == "/system/services":
            if method == "GET":
                return 200, "application/json", list(services.values())
            name = document.get("name", "")
            if method == "POST":
                if name in services:
                    return 409, "text/plain", f"service {name} already exists"
                services[name] = {**document, "token": secrets.token_hex(16)}
                self.jobs[name] = {}
                return 201, "application/json", None
            if name not in services:
                return 404, "text/plain", f"service {name} not found"
            services[name] = {**document, "token": services[name]["token"]}
            return 204, "application/json", None
        name = params[0] if params else ""
        if template == "/system/services/{serviceName}":
            if name not in services:
                return 404, "text/plain", f"service {name} not found"
            if method == "GET":
                return 200, "application/json", services[name]
            del services[name]
            self.jobs.pop(name, None)
            return 204, "application/json", None
        if template == "/system/logs/{serviceName}" and method == "GET":
            if name not in services:
                return 404, "text/plain", f"service {name} not found"
            return 200, "application/json", {"jobs": self.jobs.get(name, {})}
        if template == "/system/logs/{serviceName}/{jobName}" and method == "GET":
            text = self.logs.get((name, params[1]))
            return (200, "text/plain", text) if text is not None else (404, "text/plain", "job not found")
        if template in ("/job/{serviceName}", "/run/{serviceName}"):
            return self._invoke(name, template.startswith("/job/"), body)
        if template == "/health":
            return 200, "text/plain", "Ok"
        return 500, "text/plain", f"{method} {template} is described but this fake does not serve it"

    def _invoke(self, name: str, asynchronous: bool, body: bytes) -> tuple[int, str, Any]:
        """A job (async) or a run (sync) of the service: its output says what it received."""
        output = f"{name} received {len(body)} bytes: {body.decode('utf-8', 'replace')}"
        if not asynchronous:
            return 200, "text/plain", output
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        job = f"{name}-job-{len(self.jobs.setdefault(name, {})) + 1}"
        self.jobs[name][job] = {"status": "Succeeded", "creation_time": now, "start_time": now, "finish_time": now}
        self.logs[(name, job)] = output + "\n"
        return 201, "text/plain", ""


def _success_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    for status, response in operation.get("responses", {}).items():
        if status.startswith("2"):
            return response.get("content", {}).get("application/json", {}).get("schema")
    return None


def _auth_kind(header: str | None) -> str | None:
    if not header:
        return None
    kind, _, credential = header.partition(" ")
    if kind.lower() == "basic":
        try:
            return "basic " + base64.b64decode(credential).decode().partition(":")[0]
        except ValueError:
            return "basic ?"
    return kind.lower()
