"""AWS regions, from botocore's own endpoint data, loaded once per process and shared with the AWS
sessions scar builds (parsing it is the dearest part of a command's start)."""

from __future__ import annotations

import functools
from typing import Any


@functools.lru_cache(maxsize=1)
def shared_loader() -> Any:
    """botocore's data loader; it caches what it loads, so every session given it parses each file once."""
    import botocore.loaders

    return botocore.loaders.create_loader()


@functools.lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    endpoints = shared_loader().load_data("endpoints")
    return frozenset(region for partition in endpoints.get("partitions", ()) for region in partition.get("regions", {}))
