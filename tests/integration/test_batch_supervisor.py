"""The supervisor's AWS Batch paths against moto: the Lambda handler of a `batch` function submits a job
carrying the event (checked through DescribeJobs); the job's entry point, run on this machine from the
artifact scar uploaded (its SHA-256 checked as the instances check it) with exactly the environment the job
receives, writes the output to moto's S3; `lambda-batch` hands over a run that outlives the time left
without uploading anything, and keeps a run that fits."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from scar.supervisor import entry
from scar.supervisor.config import FunctionConfig
from scar.supervisor.response import RequestInfo
from tests.integration.batch_support import batch_fdl, create_batch_roles, network
from tests.integration.conftest import write_fdl
from tests.integration.test_supervisor_storage import notification, objects

COPY = "#!/bin/sh\nset -e\ncp \"$INPUT_FILE_PATH\" \"$TMP_OUTPUT_DIR/copy.txt\"\necho copied $STORAGE_OBJECT_KEY\n"
IO = """
      input: [{storage_provider: s3, path: in-bucket/input}]
      output: [{storage_provider: s3, path: out-bucket/output}]
"""


def deploy(scar, deploy_env: str, tmp_path: Path, name: str, mode: str = "batch", extra: str = IO) -> None:
    create_batch_roles(deploy_env)
    (tmp_path / "script.sh").write_text(COPY)
    subnets, groups = network(deploy_env)
    result = scar("init", "-f", write_fdl(tmp_path, batch_fdl(name, subnets, groups, extra, mode=mode)))
    assert result.code == 0, result.stderr


def definition_environment(aws, name: str) -> dict[str, str]:
    definition = aws("batch").describe_job_definitions(jobDefinitionName=name, status="ACTIVE")["jobDefinitions"][0]
    return {item["name"]: item["value"] for item in definition["containerProperties"]["environment"]}


def job_id_of(answer: dict) -> str:
    assert answer["statusCode"] == 200, answer
    text = base64.b64decode(answer["body"]).decode()
    found = re.search(r"Job delegated to AWS Batch: (\S+)", text)
    assert found, text
    assert answer["headers"]["amz-batch-job-id"] == found.group(1)
    return found.group(1)


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch):
    """Lambda's view: the deployed configuration in FUNCTION_CONFIG, a fresh (cold) supervisor."""

    def call(aws, name: str, event: dict) -> dict:
        monkeypatch.setenv("FUNCTION_CONFIG", definition_environment(aws, name)["FUNCTION_CONFIG"])
        monkeypatch.setattr(entry, "_warm", None)
        context = SimpleNamespace(aws_request_id="lambda-req-1", log_group_name="/aws/lambda/x",
                                  log_stream_name="s", get_remaining_time_in_millis=lambda: 300_000)
        return entry.lambda_handler(event, context)

    return call


def test_a_batch_function_submits_every_event_as_a_job(scar, aws, deploy_env, tmp_path, handler):
    deploy(scar, deploy_env, tmp_path, "subfn")
    event = notification("input/data.txt")
    job_id = job_id_of(handler(aws, "subfn", event))
    job, = aws("batch").describe_jobs(jobs=[job_id])["jobs"]
    assert job["jobName"] == "subfn"
    assert job["jobQueue"].endswith(":job-queue/subfn")
    assert re.search(r":job-definition/subfn:1$", job["jobDefinition"]), job["jobDefinition"]
    variables = {item["name"]: item["value"] for item in job["container"]["environment"]}
    assert json.loads(variables["EVENT"]) == event
    assert variables["AWS_LAMBDA_REQUEST_ID"] == "lambda-req-1"
    assert "FUNCTION_CONFIG" in variables  # the definition's own environment, merged by Batch


def test_the_job_entry_point_runs_the_event_from_the_jobs_environment(scar, aws, s3, deploy_env, tmp_path,
                                                                      handler):
    deploy(scar, deploy_env, tmp_path, "jobfn")
    s3.create_bucket(Bucket="in-bucket")
    s3.create_bucket(Bucket="out-bucket")
    s3.put_object(Bucket="in-bucket", Key="input/data.txt", Body=b"from the job")
    job_id = job_id_of(handler(aws, "jobfn", notification("input/data.txt")))
    job, = aws("batch").describe_jobs(jobs=[job_id])["jobs"]
    variables = {item["name"]: item["value"] for item in job["container"]["environment"]}

    # install the artifact as the instances' user data does: the pinned SHA-256 must match
    ec2 = aws("ec2")
    version, = ec2.describe_launch_template_versions(LaunchTemplateName="faas-supervisor-jobfn")[
        "LaunchTemplateVersions"]
    user_data = base64.b64decode(version["LaunchTemplateData"]["UserData"]).decode()
    bucket, key = re.search(r"s3://([^/]+)/(\S+)", user_data).groups()
    artifact = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert re.search(r"([0-9a-f]{64})  /opt/scar-supervisor/supervisor.zip", user_data).group(1) \
        == hashlib.sha256(artifact).hexdigest()
    installed = tmp_path / "opt-scar-supervisor"
    zipfile.ZipFile(io.BytesIO(artifact)).extractall(installed)

    # the job's environment, with the volume where this machine has it and the emulator's endpoint
    assert variables["PYTHONPATH"] == "/opt/scar-supervisor/python"
    environment = {**variables, "PYTHONPATH": str(installed / "python"), "PATH": os.environ["PATH"],
                   "HOME": str(tmp_path), "AWS_BATCH_JOB_ID": job_id,
                   **{k: v for k, v in os.environ.items() if k.startswith("AWS_")}}
    done = subprocess.run([sys.executable, "-m", "scar.supervisor.batch"], env=environment, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["statusCode"] == 200
    assert str(installed) in subprocess.run(  # the supervisor that ran is the installed artifact's
        [sys.executable, "-c", "import scar.supervisor.batch as b; print(b.__file__)"], env=environment,
        capture_output=True, text=True, check=True).stdout
    assert objects(s3, "out-bucket") == {"output/copy.txt": b"from the job"}
    assert "copied input/data.txt" in done.stderr


def lambda_batch_supervisor(aws, name: str, tmp_path: Path):
    config = FunctionConfig.from_dict(json.loads(base64.b64decode(
        definition_environment(aws, name)["FUNCTION_CONFIG"])), tmp_path)
    (tmp_path / "script.sh").write_text(COPY)
    supervisor = entry.build_supervisor(config, "direct")
    supervisor.delegate = entry._delegate(config)
    return config, supervisor


SLOW = "#!/bin/sh\nsleep 4\necho late > \"$TMP_OUTPUT_DIR/late.txt\"\n"
QUICK = "#!/bin/sh\necho quick > \"$TMP_OUTPUT_DIR/quick.txt\"\n"


def test_lambda_batch_hands_a_run_that_outlives_the_threshold_to_batch(scar, aws, s3, deploy_env, tmp_path):
    deploy(scar, deploy_env, tmp_path, "lbfn", mode="lambda-batch")
    s3.create_bucket(Bucket="out-bucket")
    config, supervisor = lambda_batch_supervisor(aws, "lbfn", tmp_path)
    event = {"script": base64.b64encode(SLOW.encode()).decode()}
    deadline = time.monotonic() + config.timeout_threshold + 1  # one second left for the container
    started = time.monotonic()
    answer = supervisor.handle(event, RequestInfo("lb-1"), deadline)
    assert time.monotonic() - started < 4  # stopped at the deadline, not run to its end
    job, = aws("batch").describe_jobs(jobs=[job_id_of(answer)])["jobs"]
    variables = {item["name"]: item["value"] for item in job["container"]["environment"]}
    assert json.loads(variables["EVENT"]) == event
    assert objects(s3, "out-bucket") == {}  # uploaded once, by the job, never by Lambda as well

    fits = supervisor.handle({"script": base64.b64encode(QUICK.encode()).decode()}, RequestInfo("lb-2"),
                             time.monotonic() + config.timeout_threshold + 30)
    assert fits["statusCode"] == 200 and b"delegated" not in base64.b64decode(fits["body"])
    assert objects(s3, "out-bucket") == {"output/quick.txt": b"quick\n"}
    assert len(all_jobs(aws, "lbfn")) == 1  # only the run that did not fit


def all_jobs(aws, queue: str) -> list[dict]:
    batch = aws("batch")
    return [job for status in ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")
            for job in batch.list_jobs(jobQueue=queue, jobStatus=status)["jobSummaryList"]]


PER_RECORD = """#!/bin/sh
case "$STORAGE_OBJECT_KEY" in *slow*) sleep 4;; esac
cp "$INPUT_FILE_PATH" "$TMP_OUTPUT_DIR/$(basename "$INPUT_FILE_PATH")"
"""


def test_lambda_batch_hands_over_only_the_records_not_run_yet(scar, aws, s3, deploy_env, tmp_path):
    deploy(scar, deploy_env, tmp_path, "recfn", mode="lambda-batch")
    for bucket in ("in-bucket", "out-bucket"):
        s3.create_bucket(Bucket=bucket)
    for key in ("input/fast.txt", "input/slow.txt"):
        s3.put_object(Bucket="in-bucket", Key=key, Body=key.encode())
    config, supervisor = lambda_batch_supervisor(aws, "recfn", tmp_path)
    (tmp_path / "script.sh").write_text(PER_RECORD)
    event = notification("input/fast.txt", "input/slow.txt")
    answer = supervisor.handle(event, RequestInfo("rec-1"), time.monotonic() + config.timeout_threshold + 2)
    job, = aws("batch").describe_jobs(jobs=[job_id_of(answer)])["jobs"]
    variables = {item["name"]: item["value"] for item in job["container"]["environment"]}
    assert json.loads(variables["EVENT"]) == {"Records": [event["Records"][1]]}
    assert objects(s3, "out-bucket") == {"output/fast.txt": b"input/fast.txt"}
