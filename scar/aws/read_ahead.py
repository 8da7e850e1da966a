"""The reads that planning a deployment or a removal starts with, asked all at once before it.

Planning reads one resource after another, so each of these reads would cost a round trip of its own; the
provider keeps each answer for the run, so planning then finds them answered. Only reads planning makes
anyway, when it goes through, are asked, so the calls are the same ones (but for `rm` of a function that
is already gone, whose policy is asked too).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from scar.aws.kinds.log_group import log_group_name
from scar.aws.provider import AwsProvider


def read_ahead(provider: AwsProvider, functions: list[str], layers: set[str], existing: bool = False) -> None:
    """Ask at once who calls, the region's functions and the versions of `layers` (for the sweep of
    unused layer versions) and, for each function, its GetFunction, its policy (after GetFunction, when
    the function exists; with `existing`, for functions expected to exist (rm), at once) and its log group.
    A read that fails here is asked again where it is needed, which reports the failure."""

    def function(name: str) -> None:
        if provider.function(name) is not None and not existing:
            provider.policy_statements(name)

    reads: list[Callable[[], Any]] = [lambda: provider.identity, provider.function_listing]
    reads += [lambda layer=layer: provider.layer_versions(layer) for layer in sorted(layers)]
    for name in functions:
        reads += [lambda name=name: function(name), lambda name=name: provider.log_group(log_group_name(name))]
        if existing:
            reads.append(lambda name=name: provider.policy_statements(name))
    with ThreadPoolExecutor(max(1, min(provider.session.concurrency, len(reads)))) as pool:
        list(pool.map(_quietly, reads))


def _quietly(read: Callable[[], Any]) -> None:
    with contextlib.suppress(Exception):  # asked again, and reported, where it is needed
        read()
