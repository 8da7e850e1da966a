"""The function's configuration as the supervisor sees it: `function_config.yaml` (JSON content) beside the
handler, or base64 JSON in the `FUNCTION_CONFIG` environment variable (Batch, local runs)."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_NAME = "function_config.yaml"


class ConfigurationError(Exception):
    """The function's configuration is missing or unreadable."""


@dataclass(frozen=True)
class StorageIO:
    storage_provider: str
    path: str
    suffix: tuple[str, ...] = ()
    prefix: tuple[str, ...] = ()

    @property
    def bucket(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def folder(self) -> str:
        return self.path.split("/", 1)[1].strip("/") if "/" in self.path else ""


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    image: str | None
    image_file: dict[str, str] | None  # {"path": file in the package} or {"bucket": b, "key": k}
    environment: dict[str, str]
    timeout_threshold: int
    init_script: str | None  # file name in the task root
    extra_payload: bool
    inputs: tuple[StorageIO, ...]
    outputs: tuple[StorageIO, ...]
    storage_providers: dict[str, dict[str, dict[str, Any]]]
    log_level: str
    execution_mode: str
    runner: str
    task_root: Path
    udocker_execmode: str = "F1"  # udocker's execution mode: F1 (Fakechroot, as Lambda needs) or P1 (PRoot)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any], task_root: Path) -> FunctionConfig:
        container = data.get("container") or {}
        return cls(
            name=str(data.get("name") or os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "function")),
            image=container.get("image"),
            image_file=container.get("image_file"),
            environment={str(k): str(v) for k, v in (container.get("environment") or {}).items()},
            timeout_threshold=int(container.get("timeout_threshold", 10)),
            init_script=data.get("init_script"),
            extra_payload=bool(data.get("extra_payload")),
            inputs=tuple(_io(item) for item in data.get("input") or ()),
            outputs=tuple(_io(item) for item in data.get("output") or ()),
            storage_providers=data.get("storage_providers") or {},
            log_level=str(os.environ.get("LOG_LEVEL") or data.get("log_level") or "INFO").upper(),
            execution_mode=str(data.get("execution_mode") or "lambda"),
            runner=str(os.environ.get("SCAR_RUNNER") or data.get("runner") or "udocker"),
            task_root=task_root,
            udocker_execmode=str(data.get("udocker_execmode") or "F1").upper(),
            extra={k: v for k, v in data.items() if k not in _KNOWN},
        )


_KNOWN = {"name", "container", "init_script", "extra_payload", "input", "output", "storage_providers",
          "log_level", "execution_mode", "runner", "udocker_execmode"}


def _io(item: dict[str, Any]) -> StorageIO:
    return StorageIO(str(item["storage_provider"]), str(item["path"]).strip("/"),
                     tuple(item.get("suffix") or ()), tuple(item.get("prefix") or ()))


def task_root() -> Path:
    """Where the function's files are: Lambda's LAMBDA_TASK_ROOT (not always /var/task), else the cwd."""
    return Path(os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd())


def load_config(path: Path | None = None) -> FunctionConfig:
    """From `path`, else `FUNCTION_CONFIG` (base64 JSON), else `<task root>/function_config.yaml`."""
    root = task_root()
    if path is None and os.environ.get("FUNCTION_CONFIG"):
        try:
            data = json.loads(base64.b64decode(os.environ["FUNCTION_CONFIG"]))
        except (ValueError, TypeError) as err:
            raise ConfigurationError(f"FUNCTION_CONFIG is not base64-encoded JSON: {err}") from None
        return FunctionConfig.from_dict(_mapping(data, "FUNCTION_CONFIG"), root)
    file = path or root / CONFIG_NAME
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"no function configuration at {file}") from None
    except (OSError, ValueError) as err:
        raise ConfigurationError(f"cannot read the function configuration {file}: {err}") from None
    return FunctionConfig.from_dict(_mapping(data, str(file)), file.parent)


def _mapping(data: Any, origin: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ConfigurationError(f"the function configuration {origin} is not a JSON object")
    return data
