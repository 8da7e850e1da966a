"""What makes a direct GetObject answer good enough to keep (else botocore's call is made): status 200, the
announced length, and the object's checksum when S3 sent one. Stand-in answers: the checks are pure logic."""

from __future__ import annotations

import base64
import hashlib
import zlib

import pytest
from botocore.awsrequest import HeadersDict

from scar.aws.direct_objects import _intact

BODY = b"the object's bytes"
CRC32 = base64.b64encode(zlib.crc32(BODY).to_bytes(4, "big")).decode()
SHA256 = base64.b64encode(hashlib.sha256(BODY).digest()).decode()


class _Answer:
    def __init__(self, status: int, headers: dict[str, str], content: bytes = BODY) -> None:
        self.status_code, self.headers, self.content = status, HeadersDict(headers), content


@pytest.mark.parametrize("headers", [{}, {"Content-Length": str(len(BODY))}, {"x-amz-checksum-crc32": CRC32},
                                     {"x-amz-checksum-sha256": SHA256}, {"x-amz-checksum-crc32": "AAAA-3"},
                                     {"x-amz-checksum-crc64nvme": "unknown-to-scar"}])
def test_a_whole_answer_is_kept(headers):
    assert _intact(_Answer(200, headers))


@pytest.mark.parametrize("answer", [
    _Answer(206, {}), _Answer(304, {}), _Answer(200, {"Content-Length": str(len(BODY) + 1)}),
    _Answer(200, {"x-amz-checksum-crc32": CRC32}, BODY[:-1]), _Answer(200, {"x-amz-checksum-sha256": CRC32}),
])
def test_a_short_changed_or_odd_answer_is_not(answer):
    assert not _intact(answer)
