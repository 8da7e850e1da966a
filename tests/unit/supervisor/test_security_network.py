"""`python -m scar.supervisor --runner sandbox` gives the container no network unless `--network` asks for it,
as `scar run --local` does: busybox really runs under the first sandbox that works here."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.images import build_busybox_image, static_busybox
from scar.supervisor.sandbox import available_sandboxes

REPO = Path(__file__).resolve().parents[3]


def interfaces(proc_net_dev: str) -> set[str]:
    return {line.split(":", 1)[0].strip() for line in proc_net_dev.splitlines()[2:] if ":" in line}


@pytest.fixture(scope="module")
def function(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if static_busybox() is None or not available_sandboxes():
        pytest.skip("needs busybox-static and a sandbox (scripts/install-system-deps.sh)")
    folder = tmp_path_factory.mktemp("function")
    image = build_busybox_image(folder / "busybox.tar")
    config = {"name": "fn", "runner": "sandbox", "container": {"image_file": {"path": str(image)},
                                                               "timeout_threshold": 0}}
    (folder / "function_config.yaml").write_text(json.dumps(config))
    return folder


def container_interfaces(function: Path, *options: str) -> set[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO), "TMPDIR": str(function)}
    done = subprocess.run([sys.executable, "-m", "scar.supervisor", "--config", str(function / "function_config.yaml"),
                           "--runner", "sandbox", *options], input='{"cmd_args": ["cat", "/proc/net/dev"]}',
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return interfaces(base64.b64decode(json.loads(done.stdout)["body"]).decode())


def test_no_network_by_default_and_the_hosts_with_network(function: Path) -> None:
    host = interfaces(Path("/proc/net/dev").read_text())
    assert container_interfaces(function) == {"lo"}
    if host == {"lo"}:
        pytest.skip("this machine has no network interface but lo: sharing it cannot be told apart")
    assert container_interfaces(function, "--network") == host
