"""Waiting on AWS Batch states with botocore custom waiters: a bounded number of polls with a delay between
them, never a busy loop. A state that cannot become the wanted one (an INVALID compute environment) fails
at once with Batch's reason; running out of time fails naming the timeout."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import WaiterError
from botocore.waiter import WaiterModel, create_waiter_with_client

from scar.errors import AwsError

DELAY_SECONDS = 5
TIMEOUT_SECONDS = 900

_ENVIRONMENTS = "computeEnvironments"
_QUEUES = "jobQueues"


def _acceptors(listing: str, wanted: str, failing: bool) -> list[dict[str, Any]]:
    """Success when the one resource listed satisfies `wanted` (a JMESPath test); failure on INVALID."""
    acceptors: list[dict[str, Any]] = [
        {"matcher": "path", "argument": f"length({listing}) == `1` && {wanted}", "expected": True,
         "state": "success"}]
    if failing:
        acceptors.append({"matcher": "pathAny", "argument": f"{listing}[].status", "expected": "INVALID",
                          "state": "failure"})
    return acceptors


def _gone(listing: str) -> list[dict[str, Any]]:
    return [{"matcher": "path", "argument": f"length({listing}[?status != 'DELETED']) == `0`", "expected": True,
             "state": "success"}]


_WAITERS: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "ComputeEnvironmentValid": ("DescribeComputeEnvironments",
                                _acceptors(_ENVIRONMENTS, f"{_ENVIRONMENTS}[0].status == 'VALID'", True)),
    "ComputeEnvironmentDisabled": ("DescribeComputeEnvironments", _acceptors(
        _ENVIRONMENTS, f"{_ENVIRONMENTS}[0].state == 'DISABLED' && {_ENVIRONMENTS}[0].status == 'VALID'", True)),
    "ComputeEnvironmentDeleted": ("DescribeComputeEnvironments", _gone(_ENVIRONMENTS)),
    "JobQueueValid": ("DescribeJobQueues", _acceptors(_QUEUES, f"{_QUEUES}[0].status == 'VALID'", True)),
    "JobQueueDisabled": ("DescribeJobQueues", _acceptors(
        _QUEUES, f"{_QUEUES}[0].state == 'DISABLED' && {_QUEUES}[0].status == 'VALID'", True)),
    "JobQueueDeleted": ("DescribeJobQueues", _gone(_QUEUES)),
}


def waiter_model(delay: int = DELAY_SECONDS, timeout: int = TIMEOUT_SECONDS) -> WaiterModel:
    attempts = max(1, timeout // max(1, delay))
    return WaiterModel({"version": 2, "waiters": {
        name: {"operation": operation, "delay": delay, "maxAttempts": attempts, "acceptors": acceptors}
        for name, (operation, acceptors) in _WAITERS.items()}})


def wait(client: Any, name: str, resource: str, delay: int = DELAY_SECONDS, timeout: int = TIMEOUT_SECONDS) -> None:
    """Wait until the compute environment or job queue `resource` reaches the state waiter `name` expects."""
    waiter = create_waiter_with_client(name, waiter_model(delay, timeout), client)
    argument = "computeEnvironments" if name.startswith("ComputeEnvironment") else "jobQueues"
    try:
        waiter.wait(**{argument: [resource]})
    except WaiterError as err:
        listed = (err.last_response or {}).get(argument) or [{}]
        reason = listed[0].get("statusReason") if listed else None
        if "Max attempts exceeded" in str(err):
            raise AwsError(f"{resource}: still not {_what(name)} after {timeout} s") from None
        raise AwsError(f"{resource}: cannot become {_what(name)}" + (f" ({reason})" if reason else "")) from None


def _what(name: str) -> str:
    return {"Valid": "VALID", "Disabled": "DISABLED", "Deleted": "deleted"}[
        name.removeprefix("ComputeEnvironment").removeprefix("JobQueue")]
