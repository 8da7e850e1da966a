"""The image of a `runtime: image` function: the user's image with three layers on top — the Python runtime,
the supervisor (with boto3), and the function's own files (its configuration and init script in /var/task) —
and an image configuration whose entry point is the supervisor's Runtime API loop, as Lambda runs it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from scar.errors import BadInputError
from scar.package.function_config import CONFIG_NAME
from scar.package.image_layer import LayerFile, write_layer
from scar.package.image_runtime import BOOTSTRAP, INTERPRETER, build_architecture, runtime_layer, site_layer
from scar.registry.client import OCI_MANIFEST, Manifest, digest_of
from scar.registry.store import ImageStore, StoredImage

TASK_ROOT = "/var/task"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
ENTRYPOINT = [INTERPRETER, "-I", "-S", BOOTSTRAP]


@dataclass(frozen=True)
class FunctionFiles:
    config: dict[str, Any]  # function_config.yaml's content
    init_script: tuple[str, bytes] | None  # (file name, content)
    environment: dict[str, str]  # container variables, set in the image configuration


def build_function_image(store: ImageStore, base: StoredImage, files: FunctionFiles, label: str) -> StoredImage:
    """The function image on `base`, in `store`; the same inputs give the same digest."""
    config = store.config(base)
    architecture = str(config.get("architecture") or "amd64")
    if architecture != build_architecture():
        raise BadInputError(f"{label}: the image is linux/{architecture}, and this machine can only build the "
                            f"supervisor runtime for linux/{build_architecture()} (its own architecture): build "
                            f"on a linux/{architecture} machine, or set container.create_image: false")
    added = [runtime_layer(store), site_layer(store), write_layer(store, _function_files(files))]
    image_config = dict(config.get("config") or {})
    env = [item for item in image_config.get("Env") or [] if item.split("=", 1)[0] not in files.environment]
    env += [f"{name}={value}" for name, value in sorted(files.environment.items())]
    image_config.update({"Entrypoint": ENTRYPOINT, "Cmd": None, "WorkingDir": TASK_ROOT, "Env": env})
    rootfs = dict(config.get("rootfs") or {"type": "layers", "diff_ids": []})
    rootfs["diff_ids"] = [*rootfs.get("diff_ids", []), *(layer["diff_id"] for layer in added)]
    history = [*(config.get("history") or []),
               *({"created_by": f"scar: {what}", "created": "2023-11-14T22:13:20Z"}
                 for what in ("python runtime", "supervisor", "function files"))]
    new_config = {**config, "config": image_config, "rootfs": rootfs, "history": history}
    config_bytes = json.dumps(new_config, sort_keys=True).encode()
    config_digest = store.put(config_bytes)
    layers = [*base.layers, *({key: layer[key] for key in ("mediaType", "digest", "size")} for layer in added)]
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                           "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config_bytes)},
                           "layers": layers}, sort_keys=True).encode()
    store.put(manifest)
    return store.image(Manifest(manifest, OCI_MANIFEST, digest_of(manifest)).digest)


def _function_files(files: FunctionFiles) -> list[LayerFile]:
    root = TASK_ROOT.lstrip("/")
    config = {**files.config, "runner": "direct"}
    found = [LayerFile(f"{root}/{CONFIG_NAME}", data=(json.dumps(config, indent=2, sort_keys=True) + "\n").encode())]
    if files.init_script is not None:
        name, content = files.init_script
        found.append(LayerFile(f"{root}/{name}", data=content, mode=0o755))
    return found
