"""The function's deployment zip: its handler module, the supervisor's configuration, the init script and
the extra payload, and the size checks to run before uploading it."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scar.config.specs import FunctionSpec
from scar.errors import BadInputError
from scar.package.archive import Archive
from scar.package.function_config import CONFIG_NAME, image_file_name

#: Lambda's limit on a function and its layers, unzipped.
UNZIPPED_LIMIT = 262144000
_MIB = 1024 * 1024


@dataclass(frozen=True)
class FunctionPackage:
    zip_bytes: bytes
    code_sha256: str  # base64 of the SHA-256 digest, as Lambda reports CodeSha256
    unzipped_size: int


def handler_text(name: str) -> str:
    """The handler module `<name>.py`: Lambda's handler is then `<name>.lambda_handler`."""
    return (f'"""AWS Lambda entry point of the scar function {name}: the supervisor in the scar layer does '
            'the work."""\n\nfrom scar.supervisor.entry import lambda_handler  # noqa: F401\n')


def build_function_zip(spec: FunctionSpec, config: dict[str, Any]) -> FunctionPackage:
    """The zip to deploy; the same spec, config and files give the same bytes (and `code_sha256`)."""
    lam = spec.lambda_
    archive = Archive()
    archive.add(f"{spec.name}.py", handler_text(spec.name).encode())
    archive.add(CONFIG_NAME, (json.dumps(config, indent=2, sort_keys=True) + "\n").encode())
    try:
        if lam.container.image_file is not None:
            _add(archive, image_file_name(spec) or "", lam.container.image_file, "lambda.container.image_file")
        if lam.init_script is not None:
            _add(archive, lam.init_script.name, lam.init_script, "lambda.init_script", executable=True)
        if lam.extra_payload is not None:
            if lam.extra_payload.is_dir():
                root = lam.extra_payload.resolve()
                _add_tree(archive, root, root, "", frozenset({root}))
            else:
                _add(archive, lam.extra_payload.name, lam.extra_payload, "lambda.extra_payload")
        data = archive.zip_bytes()
        size = archive.unzipped_size
    except OSError as err:
        raise BadInputError(f"cannot package the function {spec.name}: {err}") from None
    return FunctionPackage(data, base64.b64encode(hashlib.sha256(data).digest()).decode("ascii"), size)


def check_sizes(
    package: FunctionPackage,
    layers_unzipped: int,
    direct_limit: int,
    unzipped_limit: int = UNZIPPED_LIMIT,
    bucket: str | None = None,
) -> bool:
    """Whether the package must be uploaded through the deployment `bucket`; raises BadInputError when it
    cannot be deployed (too big unzipped, or too big for a direct upload with no bucket)."""
    total = package.unzipped_size + layers_unzipped
    if total > unzipped_limit:
        raise BadInputError(
            f"the function package and its layers are {_size(total)} unzipped (function {_size(package.unzipped_size)}"
            f", layers {_size(layers_unzipped)}): over the {_size(unzipped_limit)} unzipped limit (function and "
            f"layers) by {_size(total - unzipped_limit)}; make lambda.extra_payload or the layers smaller")
    zipped = len(package.zip_bytes)
    if zipped <= direct_limit:
        return False
    if bucket:
        return True
    raise BadInputError(
        f"the function package is {_size(zipped)} zipped, {_size(zipped - direct_limit)} over the "
        f"{_size(direct_limit)} limit for a direct upload: set lambda.deployment.bucket (-db) to upload it "
        "through S3")


def _add_tree(archive: Archive, root: Path, folder: Path, prefix: str, ancestors: frozenset[Path]) -> None:
    """Add `folder` under `prefix`, following only the symbolic links that stay inside `root`."""
    entries = sorted(folder.iterdir())
    if not entries and prefix:
        archive.add_folder(prefix)
    for entry in entries:
        name = prefix + entry.name
        target = entry
        if entry.is_symlink():
            target = entry.resolve()
            if not target.is_relative_to(root):
                raise BadInputError(f"lambda.extra_payload: {entry} links to {target}, outside {root}; copy the "
                                    "file into the folder instead")
            if not target.exists():
                raise BadInputError(f"lambda.extra_payload: {entry} is a broken symbolic link")
        if target.is_dir():
            if target in ancestors:
                raise BadInputError(f"lambda.extra_payload: {entry} links back to {target} (a loop)")
            _claim(archive, name, entry, "lambda.extra_payload")
            _add_tree(archive, root, target, name + "/", ancestors | {target})
        elif target.is_file():
            _add(archive, name, target, "lambda.extra_payload")
        else:
            raise BadInputError(f"lambda.extra_payload: {entry} is not a regular file or folder")


def _add(archive: Archive, name: str, source: Path, setting: str, executable: bool | None = None) -> None:
    _claim(archive, name, source, setting)
    archive.add(name, source, executable)


def _claim(archive: Archive, name: str, source: Path, setting: str) -> None:
    if name in archive:
        raise BadInputError(f"{setting}: {source} would take the place of {name} in the function package "
                            "(scar writes that file, or another setting gives it); rename it")


def _size(size: int) -> str:
    if size >= _MIB:
        return f"{size / _MIB:.1f}".removesuffix(".0") + " MiB"
    if size >= 1024:
        return f"{size / 1024:.1f}".removesuffix(".0") + " KiB"
    return f"{size} bytes"
