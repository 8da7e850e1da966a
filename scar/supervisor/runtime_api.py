"""The Lambda Runtime API loop, for container-image functions whose entry point is the supervisor:
fetch the next event, handle it, post the answer, forever. A failure to start is posted to /init/error (and
the process exits, as Lambda expects); an invocation that raises is posted to /invocation/<id>/error."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from . import response
from .config import load_config
from .entry import build_supervisor
from .supervisor import configure_logging, log

API_VERSION = "2018-06-01"
#: set by `scar run --local --output-dir` only: the folder (bound into the sandbox) that takes the output files
OUTPUT_DIR_VARIABLE = "SCAR_LOCAL_OUTPUT_DIR"


def main() -> None:
    """The image's entry point (see scar/package/function_image.py)."""
    sys.exit(serve())


def serve(api: str | None = None, runner: str = "direct") -> int:
    """Serve invocations from `AWS_LAMBDA_RUNTIME_API` until the sandbox is shut down; 1 if it cannot start."""
    base = f"http://{api or os.environ['AWS_LAMBDA_RUNTIME_API']}/{API_VERSION}/runtime"
    try:
        config = load_config()
        configure_logging(config.log_level)
        output_dir = os.environ.get(OUTPUT_DIR_VARIABLE)
        supervisor = build_supervisor(config, runner, output_dir=Path(output_dir) if output_dir else None)
    except Exception as err:  # noqa: BLE001 - whatever stops the start is Lambda's to report
        _post(f"{base}/init/error", _error(err))
        return 1
    group, stream = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", ""), os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
    while True:
        try:
            with urllib.request.urlopen(f"{base}/invocation/next") as reply:  # blocks until an event arrives
                request_id = reply.headers["Lambda-Runtime-Aws-Request-Id"]
                deadline_ms = int(reply.headers.get("Lambda-Runtime-Deadline-Ms", "0"))
                body = reply.read()
        except urllib.error.HTTPError as err:
            if err.code == 410:  # scar's local Runtime API has no more invocations
                return 0
            raise
        try:
            event: Any = json.loads(body or b"{}")
            deadline = time.monotonic() + (deadline_ms / 1000 - time.time()) if deadline_ms else None
            answer = supervisor.handle(event, response.RequestInfo(request_id, group, stream), deadline)
        except Exception as err:  # noqa: BLE001 - one bad invocation is reported, the loop goes on
            log.exception("invocation %s failed", request_id)
            _post(f"{base}/invocation/{request_id}/error", _error(err))
            continue
        _post(f"{base}/invocation/{request_id}/response", answer)


def _error(err: BaseException) -> dict[str, Any]:
    return {"errorMessage": str(err), "errorType": type(err).__name__}


def _post(url: str, document: dict[str, Any]) -> None:
    headers = {"Content-Type": "application/json"}
    if "errorType" in document:
        headers["Lambda-Runtime-Function-Error-Type"] = f"Runtime.{document['errorType']}"
    request = urllib.request.Request(url, data=json.dumps(document).encode(), method="POST", headers=headers)
    with urllib.request.urlopen(request) as reply:
        reply.read()
