"""The OCI distribution API over `requests`: manifests and blobs of one registry.

Every upload starts with a HEAD, so a blob the repository has is never sent again; a blob on the same registry
can be mounted from another repository instead of uploaded. Downloads are streamed to a partial file beside
the target and renamed into place only once their digest matched; a broken connection resumes from what
arrived (HTTP Range). Uploads are monolithic (one PUT streamed from disk) unless `chunk_size` asks for PATCH
chunks (ECR is reported to lose data with several PATCHes: scar never chunks for ECR).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter

from scar.registry.auth import Authenticator, Credentials
from scar.registry.errors import DigestMismatch, RegistryError, describe

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_INDEX = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
#: all four, always: with fewer, a registry may down-convert a manifest (another digest) or answer 404
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_INDEX)
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_INDEX})
CHUNK = 1 << 20
DOWNLOAD_ATTEMPTS = 3
MAX_RESUMES = 3  # how often one chunked upload resumes after a failed chunk
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Manifest:
    data: bytes
    media_type: str
    digest: str

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.data)

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES or "manifests" in self.document


@dataclass
class Stats:
    """What a client sent and received, counted for reports, tests and benchmarks."""

    blobs_uploaded: int = 0
    bytes_uploaded: int = 0
    blobs_mounted: int = 0
    blobs_present: int = 0
    blobs_downloaded: int = 0
    bytes_downloaded: int = 0
    mutating_requests: int = 0  # POST, PUT, PATCH, DELETE
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, count in counts.items():
                setattr(self, name, getattr(self, name) + count)


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class RegistryClient:
    """One registry (`base_url`, e.g. `https://123.dkr.ecr.us-east-1.amazonaws.com` or `http://127.0.0.1:5000`)."""

    def __init__(self, base_url: str, credentials: Credentials | None = None, *, pool: int = 8,
                 chunk_size: int = 0, timeout: float = 120) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=pool, pool_maxsize=pool)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.auth = Authenticator(self.session, credentials)
        self.chunk_size = chunk_size
        self.timeout = timeout
        self.stats = Stats()

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[-1]

    # -- manifests --------------------------------------------------------------------------------

    def manifest(self, repository: str, reference: str) -> Manifest:
        """The manifest or index `reference` (tag or digest) names, its digest checked."""
        answer = self._request("GET", repository, f"manifests/{reference}", (200,),
                               f"{self.host}/{repository}:{reference}", headers={"Accept": ", ".join(MANIFEST_TYPES)})
        data = answer.content
        digest = digest_of(data)
        if reference.startswith("sha256:") and digest != reference:
            raise DigestMismatch(f"{self.host}/{repository}@{reference}: the registry sent a manifest with digest "
                                 f"{digest}")
        media_type = answer.headers.get("Content-Type", "").split(";")[0].strip()
        try:
            document = json.loads(data)
        except ValueError:
            raise RegistryError(f"{self.host}/{repository}:{reference}: the manifest is not JSON") from None
        return Manifest(data, str(document.get("mediaType") or media_type), digest)

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        """The digest of the manifest `reference` names, or None when the repository has none (HEAD only)."""
        answer = self._request("HEAD", repository, f"manifests/{reference}", (200, 404),
                               f"{self.host}/{repository}:{reference}", headers={"Accept": ", ".join(MANIFEST_TYPES)})
        if answer.status_code == 404:
            return None
        return answer.headers.get("Docker-Content-Digest") or (reference if reference.startswith("sha256:") else None)

    def put_manifest(self, repository: str, reference: str, manifest: Manifest) -> str:
        """Push `manifest` under `reference` (a tag, or its own digest); its digest."""
        answer = self._request("PUT", repository, f"manifests/{reference}", (200, 201),
                               f"pushing the manifest {self.host}/{repository}:{reference}",
                               body=lambda: manifest.data, headers={"Content-Type": manifest.media_type})
        told = answer.headers.get("Docker-Content-Digest")
        if told and told != manifest.digest:
            raise DigestMismatch(f"{self.host}/{repository}:{reference}: the registry stored the manifest as {told}, "
                                 f"not {manifest.digest}")
        return manifest.digest

    def delete_manifest(self, repository: str, digest: str) -> bool:
        """Delete the manifest `digest`; False when it was already gone."""
        answer = self._request("DELETE", repository, f"manifests/{digest}", (202, 404),
                               f"deleting {self.host}/{repository}@{digest}")
        return answer.status_code == 202

    def tags(self, repository: str) -> list[str]:
        answer = self._request("GET", repository, "tags/list", (200,), f"{self.host}/{repository} tags")
        return list(answer.json().get("tags") or [])

    # -- blobs ------------------------------------------------------------------------------------

    def has_blob(self, repository: str, digest: str) -> bool:
        answer = self._request("HEAD", repository, f"blobs/{digest}", (200, 404), f"{self.host}/{repository}@{digest}")
        return answer.status_code == 200

    def download_blob(self, repository: str, digest: str, size: int, target: Path,
                      progress: Progress | None = None) -> None:
        """Stream blob `digest` into `target`: it appears only once complete and verified. A connection broken
        mid-way resumes from the bytes already in `target`.partial; on a digest or size mismatch nothing stays."""
        partial = target.with_name(target.name + ".partial")
        for attempt in range(DOWNLOAD_ATTEMPTS):
            try:
                self._download_into(repository, digest, size, partial, progress)
                break
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as err:
                if attempt == DOWNLOAD_ATTEMPTS - 1:
                    raise RegistryError(f"{self.host}/{repository}@{digest}: download failed: {err}") from None
        os.replace(partial, target)

    def _download_into(self, repository: str, digest: str, size: int, partial: Path,
                       progress: Progress | None) -> None:
        algorithm = digest.split(":", 1)[0]
        hasher = hashlib.new(algorithm)
        have = partial.stat().st_size if partial.exists() else 0
        if have:
            with partial.open("rb") as done:
                while chunk := done.read(CHUNK):
                    hasher.update(chunk)
        headers = {"Range": f"bytes={have}-"} if 0 < have < size else {}
        answer = self._request("GET", repository, f"blobs/{digest}", (200, 206), f"{self.host}/{repository}@{digest}",
                               headers=headers, stream=True)
        with answer:
            if answer.status_code == 200 and have:  # the registry ignored the range: start again
                have, hasher = 0, hashlib.new(algorithm)
            received = have
            with partial.open("ab" if have else "wb") as out:
                for chunk in answer.iter_content(CHUNK):
                    received += len(chunk)
                    if size and received > size:
                        break
                    hasher.update(chunk)
                    out.write(chunk)
                    if progress:
                        progress(len(chunk))
        got = f"{algorithm}:{hasher.hexdigest()}"
        if (size and received != size) or got != digest:
            partial.unlink(missing_ok=True)
            what = f"{received} bytes instead of {size}" if size and received != size else f"digest {got}"
            raise DigestMismatch(f"{self.host}/{repository}: blob {digest} arrived with {what}: the registry or the "
                                 "network altered it; nothing was kept")
        self.stats.add(blobs_downloaded=1, bytes_downloaded=received - have)

    def upload_blob(self, repository: str, digest: str, size: int, body: Callable[[], IO[bytes]],
                    mount_from: str = "", progress: Progress | None = None) -> str:
        """Make blob `digest` present in `repository`: "present" (HEAD found it), "mounted" or "uploaded"."""
        if self.has_blob(repository, digest):
            self.stats.add(blobs_present=1)
            return "present"
        params = {"mount": digest, "from": mount_from} if mount_from else {}
        what = f"uploading {digest} to {self.host}/{repository}"
        answer = self._request("POST", repository, "blobs/uploads/", (201, 202), what, params=params,
                               headers={"Content-Length": "0"})
        if answer.status_code == 201:
            self.stats.add(blobs_mounted=1)
            return "mounted"
        location = self._location(answer, what)
        if self.chunk_size and size > self.chunk_size:
            location = self._patch_chunks(repository, location, size, body, what, progress)
            self._request("PUT", repository, _with_digest(location, digest), (201,), what,
                          headers={"Content-Length": "0"})
        else:
            def counted() -> Any:
                return _Counting(body(), size, progress)
            self._request("PUT", repository, _with_digest(location, digest), (201,), what, body=counted,
                          headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)})
        self.stats.add(blobs_uploaded=1, bytes_uploaded=size)
        return "uploaded"

    def _patch_chunks(self, repository: str, location: str, size: int, body: Callable[[], IO[bytes]], what: str,
                      progress: Progress | None) -> str:
        """Send the blob chunk by chunk. A chunk that fails is not the end: the registry is asked how much of
        the upload it holds (GET on the session), and sending resumes from there, up to MAX_RESUMES times."""
        resumes = 0
        with body() as stream:
            start = 0
            while start < size:
                stream.seek(start)
                chunk = stream.read(self.chunk_size)
                if not chunk:
                    raise RegistryError(f"{what}: the blob ended after {start} of {size} bytes")
                end = start + len(chunk) - 1
                try:
                    answer = self._request("PATCH", repository, location, (202,), what, body=lambda c=chunk: c,
                                           headers={"Content-Type": "application/octet-stream",
                                                    "Content-Range": f"{start}-{end}",
                                                    "Content-Length": str(len(chunk))})
                except RegistryError:
                    if resumes == MAX_RESUMES:
                        raise
                    resumes += 1
                    start, location = self._upload_offset(repository, location, what)
                    continue
                location = self._location(answer, what)
                start = end + 1
                if progress:
                    progress(len(chunk))
        return location

    def _upload_offset(self, repository: str, location: str, what: str) -> tuple[int, str]:
        """Where an interrupted upload session stands: the next byte to send, and the session's location."""
        answer = self._request("GET", repository, location, (204,), f"{what} (resuming)")
        held = answer.headers.get("Range", "")  # "0-<last byte held>"
        last = held.partition("-")[2]
        return (int(last) + 1 if last.isdigit() else 0), self._location(answer, what)

    # -- requests ---------------------------------------------------------------------------------

    def _location(self, answer: requests.Response, what: str) -> str:
        location = answer.headers.get("Location")
        if not location:
            raise RegistryError(f"{what}: the registry opened no upload session (no Location)")
        return urljoin(self.base_url + "/", location)

    def _request(self, method: str, repository: str, path: str, ok: tuple[int, ...], what: str, *,
                 body: Callable[[], Any] | None = None, headers: dict[str, str] | None = None,
                 params: dict[str, str] | None = None, stream: bool = False) -> requests.Response:
        """Send one request (`path` under /v2/<repository>/, or an absolute upload URL), answering one 401
        challenge; an answer outside `ok` becomes a RegistryError naming `what`."""
        url = path if "://" in path else f"{self.base_url}/v2/{repository}/{path}"
        for _ in range(2):
            authorization = self.auth.header(repository)
            try:
                answer = self.session.request(method, url, data=body() if body else None, params=params,
                                              headers={**(headers or {}), **authorization},
                                              stream=stream, timeout=self.timeout)
            except requests.RequestException as err:
                if stream and isinstance(err, requests.ConnectionError):
                    raise
                raise RegistryError(f"{what}: cannot reach {self.host}: {err}") from None
            if method in ("POST", "PUT", "PATCH", "DELETE"):
                self.stats.add(mutating_requests=1)
            if answer.status_code != 401 or not self.auth.challenged(answer, repository,
                                                                      authorization.get("Authorization")):
                break
        if answer.status_code not in ok:
            error = describe(answer, what)
            answer.close()
            raise error
        return answer


def _with_digest(location: str, digest: str) -> str:
    return f"{location}{'&' if '?' in location else '?'}digest={digest}"


class _Counting:
    """A streamed body of known length that reports the bytes `requests` reads from it."""

    def __init__(self, stream: IO[bytes], size: int, progress: Progress | None) -> None:
        self._stream = stream
        self._size = size
        self._progress = progress

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[bytes]:
        while data := self.read(CHUNK):
            yield data

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if data and self._progress:
            self._progress(len(data))
        if not data:
            self._stream.close()
        return data
