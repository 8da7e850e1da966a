"""`scar run --local`: the supervisor on this machine, the image from a `docker save` tarball, input from a
file or S3, results to a folder or to the function's S3 output."""

from __future__ import annotations

import json
import shutil

import pytest

from devtools.images import build_busybox_image, static_busybox
from tests.integration.conftest import write_fdl

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None or static_busybox() is None,
                                reason="bubblewrap and busybox-static are needed (scripts/install-system-deps.sh)")

SCRIPT = """#!/bin/sh
echo "processing $(basename "$INPUT_FILE_PATH")"
tr 'a-z' 'A-Z' < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$(basename "$INPUT_FILE_PATH").upper"
"""


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    return build_busybox_image(tmp_path_factory.mktemp("image") / "busybox.tar")


@pytest.fixture
def function(tmp_path, image):
    (tmp_path / "script.sh").write_text(SCRIPT)
    return write_fdl(tmp_path, f"""
        functions:
          aws:
          - lambda:
              name: local-fn
              init_script: script.sh
              container: {{image_file: {image}}}
              input: [{{storage_provider: s3, path: local-in/in}}]
              output: [{{storage_provider: s3, path: local-out/results}}]
        """)


def test_local_file_in_folder_out(scar, function, tmp_path):
    (tmp_path / "note.txt").write_text("hello\n")
    result = scar("run", "--local", "-f", function, "--input", tmp_path / "note.txt", "--output-dir", tmp_path / "out")
    assert result.code == 0, result.stderr
    assert result.stdout == "processing note.txt\n"
    assert "ran local-fn locally in bubblewrap" in result.stderr
    assert (tmp_path / "out" / "note.txt.upper").read_text() == "HELLO\n"


def test_output_dir_links_are_replaced_never_followed(scar, function, image, tmp_path):
    """A link planted in --output-dir under a result's name is replaced by the result, the file it pointed to
    stays as it was; one among the folders is refused."""
    (tmp_path / "note.txt").write_text("hello\n")
    out, victim = tmp_path / "out", tmp_path / "victim.txt"
    out.mkdir()
    victim.write_text("keep me\n")
    (out / "note.txt.upper").symlink_to("../victim.txt")
    result = scar("run", "--local", "-f", function, "--input", tmp_path / "note.txt", "--output-dir", out)
    assert result.code == 0, result.stderr
    assert victim.read_text() == "keep me\n"
    assert not (out / "note.txt.upper").is_symlink() and (out / "note.txt.upper").read_text() == "HELLO\n"
    (out / "sub").symlink_to("..")
    result = scar("run", "--local", "-n", "adhoc", "-if", image, "--output-dir", out, "--",
                  "sh", "-c", 'mkdir "$TMP_OUTPUT_DIR/sub" && echo pwned > "$TMP_OUTPUT_DIR/sub/victim.txt"')
    assert result.code == 1
    assert "'sub' there is a symbolic link" in result.stderr
    assert victim.read_text() == "keep me\n"


def test_s3_object_in_and_the_function_output_out(scar, cloud, s3, function):
    s3.create_bucket(Bucket="local-in")
    s3.create_bucket(Bucket="local-out")
    s3.put_object(Bucket="local-in", Key="in/data file.txt", Body=b"from s3\n")
    result = scar("run", "--local", "-f", function, "--input", "s3://local-in/in/data file.txt", "-j")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["Sandbox"] == "bubblewrap"
    body = s3.get_object(Bucket="local-out", Key="results/data file.txt.upper")["Body"].read()
    assert body == b"FROM S3\n"


def test_failure_exit_code_and_output_tail(scar, image):
    result = scar("run", "--local", "-n", "adhoc", "-if", image, "--", "sh", "-c", "echo going down; exit 9")
    assert result.code == 1
    assert "the container exited with code 9" in result.stderr
    assert "going down" in result.stderr


def test_an_unreachable_registry_is_one_clear_error(scar, tmp_path):
    """container.image is pulled from its registry (tests/integration/test_registry.py runs one); none listens
    on port 9 here."""
    path = write_fdl(tmp_path, """
        functions:
          aws:
          - lambda: {name: registry-fn, container: {image: "127.0.0.1:9/busybox:1"}}
        """)
    result = scar("run", "--local", "-f", path)
    assert result.code == 1
    assert "cannot reach 127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr


def test_local_flags_need_local(scar, tmp_path, image):
    result = scar("run", "-n", "x", "-if", image)
    assert result.code == 2
    assert "-if/--image-file only apply to local runs: add --local" in result.stderr


HOG = 'x=a; i=0; while [ $i -lt 27 ]; do x="$x$x"; i=$((i+1)); done; echo survived ${#x}'


@pytest.mark.parametrize(("memory", "survives"), [("128", False), ("1024", True)])
def test_the_functions_memory_bounds_the_local_run(scar, image, monkeypatch, tmp_path, memory, survives):
    """The sandbox gets the function's lambda.memory as Lambda would, unless SCAR_SANDBOX_MEMORY_MB says
    otherwise; the 1024 MB run is the control: what stops the 128 MB one is the limit."""
    monkeypatch.delenv("SCAR_SANDBOX_MEMORY_MB", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", raising=False)
    path = write_fdl(tmp_path, f"functions: {{aws: [{{lambda: {{name: hog-fn, memory: {memory}, "
                               f"container: {{image_file: {image}}}}}}}]}}\n")
    result = scar("run", "--local", "-f", path, "--", "sh", "-c", HOG)
    assert ("survived 134217728" in result.stdout) is survives, result.stderr
    assert result.code == (0 if survives else 1), result.stderr
