"""HTTP endpoints end to end on ministack, whose stage URL really invokes the deployed function: the
example in examples/http deployed with scar, called with `scar invoke` (GET, binary POST, a failing script)."""

from __future__ import annotations

import codecs
import json
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "http"


@pytest.fixture
def example(tmp_path: Path, busybox_image: Path) -> Path:
    """examples/http with its image replaced by the offline busybox tarball."""
    folder = tmp_path / "http"
    shutil.copytree(EXAMPLE, folder)
    fdl = folder / "http.yaml"
    text = fdl.read_text()
    assert "image: busybox\n" in text
    fdl.write_text(text.replace("image: busybox\n", f"image_file: {busybox_image}\n"))
    return fdl


def rot13(data: bytes) -> bytes:
    return codecs.encode(data.decode("latin-1"), "rot13").encode("latin-1")


def test_the_http_example_answers_get_binary_post_and_failures(scar, cloud, example, tmp_path):
    deployed = scar("init", "-f", example)
    assert deployed.code == 0, deployed.stderr

    hello = scar("invoke", "-f", example, "-p", '{"name": "scar"}')
    assert hello.code == 0, hello.stderr
    assert hello.stdout == "Hello, scar!\n"

    data = bytes(range(256)) * 64 + b"Hello, binary world\n"  # every byte value, NUL and 0xff included
    (tmp_path / "in.bin").write_bytes(data)
    posted = scar("invoke", "-n", "scar-http", "-db", tmp_path / "in.bin", "-o", tmp_path / "out.bin")
    assert posted.code == 0, posted.stderr
    assert (tmp_path / "out.bin").read_bytes() == rot13(data)

    as_json = scar("invoke", "-n", "scar-http", "-jd", '{"greeting": "hello"}', "-j")
    assert as_json.code == 0, as_json.stderr
    assert json.loads(as_json.stdout)["APIGateway"]["Payload"] == '{"terrgvat": "uryyb"}'

    failing = scar("invoke", "-n", "scar-http", "-p", '{"fail": "yes"}')
    assert failing.code == 1
    assert "the container exited with code 3" in failing.stderr and "failing on purpose" in failing.stderr
    assert "Traceback" not in failing.stderr

    listed = scar("ls")
    assert ".execute-api.us-east-1.amazonaws.com/scar/launch" in listed.stdout, listed.stdout
    removed = scar("rm", "-f", example)
    assert removed.code == 0, removed.stderr
    gone = scar("invoke", "-n", "scar-http")
    assert gone.code == 1 and "has no HTTP endpoint" in gone.stderr
