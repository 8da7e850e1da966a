"""scar.cfg: where it is, its creation on first use, invalid content, and the upgrade of older versions."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from scar.config.cfgfile import config_path, load_config, upgrade_config, write_config
from scar.config.defaults import CONFIG_VERSION, DEFAULT_RUNTIME, LAMBDA_PYTHON_RUNTIMES, default_config
from scar.errors import BadInputError
from scar.version import __version__
from tests.unit.support import ROLE, errors


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def fdl(write) -> Path:
    return write("fdl.yaml", """
        functions:
          aws:
          - lambda:
              name: fn
              container:
                image: grycap/cowsay
        """)


# ---- location --------------------------------------------------------------------------------------


def test_default_location_is_home_dot_scar(isolated_env):
    assert config_path(None) == isolated_env / ".scar" / "scar.cfg"


def test_scar_config_folder_is_honoured(monkeypatch, tmp_path):
    monkeypatch.setenv("SCAR_CONFIG_FOLDER", str(tmp_path / "conf"))
    assert config_path(None) == tmp_path / "conf" / "scar.cfg"


def test_explicit_path_beats_the_folder_and_expands_the_home(monkeypatch, isolated_env, tmp_path):
    monkeypatch.setenv("SCAR_CONFIG_FOLDER", str(tmp_path / "conf"))
    assert config_path("~/my.cfg") == isolated_env / "my.cfg"
    assert config_path(str(tmp_path / "x.json")) == tmp_path / "x.json"


# ---- creation --------------------------------------------------------------------------------------


def test_first_use_creates_the_file_private_and_says_so_once(cfg_file):
    notices: list[str] = []
    data = load_config(cfg_file, notices.append)
    assert data == default_config()
    assert json.loads(cfg_file.read_text()) == default_config()
    assert mode(cfg_file) == 0o600
    assert mode(cfg_file.parent) == 0o700
    assert notices == [f"created the configuration file {cfg_file}; set aws.iam.role in it (or pass -r) "
                       "before deploying"]
    before = cfg_file.stat().st_mtime_ns
    assert load_config(cfg_file, notices.append) == default_config()
    assert len(notices) == 1
    assert cfg_file.stat().st_mtime_ns == before
    assert sorted(p.name for p in cfg_file.parent.iterdir()) == ["scar.cfg"]  # no temporary file, no backup


def test_write_config_makes_an_existing_file_private(tmp_path):
    folder = tmp_path / "conf"
    folder.mkdir()
    path = folder / "scar.cfg"
    path.write_text("{}")
    path.chmod(0o644)
    write_config(path, {"a": 1})
    assert mode(path) == 0o600
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in folder.iterdir()] == ["scar.cfg"]


def test_cli_creates_the_file_where_config_says(scar, fdl, isolated_env, tmp_path):
    target = tmp_path / "elsewhere" / "my.cfg"
    result = scar("validate", "-f", fdl, "--config", target, "-r", ROLE)
    assert result.code == 0, result.stderr
    assert result.stderr == f"scar: created the configuration file {target}; set aws.iam.role in it (or pass -r) " \
                            "before deploying\n"
    assert mode(target) == 0o600
    assert not (isolated_env / ".scar").exists()


def test_cli_honours_scar_config_folder(scar, fdl, isolated_env, tmp_path, monkeypatch):
    monkeypatch.setenv("SCAR_CONFIG_FOLDER", str(tmp_path / "conf"))
    result = scar("validate", "-f", fdl, "-r", ROLE)
    assert result.code == 0, result.stderr
    assert (tmp_path / "conf" / "scar.cfg").is_file()
    assert not (isolated_env / ".scar").exists()


def test_cli_uses_the_values_of_the_given_config(scar, fdl, write_cfg, tmp_path):
    target = write_cfg({"aws": {"iam": {"role": ROLE}, "lambda": {"memory": 2048}}}, tmp_path / "custom.cfg")
    result = scar("-j", "validate", "-f", fdl, "--config", target)
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["Functions"][0]["Memory"] == 2048


# ---- invalid content -------------------------------------------------------------------------------


def test_invalid_json_names_the_line(cfg_file):
    cfg_file.parent.mkdir()
    cfg_file.write_text('{\n  "aws": {\n    "region": ,\n  }\n}\n')
    with pytest.raises(BadInputError) as caught:
        load_config(cfg_file, pytest.fail)
    assert caught.value.message == f"{cfg_file}:3: invalid JSON: Expecting value"
    assert caught.value.exit_code == 2


def test_invalid_json_on_the_command_line(scar, fdl, cfg_file):
    cfg_file.parent.mkdir()
    cfg_file.write_text('{"aws": {"region": "us-east-1"}\n\n')
    result = scar("validate", "-f", fdl)
    assert result.code == 2
    assert errors(result.stderr) == [f"{cfg_file}:3: invalid JSON: Expecting ',' delimiter"]


@pytest.mark.parametrize("content", ["[]", '"text"', "3"])
def test_configuration_must_be_an_object(cfg_file, content):
    cfg_file.parent.mkdir()
    cfg_file.write_text(content)
    with pytest.raises(BadInputError) as caught:
        load_config(cfg_file, pytest.fail)
    assert caught.value.message == f"{cfg_file}: the configuration must be a JSON object"


def test_unreadable_bytes(cfg_file):
    cfg_file.parent.mkdir()
    cfg_file.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(BadInputError) as caught:
        load_config(cfg_file, pytest.fail)
    assert caught.value.message.startswith(f"{cfg_file}: cannot read the configuration file (")


@pytest.mark.parametrize("version", [CONFIG_VERSION, "99.0.0"])
def test_current_or_newer_versions_are_left_alone(cfg_file, version):
    content = {"scar": {"config_version": version}, "aws": {"lambda": {"memory": 1024}}}
    cfg_file.parent.mkdir()
    cfg_file.write_text(json.dumps(content))
    assert load_config(cfg_file, pytest.fail) == content
    assert not cfg_file.with_name("scar.cfg_old").exists()


# ---- upgrade ---------------------------------------------------------------------------------------


def original_1_1_0(region: str = "eu-west-1", profile: str = "work") -> dict:
    """A scar.cfg as the original SCAR (config_version 1.1.0) wrote it, with a few values of the user's."""
    sections = {"boto_profile": profile, "region": region}
    return {
        "scar": {"config_version": "1.1.0"},
        "oscar": {"my_oscar": {"endpoint": "", "auth_user": "", "auth_password": "", "ssl_verify": True,
                               "memory": "256Mi", "cpu": "0.2", "log_level": "INFO"}},
        "aws": {
            "iam": {"boto_profile": profile, "role": ROLE},
            "lambda": {
                **sections,
                "execution_mode": "lambda", "timeout": 300, "memory": 1024,
                "description": "Automatically generated lambda function", "runtime": "python3.7", "layers": [],
                "invocation_type": "RequestResponse", "asynchronous": False, "log_type": "Tail",
                "log_level": "INFO",
                "environment": {"Variables": {
                    "UDOCKER_BIN": "/opt/udocker/bin/", "UDOCKER_LIB": "/opt/udocker/lib/",
                    "UDOCKER_DIR": "/tmp/shared/udocker", "UDOCKER_EXEC": "/opt/udocker/udocker.py"}},
                "deployment": {"max_payload_size": 52428800, "max_s3_payload_size": 262144000},
                "container": {"environment": {"Variables": {}}, "timeout_threshold": 10},
                "supervisor": {"version": "latest", "layer_name": "faas-supervisor", "license_info": "Apache 2.0"},
            },
            "s3": {**sections, "event": {"Records": [{"eventSource": "aws:s3", "s3": {
                "bucket": {"name": "{bucket_name}", "arn": "arn:aws:s3:::{bucket_name}"},
                "object": {"key": "{file_key}"}}}]}},
            "api_gateway": {
                **sections,
                "endpoint": "https://{api_id}.execute-api.{api_region}.amazonaws.com/{stage_name}/launch",
                "request_parameters": {"integration.request.header.X-Amz-Invocation-Type":
                                       "method.request.header.X-Amz-Invocation-Type"},
                "http_method": "ANY",
                "method": {"authorizationType": "NONE",
                           "requestParameters": {"method.request.header.X-Amz-Invocation-Type": False}},
                "integration": {"type": "AWS_PROXY", "integrationHttpMethod": "POST",
                                "uri": "arn:aws:apigateway:{api_region}:lambda:path/2015-03-31/functions/"
                                       "arn:aws:lambda:{lambda_region}:{account_id}:function:{function_name}/"
                                       "invocations",
                                "requestParameters": {"integration.request.header.X-Amz-Invocation-Type":
                                                      "method.request.header.X-Amz-Invocation-Type"}},
                "path_part": "{proxy+}",
                "stage_name": "scar",
                "service_id": "apigateway.amazonaws.com",
                "source_arn_testing": "arn:aws:execute-api:{api_region}:{account_id}:{api_id}/*",
                "source_arn_invocation": "arn:aws:execute-api:{api_region}:{account_id}:{api_id}/{stage_name}/ANY",
            },
            "cloudwatch": {**sections, "log_retention_policy_in_days": 30},
            "batch": {
                "multi_node_parallel": {"enabled": False, "number_nodes": 10, "main_node_index": 0},
                **sections,
                "vcpus": 1, "memory": 1024, "enable_gpu": False, "state": "ENABLED", "type": "MANAGED",
                "environment": {"Variables": {}},
                "compute_resources": {
                    "security_group_ids": [], "type": "EC2", "desired_v_cpus": 0, "min_v_cpus": 0,
                    "max_v_cpus": 2, "subnets": [], "instance_types": ["m3.medium"],
                    "launch_template_name": "faas-supervisor",
                    "instance_role": "arn:aws:iam::{account_id}:instance-profile/ecsInstanceRole"},
                "service_role": "arn:aws:iam::{account_id}:role/service-role/AWSBatchServiceRole",
            },
        },
    }


def test_upgrade_of_an_original_config_keeps_the_user_values_and_then_validates(scar, fdl, cfg_file):
    cfg_file.parent.mkdir()
    original = json.dumps(original_1_1_0(), indent=4)
    cfg_file.write_text(original)
    cfg_file.chmod(0o644)

    result = scar("-j", "validate", "-f", fdl)

    assert result.code == 0, result.stderr
    backup = cfg_file.with_name("scar.cfg_old")
    assert result.stderr == (f"scar: upgraded {cfg_file} from config version 1.1.0 to {CONFIG_VERSION}, keeping "
                             f"your settings (the previous file is {backup})\n")
    assert backup.read_text() == original
    assert mode(backup) == 0o600
    assert mode(cfg_file) == 0o600
    new = json.loads(cfg_file.read_text())
    aws = new["aws"]
    assert new["scar"] == {"config_version": CONFIG_VERSION}
    # the user's values
    assert aws["lambda"]["memory"] == 1024
    assert aws["iam"] == {"role": ROLE}
    assert aws["region"] == "eu-west-1"
    assert aws["boto_profile"] == "work"
    # per-service settings are gone, so are scar's old constants
    for section in ("iam", "lambda", "api_gateway", "cloudwatch", "batch", "ecr"):
        assert "region" not in aws[section] and "boto_profile" not in aws[section], section
    assert "s3" not in aws
    assert aws["api_gateway"] == {"stage_name": "scar"}
    # old defaults become the new ones
    assert aws["lambda"]["runtime"] == DEFAULT_RUNTIME
    assert aws["lambda"]["runtime"] in LAMBDA_PYTHON_RUNTIMES
    assert aws["lambda"]["environment"] == {"Variables": {}}
    assert aws["lambda"]["supervisor"] == default_config()["aws"]["lambda"]["supervisor"]
    assert aws["batch"]["compute_resources"]["instance_types"] == ["optimal"]
    assert aws["lambda"]["ephemeral_storage"] == 512
    assert aws["lambda"]["architectures"] == ["x86_64"]
    assert aws["ecr"] == {"delete_image": True}
    assert new["oscar"] == default_config()["oscar"]
    # the whole file is the defaults plus exactly the user's changes
    expected = default_config()
    expected["aws"]["lambda"]["memory"] = 1024
    expected["aws"]["iam"]["role"] = ROLE
    expected["aws"]["region"] = "eu-west-1"
    expected["aws"]["boto_profile"] = "work"
    assert new == expected
    # and the upgraded file is used: the function gets the user's region and memory
    function = json.loads(result.stdout)["Functions"][0]
    assert (function["Region"], function["Memory"]) == ("eu-west-1", 1024)
    # a second run neither upgrades nor says anything
    again = scar("validate", "-f", fdl)
    assert (again.code, again.stderr) == (0, "")
    assert backup.read_text() == original


def test_upgrade_keeps_values_that_differ_from_the_old_defaults():
    old = original_1_1_0(region="us-east-1", profile="default")
    old["aws"]["lambda"]["runtime"] = "python3.12"
    old["aws"]["lambda"]["environment"]["Variables"]["MINE"] = "1"
    old["aws"]["lambda"]["supervisor"]["version"] = "1.5.0"
    old["aws"]["batch"]["compute_resources"]["instance_types"] = ["c5.large"]
    old["aws"]["cloudwatch"]["log_retention_policy_in_days"] = 7
    old["scar"]["udocker_info"] = {"zip_url": "x"}
    new = upgrade_config(old)
    assert new["aws"]["region"] == "us-east-1"
    assert "boto_profile" not in new["aws"]  # the "default" profile is no choice of the user's
    assert new["aws"]["lambda"]["runtime"] == "python3.12"
    assert new["aws"]["lambda"]["environment"]["Variables"] == {"MINE": "1"}
    assert new["aws"]["lambda"]["supervisor"]["version"] == "1.5.0"
    assert new["aws"]["batch"]["compute_resources"]["instance_types"] == ["c5.large"]
    assert new["aws"]["cloudwatch"]["log_retention_policy_in_days"] == 7
    assert new["scar"] == {"udocker_info": {"zip_url": "x"}, "config_version": CONFIG_VERSION}
    assert old["aws"]["lambda"]["region"] == "us-east-1"  # the input is not modified


def test_upgrade_takes_the_lambda_section_region_first_and_keeps_an_explicit_one():
    old = {"aws": {"batch": {"region": "eu-west-2"}, "lambda": {"region": "eu-west-1"}}}
    assert upgrade_config(old)["aws"]["region"] == "eu-west-1"
    old = {"aws": {"region": "ap-south-1", "lambda": {"region": "eu-west-1"}}}
    assert upgrade_config(old)["aws"]["region"] == "ap-south-1"


@pytest.mark.parametrize("content", [{}, {"scar": {}}, {"scar": {"config_version": "not a version"}}])
def test_a_config_without_a_usable_version_is_upgraded(cfg_file, content):
    cfg_file.parent.mkdir()
    cfg_file.write_text(json.dumps(content))
    notices: list[str] = []
    data = load_config(cfg_file, notices.append)
    assert data == default_config()
    assert json.loads(cfg_file.read_text()) == default_config()
    assert len(notices) == 1 and "from config version unknown to" in notices[0]
    assert json.loads(cfg_file.with_name("scar.cfg_old").read_text()) == content


# ---- an original supervisor version ----------------------------------------------------------------


TWO_FUNCTIONS = """
    functions:
      aws:
      - lambda: {name: fn1, container: {image: one}}
      - lambda: {name: fn2, container: {image: two}}
    """


@pytest.mark.parametrize("version", ["1.2.0-rc4", "1.5.0", "1.0.0"])
def test_an_original_supervisor_version_in_scar_cfg_deploys_the_builtin_one_and_says_so_once(
        load, write, cfg_file, version):
    old = original_1_1_0()
    old["aws"]["lambda"]["supervisor"]["version"] = version
    cfg_file.parent.mkdir(parents=True, exist_ok=True)
    cfg_file.write_text(json.dumps(old))
    write("fdl.yaml", TWO_FUNCTIONS)
    for _ in range(2):  # the upgrade run, and any later run
        notices: list[str] = []
        settings = load("-f", "fdl.yaml", notices=notices)
        assert [f.lambda_.supervisor.version for f in settings.functions] == ["builtin", "builtin"]
        said = [n for n in notices if "aws.lambda.supervisor.version" in n]
        assert said == [f"{cfg_file}: aws.lambda.supervisor.version {version!r} is the original SCAR's supervisor; "
                        "deploying scar's own (builtin) instead (set it to builtin to silence this)"]


@pytest.mark.parametrize("version", ["builtin", "latest", __version__])
def test_scar_s_own_supervisor_versions_in_scar_cfg_are_kept_silently(load, one_fdl, write_cfg, version):
    write_cfg({"aws": {"lambda": {"supervisor": {"version": version}}}})
    notices: list[str] = []
    assert load("-f", one_fdl, notices=notices).functions[0].lambda_.supervisor.version == version
    assert notices == []


def test_an_original_version_from_the_fdl_or_a_flag_is_kept_for_init_to_refuse(load, write, write_cfg):
    write_cfg({"aws": {"lambda": {"supervisor": {"version": "1.2.0-rc4"}}}})
    write("fdl.yaml", TWO_FUNCTIONS.replace("{image: one}}", "{image: one}, supervisor: {version: 1.3.0}}"))
    settings = load("-f", "fdl.yaml")
    assert [f.lambda_.supervisor.version for f in settings.functions] == ["1.3.0", "builtin"]
    assert load("-f", "fdl.yaml", "-n", "fn2", "-sv", "1.4.0").functions[0].lambda_.supervisor.version == "1.4.0"


@pytest.fixture
def one_fdl(write) -> Path:
    return write("one.yaml", TWO_FUNCTIONS.split("      - lambda: {name: fn2")[0])
