"""A function's region from the FDL is where it deploys, even with AWS_DEFAULT_REGION set (moto keeps
regions apart, so the function is looked for in both)."""

from __future__ import annotations

import boto3

from tests.integration.conftest import write_fdl

FDL = """
functions:
  aws:
  - region: eu-west-1
    lambda:
      name: regional-fn
      container: {image: busybox}
"""


def _exists(endpoint: str, region: str, name: str) -> bool:
    names = [f["FunctionName"] for f in
             boto3.client("lambda", endpoint_url=endpoint, region_name=region).list_functions()["Functions"]]
    return name in names


def test_the_fdl_region_beats_aws_default_region(scar, deploy_env, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    result = scar("init", "-f", write_fdl(tmp_path, FDL))
    assert result.code == 0, result.stderr
    assert _exists(deploy_env, "eu-west-1", "regional-fn")
    assert not _exists(deploy_env, "us-east-1", "regional-fn")


def test_region_flag_beats_the_fdl(scar, deploy_env, tmp_path):
    result = scar("init", "-f", write_fdl(tmp_path, FDL), "--region", "eu-central-1")
    assert result.code == 0, result.stderr
    assert _exists(deploy_env, "eu-central-1", "regional-fn")
    assert not _exists(deploy_env, "eu-west-1", "regional-fn")
