"""Where the image's files come from: a tarball (plain or compressed) or a folder, and compression detection."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import lzma
import os
import sys
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol

from .limits import SizeLimit
from .model import ImageError

MAX_SYMLINK_HOPS = 40
COPY_CHUNK = 1 << 20
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_OPENERS: dict[str, Any] = {"gzip": gzip.GzipFile, "bzip2": bz2.BZ2File, "xz": lzma.LZMAFile}
DECOMPRESSION_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error, lzma.LZMAError)
try:  # Python >= 3.14
    from compression import zstd  # type: ignore[import-not-found]
except ImportError:
    pass
else:
    _OPENERS["zstd"] = zstd.ZstdFile
    DECOMPRESSION_ERRORS += (zstd.ZstdError,)
HAS_ZSTD = "zstd" in _OPENERS


class Source(Protocol):
    label: str

    def exists(self, name: str) -> bool: ...

    def open(self, name: str) -> IO[bytes]: ...


class TarSource:
    def __init__(self, archive: tarfile.TarFile, label: str) -> None:
        self.label = label
        self._archive = archive
        self._members: dict[str, tarfile.TarInfo] = {}
        for member in archive.getmembers():
            if member.isfile() or member.issym() or member.islnk():
                with contextlib.suppress(ImageError):  # a name outside the archive root is never asked for
                    self._members[normalize(member.name)] = member

    def exists(self, name: str) -> bool:
        return normalize(name) in self._members

    def open(self, name: str) -> IO[bytes]:
        member = self._member(name)
        stream = self._archive.extractfile(member)
        if stream is None:
            raise ImageError(f"{self.label}: {name} is not a file")
        return stream

    def _member(self, name: str) -> tarfile.TarInfo:
        for _ in range(MAX_SYMLINK_HOPS):
            member = self._members.get(normalize(name))
            if member is None:
                raise ImageError(f"{self.label}: {name} is missing from the image")
            if member.isfile():
                return member
            base = os.path.dirname(member.name) if member.issym() else ""
            name = os.path.join(base, member.linkname)
        raise ImageError(f"{self.label}: {name}: too many levels of links")


class DirSource:
    def __init__(self, root: Path) -> None:
        self.label = str(root)
        self._root = root

    def exists(self, name: str) -> bool:
        return (self._root / normalize(name)).is_file()

    def open(self, name: str) -> IO[bytes]:
        try:
            return open(self._root / normalize(name), "rb")
        except OSError as error:
            raise ImageError(f"{self.label}: cannot read {name}: {error.strerror}") from error


def normalize(name: str) -> str:
    """A path inside the image archive, refusing anything that would leave it."""
    clean = os.path.normpath(name.lstrip("/")) if name else ""
    if clean in ("", ".") or clean == ".." or clean.startswith("../"):
        raise ImageError(f"invalid path in the image: {name!r}")
    return clean


@contextlib.contextmanager
def open_source(path: Path, scratch: Path | None, limit: SizeLimit) -> Iterator[Source]:
    """The image at `path`. A compressed tarball is first decompressed into a temporary file in `scratch` (its
    members are read in manifest order, not archive order), counted against `limit`."""
    if path.is_dir():
        yield DirSource(path)
        return
    with contextlib.ExitStack() as stack:
        try:
            stream: IO[bytes] = stack.enter_context(open(path, "rb"))
        except OSError as error:
            raise ImageError(f"cannot read the image {path}: {error.strerror}") from error
        kind = compression(stream.read(8))
        stream.seek(0)
        if kind is not None:
            stream = stack.enter_context(_plain_copy(stream, kind, path, scratch, limit))
        try:
            archive = stack.enter_context(tarfile.open(fileobj=stream, mode="r:"))
            source = TarSource(archive, str(path))
        except tarfile.TarError as error:
            raise ImageError(f"{path} is not an image tarball (docker save or OCI layout): {error}") from error
        yield source


def compression(head: bytes) -> str | None:
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh"):
        return "bzip2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    return None


def decompressing(stream: IO[bytes], kind: str, label: str) -> IO[bytes]:
    """A forward-only reader of the decompressed content of `stream` (nothing is written anywhere)."""
    if kind not in _OPENERS:
        raise ImageError(zstd_message(label) if kind == "zstd" else f"{label}: {kind} compression is not supported")
    return _OPENERS[kind](fileobj=stream, mode="rb") if kind == "gzip" else _OPENERS[kind](stream, mode="rb")


def zstd_message(label: str) -> str:
    return (f"{label} is zstd-compressed, which Python reads only from 3.14 on "
            f"(this is {sys.version_info.major}.{sys.version_info.minor}); rebuild or save the image with gzip layers")


@contextlib.contextmanager
def _plain_copy(stream: IO[bytes], kind: str, path: Path, scratch: Path | None,
                limit: SizeLimit) -> Iterator[IO[bytes]]:
    if kind not in _OPENERS:
        raise ImageError(f"{path} is {kind}-compressed: decompress it first (or save it with gzip)")
    with tempfile.TemporaryFile(dir=scratch) as plain:
        try:
            with decompressing(stream, kind, str(path)) as reader:
                while chunk := reader.read(COPY_CHUNK):
                    limit.take(len(chunk), f"{path} (decompressed)")
                    plain.write(chunk)
        except DECOMPRESSION_ERRORS as error:
            raise ImageError(f"{path}: corrupt {kind} data: {error}") from error
        plain.seek(0)
        yield plain
