"""A non-retryable failure at every mutating call of `scar init`, in turn, leaves the account exactly as it was:
moto behind a fault proxy (devtools/fault_proxy.py) that fails the Nth mutating request the way the service
would, compared field by field before and after."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from devtools.fault_proxy import FaultProxy
from scar.aws import batch_resources
from scar.aws.kinds.function import current_configuration
from scar.cli.commands import init
from scar.package.batch_runtime import BatchRuntime
from tests.integration.batch_support import batch_fdl, batch_state, create_batch_roles, network
from tests.integration.conftest import write_fdl
from tests.integration.lifecycle_support import create_role

REGION = "us-east-1"
FIRST = """
functions:
  aws:
  - lambda:
      name: fault-fn
      init_script: script.sh
      container: {image: busybox}
      input:
      - {storage_provider: s3, path: in-bucket/input}
      - {storage_provider: minio.store, path: minio-bucket/in}
      output: [{storage_provider: s3, path: out-bucket/output}]
storage_providers:
  minio:
    store: {endpoint: "https://minio.example.org", access_key: MINIOKEY, secret_key: FIRST-SECRET}
"""
# configuration, environment, code, tags, credentials and a new input bucket all change
UPDATE = """
functions:
  aws:
  - lambda:
      name: fault-fn
      memory: 1024
      init_script: script.sh
      container:
        image: busybox:1.36
        environment: {Variables: {STAGE: two}}
      input:
      - {storage_provider: s3, path: in-bucket/input}
      - {storage_provider: s3, path: second-bucket/input}
      - {storage_provider: minio.store, path: minio-bucket/in}
      output: [{storage_provider: s3, path: out-bucket/output}]
storage_providers:
  minio:
    store: {endpoint: "https://minio.example.org", access_key: MINIOKEY, secret_key: SECOND-SECRET}
"""


WITH_API = """
functions:
  aws:
  - lambda:
      name: api-fn
      init_script: script.sh
      container: {image: busybox}
    api_gateway: {name: api-one}
"""
# the API is renamed, its routes require SigV4 and it moves to another stage
API_CHANGED = WITH_API.replace("{name: api-one}", "{name: api-two, auth: iam, stage_name: prod}")


def snapshot(endpoint: str) -> dict[str, Any]:
    """Everything scar may touch, field by field."""
    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=endpoint, region_name=REGION)

    lam, s3, logs, ssm = client("lambda"), client("s3"), client("logs"), client("ssm")
    functions = {}
    for listed in lam.list_functions()["Functions"]:
        name = listed["FunctionName"]
        got = lam.get_function(FunctionName=name)
        configuration = got["Configuration"]
        try:
            statements = json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]
        except ClientError:
            statements = []
        functions[name] = {"configuration": current_configuration(configuration),
                           "code": configuration["CodeSha256"], "architectures": configuration.get("Architectures"),
                           "tags": got.get("Tags"), "policy": sorted(statements, key=lambda s: s["Sid"])}
    buckets = {}
    for bucket in s3.list_buckets()["Buckets"]:
        name = bucket["Name"]
        notifications = s3.get_bucket_notification_configuration(Bucket=name)
        notifications.pop("ResponseMetadata", None)
        try:
            tags = s3.get_bucket_tagging(Bucket=name)["TagSet"]
        except ClientError:
            tags = []
        objects = [(o["Key"], o["ETag"]) for o in s3.list_objects_v2(Bucket=name).get("Contents", ())]
        buckets[name] = {"notifications": notifications, "tags": tags, "objects": objects}
    groups = {g["logGroupName"]: g.get("retentionInDays") for g in logs.describe_log_groups()["logGroups"]}
    layers = {layer["LayerName"]: [(v["LayerVersionArn"], v.get("Description"))
                                   for v in lam.list_layer_versions(LayerName=layer["LayerName"])["LayerVersions"]]
              for layer in lam.list_layers()["Layers"]}
    parameters = {}
    for parameter in ssm.describe_parameters()["Parameters"]:
        value = ssm.get_parameter(Name=parameter["Name"], WithDecryption=True)["Parameter"]["Value"]
        parameters[parameter["Name"]] = (value, parameter.get("Description"))
    return {"functions": functions, "buckets": buckets, "log groups": groups, "layers": layers,
            "parameters": parameters, "rest apis": rest_apis(client("apigateway")), "batch": batch_state(endpoint)}


def rest_apis(gateway: Any) -> dict[str, Any]:
    """Each REST API: its settings and tags, every route with its method and integration, its stages and
    deployments."""
    apis = {}
    for api in gateway.get_rest_apis()["items"]:
        api_id = api["id"]
        resources = {}
        for resource in gateway.get_resources(restApiId=api_id)["items"]:
            try:
                method = gateway.get_method(restApiId=api_id, resourceId=resource["id"], httpMethod="ANY")
                method.pop("ResponseMetadata", None)
            except ClientError:
                method = None
            resources[resource["path"]] = method
        stages = {s["stageName"]: s["deploymentId"] for s in gateway.get_stages(restApiId=api_id)["item"]}
        deployments = sorted(d["id"] for d in gateway.get_deployments(restApiId=api_id)["items"])
        apis[api_id] = {"name": api["name"], "description": api.get("description"), "tags": api.get("tags"),
                        "resources": resources, "stages": stages, "deployments": deployments}
    return apis


@pytest.fixture
def proxy(deploy_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """scar's calls go through the fault proxy; the test's own clients go straight to moto."""
    with FaultProxy(deploy_env) as running:
        monkeypatch.setenv("AWS_ENDPOINT_URL", running.endpoint)
        yield running


def same_call(one: str | None, other: str) -> bool:
    """The same operation on the same kind of resource (API Gateway's ids differ from run to run)."""
    def shape(call: str | None) -> str:
        return re.sub(r"/(restapis|resources|deployments|stages)/[^/]+", r"/\1/*", call or "")

    return shape(one) == shape(other)


def fault_at_every_call(scar: Callable[..., Any], proxy: FaultProxy, moto_server: Any, arrange: Callable[[], None],
                        fdl: Path) -> int:
    """Arrange, then run `init -f fdl` failing call 1, 2, ... N in turn; returns N."""
    moto_server.reset()
    create_role(moto_server.endpoint)
    arrange()
    proxy.arm(None)
    assert scar("init", "-f", fdl).code == 0
    calls = list(proxy.mutating)
    for call in range(1, len(calls) + 1):
        moto_server.reset()
        create_role(moto_server.endpoint)
        arrange()
        before = snapshot(moto_server.endpoint)
        proxy.arm(call)
        result = scar("init", "-f", fdl)
        assert same_call(proxy.failed, calls[call - 1]), (calls, proxy.mutating)
        assert result.code == 1, f"call {call} ({proxy.failed}): {result.stderr}"
        assert "could not" in result.stderr and "injected fault" in result.stderr, result.stderr
        assert "rolled back" in result.stderr and "left behind" not in result.stderr, result.stderr
        assert snapshot(moto_server.endpoint) == before, f"call {call} ({proxy.failed}) left a change behind"
    return len(calls)


def test_first_deployment_fails_at_every_call_and_leaves_nothing(scar, proxy, moto_server, tmp_path):
    (tmp_path / "script.sh").write_text("#!/bin/sh\necho one\n")
    fdl = write_fdl(tmp_path, FIRST)
    calls = fault_at_every_call(scar, proxy, moto_server, lambda: None, fdl)
    # credentials, log group and retention, layer, two buckets with their tags, function, permission, trigger
    assert calls >= 10


def test_update_fails_at_every_call_and_restores_everything(scar, proxy, moto_server, tmp_path):
    script = tmp_path / "script.sh"
    first, update = write_fdl(tmp_path, FIRST, "first.yaml"), write_fdl(tmp_path, UPDATE, "update.yaml")

    def deploy_first() -> None:
        script.write_text("#!/bin/sh\necho one\n")
        proxy.arm(None)
        assert scar("init", "-f", first).code == 0
        script.write_text("#!/bin/sh\necho two\n")

    calls = fault_at_every_call(scar, proxy, moto_server, deploy_first, update)
    # credentials, bucket and its tags, configuration, tags, permission, trigger, code
    assert calls >= 7


def test_a_deployment_with_an_api_fails_at_every_call_and_leaves_nothing(scar, proxy, moto_server, tmp_path):
    (tmp_path / "script.sh").write_text("#!/bin/sh\necho one\n")
    fdl = write_fdl(tmp_path, WITH_API)
    calls = fault_at_every_call(scar, proxy, moto_server, lambda: None, fdl)
    # log group and retention, layer, function, API, resource, 2 methods, 2 integrations, permission, deployment
    assert calls >= 11


def test_adding_an_api_to_a_function_fails_at_every_call_and_restores_it(scar, proxy, moto_server, tmp_path):
    (tmp_path / "script.sh").write_text("#!/bin/sh\necho one\n")
    plain = write_fdl(tmp_path, WITH_API.replace("    api_gateway: {name: api-one}\n", ""), "plain.yaml")
    with_api = write_fdl(tmp_path, WITH_API, "api.yaml")

    def deploy_plain() -> None:
        proxy.arm(None)
        assert scar("init", "-f", plain).code == 0

    calls = fault_at_every_call(scar, proxy, moto_server, deploy_plain, with_api)
    # tags, API, resource, 2 methods, 2 integrations, permission, deployment
    assert calls >= 9


def test_changing_an_api_fails_at_every_call_and_restores_it(scar, proxy, moto_server, tmp_path):
    (tmp_path / "script.sh").write_text("#!/bin/sh\necho one\n")
    first, changed = write_fdl(tmp_path, WITH_API, "first.yaml"), write_fdl(tmp_path, API_CHANGED, "changed.yaml")

    def deploy_first() -> None:
        proxy.arm(None)
        assert scar("init", "-f", first).code == 0

    calls = fault_at_every_call(scar, proxy, moto_server, deploy_first, changed)
    # tags, API name, 2 × (delete method, put method, put integration), deployment, old stage deleted
    assert calls >= 8


def test_a_batch_deployment_fails_at_every_call_and_leaves_nothing(scar, proxy, moto_server, tmp_path):
    """The AWS Batch resources too: artifact, launch template, compute environment, queue and definition."""
    (tmp_path / "script.sh").write_text("#!/bin/sh\necho one\n")
    fdl = tmp_path / "batch.yaml"

    def arrange() -> None:  # moto's default VPC gets new ids on every reset
        create_batch_roles(moto_server.endpoint)
        write_fdl(tmp_path, batch_fdl("fault-batch", *network(moto_server.endpoint)), fdl.name)

    calls = fault_at_every_call(scar, proxy, moto_server, arrange, fdl)
    # bucket and its tags, artifact, launch template, compute environment, queue, definition, log group and
    # retention, layer, function
    assert calls >= 11
    # the last run failed at the last call, so it made every one before it
    assert {"ec2.CreateLaunchTemplate", "batch.createcomputeenvironment", "batch.createjobqueue",
            "batch.registerjobdefinition"} <= set(proxy.mutating)


def test_a_batch_update_fails_at_every_call_and_restores_everything(scar, proxy, moto_server, tmp_path, monkeypatch):
    """A scar upgrade (a new supervisor artifact) with new compute resources and queue settings: the new
    template version is deleted and the old one is the default again, the environment's resources, the
    queue's settings and every tag are put back."""
    (tmp_path / "script.sh").write_text("#!/bin/sh\necho one\n")
    first, update = tmp_path / "first.yaml", tmp_path / "update.yaml"
    upgrade = {"on": False}
    runtime = init._batch_runtime()
    archive = runtime.archive + b"a later scar"
    later = BatchRuntime(archive, hashlib.sha256(archive).hexdigest())
    monkeypatch.setattr(init, "_batch_runtime", lambda: later if upgrade["on"] else runtime)
    queue = batch_resources.job_queue
    monkeypatch.setattr(batch_resources, "job_queue",
                        lambda spec: {**queue(spec), "priority": 5} if upgrade["on"] else queue(spec))

    def deploy_first() -> None:
        upgrade["on"] = False
        create_batch_roles(moto_server.endpoint)
        subnets, groups = network(moto_server.endpoint)
        write_fdl(tmp_path, batch_fdl("fault-batch", subnets, groups), first.name)
        write_fdl(tmp_path, batch_fdl("fault-batch", subnets[:1], groups, batch_extra="""
        max_v_cpus: 8
        instance_types: [optimal, m7i]
"""), update.name)
        proxy.arm(None)
        assert scar("init", "-f", first).code == 0
        upgrade["on"] = True

    calls = fault_at_every_call(scar, proxy, moto_server, deploy_first, update)
    # artifact, template version, its default, its tags, the environment and its tags, the queue and its tags
    assert calls >= 8
    assert {"ec2.CreateLaunchTemplateVersion", "ec2.ModifyLaunchTemplate", "ec2.CreateTags",
            "batch.updatecomputeenvironment", "batch.updatejobqueue"} <= set(proxy.mutating), proxy.mutating
    assert sum(call.startswith("batch.arn") for call in proxy.mutating) >= 2  # TagResource: environment, queue


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_init_rolls_back_and_exits_130(proxy, moto_server, tmp_path, signum):
    """A real `python -m scar init` in a subprocess, slowed down by the proxy, gets Ctrl-C (or SIGTERM) after
    its third change: everything it changed is undone and it exits 130 with one line, no traceback."""
    (tmp_path / "script.sh").write_text("#!/bin/sh\necho one\n")
    fdl = write_fdl(tmp_path, FIRST)
    before = snapshot(moto_server.endpoint)
    proxy.arm(None)
    proxy.delay = 0.3
    child = subprocess.Popen([sys.executable, "-m", "scar", "init", "-f", str(fdl)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    deadline = time.monotonic() + 60
    while len(proxy.mutating) < 3 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert child.poll() is None, child.communicate()
    child.send_signal(signum)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    assert "interrupted" in err and "rolled back" in err and "Traceback" not in err, err
    assert snapshot(moto_server.endpoint) == before
