"""The pure parts of scar's AWS Batch support: the bounded waiters (on a botocore Stubber: moto makes every
environment VALID at once, so it cannot show an INVALID one or one that never settles), the user data that
pins the artifact's SHA-256, the 24 KB check, and the supervisor's submit parameters."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from scar.aws import batch_waiters
from scar.aws.batch_spec import JOB_DEFINITION_LIMIT, check_definition_size, user_data
from scar.errors import AwsError, BadInputError
from scar.supervisor.batch import MAX_EVENT, BatchError, job_overrides
from scar.supervisor.config import FunctionConfig


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
    document = base64.b64decode(user_data("my bucket", "scar-batch/fn/supervisor-x.zip", digest, "eu-west-1")).decode()
    lines = document.splitlines()
    copy = next(i for i, line in enumerate(lines) if line.startswith("aws s3 cp"))
    check = next(i for i, line in enumerate(lines) if "sha256sum -c -" in line)
    unpack = next(i for i, line in enumerate(lines) if "zipfile -e" in line)
    assert copy < check < unpack and "set -euo pipefail" in lines  # a failed check stops the script
    assert "'s3://my bucket/scar-batch/fn/supervisor-x.zip'" in lines[copy]  # quoted for the shell
    assert f"{digest}  /opt/scar-supervisor/supervisor.zip" in lines[check]
    assert "Content-Type: text/x-shellscript" in document


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
