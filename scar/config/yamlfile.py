"""Load an FDL YAML file keeping the line of every key, for error messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from scar.config.origin import KeyPath, format_path
from scar.errors import BadInputError, ConfigError

#: Bounds no real FDL comes near (a large one has a few thousand values, nested about ten deep). They are
#: measured as if every alias were copied out, because everything after loading walks the data as a tree:
#: a "billion laughs" file of a few lines would otherwise take minutes and gigabytes, and deep nesting or an
#: alias inside the node it names would overflow the stack.
MAX_VALUES = 100_000
MAX_CHARACTERS = 10_000_000
MAX_DEPTH = 100


class _Refused(Exception):
    """The document breaks one of the bounds above, at `mark`."""

    def __init__(self, mark: yaml.Mark, rule: str) -> None:
        super().__init__(rule)
        self.mark = mark
        self.rule = rule


class _BoundedLoader(yaml.SafeLoader):
    """A SafeLoader whose composer measures the document with its aliases expanded and stops at a bound.

    Each finished node's expanded size (values, characters) and height are kept by id; an alias adds its
    target's size to the document's total, so the total is exactly the size of the expanded tree.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._sizes: dict[int, tuple[int, int, int]] = {}  # id(node) -> (values, characters, height)
        self._values = 0
        self._characters = 0
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            target = self.anchors.get(event.anchor)
            if target is not None:
                size = self._sizes.get(id(target))
                if size is None:
                    raise _Refused(event.start_mark, f"the alias *{event.anchor} is inside the node it names "
                                                     "(a value cannot contain itself)")
                values, characters, height = size
                self._count(event.start_mark, values, characters, self._depth + height)
            return super().compose_node(parent, index)
        self._depth += 1
        self._count(event.start_mark, 1, len(event.value) if isinstance(event, yaml.ScalarEvent) else 0, self._depth)
        node = super().compose_node(parent, index)
        self._depth -= 1
        self._sizes[id(node)] = self._measure(node)
        return node

    def _count(self, mark: yaml.Mark, values: int, characters: int, deepest: int) -> None:
        self._values += values
        self._characters += characters
        if self._values > MAX_VALUES:
            raise _Refused(mark, f"with its aliases expanded the document has more than {MAX_VALUES:,} values "
                                 "(a bound against alias bombs)")
        if self._characters > MAX_CHARACTERS:
            raise _Refused(mark, f"with its aliases expanded the document has more than {MAX_CHARACTERS:,} "
                                 "characters of values (a bound against alias bombs)")
        if deepest > MAX_DEPTH:
            raise _Refused(mark, f"values are nested more than {MAX_DEPTH} levels deep")

    def _measure(self, node: yaml.Node) -> tuple[int, int, int]:
        if isinstance(node, yaml.ScalarNode):
            return 1, len(node.value), 1
        nodes = [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) else node.value
        children = [self._sizes[id(child)] for child in nodes]
        return (1 + sum(size[0] for size in children), sum(size[1] for size in children),
                1 + max((size[2] for size in children), default=0))


def load_yaml(file: Path) -> tuple[Any, dict[KeyPath, int]]:
    """The document's data and the 1-based line of each key path in it."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInputError(f"{file}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise BadInputError(f"{file}: cannot read the file ({err})") from None
    loader = _BoundedLoader(text)
    lines: dict[KeyPath, int] = {}
    duplicates: list[str] = []
    try:
        node = loader.get_single_node()
        if node is not None:  # before constructing: construction flattens merge keys (<<) in the nodes
            _record_lines(node, (), lines, duplicates, file)
        data = loader.construct_document(node) if node is not None else None
    except _Refused as err:
        raise BadInputError(f"{file}:{err.mark.line + 1}: refused: {err.rule}") from None
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
