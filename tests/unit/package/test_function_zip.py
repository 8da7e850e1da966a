"""The function zip: handler, configuration, init script and extra payload, reproducibly; and size checks."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import zipfile
from pathlib import Path

import pytest
import yaml

from scar.errors import BadInputError
from scar.package.function_config import function_config
from scar.package.function_zip import FunctionPackage, build_function_zip, check_sizes, handler_text
from tests.unit.package.conftest import entries, mode, read


@pytest.fixture
def build(load_fdl):
    loaded = load_fdl()

    def run(spec=None):
        spec = spec or loaded.spec
        return build_function_zip(spec, function_config(spec, "1.0", providers=loaded.providers))

    run.spec = loaded.spec
    return run


def with_lambda(spec, **changes):
    return dataclasses.replace(spec, lambda_=dataclasses.replace(spec.lambda_, **changes))


def test_handler_module():
    text = handler_text("my-fn")
    compile(text, "my-fn.py", "exec")
    assert text.startswith('"""') and "my-fn" in text.splitlines()[0]
    assert "from scar.supervisor.entry import lambda_handler  # noqa: F401\n" in text


def test_contents_and_modes(build):
    package = build()
    found = entries(package.zip_bytes)
    assert list(found) == [
        "fn1.py", "function_config.yaml", "models/", "models/weights.bin", "notes.txt", "run.sh", "script.sh",
    ]
    assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in found.values())
    assert {name: oct(mode(info)) for name, info in found.items()} == {
        "fn1.py": "0o644", "function_config.yaml": "0o644", "models/": "0o755", "models/weights.bin": "0o644",
        "notes.txt": "0o644", "run.sh": "0o755", "script.sh": "0o755",
    }
    assert all(info.compress_type == zipfile.ZIP_DEFLATED for name, info in found.items() if name[-1] != "/")
    assert read(package.zip_bytes, "fn1.py").decode() == handler_text("fn1")
    assert read(package.zip_bytes, "models/weights.bin") == b"\x00\x01" * 100
    assert package.unzipped_size == sum(info.file_size for info in found.values())


def test_configuration_file(build, load_fdl):
    package = build()
    text = read(package.zip_bytes, "function_config.yaml").decode()
    config = function_config(build.spec, "1.0", providers=load_fdl().providers)
    assert text == json.dumps(config, indent=2, sort_keys=True) + "\n"
    assert yaml.safe_load(text) == config


def test_reproducible(build, project: Path):
    first = build()
    os.utime(project / "payload" / "notes.txt", (1_000_000_000, 1_000_000_000))
    second = build()
    assert first.zip_bytes == second.zip_bytes
    assert first.code_sha256 == second.code_sha256
    assert first.code_sha256 == base64.b64encode(hashlib.sha256(first.zip_bytes).digest()).decode()


def test_a_changed_init_script_changes_the_hash(build, project: Path):
    before = build().code_sha256
    (project / "script.sh").write_text("#!/bin/sh\necho bye\n")
    assert build().code_sha256 != before


def test_a_single_file_payload(build, project: Path):
    spec = with_lambda(build.spec, extra_payload=project / "payload" / "notes.txt", init_script=None)
    assert list(entries(build(spec).zip_bytes)) == ["fn1.py", "function_config.yaml", "notes.txt"]


def test_payload_layout_with_inner_links_and_empty_folders(build, project: Path):
    payload = project / "payload"
    (payload / "empty").mkdir()
    (payload / "deep" / "er").mkdir(parents=True)
    (payload / "deep" / "er" / "data.csv").write_text("a,b\n")
    (payload / "alias.txt").symlink_to("notes.txt")
    (payload / "models-link").symlink_to(payload / "models")
    names = list(entries(build().zip_bytes))
    assert names == [
        "alias.txt", "deep/", "deep/er/", "deep/er/data.csv", "empty/", "fn1.py", "function_config.yaml",
        "models-link/", "models-link/weights.bin", "models/", "models/weights.bin", "notes.txt", "run.sh",
        "script.sh",
    ]
    assert read(build().zip_bytes, "alias.txt") == b"notes\n"


@pytest.mark.parametrize("target", ["outside", "loop", "broken"])
def test_links_that_leave_the_payload_are_refused(build, project: Path, target: str):
    payload = project / "payload"
    (project / "secret.txt").write_text("not for the package")
    link = {"outside": "../../secret.txt", "loop": ".", "broken": "missing.txt"}[target]
    (payload / "models" / "link").symlink_to(link)
    message = {"outside": r"links to .*secret\.txt, outside .*payload", "loop": "links back to .* \\(a loop\\)",
               "broken": "is a broken symbolic link"}[target]
    with pytest.raises(BadInputError, match=message):
        build()


def test_a_payload_file_cannot_replace_what_scar_writes(build, project: Path):
    (project / "payload" / "function_config.yaml").write_text("{}")
    with pytest.raises(BadInputError, match=r"payload/function_config\.yaml would take the place of "
                                            r"function_config\.yaml"):
        build()


def test_an_init_script_named_like_a_payload_file_is_refused(build, project: Path):
    (project / "payload" / "script.sh").write_text("other")
    with pytest.raises(BadInputError, match=r"would take the place of script\.sh"):
        build()


def package(zipped: int, unzipped: int) -> FunctionPackage:
    return FunctionPackage(b"x" * zipped, "", unzipped)


def test_sizes_within_the_limits():
    assert check_sizes(package(100, 200), 300, direct_limit=100, unzipped_limit=500) is False


def test_too_big_for_a_direct_upload():
    mib = 1024 * 1024
    with pytest.raises(BadInputError) as raised:
        check_sizes(package(int(61.2 * mib), 70 * mib), 0, direct_limit=50 * mib)
    assert raised.value.message == (
        "the function package is 61.2 MiB zipped, 11.2 MiB over the 50 MiB limit for a direct upload: "
        "set lambda.deployment.bucket (-db) to upload it through S3")


def test_a_bucket_takes_what_a_direct_upload_cannot():
    assert check_sizes(package(2048, 4096), 0, direct_limit=1024, unzipped_limit=8192, bucket="deploy") is True


def test_too_big_unzipped_with_the_layers():
    with pytest.raises(BadInputError) as raised:
        check_sizes(package(10, 3000), 2000, direct_limit=100, unzipped_limit=4096, bucket="deploy")
    assert raised.value.message == (
        "the function package and its layers are 4.9 KiB unzipped (function 2.9 KiB, layers 2 KiB): over the "
        "4 KiB unzipped limit (function and layers) by 904 bytes; make lambda.extra_payload or the layers smaller")


def test_a_payload_folder_cannot_replace_the_handler(build, project: Path):
    (project / "payload" / "fn1.py").mkdir()
    (project / "payload" / "fn1.py" / "x").write_text("x")
    with pytest.raises(BadInputError, match=r"payload/fn1\.py would take the place of fn1\.py"):
        build()
