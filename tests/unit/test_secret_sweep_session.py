"""The session-wide secret sweep (tests/secret_sweep.py) fails a run that leaked a known fake secret, in a log
file or in a test's captured output, whether the run is one process or pytest-xdist workers (`make test`).

Each case runs pytest in a subprocess on a small generated project whose conftest takes the sweep's hooks."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.secret_sweep import FAKE_SECRETS

REPO = Path(__file__).resolve().parents[2]
IN_A_LOG, PRINTED = FAKE_SECRETS[0], FAKE_SECRETS[1]
LEAKY = f"""
def test_a_server_log_holds_a_secret(tmp_path):
    (tmp_path / "server.log").write_text("request with {IN_A_LOG}\\n")

def test_a_test_prints_a_secret():
    print("token: {PRINTED}")
"""
CLEAN = """
def test_a_server_log_holds_nothing_secret(tmp_path):
    (tmp_path / "server.log").write_text("request with testing\\n")
"""
MODES = {"one process": ["-p", "no:xdist"], "two xdist workers": ["-n", "2"]}


def run_project(tmp_path: Path, tests: str, mode: list[str]) -> subprocess.CompletedProcess[str]:
    project = tmp_path / "project"
    project.mkdir()
    (project / "conftest.py").write_text(
        "from tests.secret_sweep import pytest_runtest_logreport, pytest_sessionfinish  # noqa: F401\n")
    (project / "test_generated.py").write_text(tests)
    # its temporary folder outside this session's, whose own sweep would find the planted secrets
    with tempfile.TemporaryDirectory(prefix="scar-sweep-") as base:
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", base, *mode, str(project)],
            cwd=project, capture_output=True, text=True, timeout=120, check=False,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp_path)})


@pytest.mark.parametrize("mode", MODES.values(), ids=MODES.keys())
def test_a_secret_in_a_log_file_or_in_captured_output_fails_the_run(tmp_path, mode):
    done = run_project(tmp_path, LEAKY, mode)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2 passed" in done.stdout, done.stdout  # the tests themselves pass: the sweep fails the run
    assert "secret sweep: known fake secrets found" in done.stdout
    assert f"server.log: {IN_A_LOG!r}" in done.stdout
    assert f"test_a_test_prints_a_secret (Captured stdout call): {PRINTED!r}" in done.stdout


@pytest.mark.parametrize("mode", MODES.values(), ids=MODES.keys())
def test_a_run_without_secrets_passes(tmp_path, mode):
    done = run_project(tmp_path, CLEAN, mode)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "secret sweep" not in done.stdout
