"""The FDL's keys as data, read from the spec dataclasses the validator uses, and the two documents made from
them: the annotated `fdl-example.yaml` and the Markdown FDL reference (`scripts/fdl_example.py` writes both).

Everything here derives from `specs.py` (keys, types, nesting) and `defaults.py` (scar.cfg's defaults, which
beat a field's own): a key added to a spec shows up in both documents, and a test fails until it has a line
in `reference_text.DESCRIPTIONS` and the files are regenerated.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scar.config.defaults import default_config
from scar.config.reference_text import DESCRIPTIONS
from scar.config.specs import FunctionSpec, OscarServiceSpec, StorageProvidersSpec

#: Values shown for keys that have no default (or whose default would not show how to use them).
EXAMPLES: dict[str, Any] = {
    "aws.boto_profile": "default",
    "aws.lambda.name": "scar-example",
    "aws.lambda.container.image": "grycap/cowsay",
    "aws.lambda.container.image_file": "cowsay.tar",
    "aws.lambda.init_script": "script.sh",
    "aws.lambda.run_script": "run.sh",
    "aws.lambda.extra_payload": "extra/",
    "aws.lambda.input[].storage_provider": "s3",
    "aws.lambda.input[].path": "scar-example/input",
    "aws.lambda.input[].suffix": [".txt"],
    "aws.lambda.output[].storage_provider": "s3",
    "aws.lambda.output[].path": "scar-example/output",
    "aws.lambda.deployment.bucket": "scar-example-deployment",
    "aws.lambda.supervisor.udocker_engine.sha256": "0" * 64,
    "aws.lambda.supervisor.udocker_engine.file": "udocker-englib.tar.gz",
    "aws.lambda.vpc.SubnetIds": ["subnet-0123456789abcdef0"],
    "aws.lambda.vpc.SecurityGroupIds": ["sg-0123456789abcdef0"],
    "aws.lambda.file_system[].Arn":
        "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-0123456789abcdef0",
    "aws.lambda.file_system[].LocalMountPath": "/mnt/data",
    "aws.iam.role": "arn:aws:iam::123456789012:role/scar-lambda-role",
    "aws.batch.job_role": "scar-batch-jobs",
    "aws.api_gateway.name": "scar-example-api",
    "oscar.name": "scar-example",
    "oscar.image": "grycap/cowsay",
    "oscar.script": "examples/oscar/plants.sh",
    "oscar.total_memory": "4Gi",
    "oscar.total_cpu": "2",
    "oscar.input[].storage_provider": "minio",
    "oscar.input[].path": "scar-example/in",
    "oscar.output[].storage_provider": "minio",
    "oscar.output[].path": "scar-example/out",
    "oscar.endpoint": "https://oscar.example.org",
    "oscar.auth_user": "oscar",
    "oscar.auth_password": "PASSWORD",
    "oscar.oidc_token": "TOKEN",
    "storage.s3.<id>.access_key": "ACCESS_KEY_ID",
    "storage.s3.<id>.secret_key": "SECRET_ACCESS_KEY",
    "storage.s3.<id>.region": "eu-west-1",
    "storage.minio.<id>.endpoint": "https://minio.example.org",
    "storage.minio.<id>.access_key": "ACCESS_KEY",
    "storage.minio.<id>.secret_key": "SECRET_KEY",
    "storage.onedata.<id>.oneprovider_host": "oneprovider.example.org",
    "storage.onedata.<id>.token": "TOKEN",
    "storage.onedata.<id>.space": "scar",
}

#: Keys written as comments in the example: alternatives to an active key, settings that create resources
#: or need local files, and secrets (which belong in scar.cfg or the environment, not in an FDL).
COMMENTED = frozenset({
    "aws.boto_profile", "aws.lambda.container.image_file", "aws.lambda.init_script", "aws.lambda.run_script",
    "aws.lambda.extra_payload", "aws.lambda.deployment.bucket", "aws.lambda.supervisor.udocker_engine.sha256",
    "aws.lambda.supervisor.udocker_engine.file", "aws.lambda.vpc", "aws.lambda.file_system", "aws.iam.role",
    "aws.batch.job_role",
    "aws.api_gateway.name", "oscar.total_memory", "oscar.total_cpu", "oscar.auth_user", "oscar.auth_password",
    "oscar.oidc_token", "storage.s3.<id>.access_key", "storage.s3.<id>.secret_key",
    "storage.minio.<id>.access_key", "storage.minio.<id>.secret_key", "storage.onedata",
})

#: The FDL key each root's entries live under, the ID used for map entries, and the OSCAR cluster id.
ROOTS = {"aws": "functions.aws[]", "oscar": "functions.oscar[].<cluster_id>", "storage": "storage_providers"}
MAP_IDS = {"storage.s3": "archive", "storage.minio": "store", "storage.onedata": "space"}
OSCAR_CLUSTER = "my_oscar"
_NO_DEFAULT = object()


@dataclass(frozen=True)
class Key:
    """One FDL key: its dotted name (see reference_text), YAML key, type, default and children."""

    name: str
    key: str
    kind: str  # "value", "section" (a mapping), "list" (of sections) or "map" (ID -> section)
    type_text: str
    default: Any
    children: tuple[Key, ...] = ()

    @property
    def description(self) -> str:
        return DESCRIPTIONS.get(self.name, "")


def walk() -> dict[str, tuple[Key, ...]]:
    """Every key of the FDL, per root (aws, oscar, storage)."""
    cfg = default_config()
    return {
        "aws": _fields(FunctionSpec, "aws", cfg["aws"]),
        "oscar": tuple(k for k in _fields(OscarServiceSpec, "oscar", None) if k.key != "cluster_id"),
        "storage": _fields(StorageProvidersSpec, "storage", None),
    }


def all_names(keys: typing.Iterable[Key] | None = None) -> list[str]:
    """The dotted names of every key, parents before children."""
    if keys is None:
        keys = [k for root in walk().values() for k in root]
    names: list[str] = []
    for key in keys:
        names.append(key.name)
        names.extend(all_names(key.children))
    return names


def _fields(cls: type, prefix: str, cfg_defaults: Any) -> tuple[Key, ...]:
    hints = typing.get_type_hints(cls)
    keys = []
    for fld in dataclasses.fields(cls):
        yaml_key = fld.metadata.get("key") or fld.name
        name = f"{prefix}.{yaml_key}"
        tp = _strip_optional(hints[fld.name])
        cfg_value = cfg_defaults.get(yaml_key, _NO_DEFAULT) if isinstance(cfg_defaults, dict) else _NO_DEFAULT
        if dataclasses.is_dataclass(tp):
            keys.append(Key(name, yaml_key, "section", "mapping", None, _fields(tp, name, cfg_value)))
            continue
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin is list and dataclasses.is_dataclass(args[0]):
            keys.append(Key(name, yaml_key, "list", "list of mappings", [], _fields(args[0], f"{name}[]", None)))
            continue
        if origin is dict and dataclasses.is_dataclass(args[1]):
            keys.append(Key(name, yaml_key, "map", "mapping of ID to mapping", {},
                            _fields(args[1], f"{name}.<id>", None)))
            continue
        default = cfg_value if cfg_value is not _NO_DEFAULT else _field_default(fld)
        keys.append(Key(name, yaml_key, "value", _type_text(tp), default))
    return tuple(keys)


def _strip_optional(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return next(a for a in typing.get_args(tp) if a is not type(None))
    return tp


def _field_default(fld: dataclasses.Field[Any]) -> Any:
    if fld.default_factory is not dataclasses.MISSING:
        return fld.default_factory()
    return None if fld.default is dataclasses.MISSING else fld.default


_TYPE_NAMES = {int: "integer", float: "number", bool: "true/false", str: "text", Path: "path", Any: "any"}


def _type_text(tp: Any) -> str:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is list:
        return f"list of {_type_text(args[0])}"
    if origin is dict:
        return f"mapping of text to {_type_text(args[1])}"
    return _TYPE_NAMES.get(tp, getattr(tp, "__name__", str(tp)))


def _flow(value: Any) -> str:
    """A value as one line of YAML."""
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("\n...").strip()


def default_text(key: Key) -> str:
    if key.default in (None, "") or key.kind != "value":
        return "none"
    return _flow(key.default)


# ---- fdl-example.yaml ---------------------------------------------------------------------------------

HEADER = """\
# fdl-example.yaml: every key of scar's FDL (Function Definition Language), with its default.
# GENERATED by scripts/fdl_example.py from the specs scar validates with: do not edit; run
#   python scripts/fdl_example.py
# Commented keys are alternatives, create extra resources, need local files or hold secrets (keep those in
# scar.cfg or the environment). Settings omitted from an FDL come from ~/.scar/scar.cfg, then these defaults.
# Check a file with: scar validate -f fdl-example.yaml
"""


def example_yaml() -> str:
    roots = walk()
    lines = [HEADER.rstrip("\n"), "functions:", "  aws:"]
    lines += _render(roots["aws"], "    ", first="  - ")
    lines.append("  oscar:")
    lines.append(f"  - {OSCAR_CLUSTER}:  # the cluster id; its endpoint and credentials can come from "
                 f"oscar.{OSCAR_CLUSTER} in scar.cfg")
    lines += _render(roots["oscar"], "      ")
    lines.append("storage_providers:  # storage outside the function's own account, referenced as KIND.ID")
    lines += _render(roots["storage"], "  ")
    return "\n".join(lines) + "\n"


def _comment(key: Key, shown: Any = None) -> str:
    """The line's comment: the description and the default (just "(the default)" when the value shown is it)."""
    text = key.description
    if key.kind == "value":
        text += " (the default)" if shown == key.default else f"; default: {default_text(key)}"
    return f"  # {text}"


def _render(keys: tuple[Key, ...], indent: str, first: str | None = None, commented: bool = False) -> list[str]:
    """Lines for `keys` at `indent`; the first line starts with `first` (a list item's "- ") if given.
    A key in COMMENTED becomes a commented block (its children too), unless already inside one."""
    lines: list[str] = []
    for key in keys:
        lead = first if first is not None and not lines else indent
        hide = key.name in COMMENTED and not commented
        inner = commented or hide
        if key.kind == "value":
            value = EXAMPLES.get(key.name, key.default)
            block = [f"{lead}{key.key}: {_flow(value)}{_comment(key, value)}"]
        else:
            block = [f"{lead}{key.key}:{_comment(key)}"]
            if key.kind == "section":
                block += _render(key.children, indent + "  ", commented=inner)
            elif key.kind == "list":
                block += _render(key.children, indent + "    ", first=indent + "  - ", commented=inner)
            else:
                entry = MAP_IDS[key.name]
                block.append(f"{indent}  {entry}:  # an ID of your choice (use it as {key.key}.{entry})")
                block += _render(key.children, indent + "    ", commented=inner)
        if hide:
            block = [indent + "# " + line[len(indent):] for line in block]
        lines += block
    return lines


# ---- the Markdown reference ---------------------------------------------------------------------------

REFERENCE_HEADER = """\
# FDL reference

<!-- GENERATED by scripts/fdl_example.py from scar/config/specs.py: do not edit. -->

Every key scar accepts in an FDL file, with its type and default. A key left out comes from `scar.cfg`
(`aws.*` for AWS functions, `oscar.<cluster_id>.*` for OSCAR services), then from the defaults shown here;
command-line flags beat both (see [configuration](configuration.md)). The annotated `fdl-example.yaml`
at the top of the repository holds the same keys. `[]` marks an item of a list, `<id>` a name of your choice.
"""

_SECTIONS = {"aws": "AWS functions: `functions.aws[]`", "oscar": "OSCAR services: `functions.oscar[]`",
             "storage": "Storage providers: `storage_providers`"}


def reference_markdown() -> str:
    parts = [REFERENCE_HEADER]
    for root, keys in walk().items():
        parts.append(f"## {_SECTIONS[root]}\n")
        if root == "oscar":
            parts.append("Each entry is `CLUSTER_ID: {service keys}`; the cluster's settings in scar.cfg "
                         "(`oscar.CLUSTER_ID`) fill in what the service leaves out.\n")
        rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
        rows += [_row(key, root) for key in _flatten(keys)]
        parts.append("\n".join(rows) + "\n")
    return "\n".join(parts)


def _flatten(keys: tuple[Key, ...]) -> list[Key]:
    flat: list[Key] = []
    for key in keys:
        flat.append(key)
        flat.extend(_flatten(key.children))
    return flat


def _row(key: Key, root: str) -> str:
    shown = key.name.removeprefix(root + ".")
    default = default_text(key)
    default_cell = "-" if default == "none" else f"`{default}`"
    description = key.description.replace("|", "\\|")
    return f"| `{shown}` | {key.type_text} | {default_cell} | {description} |"
