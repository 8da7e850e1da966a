"""The pure parts of scar doctor's checks. moto has no iam:SimulatePrincipalPolicy, so the permission check's
answers are given by botocore's Stubber on a real IAM client (the one place a stand-in is needed)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from scar.cli import doctor
from scar.config.specs import UdockerEngineSpec

USER = "arn:aws:iam::123456789012:user/alice"


@pytest.fixture
def iam():
    client = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber


def _results(*pairs: tuple[str, str]) -> dict:
    return {"EvaluationResults": [{"EvalActionName": a, "EvalDecision": d} for a, d in pairs], "IsTruncated": False}


def test_denied_actions_fail_and_are_named(iam):
    client, stubber = iam
    stubber.add_response("simulate_principal_policy",
                         _results(("lambda:CreateFunction", "allowed"), ("iam:PassRole", "implicitDeny")),
                         {"PolicySourceArn": USER, "ActionNames": ["lambda:CreateFunction", "iam:PassRole"]})
    check = doctor.check_permissions(client, USER, ["lambda:CreateFunction", "iam:PassRole"])
    assert (check.status, check.detail) == ("fail", f"{USER} may not call iam:PassRole")
    assert "policy" in check.fix


def test_all_allowed_is_ok(iam):
    client, stubber = iam
    stubber.add_response("simulate_principal_policy", _results(("s3:PutObject", "allowed")))
    assert doctor.check_permissions(client, USER, ["s3:PutObject"]).status == "ok"


def test_simulation_not_allowed_means_cannot_tell(iam):
    client, stubber = iam
    stubber.add_client_error("simulate_principal_policy", "AccessDenied", "not authorized", 403)
    check = doctor.check_permissions(client, USER, ["s3:PutObject"])
    assert check.status == "unknown"
    assert "you may not call iam:SimulatePrincipalPolicy" in check.detail


def test_an_assumed_role_is_simulated_as_its_role(iam):
    client, stubber = iam
    role = "arn:aws:iam::123456789012:role/deployer"
    stubber.add_response("simulate_principal_policy", _results(("s3:PutObject", "allowed")),
                         {"PolicySourceArn": role, "ActionNames": ["s3:PutObject"]})
    check = doctor.check_permissions(client, "arn:aws:sts::123456789012:assumed-role/deployer/session-1",
                                     ["s3:PutObject"])
    assert check.status == "ok"


def test_root_is_a_warning_without_a_call(iam):
    client, _ = iam  # no stubbed answer: a call would fail the test
    assert doctor.check_permissions(client, "arn:aws:iam::123456789012:root", ["s3:PutObject"]).status == "warn"


@pytest.mark.parametrize("document, trusted", [
    ({"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                     "Action": "sts:AssumeRole"}]}, True),
    ({"Statement": [{"Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]},
                     "Action": ["sts:AssumeRole"]}]}, True),
    ("%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22lambda."
     "amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D", True),  # URL-encoded, as IAM sends
    ({"Statement": [{"Effect": "Deny", "Principal": {"Service": "lambda.amazonaws.com"},
                     "Action": "sts:AssumeRole"}]}, False),
    ({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "sts:AssumeRole"}]},
     False),
    ({"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                     "Action": "sts:TagSession"}]}, False),
])
def test_trust_policy(document, trusted):
    assert doctor.trusts_lambda(document) is trusted


def test_needed_actions_follow_the_fdl():
    from scar.config.specs import ApiGatewaySpec, FunctionSpec, LambdaSpec, StorageIOSpec

    plain = FunctionSpec(region="us-east-1", lambda_=LambdaSpec(name="f"))
    assert "s3:PutBucketNotification" not in doctor.needed_actions([plain], False)
    wired = FunctionSpec(region="us-east-1", api_gateway=ApiGatewaySpec(name="api"), lambda_=LambdaSpec(
        name="f", runtime="image", input=[StorageIOSpec("s3", "b/in")]))
    actions = doctor.needed_actions([wired], True)
    for action in ("s3:PutBucketNotification", "apigateway:POST", "ecr:PutImage", "ssm:PutParameter"):
        assert action in actions
    assert len(actions) == len(set(actions))


def test_engine_file_and_cache(tmp_path):
    tarball = tmp_path / "englib.tar.gz"
    tarball.write_bytes(b"engine")
    assert doctor.check_engine(UdockerEngineSpec(file=tarball), lambda url, sha: None).status == "ok"
    assert doctor.check_engine(UdockerEngineSpec(file=tmp_path / "gone"), lambda url, sha: None).status == "fail"
    assert doctor.check_engine(UdockerEngineSpec(), lambda url, sha: tarball).status == "ok"
    assert doctor.check_engine(UdockerEngineSpec(), lambda url, sha: None).status == "warn"


def test_no_sandbox_is_a_warning_with_the_fix():
    check = doctor.check_sandbox([])
    assert check.status == "warn" and "bubblewrap" in check.fix
    assert check.line().startswith("! local sandbox: ")


def test_cached_engine_is_found_only_when_it_verifies(tmp_path):
    import hashlib

    from scar.package.udocker_engine import cached_engine

    url = "https://example.org/englib.tar.gz"
    digest = hashlib.sha256(b"engine").hexdigest()
    assert cached_engine(url, digest, tmp_path) is None
    (tmp_path / digest).write_bytes(b"engine")
    assert cached_engine(url, digest, tmp_path) == tmp_path / digest
    assert cached_engine(url, None, tmp_path) is None  # unpinned: only through the pointer of a download
    (tmp_path / f"{hashlib.sha256(url.encode()).hexdigest()}.url").write_text(digest)
    assert cached_engine(url, None, tmp_path) == tmp_path / digest
    (tmp_path / digest).write_bytes(b"tampered")
    assert cached_engine(url, digest, tmp_path) is None
