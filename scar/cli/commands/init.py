"""`scar init`: deploy the functions of an FDL (or of the flags), creating or converging each one.

Everything is checked and packaged before the first AWS call. Functions deploy in parallel; each one's
plan is applied and, if a step fails, what this run changed for it is rolled back.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scar.aws.deploy import CREATE, DeployFailed, Plan, Step
from scar.aws.function_deploy import (
    DEPLOYMENT_KEY,
    FunctionArtifacts,
    FunctionPlanner,
    LayerState,
    own_s3,
    plan_layer,
)
from scar.aws.identity import caller_identity
from scar.aws.lambda_ import Lambda
from scar.aws.logs import Logs
from scar.aws.s3 import S3
from scar.aws.s3_triggers import TriggerPlanner
from scar.aws.tags import (
    TAG_CREATED_BY,
    TAG_CREDENTIALS,
    TAG_DEPLOYMENT,
    TAG_IMAGE,
    TAG_INPUTS,
    TAG_LAYER,
    TAG_OWNER,
    TAG_SUPERVISOR,
)
from scar.cli.output import table
from scar.cli.role_help import role_help
from scar.config.specs import FunctionSpec, StorageProvidersSpec
from scar.errors import BadInputError, ConfigError, OperationFailed, ScarError
from scar.package.function_config import function_config, secret_values
from scar.package.function_zip import build_function_zip, check_sizes
from scar.package.layer import LayerPackage, build_supervisor_layer
from scar.package.udocker_engine import default_cache_dir, obtain_engine
from scar.version import __version__

if TYPE_CHECKING:
    from scar.aws.session import AwsSession
    from scar.cli.main import Context

MAX_PARALLEL_FUNCTIONS = 16


@dataclass
class _Deployment:
    spec: FunctionSpec
    artifacts: FunctionArtifacts | None = None
    plan: Plan | None = None
    error: str | None = None


@dataclass
class _Region:
    """The functions deployed with one session (region and profile) and one supervisor layer."""

    session: AwsSession
    layer_name: str
    deployments: list[_Deployment] = field(default_factory=list)
    layer: LayerState | None = None
    shared: list[Step] = field(default_factory=list)  # the layer and the buckets the functions share
    account: str = ""


def run(args: argparse.Namespace, ctx: Context) -> int:
    try:
        settings = ctx.settings(deploying=True)
    except ConfigError as err:
        if any("iam.role: is required to deploy" in problem for problem in err.problems):
            ctx.output.hint(role_help())
        raise
    if settings.oscar_services:
        names = ", ".join(service.name for service in settings.oscar_services)
        if not settings.functions:
            raise BadInputError(f"functions.oscar ({names}): this version of scar cannot deploy OSCAR services yet")
        ctx.output.notice(f"functions.oscar ({names}) skipped: this version of scar cannot deploy OSCAR services "
                          "yet")
    if not settings.functions:
        raise BadInputError("nothing to deploy: give -f FDL, or -n NAME and -i IMAGE")
    for spec in settings.functions:
        _refuse_unsupported(spec)
    layer_package = _layer_package(settings.functions, ctx)
    regions = _group(settings.functions, ctx)
    for region in regions.values():
        _prepare(region, layer_package, settings.storage_providers)
    if args.dry_run:
        _report(ctx, regions, dry_run=True)
        return 0
    for region in regions.values():
        _deploy_region(region)
    return _report(ctx, regions, dry_run=False)


def _refuse_unsupported(spec: FunctionSpec) -> None:
    """Say clearly what this version cannot deploy yet, before anything is created."""
    lam = spec.lambda_
    unsupported = [
        (lam.runtime == "image", "lambda.runtime: image (container-image functions)"),
        (lam.execution_mode != "lambda", f"lambda.execution_mode: {lam.execution_mode} (AWS Batch)"),
        (bool(spec.api_gateway.name), "api_gateway.name (HTTP endpoints)"),
    ]
    version = lam.supervisor.version
    unsupported.append((version not in ("builtin", "latest", __version__),
                        f"lambda.supervisor.version {version!r} (this scar ships its own supervisor, version "
                        f"{__version__}: use builtin)"))
    named = [what for refused, what in unsupported if refused]
    if named:
        raise BadInputError(f"{spec.name}: this version of scar cannot deploy {', '.join(named)} yet; "
                            "remove it from the definition to deploy the rest")


def _layer_package(specs: tuple[FunctionSpec, ...], ctx: Context) -> LayerPackage:
    """The supervisor layer; udocker's engine goes in only when some function runs its container with udocker."""
    users = [spec for spec in specs if spec.lambda_.supervisor.runner == "udocker"]
    engine = None
    if users:
        engine = obtain_engine(users[0].lambda_.supervisor.udocker_engine, default_cache_dir(), ctx.output.notice)
    return build_supervisor_layer(engine)


def _group(specs: tuple[FunctionSpec, ...], ctx: Context) -> dict[tuple[str, str | None, str], _Region]:
    regions: dict[tuple[str, str | None, str], _Region] = {}
    for spec in specs:
        key = (spec.region, spec.boto_profile, spec.lambda_.supervisor.layer_name)
        if key not in regions:
            session = ctx.aws(spec.region, spec.boto_profile, concurrency=MAX_PARALLEL_FUNCTIONS * 2)
            regions[key] = _Region(session, key[2])
        regions[key].deployments.append(_Deployment(spec))
    return regions


def _prepare(region: _Region, layer_package: LayerPackage, providers: StorageProvidersSpec) -> None:
    """Package every function (no AWS call can fail on a bad package) and plan the layer."""
    lam = Lambda(region.session.client("lambda"))
    with ThreadPoolExecutor(2) as pool:  # two independent round trips
        asked = pool.submit(caller_identity, region.session.client("sts"))
        layer = pool.submit(plan_layer, lam, region.layer_name, layer_package,
                            region.deployments[0].spec.lambda_.supervisor.license_info)
        identity = asked.result()
        layer_step, region.layer = layer.result()
    region.account = identity.account
    for deployment in region.deployments:
        deployment.artifacts = _artifacts(deployment.spec, identity.owner, layer_package, providers)
    buckets = [io.bucket for d in region.deployments for io in own_s3([*d.spec.lambda_.input,
                                                                       *d.spec.lambda_.output])]
    region.shared = [layer_step]
    if buckets:
        session = region.session
        triggers = TriggerPlanner(S3(session.client("s3")), session.client("lambda"), session.region, region.account)
        region.shared += triggers.bucket_steps(buckets)
    planner = _planner(region)
    with ThreadPoolExecutor(min(MAX_PARALLEL_FUNCTIONS, len(region.deployments))) as pool:
        outcomes = pool.map(lambda d: _plan(planner, d, region.layer), region.deployments)
        for deployment, outcome in zip(region.deployments, outcomes, strict=True):
            deployment.plan, deployment.error = outcome


def _artifacts(spec: FunctionSpec, owner: str, layer_package: LayerPackage,
               providers: StorageProvidersSpec) -> FunctionArtifacts:
    package = build_function_zip(spec, function_config(spec, __version__, providers=providers))
    secrets = secret_values(spec, providers)
    deployment = spec.lambda_.deployment
    needs_bucket = check_sizes(package, layer_package.unzipped_size, deployment.max_payload_size,
                               deployment.max_s3_payload_size, bucket=deployment.bucket)
    tags = {TAG_CREATED_BY: "scar", TAG_OWNER: owner, TAG_SUPERVISOR: __version__,
            TAG_LAYER: spec.lambda_.supervisor.layer_name,
            TAG_IMAGE: spec.lambda_.container.image or _file_name(spec.lambda_.container.image_file)}
    inputs = sorted({io.bucket for io in own_s3(spec.lambda_.input)})
    if inputs:
        tags[TAG_INPUTS] = " ".join(inputs)[:256]  # tag values allow no commas
    if needs_bucket:
        tags[TAG_DEPLOYMENT] = f"{deployment.bucket}/{DEPLOYMENT_KEY.format(name=spec.name)}"
    if secrets:
        tags[TAG_CREDENTIALS] = "ssm"
    return FunctionArtifacts(package, needs_bucket, {k: v for k, v in tags.items() if v}, secrets)


def _file_name(path: Path | None) -> str:
    return path.name if path else ""


def _planner(region: _Region) -> FunctionPlanner:
    session = region.session
    return FunctionPlanner(Lambda(session.client("lambda")), Logs(session.client("logs")),
                           lambda: S3(session.client("s3")), lambda: session.client("ssm"), session.region,
                           region.account)


def _plan(planner: FunctionPlanner, deployment: _Deployment, layer: LayerState) -> tuple[Plan | None, str | None]:
    assert deployment.artifacts is not None
    try:
        return planner.plan(deployment.spec, deployment.artifacts, layer), None
    except ScarError as err:
        return None, err.message


def _deploy_region(region: _Region) -> None:
    """The shared resources first (undone only if no function could use them), then the functions. The
    functions' steps read the layer version when they run, so a layer published now needs no new plan."""
    planned = [d for d in region.deployments if d.plan is not None]
    if not planned:
        return
    try:
        journal = Plan("shared resources", region.shared).apply()
    except DeployFailed as err:  # already rolled back; every function needed these
        for deployment in planned:
            deployment.error = err.message
        return
    lam = Lambda(region.session.client("lambda"))
    with ThreadPoolExecutor(min(MAX_PARALLEL_FUNCTIONS, len(planned))) as pool:
        list(pool.map(lambda d: _apply(d, lam), [d for d in planned if d.plan is not None]))
    if not any(d.error is None for d in region.deployments):
        journal.rollback()  # no function uses what this run created for them


def _apply(deployment: _Deployment, lam: Lambda) -> None:
    assert deployment.plan is not None
    try:
        deployment.plan.apply()
    except DeployFailed as err:
        deployment.error = err.message
        return
    if deployment.spec.lambda_.preheat:
        deployment.plan.steps.append(_preheat(lam, deployment.spec.name))


def _preheat(lam: Lambda, name: str) -> Step:
    """One synchronous invocation with an empty event, so the first real call finds a warm function."""
    try:
        answer = lam.invoke(name, b"{}", asynchronous=False, tail_log=False)
    except Exception as err:  # noqa: BLE001 - the function is deployed; a failed warm-up is only reported
        return Step(f"function {name}", "preheat", f"failed: {err}")
    if answer.get("FunctionError"):
        return Step(f"function {name}", "preheat", f"the warm-up call failed ({answer['FunctionError']})")
    return Step(f"function {name}", "preheat", "invoked once")


def _report(ctx: Context, regions: dict[Any, _Region], dry_run: bool) -> int:
    rows: list[tuple[str, str, str, str]] = []
    functions = []
    shared = []
    for region in regions.values():
        rows.extend(("(shared)", s.resource, s.action, s.detail) for s in region.shared)
        shared.extend({**step.describe(), "Region": region.session.region} for step in region.shared)
        for deployment in region.deployments:
            steps = deployment.plan.steps if deployment.plan else []
            outcome = _outcome(deployment, dry_run)
            functions.append({"Name": deployment.spec.name, "Region": region.session.region, "Result": outcome,
                              "Steps": [step.describe() for step in steps],
                              **({"Error": deployment.error} if deployment.error else {})})
            rows.extend((deployment.spec.name, s.resource, s.action, s.detail) for s in steps)
    failed = [f for f in functions if f["Result"] == "failed"]
    lines = ["Plan (dry run: nothing was changed):" if dry_run else "Deployment:",
             table(("FUNCTION", "RESOURCE", "ACTION", "DETAIL"), rows), ""]
    lines += [f"{f['Name']}: {f['Result']}" + (f" ({f['Error']})" if f.get("Error") else "") for f in functions]
    ctx.output.result({"DryRun": dry_run, "Shared": shared, "Functions": functions}, "\n".join(lines))
    if failed:
        raise OperationFailed(f"{len(failed)} of {len(functions)} function(s) failed: "
                              + "; ".join(f"{f['Name']}: {f['Error']}" for f in failed))
    return 0


def _outcome(deployment: _Deployment, dry_run: bool) -> str:
    if deployment.error:
        return "failed"
    assert deployment.plan is not None
    changes = deployment.plan.changes
    if not changes:
        return "up to date"
    creates = any(step.action == CREATE and step.resource.startswith("function ") for step in changes)
    if dry_run:
        return "would be created" if creates else "would be updated"
    return "created" if creates else "updated"
