"""The Lambda Runtime API loop, for container-image functions whose entry point is the supervisor:
fetch the next event, handle it, post the answer, forever."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from typing import Any

from . import response
from .config import load_config
from .entry import build_supervisor
from .supervisor import configure_logging

API_VERSION = "2018-06-01"


def serve(api: str | None = None, runner: str = "direct") -> None:
    """Serve invocations from `AWS_LAMBDA_RUNTIME_API` until the sandbox is shut down."""
    base = f"http://{api or os.environ['AWS_LAMBDA_RUNTIME_API']}/{API_VERSION}/runtime"
    config = load_config()
    configure_logging(config.log_level)
    supervisor = build_supervisor(config, runner)
    group, stream = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", ""), os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
    while True:
        with urllib.request.urlopen(f"{base}/invocation/next") as reply:  # blocks until an event arrives
            request_id = reply.headers["Lambda-Runtime-Aws-Request-Id"]
            deadline_ms = int(reply.headers.get("Lambda-Runtime-Deadline-Ms", "0"))
            event: Any = json.loads(reply.read() or b"{}")
        deadline = time.monotonic() + (deadline_ms / 1000 - time.time()) if deadline_ms else None
        answer = supervisor.handle(event, response.RequestInfo(request_id, group, stream), deadline)
        _post(f"{base}/invocation/{request_id}/response", answer)


def _post(url: str, document: dict[str, Any]) -> None:
    request = urllib.request.Request(url, data=json.dumps(document).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as reply:
        reply.read()
