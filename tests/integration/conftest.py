"""Fixtures for deploying against moto: a role and a deploy-ready scar.cfg, clients to check AWS state,
the counter of mutating calls, and FDL files written from text."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from devtools import registry as local
from devtools.images import build_busybox_image
from tests.integration.lifecycle_support import CallCounter, create_role, make_engine, write_scar_cfg

REGION = "us-east-1"


@pytest.fixture
def deploy_env(cloud: str, isolated_env: Path, tmp_path: Path) -> str:
    """moto with the test role, and a scar.cfg naming it (and a local udocker engine: no download)."""
    create_role(cloud)
    write_scar_cfg(isolated_env, make_engine(tmp_path / "englib.tar.gz"))
    return cloud


@pytest.fixture
def aws(deploy_env: str) -> Callable[[str], Any]:
    """`aws("lambda")`: a boto3 client on the emulator, to arrange and check state."""

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=deploy_env, region_name=REGION)

    return client


@pytest.fixture
def counter(monkeypatch: pytest.MonkeyPatch) -> CallCounter:
    return CallCounter(monkeypatch)


def write_fdl(folder: Path, text: str, name: str = "fdl.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture(scope="module")
def registry():
    """A local docker-registry on 127.0.0.1, anonymous (test_registry.py has its own, with basic auth)."""
    with local.local_registry() as running:
        yield running


@pytest.fixture(scope="module")
def base_image(tmp_path_factory):
    """A busybox image (OCI layout, gzip layers, no Python in it) to build function images on."""
    return build_busybox_image(tmp_path_factory.mktemp("base") / "busybox.tar", fmt="oci", gzip_layers=True)
