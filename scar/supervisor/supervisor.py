"""One invocation, end to end: stage the input, run the user's code, upload the outputs, answer."""

from __future__ import annotations

import contextvars
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import response
from .config import FunctionConfig
from .events import EventError, Invocation, parse_event
from .runners import Runner, RunnerError, RunSpec
from .storage import Storage, StorageError, output_files, place_output, safe_name
from .text import shown

log = logging.getLogger("scar.supervisor")
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class _RequestIdFilter(logging.Filter):
    """Every line names its invocation, so `scar log -ri ID` finds all of them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):  # lines logged from the output reader thread carry it
            record.request_id = _request_id.get()
        return True


class _OneLineFormatter(logging.Formatter):
    """Control characters in a line (a newline in an object key or an output file name, a carriage return in
    the script's output) are shown escaped, so no text a user controls can forge or rewrite a log line."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return shown(super().formatMessage(record))


MAX_EVENT_VARIABLE = 64 * 1024  # EVENT is passed to the container only when it is this small


@dataclass(frozen=True)
class Outcome:
    """What one run did."""

    output: bytes
    error: str | None = None
    details: dict[str, Any] | None = None
    out_of_time: bool = False  # the run did not fit in the time left: lambda-batch hands it to AWS Batch


class Supervisor:
    def __init__(self, config: FunctionConfig, runner: Runner, storage: Storage,
                 output_dir: Path | None = None, delegate: Delegate | None = None) -> None:
        """`output_dir`, for local runs: copy result files there instead of uploading them. `delegate`
        (lambda-batch) submits an event whose run did not fit in the time left, and gives the answer."""
        self.delegate = delegate
        self.config = config
        self.runner = runner
        self.storage = storage
        self.output_dir = output_dir
        self.last_runner: str | None = None  # what ran the last invocation (bubblewrap, udocker, ...)

    def handle(self, event: Any, request: response.RequestInfo, deadline: float | None) -> dict[str, Any]:
        """The answer document for `event`; `deadline` is the monotonic time the function must end by."""
        try:
            invocations = parse_event(event)
        except EventError as err:
            log.error("bad event: %s", err)
            return response.failure(request, str(err), status=400)
        return self.handle_invocations(invocations, request, deadline)

    def handle_invocations(self, invocations: list[Invocation], request: response.RequestInfo,
                           deadline: float | None) -> dict[str, Any]:
        outputs = []
        for index, invocation in enumerate(invocations):
            outcome = self._run(invocation, request, deadline)
            if outcome.out_of_time and self.delegate is not None:  # nothing of this run was uploaded
                log.info("the run does not fit in the time left: handing it to AWS Batch")
                return self.delegate(_remaining_event(invocations[index:]), request)
            if outcome.error:
                return response.failure(request, outcome.error, **(outcome.details or {}))
            outputs.append(outcome.output)
        return response.success(request, b"".join(outputs))

    def _run(self, invocation: Invocation, request: response.RequestInfo, deadline: float | None) -> Outcome:
        _request_id.set(request.request_id)
        workdir = Path(tempfile.mkdtemp(prefix=f"scar-{_safe(request.request_id)}-"))
        try:
            for name in ("input", "output", "scripts"):
                (workdir / name).mkdir()
            return self._run_in(workdir, invocation, request, deadline)
        except (StorageError, RunnerError) as err:
            log.error("%s", err)
            return Outcome(b"", str(err))
        except OSError as err:  # a local file that vanished, a full disk...
            log.error("%s", err)
            return Outcome(b"", f"{err.strerror or err}: {err.filename or ''}".rstrip(": "))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _run_in(self, workdir: Path, invocation: Invocation, request: response.RequestInfo,
                deadline: float | None) -> Outcome:
        inside = self.runner.container_workdir(request.request_id, workdir)
        env = {**self.config.environment, **invocation.variables,
               "TMP_INPUT_DIR": f"{inside}/input", "TMP_OUTPUT_DIR": f"{inside}/output",
               "REQUEST_ID": request.request_id}
        input_name = self._stage_input(invocation, workdir / "input", env)
        if input_name:
            env["INPUT_FILE_PATH"] = f"{inside}/input/{input_name}"
        event_text = _event_text(invocation.raw)
        if event_text is not None:
            env["EVENT"] = event_text
        script = self._stage_script(invocation, workdir / "scripts")
        timeout = None
        if deadline is not None:
            timeout = deadline - time.monotonic() - self.config.timeout_threshold
            if timeout <= 0:
                return Outcome(b"", "no time left to run the container (the timeout threshold is larger than "
                                    "the time remaining)", out_of_time=True)
        log.info("running %s%s", f"script {script}" if script else "the image's command",
                 f" with a {timeout:.0f} s timeout" if timeout else "")
        tagged = {"request_id": request.request_id}  # the output is read on another thread
        spec = RunSpec(request.request_id, workdir, script, invocation.cmd_args, env, timeout,
                       lambda line: log.info("| %s", line, extra=tagged))
        ran = self.runner.run(spec)
        self.last_runner = ran.runner
        result = ran.process
        if result.timed_out:
            log.error("the container was stopped after %.0f s (function timeout minus the threshold)", timeout)
            return Outcome(result.output, "the container timed out",
                           {"timed_out": True, "output_tail": result.tail()}, out_of_time=True)
        if result.exit_code != 0:
            log.error("the container exited with code %s", result.exit_code)
            return Outcome(result.output, f"the container exited with code {result.exit_code}",
                           {"exit_code": result.exit_code, "output_tail": result.tail()})
        log.info("the container finished in %.2f s", result.seconds)
        if self.output_dir is not None:
            for relative in output_files(workdir / "output"):
                log.info("wrote %s", place_output(workdir / "output" / relative, self.output_dir, relative))
            return Outcome(result.output)
        uploaded = self.storage.upload_outputs(workdir / "output", self.config.outputs, log.info)
        if not uploaded and self.config.outputs:
            log.info("no output file to upload")
        return Outcome(result.output)

    def _stage_input(self, invocation: Invocation, folder: Path, env: dict[str, str]) -> str | None:
        if invocation.storage is not None:
            obj = invocation.storage
            provider = self._provider_for(obj.provider, obj.bucket)
            log.info("downloading s3://%s/%s", obj.bucket, obj.key)
            path = self.storage.download(provider, obj.bucket, obj.key, folder)
            env["STORAGE_OBJECT_KEY"] = obj.key
            if obj.event_time:
                env["EVENT_TIME"] = obj.event_time
            return path.name
        if invocation.local_file is not None:
            name = safe_name(invocation.local_file.name)
            shutil.copyfile(invocation.local_file, folder / name)
            return name
        if invocation.body:
            name = "request-body"
            (folder / name).write_bytes(invocation.body)
            return name
        return None

    def _provider_for(self, kind: str, bucket: str) -> str:
        """The configured input provider of this type for `bucket` (the function's own account otherwise)."""
        for io in self.config.inputs:
            if io.storage_provider.split(".")[0] == kind and io.bucket == bucket:
                return io.storage_provider
        return kind

    def _stage_script(self, invocation: Invocation, folder: Path) -> str | None:
        """The script goes in its own folder, so no input file can ever replace it."""
        if invocation.script is not None:
            (folder / "script.sh").write_bytes(invocation.script)
            return "script.sh"
        if invocation.cmd_args is None and self.config.init_script:
            source = self.config.task_root / safe_name(self.config.init_script)
            try:
                shutil.copyfile(source, folder / "init_script.sh")
            except OSError as err:
                raise RunnerError(f"cannot read the init script {source}: {err.strerror or err}") from None
            return "init_script.sh"
        return None


Delegate = Callable[[Any, response.RequestInfo], dict[str, Any]]


def _remaining_event(invocations: list[Invocation]) -> Any:
    """The event for the runs not done yet: a storage event keeps only their records (the ones before ran)."""
    if invocations[0].storage is not None:
        return {"Records": [invocation.storage.record for invocation in invocations if invocation.storage]}
    return invocations[0].raw


def _event_text(raw: Any) -> str | None:
    import json

    try:
        text = raw if isinstance(raw, str) else json.dumps(raw)
    except (TypeError, ValueError):
        return None
    return text if len(text) <= MAX_EVENT_VARIABLE and "\x00" not in text else None  # no NUL in a variable


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:64]


def configure_logging(level: str) -> None:
    """One concise line per step on stderr (CloudWatch in Lambda)."""
    handler = logging.StreamHandler()
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(_OneLineFormatter("%(levelname)s %(request_id)s %(message)s"))
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(getattr(logging, level.upper(), logging.INFO))


def remaining_deadline(get_remaining_ms: Callable[[], int] | None) -> float | None:
    if get_remaining_ms is None:
        return None
    return time.monotonic() + get_remaining_ms() / 1000
