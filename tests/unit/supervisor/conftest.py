"""Real udocker for the supervisor's udocker runner: udocker from PyPI (a requirement of scar), its engine
stood in for by Debian's proot, patchelf and libfakechroot (devtools.udocker_engine), and two images built
offline: busybox for PRoot mode, and host programs with their libraries for Fakechroot mode."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.images import build_busybox_image, build_dynamic_image, static_busybox
from devtools.udocker_engine import build_engine_tarball, debian_engine_files


@dataclass(frozen=True)
class UdockerKit:
    engine: Path  # the engine tarball, in the layout `udocker install` accepts
    busybox_image: Path  # static busybox, two layers
    dynamic_image: Path  # dynamically linked host programs, their libraries and loader, one layer


@pytest.fixture(scope="session")
def udocker_kit(tmp_path_factory: pytest.TempPathFactory) -> UdockerKit:
    if importlib.util.find_spec("udocker") is None:
        pytest.skip("udocker is not installed (pip install -r requirements.txt)")
    try:
        debian_engine_files()
    except FileNotFoundError as err:
        pytest.skip(str(err))
    if static_busybox() is None:
        pytest.skip("no static busybox: scripts/install-system-deps.sh installs busybox-static")
    folder = tmp_path_factory.mktemp("udocker-kit")
    try:
        dynamic = build_dynamic_image(folder / "dynamic.tar")  # with /etc/passwd, without /etc/group
    except FileNotFoundError as err:
        pytest.skip(f"cannot build the dynamically linked image: {err}")
    return UdockerKit(build_engine_tarball(folder / "engine.tar.gz"),
                      build_busybox_image(folder / "busybox.tar", type_changes=False), dynamic)


@pytest.fixture
def real_udocker(udocker_kit: UdockerKit, monkeypatch: pytest.MonkeyPatch) -> UdockerKit:
    """The runner's udocker installs the stand-in engine (as it installs the one in the supervisor layer)."""
    monkeypatch.setenv("SCAR_UDOCKER_TARBALL", str(udocker_kit.engine))
    return udocker_kit
