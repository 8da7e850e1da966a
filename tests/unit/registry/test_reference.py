"""Image references read the way Docker reads them, and the auth pieces that need no registry."""

from __future__ import annotations

import base64
import json

import pytest

from scar.errors import BadInputError
from scar.registry.auth import docker_config_credentials, ecr_credentials, parse_challenge
from scar.registry.errors import RegistryError
from scar.registry.platforms import Platform, choose
from scar.registry.reference import is_loopback, parse_reference

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(("text", "registry", "repository", "tag", "digest"), [
    ("busybox", "docker.io", "library/busybox", "", ""),
    ("busybox:1.36", "docker.io", "library/busybox", "1.36", ""),
    ("grycap/cowsay", "docker.io", "grycap/cowsay", "", ""),
    ("localhost/a/b:t", "localhost", "a/b", "t", ""),
    ("127.0.0.1:5000/base/busybox:latest", "127.0.0.1:5000", "base/busybox", "latest", ""),
    (f"123.dkr.ecr.us-east-1.amazonaws.com/fn@{DIGEST}", "123.dkr.ecr.us-east-1.amazonaws.com", "fn", "", DIGEST),
    (f"reg.example:8443/x:v1@{DIGEST}", "reg.example:8443", "x", "v1", DIGEST),
])
def test_references(text, registry, repository, tag, digest):
    ref = parse_reference(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)
    assert ref.reference == (digest or tag or "latest")


@pytest.mark.parametrize("text", ["", "UPPER/case", "a@sha256:12", "a:b:c", "a:-tag", "a//b"])
def test_bad_references_are_one_clear_error(text):
    with pytest.raises(BadInputError, match="image"):
        parse_reference(text)


def test_only_loopback_registries_are_plain_http():
    assert parse_reference("127.0.0.1:5000/a").base_url == "http://127.0.0.1:5000"
    assert parse_reference("localhost:5000/a").base_url == "http://localhost:5000"
    assert parse_reference("busybox").base_url == "https://registry-1.docker.io"
    assert parse_reference("reg.example:5000/a").base_url == "https://reg.example:5000"
    assert is_loopback("[::1]:5000") and not is_loopback("10.0.0.1:5000")


def test_bearer_challenge_is_parsed():
    scheme, params = parse_challenge('Bearer realm="https://auth.example/token",service="reg",'
                                     'scope="repository:a/b:pull,push"')
    assert scheme == "bearer"
    assert params == {"realm": "https://auth.example/token", "service": "reg", "scope": "repository:a/b:pull,push"}


def test_ecr_token_gives_user_and_password():
    token = base64.b64encode(b"AWS:secret:with:colons").decode()
    credentials, endpoint = ecr_credentials({"authorizationData": [
        {"authorizationToken": token, "proxyEndpoint": "https://1.dkr.ecr.eu-west-1.amazonaws.com"}]})
    assert (credentials.username, credentials.password) == ("AWS", "secret:with:colons")
    assert endpoint == "https://1.dkr.ecr.eu-west-1.amazonaws.com"
    assert "secret" not in repr(credentials)
    with pytest.raises(RegistryError, match="cannot be read"):
        ecr_credentials({"authorizationData": []})


def test_docker_login_credentials_are_read(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert docker_config_credentials("reg:5000") is None
    auth = base64.b64encode(b"me:pw").decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"https://reg:5000": {"auth": auth}}}))
    found = docker_config_credentials("reg:5000")
    assert found is not None and (found.username, found.password) == ("me", "pw")


def test_platform_choice_skips_attestations_and_names_what_exists():
    index = {"manifests": [
        {"digest": "sha256:1", "platform": {"os": "linux", "architecture": "amd64"}},
        {"digest": "sha256:2", "platform": {"os": "unknown", "architecture": "unknown"}},
        {"digest": "sha256:3", "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}]}
    assert choose(index, Platform("arm64"), "img")["digest"] == "sha256:3"
    with pytest.raises(RegistryError, match=r"no linux/s390x image \(it has linux/amd64, linux/arm64\)"):
        choose(index, Platform("s390x"), "img")
