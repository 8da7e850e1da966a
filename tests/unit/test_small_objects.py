"""Small PutObject calls go without `Expect: 100-continue`; large ones keep it.

No emulator shows the headers a client sent, so the request is looked at in botocore's `before-send` event
and stopped there: nothing goes on the network.
"""

from __future__ import annotations

import boto3
import pytest

from scar.aws.small_objects import SMALL_OBJECT_MAX, allow_small_puts_without_expect


class _Sent(Exception):
    pass


def _expect_header(client, **call) -> str | None:
    def stop(request, **kwargs):
        raise _Sent(request.headers.get("Expect"))

    client.meta.events.register("before-send.s3", stop)
    try:
        with pytest.raises(_Sent) as sent:
            getattr(client, call.pop("operation"))(**call)
    finally:
        client.meta.events.unregister("before-send.s3", stop)
    header = sent.value.args[0]
    return header.decode() if isinstance(header, bytes) else header


@pytest.fixture
def client():
    session = boto3.session.Session(aws_access_key_id="k", aws_secret_access_key="s", region_name="us-east-1")
    made = session.client("s3", endpoint_url="http://127.0.0.1:9")
    allow_small_puts_without_expect(made)
    allow_small_puts_without_expect(made)  # registered once, whatever the number of calls
    return made


def test_a_small_put_goes_without_expect(client):
    assert _expect_header(client, operation="put_object", Bucket="b-1", Key="k", Body=b"x" * SMALL_OBJECT_MAX) is None


def test_a_large_put_and_parts_keep_expect(client):
    assert _expect_header(client, operation="put_object", Bucket="b-1", Key="k",
                          Body=b"x" * (SMALL_OBJECT_MAX + 1)) == "100-continue"
    assert _expect_header(client, operation="upload_part", Bucket="b-1", Key="k", UploadId="u", PartNumber=1,
                          Body=b"x") == "100-continue"
