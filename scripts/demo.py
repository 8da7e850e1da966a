"""`make demo`: deploy examples/hello to a local Lambda emulator, trigger it by uploading files, show the
results and the logs, and remove everything.

The emulator is ministack (in .venv-ministack), which really runs the deployed function on this machine;
scar reaches it through the standard AWS_ENDPOINT_URL, with throw-away credentials and configuration.
The function's image is a `docker save` tarball of busybox built here, so nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.emulators import Ministack  # noqa: E402
from devtools.images import build_busybox_image  # noqa: E402

EXAMPLE = ROOT / "examples" / "hello"
MINISTACK = ROOT / ".venv-ministack" / "bin" / "ministack"


def scar(*argv: str, env: dict[str, str]) -> str:
    print(f"\n$ scar {shlex.join(argv)}", flush=True)
    process = subprocess.run([sys.executable, "-m", "scar", *argv], env=env, cwd=EXAMPLE,
                             stdout=subprocess.PIPE, text=True)
    print(process.stdout, end="", flush=True)
    if process.returncode != 0:
        raise SystemExit(f"demo step failed with exit code {process.returncode}")
    return process.stdout


def wait_for_results(env: dict[str, str], expected: int, timeout: float = 60) -> None:
    print("\n(waiting for the function to process the uploads: S3 notifications are asynchronous)", flush=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listing = subprocess.run([sys.executable, "-m", "scar", "ls", "-b", "scar-hello/output", "-j"], env=env,
                                 capture_output=True, text=True)
        if listing.returncode == 0 and len(json.loads(listing.stdout)["Objects"]) >= expected:
            return
        time.sleep(0.5)
    raise SystemExit("the function did not produce its results in time")


def main() -> None:
    if not MINISTACK.exists():
        raise SystemExit("ministack is missing: run `make demo` (it installs .venv-ministack)")
    with tempfile.TemporaryDirectory(prefix="scar-demo-") as scratch_name:
        scratch = Path(scratch_name)
        image = build_busybox_image(scratch / "busybox.tar")
        with Ministack(MINISTACK, scratch / "ministack", scratch / "ministack.log") as cloud:
            print(f"local AWS emulator (ministack) on {cloud.endpoint}")
            env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SCAR_"))}
            env.update(HOME=str(scratch), AWS_ENDPOINT_URL=cloud.endpoint, AWS_ACCESS_KEY_ID="demo",
                       AWS_SECRET_ACCESS_KEY="demo", AWS_DEFAULT_REGION="us-east-1",
                       AWS_CONFIG_FILE=str(scratch / "aws-config"),
                       AWS_SHARED_CREDENTIALS_FILE=str(scratch / "aws-credentials"))
            # ministack runs functions on this machine: the supervisor uses the local sandbox, not udocker
            (scratch / ".scar").mkdir()
            (scratch / ".scar" / "scar.cfg").write_text(json.dumps({
                "scar": {"config_version": "2.0.0"},
                "aws": {"iam": {"role": "arn:aws:iam::000000000000:role/scar-demo"},
                        "lambda": {"supervisor": {"runner": "sandbox"}}}}))
            scar("init", "-f", "hello.yaml", "-if", str(image), env=env)
            scar("put", "-b", "scar-hello/input", "-p", "input", env=env)
            wait_for_results(env, expected=2)
            results = scratch / "results"
            scar("get", "-b", "scar-hello/output", "-p", str(results), env=env)
            for path in sorted(results.rglob("*")):
                print(f"--- {path.relative_to(results)}\n{path.read_text()}", end="")
            scar("log", "-n", "scar-hello", env=env)
            scar("rm", "-f", "hello.yaml", env=env)
        print("\ndemo finished: the function is removed and the emulator stopped")


if __name__ == "__main__":
    main()
