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


class LocalServer:
    """A server process on 127.0.0.1 and a free port, as a context manager: started, awaited until it
    answers, and stopped (terminated, then killed) whatever happens. Subclasses say how to run and probe it."""

    name = "server"

    def __init__(self, log_file: Path | None = None) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._log_file = log_file
        self._log: IO[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        """The caller's environment without its AWS settings: a server never sees real credentials."""
        return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}

    def probe(self) -> None:
        """Raise URLError or ConnectionError until the server answers."""
        raise NotImplementedError

    def ready(self) -> None:
        """Called once the server answers (configuration, warm-up...)."""

    def start(self, timeout: float = 30) -> LocalServer:
        self._log = self._log_file.open("w") if self._log_file else open(os.devnull, "w")
        self._process = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=self.environment(), cwd=self.cwd())
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.probe()
                break
            except (urllib.error.URLError, ConnectionError):
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    where = f" (see {self._log_file})" if self._log_file else ""
                    raise RuntimeError(f"{self.name} did not start{where}") from None
                time.sleep(0.05)
        self.ready()
        return self

    def cwd(self) -> str | None:
        return None

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

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class MotoServer(LocalServer):
    """`python -m moto.server` (moto's control-plane emulator of every AWS service scar uses)."""

    name = "moto server"

    def __init__(self, log_file: Path | None = None, python: str = sys.executable, docker: bool = False) -> None:
        """`docker=False` selects moto's docker-less Lambda and Batch: invocations echo their payload and
        jobs succeed at once, instead of failing for want of a Docker daemon."""
        super().__init__(log_file)
        self.docker = docker
        self._python = python

    def command(self) -> list[str]:
        # moto.server with the gaps scar's Batch updates need filled in (devtools/moto_gaps.py)
        return [self._python, "-m", "devtools.moto_gaps", "-H", "127.0.0.1", "-p", str(self.port)]

    def cwd(self) -> str | None:
        return str(Path(__file__).resolve().parents[1])

    def probe(self) -> None:
        self.reset()

    def ready(self) -> None:
        if not self.docker:
            config = b'{"lambda": {"use_docker": false}, "batch": {"use_docker": false}}'
            post(f"{self.endpoint}/moto-api/config", config)

    def reset(self) -> None:
        """Forget every resource (the server's configuration stays)."""
        post(f"{self.endpoint}/moto-api/reset")


class Ministack(LocalServer):
    """ministack (its own virtualenv: it pins botocore).

    It really runs zip functions, with their layers, in subprocesses of its own interpreter; S3
    notifications invoke them and their output reaches CloudWatch Logs. Its environment is minimal,
    because ministack copies it into every function.
    """

    name = "ministack"

    def __init__(self, executable: Path, work_dir: Path, log_file: Path | None = None) -> None:
        super().__init__(log_file)
        self._executable = executable
        self._work_dir = work_dir

    def command(self) -> list[str]:
        self._work_dir.mkdir(parents=True, exist_ok=True)
        return [str(self._executable)]

    def environment(self) -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self._work_dir),
                "TMPDIR": str(self._work_dir), "BIND_HOST": "127.0.0.1", "GATEWAY_PORT": str(self.port),
                "LANG": "C.UTF-8"}

    def cwd(self) -> str | None:
        return str(self._work_dir)

    def probe(self) -> None:
        with urllib.request.urlopen(f"{self.endpoint}/_ministack/health", timeout=2):
            pass

    def reset(self) -> None:
        post(f"{self.endpoint}/_ministack/reset")


def client_environment(endpoint: str, home: Path, region: str = "us-east-1") -> dict[str, str]:
    """This machine's environment without its AWS and scar settings, pointed at a local emulator with
    throw-away credentials and a HOME of its own (so ~/.aws and ~/.scar are never read).

    PYTHONDONTWRITEBYTECODE goes too: warm-up runs then leave .pyc files behind, as an installed scar has
    them, instead of every timed run compiling from source.
    """
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("AWS_", "SCAR_")) and name != "PYTHONDONTWRITEBYTECODE"}
    env.update({
        "HOME": str(home),
        "SCAR_CONFIG_FOLDER": str(home / ".scar"),
        "AWS_CONFIG_FILE": str(home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    return env
