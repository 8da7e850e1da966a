"""Shared fixtures: an isolated environment for every test, the scar CLI run in-process, and one moto
server per test session (reset between tests) standing in for AWS over HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.emulators import MotoServer
from scar.cli.main import main
from tests.secret_sweep import check_output, pytest_runtest_logreport, pytest_sessionfinish  # noqa: F401 - hooks

REGION = "us-east-1"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HOME, no AWS settings of the machine's user, and a working directory of its own."""
    home = tmp_path / "home"
    home.mkdir()
    for name in list(os.environ):
        if name.startswith(("AWS_", "SCAR_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return home


@pytest.fixture
def scar(capsys: pytest.CaptureFixture[str]):
    """Run `scar ARGV...` in this process: exit code, stdout and stderr."""

    def run(*argv: str) -> Result:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        check_output(f"scar {' '.join(map(str, argv))}", out, err)
        return Result(code, out, err)

    return run


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """One moto server on 127.0.0.1 for the whole test session."""
    with MotoServer(tmp_path_factory.mktemp("moto") / "moto.log") as server:
        yield server


@pytest.fixture
def cloud(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """The emulated AWS, empty, reached through the standard AWS_ENDPOINT_URL with fake credentials."""
    moto_server.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    return moto_server.endpoint


@pytest.fixture
def s3(cloud: str):
    """A boto3 S3 client on the emulator, for arranging and checking state."""
    import boto3

    return boto3.client("s3", endpoint_url=cloud, region_name=REGION)
