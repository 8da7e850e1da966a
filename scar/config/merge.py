"""Deep merge of configuration layers: dictionaries merge key by key, everything else (lists included)
is replaced by the upper layer. `None` in an upper layer means "not set" and changes nothing.

The merge also keeps, for every value, the `Origin` it came from.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from scar.config.origin import KeyPath, Origin

OriginOf = Callable[[KeyPath], Origin]


@dataclass
class Tree:
    """A merged configuration tree and the origin of each of its key paths."""

    data: dict[str, Any] = field(default_factory=dict)
    origins: dict[KeyPath, Origin] = field(default_factory=dict)

    def merge(self, layer: Mapping[str, Any], origin_of: OriginOf) -> Tree:
        """Put `layer` on top of this tree (in place) and return the tree."""
        _merge_into(self.data, self.origins, layer, origin_of, ())
        return self

    def origin(self, path: KeyPath) -> Origin | None:
        """The origin of `path`, or of its nearest ancestor that has one."""
        for end in range(len(path), 0, -1):
            found = self.origins.get(path[:end])
            if found is not None:
                return found
        return None


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """A new dictionary: `over` merged onto `base` (neither is modified)."""
    merged: dict[str, Any] = copy.deepcopy(dict(base))
    _merge_into(merged, {}, over, None, ())
    return merged


def _merge_into(
    base: dict[str, Any],
    origins: dict[KeyPath, Origin],
    layer: Mapping[str, Any],
    origin_of: OriginOf | None,
    path: KeyPath,
) -> bool:
    """Merge `layer` into `base`; whether any value was set."""
    stored = False
    for key, value in layer.items():
        if value is None:
            continue
        child = path + (key,)
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            changed = _merge_into(base[key], origins, value, origin_of, child)
            if origin_of is not None and (changed or child not in origins):
                origins[child] = origin_of(child)  # a mapping's origin: the last layer that set a value in it
            stored = stored or changed
            continue
        base[key] = _copy(value)
        stored = True
        if origin_of is not None:
            for stale in [p for p in origins if p[: len(child)] == child]:
                del origins[stale]
            _record(origins, base[key], origin_of, child)
    return stored


def _copy(value: Any) -> Any:
    """A copy of a layer's value to store; `None` inside a new mapping means "not set" there too."""
    if isinstance(value, Mapping):
        return {key: _copy(item) for key, item in value.items() if item is not None}
    return copy.deepcopy(value) if isinstance(value, list) else value


def _record(origins: dict[KeyPath, Origin], value: Any, origin_of: OriginOf, path: KeyPath) -> None:
    origins[path] = origin_of(path)
    if isinstance(value, Mapping):
        for key, item in value.items():
            _record(origins, item, origin_of, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _record(origins, item, origin_of, path + (index,))
