"""scar's response parsing gives exactly what botocore's own parsers give, only cheaper."""

from __future__ import annotations

import datetime

import botocore.session
import pytest
from botocore.awsrequest import HeadersDict
from botocore.parsers import ResponseParserFactory
from botocore.utils import parse_timestamp as botocore_parse_timestamp
from hypothesis import given
from hypothesis import strategies as st

from scar.aws.response_parsing import FastResponseParserFactory, parse_timestamp

S3 = botocore.session.get_session().get_service_model("s3")
MOMENTS = st.datetimes(min_value=datetime.datetime(1970, 1, 1), max_value=datetime.datetime(9999, 12, 31))


def _seen(moment: datetime.datetime) -> tuple:
    """What a caller can tell of a parsed timestamp. (Not its tzinfo's repr: for "Z", dateutil gives tzlocal()
    on a machine whose zone is UTC, and tzutc() elsewhere; scar gives tzutc(), the same instant and offset.)"""
    return moment, moment.utcoffset(), moment.isoformat(), moment.timestamp()


@given(MOMENTS)
def test_rfc1123_timestamps_parse_as_botocore_parses_them(moment):
    text = moment.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert repr(parse_timestamp(text)) == repr(botocore_parse_timestamp(text))


@given(MOMENTS, st.integers(min_value=0, max_value=6))
def test_iso8601_timestamps_parse_as_botocore_parses_them(moment, digits):
    fraction = f".{moment.microsecond:06d}"[:digits + 1] if digits else ""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"
    assert _seen(parse_timestamp(text)) == _seen(botocore_parse_timestamp(text))


@pytest.mark.parametrize("text", ["1733112000", "1733112000.5", "2026-12-02T04:28:42+01:00", "2026-12-02",
                                  "Wed, 02 Dec 2026 04:28:42 +0000", "2026-12-02T04:28:42.1234567Z"])
def test_other_forms_go_to_botocore(text):
    assert repr(parse_timestamp(text)) == repr(botocore_parse_timestamp(text))


@pytest.mark.parametrize("text", ["Wed, 31 Jun 2026 04:28:42 GMT", "2026-02-30T00:00:00Z", "not a time"])
def test_impossible_dates_fail_as_botocore_fails(text):
    with pytest.raises(ValueError) as ours:
        parse_timestamp(text)
    with pytest.raises(ValueError) as theirs:
        botocore_parse_timestamp(text)
    assert str(ours.value) == str(theirs.value)


def _both(operation: str, status: int, headers: dict[str, str], body: bytes = b"") -> tuple[dict, dict]:
    shape = S3.operation_model(operation).output_shape
    parsed = []
    for factory in (ResponseParserFactory(), FastResponseParserFactory()):
        response = {"headers": HeadersDict(headers), "status_code": status, "body": body}
        parsed.append(factory.create_parser("rest-xml").parse(response, shape))
    return parsed[0], parsed[1]


HEADERS = {"Content-Type": "text/plain", "ETag": '"abc"', "Last-Modified": "Wed, 02 Dec 2026 04:28:42 GMT",
           "Content-Length": "5", "x-amz-meta-Owner": "me", "X-AMZ-META-second": "2",
           "x-amz-checksum-crc32": "ze8UDQ==", "x-amz-request-id": "r-1", "x-amz-id-2": "h",
           "Expires": "Thu, 03 Dec 2026 00:00:00 GMT", "x-amz-missing-meta": "3", "x-amz-tagging-count": "2",
           "x-amz-server-side-encryption": "AES256", "x-amz-restore": 'ongoing-request="false"'}


@pytest.mark.parametrize("operation", ["GetObject", "HeadObject", "PutObject", "CopyObject", "DeleteObject"])
def test_header_answers_parse_alike(operation):
    ours, theirs = _both(operation, 200, HEADERS, b"<CopyObjectResult><ETag>e</ETag></CopyObjectResult>"
                         if operation == "CopyObject" else b"")
    assert ours == theirs
    assert list(ours) == list(theirs)


def test_a_listing_parses_alike():
    body = (b'<?xml version="1.0"?><ListBucketResult><Name>b</Name><KeyCount>2</KeyCount><IsTruncated>false'
            b'</IsTruncated><Contents><Key>a</Key><LastModified>2026-12-02T04:28:42.000Z</LastModified><ETag>'
            b'"e"</ETag><Size>5</Size><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>b</Key>'
            b'<LastModified>2026-12-02T04:28:43Z</LastModified><Size>0</Size></Contents></ListBucketResult>')
    ours, theirs = _both("ListObjectsV2", 200, {"x-amz-request-id": "r"}, body)
    assert ours == theirs and ours["Contents"][0]["LastModified"].microsecond == 0


def test_an_error_parses_alike():
    body = b"<Error><Code>NoSuchKey</Code><Message>gone</Message><Key>k</Key></Error>"
    ours, theirs = _both("GetObject", 404, {"x-amz-request-id": "r"}, body)
    assert ours == theirs and ours["Error"]["Code"] == "NoSuchKey"
