"""`scar doctor` against moto: credentials, region, the role (exists, trusts Lambda), permissions (moto has no
iam:SimulatePrincipalPolicy, so doctor must say it cannot tell), buckets, udocker's engine, the sandbox;
one line per check, one JSON document with -j, exit 1 when a check fails."""

from __future__ import annotations

import json

import boto3

from tests.conftest import REGION
from tests.integration.conftest import write_fdl
from tests.integration.lifecycle_support import ROLE


def _checks(result) -> dict[str, dict[str, str]]:
    return {c["Name"]: c for c in json.loads(result.stdout)["Checks"]}


def _set_role(home, role: str) -> None:
    config = home / ".scar" / "scar.cfg"
    data = json.loads(config.read_text())
    data["aws"]["iam"]["role"] = role
    config.write_text(json.dumps(data))


def test_a_ready_setup_passes_with_one_line_per_check(scar, deploy_env):
    result = scar("doctor")
    assert result.code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"✓ region: {REGION}"
    assert lines[1].startswith("✓ credentials: arn:aws:")
    assert lines[2] == f"✓ role: {ROLE} exists and trusts lambda.amazonaws.com"
    assert lines[3].startswith("? permissions: cannot tell whether you may call the ")
    assert lines[4].startswith("✓ udocker engine: ") and "(the local copy scar.cfg names)" in lines[4]
    assert lines[5].startswith(("✓ local sandbox: ", "! local sandbox: "))
    assert len(lines) == 6


def test_json_is_one_document(scar, deploy_env):
    result = scar("-j", "doctor")
    document = json.loads(result.stdout)
    assert document["Ok"] is True
    assert [c["Name"] for c in document["Checks"]] == [
        "region", "credentials", "role", "permissions", "udocker engine", "local sandbox"]
    assert set(document["Checks"][0]) == {"Name", "Status", "Detail", "Fix"}


def test_a_missing_role_fails_with_the_fix(scar, deploy_env, isolated_env):
    missing = "arn:aws:iam::123456789012:role/no-such-role"
    _set_role(isolated_env, missing)
    result = scar("doctor")
    assert result.code == 1
    assert (f"✗ role: {missing} does not exist → fix: create it: docs/functions.md#before-the-first-deployment"
            in result.stdout.splitlines())
    result = scar("-j", "doctor")
    assert result.code == 1
    assert json.loads(result.stdout)["Ok"] is False
    assert _checks(result)["role"]["Status"] == "fail"


def test_a_role_lambda_cannot_assume_fails(scar, deploy_env, isolated_env):
    iam = boto3.client("iam", endpoint_url=deploy_env, region_name=REGION)
    arn = iam.create_role(RoleName="ec2-only", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    _set_role(isolated_env, arn)
    result = scar("-j", "doctor")
    assert result.code == 1
    role = _checks(result)["role"]
    assert role["Detail"] == f"{arn} does not trust lambda.amazonaws.com"
    assert "trust policy" in role["Fix"]


def test_no_role_configured_fails(scar, cloud):
    result = scar("-j", "doctor")
    assert result.code == 1
    role = _checks(result)["role"]
    assert role["Status"] == "fail" and "aws.iam.role" in role["Fix"]


def test_an_fdl_adds_its_buckets_and_roles(scar, deploy_env, tmp_path, aws):
    aws("s3").create_bucket(Bucket="doctor-in")
    fdl = write_fdl(tmp_path, """
        functions:
          aws:
          - lambda:
              name: doctor-fn
              container: {image: busybox}
              input: [{storage_provider: s3, path: doctor-in/files}]
              output: [{storage_provider: s3, path: doctor-out/results}]
        """)
    result = scar("-j", "doctor", "-f", fdl)
    assert result.code == 0, result.stdout
    checks = _checks(result)
    assert checks["input bucket"]["Detail"] == "doctor-in exists and you may use it"
    assert checks["output bucket"]["Detail"] == "doctor-out does not exist yet: scar init creates it"


def test_no_credentials_fail_and_skip_the_aws_checks(scar, cloud, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = scar("-j", "doctor")
    assert result.code == 1
    checks = _checks(result)
    assert checks["credentials"]["Status"] == "fail"
    assert "no AWS credentials found" in checks["credentials"]["Detail"]
    assert "role" not in checks


def test_a_wrong_engine_digest_fails(scar, deploy_env, isolated_env):
    config = isolated_env / ".scar" / "scar.cfg"
    data = json.loads(config.read_text())
    data["aws"]["lambda"]["supervisor"]["udocker_engine"]["sha256"] = "0" * 64
    config.write_text(json.dumps(data))
    result = scar("-j", "doctor")
    assert result.code == 1
    engine = _checks(result)["udocker engine"]
    assert engine["Status"] == "fail" and "0" * 64 in engine["Detail"]
