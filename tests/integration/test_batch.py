"""AWS Batch functions against moto: the exact resources and parameters scar creates (EC2, SPOT, multi-node,
GPU), their tags, the order `rm` removes them in and that nothing is left, the 24 KB definition limit, and
bad input refused before any resource exists."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import time
from pathlib import Path

import pytest

from scar.package.machine import build_architecture
from scar.supervisor.batch import job_overrides
from scar.supervisor.config import FunctionConfig
from tests.integration.batch_support import batch_fdl, batch_state, create_batch_roles, network
from tests.integration.conftest import write_fdl

#: every Batch init builds the supervisor's Python runtime (batch_runtime.py), which needs patchelf
pytestmark = pytest.mark.skipif(shutil.which("patchelf") is None, reason="patchelf is needed "
                                "(scripts/install-system-deps.sh)")

ACCOUNT = "123456789012"
#: a family of the other architecture than this machine's (Graviton on x86_64, and the other way round)
OTHER_FAMILY = "m7g" if build_architecture() == "amd64" else "m7i"
EMPTY = {"compute environments": {}, "job queues": {}, "job definitions": [], "launch templates": {}}


@pytest.fixture
def batch_env(deploy_env: str, tmp_path: Path) -> tuple[list[str], list[str]]:
    """moto with Batch's default roles; the default VPC's subnets and security group; an init script."""
    create_batch_roles(deploy_env)
    (tmp_path / "script.sh").write_text("#!/bin/sh\ncp \"$INPUT_FILE_PATH\" \"$TMP_OUTPUT_DIR/copy.txt\"\n")
    return network(deploy_env)


def environment_of(container: dict) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container["environment"]}


def test_an_ec2_function_gets_exactly_its_resources_all_tagged(scar, aws, batch_env, tmp_path, counter):
    subnets, groups = batch_env
    fdl = write_fdl(tmp_path, batch_fdl("bfn", subnets, groups))
    result = scar("init", "-f", fdl)
    assert result.code == 0, result.stderr
    batch, ec2, s3 = aws("batch"), aws("ec2"), aws("s3")

    environment, = batch.describe_compute_environments(computeEnvironments=["bfn"])["computeEnvironments"]
    assert (environment["type"], environment["state"], environment["status"]) == ("MANAGED", "ENABLED", "VALID")
    assert environment["serviceRole"] == f"arn:aws:iam::{ACCOUNT}:role/service-role/AWSBatchServiceRole"
    resources = environment["computeResources"]
    assert {key: resources[key] for key in ("type", "minvCpus", "maxvCpus", "desiredvCpus", "instanceTypes",
                                            "subnets", "securityGroupIds", "instanceRole", "launchTemplate",
                                            "allocationStrategy")} == {
        "type": "EC2", "minvCpus": 0, "maxvCpus": 2, "desiredvCpus": 0, "instanceTypes": ["optimal"],
        "subnets": subnets, "securityGroupIds": groups,
        "instanceRole": f"arn:aws:iam::{ACCOUNT}:instance-profile/ecsInstanceRole",
        # the version by number, so that a new one changes the environment; progressive, so that it can change
        "launchTemplate": {"launchTemplateName": "faas-supervisor-bfn", "version": "1"},
        "allocationStrategy": "BEST_FIT_PROGRESSIVE"}
    assert "bidPercentage" not in resources

    queue, = batch.describe_job_queues(jobQueues=["bfn"])["jobQueues"]
    assert (queue["state"], queue["priority"]) == ("ENABLED", 1)
    assert [entry["order"] for entry in queue["computeEnvironmentOrder"]] == [1]
    assert queue["computeEnvironmentOrder"][0]["computeEnvironment"] in ("bfn", environment["computeEnvironmentArn"])

    definition, = batch.describe_job_definitions(jobDefinitionName="bfn", status="ACTIVE")["jobDefinitions"]
    container = definition["containerProperties"]
    assert definition["type"] == "container"
    assert container["image"] == "python:3.12-slim"
    # the supervisor runtime's own Python, isolated from the image's, from the instance's /opt/scar mounted
    # read-only at the path the runtime expects: nothing of the image is needed
    assert container["command"] == ["/opt/scar/python/bin/python3", "-I", "-S", "/opt/scar/batch_job.py"]
    assert container["volumes"] == [{"name": "scar-supervisor", "host": {"sourcePath": "/opt/scar"}}]
    assert container["mountPoints"] == [{"sourceVolume": "scar-supervisor", "containerPath": "/opt/scar",
                                         "readOnly": True}]
    assert container["resourceRequirements"] == [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "1024"}]
    assert "jobRoleArn" not in container  # the jobs use the instance role
    variables = environment_of(container)
    assert sorted(variables) == ["AWS_LAMBDA_FUNCTION_NAME", "FUNCTION_CONFIG", "SCAR_RUNNER", "SCRIPT"]
    assert (variables["SCAR_RUNNER"], variables["AWS_LAMBDA_FUNCTION_NAME"]) == ("direct", "bfn")
    config = json.loads(base64.b64decode(variables["FUNCTION_CONFIG"]))
    assert config["name"] == "bfn" and config["batch"] == {"job_queue": "bfn", "job_definition": "bfn",
                                                           "multi_node": False}
    assert base64.b64decode(variables["SCRIPT"]) == (tmp_path / "script.sh").read_bytes()

    # the user data installs exactly the artifact scar uploaded, checked against its SHA-256
    template, = ec2.describe_launch_templates(LaunchTemplateNames=["faas-supervisor-bfn"])["LaunchTemplates"]
    version, = ec2.describe_launch_template_versions(LaunchTemplateName="faas-supervisor-bfn")[
        "LaunchTemplateVersions"]
    user_data = base64.b64decode(version["LaunchTemplateData"]["UserData"]).decode()
    key, = [o["Key"] for o in s3.list_objects_v2(Bucket="bfn-deploy", Prefix="scar-batch/bfn/")["Contents"]]
    artifact = s3.get_object(Bucket="bfn-deploy", Key=key)["Body"].read()
    assert key == f"scar-batch/bfn/supervisor-{hashlib.sha256(artifact).hexdigest()[:16]}.tar.gz"
    assert f"s3://bfn-deploy/{key}" in user_data
    assert f'echo "{hashlib.sha256(artifact).hexdigest()}  $archive" | sha256sum --check --strict -' in user_data
    assert "curl" not in user_data and "python" not in user_data  # the instance needs no Python either

    template_tags = {t["Key"]: t["Value"] for t in template["Tags"]}
    for tags in (environment["tags"], queue["tags"], definition["tags"], template_tags):
        assert tags["createdby"] == "scar" and tags["owner"] == "moto" and tags["scar:function"] == "bfn"
        assert len(tags["scar:definition"]) == 32
    function_tags = aws("lambda").get_function(FunctionName="bfn")["Tags"]
    assert function_tags["scar:execution-mode"] == "batch"

    counter.reset()
    again = scar("init", "-f", fdl)  # converged: nothing to change, the artifact not uploaded again
    assert again.code == 0 and "bfn: up to date" in again.stdout, again.stdout
    assert counter.mutating == {}


def test_spot_gpu_and_sizes(scar, aws, batch_env, tmp_path):
    subnets, groups = batch_env
    fdl = write_fdl(tmp_path, batch_fdl("spotfn", subnets, groups, batch_extra="""
        type: SPOT
        max_v_cpus: 8
        bid_percentage: 60
        allocation_strategy: SPOT_PRICE_CAPACITY_OPTIMIZED
      vcpus: 4
      memory: 8192
      enable_gpu: true
"""))
    assert scar("init", "-f", fdl).code == 0
    batch = aws("batch")
    resources = batch.describe_compute_environments(computeEnvironments=["spotfn"])["computeEnvironments"][0][
        "computeResources"]
    assert (resources["type"], resources["maxvCpus"], resources["bidPercentage"], resources["allocationStrategy"]) \
        == ("SPOT", 8, 60, "SPOT_PRICE_CAPACITY_OPTIMIZED")
    definition = batch.describe_job_definitions(jobDefinitionName="spotfn", status="ACTIVE")["jobDefinitions"][0]
    assert definition["containerProperties"]["resourceRequirements"] == [
        {"type": "VCPU", "value": "4"}, {"type": "MEMORY", "value": "8192"}, {"type": "GPU", "value": "1"}]


def test_the_flags_set_the_job_size(scar, aws, batch_env, tmp_path):
    subnets, groups = batch_env
    fdl = write_fdl(tmp_path, batch_fdl("flagfn", subnets, groups))
    assert scar("init", "-f", fdl, "-bm", "2048", "-bc", "2", "-g").code == 0
    definition = aws("batch").describe_job_definitions(jobDefinitionName="flagfn", status="ACTIVE")[
        "jobDefinitions"][0]
    assert definition["containerProperties"]["resourceRequirements"] == [
        {"type": "VCPU", "value": "2"}, {"type": "MEMORY", "value": "2048"}, {"type": "GPU", "value": "1"}]


def test_a_multi_node_definition(scar, aws, batch_env, tmp_path):
    """moto's DescribeJobDefinitions leaves nodeProperties out; a job of the definition shows them."""
    subnets, groups = batch_env
    fdl = write_fdl(tmp_path, batch_fdl("mnfn", subnets, groups, batch_extra="""
      multi_node_parallel: {enabled: true, number_nodes: 3, main_node_index: 1}
      job_role: scar-jobs
"""))
    assert scar("init", "-f", fdl).code == 0
    batch = aws("batch")
    definition = batch.describe_job_definitions(jobDefinitionName="mnfn", status="ACTIVE")["jobDefinitions"][0]
    assert definition["type"] == "multinode"
    # what scar's function_config gives the supervisor of a multi-node function
    config = FunctionConfig.from_dict({"name": "mnfn", "batch": {"job_queue": "mnfn", "job_definition": "mnfn",
                                                                 "multi_node": True}}, tmp_path)
    params = job_overrides(config, {"k": "v"}, "req-1")
    job_id = batch.submit_job(**params)["jobId"]
    job, = batch.describe_jobs(jobs=[job_id])["jobs"]
    nodes = job["nodeProperties"]
    assert (nodes["numNodes"], nodes["mainNode"]) == (3, 1)
    node_range, = nodes["nodeRangeProperties"]
    assert node_range["targetNodes"] == "0:"
    container = node_range["container"]
    assert container["command"] == ["/opt/scar/python/bin/python3", "-I", "-S", "/opt/scar/batch_job.py"]
    assert container["mountPoints"] == [{"sourceVolume": "scar-supervisor", "containerPath": "/opt/scar",
                                         "readOnly": True}]
    assert container["jobRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/scar-jobs"  # a name: the account's role
    # moto does not echo nodeOverrides: the request itself is checked
    assert "containerOverrides" not in params
    assert params["nodeOverrides"]["nodePropertyOverrides"] == [{"targetNodes": "0:", "containerOverrides": {
        "environment": [{"name": "EVENT", "value": '{"k": "v"}'}, {"name": "AWS_LAMBDA_REQUEST_ID",
                                                                  "value": "req-1"}]}}]


@pytest.mark.parametrize(("role", "expected"), [
    ("arn:aws:iam::{account_id}:role/jobs/scar-jobs", f"arn:aws:iam::{ACCOUNT}:role/jobs/scar-jobs"),
    ("arn:aws:iam::210987654321:role/other", "arn:aws:iam::210987654321:role/other"),
], ids=["account-id", "other-account"])
def test_the_job_role_becomes_the_definitions_job_role_arn(scar, aws, batch_env, tmp_path, role, expected):
    subnets, groups = batch_env
    fdl = write_fdl(tmp_path, batch_fdl("rolefn", subnets, groups, batch_extra=f"      job_role: '{role}'\n"))
    assert scar("init", "-f", fdl).code == 0
    definition, = aws("batch").describe_job_definitions(jobDefinitionName="rolefn", status="ACTIVE")[
        "jobDefinitions"]
    assert definition["containerProperties"]["jobRoleArn"] == expected


def test_no_secret_reaches_the_job_definition(scar, aws, batch_env, tmp_path):
    subnets, groups = batch_env
    text = batch_fdl("secretfn", subnets, groups, lambda_extra="""
      input: [{storage_provider: minio.store, path: minio-bucket/in}]
""") + """
storage_providers:
  minio:
    store: {endpoint: "https://minio.example.org", access_key: MINIO-ACCESS-KEY, secret_key: MINIO-SECRET-KEY}
"""
    assert scar("init", "-f", write_fdl(tmp_path, text)).code == 0
    definition = aws("batch").describe_job_definitions(jobDefinitionName="secretfn", status="ACTIVE")[
        "jobDefinitions"][0]
    variables = environment_of(definition["containerProperties"])
    shown = json.dumps(definition) + base64.b64decode(variables["FUNCTION_CONFIG"]).decode()
    assert "MINIO-SECRET-KEY" not in shown and "MINIO-ACCESS-KEY" not in shown
    config = json.loads(base64.b64decode(variables["FUNCTION_CONFIG"]))
    assert config["credentials"] == {"minio.store": "/scar/secretfn/storage/minio.store"}  # a name, in SSM


def test_rm_removes_everything_queue_first(scar, aws, batch_env, tmp_path, deploy_env):
    subnets, groups = batch_env
    fdl = write_fdl(tmp_path, batch_fdl("rmfn", subnets, groups))
    assert scar("init", "-f", fdl).code == 0
    result = scar("rm", "-n", "rmfn")
    assert result.code == 0, result.stderr
    order = [line.split()[1:3] for line in result.stdout.splitlines() if line.startswith("rmfn ")]
    assert [" ".join(item) for item in order][:6] == [
        "function rmfn", "job queue", "compute environment", "job definition", "launch template",
        "deployment package"]
    assert batch_state(deploy_env) == EMPTY
    assert "Contents" not in aws("s3").list_objects_v2(Bucket="rmfn-deploy", Prefix="scar-batch/")

    again = scar("rm", "-f", fdl)  # already gone: reported, not fatal
    assert again.code == 0, again.stderr
    assert "already absent" in again.stdout


def test_rm_keeps_a_compute_environment_another_queue_uses(scar, aws, batch_env, tmp_path, deploy_env):
    subnets, groups = batch_env
    assert scar("init", "-f", write_fdl(tmp_path, batch_fdl("sharedfn", subnets, groups))).code == 0
    batch = aws("batch")
    batch.create_job_queue(jobQueueName="other-queue", priority=1, state="ENABLED",
                           computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "sharedfn"}])
    result = scar("rm", "-n", "sharedfn")
    assert result.code == 0, result.stderr
    assert "kept" in next(line for line in result.stdout.splitlines() if "compute environment" in line)
    state = batch_state(deploy_env)
    assert list(state["compute environments"]) == ["sharedfn"] and list(state["job queues"]) == ["other-queue"]
    assert state["job definitions"] == [] and state["launch templates"] == {}


def test_a_job_definition_over_24_kb_is_refused_before_any_call(scar, batch_env, tmp_path, counter):
    subnets, groups = batch_env
    (tmp_path / "script.sh").write_text("#!/bin/sh\n" + "echo padding-the-script-out\n" * 1000)
    result = scar("init", "-f", write_fdl(tmp_path, batch_fdl("bigfn", subnets, groups)))
    assert result.code == 2, result.stderr
    assert "24576 bytes (24 KB) per job definition" in result.stderr and "Traceback" not in result.stderr
    assert counter.mutating == {}


@pytest.mark.parametrize(("change", "expected"), [
    ({"subnets": []}, "batch.compute_resources.subnets: is required with lambda.execution_mode batch"),
    ({"groups": []}, "batch.compute_resources.security_group_ids: is required with lambda.execution_mode batch"),
    ({"batch_extra": "      memory: 2\n"}, "batch.memory"),
    ({"batch_extra": "      vcpus: 4\n"}, "must not be more than batch.compute_resources.max_v_cpus (2)"),
    ({"batch_extra": "      vcpus: 0.5\n"}, "must be a whole number of vCPUs"),
    ({"batch_extra": "      multi_node_parallel: {enabled: true, number_nodes: 3, main_node_index: 3}\n"},
     "main_node_index: 3 must be lower than number_nodes (3)"),
    ({"batch_extra": "      job_role: 'arn:aws:iam::12345:role/short'\n"},
     "batch.job_role: 'arn:aws:iam::12345:role/short' must be an IAM role name or ARN"),
    ({"batch_extra": "      job_role: 'my role'\n"}, "batch.job_role: 'my role' must be an IAM role name or ARN"),
    ({"batch_extra": f"        instance_types: [{OTHER_FAMILY}]\n"},
     f"batch.compute_resources.instance_types: ['{OTHER_FAMILY}'] must be linux/{build_architecture()} instances"),
], ids=["no-subnets", "no-security-groups", "memory", "vcpus-above-max", "fractional-vcpus", "main-node",
        "job-role-account", "job-role-name", "instance-architecture"])
def test_bad_batch_input_exits_2_before_any_resource(scar, batch_env, tmp_path, counter, change, expected):
    subnets, groups = batch_env
    text = batch_fdl("badfn", change.get("subnets", subnets), change.get("groups", groups),
                     batch_extra=change.get("batch_extra", ""))
    result = scar("init", "-f", write_fdl(tmp_path, text))
    assert result.code == 2, result.stderr
    assert expected in result.stderr, result.stderr
    assert counter.mutating == {}


def test_ls_shows_the_execution_mode_and_the_queue(scar, batch_env, tmp_path):
    subnets, groups = batch_env
    assert scar("init", "-f", write_fdl(tmp_path, batch_fdl("lsfn", subnets, groups), "batch.yaml")).code == 0
    assert scar("init", "-n", "plainfn", "-i", "busybox").code == 0
    result = scar("ls")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[-2:] == ["EXECUTION_MODE", "JOB_QUEUE"]
    rows = {line.split()[0]: line.split()[-2:] for line in lines[2:]}
    assert rows == {"lsfn": ["batch", "lsfn"], "plainfn": ["lambda", "-"]}
    document = json.loads(scar("ls", "-j").stdout)
    shown = {f["Name"]: (f["Execution_mode"], f.get("Job_queue")) for f in document["Functions"]}
    assert shown == {"lsfn": ("batch", "lsfn"), "plainfn": ("lambda", None)}


def finished(batch, job_id: str) -> dict:
    deadline = time.monotonic() + 30
    while True:
        job = batch.describe_jobs(jobs=[job_id])["jobs"][0]
        if job["status"] in ("SUCCEEDED", "FAILED") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def test_log_with_a_job_id_shows_the_job_status_and_its_logs(scar, aws, batch_env, tmp_path):
    subnets, groups = batch_env
    assert scar("init", "-f", write_fdl(tmp_path, batch_fdl("logfn", subnets, groups))).code == 0
    batch, logs = aws("batch"), aws("logs")
    config = FunctionConfig.from_dict({"name": "logfn", "batch": {"job_queue": "logfn", "job_definition": "logfn"}},
                                      tmp_path)
    job_id = batch.submit_job(**job_overrides(config, {}, "r"))["jobId"]
    job = finished(batch, job_id)
    stream = job["container"]["logStreamName"]
    logs.create_log_group(logGroupName="/aws/batch/job")  # moto runs no container: the test writes its log
    logs.create_log_stream(logGroupName="/aws/batch/job", logStreamName=stream)
    logs.put_log_events(logGroupName="/aws/batch/job", logStreamName=stream, logEvents=[
        {"timestamp": int(time.time() * 1000), "message": "INFO job-line the container finished"}])
    result = scar("log", "-n", "logfn", "-ri", job_id)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [f"AWS Batch job {job_id} (logfn): SUCCEEDED",
                                          "INFO job-line the container finished"]
    document = json.loads(scar("log", "-n", "logfn", "-ri", job_id, "-j").stdout)
    assert (document["Status"], document["LogStreamName"], len(document["Events"])) == ("SUCCEEDED", stream, 1)


def test_back_to_lambda_only_sweeps_the_batch_resources(scar, aws, batch_env, tmp_path, deploy_env):
    subnets, groups = batch_env
    text = batch_fdl("backfn", subnets, groups)
    assert scar("init", "-f", write_fdl(tmp_path, text, "batch.yaml")).code == 0
    plain = text.replace("execution_mode: batch", "execution_mode: lambda")
    result = scar("init", "-f", write_fdl(tmp_path, plain, "plain.yaml"))
    assert result.code == 0, result.stderr
    assert batch_state(deploy_env) == EMPTY
    assert "Contents" not in aws("s3").list_objects_v2(Bucket="backfn-deploy", Prefix="scar-batch/")
    assert "scar:execution-mode" not in aws("lambda").get_function(FunctionName="backfn")["Tags"]


def test_dry_run_plans_the_batch_resources_and_creates_nothing(scar, batch_env, tmp_path, counter, deploy_env):
    subnets, groups = batch_env
    result = scar("init", "-f", write_fdl(tmp_path, batch_fdl("dryfn", subnets, groups)), "--dry-run", "-v", "-j")
    assert result.code == 0, result.stderr
    steps = json.loads(result.stdout)["Functions"][0]["Steps"]
    assert [(s["Kind"], s["Action"]) for s in steps][1:6] == [
        ("deployment package", "create"), ("launch template", "create"), ("compute environment", "create"),
        ("job queue", "create"), ("job definition", "create")]
    calls = {c["Operation"] for s in steps for c in s["Calls"]}
    assert {"CreateLaunchTemplate", "CreateComputeEnvironment", "CreateJobQueue", "RegisterJobDefinition"} <= calls
    assert counter.mutating == {} and batch_state(deploy_env) == EMPTY


def test_run_on_a_batch_function_prints_the_job_id_and_how_to_follow_it(scar, aws, batch_env, tmp_path,
                                                                       deploy_env):
    """moto's Lambda runs no code: the answer the supervisor gives (a real submit to moto's queue) is queued
    as the function's result, and `scar run` shows it."""
    from scar.supervisor.batch import submit
    from scar.supervisor.response import RequestInfo
    from tests.integration.test_run import queue_response

    subnets, groups = batch_env
    assert scar("init", "-f", write_fdl(tmp_path, batch_fdl("runfn", subnets, groups))).code == 0
    config = FunctionConfig.from_dict({"name": "runfn", "batch": {"job_queue": "runfn", "job_definition": "runfn"}},
                                      tmp_path)
    answer = submit(aws("batch"), config, {}, RequestInfo("req-9", "/aws/lambda/runfn", "stream"))
    job_id = answer["headers"]["amz-batch-job-id"]
    queue_response(deploy_env, answer)
    result = scar("run", "-n", "runfn")
    assert result.code == 0, result.stderr
    assert f"Job delegated to AWS Batch: {job_id}" in result.stdout
    assert f"scar log -n runfn -ri {job_id}" in result.stdout


def test_a_batch_resource_scar_did_not_create_is_never_taken_over(scar, aws, batch_env, tmp_path, counter):
    subnets, groups = batch_env
    aws("ec2").create_launch_template(LaunchTemplateName="faas-supervisor-takenfn",
                                      LaunchTemplateData={"UserData": ""})
    result = scar("init", "-f", write_fdl(tmp_path, batch_fdl("takenfn", subnets, groups)))
    assert result.code == 1
    assert "the EC2 launch template faas-supervisor-takenfn exists and was not created by scar" in result.stderr
    assert counter.mutating == {}


def test_rm_by_name_finds_the_batch_resources_of_a_function_already_gone(scar, aws, batch_env, tmp_path,
                                                                          deploy_env):
    """With the Lambda function deleted by hand, no tag says the function used Batch: rm -n looks by name."""
    subnets, groups = batch_env
    assert scar("init", "-f", write_fdl(tmp_path, batch_fdl("gonefn", subnets, groups))).code == 0
    aws("lambda").delete_function(FunctionName="gonefn")
    result = scar("rm", "-n", "gonefn")
    assert result.code == 0, result.stderr
    assert batch_state(deploy_env) == EMPTY
