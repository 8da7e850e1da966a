"""Fixtures for the packaging tests: a function spec loaded from an FDL, and zip readers."""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest

from scar.config.specs import FunctionSpec, StorageProvidersSpec
from tests.unit.support import dedent

FDL = """\
functions:
  aws:
  - lambda:
      name: fn1
      container:
        image: alpine:3.20
        environment:
          Variables: {GREETING: hello}
      init_script: script.sh
      extra_payload: payload
      input:
      - storage_provider: minio.store
        path: bucket/in
      output:
      - storage_provider: s3.archive
        path: /bucket/out/
        suffix: [.txt]
      - storage_provider: s3
        path: own-bucket
storage_providers:
  minio:
    store:
      endpoint: https://minio.example.org
      verify: false
      access_key: MINIO-ACCESS-KEY
      secret_key: minio-secret-value
  s3:
    archive:
      access_key: S3-ACCESS-KEY
      secret_key: s3-secret-value
      region: eu-west-1
  onedata:
    unused:
      oneprovider_host: op.example.org
      token: onedata-token-value
      space: space1
"""

SECRETS = ("MINIO-ACCESS-KEY", "minio-secret-value", "S3-ACCESS-KEY", "s3-secret-value", "onedata-token-value")


@dataclass
class Loaded:
    spec: FunctionSpec
    providers: StorageProvidersSpec


@pytest.fixture
def project(isolated_env: Path) -> Path:
    """The working directory with an init script and an extra payload folder, as FDL refers to them."""
    work = Path.cwd()
    (work / "script.sh").write_text("#!/bin/sh\necho hello\n")
    (work / "payload" / "models").mkdir(parents=True)
    (work / "payload" / "models" / "weights.bin").write_bytes(b"\x00\x01" * 100)
    (work / "payload" / "run.sh").write_text("#!/bin/sh\n")
    (work / "payload" / "run.sh").chmod(0o755)
    (work / "payload" / "notes.txt").write_text("notes\n")
    return work


@pytest.fixture
def load_fdl(load, project: Path) -> Callable[..., Loaded]:
    """Load FDL text (default: `FDL`) written to fdl.yaml in the working directory."""

    def run(text: str = FDL) -> Loaded:
        (project / "fdl.yaml").write_text(dedent(text))
        settings = load("-f", "fdl.yaml")
        return Loaded(settings.functions[0], settings.storage_providers)

    return run


def entries(data: bytes) -> dict[str, zipfile.ZipInfo]:
    with zipfile.ZipFile(BytesIO(data)) as archive:
        return {info.filename: info for info in archive.infolist()}


def read(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(BytesIO(data)) as archive:
        return archive.read(name)


def mode(info: zipfile.ZipInfo) -> int:
    return stat.S_IMODE(info.external_attr >> 16)
