"""Entry points: the Lambda handler (zip runtime), and the assembly shared with the other entries."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from . import batch, response
from .config import ConfigurationError, FunctionConfig, load_config
from .process import hide_from_same_user
from .runners import DirectRunner, Runner, RunnerError, SandboxRunner, UdockerRunner, image_file_path
from .storage import Storage, ssm_credentials
from .supervisor import Delegate, Supervisor, configure_logging, log, remaining_deadline

_warm: Supervisor | None = None  # reused by warm invocations of the same sandbox


def build_supervisor(config: FunctionConfig, runner: str | None = None, cache: Path | None = None,
                     output_dir: Path | None = None, network: bool | None = None) -> Supervisor:
    """`network`: whether the sandbox runner's container may use the network (default: SCAR_SANDBOX_NETWORK
    is 1, true or yes; otherwise not). This process hides its /proc entries, where the role's credentials are,
    from the container's processes (see hide_from_same_user)."""
    if not hide_from_same_user():
        log.warning("cannot hide the supervisor's /proc entries here: a container running as the same user may "
                    "read its environment")
    if network is None:
        network = os.environ.get("SCAR_SANDBOX_NETWORK", "").lower() in ("1", "true", "yes")
    storage = Storage(config, ssm_credentials(config.extra.get("credentials") or {}))
    cache = cache or Path(tempfile.gettempdir()) / "scar-cache"
    kind = runner or config.runner
    return Supervisor(config, make_runner(config, storage, kind, cache, network), storage, output_dir)


def make_runner(config: FunctionConfig, storage: Storage, kind: str, cache: Path, network: bool = False) -> Runner:
    def image_path() -> Path:
        return image_file_path(config, lambda bucket, key, folder: storage.download("s3", bucket, key, folder),
                               cache)

    if kind == "direct":
        return DirectRunner()
    if kind == "sandbox":
        if not config.image_file:
            raise RunnerError("the sandbox runner needs the image as a file (container.image_file)")
        return SandboxRunner(config, image_path, cache / "rootfs", network=network)
    if kind == "udocker":
        return UdockerRunner(config, image_path if config.image_file else None, cache / "udocker")
    raise RunnerError(f"unknown runner {kind!r} (udocker, sandbox or direct)")


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda's entry: `<function>.lambda_handler` imports this function."""
    global _warm
    request = response.RequestInfo(getattr(context, "aws_request_id", "local"),
                                   getattr(context, "log_group_name", ""), getattr(context, "log_stream_name", ""))
    try:
        if _warm is None:
            config = load_config()
            configure_logging(config.log_level)
            _warm = build_supervisor(config)
            _warm.delegate = _delegate(config)  # only in Lambda: a local run never submits jobs
    except (ConfigurationError, RunnerError) as err:
        log.error("%s", err)
        return response.failure(request, str(err))
    if _warm.config.execution_mode == "batch":  # every event becomes a job
        return batch.submit(_batch_client(), _warm.config, event, request)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return _warm.handle(event, request, remaining_deadline(remaining))


def _batch_client() -> Any:
    import boto3

    return boto3.client("batch")


def _delegate(config: FunctionConfig) -> Delegate | None:
    """lambda-batch: a run that would not fit in the time left is submitted to AWS Batch."""
    if config.execution_mode != "lambda-batch":
        return None
    return lambda event, request: batch.submit(_batch_client(), config, event, request)
