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
def _partitions() -> tuple[dict[str, Any], ...]:
    """botocore's partitions (aws, aws-cn, aws-us-gov, ...), each with its regions and region pattern. Read
    from its data file directly: importing botocore to ask it would cost a command that never talks to AWS
    (validate, run --local) a fifth of a second. A command that has imported botocore reads it through the
    shared loader, which the command's AWS sessions then find already parsed."""
    import gzip
    import importlib.util
    import json
    import sys
    from pathlib import Path

    spec = importlib.util.find_spec("botocore")
    folder = Path(next(iter(spec.submodule_search_locations or ()))) / "data" if spec else None
    if "botocore.loaders" in sys.modules or folder is None or \
            not ((folder / "endpoints.json").exists() or (folder / "endpoints.json.gz").exists()):
        endpoints = shared_loader().load_data("endpoints")
    elif (folder / "endpoints.json").exists():
        endpoints = json.loads((folder / "endpoints.json").read_bytes())
    else:
        endpoints = json.loads(gzip.decompress((folder / "endpoints.json.gz").read_bytes()))
    return tuple(endpoints.get("partitions", ()))


@functools.lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Every region botocore knows."""
    return frozenset(region for partition in _partitions() for region in partition.get("regions", {}))


@functools.lru_cache(maxsize=64)
def dns_suffix(region: str) -> str:
    """The domain of `region`'s endpoints (`amazonaws.com`, `amazonaws.com.cn`, ...), from its partition."""
    name = partition_of(region)
    return next((str(p.get("dnsSuffix", "amazonaws.com")) for p in _partitions() if p.get("partition") == name),
                "amazonaws.com")


@functools.lru_cache(maxsize=64)
def partition_of(region: str) -> str:
    """The partition of `region` (`aws`, `aws-cn`, `aws-us-gov`, ...), as ARNs spell it: the one listing the
    region, else the one whose region pattern matches it, else `aws`."""
    import re

    for partition in _partitions():
        if region in partition.get("regions", {}):
            return str(partition["partition"])
    for partition in _partitions():
        pattern = partition.get("regionRegex")
        if pattern and re.fullmatch(pattern, region):
            return str(partition["partition"])
    return "aws"
