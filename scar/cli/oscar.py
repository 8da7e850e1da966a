"""The OSCAR side of the commands: init's plan, apply and report rows, and rm, ls, run and log of services.
Only imported when a command meets an OSCAR service or cluster."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from scar.config.specs import OscarClusterSpec, OscarServiceSpec
from scar.deploy.executor import REMOVED, WOULD_REMOVE, DeployInterrupted, rollback_message
from scar.errors import ScarError
from scar.oscar.deployment import (
    Clusters,
    ServiceDeployment,
    ServiceRemoval,
    apply_services,
    outcome,
    plan_services,
    remove_services,
)

if TYPE_CHECKING:
    from scar.cli.main import Context
    from scar.config.loader import Settings


class OscarInit:
    """The services of one `init`: planned on creation (reads only), applied by `jobs`, reported by rows."""

    def __init__(self, ctx: Context, settings: Settings) -> None:
        self.clusters = Clusters(ctx.output.notice)
        self.deployments: list[ServiceDeployment] = plan_services(settings.oscar_services, settings.storage_providers,
                                                                  self.clusters)
        self.interrupted = False

    def __bool__(self) -> bool:
        return bool(self.deployments)

    def jobs(self, cancel: threading.Event) -> list[Callable[[], None]]:
        """The work to run beside the AWS regions (one job: the services share one bounded pool)."""
        if not self.deployments:
            return []

        def apply() -> None:
            apply_services(self.deployments, cancel)
            self.interrupted = cancel.is_set() and any(d.plan and d.plan.changes for d in self.deployments)

        return [apply]

    @property
    def left_behind(self) -> list[str]:
        return [item for d in self.deployments for item in d.left_behind]

    def interrupted_error(self, aws: DeployInterrupted) -> DeployInterrupted:
        left = aws.leftovers + self.left_behind
        return DeployInterrupted(f"interrupted; {rollback_message(left)}", left)

    def rows(self, verbose: bool) -> list[tuple[str, str, str, str]]:
        rows = []
        for d in self.deployments:
            steps = d.plan.steps if d.plan else []
            rows += [(d.spec.name, s.label, str(s.action), s.summary()) for s in steps]
            if verbose:
                rows += [(d.spec.name, "", "call", f"{c.service}.{c.operation}") for s in steps for c in s.calls]
        return rows

    def documents(self, dry_run: bool, verbose: bool) -> list[dict[str, Any]]:
        return [{"Name": d.spec.name, "Cluster": d.cluster_id, "Result": outcome(d, dry_run),
                 "Steps": [step.describe(verbose) for step in (d.plan.steps if d.plan else [])],
                 **({"Error": d.error} if d.error else {})} for d in self.deployments]

    def lines(self, dry_run: bool) -> list[str]:
        return [f"{d.spec.name} (OSCAR {d.cluster_id}): {outcome(d, dry_run)}" + (f" ({d.error})" if d.error else "")
                for d in self.deployments]

    def failures(self) -> list[str]:
        return [f"{d.spec.name} (OSCAR {d.cluster_id}): {d.error}" for d in self.deployments if d.error]


# -- rm ---------------------------------------------------------------------------------------------


def remove(ctx: Context, services: tuple[OscarServiceSpec, ...], dry_run: bool) -> list[ServiceRemoval]:
    return remove_services(services, Clusters(ctx.output.notice), dry_run)


def removal_rows(removals: list[ServiceRemoval]) -> list[tuple[str, str, str]]:
    return [(r.spec.name, r.label, f"failed: {r.error}" if r.error else r.result) for r in removals]


def removal_documents(removals: list[ServiceRemoval]) -> list[dict[str, Any]]:
    return [{"Name": r.spec.name, "Cluster": r.spec.cluster_id, "Result": r.result,
             **({"Error": r.error} if r.error else {})} for r in removals]


def removed_count(removals: list[ServiceRemoval], dry_run: bool) -> int:
    return sum(1 for r in removals if r.result == (WOULD_REMOVE if dry_run else REMOVED))


# -- ls ---------------------------------------------------------------------------------------------


def list_services(ctx: Context, clusters: list[OscarClusterSpec]) -> tuple[list[dict[str, Any]], list[str]]:
    """The services of every cluster (CLUSTER first), and the clusters that could not be listed, with why."""
    from scar.oscar.client import OscarClient

    found: list[dict[str, Any]] = []
    errors: list[str] = []
    for cluster in clusters:
        try:
            services = OscarClient(cluster, ctx.output.notice).list_services()
        except ScarError as err:
            errors.append(err.message)
            continue
        found += [{"Cluster": cluster.cluster_id, "Name": s.get("name"), "Image": s.get("image"),
                   "Memory": s.get("memory"), "Cpu": s.get("cpu"), "Endpoint": cluster.endpoint}
                  for s in sorted(services, key=lambda s: str(s.get("name")))]
    return found, errors


# -- run and log ------------------------------------------------------------------------------------


def invoke(ctx: Context, spec: OscarServiceSpec, payload: bytes, asynchronous: bool) -> bytes | None:
    """Run the service with its own token (read from the cluster): its output, or None when launched."""
    from scar.oscar.client import OscarClient

    client = OscarClient(spec.cluster, ctx.output.notice)
    service = client.get_service(spec.name)
    if service is None:
        raise ScarError(f"OSCAR service {spec.name!r} does not exist on cluster {spec.cluster_id} "
                        "(deploy it with scar init)")
    token = service.get("token")
    if not token:
        raise ScarError(f"OSCAR cluster {spec.cluster_id}: service {spec.name!r} has no token to invoke it with")
    response = client.invoke(spec.name, token, payload, asynchronous)
    return None if asynchronous else response.content


def show_logs(ctx: Context, spec: OscarServiceSpec, job: str | None) -> int:
    """A service's jobs (JOB, STATUS, times), or with a job name its logs."""
    from scar.cli.output import table
    from scar.oscar.client import OscarClient, OscarError

    client = OscarClient(spec.cluster, ctx.output.notice)
    if job:
        try:
            text = client.job_logs(spec.name, job)
        except OscarError as err:
            if err.status == 404:
                raise ScarError(f"OSCAR service {spec.name!r} on cluster {spec.cluster_id} has no job "
                                f"{job!r}") from None
            raise
        ctx.output.result({"Name": spec.name, "Cluster": spec.cluster_id, "Job": job, "Logs": text}, text.rstrip("\n"))
        return 0
    try:
        jobs = client.list_jobs(spec.name)
    except OscarError as err:
        if err.status == 404:
            raise ScarError(f"OSCAR service {spec.name!r} does not exist on cluster {spec.cluster_id}") from None
        raise
    listed = [{"Job": name, "Status": info.get("status"), "CreationTime": info.get("creation_time"),
               "StartTime": info.get("start_time"), "FinishTime": info.get("finish_time")}
              for name, info in sorted(jobs.items(), key=lambda item: str(item[1].get("creation_time") or ""))]
    text = None
    if listed:
        text = table(("JOB", "STATUS", "CREATED", "STARTED", "FINISHED"),
                     ((j["Job"], j["Status"], j["CreationTime"], j["StartTime"], j["FinishTime"]) for j in listed))
    else:
        ctx.output.notice(f"no jobs of OSCAR service {spec.name} on cluster {spec.cluster_id}")
    ctx.output.result({"Name": spec.name, "Cluster": spec.cluster_id, "Jobs": listed}, text)
    return 0
