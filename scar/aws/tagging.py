"""Find scar's resources by tag (Resource Groups Tagging API), all pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

CREATED_BY = ("createdby", "scar")


def tagged_function_pages(client: Any, owner: str | None) -> Iterator[list[tuple[str, dict[str, str]]]]:
    """(ARN, tags) of every Lambda function tagged createdby=scar (and owner=OWNER when given), one page of
    the listing at a time."""
    filters = [{"Key": CREATED_BY[0], "Values": [CREATED_BY[1]]}]
    if owner:
        filters.append({"Key": "owner", "Values": [owner]})
    paginator = client.get_paginator("get_resources")
    for page in paginator.paginate(TagFilters=filters, ResourceTypeFilters=["lambda:function"],
                                   ResourcesPerPage=100):
        yield [(item["ResourceARN"], {t["Key"]: t["Value"] for t in item.get("Tags", ())})
               for item in page.get("ResourceTagMappingList", ())]
