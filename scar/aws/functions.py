"""Finding and describing the scar functions of the caller, concurrently."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from scar.aws.identity import caller_identity
from scar.aws.lambda_ import Lambda
from scar.aws.tagging import tagged_functions
from scar.aws.tags import TAG_IMAGE, TAG_OWNER, TAG_SUPERVISOR

DESCRIBE_CONCURRENCY = 16


@dataclass(frozen=True)
class FunctionInfo:
    name: str
    arn: str
    memory: int
    timeout: int
    image: str
    supervisor: str
    api_url: str
    tags: dict[str, str]
    configuration: dict[str, Any]


def list_functions(lam: Lambda, tagging_client: Any, sts_client: Any) -> tuple[str, list[FunctionInfo]]:
    """The caller (owner name) and its scar functions, sorted by name; a function deleted since the tag
    index saw it is skipped. Who calls and what is tagged are asked at once."""
    with ThreadPoolExecutor(2) as pool:
        asked = pool.submit(caller_identity, sts_client)
        found = pool.submit(tagged_functions, tagging_client, None)
        owner = asked.result().owner
        tagged = [(arn, tags) for arn, tags in found.result() if tags.get(TAG_OWNER) == owner]
    if not tagged:
        return owner, []
    with ThreadPoolExecutor(min(DESCRIBE_CONCURRENCY, len(tagged))) as pool:
        described = pool.map(lambda item: _describe(lam, *item), tagged)
        return owner, sorted((info for info in described if info is not None), key=lambda info: info.name)


def _describe(lam: Lambda, arn: str, tags: dict[str, str]) -> FunctionInfo | None:
    name = arn.split(":function:", 1)[-1].split(":", 1)[0]
    configuration = lam.get_configuration(name)
    if configuration is None:
        return None
    return FunctionInfo(name, configuration["FunctionArn"], configuration.get("MemorySize", 0),
                        configuration.get("Timeout", 0), tags.get(TAG_IMAGE, "-"), tags.get(TAG_SUPERVISOR, "-"),
                        tags.get("scar:api-url", "-"), tags, configuration)
