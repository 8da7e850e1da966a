"""Storage credentials go to SSM Parameter Store as SecureStrings; the function only knows their names."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import boto3
import pytest

from scar.aws import kinds as _registered  # noqa: F401 - registers the AWS kinds
from scar.aws.identity import caller_identity
from scar.aws.kinds.parameter import DESCRIPTION, KIND, digest
from scar.aws.provider import AwsProvider
from scar.aws.session import AwsSession
from scar.deploy.kind import Kinds
from scar.deploy.model import Action, ResourceId
from scar.supervisor.config import FunctionConfig
from scar.supervisor.storage import Storage, ssm_credentials
from tests.integration.conftest import write_fdl
from tests.integration.lifecycle_support import CallCounter

REGION = "us-east-1"
SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
FDL = """
functions:
  aws:
  - lambda:
      name: secret-fn
      container: {image: busybox}
      input: [{storage_provider: minio.store, path: minio-bucket/in}]
      output: [{storage_provider: s3.archive, path: archive-bucket/out}]
storage_providers:
  minio:
    store: {endpoint: "https://minio.example.org", access_key: MINIOKEY, secret_key: SECRET_VALUE}
  s3:
    archive: {access_key: AKIAARCHIVE, secret_key: SECRET_VALUE, region: eu-west-1}
"""


@pytest.fixture
def fdl(deploy_env, tmp_path):
    return write_fdl(tmp_path, FDL.replace("SECRET_VALUE", SECRET))


def ssm(endpoint: str):
    return boto3.client("ssm", endpoint_url=endpoint, region_name=REGION)


def test_credentials_are_secure_strings_and_never_in_the_function(scar, cloud, fdl, tmp_path):
    result = scar("init", "-f", fdl, "-v")
    assert result.code == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert "credentials /scar/secret-fn/storage/minio.store" in result.stdout
    parameter = ssm(cloud).get_parameter(Name="/scar/secret-fn/storage/minio.store", WithDecryption=True)["Parameter"]
    assert parameter["Type"] == "SecureString"
    assert json.loads(parameter["Value"]) == {"access_key": "MINIOKEY", "secret_key": SECRET}
    function = boto3.client("lambda", endpoint_url=cloud, region_name=REGION).get_function(FunctionName="secret-fn")
    assert SECRET not in json.dumps(function["Configuration"].get("Environment", {}))
    code = boto3.client("s3", endpoint_url=cloud, region_name=REGION)
    del code  # the package itself is checked below, as built from the same spec
    from scar.cli.main import Context  # noqa: F401  (the CLI built it; rebuild to inspect its bytes)

    package = _package(fdl)
    config = json.loads(zipfile.ZipFile(io.BytesIO(package)).read("function_config.yaml"))
    assert config["credentials"] == {"minio.store": "/scar/secret-fn/storage/minio.store",
                                     "s3.archive": "/scar/secret-fn/storage/s3.archive"}
    assert SECRET not in json.dumps(config) and "MINIOKEY" not in json.dumps(config)


def _package(fdl: Path) -> bytes:
    import argparse

    from scar.config.loader import load_settings
    from scar.package.function_config import function_config
    from scar.package.function_zip import build_function_zip

    args = argparse.Namespace(conf_file=str(fdl), config=None, region=None, profile=None, endpoint_url=None,
                              name=None)
    settings = load_settings(args, lambda message: None)
    spec = settings.functions[0]
    return build_function_zip(spec, function_config(spec, "test", providers=settings.storage_providers)).zip_bytes


def test_reinit_is_a_no_op_and_a_changed_secret_is_updated(scar, cloud, fdl, monkeypatch):
    assert scar("init", "-f", fdl).code == 0
    counter = CallCounter(monkeypatch)
    assert scar("init", "-f", fdl).code == 0
    assert counter.mutating == {}
    fdl.write_text(fdl.read_text().replace("MINIOKEY", "NEWMINIOKEY"))
    counter.reset()
    result = scar("init", "-f", fdl)
    assert result.code == 0, result.stderr
    assert counter.mutating == {"PutParameter": 1}
    value = ssm(cloud).get_parameter(Name="/scar/secret-fn/storage/minio.store", WithDecryption=True)
    assert json.loads(value["Parameter"]["Value"])["access_key"] == "NEWMINIOKEY"


def test_rm_deletes_the_credentials_without_decrypting_them(scar, cloud, fdl, monkeypatch):
    assert scar("init", "-f", fdl).code == 0
    counter = CallCounter(monkeypatch)
    result = scar("rm", "-n", "secret-fn")  # without the FDL: the function's tag says there are credentials
    assert result.code == 0, result.stderr
    assert counter.calls["DeleteParameter"] == 2
    assert counter.calls["GetParameter"] == 0  # nothing undoes `rm`: the values are never read
    assert "credentials /scar/secret-fn/storage/minio.store" in result.stdout
    assert ssm(cloud).get_parameters_by_path(Path="/scar/secret-fn", Recursive=True)["Parameters"] == []


def test_the_supervisor_reads_them_at_run_time(cloud):
    ssm(cloud).put_parameter(Name="/scar/fn/storage/s3.archive", Type="SecureString",
                             Value=json.dumps({"access_key": "AKIARUNTIME", "secret_key": "runtime-secret"}))
    config = FunctionConfig.from_dict({
        "name": "fn", "storage_providers": {"s3": {"archive": {"region": "eu-west-1"}}},
        "credentials": {"s3.archive": "/scar/fn/storage/s3.archive"}}, Path("."))
    storage = Storage(config, ssm_credentials(config.extra["credentials"]))
    client = storage.client("s3.archive")
    credentials = client._request_signer._credentials  # the keys the client signs with
    assert (credentials.access_key, credentials.secret_key) == ("AKIARUNTIME", "runtime-secret")
    assert client.meta.region_name == "eu-west-1"


def test_a_credential_deleted_by_init_is_put_back_by_its_undo(cloud):
    """The engine's DELETE of a parameter (a storage provider dropped from the FDL) keeps the old value in
    memory so that a rollback restores it; moto's SSM is the store."""
    session = AwsSession(REGION)
    provider = AwsProvider(session, caller_identity(session.client("sts")))
    name = "/scar/undo-fn/storage/minio.store"
    ssm(cloud).put_parameter(Name=name, Value="OLD-VALUE", Type="SecureString",
                             Description=f"{DESCRIPTION} {digest('OLD-VALUE')}")
    kind = Kinds("aws", provider)[KIND]
    rid = ResourceId(KIND, name, provider.scope, "undo-fn")
    (step,) = kind.removal(rid, kind.read(rid))
    assert step.action is Action.DELETE
    outputs: dict = {}
    kind.apply(step, None, outputs)
    assert ssm(cloud).describe_parameters()["Parameters"] == []
    kind.undo(step, outputs)
    restored = ssm(cloud).get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert restored["Value"] == "OLD-VALUE"
    removed: dict = {}
    kind.apply(kind.removal(rid, kind.read(rid))[0], None, removed, undoable=False)
    assert removed == {"deleted": True}  # `rm`: deleted without reading the value
