"""Local AWS emulators on 127.0.0.1: start, wait until ready, reset, stop."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(url: str, body: bytes = b"", content_type: str = "application/json", timeout: float = 10) -> bytes:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


class MotoServer:
    """`python -m moto.server` on 127.0.0.1 and a free port, as a context manager.

    Its environment drops the caller's AWS settings so the server never sees real credentials.
    """

    def __init__(self, log_file: Path | None = None, python: str = sys.executable, docker: bool = False) -> None:
        """`docker=False` selects moto's docker-less Lambda and Batch: invocations echo their payload and
        jobs succeed at once, instead of failing for want of a Docker daemon."""
        self.docker = docker
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._python = python
        self._log_file = log_file
        self._log: IO[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> MotoServer:
        self._log = self._log_file.open("w") if self._log_file else open(os.devnull, "w")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self._process = subprocess.Popen(
            [self._python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log, stderr=subprocess.STDOUT, env=env,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.reset()
                break
            except (urllib.error.URLError, ConnectionError):
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    where = f" (see {self._log_file})" if self._log_file else ""
                    raise RuntimeError(f"moto server did not start{where}") from None
                time.sleep(0.1)
        if not self.docker:
            config = b'{"lambda": {"use_docker": false}, "batch": {"use_docker": false}}'
            post(f"{self.endpoint}/moto-api/config", config)
        return self

    def reset(self) -> None:
        """Forget every resource (the server's configuration stays)."""
        post(f"{self.endpoint}/moto-api/reset")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._log is not None:
            self._log.close()

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
