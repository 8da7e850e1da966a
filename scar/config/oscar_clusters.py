"""The OSCAR clusters scar.cfg configures (`oscar.<cluster_id>` with an endpoint), for commands that act on
every cluster (`scar ls`) rather than on the services of an FDL."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path

from scar.config.cfgfile import load_config
from scar.config.merge import Tree
from scar.config.origin import file_origin
from scar.config.schema import SpecBuilder
from scar.config.specs import OscarClusterSpec, OscarConnectionSpec
from scar.errors import ConfigError

_CONNECTION_KEYS = tuple(f.name for f in dataclasses.fields(OscarConnectionSpec))


def configured_clusters(cfg_file: Path, notice: Callable[[str], None]) -> list[OscarClusterSpec]:
    """Every cluster of scar.cfg with an endpoint, in the file's order; raises ConfigError on a bad one.
    Only the connection keys are read here (the others are service defaults, checked with each service)."""
    clusters = load_config(cfg_file, notice).get("oscar")
    if not isinstance(clusters, Mapping):
        return []
    found, problems = [], []
    for cluster_id, entry in clusters.items():
        if not isinstance(entry, Mapping) or not entry.get("endpoint"):
            continue
        connection = {key: entry[key] for key in _CONNECTION_KEYS if key in entry}
        tree = Tree().merge(connection, lambda p, c=cluster_id: file_origin(cfg_file, ("oscar", c) + p))
        builder = SpecBuilder(tree, ("oscar", cluster_id), str(cfg_file))
        spec = builder.build(OscarConnectionSpec, connection, ())
        problems += builder.problems
        found.append(OscarClusterSpec(str(cluster_id), spec.endpoint, spec.auth_user, spec.auth_password,
                                      spec.oidc_token, spec.ssl_verify))
    if problems:
        raise ConfigError(problems)
    return found
