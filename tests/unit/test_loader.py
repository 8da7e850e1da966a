"""load_settings: function selection, layer precedence, regions and profiles, deployment requirements."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scar.cli.parser import build_parser
from scar.config.defaults import CONFIG_VERSION
from scar.config.loader import load_settings
from scar.errors import BadInputError, ConfigError
from tests.unit.support import ROLE, dedent, errors

ROLE_FDL = f'iam: {{role: "{ROLE}"}}'

TWO_FUNCTIONS = f"""
    functions:
      aws:
      - {ROLE_FDL}
        lambda:
          name: fn1
          memory: 64
          container: {{image: one}}
      - {ROLE_FDL}
        lambda:
          name: fn2
          container: {{image: two}}
      oscar:
      - other: {{name: svc, image: x, script: script.sh, endpoint: "https://o"}}
    """

ONE_FUNCTION = dedent("""
    functions:
      aws:
      - lambda:
          name: fn1
          container: {image: one}
    """)


@pytest.fixture
def two(write) -> Path:
    write("script.sh", "echo")
    return write("fdl.yaml", TWO_FUNCTIONS)


@pytest.fixture
def one(write) -> Path:
    return write("fdl.yaml", ONE_FUNCTION)


# ---- selection with -n ----------------------------------------------------------------------------------


def test_without_name_every_function_and_service_is_loaded(load, write):
    write("script.sh", "echo")
    write("fdl.yaml", TWO_FUNCTIONS.replace("memory: 64", "memory: 256"))
    settings = load("-f", "fdl.yaml")
    assert [f.name for f in settings.functions] == ["fn1", "fn2"]
    assert [s.name for s in settings.oscar_services] == ["svc"]
    assert settings.fdl_file == Path.cwd().resolve() / "fdl.yaml"


def test_name_selects_one_function_and_only_it_is_validated(load, two):
    settings = load("-f", two, "-n", "fn2", "-m", "1024")
    assert [(f.name, f.lambda_.memory) for f in settings.functions] == [("fn2", 1024)]
    assert settings.oscar_services == ()  # fn1 (memory 64) and the OSCAR service are not looked at


def test_flags_apply_to_the_selected_function_with_its_key_paths(scar, two):
    result = scar("validate", "-f", two, "-n", "fn2", "-m", "64", "-ll", "chatty")
    assert result.code == 2
    assert errors(result.stderr) == [
        "command line: -m/--memory: 64 must be from 128 to 10240 MB",
        "command line: -ll/--log-level: 'chatty' must be one of: DEBUG, INFO, WARNING, ERROR, CRITICAL",
    ]


def test_problems_of_the_selected_function_name_its_index(scar, two):
    result = scar("validate", "-f", two, "-n", "fn1")
    assert result.code == 2
    assert errors(result.stderr) == ["fdl.yaml:6: functions.aws[0].lambda.memory: 64 must be from 128 to 10240 MB"]


def test_name_renames_the_only_function(load, one):
    settings = load("-f", one, "-n", "renamed", "-r", ROLE)
    assert [f.name for f in settings.functions] == ["renamed"]


def test_a_bad_name_from_the_command_line_is_reported_as_such(scar, one):
    result = scar("validate", "-f", one, "-n", "bad name", "-r", ROLE)
    assert result.code == 2
    assert errors(result.stderr) == [
        "command line: -n/--name: 'bad name' must be 1 to 64 letters, digits, hyphens or underscores"]


def test_unknown_name_among_several_functions_lists_the_names(scar, two):
    result = scar("validate", "-f", two, "-n", "nope")
    assert result.code == 2
    assert errors(result.stderr) == [
        "command line: -n/--name: fdl.yaml defines no function named 'nope' (it defines: fn1, fn2)"]


def test_function_flags_without_name_on_several_functions_is_an_error(scar, two):
    result = scar("validate", "-f", two, "-t", "60", "-m", "1024", "-e", "A=1")
    assert result.code == 2
    assert errors(result.stderr) == [
        "command line: -e/--environment, -m/--memory, -t/--timeout: fdl.yaml defines 2 functions (fn1, fn2); "
        "choose the one these flags apply to with -n NAME"]
    assert result.stdout == ""


def test_function_flags_without_name_apply_to_the_only_function(load, one):
    settings = load("-f", one, "-m", "2048", "-r", ROLE)
    assert [(f.name, f.lambda_.memory, f.iam.role) for f in settings.functions] == [("fn1", 2048, ROLE)]


def test_function_flags_with_only_oscar_services_is_an_error(load, write):
    write("fdl.yaml", "functions:\n  oscar:\n  - other: {name: svc, image: x, script: s.sh}\n")
    with pytest.raises(BadInputError) as caught:
        load("-f", "fdl.yaml", "-m", "1024")
    assert caught.value.message == ("command line: -m/--memory: fdl.yaml defines no AWS function for these flags to "
                                    "apply to")


# ---- precedence ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cfg", "fdl", "cli", "expected"), [
    (None, None, None, 512),
    (1024, None, None, 1024),
    (1024, 2048, None, 2048),
    (1024, 2048, 4096, 4096),
    (None, None, 4096, 4096),
    (1024, None, 4096, 4096),
])
def test_memory_cli_beats_fdl_beats_scar_cfg_beats_defaults(load, write, write_cfg, cfg, fdl, cli, expected):
    write_cfg({"aws": {"lambda": {"memory": cfg}, "iam": {"role": ROLE}}})
    memory = f"\n      memory: {fdl}" if fdl else ""
    write("fdl.yaml", ONE_FUNCTION.replace("name: fn1", f"name: fn1{memory}"))
    argv = ["-m", str(cli)] if cli else []
    assert load("-f", "fdl.yaml", *argv).functions[0].lambda_.memory == expected


def test_lists_from_a_higher_layer_replace_the_lower_ones(load, write, write_cfg):
    layer = "arn:aws:lambda:us-east-1:123456789012:layer:{}:1"
    write_cfg({"aws": {"lambda": {"layers": [layer.format("cfg1"), layer.format("cfg2")]}}})
    write("fdl.yaml", ONE_FUNCTION.replace("name: fn1", f"name: fn1\n      layers: [{layer.format('fdl')}]"))
    assert load("-f", "fdl.yaml").functions[0].lambda_.layers == [layer.format("fdl")]
    assert load("-f", "fdl.yaml", "-l", layer.format("cli")).functions[0].lambda_.layers == [layer.format("cli")]


def test_environment_variables_merge_across_layers(load, write, write_cfg):
    write_cfg({"aws": {"lambda": {"environment": {"Variables": {"A": "cfg", "B": "cfg"}}}}})
    write("fdl.yaml", ONE_FUNCTION.replace(
        "name: fn1", "name: fn1\n      environment: {Variables: {B: fdl, C: fdl}}"))
    variables = load("-f", "fdl.yaml", "-le", "C=cli", "-le", "D=cli").functions[0].lambda_.environment.variables
    assert variables == {"A": "cfg", "B": "fdl", "C": "cli", "D": "cli"}


def test_region_from_every_layer(load, write, write_cfg, monkeypatch):
    write_cfg({"aws": {"region": "eu-west-3", "iam": {"role": ROLE}}})
    write("fdl.yaml", ONE_FUNCTION.replace("  - lambda:", "  - region: eu-west-2\n    lambda:"))

    def region(*argv: str) -> str:
        return load("-f", "fdl.yaml", *argv).functions[0].region

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_REGION", "eu-north-1")
    assert region("--region", "ap-south-1") == "ap-south-1"
    assert region() == "eu-west-2"  # the FDL's region beats the environment, as a Terraform provider's does
    write("fdl.yaml", ONE_FUNCTION)
    assert region() == "eu-north-1"
    monkeypatch.delenv("AWS_REGION")
    assert region() == "eu-central-1"
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert region() == "eu-west-3"
    write_cfg({"aws": {"iam": {"role": ROLE}}})
    assert region() == "us-east-1"  # the built-in default


def test_the_fdl_region_is_where_the_function_goes_even_with_aws_default_region(load, write, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    write("fdl.yaml", ONE_FUNCTION.replace("  - lambda:", "  - region: eu-west-1\n    lambda:"))
    settings = load("-f", "fdl.yaml")
    assert (settings.region, settings.functions[0].region) == ("us-east-1", "eu-west-1")


def test_region_given_before_the_command_counts_too(load, one, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-north-1")
    args = build_parser().parse_args(["--region", "sa-east-1", "validate", "-f", str(one)])
    settings = load_settings(args, [].append)
    assert (settings.region, settings.functions[0].region) == ("sa-east-1", "sa-east-1")


def test_profile_from_every_layer(load, write, write_cfg, monkeypatch):
    write_cfg({"aws": {"boto_profile": "from-cfg"}})
    write("fdl.yaml", ONE_FUNCTION.replace("  - lambda:", "  - boto_profile: from-fdl\n    lambda:"))
    monkeypatch.setenv("AWS_PROFILE", "from-env")
    settings = load("-f", "fdl.yaml", "-pf", "from-cli")
    assert (settings.profile, settings.functions[0].boto_profile) == ("from-cli", "from-cli")
    settings = load("-f", "fdl.yaml")
    assert (settings.profile, settings.functions[0].boto_profile) == ("from-env", "from-env")
    monkeypatch.delenv("AWS_PROFILE")
    settings = load("-f", "fdl.yaml")
    assert (settings.profile, settings.functions[0].boto_profile) == ("from-cfg", "from-fdl")


def test_per_section_region_in_the_fdl_is_the_function_region(load, write):
    write("fdl.yaml", ONE_FUNCTION.replace("name: fn1", "name: fn1\n      region: eu-west-1")
          + "    batch: {region: eu-west-1}\n")
    assert load("-f", "fdl.yaml").functions[0].region == "eu-west-1"


def test_per_section_region_and_profile_in_a_hand_written_scar_cfg(load, one, cfg_file):
    cfg_file.parent.mkdir()
    cfg_file.write_text(json.dumps({"scar": {"config_version": CONFIG_VERSION}, "aws": {
        "lambda": {"region": "eu-west-1", "boto_profile": "old"},
        "cloudwatch": {"region": "eu-west-1"}, "s3": {"region": "eu-west-1"}}}))
    function = load("-f", one).functions[0]
    assert (function.region, function.boto_profile) == ("eu-west-1", "old")


def test_two_sections_with_different_regions_is_an_error(scar, write):
    write("fdl.yaml", ONE_FUNCTION.replace("name: fn1", "name: fn1\n      region: eu-west-1")
          + "    batch:\n      region: us-east-1\n")
    result = scar("validate", "-f", "fdl.yaml", "-r", ROLE)
    assert result.code == 2
    assert errors(result.stderr) == [
        "fdl.yaml:5: functions.aws[0].lambda.region: sections give different values (eu-west-1, us-east-1); a "
        "function's services share one region: set it once, at the function level"]


def test_a_section_region_that_differs_from_the_function_region_is_an_error(scar, write):
    write("fdl.yaml", ONE_FUNCTION.replace("  - lambda:", "  - region: eu-west-2\n    lambda:")
          + "    batch: {boto_profile: a}\n    ecr: {boto_profile: b}\n    cloudwatch: {region: eu-west-1}\n")
    result = scar("validate", "-f", "fdl.yaml", "-r", ROLE)
    assert result.code == 2
    assert errors(result.stderr) == [
        "fdl.yaml:3: functions.aws[0].region: sections give different values (eu-west-1, eu-west-2); a function's "
        "services share one region: set it once, at the function level",
        "fdl.yaml:7: functions.aws[0].batch.boto_profile: sections give different values (a, b); a function's "
        "services share one boto_profile: set it once, at the function level"]


def test_different_section_regions_in_scar_cfg_are_an_error(scar, one, write_cfg):
    cfg = write_cfg({"aws": {"lambda": {"region": "eu-west-1"}, "batch": {"region": "eu-west-2"}}})
    result = scar("validate", "-f", one, "-r", ROLE)
    assert result.code == 2
    assert errors(result.stderr) == [
        f"{cfg}: aws.region: sections give different values (eu-west-1, eu-west-2, us-east-1); a "
        "function's services share one region: set it once, at the function level"]


@pytest.mark.parametrize(("variable", "shown"), [("AWS_REGION", "environment: AWS_REGION"),
                                                 ("AWS_DEFAULT_REGION", "environment: AWS_DEFAULT_REGION")])
def test_a_bad_region_names_its_source(scar, one, monkeypatch, variable, shown):
    monkeypatch.setenv(variable, "moon-1")
    result = scar("validate", "-f", one, "-r", ROLE)
    assert result.code == 2
    assert errors(result.stderr) == [f"{shown}: 'moon-1' must be an AWS region (for example us-east-1, eu-west-1)"]
    result = scar("validate", "-f", one, "-r", ROLE, "--region", "mars-2")
    assert errors(result.stderr) == [  # every value is checked, the one used or not
        "command line: --region: 'mars-2' must be an AWS region (for example us-east-1, eu-west-1)",
        f"{shown}: 'moon-1' must be an AWS region (for example us-east-1, eu-west-1)"]


def test_a_bad_fdl_region_fails_validate_whatever_the_environment(scar, write, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    fdl = write("fdl.yaml", ONE_FUNCTION.replace("  - lambda:", "  - region: mars-1\n    lambda:"))
    result = scar("validate", "-f", fdl, "-r", ROLE)
    assert result.code == 2
    assert errors(result.stderr) == [f"{fdl}:3: functions.aws[0].region: 'mars-1' must be an AWS region "
                                     "(for example us-east-1, eu-west-1)"]


@pytest.mark.parametrize("key", [("region",), ("lambda", "region")])
def test_a_bad_scar_cfg_region_is_reported_even_when_the_fdl_sets_one(scar, write, write_cfg, key):
    section = {"iam": {"role": ROLE}}
    (section.setdefault(key[0], {}) if len(key) > 1 else section)[key[-1]] = "venus-3"
    cfg = write_cfg({"aws": section})
    fdl = write("fdl.yaml", ONE_FUNCTION.replace("  - lambda:", "  - region: eu-west-1\n    lambda:"))
    result = scar("validate", "-f", fdl)
    assert result.code == 2
    assert f"{cfg}: aws.{'.'.join(key)}: 'venus-3' must be an AWS region (for example us-east-1, eu-west-1)" in \
        errors(result.stderr)
    without_fdl = scar("ls")
    assert (without_fdl.code, errors(without_fdl.stderr)) == (2, [
        f"{cfg}: aws.{'.'.join(key)}: 'venus-3' must be an AWS region (for example us-east-1, eu-west-1)"])


def test_a_bad_region_without_an_fdl_names_its_source(scar, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "pluto-9")
    result = scar("ls")
    assert result.code == 2
    assert errors(result.stderr) == ["environment: AWS_REGION: 'pluto-9' must be an AWS region (for example "
                                     "us-east-1, eu-west-1)"]


# ---- scar.cfg problems ----------------------------------------------------------------------------------


def test_scar_cfg_problems_name_the_file_and_key(scar, one, write_cfg):
    cfg = write_cfg({"aws": {"lambda": {"memory": 64, "memroy": 1}, "iam": {"role": "bad"}}})
    result = scar("validate", "-f", one)
    assert result.code == 2
    assert errors(result.stderr) == [
        f"{cfg}: aws.lambda.memroy: unknown key (did you mean 'memory'?)",
        f"{cfg}: aws.lambda.memory: 64 must be from 128 to 10240 MB",
        f"{cfg}: aws.iam.role: 'bad' must be an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)",
    ]


def test_a_valid_fdl_value_hides_an_invalid_scar_cfg_value(load, write, write_cfg):
    write_cfg({"aws": {"lambda": {"memory": 64}}})
    write("fdl.yaml", ONE_FUNCTION.replace("name: fn1", "name: fn1\n      memory: 256"))
    assert load("-f", "fdl.yaml").functions[0].lambda_.memory == 256


# ---- deployment -----------------------------------------------------------------------------------------


def test_deploying_requires_an_iam_role(load, one, cfg_file):
    assert load("-f", one).functions[0].iam.role is None
    with pytest.raises(ConfigError) as caught:
        load("-f", one, deploying=True)
    assert caught.value.problems == [
        f"{cfg_file}: aws.iam.role: is required to deploy: set aws.iam.role in scar.cfg or iam.role in the FDL, or "
        "pass -r ARN (see docs/configuration.md for the role's policy)"]
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("where", ["cli", "fdl", "cfg"])
def test_a_role_from_any_layer_is_enough_to_deploy(load, write, write_cfg, where):
    write_cfg({"aws": {"iam": {"role": ROLE if where == "cfg" else ""}}})
    fdl = ONE_FUNCTION.replace("  - lambda:", f"  - {ROLE_FDL}\n    lambda:") if where == "fdl" else ONE_FUNCTION
    write("fdl.yaml", fdl)
    argv = ["-r", ROLE] if where == "cli" else []
    assert load("-f", "fdl.yaml", *argv, deploying=True).functions[0].iam.role == ROLE


def test_the_first_run_notice_goes_through_the_notice_function(load, one, cfg_file):
    notices: list[str] = []
    load("-f", one, notices=notices)
    load("-f", one, notices=notices)
    assert notices == [f"created the configuration file {cfg_file}; set aws.iam.role in it (or pass -r) before "
                       "deploying"]


# ---- storage providers ----------------------------------------------------------------------------------


def test_storage_provider_references(load, write):
    write("fdl.yaml", """
        functions:
          aws:
          - lambda:
              name: fn1
              container: {image: one}
              input:
              - {storage_provider: s3, path: bucket-a}
              - {storage_provider: s3.mine, path: bucket-b/in}
              output:
              - {storage_provider: minio.store, path: bucket-c}
              - {storage_provider: onedata.od, path: bucket-d}
              - {storage_provider: minio, path: bucket-e}
        storage_providers:
          s3:
            mine: {access_key: AK, secret_key: SK, region: eu-west-1}
          minio:
            store: {endpoint: "https://minio.example.com", verify: false}
          onedata:
            od: {oneprovider_host: host, token: tok, space: sp}
        """)
    settings = load("-f", "fdl.yaml")
    assert [io.storage_provider for io in settings.functions[0].lambda_.output] == ["minio.store", "onedata.od",
                                                                                    "minio"]
    assert settings.storage_providers.s3["mine"].secret_key == "SK"
    assert settings.storage_providers.minio["store"].verify is False
    assert "SK" not in repr(settings.storage_providers) and "tok" not in repr(settings.storage_providers)


def test_storage_provider_references_to_nothing(scar, write):
    write("fdl.yaml", f"""
        functions:
          aws:
          - {ROLE_FDL}
            lambda:
              name: fn1
              container: {{image: one}}
              input:
              - {{storage_provider: onedata.gone, path: bucket-a}}
              output:
              - {{storage_provider: minio.mine, path: bucket-b}}
        storage_providers:
          s3:
            mine: {{}}
        """)
    result = scar("validate", "-f", "fdl.yaml")
    assert result.code == 2
    assert errors(result.stderr) == [
        "fdl.yaml:8: functions.aws[0].lambda.input[0].storage_provider: 'onedata.gone' is not defined in "
        "storage_providers",
        "fdl.yaml:10: functions.aws[0].lambda.output[0].storage_provider: 'minio.mine' is not defined in "
        "storage_providers",
    ]


# ---- commands without an FDL ------------------------------------------------------------------------------


def test_without_fdl_only_the_region_is_checked(monkeypatch, cfg_file):
    args = build_parser().parse_args(["ls", "-b", "bucket", "--endpoint-url", "http://localhost:1"])
    settings = load_settings(args, [].append)
    assert (settings.region, settings.profile, settings.endpoint_url) == ("us-east-1", None, "http://localhost:1")
    assert settings.config_file == cfg_file
    assert (settings.fdl_file, settings.functions) == (None, ())
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert load_settings(args, [].append).region == "eu-west-1"


def test_without_fdl_a_bad_region_is_an_error(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "nowhere-1")
    with pytest.raises(BadInputError) as caught:
        load_settings(build_parser().parse_args(["ls", "-b", "bucket"]), [].append)
    assert caught.value.message == ("environment: AWS_REGION: 'nowhere-1' must be an AWS region (for example "
                                    "us-east-1, eu-west-1)")


def test_without_fdl_and_without_any_region_is_an_error(write_cfg):
    write_cfg({"aws": {"region": ""}})
    with pytest.raises(BadInputError) as caught:
        load_settings(build_parser().parse_args(["ls", "-b", "bucket"]), [].append)
    assert caught.value.message == "no AWS region: pass --region, set AWS_REGION, or set aws.region in scar.cfg"
