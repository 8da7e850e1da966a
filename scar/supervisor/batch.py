"""AWS Batch from the supervisor's side: submitting a job that carries the event (`execution_mode: batch`,
and `lambda-batch` when a run would not fit in Lambda), and the job's own entry point, `main` (run by the
artifact's entry script with the artifact's own Python: scar/package/batch_runtime.py), which reads the event
from the job's environment (a Batch job has no stdin) and runs it exactly as in Lambda."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from . import response
from .config import ConfigurationError, FunctionConfig, load_config

#: what one job's overrides may carry of the event (SubmitJob takes about 30 KiB in all)
MAX_EVENT = 20 * 1024


class BatchError(Exception):
    """The event cannot be handed to AWS Batch."""


def job_overrides(config: FunctionConfig, event: Any, request_id: str) -> dict[str, Any]:
    """SubmitJob's parameters: the function's queue and definition, the event in EVENT."""
    settings = config.extra.get("batch") or {}
    if not settings.get("job_queue") or not settings.get("job_definition"):
        raise BatchError("the function's configuration names no AWS Batch job queue and definition")
    text = event if isinstance(event, str) else json.dumps(event)
    if len(text.encode()) > MAX_EVENT:
        raise BatchError(f"the event takes {len(text.encode())} bytes; an AWS Batch job carries at most "
                         f"{MAX_EVENT} bytes of it")
    environment = [{"name": "EVENT", "value": text}, {"name": "AWS_LAMBDA_REQUEST_ID", "value": request_id}]
    params: dict[str, Any] = {"jobName": _job_name(config.name), "jobQueue": settings["job_queue"],
                              "jobDefinition": settings["job_definition"]}
    if settings.get("multi_node"):
        params["nodeOverrides"] = {"nodePropertyOverrides": [
            {"targetNodes": "0:", "containerOverrides": {"environment": environment}}]}
    else:
        params["containerOverrides"] = {"environment": environment}
    return params


def submit(client: Any, config: FunctionConfig, event: Any, request: response.RequestInfo) -> dict[str, Any]:
    """Submit the job; the answer's body names it and says how to follow it."""
    try:
        job = client.submit_job(**job_overrides(config, event, request.request_id))
    except BatchError as err:
        return response.failure(request, str(err), status=400)
    except (BotoCoreError, ClientError) as err:  # the role may not submit, the queue may be gone...
        return response.failure(request, f"cannot submit the AWS Batch job: {err}")
    job_id = job["jobId"]
    text = (f"Job delegated to AWS Batch: {job_id}\n"
            f"Follow it with: scar log -n {config.name} -ri {job_id}\n")
    answer = response.success(request, text.encode())
    answer["headers"]["amz-batch-job-id"] = job_id
    return answer


def _job_name(name: str) -> str:
    """Batch job names: up to 128 letters, digits, hyphens and underscores."""
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:128] or "scar-job"


def with_script(config: FunctionConfig, folder: Path) -> FunctionConfig:
    """The job definition's SCRIPT (the init script, base64) as the configuration's init script."""
    script = os.environ.get("SCRIPT")
    if not script:
        return config
    (folder / "init_script.sh").write_bytes(base64.b64decode(script))
    return dataclasses.replace(config, task_root=folder, init_script="init_script.sh")


def main() -> int:
    """The job's entry: 0 when the run succeeded. The answer document goes to stdout (the job's log)."""
    from .entry import build_supervisor
    from .runners import RunnerError
    from .supervisor import configure_logging, log

    request = response.RequestInfo(os.environ.get("AWS_BATCH_JOB_ID") or os.environ.get("AWS_LAMBDA_REQUEST_ID")
                                   or str(uuid.uuid4()))
    with tempfile.TemporaryDirectory(prefix="scar-job-") as folder:
        try:
            config = with_script(load_config(), Path(folder))
            configure_logging(config.log_level)
            supervisor = build_supervisor(config)
        except (ConfigurationError, RunnerError, ValueError) as err:
            print(f"supervisor: {err}", file=sys.stderr)
            print(json.dumps(response.failure(request, str(err))))
            return 1
        raw = os.environ.get("EVENT") or "{}"
        try:
            event: Any = json.loads(raw)
        except ValueError:
            event = raw
        answer = supervisor.handle(event, request, None)
    print(json.dumps(answer))
    if answer["statusCode"] != 200:
        log.error("the job failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
