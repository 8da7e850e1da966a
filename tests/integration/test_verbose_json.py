"""`-v -j`: the command's JSON document carries every AWS answer, as the original's verbose mode did."""

from __future__ import annotations

import json
import time

import boto3

from tests.conftest import REGION
from tests.integration.test_run import create_function


def _operations(stdout: str) -> dict[str, dict]:
    return {answer["Operation"]: answer for answer in json.loads(stdout)["AwsResponses"]}


def test_ls_bucket_put_and_get(scar, cloud, s3, tmp_path):
    (tmp_path / "f.txt").write_text("hello")
    put = scar("put", "-b", "verbose-bucket/in", "-p", tmp_path / "f.txt", "-v", "-j")
    assert put.code == 0, put.stderr
    assert "PutObject" in _operations(put.stdout) or "CreateMultipartUpload" in _operations(put.stdout)
    listed = scar("-v", "-j", "ls", "-b", "verbose-bucket/in")
    answers = _operations(listed.stdout)
    assert answers["ListObjectsV2"]["Service"] == "s3"
    assert [c["Key"] for c in answers["ListObjectsV2"]["Response"]["Contents"]] == ["in/f.txt"]
    assert answers["ListObjectsV2"]["Response"]["ResponseMetadata"]["HTTPStatusCode"] == 200
    got = scar("get", "-b", "verbose-bucket/in", "-p", tmp_path / "down", "-v", "-j")
    assert got.code == 0, got.stderr
    assert "ListObjectsV2" in _operations(got.stdout)
    assert "AwsResponses" not in json.loads(scar("-j", "ls", "-b", "verbose-bucket/in").stdout)  # -j alone


def test_run_and_log(scar, cloud):
    create_function(cloud, "verbose-fn")
    run = scar("run", "-n", "verbose-fn", "-v", "-j", "x")
    assert run.code == 0, run.stderr
    document = json.loads(run.stdout)
    assert document["LambdaOutput"]["Payload"] == '{"cmd_args": ["x"]}'
    answers = _operations(run.stdout)
    assert answers["GetFunctionConfiguration"]["Response"]["FunctionName"] == "verbose-fn" or \
        answers["GetFunction"]["Response"]["Configuration"]["FunctionName"] == "verbose-fn"
    assert answers["Invoke"]["Response"]["StatusCode"] == 200
    assert answers["Invoke"]["Response"]["Payload"] == "(streamed body)"
    client = boto3.client("logs", endpoint_url=cloud, region_name=REGION)
    client.create_log_group(logGroupName="/aws/lambda/verbose-fn")
    client.create_log_stream(logGroupName="/aws/lambda/verbose-fn", logStreamName="s")
    client.put_log_events(logGroupName="/aws/lambda/verbose-fn", logStreamName="s",
                          logEvents=[{"timestamp": int(time.time() * 1000), "message": "hi"}])
    logs = scar("log", "-n", "verbose-fn", "-v", "-j")
    assert logs.code == 0, logs.stderr
    document = json.loads(logs.stdout)
    assert [e["Message"] for e in document["Events"]] == ["hi"]
    assert {a["Service"] for a in document["AwsResponses"]} == {"logs"}
    assert "DescribeLogGroups" in _operations(logs.stdout)
