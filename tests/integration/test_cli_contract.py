"""The CLI contract: help and version without configuration or boto3, exit codes, errors on stderr,
one JSON document with -j, and where region, profile, endpoint and credentials come from."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import scar.cli.commands.ls as ls_command
from scar.version import __version__


def run_module(*argv: str) -> subprocess.CompletedProcess[str]:
    """`python -m scar ARGV` in a fresh interpreter, with this test's environment."""
    return subprocess.run([sys.executable, "-m", "scar", *argv], capture_output=True, text=True, timeout=60)


NO_BOTO = (
    "import sys\n"
    "from scar.cli.main import main\n"
    "code = main(sys.argv[1:])\n"
    "heavy = sorted(m for m in ('boto3', 'botocore', 'yaml', 's3transfer', 'tabulate') if m in sys.modules)\n"
    "print('HEAVY=' + ','.join(heavy), file=sys.stderr)\n"
    "sys.exit(code)\n"
)


@pytest.mark.parametrize("argv, expected_code", [
    (["--help"], 0),
    (["--version"], 0),
    (["put", "--help"], 0),
    (["validate", "--help"], 0),
    (["put", "-b", "x"], 2),  # usage error: -p missing
    ([], 2),  # no command
])
def test_help_version_and_usage_errors_need_no_config_and_no_boto3(argv, expected_code, isolated_env):
    process = subprocess.run([sys.executable, "-c", NO_BOTO, *argv], capture_output=True, text=True, timeout=60)
    assert process.returncode == expected_code, process.stderr
    assert "HEAVY=\n" in process.stderr
    assert not (isolated_env / ".scar").exists()
    assert "Traceback" not in process.stderr


def test_version_text():
    process = run_module("--version")
    assert process.stdout.strip() == f"scar {__version__}"


def test_usage_error_names_the_flag():
    process = run_module("put", "-b", "bucket-name")
    assert process.returncode == 2
    assert "the following arguments are required: -p/--path" in process.stderr


def test_python_m_scar_and_console_script_agree():
    script = Path(sys.executable).with_name("scar")
    assert script.is_file(), "the scar console script is installed beside the interpreter"
    for command in ([str(script), "ls", "--help"], [sys.executable, "-m", "scar", "ls", "--help"]):
        process = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert process.returncode == 0, process.stderr
        assert "-b BUCKET[/FOLDER], --bucket BUCKET[/FOLDER]" in process.stdout


def test_first_use_creates_private_config_with_one_notice(scar, cloud, isolated_env):
    result = scar("ls", "-b", "some-bucket-x")
    config = isolated_env / ".scar" / "scar.cfg"
    assert config.is_file()
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    notices = [line for line in result.stderr.splitlines() if "created the configuration file" in line]
    assert notices == [f"scar: created the configuration file {config}; set aws.iam.role in it (or pass -r) "
                       "before deploying"]
    assert "created the configuration file" not in scar("ls", "-b", "some-bucket-x").stderr


def test_config_location_flag_and_env(scar, cloud, tmp_path, monkeypatch, s3):
    s3.create_bucket(Bucket="cfg-bucket")
    explicit = tmp_path / "elsewhere" / "my.cfg"
    assert scar("--config", explicit, "ls", "-b", "cfg-bucket").code == 0
    assert explicit.is_file()
    monkeypatch.setenv("SCAR_CONFIG_FOLDER", str(tmp_path / "folder"))
    assert scar("ls", "-b", "cfg-bucket").code == 0
    assert (tmp_path / "folder" / "scar.cfg").is_file()


def test_missing_credentials_is_bad_input(scar, cloud, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = scar("ls", "-b", "any-bucket")
    assert result.code == 2
    assert result.stderr.splitlines()[-1].startswith("scar: error: no AWS credentials found:")


def test_unknown_profile_is_bad_input(scar, cloud):
    result = scar("--profile", "nobody", "ls", "-b", "any-bucket")
    assert result.code == 2
    assert "the AWS profile 'nobody' is not defined" in result.stderr


def test_profile_credentials_are_used(scar, cloud, monkeypatch, isolated_env, s3):
    s3.create_bucket(Bucket="profile-bucket")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    (isolated_env / "aws-credentials").write_text(
        "[research]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret\n")
    assert scar("ls", "-b", "profile-bucket").code == 2  # no default credentials
    assert scar("ls", "-b", "profile-bucket", "-pf", "research").code == 0
    monkeypatch.setenv("AWS_PROFILE", "research")
    assert scar("ls", "-b", "profile-bucket").code == 0


@pytest.mark.parametrize("flags, env, expected", [
    ([], {}, "us-east-1"),  # AWS_DEFAULT_REGION from the cloud fixture
    ([], {"AWS_REGION": "eu-west-1"}, "eu-west-1"),
    (["--region", "ap-south-1"], {"AWS_REGION": "eu-west-1"}, "ap-south-1"),
])
def test_region_precedence(scar, s3, tmp_path, monkeypatch, flags, env, expected):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "f").write_text("x")
    assert scar(*flags, "put", "-b", "region-bucket", "-p", tmp_path / "f").code == 0
    location = s3.get_bucket_location(Bucket="region-bucket")["LocationConstraint"]
    assert (location or "us-east-1") == expected


def test_region_from_scar_cfg(scar, s3, tmp_path, monkeypatch, isolated_env):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    config = isolated_env / ".scar" / "scar.cfg"
    scar("--version")
    assert scar("ls", "-b", "whatever-bucket").code == 1  # creates scar.cfg
    data = json.loads(config.read_text())
    data["aws"]["region"] = "eu-central-1"
    config.write_text(json.dumps(data))
    (tmp_path / "f").write_text("x")
    assert scar("put", "-b", "cfg-region-bucket", "-p", tmp_path / "f").code == 0
    assert s3.get_bucket_location(Bucket="cfg-region-bucket")["LocationConstraint"] == "eu-central-1"


def test_unknown_region_is_bad_input(scar, cloud):
    result = scar("--region", "mars-north-1", "ls", "-b", "any-bucket")
    assert result.code == 2
    assert result.stderr.splitlines()[-1] == (
        "scar: error: command line: --region: 'mars-north-1' must be an AWS region (for example us-east-1, eu-west-1)")


def test_endpoint_url_flag_and_service_variable(scar, cloud, monkeypatch, s3):
    s3.create_bucket(Bucket="endpoint-bucket")
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    assert scar("--endpoint-url", cloud, "ls", "-b", "endpoint-bucket").code == 0
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", cloud)
    assert scar("ls", "-b", "endpoint-bucket").code == 0


def test_unreachable_endpoint_is_a_one_line_failure(scar, cloud):
    result = scar("--endpoint-url", "http://127.0.0.1:9", "ls", "-b", "any-bucket")
    assert result.code == 1
    assert result.stderr.splitlines()[-1].startswith("scar: error: cannot reach AWS:")
    assert "Traceback" not in result.stderr


def test_global_options_after_the_command(scar, s3):
    s3.create_bucket(Bucket="late-bucket")
    document = json.loads(scar("ls", "-b", "late-bucket", "-j").stdout)
    assert document == {"Bucket": "late-bucket", "Prefix": "", "Objects": []}


def test_interrupt_exits_130(scar, cloud, monkeypatch):
    def interrupted(args, ctx):
        raise KeyboardInterrupt

    monkeypatch.setattr(ls_command, "run", interrupted)  # stands in for Ctrl-C in the middle of a command
    result = scar("ls", "-b", "any-bucket")
    assert result.code == 130
    assert result.stderr.splitlines()[-1] == "scar: error: interrupted"


def test_unexpected_error_is_one_line_and_debug_shows_traceback(scar, cloud, monkeypatch):
    def broken(args, ctx):
        raise RuntimeError("boom")

    monkeypatch.setattr(ls_command, "run", broken)  # a bug in a handler
    result = scar("ls", "-b", "any-bucket")
    assert result.code == 1
    assert result.stderr.strip() == "scar: error: unexpected RuntimeError: boom (run with --debug for the traceback)"
    debug = scar("--debug", "ls", "-b", "any-bucket")
    assert "Traceback (most recent call last)" in debug.stderr


def test_json_mode_error_is_one_document(scar, cloud, tmp_path):
    result = scar("-j", "put", "-b", "json-err-bucket", "-p", tmp_path / "missing")
    assert result.code == 2
    document = json.loads(result.stdout)
    assert document["Error"]["ExitCode"] == 2
    assert document["Error"]["Type"] == "BadInputError"


def test_secrets_are_never_printed(scar, cloud, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "super-secret-value-123")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSHOULDNOTSHOW")
    (tmp_path / "f").write_text("x")
    for argv in (("put", "-b", "secret-bucket", "-p", tmp_path / "f", "-v"),
                 ("--debug", "ls", "-b", "secret-bucket", "-j"),
                 ("get", "-b", "secret-bucket", "-p", tmp_path / "d", "-v")):
        result = scar(*argv)
        assert result.code == 0, result.stderr
        for text in (result.stdout, result.stderr):
            assert "super-secret-value-123" not in text
            assert "AKIDSHOULDNOTSHOW" not in text


def test_output_is_plain_when_not_a_terminal(scar, cloud, tmp_path):
    (tmp_path / "f").write_bytes(b"x" * 1000)
    result = scar("put", "-b", "bar-bucket", "-p", tmp_path / "f")
    assert "\r" not in result.stderr and "%|" not in result.stderr  # no progress bar in a pipe


def test_path_with_tilde_expands(scar, cloud, isolated_env):
    (Path(isolated_env) / "home-file.txt").write_text("hi")
    result = scar("put", "-b", "tilde-bucket", "-p", "~/home-file.txt")
    assert result.code == 0, result.stderr


def test_debug_log_shows_requests_but_no_credentials(cloud, s3, monkeypatch):
    s3.create_bucket(Bucket="debug-bucket")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIADEBUGSHOULDHIDE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "debug-secret-value")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "debug-session-token-value")
    process = run_module("--debug", "ls", "-b", "debug-bucket")
    assert process.returncode == 0, process.stderr
    assert "ListObjectsV2" in process.stderr  # botocore's request log is there
    for secret in ("AKIADEBUGSHOULDHIDE", "debug-secret-value", "debug-session-token-value"):
        assert secret not in process.stderr + process.stdout
