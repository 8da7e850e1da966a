"""The cap on what one extraction may write: an explicit size, else SCAR_MAX_IMAGE_SIZE, else the free space of the
cache's file system (in a function that is Lambda's /tmp, sized by its ephemeral storage setting)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .model import ImageError

ENV_VARIABLE = "SCAR_MAX_IMAGE_SIZE"
_SIZE = re.compile(r"^\s*(\d+)\s*([KMGT]?)(?:i?B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


class SizeLimit:
    """Bytes left to write. Files are counted at their full (apparent) size as they are written, sparse ones
    included, and files that a later layer replaces still count: the sum bounds the disk the extraction needs."""

    def __init__(self, limit: int, origin: str) -> None:
        self.limit = limit
        self.origin = origin  # why this limit: named in the error
        self.used = 0

    def take(self, size: int, what: str) -> None:
        self.used += size
        if self.used > self.limit:
            raise ImageError(self.exceeded(what))

    def exceeded(self, what: str) -> str:
        return (f"{what}: the image needs more than {format_size(self.limit)}, the limit ({self.origin}); "
                f"set {ENV_VARIABLE} (e.g. 4G) to allow more")


def size_limit(explicit: int | None, target: Path) -> SizeLimit:
    if explicit is not None:
        return SizeLimit(explicit, f"max_size {format_size(explicit)}")
    text = os.environ.get(ENV_VARIABLE)
    if text:
        return SizeLimit(parse_size(text), f"{ENV_VARIABLE}={text}")
    try:
        info = os.statvfs(target)
    except OSError as error:
        raise ImageError(f"cannot measure the free space of {target}: {error.strerror}") from error
    return SizeLimit(info.f_bavail * info.f_frsize, f"the free space of {target}")


def parse_size(text: str) -> int:
    """Bytes of a size such as 1073741824, 512M, 4G or 4GiB (binary units)."""
    match = _SIZE.match(text)
    if match is None:
        raise ImageError(f"{ENV_VARIABLE}: {text!r} is not a size (bytes, or a number with K, M, G or T)")
    return int(match.group(1)) * _UNITS[match.group(2).upper()]


def format_size(size: int) -> str:
    for unit in ("T", "G", "M", "K"):
        if size >= _UNITS[unit]:
            return f"{size / _UNITS[unit]:.1f} {unit}iB"
    return f"{size} bytes"
