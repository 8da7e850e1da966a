"""`scar init`, `ls` and `rm` against moto server: plans, idempotence, rollback and clean removal."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from scar.aws.lambda_ import Lambda
from tests.integration.conftest import write_fdl
from tests.integration.lifecycle_support import ACCOUNT, ROLE

REGION = "us-east-1"


fdl = write_fdl


TWO_FUNCTIONS = """
functions:
  aws:
  - lambda:
      name: fn-one
      memory: 256
      init_script: script.sh
      container:
        image: busybox
        environment:
          Variables: {GREETING: hi}
  - lambda:
      name: fn-two
      container:
        image: alpine:3
    cloudwatch:
      log_retention_policy_in_days: 7
"""


@pytest.fixture
def two(tmp_path):
    (tmp_path / "script.sh").write_text("#!/bin/sh\necho hello\n")
    return fdl(tmp_path, TWO_FUNCTIONS)


def test_init_creates_functions_log_groups_and_one_layer(scar, aws, two):
    result = scar("init", "-f", two)
    assert result.code == 0, result.stderr
    assert "fn-one: created" in result.stdout and "fn-two: created" in result.stdout
    one = aws("lambda").get_function(FunctionName="fn-one")
    config = one["Configuration"]
    assert (config["MemorySize"], config["Timeout"], config["Runtime"]) == (256, 300, "python3.13")
    assert config["Handler"] == "fn-one.lambda_handler"
    assert config["Role"] == ROLE
    assert one["Tags"]["createdby"] == "scar" and one["Tags"]["owner"] == "moto"
    assert one["Tags"]["scar:image"] == "busybox"
    layers = aws("lambda").list_layer_versions(LayerName="faas-supervisor")["LayerVersions"]
    assert len(layers) == 1  # published once, shared by both functions
    assert [layer["Arn"] for layer in config["Layers"]] == [layers[0]["LayerVersionArn"]]
    groups = {g["logGroupName"]: g.get("retentionInDays") for g in aws("logs").describe_log_groups()["logGroups"]}
    assert groups == {"/aws/lambda/fn-one": 30, "/aws/lambda/fn-two": 7}


def test_reinit_unchanged_makes_no_mutating_call(scar, aws, two, counter):
    assert scar("init", "-f", two).code == 0
    counter.reset()
    result = scar("init", "-f", two)
    assert result.code == 0, result.stderr
    assert counter.mutating == {}
    assert "fn-one: up to date" in result.stdout and "fn-two: up to date" in result.stdout


def test_changed_fdl_updates_only_what_changed(scar, aws, two, counter):
    assert scar("init", "-f", two).code == 0
    counter.reset()
    result = scar("init", "-f", two, "-n", "fn-two", "-m", "1024")
    assert result.code == 0, result.stderr
    assert counter.mutating == {"UpdateFunctionConfiguration": 1}
    assert "MemorySize 512 → 1024" in result.stdout
    assert aws("lambda").get_function_configuration(FunctionName="fn-two")["MemorySize"] == 1024
    assert aws("lambda").get_function_configuration(FunctionName="fn-one")["MemorySize"] == 256


def test_changed_script_updates_the_code(scar, aws, two, counter, tmp_path):
    assert scar("init", "-f", two).code == 0
    before = aws("lambda").get_function_configuration(FunctionName="fn-one")["CodeSha256"]
    (tmp_path / "script.sh").write_text("#!/bin/sh\necho changed\n")
    counter.reset()
    assert scar("init", "-f", two).code == 0
    assert counter.mutating == {"UpdateFunctionCode": 1}
    assert aws("lambda").get_function_configuration(FunctionName="fn-one")["CodeSha256"] != before


def test_dry_run_prints_the_plan_and_changes_nothing(scar, aws, two, counter):
    result = scar("init", "-f", two, "--dry-run")
    assert result.code == 0, result.stderr
    assert counter.mutating == {}
    assert "Plan (dry run: nothing was changed)" in result.stdout
    assert "fn-one: would be created" in result.stdout
    assert aws("lambda").list_functions()["Functions"] == []


def test_init_json_is_one_document(scar, aws, two):
    document = json.loads(scar("init", "-f", two, "-j").stdout)
    assert sorted((f["Name"], f["Result"]) for f in document["Functions"]) == [
        ("fn-one", "created"), ("fn-two", "created")]
    assert [(s["Resource"], s["Action"]) for s in document["Shared"]] == [("layer faas-supervisor", "create")]
    actions = {s["Resource"]: s["Action"] for s in document["Functions"][0]["Steps"]}
    assert actions["function fn-one"] == "create"


def test_failure_mid_deploy_leaves_nothing_behind(scar, aws, tmp_path):
    bad_layer = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:does-not-exist:1"
    result = scar("init", "-n", "broken-fn", "-i", "busybox", "-l", bad_layer)
    assert result.code == 1
    assert "could not create function broken-fn" in result.stderr
    assert "rolled back" in result.stderr
    assert aws("lambda").list_functions()["Functions"] == []
    assert aws("logs").describe_log_groups()["logGroups"] == []
    assert aws("lambda").list_layer_versions(LayerName="faas-supervisor")["LayerVersions"] == []


def test_failure_of_one_function_keeps_the_others(scar, aws, tmp_path):
    bad_layer = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:does-not-exist:1"
    path = fdl(tmp_path, f"""
        functions:
          aws:
          - lambda: {{name: good-fn, container: {{image: busybox}}}}
          - lambda: {{name: bad-fn, layers: ["{bad_layer}"], container: {{image: busybox}}}}
        """)
    result = scar("init", "-f", path)
    assert result.code == 1
    assert "good-fn: created" in result.stdout
    assert "bad-fn: failed" in result.stdout
    assert [f["FunctionName"] for f in aws("lambda").list_functions()["Functions"]] == ["good-fn"]
    assert [g["logGroupName"] for g in aws("logs").describe_log_groups()["logGroups"]] == ["/aws/lambda/good-fn"]


def test_config_update_failure_restores_the_previous_configuration(scar, aws, two, monkeypatch):
    assert scar("init", "-f", two).code == 0
    real_wait = Lambda.wait_updated
    calls = {"n": 0}

    def wait_then_fail(self, name):  # the update succeeds, then the wait reports a failed update
        real_wait(self, name)
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("function update failed")

    # Mock: no emulator can make a function update fail after it was accepted
    monkeypatch.setattr(Lambda, "wait_updated", wait_then_fail)
    result = scar("init", "-f", two, "-n", "fn-one", "-m", "2048")
    assert result.code == 1
    assert aws("lambda").get_function_configuration(FunctionName="fn-one")["MemorySize"] == 256


def test_init_refuses_a_function_scar_did_not_create(scar, aws, tmp_path):
    zipped = Path(__file__).with_name("lifecycle_support.py").read_bytes()
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("main.py", zipped)
    aws("lambda").create_function(FunctionName="someone-elses", Runtime="python3.12", Role=ROLE,
                                  Handler="main.handler", Code={"ZipFile": buffer.getvalue()})
    result = scar("init", "-n", "someone-elses", "-i", "busybox")
    assert result.code == 1
    assert "was not created by scar" in result.stderr
    assert aws("lambda").get_function_configuration(FunctionName="someone-elses")["Runtime"] == "python3.12"


def test_init_without_role_explains_the_role_and_calls_nothing(scar, cloud, isolated_env, counter):
    result = scar("init", "-n", "no-role-fn", "-i", "busybox")
    assert result.code == 2
    assert "iam.role: is required to deploy" in result.stderr
    assert '"Service": "lambda.amazonaws.com"' in result.stderr
    assert "sts:AssumeRole" in result.stderr
    assert counter.calls == {}


def test_init_refuses_what_it_cannot_deploy_yet(scar, aws, tmp_path, counter):
    path = fdl(tmp_path, """
        functions:
          aws:
          - lambda: {name: old-fn, supervisor: {version: 1.5.0}, container: {image: busybox}}
        """)
    result = scar("init", "-f", path)
    assert result.code == 2
    assert "cannot deploy lambda.supervisor.version '1.5.0'" in result.stderr
    assert counter.mutating == {}


def test_large_package_goes_through_the_deployment_bucket(scar, aws, tmp_path, counter):
    (tmp_path / "payload.bin").write_bytes(os.urandom(300_000))  # random bytes do not compress
    path = fdl(tmp_path, """
        functions:
          aws:
          - lambda:
              name: big-fn
              extra_payload: payload.bin
              container: {image: busybox}
              deployment: {bucket: scar-deploy-bucket, max_payload_size: 100000}
        """)
    result = scar("init", "-f", path)
    assert result.code == 0, result.stderr
    keys = [o["Key"] for o in aws("s3").list_objects_v2(Bucket="scar-deploy-bucket")["Contents"]]
    assert len(keys) == 1 and re.fullmatch(r"scar/big-fn/function-[0-9a-f]{16}\.zip", keys[0])
    assert f"deployment package s3://scar-deploy-bucket/{keys[0]}" in result.stdout
    head = aws("s3").head_object(Bucket="scar-deploy-bucket", Key=keys[0])
    assert head["ContentLength"] > 100000
    code = aws("lambda").get_function(FunctionName="big-fn")["Configuration"]["CodeSha256"]
    counter.reset()
    assert scar("init", "-f", path).code == 0
    assert counter.mutating == {}
    (tmp_path / "payload.bin").write_bytes(os.urandom(300_000))  # a new package: a new object, the old one swept
    assert scar("init", "-f", path).code == 0
    newer = [o["Key"] for o in aws("s3").list_objects_v2(Bucket="scar-deploy-bucket")["Contents"]]
    assert len(newer) == 1 and newer != keys
    assert aws("lambda").get_function(FunctionName="big-fn")["Configuration"]["CodeSha256"] != code
    assert scar("rm", "-f", path).code == 0
    assert aws("s3").list_objects_v2(Bucket="scar-deploy-bucket").get("KeyCount", 0) == 0


def test_too_large_without_bucket_is_bad_input(scar, aws, tmp_path, counter):
    (tmp_path / "payload.bin").write_bytes(os.urandom(300_000))
    path = fdl(tmp_path, """
        functions:
          aws:
          - lambda: {name: big-fn, extra_payload: payload.bin, container: {image: busybox},
                     deployment: {max_payload_size: 100000}}
        """)
    result = scar("init", "-f", path)
    assert result.code == 2
    assert "over the" in result.stderr and "set lambda.deployment.bucket (-db)" in result.stderr
    assert counter.mutating == {}


def test_ls_lists_functions_with_image_and_supervisor(scar, aws, two):
    assert scar("init", "-f", two).code == 0
    result = scar("ls")
    assert result.code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "MEMORY", "TIME", "IMAGE_ID", "API_URL", "SUPERVISOR_VERSION"]
    assert [line.split()[:4] for line in lines[2:]] == [["fn-one", "256", "300", "busybox"],
                                                         ["fn-two", "512", "300", "alpine:3"]]
    document = json.loads(scar("ls", "-j").stdout)
    assert [f["Name"] for f in document["Functions"]] == ["fn-one", "fn-two"]


def _tagged_functions(aws, count: int) -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("main.py", "x = 1\n")
    lam = aws("lambda")
    for index in range(count):
        lam.create_function(FunctionName=f"many-{index:02d}", Runtime="python3.13", Role=ROLE,
                            Handler="main.handler", Code={"ZipFile": buffer.getvalue()},
                            Tags={"createdby": "scar", "owner": "moto", "scar:image": "busybox"})


def test_ls_with_60_functions_and_one_deleted_meanwhile(scar, aws, monkeypatch):
    _tagged_functions(aws, 60)
    real = Lambda.get_configuration

    def racing(self, name):  # the function disappears between the tag lookup and its description
        if name == "many-07":
            self.client.delete_function(FunctionName=name)
        return real(self, name)

    monkeypatch.setattr(Lambda, "get_configuration", racing)
    document = json.loads(scar("ls", "-j").stdout)
    names = [f["Name"] for f in document["Functions"]]
    assert len(names) == 59 and "many-07" not in names
    assert names == sorted(names)


def test_rm_removes_function_log_group_and_unused_layer(scar, aws, two):
    assert scar("init", "-f", two).code == 0
    result = scar("rm", "-n", "fn-one")
    assert result.code == 0, result.stderr
    assert [f["FunctionName"] for f in aws("lambda").list_functions()["Functions"]] == ["fn-two"]
    assert len(aws("lambda").list_layer_versions(LayerName="faas-supervisor")["LayerVersions"]) == 1  # fn-two
    assert scar("rm", "-f", two).code == 0
    assert aws("lambda").list_functions()["Functions"] == []
    assert aws("logs").describe_log_groups()["logGroups"] == []
    assert aws("lambda").list_layer_versions(LayerName="faas-supervisor")["LayerVersions"] == []


def test_rm_after_resources_vanished_is_idempotent(scar, aws, two):
    assert scar("init", "-f", two).code == 0
    aws("logs").delete_log_group(logGroupName="/aws/lambda/fn-one")
    result = scar("rm", "-n", "fn-one")
    assert result.code == 0, result.stderr
    assert "log group /aws/lambda/fn-one  already absent" in result.stdout
    again = scar("rm", "-n", "fn-one")
    assert again.code == 0
    assert "function fn-one" in again.stdout and "already absent" in again.stdout


def test_rm_all_needs_confirmation_without_a_terminal(scar, aws, two):
    assert scar("init", "-f", two).code == 0
    refused = scar("rm", "-a")
    assert refused.code == 2
    assert "pass -y to confirm" in refused.stderr and "fn-one, fn-two" in refused.stderr
    assert len(aws("lambda").list_functions()["Functions"]) == 2
    assert scar("rm", "-a", "-y").code == 0
    assert aws("lambda").list_functions()["Functions"] == []


def test_rm_dry_run_changes_nothing(scar, aws, two, counter):
    assert scar("init", "-f", two).code == 0
    counter.reset()
    result = scar("rm", "-f", two, "--dry-run")
    assert result.code == 0
    assert counter.mutating == {}
    assert "would be removed" in result.stdout


def test_preheat_invokes_once_synchronously(scar, aws, counter):
    result = scar("init", "-n", "warm-fn", "-i", "busybox", "-ph")
    assert result.code == 0, result.stderr
    assert counter.calls["Invoke"] == 1
    assert "preheat" in result.stdout and "invoked once" in result.stdout


def test_vpc_architecture_storage_and_environment_reach_the_function(scar, aws, tmp_path):
    ec2 = aws("ec2")
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    group = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
    path = fdl(tmp_path, f"""
        functions:
          aws:
          - lambda:
              name: net-fn
              architectures: [arm64]
              ephemeral_storage: 2048
              memory: 1024
              timeout: 120
              description: network test
              environment: {{Variables: {{MODE: fast}}}}
              vpc: {{SubnetIds: [{subnet}], SecurityGroupIds: [{group}]}}
              container: {{image: busybox}}
        """)
    result = scar("init", "-f", path, "-le", "EXTRA=a=b")
    assert result.code == 0, result.stderr
    config = aws("lambda").get_function_configuration(FunctionName="net-fn")
    assert config["Architectures"] == ["arm64"]
    assert config["EphemeralStorage"] == {"Size": 2048}
    assert (config["MemorySize"], config["Timeout"], config["Description"]) == (1024, 120, "network test")
    assert config["Environment"]["Variables"] == {"MODE": "fast", "EXTRA": "a=b"}
    assert config["VpcConfig"]["SubnetIds"] == [subnet] and config["VpcConfig"]["SecurityGroupIds"] == [group]


def test_supervisor_version_flag_acts(scar, aws, counter):
    refused = scar("init", "-n", "sv-fn", "-i", "busybox", "-sv", "1.2.0")
    assert refused.code == 2
    assert "lambda.supervisor.version '1.2.0'" in refused.stderr
    assert counter.mutating == {}
    assert scar("init", "-n", "sv-fn", "-i", "busybox", "-sv", "latest").code == 0
