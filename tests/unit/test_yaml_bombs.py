"""Hostile configuration files: alias bombs, self-referencing aliases and deep nesting in an FDL, deep
nesting in scar.cfg. Each is refused with exit 2 and one line naming the file, the line and the rule —
never a hang, a MemoryError or "unexpected RecursionError"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scar.config import yamlfile
from scar.config.yamlfile import MAX_CHARACTERS, MAX_DEPTH, MAX_VALUES, load_yaml
from scar.errors import BadInputError
from tests.unit.support import errors

ROLE = "arn:aws:iam::123456789012:role/scar"
FUNCTION = "functions:\n  aws:\n  - lambda:\n      name: fn\n      container:\n        image: busybox\n"


def billion_laughs(levels: int = 9) -> str:
    """The classic bomb: each level is a list of ten aliases of the level below (10**levels strings)."""
    lines = ['lol0: &lol0 "lol"']
    lines += [f"lol{level}: &lol{level} [{', '.join([f'*lol{level - 1}'] * 10)}]" for level in range(1, levels + 1)]
    return "\n".join(lines) + "\n" + FUNCTION


def refusal(file: Path) -> str:
    with pytest.raises(BadInputError) as caught:
        load_yaml(file)
    assert caught.value.exit_code == 2
    return caught.value.message


def test_billion_laughs_is_refused_at_the_alias_that_passes_the_bound(write):
    # levels 1-4 expand to 1+10+110+1110+11110 values; level 5 (line 6) pushes the total past 100,000
    assert refusal(write("bomb.yaml", billion_laughs())) == (
        f"bomb.yaml:6: refused: with its aliases expanded the document has more than {MAX_VALUES:,} values "
        "(a bound against alias bombs)")


def expanded(value: object) -> int:
    """The values of `value` as a tree (keys included), the way everything after loading walks it."""
    if isinstance(value, dict):
        return 1 + sum(expanded(key) + expanded(item) for key, item in value.items())
    if isinstance(value, list):
        return 1 + sum(expanded(item) for item in value)
    return 1


def test_the_bound_counts_the_expanded_tree_exactly(write, monkeypatch):
    fdl = write("fdl.yaml", billion_laughs(3))
    data, _ = load_yaml(fdl)
    assert data["lol3"][9][9] == ["lol"] * 10
    monkeypatch.setattr(yamlfile, "MAX_VALUES", expanded(data))
    load_yaml(fdl)
    monkeypatch.setattr(yamlfile, "MAX_VALUES", expanded(data) - 1)
    assert refusal(fdl).startswith("fdl.yaml:")


def test_one_long_string_repeated_by_aliases_is_refused(write):
    long = "x" * (MAX_CHARACTERS // 8)
    text = f"s: &s {long}\nmany: [{', '.join(['*s'] * 10)}]\n"
    assert refusal(write("fdl.yaml", text)) == (
        f"fdl.yaml:2: refused: with its aliases expanded the document has more than {MAX_CHARACTERS:,} "
        "characters of values (a bound against alias bombs)")


def test_ordinary_aliases_and_merge_keys_still_load(write):
    data, lines = load_yaml(write("fdl.yaml", """
        common: &common {memory: 256, environment: {Variables: {A: "1"}}}
        layers: &layers [arn:a, arn:b]
        functions:
          aws:
          - lambda: {<<: *common, name: one, layers: *layers}
          - lambda: {<<: *common, name: two, layers: *layers}
        """))
    assert [f["lambda"]["name"] for f in data["functions"]["aws"]] == ["one", "two"]
    assert data["functions"]["aws"][1]["lambda"]["layers"] == ["arn:a", "arn:b"]
    assert lines[("functions", "aws", 1, "lambda", "layers")] == 6


@pytest.mark.parametrize("text", [
    "a: &a [*a]\n",
    "a: &a {b: *a}\n",
    "a: &a {<<: *a}\n",
    "top:\n  a: &a\n    - x\n    - [y, *a]\n",
])
def test_an_alias_inside_the_node_it_names_is_refused(write, text):
    line = text.count("\n", 0, text.index("*a")) + 1
    assert refusal(write("fdl.yaml", text)) == (
        f"fdl.yaml:{line}: refused: the alias *a is inside the node it names (a value cannot contain itself)")


def test_nesting_is_bounded_at_exactly_max_depth(write):
    # the root mapping is level 1, so a list of MAX_DEPTH - 1 levels under it reaches MAX_DEPTH
    deepest = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    assert load_yaml(write("fdl.yaml", deepest))[0]["a"] is not None
    for depth in (MAX_DEPTH, 10_000):
        text = "x: 1\na: " + "[" * depth + "]" * depth + "\n"
        assert refusal(write("fdl.yaml", text)) == (
            f"fdl.yaml:2: refused: values are nested more than {MAX_DEPTH} levels deep")


def test_nesting_that_aliases_stack_up_is_bounded(write):
    half = MAX_DEPTH // 2 + 1
    text = f"a: &a {'[' * half}{']' * half}\nb: {'[' * half}*a{']' * half}\n"
    assert refusal(write("fdl.yaml", text)) == (
        f"fdl.yaml:2: refused: values are nested more than {MAX_DEPTH} levels deep")


def test_validate_refuses_a_billion_laughs_fdl(scar, write):
    # through the real CLI: the refusal happens while composing, before anything is expanded, so the
    # work is bounded by MAX_VALUES whatever the number of levels (9 levels = 10**9 strings)
    write("bomb.yaml", billion_laughs())
    result = scar("validate", "-f", "bomb.yaml")
    assert result.code == 2
    assert errors(result.stderr) == [
        f"bomb.yaml:6: refused: with its aliases expanded the document has more than {MAX_VALUES:,} values "
        "(a bound against alias bombs)"]


@pytest.mark.parametrize(("text", "expected"), [
    (FUNCTION + "x: &x [*x]\n", "bomb.yaml:7: refused: the alias *x is inside the node it names"),
    (FUNCTION + "x: " + "[" * 10_000 + "]" * 10_000 + "\n",
     f"bomb.yaml:7: refused: values are nested more than {MAX_DEPTH} levels deep"),
])
def test_validate_refuses_self_reference_and_deep_nesting_in_one_line(scar, write, text, expected):
    write("bomb.yaml", text)
    result = scar("validate", "-f", "bomb.yaml")
    assert result.code == 2
    assert "RecursionError" not in result.stderr
    [message] = errors(result.stderr)
    assert message.startswith(expected)


@pytest.mark.parametrize("nested", [
    '{"a": ' * 101 + "1" + "}" * 101,
    "[" * 100_000 + "]" * 100_000,
])
def test_deeply_nested_scar_cfg_is_refused_with_its_line(scar, write, cfg_file, nested):
    cfg_file.parent.mkdir(parents=True)
    cfg_file.write_text('{\n  "aws": {\n    "x": ' + nested + "}}\n", encoding="utf-8")
    write("fdl.yaml", FUNCTION)
    result = scar("validate", "-f", "fdl.yaml")
    assert result.code == 2
    assert errors(result.stderr) == [f"{cfg_file}:3: refused: values are nested more than 100 levels deep"]


def test_brackets_inside_json_strings_are_not_nesting(scar, write, write_cfg, cfg_file):
    write_cfg({"aws": {"iam": {"role": ROLE}, "lambda": {"description": "[{" * 100 + '\\"' + "[" * 50}}})
    assert "[{" * 100 in json.loads(cfg_file.read_text(encoding="utf-8"))["aws"]["lambda"]["description"]
    write("fdl.yaml", FUNCTION)
    assert scar("validate", "-f", "fdl.yaml").code == 0
