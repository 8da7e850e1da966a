"""`python -m scar.supervisor`: read one event on stdin, print the answer document on stdout (AWS Batch and
local runs). The exit code is 0 when the run succeeded, 1 otherwise."""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

from . import response
from .config import ConfigurationError, load_config
from .entry import build_supervisor
from .runners import RunnerError
from .supervisor import configure_logging, log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scar.supervisor", description=__doc__)
    parser.add_argument("--config", type=Path, help="function_config.yaml (default: FUNCTION_CONFIG or the "
                                                    "task root's)")
    parser.add_argument("--runner", choices=("udocker", "sandbox", "direct"), help="override the configured runner")
    parser.add_argument("--timeout", type=float, help="seconds the run may take (threshold included)")
    parser.add_argument("--request-id", default=None, help="request id (default: a new UUID)")
    parser.add_argument("--network", action="store_true", default=None,
                        help="let the sandbox runner's container use the network (off by default)")
    args = parser.parse_args(argv)
    request = response.RequestInfo(args.request_id or str(uuid.uuid4()))
    try:
        config = load_config(args.config)
        configure_logging(config.log_level)
        supervisor = build_supervisor(config, args.runner, network=args.network)
    except (ConfigurationError, RunnerError) as err:
        print(f"supervisor: {err}", file=sys.stderr)
        print(json.dumps(response.failure(request, str(err))))
        return 1
    raw = sys.stdin.read()
    try:
        event = json.loads(raw) if raw.strip() else {}
    except ValueError:
        event = raw
    deadline = time.monotonic() + args.timeout if args.timeout else None
    answer = supervisor.handle(event, request, deadline)
    print(json.dumps(answer))
    if answer["statusCode"] != 200:
        log.error("the invocation failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
