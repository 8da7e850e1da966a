"""The fault-at-every-call scenario of test_rollback.py for a `runtime: image` function: each mutating AWS
call of its first deployment fails in turn, and both moto and the registry the image is pushed to
(`ecr.registry_url`) are left exactly as before — the pushed image is deleted again by the rollback."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from devtools import registry as local
from devtools.images import build_busybox_image, static_busybox
from scar.registry.client import RegistryClient
from tests.integration import test_rollback as rollback
from tests.integration.conftest import write_fdl
from tests.integration.test_rollback import fault_at_every_call, proxy, snapshot  # noqa: F401 - proxy: a fixture

pytestmark = pytest.mark.skipif(not local.available() or static_busybox() is None or shutil.which("patchelf") is None,
                                reason="docker-registry, busybox-static and patchelf are needed "
                                       "(scripts/install-system-deps.sh)")


def test_an_image_deployment_fails_at_every_call_and_leaves_nothing(scar, proxy, moto_server, tmp_path,  # noqa: F811
                                                                    monkeypatch):
    base = build_busybox_image(tmp_path / "busybox.tar")
    (tmp_path / "script.sh").write_text("#!/bin/sh\necho image\n")
    with local.local_registry() as registry:
        client = RegistryClient(registry.url)
        fdl = write_fdl(tmp_path, f"""
            functions:
              aws:
              - lambda:
                  name: rollback-image-fn
                  runtime: image
                  init_script: script.sh
                  container: {{image_file: {base}}}
                ecr: {{registry_url: "{registry.url}"}}
            """)

        def clean_registry() -> None:
            digest = client.manifest_digest("rollback-image-fn", "latest")
            if digest:
                client.delete_manifest("rollback-image-fn", digest)

        def state(endpoint: str) -> dict[str, Any]:
            return {**snapshot(endpoint), "registry": client.manifest_digest("rollback-image-fn", "latest")}

        monkeypatch.setattr(rollback, "snapshot", state)  # what fault_at_every_call compares, the image included
        calls = fault_at_every_call(scar, proxy, moto_server, clean_registry, fdl)
    assert calls >= 3  # log group and retention, (layer,) function
