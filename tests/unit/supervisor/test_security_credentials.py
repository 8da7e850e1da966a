"""The role's credentials cannot be read from the container through /proc: udocker binds the host's /proc into
the container, whose processes run as the supervisor's user, so they could walk their parent pids and read each
/proc/PID/environ, which keeps the variables a process started with even after os.environ drops them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SECRET = "wJalrXUtnFEMI-not-a-real-key-0123456789"

#: The container's process: walk every parent up to pid 1 and print each environ that holds the secret.
WALKER = r"""
pid=$$
while [ "$pid" -gt 1 ]; do
  if tr '\0' '\n' < /proc/$pid/environ 2>/dev/null | grep -q "$1"; then echo "FOUND in $pid"; fi
  pid=$(sed 's/.*) //' /proc/$pid/stat | cut -d' ' -f2)
done
echo walked
"""

#: The supervisor, started with the secret in its environment as Lambda starts the runtime. The container is
#: a plain child process with a clean environment, as udocker's is: udocker's Fakechroot mode needs its engine,
#: which no machine here has, and what matters is only what a same-user descendant can read in /proc.
SUPERVISOR = r"""
import ctypes, os, sys
from pathlib import Path
from scar.supervisor.config import FunctionConfig
from scar.supervisor.entry import build_supervisor
from scar.supervisor.process import run_process

protect, walker, secret = sys.argv[1] == "protect", sys.argv[2], sys.argv[3]
if os.geteuid() == 0:  # Lambda runs functions as an unprivileged user: root may read every /proc entry
    os.setgid(65534)
    os.setuid(65534)
    ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # setuid left it undumpable; a process started as that user is not
os.environ.pop("AWS_SECRET_ACCESS_KEY")  # dropping it from os.environ is not enough: /proc keeps the original
if protect:
    config = FunctionConfig.from_dict({"name": "fn", "runner": "udocker", "container": {"image": "busybox"}},
                                      Path("/"))
    build_supervisor(config, cache=Path("/nonexistent"))
result = run_process(["/bin/sh", "-c", walker, "walker", secret], {"PATH": "/usr/bin:/bin"}, cwd="/", timeout=30)
sys.stdout.write(result.output.decode())
"""


def walk(mode: str) -> str:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
           "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": "token"}
    done = subprocess.run([sys.executable, "-c", SUPERVISOR, mode, WALKER, SECRET], env=env, cwd="/",
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("walked"), done.stdout
    return done.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and prctl are Linux's")
def test_a_container_process_cannot_read_the_supervisors_credentials() -> None:
    assert "FOUND" in walk("plain")  # the attack works on a process that does not protect itself
    assert "FOUND" not in walk("protect")

