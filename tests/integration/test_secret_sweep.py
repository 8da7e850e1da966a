"""One deployment with every kind of secret scar handles (AWS keys and session token, S3, MinIO and Onedata
storage credentials, an OSCAR password, an OSCAR OIDC token), then a sweep of everything it produced for them:
the CLI's stdout and stderr under --debug, -v and -j; every parameter of every AWS request scar built but
SSM's PutParameter (function packages, layers, environments, job definitions: every zip and gzip member
opened); what moto then holds (Lambda configurations, the deployment bucket's objects, Batch job definitions
and launch templates with their user data decoded, API Gateway); the image layers in a real registry; the
bodies sent to OSCAR; every file scar wrote under HOME. ~/.cache/scar must be
private to the user: its folders are 0700 (scar.cfg's own modes are checked in test_cli_contract.py)."""

from __future__ import annotations

import base64
import gzip
import io
import json
import logging
import shutil
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from devtools import registry as local
from devtools.images import static_busybox
from devtools.oscar_server import OscarServer
from scar.aws.session import AwsSession
from tests import secret_sweep as sweep
from tests.integration.batch_support import create_batch_roles, network
from tests.integration.conftest import write_fdl

pytestmark = pytest.mark.skipif(not local.available() or static_busybox() is None or shutil.which("patchelf") is None,
                                reason="docker-registry, busybox-static and patchelf are needed "
                                       "(scripts/install-system-deps.sh)")

REGION = "us-east-1"
AWS_SECRET, AWS_TOKEN = sweep.SWEEP_AWS_SECRET, sweep.SWEEP_AWS_TOKEN
S3_ACCESS, S3_SECRET = sweep.SWEEP_S3
MINIO_ACCESS, MINIO_SECRET = sweep.SWEEP_MINIO
ONEDATA_TOKEN = sweep.SWEEP_ONEDATA_TOKEN
OSCAR_PASSWORD, OSCAR_TOKEN = sweep.SWEEP_OSCAR_PASSWORD, sweep.SWEEP_OSCAR_TOKEN
STORAGE = (S3_ACCESS, S3_SECRET, MINIO_ACCESS, MINIO_SECRET, ONEDATA_TOKEN)
CLUSTER = (OSCAR_PASSWORD, OSCAR_TOKEN)
EVERY = (AWS_SECRET, AWS_TOKEN, *STORAGE, *CLUSTER)


def expanded(data: bytes, depth: int = 0) -> Iterator[bytes]:
    """`data`, and every member of it that is a zip or a gzip stream, recursively (a compressed secret does
    not show in the raw bytes)."""
    yield data
    if depth > 4:
        return
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                yield from expanded(archive.read(name), depth + 1)
    elif data[:2] == b"\x1f\x8b":
        yield from expanded(gzip.decompress(data), depth + 1)


def leaks(where: str, data: bytes | str, secrets: tuple[str, ...] = EVERY) -> list[str]:
    raw = data.encode() if isinstance(data, str) else data
    return [f"{secret!r} in {where}" for chunk in expanded(raw) for secret in secrets if secret.encode() in chunk]


@pytest.fixture
def clusters() -> Iterator[tuple[OscarServer, OscarServer]]:
    with OscarServer(users={"alice": OSCAR_PASSWORD}) as basic, OscarServer(tokens=(OSCAR_TOKEN,)) as oidc:
        yield basic, oidc


def _fdl(folder: Path, registry, base_image, subnets, groups) -> Path:
    (folder / "script.sh").write_text("#!/bin/sh\necho done\n")
    return write_fdl(folder, f"""
        functions:
          aws:
          - lambda:
              name: sweep-zip
              container: {{image: busybox}}
              input: [{{storage_provider: minio.store, path: sweep-in/in}}]
              output: [{{storage_provider: s3.archive, path: sweep-out/out}}, {{storage_provider: onedata.od,
                        path: sweep-od/out}}]
            api_gateway: {{name: sweep-api}}
          - lambda:
              name: sweep-img
              runtime: image
              init_script: script.sh
              container: {{image_file: {base_image}}}
              input: [{{storage_provider: minio.store, path: sweep-img/in}}]
            ecr: {{registry_url: "{registry.url}"}}
          - lambda:
              name: sweep-batch
              execution_mode: batch
              init_script: script.sh
              container: {{image: "python:3.12-slim"}}
              deployment: {{bucket: sweep-batch-deploy}}
              input: [{{storage_provider: s3.archive, path: sweep-batch/in}}]
            batch:
              compute_resources: {{subnets: {json.dumps(subnets)}, security_group_ids: {json.dumps(groups)}}}
          oscar:
          - basic: {{name: sweep-svc, image: busybox, script: script.sh,
                    input: [{{storage_provider: minio.store, path: svc/in}}]}}
          - oidc: {{name: sweep-svc2, image: busybox, script: script.sh}}
        storage_providers:
          minio:
            store: {{endpoint: "https://minio.example.org", access_key: {MINIO_ACCESS}, secret_key: {MINIO_SECRET}}}
          s3:
            archive: {{access_key: {S3_ACCESS}, secret_key: "{S3_SECRET}", region: eu-west-1}}
          onedata:
            od: {{oneprovider_host: op.example.org, space: sweep, token: {ONEDATA_TOKEN}}}
        """)


def _configure_clusters(home: Path, basic: OscarServer, oidc: OscarServer) -> None:
    config = home / ".scar" / "scar.cfg"
    data = json.loads(config.read_text())
    data["oscar"] = {"basic": {"endpoint": basic.endpoint, "auth_user": "alice", "auth_password": OSCAR_PASSWORD},
                     "oidc": {"endpoint": oidc.endpoint, "oidc_token": OSCAR_TOKEN}}
    config.write_text(json.dumps(data))
    config.chmod(0o600)


class SentParameters:
    """Every request scar's clients build, as the API parameters given to botocore (so a function zip or a
    layer is seen as the bytes sent, before any emulator keeps or drops them)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: list[tuple[str, dict]] = []
        original = AwsSession.client

        def client(session: AwsSession, service: str):
            built = original(session, service)
            if not getattr(built, "_sweep_observed", False):
                built.meta.events.register("before-parameter-build", self._record)
                built._sweep_observed = True
            return built

        monkeypatch.setattr(AwsSession, "client", client)

    def _record(self, params: dict, model, **kwargs) -> None:
        self.sent.append((f"{model.service_model.service_name}.{model.name}", dict(params)))

    def leaks(self) -> list[str]:
        """Secrets in any request but SSM's PutParameter, which keeps the storage credentials as SecureStrings."""
        found: list[str] = []
        for operation, params in self.sent:
            if operation == "ssm.PutParameter":
                continue
            for key, value in params.items():
                data = value if isinstance(value, bytes) else json.dumps(value, default=str).encode()
                found += leaks(f"{operation}'s {key}", data)
        return found


def _cloud_leaks(endpoint: str) -> list[str]:
    """Everything the emulator holds that a function, a job or a caller could read (not SSM: the
    credentials are kept there on purpose, as SecureStrings)."""
    def client(service: str):
        return boto3.client(service, endpoint_url=endpoint, region_name=REGION)

    found: list[str] = []
    lam = client("lambda")
    for function in lam.list_functions()["Functions"]:
        name = function["FunctionName"]
        detail = lam.get_function(FunctionName=name)
        found += leaks(f"{name}'s configuration", json.dumps(detail["Configuration"], default=str))
    for layer in lam.list_layers()["Layers"]:
        found += leaks(f"layer {layer['LayerName']}", json.dumps(layer, default=str))
    s3 = client("s3")
    for bucket in s3.list_buckets()["Buckets"]:
        for item in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", []):
            body = s3.get_object(Bucket=bucket["Name"], Key=item["Key"])["Body"].read()
            found += leaks(f"s3://{bucket['Name']}/{item['Key']}", body)
    batch, ec2 = client("batch"), client("ec2")
    definitions = batch.describe_job_definitions()["jobDefinitions"]
    assert definitions, "the Batch function has a job definition"
    found += leaks("Batch job definitions", json.dumps(definitions, default=str))
    found += leaks("Batch compute environments", json.dumps(batch.describe_compute_environments(), default=str))
    for template in ec2.describe_launch_templates()["LaunchTemplates"]:
        for version in ec2.describe_launch_template_versions(
                LaunchTemplateId=template["LaunchTemplateId"])["LaunchTemplateVersions"]:
            data = version["LaunchTemplateData"]
            found += leaks("a launch template", json.dumps(data, default=str))
            if "UserData" in data:
                found += leaks("a launch template's user data", base64.b64decode(data["UserData"]))
    apis = client("apigateway")
    for api in apis.get_rest_apis()["items"]:
        found += leaks(f"API {api['name']}", json.dumps(apis.get_resources(restApiId=api["id"], embed=["methods"]),
                                                        default=str))
    return found


def test_the_sweep_opens_zips_and_gzip_streams():
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", json.dumps({"key": MINIO_SECRET * 20}))
    data = gzip.compress(inner.getvalue())
    assert MINIO_SECRET.encode() not in data
    assert leaks("a layer", data) == [f"{MINIO_SECRET!r} in a layer"]


def test_debug_records_are_redacted_before_any_other_handler_sees_them(scar, cloud, caplog, monkeypatch):
    """--debug turns botocore's request log on for the whole process: a handler someone else attached to the
    root logger (here pytest's) must get the records already redacted."""
    monkeypatch.setenv("AWS_SESSION_TOKEN", AWS_TOKEN)
    caplog.set_level(logging.DEBUG)
    result = scar("--debug", "ls", "-b", "no-such-bucket-sweep")
    assert "X-Amz-Security-Token" in caplog.text  # botocore did log the request headers
    assert AWS_TOKEN not in caplog.text + result.stderr


def test_no_secret_anywhere_a_deployment_leaves(scar, deploy_env, isolated_env, tmp_path, registry, base_image,
                                                clusters, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", AWS_TOKEN)
    create_batch_roles(deploy_env)
    subnets, groups = network(deploy_env)
    basic, oidc = clusters
    _configure_clusters(isolated_env, basic, oidc)
    fdl = _fdl(tmp_path, registry, base_image, subnets, groups)
    sent = SentParameters(monkeypatch)

    found: list[str] = []
    for argv in (("--debug", "-v", "init", "-f", fdl), ("-v", "-j", "init", "-f", fdl, "--dry-run"),
                 ("--debug", "-j", "ls"), ("-v", "ls"), ("--debug", "-v", "run", "-n", "sweep-zip", "-f", fdl,
                                                         "--no-files")):
        result = scar(*argv)
        assert result.code == 0, (argv, result.stderr[-3000:])
        found += leaks(f"stdout of {argv[:3]}", result.stdout) + leaks(f"stderr of {argv[:3]}", result.stderr)

    operations = {operation for operation, _ in sent.sent}
    assert {"lambda.CreateFunction", "lambda.PublishLayerVersion", "batch.RegisterJobDefinition",
            "ssm.PutParameter"} <= operations
    found += sent.leaks() + _cloud_leaks(deploy_env)
    for blob in (registry.storage / "docker/registry/v2/blobs").rglob("data"):
        found += leaks(f"registry blob {blob.parent.name[:12]}", blob.read_bytes())
    assert basic.services and oidc.services
    for server in (basic, oidc):
        for request in server.requests:
            found += leaks(f"{request.method} {request.path} to OSCAR", request.body, CLUSTER + (AWS_SECRET,))
    config = isolated_env / ".scar" / "scar.cfg"
    for path in isolated_env.rglob("*"):
        if path.is_file() and path != config:
            found += leaks(f"~/{path.relative_to(isolated_env)}", path.read_bytes())

    removed = scar("--debug", "-v", "-j", "rm", "-f", fdl, "-y")
    assert removed.code == 0, removed.stderr[-3000:]
    found += leaks("stdout of rm", removed.stdout) + leaks("stderr of rm", removed.stderr)
    assert found == []

    cache = isolated_env / ".cache" / "scar"
    assert cache.is_dir()
    exposed = [f"{path}: {oct(stat.S_IMODE(path.lstat().st_mode))}" for path in (cache, *cache.rglob("*"))
               if not path.is_symlink() and stat.S_IMODE(path.lstat().st_mode) & (0o077 if path.is_dir() else 0o022)]
    assert exposed == []  # every folder 0700 (so nothing below is reachable by others), no file writable by them
