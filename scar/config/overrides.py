"""Map function-level command-line flags onto the FDL's keys (the top configuration layer)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scar.config.origin import KeyPath, Origin, flag_origin
from scar.errors import BadInputError

#: argparse destination → (FDL key path inside one function, the flag as users type it)
FUNCTION_FLAGS: dict[str, tuple[KeyPath, str]] = {
    "description": (("lambda", "description"), "-d/--description"),
    "environment": (("lambda", "container", "environment", "Variables"), "-e/--environment"),
    "lambda_environment": (("lambda", "environment", "Variables"), "-le/--lambda-environment"),
    "memory": (("lambda", "memory"), "-m/--memory"),
    "timeout": (("lambda", "timeout"), "-t/--timeout"),
    "timeout_threshold": (("lambda", "container", "timeout_threshold"), "-tt/--timeout-threshold"),
    "log_level": (("lambda", "log_level"), "-ll/--log-level"),
    "layers": (("lambda", "layers"), "-l/--layers"),
    "input_bucket": (("lambda", "input"), "-ib/--input-bucket"),
    "output_bucket": (("lambda", "output"), "-ob/--output-bucket"),
    "execution_mode": (("lambda", "execution_mode"), "-em/--execution-mode"),
    "iam_role": (("iam", "role"), "-r/--iam-role"),
    "supervisor_version": (("lambda", "supervisor", "version"), "-sv/--supervisor-version"),
    "runtime": (("lambda", "runtime"), "-rt/--runtime"),
    "architecture": (("lambda", "architectures"), "--architecture"),
    "ephemeral_storage": (("lambda", "ephemeral_storage"), "-es/--ephemeral-storage"),
    "batch_memory": (("batch", "memory"), "-bm/--batch-memory"),
    "batch_vcpus": (("batch", "vcpus"), "-bc/--batch-vcpus"),
    "enable_gpu": (("batch", "enable_gpu"), "-g/--enable-gpu"),
    "image": (("lambda", "container", "image"), "-i/--image"),
    "image_file": (("lambda", "container", "image_file"), "-if/--image-file"),
    "init_script": (("lambda", "init_script"), "-s/--init-script"),
    "extra_payload": (("lambda", "extra_payload"), "-ep/--extra-payload"),
    "deployment_bucket": (("lambda", "deployment", "bucket"), "-db/--deployment-bucket"),
    "preheat": (("lambda", "preheat"), "-ph/--preheat"),
    "api_gateway_name": (("api_gateway", "name"), "-api/--api-gateway-name"),
}
NAME_FLAG = (("lambda", "name"), "-n/--name")


@dataclass
class FunctionOverrides:
    """The function-level values given on the command line, with the flag each came from."""

    values: dict[str, Any] = field(default_factory=dict)
    flags: dict[KeyPath, str] = field(default_factory=dict)

    def set(self, path: KeyPath, value: Any, flag: str) -> None:
        node = self.values
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
        self.flags[path] = flag

    def origin_of(self, path: KeyPath) -> Origin:
        for end in range(len(path), 0, -1):
            if path[:end] in self.flags:
                return flag_origin(self.flags[path[:end]])
        return flag_origin("command line")

    def flag_names(self) -> list[str]:
        return list(self.flags.values())

    def __bool__(self) -> bool:
        return bool(self.flags)


def function_overrides(args: argparse.Namespace) -> FunctionOverrides:
    """The function-level flags present in `args` (the name excepted: it selects a function)."""
    overrides = FunctionOverrides()
    for dest, (path, flag) in FUNCTION_FLAGS.items():
        value = getattr(args, dest, None)
        if value is None or value is False or value == []:
            continue
        overrides.set(path, _convert(dest, value, flag), flag)
    return overrides


def _convert(dest: str, value: Any, flag: str) -> Any:
    if dest in ("environment", "lambda_environment"):
        return dict(_split_assignment(item, flag) for item in value)
    if dest in ("input_bucket", "output_bucket"):
        return [{"storage_provider": "s3", "path": value}]
    if dest == "architecture":
        return [value]
    if dest in ("image_file", "init_script", "extra_payload"):
        return str(Path(value).expanduser())
    return value


def _split_assignment(text: str, flag: str) -> tuple[str, str]:
    """`NAME=value`, split on the first `=` only (values may contain `=`)."""
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise BadInputError(f"command line: {flag}: {text!r} must be NAME=VALUE")
    return name, value
