"""A real OCI registry on 127.0.0.1 for the tests and benchmarks: Debian's `docker-registry` (CNCF distribution),
started on a free port with its own temporary configuration and storage, optionally behind basic auth (htpasswd,
from Debian's apache2-utils) the way ECR checks user `AWS` and a token. Install both with
scripts/install-system-deps.sh."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

_LISTENING = re.compile(r"listening on (127\.0\.0\.1:\d+)")
_ACCESS = re.compile(r'"(GET|HEAD|POST|PUT|PATCH|DELETE) /v2/')


def available() -> bool:
    return shutil.which("docker-registry") is not None


@dataclass(frozen=True)
class LocalRegistry:
    url: str  # http://127.0.0.1:PORT
    storage: Path  # the registry's filesystem storage (tests may corrupt a blob there)
    log: list[str] = field(default_factory=list)  # the registry's output so far (its access log included)

    def requests(self, *methods: str) -> list[str]:
        """The access-log lines of the requests with one of `methods` (all when none is given)."""
        found = []
        for line in list(self.log):
            match = _ACCESS.search(line)
            if match and (not methods or match.group(1) in methods):
                found.append(line)
        return found

    @property
    def host(self) -> str:
        return self.url.split("://", 1)[1]

    def blob_file(self, digest: str) -> Path:
        """Where the registry keeps blob `digest` on disk."""
        hexdigest = digest.split(":", 1)[1]
        return self.storage / "docker/registry/v2/blobs/sha256" / hexdigest[:2] / hexdigest / "data"


@contextlib.contextmanager
def local_registry(user: str = "", password: str = "") -> Iterator[LocalRegistry]:
    """Run a registry until the block ends; with `user` and `password` it asks for them (HTTP basic)."""
    if not available():
        raise FileNotFoundError("docker-registry is not installed (scripts/install-system-deps.sh)")
    with tempfile.TemporaryDirectory(prefix="scar-registry-") as folder:
        root = Path(folder)
        auth = ""
        if user:
            htpasswd = subprocess.run(["htpasswd", "-Bbn", user, password], check=True, capture_output=True,
                                      text=True).stdout
            (root / "htpasswd").write_text(htpasswd)
            auth = f"auth:\n  htpasswd:\n    realm: scar-test\n    path: {root / 'htpasswd'}\n"
        (root / "config.yml").write_text(
            f"version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
            f"  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:0\n{auth}")
        env = {key: value for key, value in os.environ.items() if not key.startswith("REGISTRY_")}
        process = subprocess.Popen(["docker-registry", "serve", str(root / "config.yml")], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            address = _wait_address(process)
            running = LocalRegistry(f"http://{address}", root / "data")
            threading.Thread(target=lambda: running.log.extend(process.stdout or ()), daemon=True).start()
            yield running
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_address(process: subprocess.Popen[str], timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    seen = []
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = _LISTENING.search(line)
        if match:
            return match.group(1)
    raise RuntimeError("docker-registry did not start:\n" + "".join(seen[-20:]))
