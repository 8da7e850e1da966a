"""A service as OSCAR's API wants it (the OpenAPI `Service` schema), from its spec, and a cluster's answer
brought to the same shape so that the two compare field by field."""

from __future__ import annotations

from typing import Any

from scar.config.specs import OSCAR_OWN_STORAGE, OscarServiceSpec, StorageIOSpec, StorageProvidersSpec, storage_ios
from scar.errors import BadInputError

#: the Service fields scar manages; anything else a cluster reports (token, owner, ...) is left alone
MANAGED = ("name", "image", "script", "memory", "cpu", "total_memory", "total_cpu", "log_level", "alpine",
           "environment", "annotations", "labels", "input", "output", "storage_providers")


def service_body(spec: OscarServiceSpec, providers: StorageProvidersSpec) -> dict[str, Any]:
    """The POST/PUT body: the script's text and the storage providers the service references (only those).
    The cluster's own credentials are never part of it."""
    try:
        script = spec.script.read_text(encoding="utf-8") if spec.script else ""
    except (OSError, UnicodeDecodeError) as err:
        raise BadInputError(f"{spec.script}: cannot be read as text: {err}") from None
    body: dict[str, Any] = {
        "name": spec.name, "image": spec.image, "script": script, "memory": spec.memory, "cpu": spec.cpu,
        "log_level": spec.log_level, "alpine": spec.alpine,
        "environment": {"variables": dict(spec.environment.variables)},
        "annotations": dict(spec.annotations), "labels": dict(spec.labels),
        "input": [_io(io) for io in spec.input], "output": [_io(io) for io in spec.output],
        "storage_providers": referenced_providers(spec, providers),
    }
    for key in ("total_memory", "total_cpu"):
        if getattr(spec, key):
            body[key] = getattr(spec, key)
    return body


def referenced_providers(spec: OscarServiceSpec, providers: StorageProvidersSpec) -> dict[str, Any]:
    """`{s3|minio|onedata: {ID: settings}}` for each provider an input or output names (the cluster's own
    MinIO needs none)."""
    chosen: dict[str, dict[str, Any]] = {}
    for _, _, io in storage_ios(spec):
        if io.storage_provider in OSCAR_OWN_STORAGE:
            continue
        kind, _, ident = io.storage_provider.partition(".")
        settings = getattr(providers, kind, {}).get(ident)
        if settings is not None:
            chosen.setdefault(kind, {})[ident] = {key: value for key, value in vars(settings).items()
                                                  if value is not None}
    return chosen


def comparable(answer: dict[str, Any]) -> dict[str, Any]:
    """A cluster's Service in the shape of `service_body` (absent lists and maps as empty ones)."""
    environment = answer.get("environment") if isinstance(answer.get("environment"), dict) else {}
    current: dict[str, Any] = {key: answer.get(key) for key in MANAGED if answer.get(key) is not None}
    current["environment"] = {"variables": dict(environment.get("variables") or {})}
    for key in ("annotations", "labels", "storage_providers"):
        current[key] = dict(answer.get(key) or {})
    for key in ("input", "output"):
        current[key] = [_io_answer(item) for item in answer.get(key) or [] if isinstance(item, dict)]
    current.setdefault("alpine", False)
    return current


def _io(io: StorageIOSpec) -> dict[str, Any]:
    return {"storage_provider": io.storage_provider, "path": io.path, "suffix": list(io.suffix),
            "prefix": list(io.prefix)}


def _io_answer(item: dict[str, Any]) -> dict[str, Any]:
    return {"storage_provider": item.get("storage_provider"), "path": str(item.get("path") or "").strip("/"),
            "suffix": list(item.get("suffix") or []), "prefix": list(item.get("prefix") or [])}
