"""Turn a merged configuration tree into typed, validated specs.

A spec class is a dataclass whose fields say how each key is read: its YAML key (when it differs from the
attribute), whether it is required, how to normalise it, which rules it must meet and whether it is a path
or a secret. `SpecBuilder` walks the tree with those classes, collects every problem (not just the first)
with the file, line and key it came from, and returns the built spec.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from scar.config.merge import Tree
from scar.config.origin import KeyPath, format_path

Check = Callable[[Any], "str | None"]
T = TypeVar("T")


def spec_field(
    default: Any = None,
    *,
    key: str | None = None,
    required: bool = False,
    checks: tuple[Check, ...] = (),
    normalize: Callable[[Any], Any] | None = None,
    path: str | None = None,
    secret: bool = False,
    factory: Callable[[], Any] | None = None,
) -> Any:
    """A dataclass field with its reading rules. `path` is "file" or "file_or_dir" for local paths."""
    metadata = {
        "key": key,
        "required": required,
        "checks": checks,
        "normalize": normalize,
        "path": path,
        "secret": secret,
    }
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata, repr=not secret)
    return dataclasses.field(default=default, metadata=metadata, repr=not secret)


# ---- rules: each returns None when the value is fine, or the rule it breaks -------------------------


def int_range(low: int, high: int, unit: str = "") -> Check:
    suffix = f" {unit}" if unit else ""
    return lambda v: None if low <= v <= high else f"must be from {low} to {high}{suffix}"


def at_least(low: float, unit: str = "") -> Check:
    suffix = f" {unit}" if unit else ""
    return lambda v: None if v >= low else f"must be at least {low}{suffix}"


def one_of(*allowed: Any) -> Check:
    shown = ", ".join(str(a) for a in allowed)
    return lambda v: None if v in allowed else f"must be one of: {shown}"


def matches(pattern: str, description: str) -> Check:
    compiled = re.compile(pattern)
    return lambda v: None if compiled.fullmatch(v) else f"must be {description}"


def max_length(limit: int) -> Check:
    return lambda v: None if len(v) <= limit else f"must be at most {limit} characters long"


def max_items(limit: int) -> Check:
    return lambda v: None if len(v) <= limit else f"must have at most {limit} items"


def each(check: Check) -> Check:
    def run(values: list[Any]) -> str | None:
        for item in values:
            failure = check(item)
            if failure:
                return f"item {item!r} {failure}"
        return None

    return run


# ---- the builder --------------------------------------------------------------------------------------


class SpecBuilder:
    """Builds specs from one merged tree, collecting problems into `problems`."""

    def __init__(self, tree: Tree, root_label: KeyPath, root_where: str) -> None:
        self.tree = tree
        self.root_label = root_label  # how the tree's root is named in messages, e.g. functions.aws[0]
        self.root_where = root_where  # the file that defines the root, for keys nobody set
        self.problems: list[str] = []
        self._reported: set[KeyPath] = set()

    def report(self, path: KeyPath, rule: str, value: Any = dataclasses.MISSING, secret: bool = False) -> None:
        """Record a problem at `path` (relative to the tree's root)."""
        self._reported.add(path)
        origin = self.tree.origins.get(path)
        if origin is not None:
            place = origin.describe()
        else:
            place = f"{self.root_where}: {format_path(self.root_label + path)}"
        if value is dataclasses.MISSING:
            self.problems.append(f"{place}: {rule}")
        else:
            shown = "(hidden)" if secret else _show(value)
            self.problems.append(f"{place}: {shown} {rule}")

    def build(self, cls: type[T], data: Any, path: KeyPath) -> T:
        """An instance of `cls` from `data`; invalid or missing values keep the field's default."""
        if not isinstance(data, Mapping):
            self.report(path, "must be a mapping of keys to values", data, _holds_secret(cls))
            data = {}
        hints = _type_hints(cls)
        fields = {f.metadata.get("key") or f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        for key in data:
            if key not in fields:
                self._unknown_key(path + (str(key),), str(key), list(fields))
        values: dict[str, Any] = {}
        for key, fld in fields.items():
            meta = fld.metadata
            raw = data.get(key)
            child = path + (key,)
            if raw == "" and _optional(hints[fld.name]):
                raw = None  # an empty text in an optional setting means "not set"
            if raw is None:
                if meta.get("required"):
                    self.report(child, "is required")
                continue
            ok, value = self._convert(hints[fld.name], raw, child, meta.get("secret", False))
            if not ok:
                continue
            if meta.get("normalize"):
                value = meta["normalize"](value)
            if meta.get("path"):
                value = self._resolve_path(value, child, meta["path"])
                if value is None:
                    continue
            failure = next((f for f in (c(value) for c in meta.get("checks", ())) if f), None)
            if failure:
                self.report(child, failure, raw, meta.get("secret", False))
                continue
            values[fld.name] = value
        spec = cls(**values)
        cross_check = getattr(spec, "cross_check", None)
        if cross_check is not None:
            cross_check(lambda sub, rule, value=dataclasses.MISSING: self._cross_report(path + sub, rule, value))
        return spec

    def _cross_report(self, path: KeyPath, rule: str, value: Any) -> None:
        """A cross-check's problem, unless the value at `path` was already reported as invalid (then the
        cross-check saw the field's default, not the user's value), nor under a section reported as invalid."""
        if not any(path[:end] in self._reported for end in range(1, len(path) + 1)):
            self.report(path, rule, value)

    def _unknown_key(self, path: KeyPath, key: str, known: list[str]) -> None:
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else f" (known keys: {', '.join(sorted(known))})"
        self.report(path, f"unknown key{hint}")

    def _convert(self, tp: Any, raw: Any, path: KeyPath, secret: bool) -> tuple[bool, Any]:
        origin = typing.get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            tp = next(a for a in typing.get_args(tp) if a is not type(None))
            origin = typing.get_origin(tp)
        secret = secret or _holds_secret(tp)  # a misplaced container may hold secrets: never show it
        if dataclasses.is_dataclass(tp):
            if not isinstance(raw, Mapping):
                self.report(path, "must be a mapping of keys to values", raw, secret)
                return False, None
            return True, self.build(tp, raw, path)
        if origin is list:
            (item_type,) = typing.get_args(tp)
            if not isinstance(raw, list):
                if item_type is str and isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
                    raw = [raw]
                else:
                    self.report(path, "must be a list", raw, secret)
                    return False, None
            converted_items = [self._convert(item_type, item, path + (index,), secret)
                               for index, item in enumerate(raw)]  # every item, to report every problem
            if not all(ok for ok, _ in converted_items):
                return False, None
            return True, [value for _, value in converted_items]
        if origin is dict:
            _, value_type = typing.get_args(tp)
            if not isinstance(raw, Mapping):
                self.report(path, "must be a mapping of keys to values", raw, secret)
                return False, None
            converted = {str(key): self._convert(value_type, item, path + (str(key),), secret)
                         for key, item in raw.items()}  # every item, to report every problem
            if not all(ok for ok, _ in converted.values()):
                return False, None
            return True, {key: value for key, (_, value) in converted.items()}
        converted = _scalar(tp, raw)
        if converted is _INVALID:
            self.report(path, _TYPE_RULES[tp], raw, secret)
            return False, None
        return True, converted

    def _resolve_path(self, value: str, path: KeyPath, kind: str) -> Path | None:
        origin = self.tree.origin(path)
        folder = origin.folder if origin and origin.folder else Path.cwd()
        if "\0" in value:
            self.report(path, "must not contain a NUL character", value)
            return None
        try:
            resolved = (folder / Path(value).expanduser()).resolve()
        except RuntimeError:  # ~user of a user who does not exist
            self.report(path, "names the home folder of an unknown user", value)
            return None
        if kind == "file" and not resolved.is_file():
            self.report(path, f"is not a file (looked for {resolved})", value)
            return None
        if kind == "file_or_dir" and not resolved.exists():
            self.report(path, f"does not exist (looked for {resolved})", value)
            return None
        return resolved


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    """A spec class's field types, resolved once: resolving them took most of the time of loading an FDL."""
    return typing.get_type_hints(cls)


@functools.cache
def _holds_secret(tp: Any) -> bool:
    """Whether a value of type `tp` may contain a secret field (then it is never shown in messages)."""
    if dataclasses.is_dataclass(tp):
        hints = _type_hints(tp)
        return any(f.metadata.get("secret") or _holds_secret(hints[f.name]) for f in dataclasses.fields(tp))
    return any(_holds_secret(arg) for arg in typing.get_args(tp))


def _optional(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in typing.get_args(tp)


_INVALID = object()
_TYPE_RULES = {
    bool: "must be true or false",
    int: "must be a whole number",
    float: "must be a number",
    str: "must be a text value",
    Path: "must be a path",
    Any: "is not valid",
}


def _scalar(tp: Any, raw: Any) -> Any:
    if tp is Any:
        return raw
    if tp is bool:
        return raw if isinstance(raw, bool) else _INVALID
    if isinstance(raw, bool) or isinstance(raw, (Mapping, list)):
        return _INVALID
    if tp is int:
        if isinstance(raw, int):
            return raw
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        if isinstance(raw, str) and re.fullmatch(r"\s*-?\d+\s*", raw):
            return int(raw)
        return _INVALID
    if tp is float:
        if isinstance(raw, (int, float)):
            return raw
        try:
            return float(raw)
        except (TypeError, ValueError):
            return _INVALID
    if tp in (str, Path):
        return str(raw) if isinstance(raw, (str, int, float)) else _INVALID
    return _INVALID


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
