"""The only place where boto3 clients are built.

Region and profile come from the settings (flags > environment > FDL > scar.cfg); the endpoint from
`--endpoint-url` or botocore's own `AWS_ENDPOINT_URL[_<SERVICE>]`. Clients use the standard retry mode and
a connection pool as large as the concurrency in use, and are built once per service.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
import botocore.exceptions
import botocore.session
from botocore.config import Config

from scar.config.regions import shared_loader
from scar.errors import BadInputError

DEFAULT_MAX_ATTEMPTS = 5


class AwsSession:
    def __init__(self, region: str, profile: str | None = None, endpoint_url: str | None = None,
                 concurrency: int = 10, read_timeout: int | None = None) -> None:
        """`read_timeout` (seconds) must outlast the slowest answer awaited, e.g. a function's timeout."""
        self.region = region
        self.read_timeout = read_timeout
        self.profile = profile
        self.endpoint_url = endpoint_url
        self.concurrency = concurrency
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        try:
            core = botocore.session.Session(profile=profile or None)
            core.register_component("data_loader", shared_loader())
            self._session = boto3.session.Session(botocore_session=core, region_name=region)
            core.get_scoped_config()  # an unknown profile fails here, not at the first call
        except botocore.exceptions.ProfileNotFound:
            raise BadInputError(f"the AWS profile {profile!r} is not defined in ~/.aws/config or "
                                "~/.aws/credentials") from None

    def client(self, service: str) -> Any:
        """The client for `service` (built on first use; safe to share between threads)."""
        with self._lock:
            if service not in self._clients:
                self._check_credentials()
                config = Config(
                    retries={"mode": "standard", "max_attempts": DEFAULT_MAX_ATTEMPTS},
                    max_pool_connections=max(10, self.concurrency),
                    user_agent_extra="scar",
                    **({"read_timeout": self.read_timeout} if self.read_timeout else {}),
                )
                self._clients[service] = self._session.client(
                    service, region_name=self.region, endpoint_url=self.endpoint_url, config=config
                )
            return self._clients[service]

    def _check_credentials(self) -> None:
        if self._clients:
            return
        if self._session.get_credentials() is None:
            hint = f" for profile {self.profile!r}" if self.profile else ""
            raise BadInputError(
                f"no AWS credentials found{hint}: run `aws configure`, set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or choose a profile with --profile")
