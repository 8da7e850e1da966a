"""udocker's engine tarball (its "udockertools": proot, fakechroot, runc...), shipped in the supervisor layer.

The tarball comes from a local file, or from a URL through a per-user cache where every file is named by its
SHA-256 and reused only when it still verifies. When it cannot be had, the layer goes without it and the
function's udocker downloads its tools on first run.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from scar.config.defaults import cache_folder
from scar.config.specs import UdockerEngineSpec

EngineSource = UdockerEngineSpec
Notice = Callable[[str], None]

_TIMEOUT = (10, 60)  # seconds to connect, and between two reads
_CHUNK = 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


class _Unavailable(Exception):
    """The tarball cannot be had; the message says why."""


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/scar/udocker`, by default `~/.cache/scar/udocker`."""
    return cache_folder() / "udocker"


def obtain_engine(source: EngineSource, cache_dir: Path, notice: Notice) -> Path | None:
    """The local path of the engine tarball, or None (after one notice) when it cannot be had."""
    try:
        if source.file is not None:
            return _local(source.file, source.sha256)
        return _cached_or_downloaded(source.url, source.sha256, cache_dir)
    except _Unavailable as reason:
        notice(f"udocker's engine tarball is not in the layer ({reason}); the function's udocker will "
               "install its tools on first run")
        return None


def cached_engine(url: str, sha256: str | None, cache_dir: Path) -> Path | None:
    """The tarball for `url` if the cache already holds a copy that verifies (nothing is downloaded)."""
    expected = sha256 or _read_pointer(cache_dir / f"{hashlib.sha256(url.encode()).hexdigest()}.url")
    return cache_dir / expected if expected and _verifies(cache_dir / expected, expected) else None


def _local(file: Path, sha256: str | None) -> Path:
    try:
        digest = _sha256(file)
    except OSError as err:
        raise _Unavailable(f"cannot read {file}: {err.strerror or err}") from None
    if sha256 and digest != sha256:
        raise _Unavailable(f"{file} has SHA-256 {digest}, not the configured {sha256}")
    return file


def _cached_or_downloaded(url: str, sha256: str | None, cache_dir: Path) -> Path:
    try:
        cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(cache_dir, 0o700)
    except OSError as err:
        raise _Unavailable(f"cannot use the cache {cache_dir}: {err.strerror or err}") from None
    # Without a pinned digest, the digest of the first download from this URL is trusted from then on.
    pointer = cache_dir / f"{hashlib.sha256(url.encode()).hexdigest()}.url"
    expected = sha256 or _read_pointer(pointer)
    if expected:
        cached = cache_dir / expected
        if _verifies(cached, expected):
            return cached
        cached.unlink(missing_ok=True)
    digest = _download(url, sha256, cache_dir)
    if not sha256:
        _write_atomically(pointer, digest.encode())
    return cache_dir / digest


def _download(url: str, sha256: str | None, cache_dir: Path) -> str:
    """Download `url` into the cache under its digest; a file that fails a check is never left behind."""
    import requests  # only a download needs it

    fd, name = tempfile.mkstemp(prefix=".download-", dir=cache_dir)
    temporary = Path(name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as handle, requests.get(url, stream=True, timeout=_TIMEOUT) as response:
            response.raise_for_status()
            for chunk in response.iter_content(_CHUNK):
                digest.update(chunk)
                handle.write(chunk)
        found = digest.hexdigest()
        if sha256 and found != sha256:
            raise _Unavailable(f"{url} has SHA-256 {found}, not the configured {sha256}")
        with temporary.open("rb") as handle:
            if handle.read(2) != _GZIP_MAGIC:
                raise _Unavailable(f"{url} did not send a gzip tarball")
        os.replace(temporary, cache_dir / found)
        return found
    except requests.RequestException as err:
        raise _Unavailable(f"cannot download {url}: {_short(err)}") from None
    except OSError as err:
        raise _Unavailable(f"cannot save {url} in {cache_dir}: {err.strerror or err}") from None
    finally:
        temporary.unlink(missing_ok=True)


def _read_pointer(pointer: Path) -> str | None:
    try:
        text = pointer.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if len(text) == 64 and all(c in "0123456789abcdef" for c in text) else None


def _write_atomically(path: Path, data: bytes) -> None:
    fd, name = tempfile.mkstemp(prefix=".pointer-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(name, path)
    except OSError:
        Path(name).unlink(missing_ok=True)  # the tarball is cached anyway; only reuse is lost


def _verifies(path: Path, sha256: str) -> bool:
    try:
        return _sha256(path) == sha256
    except OSError:
        return False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _short(err: Exception) -> str:
    """A one-line reason: requests nests the socket error deep in its message."""
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return text if len(text) <= 160 else text[:157] + "..."
