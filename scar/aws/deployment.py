"""Deploying scar functions on Lambda with the engine, one region (and profile) at a time: the resources the
functions share are planned once and applied first, then every function's plan runs on a bounded pool, then
the sweep of layer versions nothing uses any more. Shared resources are kept only if a function that needs
them succeeded; an interruption rolls back everything the run changed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from scar.aws import kinds as _registered  # noqa: F401 - registers the AWS kinds
from scar.aws.errors import message_of
from scar.aws.kinds.layer import unused_versions
from scar.aws.provider import AwsProvider
from scar.aws.resources import (
    FunctionArtifacts,
    bucket_entries,
    function_entries,
    layer_entry,
    layer_id,
)
from scar.config.specs import FunctionSpec, own_s3
from scar.deploy.executor import DeployFailed, DeployInterrupted, Executor, rollback_message
from scar.deploy.kind import Kinds, Stale
from scar.deploy.model import Plan, Ref
from scar.deploy.planner import known_values, plan_resources
from scar.errors import BadInputError
from scar.package.layer import LayerPackage

MAX_PARALLEL_FUNCTIONS = 16


@dataclass
class FunctionDeployment:
    spec: FunctionSpec
    artifacts: FunctionArtifacts
    plan: Plan | None = None
    error: str | None = None
    preheat: str | None = None  # what the warm-up call gave, when the function asks for one
    executor: Executor | None = field(default=None, repr=False)


@dataclass
class RegionDeployment:
    """The functions deployed with one session (region and profile) and one supervisor layer."""

    provider: AwsProvider
    layer_name: str
    functions: list[FunctionDeployment]
    shared: Plan = field(default_factory=lambda: Plan("shared resources"))
    cleanup: Plan = field(default_factory=lambda: Plan("cleanup"))
    left_behind: list[str] = field(default_factory=list)  # what could not be undone or cleaned up
    interrupted: bool = False
    kinds: Kinds = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.kinds = Kinds("aws", self.provider)


def plan_region(region: RegionDeployment, layer_package: LayerPackage, license_info: str) -> None:
    """Plan the shared resources, every function (one's failure to plan leaves the others' plans) and the sweep."""
    kinds = region.kinds
    provider = region.provider
    buckets = [io.bucket for f in region.functions for io in own_s3([*f.spec.lambda_.input, *f.spec.lambda_.output])]
    buckets += [f.spec.lambda_.deployment.bucket for f in region.functions
                if f.artifacts.needs_bucket or f.artifacts.batch is not None]
    region.shared = plan_resources("shared resources", kinds, [
        layer_entry(provider, region.layer_name, layer_package, license_info), *bucket_entries(provider, buckets)])
    known = known_values(region.shared)
    layer_arn = Ref(layer_id(provider, region.layer_name), "LayerVersionArn")

    def plan(deployment: FunctionDeployment) -> None:
        try:
            entries = function_entries(provider, deployment.spec, deployment.artifacts, layer_arn)
            deployment.plan = plan_resources(deployment.spec.name, kinds, entries, known)
        except BadInputError:
            raise  # a change no provider can make (a kind refused it): nothing is deployed, exit 2
        except Exception as err:  # noqa: BLE001 - one function's failure to plan must not hide the others
            deployment.error = message_of(err)

    with ThreadPoolExecutor(min(MAX_PARALLEL_FUNCTIONS, len(region.functions))) as pool:
        list(pool.map(plan, region.functions))
    moving = {f.spec.name for f in region.functions if f.plan is not None}
    keep = {value for value in known.values() if isinstance(value, str)}
    stale = unused_versions(provider, region.layer_name, keep, moving) if moving else []
    region.cleanup = plan_resources("cleanup", kinds, [Stale(rid) for rid in stale])


def apply_region(region: RegionDeployment, cancel: threading.Event, preheat: Callable[[str], str]) -> None:
    """Apply the region's plans; each function's outcome lands in its `error` (None: deployed)."""
    planned = [f for f in region.functions if f.plan is not None]
    if not planned:
        return
    shared = Executor(cancel=cancel, describe=message_of)
    try:
        shared.run(region.shared)
    except DeployFailed as err:  # already rolled back; every function needed these
        region.interrupted = isinstance(err, DeployInterrupted)
        for deployment in planned:
            deployment.error = err.message
        return

    def apply(deployment: FunctionDeployment) -> None:
        assert deployment.plan is not None
        deployment.executor = Executor(shared.values, cancel, message_of)
        try:
            deployment.executor.run(deployment.plan)
        except DeployFailed as err:
            deployment.error = err.message
            region.left_behind += err.leftovers

    with ThreadPoolExecutor(min(MAX_PARALLEL_FUNCTIONS, len(planned))) as pool:
        list(pool.map(apply, planned))
    succeeded = [f for f in planned if f.error is None]
    if cancel.is_set():  # Ctrl-C or SIGTERM: undo the whole run, the functions that were done included
        region.interrupted = True
        for deployment in succeeded:
            assert deployment.executor is not None
            leftovers = deployment.executor.rollback()
            region.left_behind += leftovers
            deployment.error = f"interrupted; {rollback_message(leftovers)}"
        region.left_behind += shared.rollback()
        return
    if not succeeded:
        region.left_behind += shared.rollback()  # no function uses what this run created for them
        return
    sweeper = Executor(shared.values, describe=message_of)
    sweeper.run(region.cleanup)
    region.left_behind += sweeper.cleanup_failures
    for deployment in succeeded:
        if deployment.spec.lambda_.preheat:
            deployment.preheat = preheat(deployment.spec.name)


def interrupted_error(regions: list[RegionDeployment]) -> DeployInterrupted:
    left = [item for region in regions for item in region.left_behind]
    return DeployInterrupted(f"interrupted; {rollback_message(left)}", left)
