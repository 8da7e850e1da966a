"""End-to-end fixtures: ministack (in its own virtualenv) as the cloud, where deployed zip functions really
run, and a busybox image built offline in `docker save` format."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest

from devtools.emulators import Ministack
from devtools.images import build_busybox_image, static_busybox
from devtools.udocker_engine import build_engine_tarball, debian_engine_files

ROOT = Path(__file__).resolve().parents[2]
MINISTACK = Path(os.environ.get("SCAR_TEST_MINISTACK", ROOT / ".venv-ministack" / "bin" / "ministack"))
REGION = "us-east-1"


@pytest.fixture(scope="session")
def ministack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ministack]:
    if not MINISTACK.exists():
        pytest.skip(f"ministack is not installed at {MINISTACK} (make test installs it in .venv-ministack)")
    if shutil.which("bwrap") is None or static_busybox() is None:
        pytest.skip("bubblewrap and busybox-static are needed (scripts/install-system-deps.sh installs them)")
    work = tmp_path_factory.mktemp("ministack")
    with Ministack(MINISTACK, work / "state", work / "ministack.log") as server:
        yield server


@pytest.fixture
def cloud(ministack: Ministack, monkeypatch: pytest.MonkeyPatch, isolated_env: Path, tmp_path: Path) -> str:
    """An empty ministack; scar pointed at it, with a scar.cfg that deploys without any download."""
    ministack.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", ministack.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    config = isolated_env / ".scar" / "scar.cfg"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({
        "scar": {"config_version": "2.0.0"},
        "aws": {"iam": {"role": "arn:aws:iam::000000000000:role/scar-e2e"},
                "lambda": {"supervisor": {"runner": "sandbox"}}},  # no udocker, so no engine to fetch
    }))
    return ministack.endpoint


@pytest.fixture(scope="session")
def busybox_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_busybox_image(tmp_path_factory.mktemp("image") / "busybox.tar")


@pytest.fixture(scope="session")
def udocker_kit(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """udocker's engine stood in for by Debian's proot, patchelf and libfakechroot (given to init as
    lambda.supervisor.udocker_engine.file), and a busybox image udocker's GNU tar extraction can build (no
    folder replaced by a file)."""
    try:
        debian_engine_files()
    except FileNotFoundError as err:
        pytest.skip(str(err))
    folder = tmp_path_factory.mktemp("udocker")
    return (build_engine_tarball(folder / "engine.tar.gz"),
            build_busybox_image(folder / "busybox.tar", type_changes=False))


@pytest.fixture
def s3(cloud: str):
    return boto3.client("s3", endpoint_url=cloud, region_name=REGION)


@pytest.fixture
def wait_for_object(s3) -> Callable[[str, str, float], bytes]:
    """Poll until an object exists (S3 notifications are asynchronous); its content."""

    def wait(bucket: str, key: str, timeout: float = 60) -> bytes:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            except s3.exceptions.NoSuchKey:
                time.sleep(0.25)
        raise AssertionError(f"s3://{bucket}/{key} did not appear within {timeout} s")

    return wait
