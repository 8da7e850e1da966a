"""Streams that hash (and count) what passes through them, so a layer is verified in the single pass that extracts
it."""

from __future__ import annotations

import hashlib
import io
import re
from typing import IO

from .model import ImageError

DIGEST = re.compile(r"^(sha256|sha384|sha512):([0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})$")
_DRAIN_CHUNK = 1 << 20


def parse_digest(value: object, label: str) -> tuple[str, str]:
    """(algorithm, hex) of an OCI digest string, or an ImageError naming `label`."""
    match = DIGEST.match(value) if isinstance(value, str) else None
    if match is None:
        raise ImageError(f"{label}: invalid digest {value!r}")
    return match.group(1), match.group(2)


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


class DigestReader(io.RawIOBase):
    """A forward-only reader over `stream` that hashes every byte read from it, and refuses to read more than
    `limit` bytes (`on_limit` gives the error's text). `peek` looks ahead without losing the bytes."""

    def __init__(self, stream: IO[bytes], algorithm: str, limit: int | None = None,
                 on_limit: str = "too much data") -> None:
        super().__init__()
        self._stream = stream
        self._hash = hashlib.new(algorithm)
        self.algorithm = algorithm
        self._limit = limit
        self._on_limit = on_limit
        self._ahead = b""
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        wanted = len(buffer)
        if self._ahead:
            data, self._ahead = self._ahead[:wanted], self._ahead[wanted:]
        else:
            data = self._take(wanted)
        buffer[:len(data)] = data
        return len(data)

    def peek(self, size: int) -> bytes:
        while len(self._ahead) < size:
            data = self._take(size - len(self._ahead))
            if not data:
                break
            self._ahead += data
        return self._ahead[:size]

    def _take(self, size: int) -> bytes:
        data = self._stream.read(size)
        self.count += len(data)
        if self._limit is not None and self.count > self._limit:
            raise ImageError(self._on_limit)
        self._hash.update(data)
        return data

    def drain(self) -> None:
        """Read to the end, so that the digest covers everything (trailing padding included)."""
        self._ahead = b""
        while self._take(_DRAIN_CHUNK):
            pass

    @property
    def digest(self) -> str:
        return f"{self.algorithm}:{self._hash.hexdigest()}"
