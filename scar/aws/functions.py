"""Finding and describing the scar functions of the caller, concurrently."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import ClientError

from scar.aws.apigateway import ApiGateway, invoke_url
from scar.aws.identity import caller_identity
from scar.aws.kinds.rest_api import scar_api
from scar.aws.lambda_ import Lambda
from scar.aws.tagging import tagged_function_pages
from scar.aws.tags import TAG_API, TAG_IMAGE, TAG_OWNER, TAG_SUPERVISOR

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


def list_functions(lam: Lambda, tagging_client: Any, sts_client: Any,
                   gateway: Callable[[], ApiGateway] | None = None) -> tuple[str, list[FunctionInfo]]:
    """The caller (owner name) and its scar functions, sorted by name; a function deleted since the tag
    index saw it is skipped. Who calls and what is tagged are asked at once. With `gateway` (built only when
    needed), the endpoint URL of each function that has a REST API is filled in."""
    owner, functions = _list_functions(lam, tagging_client, sts_client)
    if gateway is None or not any(info.tags.get(TAG_API) for info in functions):
        return owner, functions
    try:
        urls = api_urls(gateway(), lam.client.meta.region_name, [f.name for f in functions if f.tags.get(TAG_API)])
    except ClientError:  # no right to read API Gateway: the column stays "-", the listing still works
        urls = {}
    return owner, [replace(info, api_url=urls.get(info.name, info.api_url)) for info in functions]


def api_urls(gateway: ApiGateway, region: str, names: list[str]) -> dict[str, str]:
    """Function name → `https://<id>.execute-api.<region>.amazonaws.com/<stage>/launch`: one listing of the
    region's REST APIs, then each API's stage."""
    apis = gateway.rest_apis()
    found = {name: api["id"] for name in names if (api := scar_api(apis, name)) is not None}
    if not found:
        return {}
    with ThreadPoolExecutor(min(DESCRIBE_CONCURRENCY, len(found))) as pool:
        stages = dict(zip(found, pool.map(gateway.stages, found.values()), strict=True))
    return {name: invoke_url(api_id, region, sorted(stages[name])[0]) for name, api_id in found.items()
            if stages[name]}


def _list_functions(lam: Lambda, tagging_client: Any, sts_client: Any) -> tuple[str, list[FunctionInfo]]:
    """Who calls is asked with the first page of tagged functions; each page's functions are described
    while the next page is asked for, on one pool (its threads start once)."""
    with ThreadPoolExecutor(DESCRIBE_CONCURRENCY) as pool:
        asked = pool.submit(caller_identity, sts_client)
        described: list[Future[FunctionInfo | None]] = []
        try:
            for page in tagged_function_pages(tagging_client, None):
                owner = asked.result().owner
                described += [pool.submit(_describe, lam, arn, tags) for arn, tags in page
                              if tags.get(TAG_OWNER) == owner]
        except Exception:
            asked.result()  # who calls failed too: that is the error to report
            raise
        owner = asked.result().owner
        found = [future.result() for future in described]
    return owner, sorted((info for info in found if info is not None), key=lambda info: info.name)


def _describe(lam: Lambda, arn: str, tags: dict[str, str]) -> FunctionInfo | None:
    name = arn.split(":function:", 1)[-1].split(":", 1)[0]
    configuration = lam.get_configuration(name)
    if configuration is None:
        return None
    return FunctionInfo(name, configuration["FunctionArn"], configuration.get("MemorySize", 0),
                        configuration.get("Timeout", 0), tags.get(TAG_IMAGE, "-"), tags.get(TAG_SUPERVISOR, "-"),
                        tags.get("scar:api-url", "-"), tags, configuration)
