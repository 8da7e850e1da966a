"""Per-invocation overhead of local runs: what scar adds around the user's script (target: at most
100 ms), measured in the same process against the script run by itself.

    .venv/bin/python bench/local_run.py [--runs 30]

Three timings, each the median of --runs: the script alone (`/bin/sh script` on the host), one warm
invocation through the supervisor with the sandbox runner (in process: staging, sandbox, clean-up), and
the whole `scar run --local` command (a new interpreter each time, so its start-up is included).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import Measure, record  # noqa: E402
from devtools.images import build_busybox_image  # noqa: E402
from scar.supervisor import response  # noqa: E402
from scar.supervisor.config import FunctionConfig  # noqa: E402
from scar.supervisor.events import Invocation  # noqa: E402
from scar.supervisor.runners import SandboxRunner  # noqa: E402
from scar.supervisor.storage import Storage  # noqa: E402
from scar.supervisor.supervisor import Supervisor, configure_logging  # noqa: E402

SCRIPT = "#!/bin/sh\necho done > \"$TMP_OUTPUT_DIR/out.txt\"\n"
TARGET_MS = 50.0  # issue 14


def median_ms(action, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="scar-bench-local-") as scratch_name:
        scratch = Path(scratch_name)
        image = build_busybox_image(scratch / "busybox.tar")
        (scratch / "script.sh").write_text(SCRIPT)
        (scratch / "out").mkdir()
        config = FunctionConfig.from_dict({"name": "bench", "init_script": "script.sh", "runner": "sandbox",
                                           "container": {"image_file": {"path": str(image)},
                                                         "timeout_threshold": 0}}, scratch)
        configure_logging("WARNING")
        runner = SandboxRunner(config, lambda: image, scratch / "cache")
        supervisor = Supervisor(config, runner, Storage(config), scratch / "out")

        def invoke() -> None:
            answer = supervisor.handle_invocations([Invocation("plain", {})],
                                                   response.RequestInfo(str(uuid.uuid4())), None)
            assert answer["statusCode"] == 200, answer

        invoke()  # extracts the image once: the cache serves every later run
        env = {**os.environ, "TMP_OUTPUT_DIR": str(scratch / "out")}
        alone = median_ms(lambda: subprocess.run(["/bin/sh", str(scratch / "script.sh")], env=env, check=True), runs)
        supervised = median_ms(invoke, runs)
        (scratch / "home").mkdir()
        cli_env = {**os.environ, "HOME": str(scratch / "home"), "AWS_DEFAULT_REGION": "us-east-1"}
        command = [sys.executable, "-m", "scar", "run", "--local", "-n", "bench", "-if", str(image),
                   "-s", str(scratch / "script.sh"), "--output-dir", str(scratch / "out")]
        subprocess.run(command, env=cli_env, check=True, capture_output=True)
        whole = median_ms(lambda: subprocess.run(command, env=cli_env, check=True, capture_output=True),
                          max(5, runs // 3))
        print(f"sandbox: {runner.__class__.__name__} via {supervisor.last_runner}; median of {runs} runs")
        print(f"{'what':<44}{'ms':>9}")
        print(f"{'the script alone (/bin/sh on the host)':<44}{alone:>9.1f}")
        print(f"{'one warm invocation through the supervisor':<44}{supervised:>9.1f}")
        print(f"{'whole `scar run --local` command':<44}{whole:>9.1f}")
        overhead = supervised - alone
        verdict = "PASS" if overhead <= TARGET_MS else "FAIL"
        record(Measure("local run: overhead per invocation", f"{supervised:.1f} ms",
                       f"the script alone {alone:.1f} ms", overhead, f"<= {TARGET_MS:.0f} ms added",
                       overhead <= TARGET_MS))
        print(f"\noverhead per invocation: {overhead:.1f} ms (target <= {TARGET_MS:.0f} ms): {verdict}")


if __name__ == "__main__":
    main()
