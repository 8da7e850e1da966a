"""The configuration the in-function supervisor reads (`function_config.yaml`, JSON content)."""

from __future__ import annotations

import dataclasses
from typing import Any

from scar.config.specs import FunctionSpec, StorageIOSpec, StorageProvidersSpec
from scar.errors import BadInputError

CONFIG_NAME = "function_config.yaml"


IMAGE_FOLDER = "image"


def image_file_name(spec: FunctionSpec) -> str | None:
    """Where the `container.image_file` tarball is in the function package."""
    image = spec.lambda_.container.image_file
    return f"{IMAGE_FOLDER}/{image.name}" if image else None


def function_config(spec: FunctionSpec, scar_version: str, *, providers: StorageProvidersSpec) -> dict[str, Any]:
    """The supervisor's view of `spec`: JSON-serialisable, and free of secrets.

    `storage_providers` holds only the providers the inputs and outputs name, without their credentials.
    """
    lam = spec.lambda_
    ios = [*lam.input, *lam.output]
    return {
        "name": spec.name,
        "container": {
            "image": lam.container.image,
            "image_file": {"path": image_file_name(spec)} if lam.container.image_file else None,
            "environment": dict(lam.container.environment.variables),
            "timeout_threshold": lam.container.timeout_threshold,
        },
        "init_script": lam.init_script.name if lam.init_script else None,
        "extra_payload": lam.extra_payload is not None,
        "input": [_io(io) for io in lam.input],
        "output": [_io(io) for io in lam.output],
        "storage_providers": _public_providers(providers, [io.storage_provider for io in ios]),
        "credentials": {reference: secret_parameter(spec.name, reference)
                        for reference in secret_values(spec, providers)},
        "log_level": lam.log_level,
        "execution_mode": lam.execution_mode,
        **({"batch": batch_settings(spec)} if lam.execution_mode != "lambda" else {}),
        "runner": lam.supervisor.runner,
        "udocker_execmode": lam.supervisor.udocker_execmode,
        "scar_version": scar_version,
    }


def batch_settings(spec: FunctionSpec) -> dict[str, Any]:
    """What the supervisor needs to submit a job: the queue and the definition are named after the function."""
    return {"job_queue": spec.name, "job_definition": spec.name,
            "multi_node": spec.batch.multi_node_parallel.enabled}


def _io(io: StorageIOSpec) -> dict[str, Any]:
    return {"storage_provider": io.storage_provider, "path": io.path, "suffix": list(io.suffix),
            "prefix": list(io.prefix)}


SECRET_PARAMETER = "/scar/{function}/storage/{reference}"


def secret_parameter(function: str, reference: str) -> str:
    """The SSM parameter (SecureString) that holds a storage provider's credentials for a function."""
    return SECRET_PARAMETER.format(function=function, reference=reference)


def secret_values(spec: FunctionSpec, providers: StorageProvidersSpec) -> dict[str, dict[str, str]]:
    """The secret settings (keys, tokens) of each provider the function's inputs and outputs name."""
    found: dict[str, dict[str, str]] = {}
    for reference in sorted({io.storage_provider for io in [*spec.lambda_.input, *spec.lambda_.output]}):
        kind, _, ident = reference.partition(".")
        provider = getattr(providers, kind, {}).get(ident) if ident else None
        if provider is None:
            continue
        values = {f.name: getattr(provider, f.name) for f in dataclasses.fields(provider)
                  if f.metadata.get("secret") and getattr(provider, f.name)}
        if values:
            found[reference] = values
    return found


def _public_providers(providers: StorageProvidersSpec, references: list[str]) -> dict[str, dict[str, Any]]:
    """The non-secret settings of the providers `references` name (`s3` alone is the function's account)."""
    public: dict[str, dict[str, Any]] = {}
    for reference in sorted(set(references)):
        kind, _, ident = reference.partition(".")
        if not ident:
            continue
        provider = getattr(providers, kind, {}).get(ident)
        if provider is None:
            raise BadInputError(f"storage provider {reference!r} is not defined in storage_providers")
        public.setdefault(kind, {})[ident] = {
            f.name: getattr(provider, f.name)
            for f in dataclasses.fields(provider)
            if not f.metadata.get("secret") and getattr(provider, f.name) is not None
        }
    return public
