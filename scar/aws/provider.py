"""One region and account as the resource kinds see it: its clients, built on first use, the partition for
ARNs, and the reads several kinds share (a function's GetFunction, its resource policy), asked once per run."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from scar.aws.apigateway import ApiGateway
from scar.aws.arns import arn
from scar.aws.errors import error_code
from scar.aws.identity import Identity, caller_identity
from scar.aws.lambda_ import Lambda
from scar.aws.logs import Logs
from scar.aws.s3 import S3
from scar.aws.session import AwsSession
from scar.config.regions import partition_of

Value = TypeVar("Value")


class AwsProvider:
    def __init__(self, session: AwsSession, identity: Identity | None = None) -> None:
        """`identity`: the caller, when already known (otherwise asked of STS on first use)."""
        self.session = session
        self.region = session.region
        self.partition = partition_of(self.region)
        self._identity = identity
        self._identity_lock = threading.Lock()
        self._memo: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()

    @property
    def identity(self) -> Identity:
        with self._identity_lock:
            if self._identity is None:
                self._identity = caller_identity(self.session.client("sts"))
            return self._identity

    @property
    def account(self) -> str:
        return self.identity.account

    @property
    def scope(self) -> str:
        return f"aws:{self.region}:{self.account}"

    # -- clients ----------------------------------------------------------------------------------

    @property
    def lam(self) -> Lambda:
        return Lambda(self.session.client("lambda"))

    @property
    def logs(self) -> Logs:
        return Logs(self.session.client("logs"))

    @property
    def s3(self) -> S3:
        return S3(self.session.client("s3"))

    @property
    def apigateway(self) -> ApiGateway:
        return ApiGateway(self.session.client("apigateway"))

    @property
    def ecr(self) -> Any:
        return self.session.client("ecr")

    @property
    def ssm(self) -> Any:
        return self.session.client("ssm")

    @property
    def batch(self) -> Any:
        return self.session.client("batch")

    @property
    def ec2(self) -> Any:
        return self.session.client("ec2")

    def arn(self, service: str, resource: str, regional: bool = True) -> str:
        """An ARN in this region's partition (`aws`, `aws-cn`, `aws-us-gov`); S3's have no region or account."""
        region, account = (self.region, self.account) if regional else ("", "")
        return arn(self.partition, service, region, account, resource)

    # -- shared reads -----------------------------------------------------------------------------

    def once(self, key: tuple[Any, ...], read: Callable[[], Value]) -> Value:
        """`read()`, asked once per key for this run (planning reads; appliers always read afresh)."""
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        value = read()
        with self._lock:
            return self._memo.setdefault(key, value)

    def forget(self, *key: Any) -> None:
        with self._lock:
            self._memo.pop(key, None)

    def function(self, name: str) -> dict[str, Any] | None:
        """GetFunction (configuration, code and tags), or None."""
        return self.once(("function", name), lambda: self.lam.get_function(name))

    def policy_statements(self, name: str) -> dict[str, dict[str, Any]]:
        """The function's resource-policy statements by Sid (empty when it has no policy or no function)."""
        return self.once(("policy", name), lambda: read_policy(self.lam.client, name))

    def log_group(self, name: str) -> dict[str, Any] | None:
        """The log group as DescribeLogGroups shows it, or None."""
        return self.once(("log group", name), lambda: self.logs.get_group(name))

    def function_listing(self) -> list[dict[str, Any]]:
        """Every function of the region as ListFunctions shows it (all pages)."""
        return self.once(("functions",), self.lam.list_functions)

    def layer_versions(self, name: str) -> list[dict[str, Any]]:
        """Every version of the layer, newest first (empty when there is none)."""
        return self.once(("layer versions", name), lambda: self.lam.layer_versions(name))


def read_policy(client: Any, function: str) -> dict[str, dict[str, Any]]:
    try:
        policy = json.loads(client.get_policy(FunctionName=function)["Policy"])
    except ClientError as err:
        if error_code(err) == "ResourceNotFoundException":
            return {}
        raise
    return {statement.get("Sid", ""): statement for statement in policy.get("Statement", ())}
