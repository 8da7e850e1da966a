"""`make demo`: show scar working end to end against a local AWS emulator, then clean up.

Starts a moto server on 127.0.0.1, points scar at it with the standard AWS_ENDPOINT_URL and throw-away
credentials and configuration, runs the examples/hello steps, and stops the server.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.emulators import MotoServer  # noqa: E402

EXAMPLE = ROOT / "examples" / "hello"
ROLE = "arn:aws:iam::123456789012:role/scar-demo-role"


def scar(*argv: str, env: dict[str, str]) -> None:
    print(f"\n$ scar {shlex.join(argv)}", flush=True)
    process = subprocess.run([sys.executable, "-m", "scar", *argv], env=env, cwd=EXAMPLE)
    if process.returncode != 0:
        raise SystemExit(f"demo step failed with exit code {process.returncode}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="scar-demo-") as scratch, MotoServer() as cloud:
        print(f"local AWS emulator (moto server) on {cloud.endpoint}")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SCAR_"))}
        env.update(HOME=scratch, AWS_ENDPOINT_URL=cloud.endpoint, AWS_ACCESS_KEY_ID="demo",
                   AWS_SECRET_ACCESS_KEY="demo", AWS_DEFAULT_REGION="us-east-1",
                   AWS_CONFIG_FILE=f"{scratch}/aws-config", AWS_SHARED_CREDENTIALS_FILE=f"{scratch}/aws-creds")
        scar("validate", "-f", "hello.yaml", "-r", ROLE, env=env)
        scar("put", "-b", "scar-hello/input", "-p", "input", env=env)
        scar("ls", "-b", "scar-hello/input", env=env)
        downloaded = Path(scratch) / "downloaded"
        scar("get", "-b", "scar-hello/input", "-p", str(downloaded), env=env)
        for path in sorted(downloaded.rglob("*")):
            print(f"  {path.relative_to(downloaded)}: {path.read_text().strip()}")
        print("\ndemo finished; the emulator stops and its data is gone")


if __name__ == "__main__":
    main()
