"""The only place where boto3 clients are built.

The region comes from the settings (--region > FDL > AWS_REGION > AWS_DEFAULT_REGION > scar.cfg), the profile
from them too (-pf > AWS_PROFILE > FDL > scar.cfg); the endpoint from
`--endpoint-url` or botocore's own `AWS_ENDPOINT_URL[_<SERVICE>]`. Clients use the standard retry mode and
a connection pool as large as the largest concurrency asked, and are built once per service (and read
timeout). The CLI keeps one session per (region, profile, endpoint) for a whole run.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

import boto3
import botocore.exceptions
import botocore.session
from botocore.config import Config

from scar.aws.response_parsing import FastResponseParserFactory
from scar.config.regions import shared_loader
from scar.errors import BadInputError

DEFAULT_MAX_ATTEMPTS = 5

Observer = Callable[[str, str, dict[str, Any]], None]


def _observe(observer: Observer) -> Callable[..., None]:
    def after_call(http_response: Any, parsed: dict[str, Any], model: Any, **kwargs: Any) -> None:
        if http_response is not None and http_response.status_code < 300:
            observer(model.service_model.service_name, model.name, parsed)

    return after_call


class _Shared:
    """What every view of one (region, profile, endpoint) shares: one botocore session (credentials are
    resolved once), its clients, and the largest concurrency any view asked for."""

    def __init__(self, region: str, profile: str | None, endpoint_url: str | None,
                 observer: Observer | None) -> None:
        self.observer = observer
        self.lock = threading.Lock()
        self.concurrency = 0
        self.clients: dict[tuple[str, int | None], tuple[int, Any]] = {}  # (service, read timeout) → (pool, client)
        self.credentials_checked = False
        try:
            core = botocore.session.Session(profile=profile or None)
            core.register_component("data_loader", shared_loader())
            core.register_component("response_parser_factory", FastResponseParserFactory())
            self.session = boto3.session.Session(botocore_session=core, region_name=region)
            core.get_scoped_config()  # an unknown profile fails here, not at the first call
        except botocore.exceptions.ProfileNotFound:
            raise BadInputError(f"the AWS profile {profile!r} is not defined in ~/.aws/config or "
                                "~/.aws/credentials") from None


class AwsSession:
    """Clients for one region, profile and endpoint. `view` gives another read timeout or concurrency on
    the same credentials and clients: build one AwsSession per (region, profile, endpoint) and view it."""

    def __init__(self, region: str, profile: str | None = None, endpoint_url: str | None = None,
                 concurrency: int = 10, read_timeout: int | None = None, observer: Observer | None = None) -> None:
        """`read_timeout` (seconds) must outlast the slowest answer awaited, e.g. a function's timeout;
        `observer(service, operation, answer)` sees every successful answer (for -v -j)."""
        self.region = region
        self.profile = profile
        self.endpoint_url = endpoint_url
        self.read_timeout = read_timeout
        self.concurrency = concurrency
        self._shared = _Shared(region, profile, endpoint_url, observer)
        self._shared.concurrency = concurrency

    def view(self, concurrency: int = 0, read_timeout: int | None = None) -> AwsSession:
        """The same session for `concurrency` threads (pools grow to the largest ever asked) and with
        `read_timeout`."""
        other = copy.copy(self)
        other.read_timeout = read_timeout
        other.concurrency = concurrency
        with self._shared.lock:
            self._shared.concurrency = max(self._shared.concurrency, concurrency)
        return other

    def client(self, service: str) -> Any:
        """The client for `service` (built on first use; safe to share between threads). Its connection
        pool holds at least as many connections as the largest concurrency asked of this session."""
        shared = self._shared
        with shared.lock:
            pool = max(10, shared.concurrency)
            key = (service, self.read_timeout)
            built = shared.clients.get(key)
            if built is None or built[0] < pool:
                self._check_credentials()
                config = Config(
                    retries={"mode": "standard", "max_attempts": DEFAULT_MAX_ATTEMPTS},
                    max_pool_connections=pool,
                    user_agent_extra="scar",
                    **({"read_timeout": self.read_timeout} if self.read_timeout else {}),
                )
                client = shared.session.client(service, region_name=self.region, endpoint_url=self.endpoint_url,
                                               config=config)
                if shared.observer is not None:
                    client.meta.events.register("after-call", _observe(shared.observer))
                built = shared.clients[key] = (pool, client)
            return built[1]

    def credentials(self) -> Any:
        """The resolved credentials, to sign a request no client sends (SigV4 to an IAM-protected API)."""
        self._check_credentials()
        return self._shared.session.get_credentials()

    def _check_credentials(self) -> None:
        if self._shared.credentials_checked:
            return
        if self._shared.session.get_credentials() is None:
            hint = f" for profile {self.profile!r}" if self.profile else ""
            raise BadInputError(
                f"no AWS credentials found{hint}: run `aws configure`, set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or choose a profile with --profile")
        self._shared.credentials_checked = True
