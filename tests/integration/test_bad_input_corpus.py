"""A corpus of invalid inputs, each through the real CLI (`scar validate -f` and `scar init -f`): exit 2, one
line on stderr naming the file, the key and the rule, no traceback, no AWS call and no request to OSCAR.

Three sources: every field of every spec given a value of the wrong type and every section an unknown key
(walked from the spec dataclasses, so a new field is covered the day it is added); hand-written cases
(malformed YAML, dangling storage references, hostile paths, cross-field rules of Batch, API Gateway, images
and OSCAR); and hypothesis-generated values outside each rule.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.oscar_server import OscarServer
from scar.config import specs
from tests.integration.lifecycle_support import CallCounter, make_engine, write_scar_cfg

KeyPath = tuple[str | int, ...]
AWS = ("functions", "aws", 0)
LAMBDA = (*AWS, "lambda")
OSCAR = ("functions", "oscar", 0, "c")
ROLE = "arn:aws:iam::123456789012:role/scar-test-role"


@pytest.fixture(scope="module")
def oscar() -> Iterator[OscarServer]:
    """One local OSCAR API for the module: the corpus must never send it a request."""
    with OscarServer(users={"alice": "pw"}) as server:
        yield server
    assert server.requests == [], [f"{r.method} {r.path}" for r in server.requests]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_engine(tmp_path_factory.mktemp("engine") / "englib.tar.gz")


@pytest.fixture
def check(scar, isolated_env, engine, oscar, monkeypatch):
    """`check(doc_or_text, key, rule)`: both commands reject the FDL with one line naming file, key and rule.

    AWS is a closed port on 127.0.0.1 with fake credentials, and the counter sees every call scar's clients
    would send (a call that failed to connect still counts)."""
    write_scar_cfg(isolated_env, engine)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIACORPUSFAKE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "corpus-fake-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    counter = CallCounter(monkeypatch)
    Path("script.sh").write_text("echo hi\n")

    def run(document: dict | str, key: str, rule: str) -> None:
        text = document if isinstance(document, str) else yaml.safe_dump(_resolve(document, oscar))
        Path("fdl.yaml").write_bytes(text.encode("utf-8", "surrogateescape"))
        for command in ("validate", "init"):
            result = scar(command, "-f", "fdl.yaml")
            lines = result.stderr.splitlines()
            assert result.code == 2, (command, result)
            assert "Traceback" not in result.stdout + result.stderr
            assert len(lines) == 1, (command, lines)
            line = lines[0]
            assert line.startswith("scar: error: fdl.yaml"), line
            assert key in line, (key, line)
            assert rule in line.split(key, 1)[1], (rule, line)
        assert counter.calls == {}

    return run


def _resolve(document: dict, oscar: OscarServer) -> dict:
    """The OSCAR endpoint is known only once the server runs: `@oscar` stands for it."""
    text = yaml.safe_dump(document)
    return yaml.safe_load(text.replace("'@oscar'", repr(oscar.endpoint)).replace("@oscar", oscar.endpoint))


def aws_fdl() -> dict:
    return {"functions": {"aws": [{"lambda": {"name": "fn", "container": {"image": "busybox"}}}]}}


def oscar_fdl() -> dict:
    return {"functions": {"oscar": [{"c": {"name": "svc", "image": "busybox", "script": "script.sh",
                                           "endpoint": "@oscar", "auth_user": "alice", "auth_password": "pw"}}]}}


def providers_fdl() -> dict:
    document = aws_fdl()
    document["storage_providers"] = {"s3": {"x": {}}, "minio": {"x": {"endpoint": "https://minio.example.org"}},
                                     "onedata": {"x": {"oneprovider_host": "h", "token": "t", "space": "s"}}}
    return document


def with_value(base: dict, path: KeyPath, value: Any) -> dict:
    document = copy.deepcopy(base)
    node: Any = document
    for part, after in itertools.pairwise(path):
        if isinstance(part, str) and part not in node:
            node[part] = [None] if isinstance(after, int) else {}
        node = node[part]
    node[path[-1]] = value
    return document


def shown(path: KeyPath) -> str:
    """A key path as messages show it: functions.aws[0].lambda.memory."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


# ---- every field of every spec: a value of the wrong type; every section: an unknown key ------------------

WRONG = {str: ({"x": 1}, "must be a text value"), Path: ({"x": 1}, "must be a path"),
         int: ("lots", "must be a whole number"), float: ("lots", "must be a number"),
         bool: ("maybe", "must be true or false")}
ROOTS: list[tuple[str, Any, KeyPath, type]] = [
    ("aws", aws_fdl, AWS, specs.FunctionSpec),
    ("oscar", oscar_fdl, OSCAR, specs.OscarServiceSpec),
    ("s3", providers_fdl, ("storage_providers", "s3", "x"), specs.S3ProviderSpec),
    ("minio", providers_fdl, ("storage_providers", "minio", "x"), specs.MinioProviderSpec),
    ("onedata", providers_fdl, ("storage_providers", "onedata", "x"), specs.OnedataProviderSpec),
]
NOT_IN_AN_FDL = {(specs.OscarServiceSpec, "cluster_id")}  # the entry's key, refused among the service's keys


def _plain(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return next(a for a in typing.get_args(tp) if a is not type(None))
    return tp


def _walk(cls: type, path: KeyPath) -> Iterator[tuple[KeyPath, Any, str]]:
    """(path, wrong value, rule) for every field under `cls`, and an unknown key in each section."""
    yield (*path, "zz_not_a_key"), 1, "unknown key"
    hints = typing.get_type_hints(cls)
    for fld in dataclasses.fields(cls):
        if (cls, fld.name) in NOT_IN_AN_FDL:
            continue
        key = fld.metadata.get("key") or fld.name
        tp = _plain(hints[fld.name])
        child = (*path, key)
        origin = typing.get_origin(tp)
        if dataclasses.is_dataclass(tp):
            yield child, [1, 2], "must be a mapping of keys to values"
            yield from _walk(tp, child)
        elif origin is list:
            yield child, {"x": 1}, "must be a list"
            (item,) = typing.get_args(tp)
            if dataclasses.is_dataclass(item):
                yield (*child, 0), "text", "must be a mapping of keys to values"
        elif origin is dict:
            yield child, [1, 2], "must be a mapping of keys to values"
        else:
            value, rule = WRONG[tp]
            yield child, value, rule


TYPE_CASES = [pytest.param(base, path, value, rule, id=f"{root}:{shown(path[len(top):]) or '.'}:{rule.split()[-1]}")
              for root, base, top, cls in ROOTS for path, value, rule in _walk(cls, top)]


@pytest.mark.parametrize(("base", "path", "value", "rule"), TYPE_CASES)
def test_a_wrong_type_anywhere_is_one_clear_line(check, base, path, value, rule):
    check(with_value(base(), path, value), shown(path), rule)


@pytest.mark.parametrize("base", [aws_fdl, oscar_fdl, providers_fdl])
def test_the_bases_are_valid(scar, isolated_env, engine, oscar, base):
    """Each case breaks exactly one thing of a valid FDL."""
    write_scar_cfg(isolated_env, engine)
    Path("script.sh").write_text("echo hi\n")
    Path("fdl.yaml").write_text(yaml.safe_dump(_resolve(base(), oscar)))
    result = scar("validate", "-f", "fdl.yaml")
    assert result.code == 0, result.stderr


# ---- hand-written: limits, references, paths, cross-field rules, YAML -------------------------------------


def aws(lambda_: dict | None = None, **function: Any) -> dict:
    """One AWS function: `lambda_` keys over the base's, `function` keys beside `lambda`."""
    document = aws_fdl()
    entry = document["functions"]["aws"][0]
    entry["lambda"].update(lambda_ or {})
    entry.update(function)
    return document


def batch(**overrides: Any) -> dict:
    """A function run on AWS Batch, valid until `overrides` (keys of `batch`, or `lambda.*`) break it."""
    compute = {"subnets": ["subnet-1"], "security_group_ids": ["sg-1"]}
    lambda_ = {"execution_mode": "lambda-batch", "deployment": {"bucket": "scar-artifacts"}}
    settings_ = {"compute_resources": compute}
    for key, value in overrides.items():
        if key.startswith("lambda."):
            lambda_[key.removeprefix("lambda.")] = value
        elif key.startswith("compute."):
            compute[key.removeprefix("compute.")] = value
        else:
            settings_[key] = value
    return aws(lambda_, batch=settings_)


def oscar_service(**keys: Any) -> dict:
    document = oscar_fdl()
    document["functions"]["oscar"][0]["c"].update(keys)
    return document


def storage(io: dict, providers: dict | None = None) -> dict:
    document = aws({"input": [io]})
    if providers is not None:
        document["storage_providers"] = providers
    return document


L = "functions.aws[0].lambda."
F = "functions.aws[0]."
S = "functions.oscar[0].c."
LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:l{}:1"
NESTED = "functions: " + "[" * 200 + "]" * 200 + "\n"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n" for p, n in itertools.pairwise("abcdefg")) + "functions: {}\n"

HAND: list[tuple[str, dict | str, str, str]] = [
    # limits and enumerations of Lambda
    ("memory-low", aws({"memory": 64}), L + "memory", "must be from 128 to 10240 MB"),
    ("memory-negative", aws({"memory": -512}), L + "memory", "must be from 128 to 10240 MB"),
    ("memory-fraction", aws({"memory": 512.5}), L + "memory", "must be a whole number"),
    ("memory-list", aws({"memory": [512]}), L + "memory", "must be a whole number"),
    ("timeout-zero", aws({"timeout": 0}), L + "timeout", "must be from 1 to 900 seconds"),
    ("timeout-huge", aws({"timeout": 10 ** 30}), L + "timeout", "must be from 1 to 900 seconds"),
    ("ephemeral-low", aws({"ephemeral_storage": 511}), L + "ephemeral_storage", "must be from 512 to 10240 MB"),
    ("description-long", aws({"description": "d" * 257}), L + "description", "at most 256"),
    ("runtime", aws({"runtime": "python2.7"}), L + "runtime", "must be one of"),
    ("name-space", aws({"name": "my function"}), L + "name", "must be 1 to 64 letters"),
    ("name-long", aws({"name": "f" * 65}), L + "name", "must be 1 to 64 letters"),
    ("name-traversal", aws({"name": "../fn"}), L + "name", "must be 1 to 64 letters"),
    ("name-empty", aws({"name": ""}), L + "name", "must be 1 to 64 letters"),
    ("name-newline", aws({"name": "fn\nscar: error: forged"}), L + "name", "must be 1 to 64 letters"),
    ("role", aws(iam={"role": "arn:aws:iam::1234:role/x"}), F + "iam.role", "must be an IAM role ARN"),
    ("region", aws(region="eu-moon-1"), F + "region", "must be an AWS region"),
    ("log-level", aws({"log_level": "loud"}), L + "log_level", "must be one of"),
    ("execution-mode", aws({"execution_mode": "lambda-bach"}), L + "execution_mode", "must be one of"),
    ("invocation-type", aws({"invocation_type": "Later"}), L + "invocation_type", "must be one of"),
    ("log-type", aws({"log_type": "All"}), L + "log_type", "must be one of"),
    ("two-architectures", aws({"architectures": ["x86_64", "arm64"]}), L + "architectures", "exactly one"),
    ("architecture", aws({"architectures": ["sparc"]}), L + "architectures", "must be one of: x86_64, arm64"),
    ("five-layers", aws({"layers": [LAYER.format(n) for n in range(5)]}), L + "layers", "at most 4 items"),
    ("layer-arn", aws({"layers": ["arn:aws:lambda:us-east-1:1:layer:x:1"]}), L + "layers", "layer version ARN"),
    ("environment-4kb", aws({"environment": {"Variables": {"BIG": "x" * 4094}}}), L + "environment.Variables",
     "Lambda allows 4096 bytes"),
    ("environment-value-list", aws({"environment": {"Variables": {"A": [1]}}}), L + "environment.Variables.A",
     "must be a text value"),
    ("threshold", aws({"timeout": 30, "container": {"image": "busybox", "timeout_threshold": 30}}),
     L + "container.timeout_threshold", "must be lower than the function's timeout"),
    ("threshold-range", aws({"container": {"image": "busybox", "timeout_threshold": 900}}),
     L + "container.timeout_threshold", "must be from 0 to 899 seconds"),
    ("no-image", aws({"container": {}}), L + "container.image", "is required"),
    ("image-space", aws({"container": {"image": "busy box"}}), L + "container.image", "no spaces"),
    ("image-and-file", aws({"container": {"image": "busybox", "image_file": "script.sh"}}),
     L + "container.image_file", "cannot be given together"),
    ("image-runtime", aws({"runtime": "image", "container": {"image": "a b"}}), L + "container.image", "no spaces"),
    ("payload-size", aws({"deployment": {"max_payload_size": 0}}), L + "deployment.max_payload_size",
     "must be at least 1"),
    ("deployment-bucket", aws({"deployment": {"bucket": "Bad_Bucket"}}), L + "deployment.bucket",
     "valid S3 bucket name"),
    ("supervisor-version", aws({"supervisor": {"version": "../../x"}}), L + "supervisor.version",
     "must be builtin, latest or a tag"),
    ("layer-name", aws({"supervisor": {"layer_name": "a b"}}), L + "supervisor.layer_name", "Lambda layer name"),
    ("engine-url", aws({"supervisor": {"udocker_engine": {"url": "ftp://x"}}}), L + "supervisor.udocker_engine.url",
     "an http(s) URL"),
    ("engine-sha", aws({"supervisor": {"udocker_engine": {"sha256": "zz"}}}), L + "supervisor.udocker_engine.sha256",
     "must be"),
    ("runner", aws({"supervisor": {"runner": "docker"}}), L + "supervisor.runner", "must be one of"),
    ("execmode", aws({"supervisor": {"udocker_execmode": "Z9"}}), L + "supervisor.udocker_execmode", "must be one of"),
    ("subnets", aws({"vpc": {"SubnetIds": [f"subnet-{n}" for n in range(17)]}}), L + "vpc.SubnetIds",
     "at most 16 items"),
    ("security-groups", aws({"vpc": {"SecurityGroupIds": [f"sg-{n}" for n in range(6)]}}),
     L + "vpc.SecurityGroupIds", "at most 5 items"),
    ("efs-arn", aws({"file_system": [{"Arn": "x", "LocalMountPath": "/mnt/data"}]}), L + "file_system[0].Arn",
     "EFS access point ARN"),
    ("efs-mount", aws({"file_system": [{"Arn": "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/"
                                               "fsap-0123456789abcdef0", "LocalMountPath": "/tmp"}]}),
     L + "file_system[0].LocalMountPath", "under /mnt/"),
    ("retention", aws(cloudwatch={"log_retention_policy_in_days": 2}), F + "cloudwatch.log_retention_policy_in_days",
     "must be one of"),
    # API Gateway
    ("api-auth", aws(api_gateway={"auth": "sigv4"}), F + "api_gateway.auth", "must be one of: none, iam"),
    ("api-stage", aws(api_gateway={"stage_name": "a/b"}), F + "api_gateway.stage_name", "letters, digits"),
    ("api-stage-long", aws(api_gateway={"stage_name": "s" * 129}), F + "api_gateway.stage_name", "letters, digits"),
    ("api-name-long", aws(api_gateway={"name": "n" * 1025}), F + "api_gateway.name", "at most 1024"),
    ("api-unknown", aws(api_gateway={"stage": "prod"}), F + "api_gateway.stage", "unknown key"),
    # AWS Batch
    ("batch-subnets", batch(**{"compute.subnets": []}), F + "batch.compute_resources.subnets", "at least one subnet"),
    ("batch-groups", batch(**{"compute.security_group_ids": []}), F + "batch.compute_resources.security_group_ids",
     "at least one security group"),
    ("batch-fargate", batch(**{"compute.type": "FARGATE"}), F + "batch.compute_resources.type", "must be EC2 or SPOT"),
    ("batch-type", batch(**{"compute.type": "GPU"}), F + "batch.compute_resources.type", "must be one of"),
    ("batch-bucket", batch(**{"lambda.deployment": {}}), L + "deployment.bucket", "is required with"),
    ("batch-image-file", batch(**{"lambda.container": {"image_file": "script.sh"}}), L + "container.image",
     "AWS Batch runs the image itself"),
    ("batch-vcpus-fraction", batch(vcpus=1.5), F + "batch.vcpus", "whole number of vCPUs"),
    ("batch-vcpus-above-max", batch(vcpus=4), F + "batch.vcpus", "max_v_cpus"),
    ("batch-vcpus-low", batch(vcpus=0.1), F + "batch.vcpus", "at least 0.25"),
    ("batch-memory", batch(memory=2), F + "batch.memory", "at least 4 MiB"),
    ("batch-desired", batch(**{"compute.desired_v_cpus": 3}), F + "batch.compute_resources.desired_v_cpus",
     "between min_v_cpus"),
    ("batch-max", batch(**{"compute.max_v_cpus": 0}), F + "batch.compute_resources.max_v_cpus", "at least 1"),
    ("batch-bid", batch(**{"compute.bid_percentage": 101}), F + "batch.compute_resources.bid_percentage",
     "from 1 to 100"),
    ("batch-strategy", batch(**{"compute.allocation_strategy": "CHEAP"}),
     F + "batch.compute_resources.allocation_strategy", "must be one of"),
    ("batch-state", batch(state="ON"), F + "batch.state", "must be one of"),
    ("batch-nodes", batch(multi_node_parallel={"number_nodes": 0}), F + "batch.multi_node_parallel.number_nodes",
     "from 1 to 1000"),
    ("batch-main-node", batch(multi_node_parallel={"main_node_index": -1}),
     F + "batch.multi_node_parallel.main_node_index", "at least 0"),
    # storage: dangling references and bad paths
    ("io-dangling-s3", storage({"storage_provider": "s3.mine", "path": "bucket/in"}), L + "input[0].storage_provider",
     "is not defined in storage_providers"),
    ("io-dangling-minio", storage({"storage_provider": "minio.store", "path": "bucket/in"}),
     L + "input[0].storage_provider", "is not defined in storage_providers"),
    ("io-dangling-onedata", storage({"storage_provider": "onedata.od", "path": "bucket/in"}),
     L + "input[0].storage_provider", "is not defined in storage_providers"),
    ("io-dangling-other-kind", storage({"storage_provider": "minio.x", "path": "bucket/in"}, {"s3": {"x": {}}}),
     L + "input[0].storage_provider", "is not defined in storage_providers"),
    ("io-kind", storage({"storage_provider": "dropbox", "path": "bucket/in"}), L + "input[0].storage_provider",
     "must be s3, s3.ID"),
    ("io-no-path", storage({"storage_provider": "s3"}), L + "input[0].path", "is required"),
    ("io-traversal", storage({"storage_provider": "s3", "path": "../../etc"}), L + "input[0].path",
     "valid bucket name"),
    ("io-bucket-case", storage({"storage_provider": "s3", "path": "Bad_Bucket/in"}), L + "input[0].path",
     "valid bucket name"),
    ("io-loop", aws({"input": [{"storage_provider": "s3", "path": "bucket/in"}],
                     "output": [{"storage_provider": "s3", "path": "bucket/in/out"}]}),
     L + "output[0].path", "inside the input folder"),
    ("provider-kind", storage({"storage_provider": "s3", "path": "bucket/in"}, {"ftp": {"x": {}}}),
     "storage_providers.ftp", "unknown key"),
    ("minio-endpoint", storage({"storage_provider": "s3", "path": "bucket/in"}, {"minio": {"x": {}}}),
     "storage_providers.minio.x.endpoint", "is required"),
    ("minio-endpoint-url", storage({"storage_provider": "s3", "path": "bucket/in"},
                                   {"minio": {"x": {"endpoint": "minio.local"}}}),
     "storage_providers.minio.x.endpoint", "an http(s) URL"),
    ("onedata-token", storage({"storage_provider": "s3", "path": "bucket/in"},
                              {"onedata": {"x": {"oneprovider_host": "h", "space": "s"}}}),
     "storage_providers.onedata.x.token", "is required"),
    # hostile and missing local paths
    ("init-script-missing", aws({"init_script": "missing.sh"}), L + "init_script", "is not a file"),
    ("init-script-directory", aws({"init_script": "/etc"}), L + "init_script", "is not a file"),
    ("init-script-traversal", aws({"init_script": "../../../../../../nonexistent/x.sh"}), L + "init_script",
     "is not a file"),
    ("init-script-nul", aws({"init_script": "script.sh\0/../../etc/passwd"}), L + "init_script",
     "must not contain a NUL character"),
    ("run-script-home", aws({"run_script": "~nosuchuser/run.sh"}), L + "run_script", "home folder of an unknown user"),
    ("payload-missing", aws({"extra_payload": "/nonexistent/../payload"}), L + "extra_payload", "does not exist"),
    ("init-script-device", aws({"init_script": "/dev/null"}), L + "init_script", "is not a file"),
    # OSCAR
    ("oscar-name", oscar_service(name="My_Service"), S + "name", "must be a DNS label"),
    ("oscar-name-long", oscar_service(name="s" * 64), S + "name", "must be a DNS label"),
    ("oscar-image", oscar_service(image="a b"), S + "image", "no spaces"),
    ("oscar-script", oscar_service(script="missing.sh"), S + "script", "is not a file"),
    ("oscar-script-traversal", oscar_service(script="../../../../../../etc"), S + "script", "is not a file"),
    ("oscar-script-nul", oscar_service(script="a\0b"), S + "script", "must not contain a NUL character"),
    ("oscar-memory", oscar_service(memory="1TB"), S + "memory", "a memory size in Mi or Gi"),
    ("oscar-memory-zero", oscar_service(memory="0Mi"), S + "memory", "a memory size in Mi or Gi"),
    ("oscar-cpu", oscar_service(cpu="lots"), S + "cpu", "a CPU quantity"),
    ("oscar-cpu-zero", oscar_service(cpu="0m"), S + "cpu", "must be more than 0"),
    ("oscar-total-memory", oscar_service(total_memory="4GB"), S + "total_memory", "a memory size"),
    ("oscar-log-level", oscar_service(log_level="loud"), S + "log_level", "must be one of"),
    ("oscar-endpoint", oscar_service(endpoint="ftp://oscar"), S + "endpoint", "an http(s) URL"),
    ("oscar-no-endpoint", oscar_service(endpoint=""), S + "endpoint", "is required"),
    ("oscar-half-auth", oscar_service(auth_password=""), S + "auth_password", "is required with auth_user"),
    ("oscar-two-auths", oscar_service(oidc_token="tok"), S + "oidc_token", "cannot be given together"),
    ("oscar-bare-s3", oscar_service(input=[{"storage_provider": "s3", "path": "bucket/in"}]),
     S + "input[0].storage_provider", "an OSCAR service has no AWS account"),
    ("oscar-dangling", oscar_service(output=[{"storage_provider": "minio.other", "path": "bucket/out"}]),
     S + "output[0].storage_provider", "is not defined in storage_providers"),
    ("oscar-cluster-id", oscar_service(cluster_id="z"), S + "cluster_id", "the cluster is the entry's key"),
    ("oscar-two-clusters", {"functions": {"oscar": [{"a": {}, "b": {}}]}}, "functions.oscar[0]",
     "a mapping of one cluster id"),
    # the document itself
    ("duplicate-names", {"functions": {"aws": [aws_fdl()["functions"]["aws"][0]] * 2}}, "functions.aws",
     "used by more than one function"),
    ("top-level-key", {**aws_fdl(), "storage_provider": {}}, "storage_provider", "unknown key"),
    ("platform", {"functions": {**aws_fdl()["functions"], "gcp": []}}, "functions.gcp", "unknown key"),
    ("not-a-mapping", "- just\n- a list\n", "fdl.yaml", "must be a mapping with a 'functions' key"),
    ("empty", "", "fdl.yaml", "must be a mapping with a 'functions' key"),
    ("scalar", "42\n", "fdl.yaml", "must be a mapping with a 'functions' key"),
    ("duplicate-key", "functions:\n  aws:\n  - lambda:\n      name: a\n      name: b\n", L + "name", "key given twice"),
    ("unclosed", "functions:\n  aws: [\n", "fdl.yaml:3", "invalid YAML"),
    ("tab", "functions:\n\taws: []\n", "fdl.yaml:2", "invalid YAML"),
    ("mapping-value", "functions:\n  aws:\n  - lambda: name: fn\n", "fdl.yaml:3", "invalid YAML"),
    ("python-tag", "!!python/object/apply:os.system ['touch pwned']\n", "fdl.yaml:1", "invalid YAML"),
    ("undefined-alias", "functions: *nothing\n", "fdl.yaml:1", "invalid YAML"),
    ("nested", NESTED, "fdl.yaml:1", "nested more than 100 levels"),
    ("alias-bomb", BOMB, "fdl.yaml", "alias bombs"),
    ("not-utf8", "functions:\n  aws: [\udcff]\n", "fdl.yaml", "cannot read the file"),
]


@pytest.mark.parametrize(("document", "key", "rule"), [case[1:] for case in HAND], ids=[case[0] for case in HAND])
def test_a_hand_written_bad_input_is_one_clear_line(check, document, key, rule):
    check(document, key, rule)


# ---- generated: values just outside each rule (hypothesis, derandomized so CI runs the same examples) ------

GENERATED = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
RANGES: list[tuple[dict, KeyPath, int, int, str]] = [
    (aws_fdl(), (*LAMBDA, "memory"), 128, 10240, "MB"),
    (aws_fdl(), (*LAMBDA, "timeout"), 1, 900, "seconds"),
    (aws_fdl(), (*LAMBDA, "ephemeral_storage"), 512, 10240, "MB"),
    (aws_fdl(), (*LAMBDA, "container", "timeout_threshold"), 0, 899, "seconds"),
    (aws_fdl(), (*AWS, "batch", "compute_resources", "bid_percentage"), 1, 100, "percent"),
    (aws_fdl(), (*AWS, "batch", "multi_node_parallel", "number_nodes"), 1, 1000, "nodes"),
]
CHOICES: list[tuple[dict, KeyPath, tuple[str, ...]]] = [
    (aws_fdl(), (*LAMBDA, "runtime"), ()),
    (aws_fdl(), (*LAMBDA, "execution_mode"), ("lambda", "lambda-batch", "batch")),
    (aws_fdl(), (*LAMBDA, "log_level"), specs.LOG_LEVELS),
    (aws_fdl(), (*LAMBDA, "invocation_type"), ("RequestResponse", "Event", "DryRun")),
    (aws_fdl(), (*LAMBDA, "supervisor", "runner"), ("udocker", "sandbox")),
    (aws_fdl(), (*AWS, "api_gateway", "auth"), ("none", "iam")),
    (aws_fdl(), (*AWS, "batch", "state"), ("ENABLED", "DISABLED")),
    (aws_fdl(), (*AWS, "batch", "compute_resources", "type"), ("EC2", "SPOT", "FARGATE", "FARGATE_SPOT")),
    (oscar_fdl(), (*OSCAR, "log_level"), specs.LOG_LEVELS),
]
SECTIONS: list[tuple[dict, KeyPath, type]] = [
    (aws_fdl(), AWS, specs.FunctionSpec), (aws_fdl(), LAMBDA, specs.LambdaSpec),
    (aws_fdl(), (*LAMBDA, "container"), specs.ContainerSpec), (aws_fdl(), (*AWS, "batch"), specs.BatchSpec),
    (aws_fdl(), (*AWS, "api_gateway"), specs.ApiGatewaySpec), (aws_fdl(), (*AWS, "ecr"), specs.EcrSpec),
    (oscar_fdl(), OSCAR, specs.OscarServiceSpec),
]
TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=80)


def _known_keys(cls: type) -> set[str]:
    return {f.metadata.get("key") or f.name for f in dataclasses.fields(cls)}


@GENERATED
@given(case=st.sampled_from(RANGES), data=st.data())
def test_a_number_outside_its_range(check, case, data):
    base, path, low, high, unit = case
    value = data.draw(st.integers(max_value=low - 1) | st.integers(min_value=high + 1))
    check(with_value(base, path, value), shown(path), f"must be from {low} to {high} {unit}")


@GENERATED
@given(case=st.sampled_from(CHOICES), value=TEXT)
def test_a_word_outside_its_choices(check, case, value):
    base, path, allowed = case
    allowed = allowed or tuple(specs.LAMBDA_PYTHON_RUNTIMES) + ("image",)
    if value.strip().upper() in {a.upper() for a in allowed} or not value.strip():
        value = f"not-{value}"
    check(with_value(base, path, value), shown(path), "must be one of")


@GENERATED
@given(case=st.sampled_from(SECTIONS), key=st.from_regex(r"[a-z][a-z0-9_]{0,24}", fullmatch=True))
def test_an_unknown_key_in_any_section(check, case, key):
    base, path, cls = case
    if key in _known_keys(cls):
        key += "_zz"
    check(with_value(base, (*path, key), 1), shown((*path, key)), "unknown key")


@GENERATED
@given(name=TEXT.filter(lambda text: not re.fullmatch(specs.FUNCTION_NAME, text)))
def test_a_function_name_outside_the_rule(check, name):
    check(with_value(aws_fdl(), (*LAMBDA, "name"), name), shown((*LAMBDA, "name")), "must be 1 to 64 letters")


@GENERATED
@given(bucket=TEXT.filter(lambda text: not re.fullmatch(specs.BUCKET_NAME, text.strip("/").split("/", 1)[0])),
       where=st.sampled_from([(aws_fdl(), LAMBDA, "s3"), (oscar_fdl(), OSCAR, "minio")]),
       key=st.sampled_from(["input", "output"]))
def test_a_storage_path_without_a_valid_bucket(check, bucket, where, key):
    base, path, provider = where
    document = with_value(base, (*path, key), [{"storage_provider": provider, "path": bucket}])
    check(document, shown((*path, key, 0, "path")), "must be BUCKET[/FOLDER]")


@GENERATED
@given(memory=TEXT.filter(lambda text: not re.fullmatch(specs.OSCAR_MEMORY, text)))
def test_an_oscar_memory_outside_the_rule(check, memory):
    check(with_value(oscar_fdl(), (*OSCAR, "memory"), memory), shown((*OSCAR, "memory")), "a memory size in Mi")
