"""The pure parts of scar's AWS Batch support: the bounded waiters (on a botocore Stubber: moto makes every
environment VALID at once, so it cannot show an INVALID one or one that never settles), the user data that
pins the artifact's SHA-256 (its lines run with bash: a tampered artifact is refused, modes end up safe), the
instance types' architectures, the 24 KB check, and the supervisor's submit parameters."""

from __future__ import annotations

import base64
import hashlib
import io
import stat
import subprocess
import tarfile
import time
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from scar.aws import batch_waiters
from scar.aws.batch_spec import JOB_DEFINITION_LIMIT, check_definition_size, job_role_arn, user_data
from scar.errors import AwsError, BadInputError
from scar.package.instance_types import instance_architecture, mismatched
from scar.supervisor.batch import MAX_EVENT, BatchError, job_overrides
from scar.supervisor.config import FunctionConfig
from tests.integration.user_data_support import install_locally, user_data_script


def stubbed(*statuses: dict) -> tuple[object, Stubber]:
    client = boto3.client("batch", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    for status in statuses:
        stub.add_response("describe_compute_environments", {"computeEnvironments": [
            {"computeEnvironmentName": "fn", "computeEnvironmentArn": "arn:x", "status": status["status"],
             **({"statusReason": status["reason"]} if "reason" in status else {})}]},
            {"computeEnvironments": ["fn"]})
    stub.activate()
    return client, stub


def test_an_invalid_environment_fails_at_once_with_batchs_reason():
    client, stub = stubbed({"status": "CREATING"}, {"status": "INVALID", "reason": "no such subnet"})
    with pytest.raises(AwsError, match=r"fn: cannot become VALID \(no such subnet\)"):
        batch_waiters.wait(client, "ComputeEnvironmentValid", "fn", delay=0, timeout=10)
    stub.assert_no_pending_responses()


def test_a_wait_is_bounded_by_its_timeout():
    client, stub = stubbed(*[{"status": "CREATING"}] * 3)
    started = time.monotonic()
    with pytest.raises(AwsError, match="fn: still not VALID after 3 s"):
        batch_waiters.wait(client, "ComputeEnvironmentValid", "fn", delay=1, timeout=3)
    assert 1.5 < time.monotonic() - started < 10  # three polls with a delay between them: no busy loop
    stub.assert_no_pending_responses()


def test_a_valid_environment_ends_the_wait():
    client, stub = stubbed({"status": "CREATING"}, {"status": "VALID"})
    batch_waiters.wait(client, "ComputeEnvironmentValid", "fn", delay=0, timeout=10)
    stub.assert_no_pending_responses()


def test_the_user_data_checks_the_pinned_digest_before_unpacking():
    digest = "ab" * 32
    document = base64.b64decode(user_data("my bucket", "scar-batch/fn/supervisor-x.tar.gz", digest,
                                          "eu-west-1")).decode()
    lines = document.splitlines()
    copy = next(i for i, line in enumerate(lines) if line.startswith("aws s3 cp"))
    check = next(i for i, line in enumerate(lines) if "sha256sum --check --strict -" in line)
    unpack = next(i for i, line in enumerate(lines) if line.startswith("tar -xzf"))
    assert copy < check < unpack and "set -euo pipefail" in lines  # a failed check stops the script
    assert "'s3://my bucket/scar-batch/fn/supervisor-x.tar.gz'" in lines[copy]  # quoted for the shell
    assert lines[check] == f'echo "{digest}  $archive" | sha256sum --check --strict -'
    assert "archive=/opt/scar-supervisor.tar.gz" in lines and "target=/opt/scar" in lines
    assert "Content-Type: text/x-shellscript" in document
    script = user_data_script(user_data("b", "k", digest, "eu-west-1"))
    assert subprocess.run(["bash", "-n", "-c", script], check=False).returncode == 0  # valid bash


def artifact(*entries: tuple[str, int, bytes]) -> bytes:
    """A tar.gz of (name, mode, content) files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, mode, content in entries:
            info = tarfile.TarInfo(name)
            info.mode, info.size = mode, len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def test_the_user_data_unpacks_the_pinned_artifact_with_safe_modes(tmp_path):
    """The user data's own lines run with bash (but the download, see user_data_support), no Python needed."""
    data = artifact(("python/bin/python3", 0o4775, b"\x7fELF"), ("site/scar/__init__.py", 0o600, b""))
    script = user_data("b", "k", hashlib.sha256(data).hexdigest(), "eu-west-1")
    done = install_locally(script, data, tmp_path / "a.tar.gz", tmp_path / "scar")
    assert done.returncode == 0, done.stderr
    modes = {path.relative_to(tmp_path / "scar").as_posix(): stat.S_IMODE(path.stat().st_mode)
             for path in (tmp_path / "scar").rglob("*") if path.is_file()}
    assert modes == {"python/bin/python3": 0o755, "site/scar/__init__.py": 0o644}  # no setuid, a+rX, go-w
    assert not (tmp_path / "a.tar.gz").exists()


def test_the_user_data_refuses_a_tampered_artifact(tmp_path):
    data = artifact(("site/x.py", 0o644, b"print(1)"))
    script = user_data("b", "k", hashlib.sha256(data).hexdigest(), "eu-west-1")
    tampered = artifact(("site/x.py", 0o644, b"print(2)"))
    done = install_locally(script, tampered, tmp_path / "a.tar.gz", tmp_path / "scar")
    assert done.returncode != 0 and "FAILED" in done.stdout + done.stderr
    assert not (tmp_path / "scar").exists()  # the check comes before anything is unpacked


def test_a_definition_over_24_kb_is_refused_naming_the_limit():
    check_definition_size("fn", {"containerProperties": {"command": ["x" * (JOB_DEFINITION_LIMIT - 200)]}})
    with pytest.raises(BadInputError, match=r"AWS Batch allows 24576 bytes \(24 KB\) per job definition"):
        check_definition_size("fn", {"containerProperties": {"command": ["x" * JOB_DEFINITION_LIMIT]}})


def config(**batch: object) -> FunctionConfig:
    return FunctionConfig.from_dict({"name": "fn", "batch": batch}, Path("."))


def test_a_single_node_job_carries_the_event_in_its_container_overrides():
    params = job_overrides(config(job_queue="q", job_definition="d"), {"a": 1}, "req")
    assert params == {"jobName": "fn", "jobQueue": "q", "jobDefinition": "d", "containerOverrides": {
        "environment": [{"name": "EVENT", "value": '{"a": 1}'}, {"name": "AWS_LAMBDA_REQUEST_ID", "value": "req"}]}}


def test_an_event_too_large_for_a_job_or_no_queue_is_refused():
    with pytest.raises(BatchError, match="names no AWS Batch job queue"):
        job_overrides(config(), {}, "req")
    with pytest.raises(BatchError, match=f"at most {MAX_EVENT} bytes"):
        job_overrides(config(job_queue="q", job_definition="d"), {"big": "x" * MAX_EVENT}, "req")


@pytest.mark.parametrize(("instance_type", "architecture"), [
    ("optimal", "amd64"), ("default_x86_64", "amd64"), ("default_arm64", "arm64"), ("m7i", "amd64"),
    ("c7i-flex.large", "amd64"), ("g5", "amd64"), ("g4dn.xlarge", "amd64"), ("p5", "amd64"), ("m7g", "arm64"),
    ("c6gn.medium", "arm64"), ("r8gd", "arm64"), ("x2gd", "arm64"), ("im4gn", "arm64"), ("g5g.xlarge", "arm64"),
    ("t4g.nano", "arm64"), ("a1", "arm64"), ("hpc7g", "arm64"),
])
def test_instance_types_are_told_apart_by_architecture(instance_type, architecture):
    assert instance_architecture(instance_type) == architecture
    assert mismatched([instance_type, "m7i" if architecture == "arm64" else "m7g"], architecture) == [
        "m7i" if architecture == "arm64" else "m7g"]


@pytest.mark.parametrize(("role", "partition", "expected"), [
    ("scar-jobs", "aws", "arn:aws:iam::123456789012:role/scar-jobs"),
    ("scar-jobs", "aws-cn", "arn:aws-cn:iam::123456789012:role/scar-jobs"),
    ("arn:aws-us-gov:iam::{account_id}:role/p/jobs", "aws-us-gov", "arn:aws-us-gov:iam::123456789012:role/p/jobs"),
    ("arn:aws:iam::210987654321:role/other", "aws", "arn:aws:iam::210987654321:role/other"),
])
def test_the_job_role_is_an_arn_in_the_account_and_partition(role, partition, expected):
    assert job_role_arn(role, "123456789012", partition) == expected
