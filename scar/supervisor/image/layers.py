"""One layer as a verified tar stream: read once, decompressed on the fly, its stored bytes checked against the
manifest's digest and its uncompressed bytes against the configuration's diff_id."""

from __future__ import annotations

import contextlib
import io
import tarfile
from collections.abc import Iterator
from typing import IO

from .digests import DigestReader, parse_digest
from .limits import SizeLimit, format_size
from .model import ImageError, Layer
from .source import DECOMPRESSION_ERRORS, HAS_ZSTD, Source, compression, decompressing


class LayerStream:
    """The members of a layer, in archive order; `verify` must be called once they are all consumed."""

    def __init__(self, archive: tarfile.TarFile | None, stored: DigestReader, plain: DigestReader, layer: Layer,
                 label: str) -> None:
        self.archive = archive  # None for an empty layer
        self._stored = stored
        self._plain = plain
        self._layer = layer
        self.label = label

    def members(self) -> Iterator[tarfile.TarInfo]:
        if self.archive is None:
            return
        while (member := self.archive.next()) is not None:
            yield member
            self.archive.members = []  # TarFile remembers every header; a stream of millions would fill memory

    def verify(self) -> None:
        """Read what the tar reader left (end-of-archive padding), then compare both digests."""
        self._plain.drain()
        self._stored.drain()
        if self._layer.digest and self._stored.digest != self._layer.digest:
            raise ImageError(f"{self.label}: its content has digest {self._stored.digest}, the manifest says "
                             f"{self._layer.digest}: the image is corrupt or altered")
        if self._plain.digest != self._layer.diff_id:
            raise ImageError(f"{self.label}: its uncompressed content has digest {self._plain.digest}, the image "
                             f"configuration says {self._layer.diff_id}: the image is corrupt or altered")


@contextlib.contextmanager
def open_layer(source: Source, layer: Layer, limit: SizeLimit) -> Iterator[LayerStream]:
    """Stream `layer`; its uncompressed tar may not be longer than `limit` allows in all (a decompression bomb
    stops there, having written nothing)."""
    label = f"{source.label}: layer {layer.path}"
    with contextlib.ExitStack() as stack:
        raw = stack.enter_context(source.open(layer.path))
        stored = DigestReader(raw, parse_digest(layer.digest, label)[0] if layer.digest else "sha256")
        kind = compression(stored.peek(8))
        stream: IO[bytes] = stored
        if kind is not None:
            stream = _Decompressed(stack.enter_context(decompressing(stored, kind, label)), f"{label}: corrupt {kind}")
        plain = DigestReader(stream, parse_digest(layer.diff_id, label)[0], limit.limit,
                             f"{label}: its uncompressed tar is larger than {format_size(limit.limit)}, the limit "
                             f"({limit.origin})")
        try:
            archive = stack.enter_context(tarfile.open(fileobj=plain, mode="r|")) if plain.peek(1) else None
            yield LayerStream(archive, stored, plain, layer, label)
        except tarfile.TarError as error:
            kinds = "plain, gzip, bzip2, xz" + (", zstd" if HAS_ZSTD else "")
            raise ImageError(f"{label} is not a readable tar ({kinds}): {error}") from error


class _Decompressed(io.RawIOBase):
    """A decompressing reader whose format errors become ImageError (only those: a disk error while extracting
    must not be reported as a corrupt layer)."""

    def __init__(self, reader: IO[bytes], message: str) -> None:
        super().__init__()
        self._reader = reader
        self._message = message

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        try:
            data = self._reader.read(len(buffer))
        except DECOMPRESSION_ERRORS as error:
            raise ImageError(f"{self._message} data: {error}") from error
        buffer[:len(data)] = data
        return len(data)
