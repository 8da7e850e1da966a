"""`runtime: image` function images built without Docker: the user's busybox image (no Python in it) plus
scar's Python runtime, supervisor and function files, pushed to a real registry, pulled back, checked, and
run on this machine through its own entry point and scar's local Lambda Runtime API."""

from __future__ import annotations

import base64
import shutil

import pytest

from devtools import registry as local
from devtools.images import build_busybox_image, static_busybox
from scar.local.image_run import run_image
from scar.package.function_image import ENTRYPOINT, TASK_ROOT, FunctionFiles, build_function_image
from scar.registry.archive import import_archive
from scar.registry.auth import Credentials
from scar.registry.client import RegistryClient
from scar.registry.platforms import host_platform
from scar.registry.store import ImageStore
from scar.registry.transfer import pull, push

pytestmark = pytest.mark.skipif(not local.available() or shutil.which("bwrap") is None or static_busybox() is None
                                or shutil.which("patchelf") is None,
                                reason="docker-registry, bubblewrap, busybox-static and patchelf are needed "
                                       "(scripts/install-system-deps.sh)")

SCRIPT = b'#!/bin/sh\necho "got $(tr a-z A-Z < "$INPUT_FILE_PATH")"\n'


def _config(name: str) -> dict:
    return {"name": name, "init_script": "script.sh", "log_level": "INFO",
            "container": {"environment": {}, "timeout_threshold": 2},
            "storage_providers": {"s3": {"default": {"region": "us-east-1"}}}}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("function-image")
    folder.chmod(0o700)
    store = ImageStore(folder / "store")
    base = import_archive(build_busybox_image(folder / "busybox.tar", fmt="oci", gzip_layers=True), store)
    files = FunctionFiles(_config("image-fn"), ("script.sh", SCRIPT), {"STAGE": "test"})
    return store, base, build_function_image(store, base, files, "image-fn")


def test_the_function_image_is_the_base_plus_three_layers(built):
    store, base, image = built
    assert image.layers[:2] == base.layers and len(image.layers) == 5
    config = store.config(image)
    assert config["config"]["Entrypoint"] == ENTRYPOINT
    assert config["config"]["WorkingDir"] == TASK_ROOT
    assert "STAGE=test" in config["config"]["Env"]
    assert len(config["rootfs"]["diff_ids"]) == 5


def test_the_same_inputs_give_the_same_digest(built):
    store, base, image = built
    again = build_function_image(store, base, FunctionFiles(_config("image-fn"), ("script.sh", SCRIPT),
                                                            {"STAGE": "test"}), "image-fn")
    assert again.digest == image.digest
    other = build_function_image(store, base, FunctionFiles(_config("image-fn"), ("script.sh", SCRIPT + b"#\n"),
                                                            {"STAGE": "test"}), "image-fn")
    assert other.digest != image.digest and other.layers[:4] == image.layers[:4]


def test_pushed_pulled_back_and_run_through_the_runtime_api(built, tmp_path):
    store, _, image = built
    with local.local_registry("AWS", "t" * 40) as registry:
        client = RegistryClient(registry.url, Credentials("AWS", "t" * 40))
        first = push(client, store, image, "image-fn", ("latest",))
        assert set(first.outcomes.values()) == {"uploaded"}
        assert set(push(client, store, image, "image-fn", ("latest",)).outcomes.values()) == {"present"}
        fresh = ImageStore(tmp_path / "fresh")
        pulled = pull(client, "image-fn", "latest", fresh, host_platform())
    assert pulled.digest == image.digest
    assert fresh.config(pulled)["config"]["Entrypoint"] == ENTRYPOINT
    event = {"httpMethod": "POST", "body": base64.b64encode(b"hello").decode(), "isBase64Encoded": True}
    run = run_image(pulled.layout, tmp_path / "rootfs", event, timeout=60)
    assert run.outcome is not None and run.outcome.kind == "response", run.process
    assert run.outcome.document["statusCode"] == 200
    assert base64.b64decode(run.outcome.document["body"]) == b"got HELLO\n"
    assert run.process is not None and run.process.exit_code == 0  # the loop ended when the API said "no more"


def test_a_broken_configuration_is_an_init_error(built, tmp_path):
    """FUNCTION_CONFIG (which takes precedence over the image's file) that is not base64 JSON stops the start."""
    _, _, image = built
    run = run_image(image.layout, tmp_path / "rootfs", {}, timeout=30, env={"FUNCTION_CONFIG": "not base64!"})
    assert run.outcome is not None and run.outcome.kind == "init-error", run.process
    assert run.outcome.document["errorType"] == "ConfigurationError"
    assert "FUNCTION_CONFIG is not base64-encoded JSON" in run.outcome.document["errorMessage"]
    assert run.process is not None and run.process.exit_code == 1


def _local_image_function(folder, name: str, script: bytes, data: str, extra: str = "") -> None:
    """fdl.yaml of a runtime: image function on a busybox image_file, its script.sh and an input in.txt."""
    base = build_busybox_image(folder / "busybox.tar")
    (folder / "script.sh").write_bytes(script)
    (folder / "in.txt").write_text(data)
    (folder / "fdl.yaml").write_text(f"""
functions:
  aws:
  - lambda:
      name: {name}
      runtime: image
      init_script: script.sh
      container: {{image_file: {base}}}
{extra}""")


def test_scar_run_local_runs_an_image_function_through_its_entry_point(scar, tmp_path):
    """`scar run --local` on a runtime: image function builds the image init would push and runs it as Lambda
    does: the supervisor inside, started by the image's entry point, fed by scar's local Runtime API."""
    _local_image_function(tmp_path, "local-image-fn", SCRIPT, "local image")
    result = scar("run", "--local", "-f", tmp_path / "fdl.yaml", "--input", tmp_path / "in.txt")
    assert result.code == 0, result.stderr
    assert result.stdout == "got LOCAL IMAGE\n"
    refused = scar("run", "--local", "-f", tmp_path / "fdl.yaml", "--input", "s3://bucket/key")
    assert refused.code == 2 and "s3:// inputs are not available" in refused.stderr


def test_scar_run_local_writes_an_image_functions_outputs_to_the_output_dir(scar, tmp_path):
    """--output-dir is bound into the sandbox and the supervisor inside writes the output files there (through
    no link), instead of uploading them to the output bucket."""
    script = (b'#!/bin/sh\nmkdir -p "$TMP_OUTPUT_DIR/sub"\n'
              b'tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/sub/result.txt"\necho done\n')
    _local_image_function(tmp_path, "local-image-out", script, "to the folder",
                          "      output: [{storage_provider: s3, path: never-used/out}]\n")
    out = tmp_path / "out"
    result = scar("run", "--local", "-f", tmp_path / "fdl.yaml", "--input", tmp_path / "in.txt", "--output-dir", out)
    assert result.code == 0, result.stderr
    assert result.stdout == "done\n"
    assert (out / "sub" / "result.txt").read_text() == "TO THE FOLDER"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == ["sub", "sub/result.txt"]
