"""FDL YAML loading: data, the line of every key, duplicate keys and syntax errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from scar.config.yamlfile import load_yaml
from scar.errors import BadInputError, ConfigError


def test_data_and_the_line_of_every_key(write):
    fdl = write("fdl.yaml", """
        functions:
          aws:
          - lambda:
              name: fn
              memory: 1024
              layers:
              - arn:a
              - arn:b
        """)
    data, lines = load_yaml(fdl)
    assert data == {"functions": {"aws": [{"lambda": {"name": "fn", "memory": 1024, "layers": ["arn:a", "arn:b"]}}]}}
    assert lines[()] == 1
    assert lines[("functions",)] == 1
    assert lines[("functions", "aws")] == 2
    assert lines[("functions", "aws", 0)] == 3
    assert lines[("functions", "aws", 0, "lambda")] == 3
    assert lines[("functions", "aws", 0, "lambda", "name")] == 4
    assert lines[("functions", "aws", 0, "lambda", "memory")] == 5
    assert lines[("functions", "aws", 0, "lambda", "layers")] == 6
    assert lines[("functions", "aws", 0, "lambda", "layers", 1)] == 8


def test_a_key_s_line_is_the_key_s_own_even_when_its_value_starts_below(write):
    fdl = write("fdl.yaml", """
        a:

          b: 1
        """)
    _, lines = load_yaml(fdl)
    assert lines[("a",)] == 1
    assert lines[("a", "b")] == 3


def test_duplicate_keys_are_all_reported_with_their_lines(write):
    fdl = write("fdl.yaml", """
        functions:
          aws:
          - lambda:
              memory: 256
              memory: 512
          - lambda: {name: a, name: b}
        """)
    with pytest.raises(ConfigError) as caught:
        load_yaml(fdl)
    assert caught.value.problems == [
        "fdl.yaml:5: functions.aws[0].lambda.memory: key given twice (each key may appear once in a mapping)",
        "fdl.yaml:6: functions.aws[1].lambda.name: key given twice (each key may appear once in a mapping)",
    ]
    assert caught.value.exit_code == 2


def test_yaml_merge_keys_are_not_duplicates(write):
    fdl = write("fdl.yaml", """
        common: &common
          memory: 256
          timeout: 60
        fn:
          <<: *common
          memory: 512
        """)
    data, lines = load_yaml(fdl)
    assert data["fn"] == {"memory": 512, "timeout": 60}
    assert lines[("fn", "memory")] == 6


@pytest.mark.parametrize(("text", "expected"), [
    ("functions:\n  aws:\n  - lambda:\n      name: fn: x\n",
     "fdl.yaml:4: invalid YAML: mapping values are not allowed here"),
    ("a: [1, 2\nb: 3\n", "fdl.yaml:2: invalid YAML: expected ',' or ']', but got ':'"),
    ("a: *nowhere\n", "fdl.yaml:1: invalid YAML: found undefined alias 'nowhere'"),
    ("a: !!python/object:os.system x\n",
     "fdl.yaml:1: invalid YAML: could not determine a constructor for the tag "
     "'tag:yaml.org,2002:python/object:os.system'"),
])
def test_invalid_yaml_names_the_line(write, text, expected):
    fdl = Path("fdl.yaml")
    fdl.write_text(text, encoding="utf-8")
    with pytest.raises(BadInputError) as caught:
        load_yaml(fdl)
    assert caught.value.message == expected


def test_several_documents_are_invalid(write):
    fdl = write("fdl.yaml", "a: 1\n---\nb: 2\n")
    with pytest.raises(BadInputError) as caught:
        load_yaml(fdl)
    assert caught.value.message == "fdl.yaml:2: invalid YAML: but found another document"


def test_missing_file():
    with pytest.raises(BadInputError) as caught:
        load_yaml(Path("nothing.yaml"))
    assert caught.value.message == "nothing.yaml: no such file"


def test_file_that_is_not_utf8():
    fdl = Path("fdl.yaml")
    fdl.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(BadInputError) as caught:
        load_yaml(fdl)
    assert caught.value.message.startswith("fdl.yaml: cannot read the file (")


def test_empty_file_is_no_data(write):
    assert load_yaml(write("fdl.yaml", "")) == (None, {})
    assert load_yaml(write("comments.yaml", "# nothing\n")) == (None, {})
