"""The event launcher (`scar run` on a function with an S3 input) against moto server, whose docker-less
Lambda echoes each payload back: what came back is what the function received."""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote_plus

import boto3
import pytest
from botocore.response import StreamingBody

from devtools.microburst import Microburst, MicroburstUnavailable, find_microburst
from scar.aws.session import AwsSession
from tests.integration.conftest import write_fdl

REGION = "us-east-1"
FDL = """
functions:
  aws:
  - lambda:
      name: batch-fn
      container: {image: busybox}
      input: [{storage_provider: s3, path: launch-bucket/in}]
      output: [{storage_provider: s3, path: launch-bucket/out}]
"""


class EchoRecorder:
    """Records the payloads moto echoes back for every Invoke scar sends (observes botocore's after-call
    event, and gives the response body back intact)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.echoes: list[tuple[str, dict]] = []
        original = AwsSession.client

        def client(session: AwsSession, service: str):
            built = original(session, service)
            if service == "lambda" and not getattr(built, "_scar_echo", False):
                built.meta.events.register("after-call.lambda.Invoke", self._record)
                built._scar_echo = True
            return built

        monkeypatch.setattr(AwsSession, "client", client)

    def _record(self, http_response, parsed, model, **kwargs) -> None:
        if "Payload" not in parsed:  # a throttled (error) answer carries no payload: botocore retries it
            return
        body = parsed["Payload"].read()
        parsed["Payload"] = StreamingBody(io.BytesIO(body), len(body))
        self.echoes.append((kwargs.get("context", {}).get("invocation_type", ""), json.loads(body)))

    def keys(self) -> list[str]:
        return [unquote_plus(event["Records"][0]["s3"]["object"]["key"]) for _, event in self.echoes]


@pytest.fixture
def deployed(scar, deploy_env, tmp_path):
    path = write_fdl(tmp_path, FDL)
    assert scar("init", "-f", path).code == 0
    return path


def put_objects(endpoint: str, keys: list[str]) -> None:
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: s3.put_object(Bucket="launch-bucket", Key=key, Body=key.encode()), keys))


def test_one_distinct_event_per_object_for_1000_objects(scar, cloud, deployed, monkeypatch):
    keys = [f"in/file {index:04d}+x.dat" for index in range(1000)]
    put_objects(cloud, [*keys, "in2/not-mine.dat", "out/result.dat"])
    recorder = EchoRecorder(monkeypatch)
    result = scar("run", "-f", deployed, "-y", "-j")
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["Events"], document["Sent"], document["Failed"]) == (1000, 1000, [])
    assert sorted(recorder.keys()) == sorted(keys)  # each object once, none twice, no stray folder
    records = [event["Records"][0] for _, event in recorder.echoes]
    assert {r["eventName"] for r in records} == {"ObjectCreated:Put"}
    assert {r["awsRegion"] for r in records} == {REGION}
    assert all(r["eventTime"].endswith("Z") for r in records)
    assert records[0]["s3"]["object"]["key"].startswith("in/file+")  # URL-encoded as S3 does
    assert {r["s3"]["object"]["size"] for r in records} == {len(keys[0])}


def test_dry_run_prefix_suffix_and_limit(scar, cloud, deployed, monkeypatch):
    put_objects(cloud, ["in/a1.jpg", "in/a2.png", "in/b1.jpg", "in/sub/a3.jpg"])
    recorder = EchoRecorder(monkeypatch)
    dry = scar("run", "-f", deployed, "--dry-run", "--prefix", "a", "--suffix", ".jpg", "-j")
    assert dry.code == 0, dry.stderr
    assert [e["Key"] for e in json.loads(dry.stdout)["Events"]] == ["in/a1.jpg"]
    assert recorder.echoes == []
    limited = scar("run", "-f", deployed, "-y", "--limit", "2", "-j")
    assert json.loads(limited.stdout)["Sent"] == 2


def test_no_confirmation_without_a_terminal(scar, cloud, deployed, monkeypatch):
    put_objects(cloud, ["in/a.txt"])
    recorder = EchoRecorder(monkeypatch)
    result = scar("run", "-f", deployed)
    assert result.code == 2
    assert "pass -y to confirm" in result.stderr
    assert recorder.echoes == []


def test_no_files_is_one_plain_run(scar, cloud, deployed, monkeypatch):
    put_objects(cloud, ["in/a.txt", "in/b.txt"])
    recorder = EchoRecorder(monkeypatch)
    result = scar("run", "-f", deployed, "--no-files")
    assert result.code == 0, result.stderr
    assert [event for _, event in recorder.echoes] == [{}]


def test_empty_folder_sends_nothing(scar, cloud, deployed):
    result = scar("run", "-f", deployed, "-y")
    assert result.code == 0
    assert "no objects to send in s3://launch-bucket/in/" in result.stderr


@pytest.fixture
def microburst_path():
    try:
        return find_microburst()
    except MicroburstUnavailable as missing:
        pytest.skip(str(missing))


def test_throttling_is_retried_and_every_object_sent_once(scar, cloud, deployed, monkeypatch, microburst_path):
    keys = [f"in/t{index:03d}" for index in range(200)]
    put_objects(cloud, keys)
    throttle = [{"service": "lambda", "operation": "Invoke", "probability": 0.3,
                 "error": {"code": "TooManyRequestsException", "status": 429, "message": "Rate exceeded"}}]
    with Microburst(cloud, throttle, executable=microburst_path, warm_up=("lambda", "s3", "sts")) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint)
        recorder = EchoRecorder(monkeypatch)
        result = scar("run", "-f", deployed, "-y", "-j", "--concurrency", "16")
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["Sent"] == 200 and document["Failed"] == []
    assert document["ThrottledRetries"] > 0
    assert sorted(recorder.keys()) == sorted(keys)


def _invokes(proxy: Microburst) -> int:
    return proxy.operation_counts()[("lambda", "Invoke")]


def test_ctrl_c_stops_sending_at_once_and_reports_what_went(cloud, microburst_path, tmp_path):
    """A real `python -m scar run` over 2,000 objects behind 300 ms of latency, interrupted with SIGINT.

    Every Invoke crosses microburst, whose latency rule counts each request as it arrives: what scar says it
    sent must be what arrived, and a second later nothing more may have arrived."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.integration.test_run import create_function

    create_function(cloud, "launch-fn")
    boto3.client("s3", endpoint_url=cloud, region_name=REGION).create_bucket(Bucket="launch-bucket")
    put_objects(cloud, [f"in/o{index:04d}" for index in range(2000)])
    latency = [{"service": "lambda", "operation": "Invoke", "latency": 300}]
    with Microburst(cloud, latency, executable=microburst_path, warm_up=("lambda", "s3", "sts")) as proxy:
        environment = {**os.environ, "AWS_ENDPOINT_URL": proxy.endpoint}
        process = subprocess.Popen(
            [sys.executable, "-m", "scar", "run", "-n", "launch-fn", "-ib", "launch-bucket/in", "-y", "-j",
             "--concurrency", "16"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
        deadline = time.monotonic() + 60
        while _invokes(proxy) < 40 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
        at_exit = _invokes(proxy)
        time.sleep(1)
        later = _invokes(proxy)
    assert process.returncode == 130, stderr
    document = json.loads(stdout)
    assert document["Interrupted"] is True and document["Events"] == 2000
    assert 40 <= document["Sent"] < 300  # stopped early: the queued events were not sent
    assert at_exit == later == document["Sent"]  # nothing sent after the report, none unaccounted for
    assert (f"scar: error: interrupted: {document['Sent']} of 2000 event(s) sent to launch-fn, "
            f"{2000 - document['Sent']} not sent") in stderr
