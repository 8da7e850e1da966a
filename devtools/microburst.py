"""microburst (an AWS fault-injection proxy) in front of a local emulator: latency, errors and resets on demand.

microburst pins its own dependencies, so it lives in a virtualenv of its own (`make bench-lifecycle` creates
`.venv-microburst`); this module only runs its executable and talks to its control API over HTTP:

    with MotoServer() as moto, Microburst(moto.endpoint, [{"latency": 25}]) as proxy:
        os.environ["AWS_ENDPOINT_URL"] = proxy.endpoint   # every boto3 client now goes through the proxy
        proxy.set_rules([{"service": "lambda", "operation": "Invoke", "times": 1,
                          "error": {"code": "TooManyRequestsException", "status": 429}}])

Rules are checked in order and the first match wins; see /work/shared/reference/registry-and-benchmarks.md.

microburst (0.10) draws its faults from Python's global random generator and has no option to seed it:
`Microburst(..., seed=N)` runs its CLI through a small bootstrap that adds one control route seeding that
generator (`reseed(N)` changes the seed later). A seed fixes the sequence of draws, so calls made one after
the other meet the same faults on every run; calls made concurrently take the same draws in the order they
arrive, which the scheduler decides.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from devtools.emulators import LocalServer

REPO = Path(__file__).resolve().parent.parent
#: The virtualenv `make bench-lifecycle` installs microburst into.
DEFAULT_VENV = REPO / ".venv-microburst"
#: Services warmed up by default, with a cheap read each (microburst loads a service's botocore model on its
#: first request, which takes seconds).
WARM_UP_CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "sts": ("get_caller_identity", {}),
    "lambda": ("list_functions", {}),
    "logs": ("describe_log_groups", {"limit": 1}),
    "resourcegroupstaggingapi": ("get_resources", {"ResourcesPerPage": 1}),
    "iam": ("list_roles", {"MaxItems": 1}),
    "s3": ("list_buckets", {}),
}
#: microburst's CLI with POST /_microburst/seed {"seed": N}, which seeds the generator its rules draw from.
_SEEDABLE = """
import random, sys
from aiohttp import web
import microburst.core.pipeline as pipeline
from microburst.cli import main

unseeded = pipeline.handle_control

async def handle_control(proxy, request):
    if request.match_info.get("tail", "").strip("/") == "seed" and request.method == "POST":
        seed = (await request.json())["seed"]
        random.seed(seed)
        return web.json_response({"seed": seed})
    return await unseeded(proxy, request)

pipeline.handle_control = handle_control
sys.exit(main(sys.argv[1:]))
"""
_METRIC = re.compile(r'^microburst_faults_total\{service="([^"]*)",operation="([^"]*)",action="([^"]*)"\} (\d+)$')


class MicroburstUnavailable(RuntimeError):
    """The microburst executable cannot be found (tests can skip on it)."""


def find_microburst(executable: str | None = None) -> str:
    """`executable`, else $MICROBURST, else `.venv-microburst/bin/microburst`, else `microburst` on PATH."""
    explicit = executable or os.environ.get("MICROBURST")
    candidates = [explicit] if explicit else [str(DEFAULT_VENV / "bin" / "microburst"), "microburst"]
    for candidate in candidates:
        if found := shutil.which(candidate):
            return found
    where = f"{explicit!r} is not an executable" if explicit else "it is not in .venv-microburst nor on PATH"
    raise MicroburstUnavailable(
        f"microburst was not found ({where}): run `make bench-lifecycle` (it installs it into .venv-microburst), "
        "or install it into a virtualenv of its own (`pip install microburst`) and set "
        "MICROBURST=/path/to/bin/microburst")


class Microburst(LocalServer):
    """microburst on 127.0.0.1 and a free port, forwarding to `upstream`, as a context manager.

    On start it waits until healthy, warms up `warm_up` services (before the rules apply, so the warm-up is
    fast and fires nothing), then installs `rules`, and seeds its random draws if `seed` is given. Its
    per-request log goes to `log_file` or nowhere.
    """

    name = "microburst"

    def __init__(self, upstream: str, rules: list[dict[str, Any]] | None = None, *, executable: str | None = None,
                 log_file: Path | None = None, warm_up: Iterable[str] = tuple(WARM_UP_CALLS),
                 region: str = "us-east-1", seed: int | None = None) -> None:
        super().__init__(log_file)
        self.upstream = upstream
        self.rules = list(rules or [])
        self.executable = find_microburst(executable)
        self._warm_up = tuple(warm_up)
        self._region = region
        self._seed = seed

    def command(self) -> list[str]:
        launcher = [self.executable] if self._seed is None else [_interpreter(self.executable), "-c", _SEEDABLE]
        return [*launcher, "--host", "127.0.0.1", "--port", str(self.port), "--upstream", self.upstream,
                "--no-resign"]

    def probe(self) -> None:
        self.health()

    def ready(self) -> None:
        self.warm_up(self._warm_up)
        self.set_rules(self.rules)
        if self._seed is not None:
            self.reseed(self._seed)

    def warm_up(self, services: Iterable[str]) -> None:
        """One cheap request per service through the proxy (fake credentials; the upstream is an emulator)."""
        import boto3  # the caller's boto3, not microburst's

        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                        region_name=self._region)
        for service in services:
            operation, params = WARM_UP_CALLS[service]
            getattr(session.client(service, endpoint_url=self.endpoint), operation)(**params)

    # -- control API -----------------------------------------------------------------------------

    def set_rules(self, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Replace every rule; returns them as microburst understood them."""
        return self._call("POST", "rules", rules)

    def add_rules(self, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Append rules after the current ones."""
        return self._call("PATCH", "rules", rules)

    def reseed(self, seed: int) -> None:
        """Seed the draws of the rules' probabilities (only with `seed` given at construction)."""
        if self._seed is None:
            raise ValueError("this microburst was started without a seed: pass seed= to Microburst()")
        self._call("POST", "seed", {"seed": seed})
        self._seed = seed

    def health(self) -> dict[str, Any]:
        return self._call("GET", "health")

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "stats")

    def fired(self, limit: int = 1000, **filters: str) -> list[dict[str, Any]]:
        """The latest fired faults (microburst keeps a bounded log), optionally by service or operation."""
        return self._call("GET", "fired?" + urllib.parse.urlencode({"limit": limit, **filters}))

    def clear_fired(self) -> None:
        self._call("DELETE", "fired")

    def operation_counts(self) -> Counter[tuple[str, str]]:
        """Requests on which a rule fired, by (service, operation), since start (never evicted, unlike
        `fired`): with a rule matching every request, such as a latency, every request is counted."""
        counts: Counter[tuple[str, str]] = Counter()
        for line in self._request("GET", "metrics").decode().splitlines():
            if match := _METRIC.match(line):
                counts[(match[1], match[2])] += int(match[4])
        return counts

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        return json.loads(self._request(method, path, body))

    def _request(self, method: str, path: str, body: Any = None) -> bytes:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.endpoint}/_microburst/{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()


def _interpreter(executable: str) -> str:
    """The Python a console script runs with (its #! line): microburst's own virtualenv."""
    with open(executable, "rb") as script:
        first = script.readline().decode(errors="replace")
    if not first.startswith("#!") or "python" not in first:
        raise MicroburstUnavailable(f"{executable} is not a Python console script: it cannot be seeded")
    return first[2:].split()[0]
