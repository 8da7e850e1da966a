"""scar's registry client against a real registry (Debian's docker-registry on 127.0.0.1, basic auth like
ECR's): images built offline from busybox-static pushed, pulled back and checked, verified downloads, and
`scar run --local` on an image named by registry reference."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import tarfile

import pytest

from devtools import registry as local
from devtools.fault_proxy import FaultProxy
from devtools.images import build_busybox_image, image_config, static_busybox, write_image
from scar.registry.archive import import_archive
from scar.registry.auth import Credentials
from scar.registry.client import OCI_INDEX, Manifest, RegistryClient, digest_of
from scar.registry.errors import DigestMismatch, RegistryError
from scar.registry.platforms import Platform, host_platform
from scar.registry.store import ImageStore
from scar.registry.transfer import pull, push
from scar.supervisor.image import extract_image
from tests.integration.conftest import write_fdl

pytestmark = pytest.mark.skipif(not local.available() or shutil.which("htpasswd") is None
                                or static_busybox() is None,
                                reason="docker-registry, apache2-utils and busybox-static are needed "
                                       "(scripts/install-system-deps.sh)")

TOKEN = "token-" + "x" * 40


@pytest.fixture(scope="module")
def registry():
    with local.local_registry("AWS", TOKEN) as running:
        yield running


@pytest.fixture
def client(registry):
    return RegistryClient(registry.url, Credentials("AWS", TOKEN))


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return build_busybox_image(tmp_path_factory.mktemp("image") / "busybox.tar", fmt="oci", gzip_layers=True,
                               env={"GREETING": "hi"}, cmd=["/bin/sh", "-c", "echo from-cmd"])


@pytest.fixture
def store(tmp_path):
    return ImageStore(tmp_path / "store")


def _pushed(client, store, archive, repository):
    image = import_archive(archive, store)
    push(client, store, image, repository, ("latest",))
    return image


def test_push_then_pull_gives_the_same_image(client, store, archive, tmp_path):
    image = _pushed(client, store, archive, "base/busybox")
    assert client.stats.blobs_uploaded == 3  # two layers and the configuration
    other = ImageStore(tmp_path / "other")
    pulled = pull(RegistryClient(client.base_url, Credentials("AWS", TOKEN)), "base/busybox", "latest", other,
                  host_platform())
    assert pulled.digest == image.digest
    assert [layer["digest"] for layer in pulled.layers] == [layer["digest"] for layer in image.layers]
    assert all(layer["mediaType"].endswith("tar+gzip") for layer in pulled.layers)
    config = other.config(pulled)
    assert config["config"]["Cmd"] == ["/bin/sh", "-c", "echo from-cmd"]
    assert "GREETING=hi" in config["config"]["Env"]
    extracted = extract_image(pulled.layout, tmp_path / "rootfs")
    assert (extracted.rootfs / "bin/busybox").is_file()
    assert (extracted.rootfs / "opt/overwritten.txt").read_text() == "layer 2\n"
    assert client.tags("base/busybox") == ["latest"]


def test_a_second_push_sends_no_blob(client, store, archive):
    image = _pushed(client, store, archive, "again/busybox")
    before = client.stats.bytes_uploaded
    result = push(client, store, image, "again/busybox", ("latest",))
    assert set(result.outcomes.values()) == {"present"}
    assert client.stats.bytes_uploaded == before


def test_chunked_upload_and_push_by_digest(registry, store, archive):
    chunked = RegistryClient(registry.url, Credentials("AWS", TOKEN), chunk_size=64 * 1024)
    image = import_archive(archive, store)
    result = push(chunked, store, image, "chunked/busybox")  # no tag: by digest
    assert set(result.outcomes.values()) == {"uploaded"}
    assert chunked.manifest_digest("chunked/busybox", image.digest) == image.digest


def test_cross_repository_mount(client, store, archive):
    image = _pushed(client, store, archive, "source/busybox")
    result = push(client, store, image, "target/busybox", ("v1",), mount_from="source/busybox")
    assert set(result.outcomes.values()) == {"mounted"}


def test_wrong_token_is_refused_clearly(registry, store, archive):
    wrong = RegistryClient(registry.url, Credentials("AWS", "wrong-" + TOKEN))  # bcrypt reads 72 bytes: differ early
    with pytest.raises(RegistryError, match="UNAUTHORIZED") as caught:
        wrong.manifest("base/busybox", "latest")
    assert TOKEN not in str(caught.value)
    anonymous = RegistryClient(registry.url)
    with pytest.raises(RegistryError, match="UNAUTHORIZED"):
        anonymous.has_blob("base/busybox", "sha256:" + "0" * 64)


def test_a_corrupt_blob_is_refused_and_nothing_is_kept(store, archive, tmp_path):
    """A registry of its own: it shares blobs between repositories, and this one is spoilt on its disk."""
    with local.local_registry("AWS", TOKEN) as own:
        client = RegistryClient(own.url, Credentials("AWS", TOKEN))
        image = _pushed(client, store, archive, "corrupt/busybox")
        layer = image.layers[1]
        stored = own.blob_file(layer["digest"])
        data = bytearray(stored.read_bytes())
        data[len(data) // 2] ^= 0xFF  # same size, one byte changed
        stored.write_bytes(bytes(data))
        fresh = ImageStore(tmp_path / "fresh")
        with pytest.raises(DigestMismatch, match="nothing was kept"):
            pull(client, "corrupt/busybox", "latest", fresh, host_platform())
    assert not fresh.has(layer["digest"])
    assert os.listdir(fresh.root / "tmp") == []
    assert os.listdir(fresh.root / "layouts") == []


def test_an_interrupted_download_resumes(client, store, archive, tmp_path):
    image = _pushed(client, store, archive, "resume/busybox")
    layer = image.layers[0]
    data = store.read(layer["digest"])
    fresh = ImageStore(tmp_path / "fresh")
    target = fresh.download_target(layer["digest"])
    target.with_name(target.name + ".partial").write_bytes(data[:1000])
    client.download_blob("resume/busybox", layer["digest"], len(data), target)
    assert target.read_bytes() == data
    assert client.stats.bytes_downloaded == len(data) - 1000


def test_an_index_gives_the_platform_asked_for(client, store, tmp_path):
    """Two one-layer images (amd64 and arm64 configurations) behind one OCI index."""
    images = {}
    for arch in ("amd64", "arm64"):
        layer = f"layer of {arch}".encode()
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            info = tarfile.TarInfo(f"{arch}.txt")
            info.size = len(layer)
            tar.addfile(info, io.BytesIO(layer))
        config = image_config([buffer.getvalue()], env={}, cmd=["/bin/sh"])
        config["architecture"] = arch
        path = write_image(tmp_path / f"{arch}.tar", [buffer.getvalue()], config)
        images[arch] = import_archive(path, store)
        push(client, store, images[arch], "multi/app")
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": images[a].manifest.media_type, "digest": images[a].digest, "size": len(images[a].manifest.data),
         "platform": {"os": "linux", "architecture": a}} for a in ("amd64", "arm64")]}).encode()
    client.put_manifest("multi/app", "latest", Manifest(index, OCI_INDEX, digest_of(index)))
    fresh = ImageStore(tmp_path / "fresh")
    assert pull(client, "multi/app", "latest", fresh, Platform("arm64")).digest == images["arm64"].digest
    with pytest.raises(RegistryError, match="no linux/s390x image"):
        pull(client, "multi/app", "latest", fresh, Platform("s390x"))


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is needed")
def test_run_local_pulls_container_image_from_the_registry(scar, registry, client, store, archive, tmp_path,
                                                          monkeypatch):
    """`docker login`'s file gives the credentials; the image is pulled into ~/.cache/scar/images and run."""
    _pushed(client, store, archive, "run/busybox")
    docker = tmp_path / "docker"
    docker.mkdir()
    auth = base64.b64encode(f"AWS:{TOKEN}".encode()).decode()
    (docker / "config.json").write_text(json.dumps({"auths": {registry.host: {"auth": auth}}}))
    (tmp_path / "script.sh").write_text('#!/bin/sh\necho "$GREETING from $(cat "$INPUT_FILE_PATH")"\n')
    (tmp_path / "in.txt").write_text("the registry")
    fdl = write_fdl(tmp_path, f"""
        functions:
          aws:
          - lambda:
              name: pulled-fn
              init_script: script.sh
              container: {{image: "{registry.host}/run/busybox:latest"}}
        """)
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    result = scar("run", "--local", "-f", fdl, "--input", tmp_path / "in.txt")
    assert result.code == 0, result.stderr
    assert result.stdout == "hi from the registry\n"
    assert any((tmp_path / "home/.cache/scar/images/layouts").iterdir())


def test_an_interrupted_chunked_upload_resumes_where_the_registry_stands(registry, tmp_path):
    """The fault proxy fails one PATCH of a chunked upload (the 3rd write: POST, PATCH, PATCH): the client asks
    the registry how much it holds and goes on from there; the blob arrives whole."""
    blob = os.urandom(100 * 1024)
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    with FaultProxy(registry.url) as proxy:
        chunked = RegistryClient(proxy.endpoint, Credentials("AWS", TOKEN), chunk_size=16 * 1024)
        proxy.arm(3)
        assert chunked.upload_blob("resumed/blob", digest, len(blob), lambda: io.BytesIO(blob)) == "uploaded"
        assert proxy.failed is not None and proxy.failed.split(".", 1)[1].startswith("PATCH")
        assert len(proxy.mutating) >= 2 + len(blob) // (16 * 1024)  # the chunks, the failed one sent again
    direct = RegistryClient(registry.url, Credentials("AWS", TOKEN))
    target = tmp_path / "blob"
    direct.download_blob("resumed/blob", digest, len(blob), target)
    assert target.read_bytes() == blob
