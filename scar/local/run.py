"""Run one function on this machine: its image extracted into a per-user cache and run in a sandbox by
the very supervisor that runs in Lambda, with a local or S3 input and outputs to S3 or a folder."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scar.config.defaults import cache_folder
from scar.config.specs import FunctionSpec, StorageProvidersSpec
from scar.errors import BadInputError, OperationFailed
from scar.package.function_config import function_config, secret_values
from scar.supervisor import response
from scar.supervisor.config import FunctionConfig
from scar.supervisor.events import Invocation, parse_event
from scar.supervisor.limits import Limits
from scar.supervisor.process import hide_from_same_user
from scar.supervisor.runners import RunnerError, SandboxRunner
from scar.supervisor.storage import Storage
from scar.supervisor.supervisor import Supervisor, configure_logging
from scar.version import __version__


@dataclass(frozen=True)
class LocalRun:
    """What to run: a function spec (from an FDL), or just a name and an image file."""

    name: str
    region: str
    spec: FunctionSpec | None
    providers: StorageProvidersSpec
    image_file: Path | None  # -if, for a run without FDL


@dataclass(frozen=True)
class LocalResult:
    output: bytes
    sandbox: str | None
    error: str | None
    details: dict[str, Any]
    seconds: float


def cache_dir() -> Path:
    return cache_folder() / "rootfs"


def run_local(job: LocalRun, *, input_path: str | None, output_dir: Path | None, script: bytes | None,
              args: list[str] | None, network: bool, sandbox: str | None, verbose: bool) -> LocalResult:
    configure_logging("INFO" if verbose else "WARNING")
    if job.spec is not None and job.spec.lambda_.runtime == "image":
        return _run_image_function(job.spec, job.providers, input_path=input_path, output_dir=output_dir,
                                   script=script, args=args, sandbox=sandbox)
    config = _config(job)
    image = config.image_file and config.image_file.get("path")
    if not image and config.image:
        image = str(_pulled(config.image))
    if not image:
        raise BadInputError(f"{job.name}: a local run needs an image: set container.image (name[:tag|@digest] in a "
                            "registry) or container.image_file in the FDL, or pass -if IMAGE.tar (`docker save`)")
    hide_from_same_user()  # proot without namespaces shows the container this process, credentials in memory
    limits = Limits.for_memory(job.spec.lambda_.memory if job.spec else None)  # the function's memory, as in Lambda
    runner = SandboxRunner(config, lambda: Path(image), cache_dir(), network=network, prefer=sandbox, limits=limits)
    supervisor = Supervisor(config, runner, Storage(config, _local_credentials(job)), output_dir)
    invocation = _invocation(input_path, script, args, job.region)
    timeout = job.spec.lambda_.timeout if job.spec else 300
    request = response.RequestInfo(str(uuid.uuid4()), "local", job.name)
    started = time.monotonic()
    try:
        answer = supervisor.handle_invocations([invocation], request, started + timeout)
    except RunnerError as err:
        raise OperationFailed(f"{job.name}: {err}") from None
    seconds = time.monotonic() - started
    return _result(answer, supervisor.last_runner, seconds)


def _run_image_function(spec: FunctionSpec, providers: StorageProvidersSpec, *, input_path: str | None,
                        output_dir: Path | None, script: bytes | None, args: list[str] | None,
                        sandbox: str | None) -> LocalResult:
    """The function image, built as `init` builds it (not pushed), run through its own entry point and
    scar's local Runtime API; the input file travels as an HTTP request's body, as API Gateway sends it."""
    import base64

    from scar.local.image_run import run_image
    from scar.package.image_function import image_artifacts
    from scar.supervisor.image import ImageError

    if (input_path or "").startswith("s3://"):
        raise BadInputError(f"{spec.name}: a local run of a runtime: image function takes a local --input file "
                            "(s3:// inputs are not available for it: `scar get` the object first)")
    event: dict[str, Any] = {}
    if script is not None:
        event["script"] = base64.b64encode(script).decode()
    if args:
        event["cmd_args"] = args
    if input_path:
        local = Path(input_path).expanduser()
        if not local.is_file():
            raise BadInputError(f"command line: --input: {input_path!r} is not a file")
        event = {"httpMethod": "POST", "body": base64.b64encode(local.read_bytes()).decode(),
                 "isBase64Encoded": True, **event}
    built = image_artifacts(spec, function_config(spec, __version__, providers=providers), "")
    layout = built.image.layout if built.image is not None else _pulled(built.uri)
    started = time.monotonic()
    try:
        run = run_image(layout, cache_dir(), event, spec.lambda_.timeout, prefer=sandbox, output_dir=output_dir)
    except ImageError as err:
        raise OperationFailed(f"{spec.name}: cannot use the image: {err}") from None
    if run.outcome is None:
        tail = run.process.tail() if run.process else ""
        raise OperationFailed(f"{spec.name}: the image's entry point gave no answer" + (f":\n{tail}" if tail else ""))
    if run.outcome.kind != "response":
        detail = run.outcome.document if isinstance(run.outcome.document, dict) else {}
        stage = "start" if run.outcome.kind == "init-error" else "run"
        raise OperationFailed(f"{spec.name}: the function failed to {stage}: "
                              f"{detail.get('errorMessage', run.outcome.document)}")
    return _result(run.outcome.document, run.sandbox, time.monotonic() - started)


def _pulled(name: str) -> Path:
    """The OCI layout folder of image `name`, pulled for this machine's platform into the local store."""
    from scar.registry.fetch import fetch_image
    from scar.registry.platforms import host_platform
    from scar.registry.store import ImageStore

    return fetch_image(name, ImageStore(cache_folder() / "images"), host_platform()).layout


def _local_credentials(job: LocalRun):  # type: ignore[no-untyped-def]
    """A local run reads storage credentials straight from the FDL (nothing is deployed)."""
    secrets = secret_values(job.spec, job.providers) if job.spec else {}
    return lambda reference: secrets.get(reference, {})


def _config(job: LocalRun) -> FunctionConfig:
    if job.spec is not None:
        data = function_config(job.spec, __version__, providers=job.providers)
        image = job.image_file or job.spec.lambda_.container.image_file
        root = job.spec.lambda_.init_script.parent if job.spec.lambda_.init_script else Path.cwd()
    else:
        data = {"name": job.name, "container": {"environment": {}, "timeout_threshold": 0}}
        image, root = job.image_file, Path.cwd()
    data["container"]["image_file"] = {"path": str(image.resolve())} if image else None
    data.setdefault("storage_providers", {}).setdefault("s3", {}).setdefault("default", {"region": job.region})
    data["runner"] = "sandbox"
    return FunctionConfig.from_dict(data, root)


def _invocation(input_path: str | None, script: bytes | None, args: list[str] | None, region: str) -> Invocation:
    if input_path and input_path.startswith("s3://"):
        from scar.aws.s3_events import s3_event

        bucket, _, key = input_path[len("s3://"):].partition("/")
        if not bucket or not key:
            raise BadInputError(f"command line: --input: {input_path!r} must be s3://BUCKET/KEY or a local file")
        (storage,) = parse_event(s3_event(bucket, key, 0, region))
        return Invocation("storage", storage.raw, storage=storage.storage, script=script, cmd_args=args)
    local = None
    if input_path:
        local = Path(input_path).expanduser()
        if not local.is_file():
            raise BadInputError(f"command line: --input: {input_path!r} is not a file")
    return Invocation("direct" if script or args else "plain", {}, script=script, cmd_args=args, local_file=local)


def _result(answer: dict[str, Any], sandbox: str | None, seconds: float) -> LocalResult:
    import base64
    import json

    body = base64.b64decode(answer.get("body") or "")
    if answer.get("statusCode") == 200:
        return LocalResult(body, sandbox, None, {}, seconds)
    try:
        details = json.loads(body)
    except ValueError:
        details = {"error": body.decode("utf-8", "replace")}
    return LocalResult(details.get("output_tail", "").encode(), sandbox, str(details.get("error")), details, seconds)
