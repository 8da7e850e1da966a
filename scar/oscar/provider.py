"""One OSCAR cluster as the resource kinds see it: its client and its scope (`oscar:<cluster_id>`)."""

from __future__ import annotations

from collections.abc import Callable

from scar.config.specs import OscarClusterSpec
from scar.oscar.client import OscarClient


class OscarProvider:
    def __init__(self, cluster: OscarClusterSpec, notice: Callable[[str], None] | None = None) -> None:
        self.cluster = cluster
        self.client = OscarClient(cluster, notice)
        self.scope = f"oscar:{cluster.cluster_id}"
