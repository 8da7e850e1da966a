"""ObjectRequests against moto server over HTTP: small objects by scar's own signed requests, botocore's
calls whenever anything is off.

Which path a request took is seen in botocore's events on the client (a botocore GetObject/PutObject call
emits before-call; the direct requests do not); what was stored is read back from moto.
"""

from __future__ import annotations

import base64
import zlib

import boto3
import pytest
from botocore.exceptions import ClientError

from scar.aws.direct_objects import ObjectRequests

BUCKET = "direct-bucket"
KEYS = ["plain.txt", "sub/deeper/c.bin", "space name.txt", "ü ñ/日本.txt", "odd+chars=&;,$@'!()*~.txt",
        "percent%20not-a-space", "double//slash", "trailing-dot."]


@pytest.fixture
def client(cloud):
    made = boto3.client("s3", endpoint_url=cloud, region_name="us-east-1")
    made.create_bucket(Bucket=BUCKET)
    return made


def _botocore_calls(client) -> list[str]:
    calls: list[str] = []
    client.meta.events.register("before-call.s3", lambda model, **kw: calls.append(model.name))
    return calls


def _sent(client) -> list[str]:
    urls: list[str] = []
    client.meta.events.register("before-send.s3", lambda request, **kw: urls.append(request.url))
    return urls


def test_put_and_get_of_awkward_keys_go_direct_and_store_what_botocore_would(client, s3):
    objects = ObjectRequests(client)
    calls = _botocore_calls(client)
    for n, key in enumerate(KEYS):
        objects.put(BUCKET, key, f"body {n}".encode())
    assert {key: objects.get(BUCKET, key) for key in KEYS} == {key: f"body {n}".encode() for n, key in
                                                               enumerate(KEYS)}
    assert calls == ["GetObject"]  # the probe that finds the bucket's URL, once, and never sent
    listed = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert sorted(listed) == sorted(KEYS)
    head = s3.head_object(Bucket=BUCKET, Key=KEYS[3], ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == base64.b64encode(zlib.crc32(b"body 3").to_bytes(4, "big")).decode()


def test_a_direct_request_has_botocores_url_and_signed_headers(client, monkeypatch):
    """The two requests for each key, as the client's HTTP session receives them, differ only in what
    changes from request to request (date, signature, user agent, invocation id)."""
    objects = ObjectRequests(client)
    session = client._endpoint.http_session  # the session both paths send through
    sent: list = []
    real_send = session.send
    monkeypatch.setattr(session, "send", lambda request: sent.append(request) or real_send(request))
    for key in KEYS:
        client.put_object(Bucket=BUCKET, Key=key, Body=b"v")
        objects.put(BUCKET, key, b"v")
        client.get_object(Bucket=BUCKET, Key=key)
        objects.get(BUCKET, key)
    assert len(sent) == 4 * len(KEYS)
    for theirs, ours in zip(sent[::2], sent[1::2], strict=True):
        assert (ours.method, ours.url) == (theirs.method, theirs.url)
        assert _signed(ours) <= _signed(theirs)
        for header in {"host", "x-amz-content-sha256", "x-amz-checksum-crc32", "content-length",
                       "x-amz-checksum-mode"} & _signed(theirs):
            assert _text(ours.headers.get(header)) == _text(theirs.headers.get(header)), header


def _text(value: str | bytes | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _signed(request) -> set[str]:
    return set(_text(request.headers["Authorization"]).split("SignedHeaders=")[1].split(",")[0].split(";"))


def test_the_probe_sends_nothing_and_leaves_other_calls_alone(client, s3):
    objects = ObjectRequests(client)
    sent = _sent(client)
    objects.put(BUCKET, "k", b"v")
    assert sent == []  # neither the probe nor the direct request went through botocore's send
    s3.put_object(Bucket=BUCKET, Key="scar-probe", Body=b"a user's object of that name")
    assert client.get_object(Bucket=BUCKET, Key="scar-probe")["Body"].read() == b"a user's object of that name"
    assert len(sent) == 1


def test_an_error_answer_is_botocores_and_the_bucket_then_goes_through_botocore(client):
    objects = ObjectRequests(client)
    objects.put(BUCKET, "there", b"x")
    calls = _botocore_calls(client)
    with pytest.raises(ClientError) as missing:
        objects.get(BUCKET, "not-there")
    assert missing.value.response["Error"]["Code"] == "NoSuchKey"
    assert calls == ["GetObject"]  # the direct request failed: botocore's call gave the answer
    assert objects.get(BUCKET, "there") == b"x"
    objects.put(BUCKET, "more", b"y")
    assert calls == ["GetObject", "GetObject", "PutObject"]


def test_a_missing_bucket_fails_as_botocore_says(client):
    objects = ObjectRequests(client)
    with pytest.raises(ClientError) as missing:
        objects.put("no-such-bucket-here", "k", b"v")
    assert missing.value.response["Error"]["Code"] == "NoSuchBucket"


def test_a_refused_connection_falls_back_to_botocore(cloud):
    closed = boto3.client("s3", endpoint_url="http://127.0.0.1:9", region_name="us-east-1",
                          config=boto3.session.Config(retries={"mode": "standard", "max_attempts": 1},
                                                      connect_timeout=1))
    calls = _botocore_calls(closed)
    with pytest.raises(Exception, match="Could not connect"):
        ObjectRequests(closed).get(BUCKET, "k")
    assert calls == ["GetObject", "GetObject"]  # the probe, then botocore's own call after the direct one


def test_without_direct_every_request_is_a_botocore_call(client):
    objects = ObjectRequests(client, direct=False)
    calls = _botocore_calls(client)
    objects.put(BUCKET, "k", b"v")
    assert objects.get(BUCKET, "k") == b"v"
    assert calls == ["PutObject", "GetObject"]


@pytest.mark.parametrize("bucket", ["arn:aws:s3:us-east-1:123456789012:accesspoint/ap", "fast--use1-az4--x-s3"])
def test_access_points_and_s3_express_buckets_always_go_through_botocore(client, bucket):
    objects = ObjectRequests(client)
    calls = _botocore_calls(client)
    with pytest.raises(Exception):  # noqa: B017 - moto has neither; only the path taken matters here
        objects.get(bucket, "k")
    assert calls.count("GetObject") == 1  # botocore's call, and no probe before it
