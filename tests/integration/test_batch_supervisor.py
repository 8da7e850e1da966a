"""The supervisor's AWS Batch paths against moto: the Lambda handler of a `batch` function submits a job
carrying the event (checked through DescribeJobs); the job's command, run in the sandbox on an image without
Python, from the artifact scar uploaded (installed by the user data's own lines, which refuse it tampered with)
with exactly the environment the job receives, writes the output to moto's S3; `lambda-batch` hands over a run
that outlives the time left without uploading anything, and keeps a run that fits."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from devtools.images import REPO_TAG, static_busybox
from scar.supervisor import entry
from scar.supervisor.config import FunctionConfig
from scar.supervisor.image import extract_image
from scar.supervisor.response import RequestInfo
from scar.supervisor.sandbox import Bind, run_in_rootfs
from tests.integration.batch_support import batch_fdl, create_batch_roles, network
from tests.integration.conftest import write_fdl
from tests.integration.test_supervisor_storage import notification, objects
from tests.integration.user_data_support import install_locally, user_data_script

#: every Batch init builds the supervisor's Python runtime (batch_runtime.py), which needs patchelf
pytestmark = pytest.mark.skipif(shutil.which("patchelf") is None, reason="patchelf is needed "
                                "(scripts/install-system-deps.sh)")

BUSYBOX = REPO_TAG
COPY = "#!/bin/sh\nset -e\ncp \"$INPUT_FILE_PATH\" \"$TMP_OUTPUT_DIR/copy.txt\"\necho copied $STORAGE_OBJECT_KEY\n"
IO = """
      input: [{storage_provider: s3, path: in-bucket/input}]
      output: [{storage_provider: s3, path: out-bucket/output}]
"""


def deploy(scar, deploy_env: str, tmp_path: Path, name: str, mode: str = "batch", extra: str = IO,
           image: str = "python:3.12-slim") -> None:
    create_batch_roles(deploy_env)
    (tmp_path / "script.sh").write_text(COPY)
    subnets, groups = network(deploy_env)
    result = scar("init", "-f", write_fdl(tmp_path, batch_fdl(name, subnets, groups, extra, mode=mode, image=image)))
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


@pytest.mark.skipif(shutil.which("bwrap") is None or static_busybox() is None,
                    reason="bubblewrap and busybox-static are needed (scripts/install-system-deps.sh)")
def test_the_job_runs_on_an_image_without_python_from_the_installed_artifact(scar, aws, s3, deploy_env, tmp_path,
                                                                           handler, base_image):
    """The key proof that a job needs nothing of its image: the definition's command runs in the sandbox on a
    busybox image (no Python, no libc), with the artifact installed by the user data's own lines and mounted
    where the definition mounts it, and exactly the environment the job receives."""
    deploy(scar, deploy_env, tmp_path, "jobfn", image=BUSYBOX)
    s3.create_bucket(Bucket="in-bucket")
    s3.create_bucket(Bucket="out-bucket")
    s3.put_object(Bucket="in-bucket", Key="input/data.txt", Body=b"from the job")
    job_id = job_id_of(handler(aws, "jobfn", notification("input/data.txt")))
    job, = aws("batch").describe_jobs(jobs=[job_id])["jobs"]
    definition, = aws("batch").describe_job_definitions(jobDefinitionName="jobfn", status="ACTIVE")["jobDefinitions"]
    container = definition["containerProperties"]
    assert container["image"] == BUSYBOX

    # the instance: the artifact the user data names (read here: its `aws s3 cp` line cannot run offline),
    # refused when tampered with, else installed by the user data's other lines, run as they are
    version, = aws("ec2").describe_launch_template_versions(LaunchTemplateName="faas-supervisor-jobfn")[
        "LaunchTemplateVersions"]
    user_data = version["LaunchTemplateData"]["UserData"]
    bucket, key = re.search(r"s3://([^/\s']+)/([^\s']+)", user_data_script(user_data)).groups()
    artifact = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    host = tmp_path / "instance"
    host.mkdir()
    tampered = install_locally(user_data, artifact[:-1] + bytes([artifact[-1] ^ 1]), host / "a.tar.gz", host / "scar")
    assert tampered.returncode != 0 and "FAILED" in tampered.stdout + tampered.stderr
    assert not (host / "scar").exists()  # nothing unpacked
    installed = install_locally(user_data, artifact, host / "a.tar.gz", host / "scar")
    assert installed.returncode == 0, installed.stderr

    # the container: the image's root filesystem, with no Python anywhere in it
    cache = tmp_path / "rootfs-cache"
    image = extract_image(base_image, cache)
    assert not [path for path in image.rootfs.rglob("*python*")]
    (image.rootfs / "opt" / "scar").mkdir(parents=True)  # Docker creates a bind mount's target, as ECS asks it to
    volume, = container["volumes"]
    mount, = container["mountPoints"]
    assert (mount["sourceVolume"], mount["readOnly"]) == (volume["name"], True)
    assert volume["host"]["sourcePath"] == mount["containerPath"] == "/opt/scar"
    # what the job's container gets: the image's variables, the job's (the definition's merged with the submitted
    # ones by Batch), the job id, a HOME (Docker sets one); and, standing in for the instance role, moto's
    # endpoint and test credentials
    environment = {**image.config.env, **{item["name"]: item["value"] for item in job["container"]["environment"]},
                   "AWS_BATCH_JOB_ID": job_id, "HOME": "/tmp",
                   **{k: v for k, v in os.environ.items() if k.startswith("AWS_")}}
    done = run_in_rootfs(image.rootfs, container["command"], environment,
                         binds=[Bind(host / "scar", mount["containerPath"])], workdir="/", timeout=120,
                         network=True, prefer="bubblewrap")
    output = done.output.decode()
    assert (done.exit_code, done.sandbox) == (0, "bubblewrap"), output
    answer, = [line for line in output.splitlines() if line.startswith('{"statusCode"')]  # the job's log
    assert json.loads(answer)["statusCode"] == 200
    assert objects(s3, "out-bucket") == {"output/copy.txt": b"from the job"}
    assert "copied input/data.txt" in output


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
