"""function_config: what the supervisor reads, never with credentials."""

from __future__ import annotations

import json

import pytest

from scar.config.defaults import UDOCKER_ENGINE_URL
from scar.config.specs import UdockerEngineSpec
from scar.errors import BadInputError, ConfigError
from scar.package.function_config import function_config
from tests.unit.package.conftest import SECRETS


def test_content(load_fdl):
    loaded = load_fdl()
    config = function_config(loaded.spec, "9.9.9", providers=loaded.providers)
    assert config == {
        "name": "fn1",
        "container": {"image": "alpine:3.20", "image_file": None, "environment": {"GREETING": "hello"},
                      "timeout_threshold": 10},
        "init_script": "script.sh",
        "extra_payload": True,
        "input": [{"storage_provider": "minio.store", "path": "bucket/in", "suffix": [], "prefix": []}],
        "output": [
            {"storage_provider": "s3.archive", "path": "bucket/out", "suffix": [".txt"], "prefix": []},
            {"storage_provider": "s3", "path": "own-bucket", "suffix": [], "prefix": []},
        ],
        "storage_providers": {
            "minio": {"store": {"endpoint": "https://minio.example.org", "verify": False, "region": "us-east-1"}},
            "s3": {"archive": {"region": "eu-west-1"}},
        },
        "credentials": {"minio.store": "/scar/fn1/storage/minio.store", "s3.archive": "/scar/fn1/storage/s3.archive"},
        "log_level": "INFO",
        "execution_mode": "lambda",
        "runner": "udocker",
        "udocker_execmode": "F1",
        "scar_version": "9.9.9",
    }


def test_no_secret_is_written(load_fdl):
    loaded = load_fdl()
    text = json.dumps(function_config(loaded.spec, "1", providers=loaded.providers))
    assert not [secret for secret in SECRETS if secret in text]
    assert "access_key" not in text and "secret_key" not in text and "token" not in text


def test_minimal_function(load_fdl):
    loaded = load_fdl("functions: {aws: [{lambda: {name: bare, container: {image: busybox},\n"
                      "                               supervisor: {runner: sandbox}}}]}\n")
    config = function_config(loaded.spec, "1", providers=loaded.providers)
    assert config["init_script"] is None
    assert config["extra_payload"] is False
    assert config["input"] == config["output"] == []
    assert config["storage_providers"] == {}
    assert config["runner"] == "sandbox"


def test_an_undefined_provider_is_refused(load_fdl):
    loaded = load_fdl()
    with pytest.raises(BadInputError, match=r"'minio\.store' is not defined"):
        function_config(loaded.spec, "1", providers=type(loaded.providers)())


def test_udocker_engine_settings(load_fdl):
    engine = load_fdl().spec.lambda_.supervisor.udocker_engine
    assert engine == UdockerEngineSpec(url=UDOCKER_ENGINE_URL, sha256=None, file=None)

    digest = "AB" * 32
    loaded = load_fdl(f"""\
        functions:
          aws:
          - lambda:
              name: f
              container: {{image: busybox}}
              supervisor:
                udocker_engine: {{sha256: {digest}, file: script.sh}}
        """)
    engine = loaded.spec.lambda_.supervisor.udocker_engine
    assert engine.sha256 == digest.lower()
    assert engine.file is not None and engine.file.name == "script.sh" and engine.file.is_absolute()


def test_a_bad_sha256_is_a_config_error(load_fdl):
    with pytest.raises(ConfigError, match=r"udocker_engine\.sha256: 'abc' must be a SHA-256 digest"):
        load_fdl("functions: {aws: [{lambda: {name: f, container: {image: busybox}, "
                 "supervisor: {udocker_engine: {sha256: abc}}}}]}\n")


def test_udocker_execution_mode_reaches_the_supervisor(load_fdl, tmp_path):
    from scar.supervisor.config import FunctionConfig

    loaded = load_fdl("functions: {aws: [{lambda: {name: f, container: {image: busybox}, "
                      "supervisor: {udocker_execmode: p1}}}]}\n")
    written = function_config(loaded.spec, "1", providers=loaded.providers)
    assert written["udocker_execmode"] == "P1"
    assert FunctionConfig.from_dict(json.loads(json.dumps(written)), tmp_path).udocker_execmode == "P1"
    assert FunctionConfig.from_dict({"name": "f"}, tmp_path).udocker_execmode == "F1"  # an older package


def test_an_unknown_udocker_execution_mode_is_a_config_error(load_fdl):
    with pytest.raises(ConfigError, match=r"udocker_execmode: 'R1' must be one of: F1, P1"):
        load_fdl("functions: {aws: [{lambda: {name: f, container: {image: busybox}, "
                 "supervisor: {udocker_execmode: R1}}}]}\n")
