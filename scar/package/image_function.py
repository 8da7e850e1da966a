"""The image a `runtime: image` function deploys: its base pulled from its registry (`container.image`) or read
from `container.image_file`, for the function's architecture, with scar's layers on top (function_image.py);
or, with `container.create_image: false`, the image named, used as it is."""

from __future__ import annotations

from typing import Any

from scar.aws.image_entries import ImageArtifacts
from scar.config.defaults import cache_folder
from scar.config.specs import FunctionSpec
from scar.errors import BadInputError
from scar.package.function_image import FunctionFiles, build_function_image
from scar.package.image_runtime import build_architecture
from scar.registry.archive import import_archive
from scar.registry.fetch import fetch_image
from scar.registry.platforms import lambda_platform
from scar.registry.store import ImageStore


def image_artifacts(spec: FunctionSpec, config: dict[str, Any], registry_url: str) -> ImageArtifacts:
    container = spec.lambda_.container
    if not container.create_image:
        if not container.image:
            raise BadInputError(f"{spec.name}: container.create_image: false needs container.image (a prepared "
                                "image, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag)")
        last = container.image.rsplit("/", 1)[-1]
        uri = container.image if ":" in last or "@" in last else f"{container.image}:latest"
        return ImageArtifacts(spec.name, registry_url, uri=uri)
    platform = lambda_platform(spec.lambda_.architectures[0])
    if platform.architecture != build_architecture():
        raise BadInputError(f"{spec.name}: architectures [{spec.lambda_.architectures[0]}]: this machine can only "
                            f"build the supervisor runtime for linux/{build_architecture()} (its own architecture): "
                            "deploy from a machine of that architecture, or set container.create_image: false")
    store = ImageStore(cache_folder() / "images")
    if container.image_file:
        base = import_archive(container.image_file, store)
    else:
        assert container.image is not None  # validated: one of the two is given
        base = fetch_image(container.image, store, platform)
    script = spec.lambda_.init_script
    files = FunctionFiles(config, (script.name, script.read_bytes()) if script else None,
                          dict(container.environment.variables))
    return ImageArtifacts(spec.name, registry_url, build_function_image(store, base, files, spec.name), store)
