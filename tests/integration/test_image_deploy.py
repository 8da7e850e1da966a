"""`runtime: image` deploys against moto: the function image built on a busybox base (no Python in it),
pushed by digest to a real registry named by `ecr.registry_url`, the function created with PackageType Image
and `ImageUri` `repository@sha256:…`; an unchanged re-deploy pushes nothing and changes nothing; `rm` deletes
the image unless `ecr.delete_image` is false. The ECR kinds' own lifecycle runs against moto's ECR."""

from __future__ import annotations

import shutil
import time

import pytest

from devtools import registry as local
from devtools.images import static_busybox
from scar.registry.client import RegistryClient
from scar.registry.platforms import host_platform
from scar.registry.store import ImageStore
from scar.registry.transfer import pull
from tests.integration.conftest import write_fdl

pytestmark = pytest.mark.skipif(not local.available() or static_busybox() is None or shutil.which("patchelf") is None,
                                reason="docker-registry, busybox-static and patchelf are needed "
                                       "(scripts/install-system-deps.sh)")

MUTATING = ("POST", "PUT", "PATCH", "DELETE")


def _fdl(folder, base_image, registry, name="img-fn", delete_image=True):
    (folder / "script.sh").write_text("#!/bin/sh\ncat \"$INPUT_FILE_PATH\"\n")
    return write_fdl(folder, f"""
        functions:
          aws:
          - lambda:
              name: {name}
              runtime: image
              init_script: script.sh
              container: {{image_file: {base_image}}}
            ecr: {{registry_url: "{registry.url}", delete_image: {str(delete_image).lower()}}}
        """)


def _settle(registry, count=-1):
    """The registry writes its access log asynchronously: wait until it stops growing."""
    for _ in range(50):
        time.sleep(0.05)
        if len(registry.log) == count:
            return
        count = len(registry.log)


def test_deploy_by_digest_then_unchanged_then_rm(scar, deploy_env, aws, counter, registry, base_image, tmp_path):
    fdl = _fdl(tmp_path, base_image, registry)
    result = scar("init", "-f", fdl)
    assert result.code == 0, result.stderr
    function = aws("lambda").get_function(FunctionName="img-fn")
    assert function["Configuration"]["PackageType"] == "Image"
    uri = function["Code"]["ImageUri"]
    repository, digest = uri.split("@")
    assert repository == f"{registry.host}/img-fn" and digest.startswith("sha256:")
    client = RegistryClient(registry.url)
    pulled = pull(client, "img-fn", digest, ImageStore(tmp_path / "check"), host_platform())
    assert len(pulled.layers) == 5  # busybox's two, then runtime, supervisor, function files
    assert client.manifest_digest("img-fn", "latest") == digest

    _settle(registry)
    before = len(registry.requests(*MUTATING))
    counter.reset()
    again = scar("init", "-f", fdl)
    assert again.code == 0, again.stderr
    assert "img-fn: up to date" in again.stdout
    _settle(registry)
    assert len(registry.requests(*MUTATING)) == before  # no blob, no manifest sent
    assert counter.mutating == {}

    removed = scar("rm", "-f", fdl)
    assert removed.code == 0, removed.stderr
    assert client.manifest_digest("img-fn", digest) is None


def test_rm_keeps_the_image_when_delete_image_is_false(scar, deploy_env, aws, registry, base_image, tmp_path):
    fdl = _fdl(tmp_path, base_image, registry, name="kept-fn", delete_image=False)
    assert scar("init", "-f", fdl).code == 0
    digest = aws("lambda").get_function(FunctionName="kept-fn")["Code"]["ImageUri"].split("@")[1]
    removed = scar("rm", "-f", fdl)
    assert removed.code == 0, removed.stderr
    assert RegistryClient(registry.url).manifest_digest("kept-fn", digest) == digest


def test_alpine_from_an_original_fdl_is_accepted_and_said_to_be_unneeded(scar, deploy_env, aws, registry,
                                                                          base_image, tmp_path):
    fdl = _fdl(tmp_path, base_image, registry)
    text = fdl.read_text().replace("container: {", "container: {alpine: true, ")
    fdl.write_text(text)
    result = scar("init", "-f", fdl)
    assert result.code == 0, result.stderr
    assert "container.alpine is not needed" in result.stderr
    assert aws("lambda").get_function(FunctionName="img-fn")["Configuration"]["PackageType"] == "Image"


def test_another_architecture_is_refused_before_anything_is_created(scar, deploy_env, aws, registry, base_image,
                                                                    tmp_path):
    from scar.package.image_runtime import lambda_architecture

    other = "arm64" if lambda_architecture() == "x86_64" else "x86_64"
    fdl = _fdl(tmp_path, base_image, registry, name="arch-fn")
    fdl.write_text(fdl.read_text().replace("runtime: image", f"runtime: image\n      architectures: [{other}]"))
    result = scar("init", "-f", fdl)
    assert result.code == 2, result.stderr
    assert f"architectures [{other}]: this machine can only build" in result.stderr
    assert aws("lambda").list_functions()["Functions"] == []


def test_a_zip_function_switched_to_an_image_is_refused_with_what_to_do(scar, deploy_env, aws, registry,
                                                                         base_image, tmp_path):
    """Lambda cannot change a function's package type in place: init says so, and changes nothing."""
    assert scar("init", "-n", "img-fn", "-i", "busybox").code == 0
    before = aws("lambda").get_function(FunctionName="img-fn")["Configuration"]
    result = scar("init", "-f", _fdl(tmp_path, base_image, registry))
    assert result.code == 1
    assert "deployed as a zip package" in result.stderr and "scar rm -n img-fn" in result.stderr
    after = aws("lambda").get_function(FunctionName="img-fn")["Configuration"]
    assert (after["PackageType"], after["CodeSha256"]) == (before["PackageType"], before["CodeSha256"])
