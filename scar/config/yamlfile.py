"""Load an FDL YAML file keeping the line of every key, for error messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from scar.config.origin import KeyPath, format_path
from scar.errors import BadInputError, ConfigError


def load_yaml(file: Path) -> tuple[Any, dict[KeyPath, int]]:
    """The document's data and the 1-based line of each key path in it."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInputError(f"{file}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise BadInputError(f"{file}: cannot read the file ({err})") from None
    loader = yaml.SafeLoader(text)
    lines: dict[KeyPath, int] = {}
    duplicates: list[str] = []
    try:
        node = loader.get_single_node()
        if node is not None:  # before constructing: construction flattens merge keys (<<) in the nodes
            _record_lines(node, (), lines, duplicates, file)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{file}:{mark.line + 1}" if mark else str(file)
        raise BadInputError(f"{where}: invalid YAML: {err.problem or err.context}") from None
    except yaml.YAMLError as err:
        raise BadInputError(f"{file}: invalid YAML: {err}") from None
    finally:
        loader.dispose()
    if duplicates:
        raise ConfigError(duplicates)
    return data, lines


def _record_lines(
    node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], duplicates: list[str], file: Path
) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = path + (key,)
            if key in seen:
                duplicates.append(
                    f"{file}:{key_node.start_mark.line + 1}: {format_path(child)}: "
                    "key given twice (each key may appear once in a mapping)"
                )
            seen.add(key)
            _record_lines(value_node, child, lines, duplicates, file)
            lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, path + (index,), lines, duplicates, file)
