"""Find, create, load and upgrade the user's scar.cfg (JSON, for compatibility with the original)."""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from scar.config.defaults import (
    CONFIG_FILE_NAME,
    CONFIG_FOLDER_NAME,
    CONFIG_VERSION,
    LAMBDA_PYTHON_RUNTIMES,
    default_config,
)
from scar.config.merge import deep_merge
from scar.errors import BadInputError

Notice = Callable[[str], None]

#: Keys of config_version 1.x that no longer belong in scar.cfg (they are scar's own constants now).
_DROPPED: tuple[tuple[str, ...], ...] = (
    ("aws", "s3"),
    *(("aws", "api_gateway", key) for key in (
        "endpoint", "request_parameters", "http_method", "method", "integration", "path_part",
        "service_id", "source_arn_testing", "source_arn_invocation")),
)
_SECTIONS = ("iam", "lambda", "s3", "api_gateway", "cloudwatch", "batch", "ecr")
_UDOCKER_VARIABLES = ("UDOCKER_BIN", "UDOCKER_LIB", "UDOCKER_DIR", "UDOCKER_EXEC")
#: A real scar.cfg nests about five levels; far deeper JSON would overflow the stack of the decoder or of
#: the merges that follow it.
_MAX_DEPTH = 100


def config_path(explicit: str | None) -> Path:
    """`--config PATH`, else `$SCAR_CONFIG_FOLDER/scar.cfg`, else `~/.scar/scar.cfg`."""
    if explicit:
        return Path(explicit).expanduser()
    folder = os.environ.get("SCAR_CONFIG_FOLDER")
    return (Path(folder).expanduser() if folder else Path.home() / CONFIG_FOLDER_NAME) / CONFIG_FILE_NAME


def load_config(path: Path, notice: Notice) -> dict[str, Any]:
    """The content of scar.cfg, creating it with the defaults, or upgrading an older version, first."""
    if not path.exists():
        write_config(path, default_config())
        notice(f"created the configuration file {path}; set aws.iam.role in it (or pass -r) before deploying")
        return default_config()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise BadInputError(f"{path}: cannot read the configuration file ({err})") from None
    too_deep = _line_too_deep(text)
    if too_deep is not None:
        raise BadInputError(f"{path}:{too_deep}: refused: values are nested more than {_MAX_DEPTH} levels deep")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise BadInputError(f"{path}:{err.lineno}: invalid JSON: {err.msg}") from None
    if not isinstance(data, dict):
        raise BadInputError(f"{path}: the configuration must be a JSON object")
    found = _version_of(data)
    if found is None or found < Version(CONFIG_VERSION):
        backup = path.with_name(path.name + "_old")
        shutil.copyfile(path, backup)
        os.chmod(backup, 0o600)
        data = upgrade_config(data)
        write_config(path, data)
        notice(f"upgraded {path} from config version {found or 'unknown'} to {CONFIG_VERSION}, keeping your "
               f"settings (the previous file is {backup})")
    return data


def write_config(path: Path, data: dict[str, Any]) -> None:
    """Write atomically, readable by the owner only (the file may hold credentials)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{CONFIG_FILE_NAME}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def upgrade_config(old: dict[str, Any]) -> dict[str, Any]:
    """Bring an older scar.cfg to the current version field by field, keeping the user's own values.

    Values that were the old built-in defaults become the new defaults (a runtime AWS no longer accepts,
    m3.medium instances, ...); per-service regions and profiles become the one `aws.region`/`aws.boto_profile`.
    """
    kept = copy.deepcopy(old)
    kept.pop("scar", None)
    aws = kept.get("aws") if isinstance(kept.get("aws"), dict) else {}
    region, profile = _pop_section_settings(aws)
    if region and "region" not in aws:
        aws["region"] = region
    if profile and profile != "default" and "boto_profile" not in aws:
        aws["boto_profile"] = profile
    for path in _DROPPED:
        _pop(kept, path)
    lam = aws.get("lambda") if isinstance(aws.get("lambda"), dict) else {}
    variables = lam.get("environment", {}).get("Variables") if isinstance(lam.get("environment"), dict) else None
    if isinstance(variables, dict):
        for name in _UDOCKER_VARIABLES:
            variables.pop(name, None)
    if lam.get("runtime") not in (*LAMBDA_PYTHON_RUNTIMES, "image"):
        lam.pop("runtime", None)
    supervisor = lam.get("supervisor") if isinstance(lam.get("supervisor"), dict) else {}
    if supervisor.get("version") == "latest":
        supervisor.pop("version")
    if supervisor.get("license_info") == "Apache 2.0":
        supervisor.pop("license_info")
    compute = aws.get("batch", {}).get("compute_resources") if isinstance(aws.get("batch"), dict) else None
    if isinstance(compute, dict) and compute.get("instance_types") == ["m3.medium"]:
        compute.pop("instance_types")
    upgraded = deep_merge(default_config(), kept)
    upgraded["scar"] = {**(old.get("scar") if isinstance(old.get("scar"), dict) else {}),
                        "config_version": CONFIG_VERSION}
    return upgraded


def _line_too_deep(text: str) -> int | None:
    """The 1-based line where JSON text first nests deeper than _MAX_DEPTH (checked before decoding)."""
    depth, in_string, escaped = 0, False, False
    for offset, char in enumerate(text):
        if in_string:
            in_string = escaped or char != '"'
            escaped = not escaped and char == "\\"
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > _MAX_DEPTH:
                return text.count("\n", 0, offset) + 1
        elif char in "]}":
            depth -= 1
    return None


def _version_of(data: dict[str, Any]) -> Version | None:
    scar = data.get("scar")
    try:
        return Version(str(scar["config_version"])) if isinstance(scar, dict) and "config_version" in scar else None
    except InvalidVersion:
        return None


def _pop_section_settings(aws: dict[str, Any]) -> tuple[str | None, str | None]:
    """Remove per-service `region`/`boto_profile`; return the ones to keep (the Lambda section's first)."""
    region = profile = None
    for section in ("lambda", *_SECTIONS):
        values = aws.get(section)
        if isinstance(values, dict):  # pop from every section, even once a value is found
            section_region, section_profile = values.pop("region", None), values.pop("boto_profile", None)
            region = region or section_region
            profile = profile or section_profile
    return region, profile


def _pop(tree: dict[str, Any], path: tuple[str, ...]) -> None:
    node: Any = tree
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(path[-1], None)
