"""Function-level command-line flags mapped onto FDL keys (the top configuration layer)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scar.cli.parser import build_parser
from scar.config.origin import flag_origin
from scar.config.overrides import FUNCTION_FLAGS, function_overrides
from scar.errors import BadInputError
from tests.unit.support import ROLE, errors


def overrides_of(*argv: str):
    return function_overrides(build_parser().parse_args(["validate", "-f", "fdl.yaml", *argv]))


def test_no_function_flag_means_no_override():
    overrides = overrides_of()
    assert not overrides
    assert overrides.values == {} and overrides.flag_names() == []


def test_name_is_not_an_override():
    assert not overrides_of("-n", "fn")


def test_each_flag_lands_on_its_fdl_key():
    overrides = overrides_of(
        "-m", "1024", "-t", "60", "-tt", "5", "-d", "desc", "-ll", "debug", "-em", "lambda-batch", "-r", ROLE,
        "-sv", "1.5.0", "-rt", "python3.12", "--architecture", "arm64", "-es", "1024", "-bm", "2048", "-bc", "0.5",
        "-g", "-i", "grycap/cowsay", "-db", "deploy-bucket", "-ph", "-api", "gw",
    )
    assert overrides.values == {
        "lambda": {
            "memory": 1024, "timeout": 60, "description": "desc", "log_level": "debug",
            "execution_mode": "lambda-batch", "runtime": "python3.12", "architectures": ["arm64"],
            "ephemeral_storage": 1024, "preheat": True,
            "container": {"timeout_threshold": 5, "image": "grycap/cowsay"},
            "supervisor": {"version": "1.5.0"},
            "deployment": {"bucket": "deploy-bucket"},
        },
        "iam": {"role": ROLE},
        "batch": {"memory": 2048, "vcpus": 0.5, "enable_gpu": True},
        "api_gateway": {"name": "gw"},
    }
    assert overrides.flags[("lambda", "memory")] == "-m/--memory"
    assert overrides.flags[("batch", "enable_gpu")] == "-g/--enable-gpu"


def test_every_flag_of_the_table_exists_in_the_parser():
    parser = build_parser()
    validate = parser._subparsers._group_actions[0].choices["validate"]
    dests = {action.dest for action in validate._actions}
    assert set(FUNCTION_FLAGS) <= dests


def test_buckets_become_s3_inputs_and_outputs():
    overrides = overrides_of("-ib", "in-bucket/folder", "-ob", "out-bucket")
    assert overrides.values == {"lambda": {
        "input": [{"storage_provider": "s3", "path": "in-bucket/folder"}],
        "output": [{"storage_provider": "s3", "path": "out-bucket"}],
    }}
    assert overrides.origin_of(("lambda", "input", 0, "path")) == flag_origin("-ib/--input-bucket")


def test_layers_accumulate():
    assert overrides_of("-l", "arn:1", "-l", "arn:2").values == {"lambda": {"layers": ["arn:1", "arn:2"]}}


def test_environment_assignments_split_on_the_first_equals_sign():
    overrides = overrides_of("-e", "A=B=C", "-e", "EMPTY=", "-le", "X=1")
    assert overrides.values == {"lambda": {
        "container": {"environment": {"Variables": {"A": "B=C", "EMPTY": ""}}},
        "environment": {"Variables": {"X": "1"}},
    }}


@pytest.mark.parametrize(("flag", "text", "shown"), [
    ("-e", "FOO", "-e/--environment"),
    ("-e", "=value", "-e/--environment"),
    ("-le", "BAR", "-le/--lambda-environment"),
])
def test_an_assignment_without_a_name_or_equals_sign_is_bad_input(flag, text, shown):
    with pytest.raises(BadInputError) as caught:
        overrides_of(flag, text)
    assert caught.value.message == f"command line: {shown}: {text!r} must be NAME=VALUE"


def test_local_paths_expand_the_home_but_stay_relative(isolated_env):
    overrides = overrides_of("-s", "~/init.sh", "-ep", "payload", "-if", "image.tar")
    assert overrides.values == {"lambda": {
        "init_script": str(isolated_env / "init.sh"),
        "extra_payload": "payload",
        "container": {"image_file": "image.tar"},
    }}


def test_origin_of_a_path_below_a_flag_is_that_flag_and_is_relative_to_the_cwd():
    overrides = overrides_of("-e", "A=1")
    found = overrides.origin_of(("lambda", "container", "environment", "Variables", "A"))
    assert found.describe() == "command line: -e/--environment"
    assert found.folder == Path.cwd()
    assert overrides.origin_of(("lambda", "memory")).describe() == "command line: command line"


# ---- through the CLI ---------------------------------------------------------------------------------


@pytest.fixture
def fdl(write) -> Path:
    return write("fdl.yaml", f"""
        functions:
          aws:
          - iam: {{role: "{ROLE}"}}
            lambda:
              name: fn
              container:
                image: grycap/cowsay
                environment:
                  Variables:
                    FROM_FDL: "1"
        """)


def test_cli_environment_keeps_everything_after_the_first_equals_sign_and_merges_with_the_fdl(load, fdl):
    settings = load("-f", fdl, "-e", "A=B=C", "-e", "FROM_FDL=2")
    assert settings.functions[0].lambda_.container.environment.variables == {"FROM_FDL": "2", "A": "B=C"}


def test_cli_environment_without_equals_sign_exits_2(scar, fdl):
    result = scar("validate", "-f", fdl, "-e", "FOO")
    assert result.code == 2
    assert errors(result.stderr) == ["command line: -e/--environment: 'FOO' must be NAME=VALUE"]
    assert result.stdout == ""
