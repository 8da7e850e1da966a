"""The chain of a deployed zip function as it runs in AWS Lambda, with udocker (not the sandbox): scar deploys
the function and its supervisor layer with udocker's engine in it, an upload triggers it through the S3
notification, the supervisor loads the image with real udocker, runs the script in the container and uploads
the result. ministack runs the function on this machine as root, with udocker's engine stood in for by Debian's
packages, so the mode is PRoot (P1): Debian's libfakechroot does not bind the request's folder into the
container, which Fakechroot (F1, the default, what Lambda allows) needs udocker's own build for."""

from __future__ import annotations

import textwrap

import pytest

from tests.unit.supervisor.test_udocker_real import udocker_ps

pytestmark = pytest.mark.e2e

SCRIPT = """\
#!/bin/sh
name=$(basename "$INPUT_FILE_PATH")
echo "udocker run of $name for $STORAGE_OBJECT_KEY in $(cat /etc/hostname)"
tr 'a-z' 'A-Z' < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$name.upper"
"""


def test_upload_runs_the_script_with_udocker_and_the_result_comes_back(scar, cloud, udocker_kit, tmp_path,
                                                                       wait_for_object):
    engine, image = udocker_kit
    function_tmp = tmp_path / "function-tmp"  # udocker's folder (under /tmp in Lambda) lives and goes with the test
    function_tmp.mkdir()
    (tmp_path / "script.sh").write_text(SCRIPT)
    fdl = tmp_path / "fdl.yaml"
    fdl.write_text(textwrap.dedent(f"""
        functions:
          aws:
          - lambda:
              name: udocker-fn
              timeout: 120
              init_script: script.sh
              container: {{image_file: {image}}}
              environment: {{Variables: {{TMPDIR: {function_tmp}}}}}
              supervisor:
                runner: udocker
                udocker_execmode: P1
                udocker_engine: {{file: {engine}}}
              input: [{{storage_provider: s3, path: e2e-udocker/in}}]
              output: [{{storage_provider: s3, path: e2e-udocker/out}}]
        """))
    deployed = scar("init", "-f", fdl)
    assert deployed.code == 0, deployed.stderr
    (tmp_path / "upload").mkdir()
    for name in ("first.txt", "second.txt"):  # the second runs warm: the container is reused
        (tmp_path / "upload" / name).write_text(f"{name} through udocker\n")
        assert scar("put", "-b", "e2e-udocker/in", "-p", tmp_path / "upload" / name).code == 0
        expected = f"{name} through udocker\n".upper().encode()
        try:
            assert wait_for_object("e2e-udocker", f"out/{name}.upper", timeout=90) == expected
        except AssertionError as err:
            raise AssertionError(f"{err}; the function's log:\n{scar('log', '-n', 'udocker-fn').stdout}") from None

    logs = scar("log", "-n", "udocker-fn")
    assert logs.code == 0, logs.stderr
    assert "udocker run of first.txt for in/first.txt in busybox" in logs.stdout
    assert "udocker run of second.txt for in/second.txt in busybox" in logs.stdout
    # udocker's engine came from the layer; the container was created once, in PRoot mode, for both uploads
    udocker_dir = function_tmp / "scar-cache" / "udocker"
    assert (udocker_dir / "bin" / "proot.real").is_file()
    assert udocker_ps(udocker_dir) == [("P1", "['scar-udocker-fn']", "scar-image/udocker-fn:latest")]

    failing = scar("run", "-n", "udocker-fn", "--", "sh", "-c", "echo about to fail; exit 7")
    assert failing.code == 1
    assert "the container exited with code 7" in failing.stderr and "about to fail" in failing.stderr
    assert scar("rm", "-f", fdl).code == 0
