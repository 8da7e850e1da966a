"""A `runtime: image` function run on this machine as Lambda runs it: the function image extracted into the
rootfs cache, its own entry point (the supervisor's Runtime API loop) started in the sandbox, and scar's
local Runtime API handing it the event. The sandbox shares this machine's network: the supervisor inside
reaches the API on 127.0.0.1."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scar.local.lambda_api import LocalRuntimeApi, Outcome
from scar.supervisor.image import extract_image
from scar.supervisor.runtime_api import OUTPUT_DIR_VARIABLE
from scar.supervisor.sandbox import Bind, SandboxResult, run_in_rootfs

#: seconds the entry point gets to start and to stop, beyond the function's timeout
GRACE = 30
#: where `--output-dir` appears inside the sandbox
OUTPUT_MOUNT = "/tmp/scar-output"


@dataclass(frozen=True)
class ImageRun:
    outcome: Outcome | None  # None: no answer within the timeout
    process: SandboxResult | None  # how the entry point ended
    sandbox: str | None


def run_image(layout: Path, cache_root: Path, event: Any, timeout: float, env: dict[str, str] | None = None,
              prefer: str | None = None, output_dir: Path | None = None) -> ImageRun:
    """`output_dir`: a host folder that takes the output files instead of the output buckets."""
    image = extract_image(layout, cache_root)
    binds = []
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
        binds.append(Bind(output_dir, OUTPUT_MOUNT, writable=True))
        env = {**(env or {}), OUTPUT_DIR_VARIABLE: OUTPUT_MOUNT}
    argv = [*image.config.entrypoint, *image.config.cmd]
    workdir = image.config.workdir or "/var/task"
    ended: dict[str, Any] = {}
    with LocalRuntimeApi(timeout) as api:
        variables = {**image.config.env, **(env or {}), "AWS_LAMBDA_RUNTIME_API": api.address,
                     "LAMBDA_TASK_ROOT": workdir}

        def entry_point() -> None:
            try:
                ended["result"] = run_in_rootfs(image.rootfs, argv, variables, binds=binds, workdir=workdir,
                                                timeout=timeout + GRACE, network=True, prefer=prefer)
            except Exception as err:  # noqa: BLE001 - handed to the caller's thread below
                ended["error"] = err

        thread = threading.Thread(target=entry_point, daemon=True)
        thread.start()
        outcome = api.invoke(event, timeout + GRACE)
        api.finish()
        thread.join(GRACE)
    if "error" in ended:
        raise ended["error"]
    result = ended.get("result")
    return ImageRun(outcome, result, getattr(result, "sandbox", None))
