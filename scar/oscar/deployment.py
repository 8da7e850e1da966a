"""Deploying and removing OSCAR services with the engine: each service is planned (GET), then applied on a
bounded pool (POST or PUT), each with its own executor so a failure rolls back only what this run did to
that service; an interruption rolls back every service the run changed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from scar.config.specs import OscarClusterSpec, OscarServiceSpec, StorageProvidersSpec
from scar.deploy.executor import (
    DeployFailed,
    Executor,
    carry_out_removal,
    plain_message,
    rollback_message,
)
from scar.deploy.kind import Kinds, Resource
from scar.deploy.model import Action, Plan, ResourceId
from scar.deploy.model import outcome as plan_outcome
from scar.deploy.planner import plan_resources
from scar.oscar import kinds as _registered  # noqa: F401 - registers the OSCAR kinds
from scar.oscar.kinds import SERVICE_KIND
from scar.oscar.provider import OscarProvider
from scar.oscar.service import service_body

MAX_PARALLEL_SERVICES = 8
Notice = Callable[[str], None]
Item = TypeVar("Item")


@dataclass
class ServiceDeployment:
    spec: OscarServiceSpec
    plan: Plan | None = None
    error: str | None = None
    left_behind: list[str] = field(default_factory=list)
    executor: Executor | None = field(default=None, repr=False)

    @property
    def cluster_id(self) -> str:
        return self.spec.cluster_id


class Clusters:
    """One provider (client and kinds) per distinct cluster connection, built on first use."""

    def __init__(self, notice: Notice | None = None) -> None:
        self._notice = notice
        self._built: dict[OscarClusterSpec, tuple[OscarProvider, Kinds]] = {}
        self._lock = threading.Lock()

    def of(self, cluster: OscarClusterSpec) -> tuple[OscarProvider, Kinds]:
        with self._lock:
            if cluster not in self._built:
                provider = OscarProvider(cluster, self._notice)
                self._built[cluster] = (provider, Kinds("oscar", provider))
            return self._built[cluster]


def service_id(provider: OscarProvider, name: str) -> ResourceId:
    return ResourceId(SERVICE_KIND, name, provider.scope)


def plan_services(specs: Iterable[OscarServiceSpec], storage: StorageProvidersSpec,
                  clusters: Clusters) -> list[ServiceDeployment]:
    """Every service's plan; one that cannot be planned (a cluster that does not answer) gets its `error`."""
    deployments = [ServiceDeployment(spec) for spec in specs]

    def plan(deployment: ServiceDeployment) -> None:
        provider, kinds = clusters.of(deployment.spec.cluster)
        try:
            body = service_body(deployment.spec, storage)
            deployment.plan = plan_resources(deployment.spec.name, kinds,
                                             [Resource(service_id(provider, deployment.spec.name), body)])
        except Exception as err:  # noqa: BLE001 - one service's failure to plan must not hide the others
            deployment.error = plain_message(err)

    _each(plan, deployments)
    return deployments


def apply_services(deployments: list[ServiceDeployment], cancel: threading.Event) -> None:
    """Apply the plans; each outcome lands in `error` (None: deployed). After Ctrl-C or SIGTERM, what the
    run had already deployed is rolled back too."""
    planned = [d for d in deployments if d.plan is not None]

    def apply(deployment: ServiceDeployment) -> None:
        assert deployment.plan is not None
        deployment.executor = Executor(cancel=cancel)
        try:
            deployment.executor.run(deployment.plan)
        except DeployFailed as err:
            deployment.error = err.message
            deployment.left_behind += err.leftovers

    _each(apply, planned)
    if cancel.is_set():
        for deployment in (d for d in planned if d.error is None and d.executor is not None):
            leftovers = deployment.executor.rollback()
            deployment.left_behind += leftovers
            deployment.error = f"interrupted; {rollback_message(leftovers)}"


def outcome(deployment: ServiceDeployment, dry_run: bool) -> str:
    return plan_outcome(deployment.plan, deployment.error, dry_run)


@dataclass
class ServiceRemoval:
    spec: OscarServiceSpec
    result: str = ""
    label: str = ""
    error: str | None = None


def remove_services(specs: Iterable[OscarServiceSpec], clusters: Clusters, dry_run: bool) -> list[ServiceRemoval]:
    """Delete each service (an absent one is fine); one's failure does not stop the others."""
    removals = [ServiceRemoval(spec) for spec in specs]

    def remove(removal: ServiceRemoval) -> None:
        provider, kinds = clusters.of(removal.spec.cluster)
        rid = service_id(provider, removal.spec.name)
        kind = kinds[SERVICE_KIND]
        removal.label = kind.label(rid, Action.DELETE)
        try:
            for step in kind.removal(rid, kind.read(rid)):
                removal.result = carry_out_removal(step, dry_run)
        except Exception as err:  # noqa: BLE001 - reported; a new rm resumes
            removal.error = plain_message(err)

    _each(remove, removals)
    return removals


def _each(work: Callable[[Item], None], items: list[Item]) -> None:
    if items:
        with ThreadPoolExecutor(min(MAX_PARALLEL_SERVICES, len(items))) as pool:
            list(pool.map(work, items))
