"""The generic spec builder: conversions, rules, defaults, messages, secrets and cross-checks."""

# ruff: noqa: RUF009  (spec_field() is how specs declare their fields)

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scar.config.merge import Tree
from scar.config.origin import Origin, format_path
from scar.config.schema import SpecBuilder, at_least, each, int_range, max_items, one_of, spec_field


@dataclass(frozen=True)
class Inner:
    token: str | None = spec_field(secret=True)
    level: int = spec_field(1, checks=(int_range(1, 3),))


@dataclass(frozen=True)
class Sample:
    name: str = spec_field(required=True)
    count: int = spec_field(5, checks=(at_least(1, "things"),))
    ratio: float = spec_field(1.0)
    flag: bool = spec_field(False)
    note: str | None = spec_field()
    text: str = spec_field("default")
    tags: list[str] = spec_field(factory=list, checks=(max_items(2), each(one_of("a", "b", "c"))))
    labels: dict[str, str] = spec_field(factory=dict)
    variables: dict[str, str] = spec_field(key="Variables", factory=dict)
    inner: Inner = spec_field(factory=Inner)
    inners: dict[str, Inner] = spec_field(factory=dict)
    low: int = spec_field(0)
    high: int = spec_field(10)

    def cross_check(self, report) -> None:
        if self.low >= self.high:
            report(("low",), f"must be lower than high ({self.high})", self.low)


def build(data: dict[str, Any]) -> tuple[Sample, list[str]]:
    tree = Tree().merge(data, lambda path: Origin("sample.yaml", format_path(("root", *path)), 3))
    builder = SpecBuilder(tree, ("root",), "sample.yaml")
    return builder.build(Sample, tree.data, ()), builder.problems


def test_defaults_fill_what_is_not_given():
    spec, problems = build({"name": "x"})
    assert problems == []
    assert spec == Sample(name="x")
    assert (spec.count, spec.note, spec.tags, spec.inner) == (5, None, [], Inner())


def test_missing_required_key_is_reported_at_the_root_file():
    _, problems = build({})
    assert problems == ["sample.yaml: root.name: is required"]


@pytest.mark.parametrize(("raw", "value"), [(7, 7), ("7", 7), (" 7 ", 7), (7.0, 7)])
def test_whole_numbers(raw, value):
    spec, problems = build({"name": "x", "count": raw})
    assert (spec.count, problems) == (value, [])


@pytest.mark.parametrize("raw", [7.5, "seven", True, [7], {"n": 7}])
def test_not_whole_numbers(raw):
    spec, problems = build({"name": "x", "count": raw})
    assert spec.count == 5  # an invalid value keeps the default
    assert problems == [f"sample.yaml:3: root.count: {raw!r} must be a whole number"]


def test_rule_failure_shows_the_raw_value_and_the_rule():
    _, problems = build({"name": "x", "count": 0})
    assert problems == ["sample.yaml:3: root.count: 0 must be at least 1 things"]


@pytest.mark.parametrize(("field", "raw", "rule"), [
    ("flag", "yes", "must be true or false"),
    ("flag", 1, "must be true or false"),
    ("ratio", "half", "must be a number"),
    ("text", ["a"], "must be a text value"),
    ("labels", "a=b", "must be a mapping of keys to values"),
])
def test_type_rules(field, raw, rule):
    _, problems = build({"name": "x", field: raw})
    assert problems == [f"sample.yaml:3: root.{field}: {raw!r} {rule}"]


def test_numbers_become_text_and_text_becomes_numbers():
    spec, problems = build({"name": 42, "ratio": "0.25", "labels": {"a": 1}})
    assert problems == []
    assert (spec.name, spec.ratio, spec.labels) == ("42", 0.25, {"a": "1"})


def test_empty_text_in_an_optional_setting_means_not_set():
    spec, problems = build({"name": "x", "note": "", "text": ""})
    assert problems == []
    assert (spec.note, spec.text) == (None, "")


def test_a_single_text_becomes_a_list_of_one():
    spec, problems = build({"name": "x", "tags": "a"})
    assert (spec.tags, problems) == (["a"], [])


def test_list_rules():
    _, problems = build({"name": "x", "tags": ["a", "b", "c"]})
    assert problems == ["sample.yaml:3: root.tags: ['a', 'b', 'c'] must have at most 2 items"]
    _, problems = build({"name": "x", "tags": ["a", "z"]})
    assert problems == ["sample.yaml:3: root.tags: ['a', 'z'] item 'z' must be one of: a, b, c"]
    spec, problems = build({"name": "x", "tags": ["a", {"b": 1}, ["c"]]})
    assert problems == ["sample.yaml:3: root.tags[1]: {'b': 1} must be a text value",
                        "sample.yaml:3: root.tags[2]: ['c'] must be a text value"]
    assert spec.tags == []


def test_keys_may_differ_from_attribute_names():
    spec, problems = build({"name": "x", "Variables": {"A": "1"}})
    assert (spec.variables, problems) == ({"A": "1"}, [])
    _, problems = build({"name": "x", "variables": {"A": "1"}})
    assert problems == ["sample.yaml:3: root.variables: unknown key (did you mean 'Variables'?)"]


def test_unknown_keys_far_from_any_known_key_list_the_known_keys():
    _, problems = build({"name": "x", "inner": {"zzz": 1}})
    assert problems == ["sample.yaml:3: root.inner.zzz: unknown key (known keys: level, token)"]


def test_nested_problems_carry_the_full_key_path():
    _, problems = build({"name": "x", "inner": {"level": 9}, "inners": {"one": {"level": 0}}})
    assert problems == ["sample.yaml:3: root.inner.level: 9 must be from 1 to 3",
                        "sample.yaml:3: root.inners.one.level: 0 must be from 1 to 3"]


def test_secrets_are_hidden_even_inside_misplaced_containers():
    _, problems = build({"name": "x", "inner": {"token": ["s3cr3t"]},
                         "inners": {"a": ["s3cr3t"], "b": "s3cr3t"}})
    assert problems == [
        "sample.yaml:3: root.inner.token: (hidden) must be a text value",
        "sample.yaml:3: root.inners.a: (hidden) must be a mapping of keys to values",
        "sample.yaml:3: root.inners.b: (hidden) must be a mapping of keys to values",
    ]
    _, problems = build({"name": "x", "inners": ["s3cr3t"], "inner": "s3cr3t"})
    assert problems == ["sample.yaml:3: root.inner: (hidden) must be a mapping of keys to values",
                        "sample.yaml:3: root.inners: (hidden) must be a mapping of keys to values"]


def test_secret_fields_are_left_out_of_the_repr():
    spec, _ = build({"name": "x", "inner": {"token": "s3cr3t"}})
    assert spec.inner.token == "s3cr3t"
    assert "s3cr3t" not in repr(spec)


def test_cross_checks_run_on_the_built_values():
    _, problems = build({"name": "x", "low": 10, "high": 10})
    assert problems == ["sample.yaml:3: root.low: 10 must be lower than high (10)"]


def test_a_cross_check_does_not_repeat_a_reported_value():
    spec, problems = build({"name": "x", "low": "ten", "high": -1})
    assert problems == ["sample.yaml:3: root.low: 'ten' must be a whole number"]
    assert (spec.low, spec.high) == (0, -1)


def test_long_values_are_shortened():
    _, problems = build({"name": "x", "count": "y" * 200})
    assert problems == [f"sample.yaml:3: root.count: '{'y' * 76}... must be a whole number"]


def test_built_specs_are_frozen():
    spec, _ = build({"name": "x"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "y"  # type: ignore[misc]


@dataclass(frozen=True)
class Files:
    script: Path | None = spec_field(path="file")
    payload: Path | None = spec_field(path="file_or_dir")


def test_paths_resolve_against_the_folder_of_their_origin(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "run.sh").write_text("echo")
    (tmp_path / "conf" / "data").mkdir()
    tree = Tree().merge({"script": "run.sh", "payload": "data"},
                        lambda path: Origin("f.yaml", format_path(path), 1, tmp_path / "conf"))
    builder = SpecBuilder(tree, (), "f.yaml")
    spec = builder.build(Files, tree.data, ())
    assert builder.problems == []
    assert (spec.script, spec.payload) == (tmp_path / "conf" / "run.sh", tmp_path / "conf" / "data")
    tree = Tree().merge({"script": "data", "payload": "none"},
                        lambda path: Origin("f.yaml", format_path(path), 1, tmp_path / "conf"))
    builder = SpecBuilder(tree, (), "f.yaml")
    builder.build(Files, tree.data, ())
    assert builder.problems == [
        f"f.yaml:1: script: 'data' is not a file (looked for {tmp_path / 'conf' / 'data'})",
        f"f.yaml:1: payload: 'none' does not exist (looked for {tmp_path / 'conf' / 'none'})",
    ]
