"""Image references as Docker reads them: `[registry/]repository[:tag][@digest]`. The first component is a
registry when it holds a dot or a colon or is `localhost`; otherwise the image is on Docker Hub, where a
one-component name lives under `library/`."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from scar.errors import BadInputError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$|^sha512:[0-9a-f]{128}$")


@dataclass(frozen=True)
class ImageReference:
    registry: str  # host[:port], "docker.io" for Docker Hub
    repository: str
    tag: str = ""
    digest: str = ""

    @property
    def reference(self) -> str:
        """What to ask the registry for: the digest when known (immutable), else the tag, else latest."""
        return self.digest or self.tag or "latest"

    @property
    def base_url(self) -> str:
        """The registry's API root: plain HTTP only for a registry on this machine's loopback."""
        host = DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry
        return f"{'http' if is_loopback(host) else 'https'}://{host}"

    def with_digest(self, digest: str) -> ImageReference:
        return ImageReference(self.registry, self.repository, self.tag, digest)

    def __str__(self) -> str:
        name = f"{self.registry}/{self.repository}"
        return name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


def parse_reference(text: str) -> ImageReference:
    """The reference `text`, or a BadInputError that says what is wrong with it."""
    value = text.strip()
    rest, _, digest = value.partition("@")
    if digest and not _DIGEST.match(digest):
        raise BadInputError(f"image {text!r}: {digest!r} is not a digest (sha256:<64 hex digits>)")
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, remainder
    else:
        registry, path = DOCKER_HUB, rest
    name, tag = path, ""
    if ":" in path.rsplit("/", 1)[-1]:
        name, _, tag = path.rpartition(":")
        if not _TAG.match(tag):
            raise BadInputError(f"image {text!r}: {tag!r} is not a valid tag")
    components = name.split("/")
    if not name or not all(_COMPONENT.match(part) for part in components):
        raise BadInputError(f"image {text!r}: {name!r} is not a repository name (lowercase letters, digits and "
                            "separators . _ - /)")
    if registry == DOCKER_HUB and len(components) == 1:
        name = f"library/{name}"
    return ImageReference(registry, name, tag, digest)


def is_loopback(host: str) -> bool:
    """Whether `host` (`name[:port]`, `[v6]:port`) is this machine's loopback."""
    name = urlsplit(f"//{host}").hostname or ""
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
