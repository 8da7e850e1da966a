"""The whole chain on a real Lambda emulator: scar deploys a function whose image is a `docker save`
tarball, an upload triggers it through the S3 notification, the supervisor runs the script in the image
(under bubblewrap, because ministack runs functions on this machine) and uploads the result."""

from __future__ import annotations

import textwrap

import pytest

pytestmark = pytest.mark.e2e

SCRIPT = """\
#!/bin/sh
name=$(basename "$INPUT_FILE_PATH")
echo "processing $name for $STORAGE_OBJECT_KEY"
tr 'a-z' 'A-Z' < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$name.upper"
"""


def write_fdl(folder, image, text: str):
    (folder / "script.sh").write_text(SCRIPT)
    path = folder / "fdl.yaml"
    path.write_text(textwrap.dedent(text).replace("IMAGE", str(image)))
    return path


def test_upload_triggers_the_function_and_the_result_comes_back(scar, cloud, busybox_image, tmp_path,
                                                                 wait_for_object):
    fdl = write_fdl(tmp_path, busybox_image, """
        functions:
          aws:
          - lambda:
              name: upper-fn
              timeout: 60
              init_script: script.sh
              container: {image_file: IMAGE}
              input: [{storage_provider: s3, path: e2e-data/in}]
              output: [{storage_provider: s3, path: e2e-data/out}]
        """)
    deployed = scar("init", "-f", fdl)
    assert deployed.code == 0, deployed.stderr
    (tmp_path / "upload").mkdir()
    (tmp_path / "upload" / "hello world.txt").write_text("hello from scar\n")
    assert scar("put", "-b", "e2e-data/in", "-p", tmp_path / "upload").code == 0

    assert wait_for_object("e2e-data", "out/hello world.txt.upper") == b"HELLO FROM SCAR\n"
    got = scar("get", "-b", "e2e-data/out", "-p", tmp_path / "results")
    assert got.code == 0, got.stderr
    assert (tmp_path / "results" / "hello world.txt.upper").read_text() == "HELLO FROM SCAR\n"

    logs = scar("log", "-n", "upper-fn")
    assert logs.code == 0, logs.stderr
    assert "processing hello world.txt for in/hello world.txt" in logs.stdout
    assert "uploaded hello world.txt.upper to s3://e2e-data/out/hello world.txt.upper" in logs.stdout

    direct = scar("run", "-n", "upper-fn", "--", "sh", "-c", "echo direct run in $(cat /etc/hostname)")
    assert direct.code == 0, direct.stderr
    assert direct.stdout == "direct run in busybox\n"

    failing = scar("run", "-n", "upper-fn", "--", "sh", "-c", "echo about to fail; exit 7")
    assert failing.code == 1
    assert "the container exited with code 7" in failing.stderr and "about to fail" in failing.stderr

    removed = scar("rm", "-f", fdl)
    assert removed.code == 0, removed.stderr
    assert scar("ls").stdout == ""


def test_two_function_workflow(scar, cloud, busybox_image, tmp_path, wait_for_object):
    fdl = write_fdl(tmp_path, busybox_image, """
        functions:
          aws:
          - lambda:
              name: step-one
              timeout: 60
              init_script: script.sh
              container: {image_file: IMAGE}
              input: [{storage_provider: s3, path: e2e-flow/start}]
              output: [{storage_provider: s3, path: e2e-flow/middle}]
          - lambda:
              name: step-two
              timeout: 60
              container: {image_file: IMAGE}
              init_script: script.sh
              input: [{storage_provider: s3, path: e2e-flow/middle}]
              output: [{storage_provider: s3, path: e2e-flow/end}]
        """)
    assert scar("init", "-f", fdl).code == 0
    (tmp_path / "data.txt").write_text("abc\n")
    assert scar("put", "-b", "e2e-flow/start", "-p", tmp_path / "data.txt").code == 0
    assert wait_for_object("e2e-flow", "end/data.txt.upper.upper") == b"ABC\n"
    assert scar("rm", "-f", fdl).code == 0
