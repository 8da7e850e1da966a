"""get_small: a body cut short is read again; the file appears whole or not at all.

Mock: no emulator can cut a response body after its headers, so a stand-in client does, reached through
ObjectRequests' botocore path (the request retries themselves are botocore's, tested against the emulators
elsewhere).
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ResponseStreamingError

from scar.aws import small_objects
from scar.aws.direct_objects import ObjectRequests


class _Body:
    def __init__(self, data: bytes, failures: list[bool]) -> None:
        self._data = data
        self._failures = failures

    def read(self) -> bytes:
        if self._failures.pop(0):
            raise ResponseStreamingError(error="connection reset mid-body")
        return self._data


class _Client:
    def __init__(self, failures: int) -> None:
        self.calls = 0
        self._failures = [True] * failures + [False] * 10

    def get_object(self, Bucket: str, Key: str) -> dict:
        self.calls += 1
        return {"Body": _Body(b"content", self._failures)}


def test_a_body_cut_short_is_read_again(tmp_path):
    dest = tmp_path / "dest"  # tmp_path holds the fixtures' folders too
    dest.mkdir()
    client, done = _Client(failures=2), []
    small_objects.get_small(ObjectRequests(client, direct=False), "b-1", "k", dest / "f.txt", done.append)
    assert (dest / "f.txt").read_bytes() == b"content"
    assert client.calls == 3 and done == [7]
    assert [p.name for p in dest.iterdir()] == ["f.txt"]


def test_after_the_last_attempt_the_error_stands_and_nothing_is_written(tmp_path):
    dest = tmp_path / "dest"  # tmp_path holds the fixtures' folders too
    dest.mkdir()
    (dest / "f.txt").write_bytes(b"old")
    client = _Client(failures=small_objects.READ_ATTEMPTS)
    with pytest.raises(ResponseStreamingError):
        small_objects.get_small(ObjectRequests(client, direct=False), "b-1", "k", dest / "f.txt", lambda n: None)
    assert client.calls == small_objects.READ_ATTEMPTS
    assert (dest / "f.txt").read_bytes() == b"old"
    assert [p.name for p in dest.iterdir()] == ["f.txt"]
