"""Find scar's resources by tag (Resource Groups Tagging API), all pages."""

from __future__ import annotations

from typing import Any

CREATED_BY = ("createdby", "scar")


def tagged_functions(client: Any, owner: str | None) -> list[tuple[str, dict[str, str]]]:
    """(ARN, tags) of every Lambda function tagged createdby=scar (and owner=OWNER when given)."""
    filters = [{"Key": CREATED_BY[0], "Values": [CREATED_BY[1]]}]
    if owner:
        filters.append({"Key": "owner", "Values": [owner]})
    paginator = client.get_paginator("get_resources")
    found = []
    for page in paginator.paginate(TagFilters=filters, ResourceTypeFilters=["lambda:function"],
                                   ResourcesPerPage=100):
        for item in page.get("ResourceTagMappingList", ()):
            found.append((item["ResourceARN"], {t["Key"]: t["Value"] for t in item.get("Tags", ())}))
    return found
