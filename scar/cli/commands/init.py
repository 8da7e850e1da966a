"""`scar init`: deploy the functions of an FDL (or of the flags), creating or converging each one.

Everything is checked and packaged before the first AWS call. Functions deploy in parallel; each one's
plan is applied and, if a step fails, what this run changed for it is rolled back.
"""

from __future__ import annotations

import argparse
import functools
from pathlib import Path
from typing import TYPE_CHECKING

from scar.aws.batch_resources import batch_artifacts
from scar.aws.batch_spec import launch_template_name
from scar.aws.deployment import (
    MAX_PARALLEL_FUNCTIONS,
    FunctionDeployment,
    RegionDeployment,
    apply_region,
    interrupted_error,
    plan_region,
)
from scar.aws.errors import message_of
from scar.aws.identity import Identity
from scar.aws.provider import AwsProvider
from scar.aws.read_ahead import read_ahead
from scar.aws.resources import FunctionArtifacts
from scar.aws.tags import (
    TAG_API,
    TAG_CREATED_BY,
    TAG_CREDENTIALS,
    TAG_DEPLOYMENT,
    TAG_EXECUTION_MODE,
    TAG_IMAGE,
    TAG_LAUNCH_TEMPLATE,
    TAG_LAYER,
    TAG_OWNER,
    TAG_SUPERVISOR,
)
from scar.cli.output import table
from scar.cli.role_help import role_help
from scar.config.defaults import OWN_SUPERVISOR_VERSIONS, cache_folder
from scar.config.specs import FunctionSpec, StorageProvidersSpec
from scar.deploy.interrupt import interruptible, run_all
from scar.deploy.model import outcome as plan_outcome
from scar.errors import BadInputError, ConfigError, OperationFailed
from scar.package.batch_runtime import BatchRuntime, batch_runtime
from scar.package.function_config import function_config, secret_values
from scar.package.function_zip import FunctionPackage, build_function_zip, check_sizes
from scar.package.image_function import image_artifacts
from scar.package.layer import LayerPackage, build_supervisor_layer
from scar.package.udocker_engine import default_cache_dir, obtain_engine
from scar.registry.store import ImageStore
from scar.version import __version__

if TYPE_CHECKING:
    from scar.cli.main import Context
    from scar.cli.oscar import OscarInit
    from scar.config.loader import Settings

def run(args: argparse.Namespace, ctx: Context) -> int:
    try:
        settings = ctx.settings(deploying=True)
    except ConfigError as err:
        if any("iam.role: is required to deploy" in problem for problem in err.problems):
            ctx.output.hint(role_help())
        raise
    if not settings.functions and not settings.oscar_services:
        raise BadInputError("nothing to deploy: give -f FDL, or -n NAME and -i IMAGE")
    for spec in settings.functions:
        _refuse_unsupported(spec)
        if spec.lambda_.runtime == "image" and spec.lambda_.container.alpine:
            ctx.output.notice(f"{spec.name}: container.alpine is not needed: the supervisor in the image brings its "
                              "own Python and C library, so Alpine images work as they are")
    layer_package = _layer_package(settings.functions, ctx) if settings.functions else None
    oscar = _oscar_init(ctx, settings)
    regions: list[RegionDeployment] = []
    aws_error = None
    if layer_package is not None:
        try:
            regions = _plan(settings.functions, layer_package, settings.storage_providers, ctx)
        except Exception as err:
            if not oscar:
                raise
            aws_error = message_of(err)  # the OSCAR side goes on; the report says why AWS did not
    if args.dry_run:
        return _report(ctx, regions, dry_run=True, oscar=oscar, aws_error=aws_error)
    with interruptible() as cancel:
        jobs = [lambda r=region: apply_region(r, cancel, lambda name: _preheat(r, name)) for region in regions]
        jobs += oscar.jobs(cancel) if oscar else []
        try:
            run_all(lambda job: job(), jobs, len(jobs), cancel, ctx.output.notice)
        except KeyboardInterrupt:
            if any(region.interrupted for region in regions) or (oscar and oscar.interrupted):
                error = interrupted_error(regions)
                raise (oscar.interrupted_error(error) if oscar else error) from None
            # the signal came once every region was done: the deployment stands, report it
    return _report(ctx, regions, dry_run=False, oscar=oscar, aws_error=aws_error)


def _oscar_init(ctx: Context, settings: Settings) -> OscarInit | None:
    """The OSCAR services' plans (reads only), when the FDL has services."""
    if not settings.oscar_services:
        return None
    from scar.cli.oscar import OscarInit

    return OscarInit(ctx, settings)


def _refuse_unsupported(spec: FunctionSpec) -> None:
    """Say clearly what this version cannot deploy yet, before anything is created."""
    lam = spec.lambda_
    version = lam.supervisor.version
    if version not in OWN_SUPERVISOR_VERSIONS:
        raise BadInputError(f"{spec.name}: this version of scar cannot deploy lambda.supervisor.version {version!r} "
                            f"(this scar ships its own supervisor, version {__version__}: use builtin); remove it "
                            "from the definition to deploy the rest")


def _layer_package(specs: tuple[FunctionSpec, ...], ctx: Context) -> LayerPackage:
    """The supervisor layer; udocker's engine goes in only when some function runs its container with udocker."""
    users = [spec for spec in specs if spec.lambda_.supervisor.runner == "udocker"]
    engine = None
    if users:
        engine = obtain_engine(users[0].lambda_.supervisor.udocker_engine, default_cache_dir(), ctx.output.notice)
    return build_supervisor_layer(engine)


def _plan(specs: tuple[FunctionSpec, ...], layer_package: LayerPackage, providers: StorageProvidersSpec,
          ctx: Context) -> list[RegionDeployment]:
    """Package every function (no AWS call can fail on a bad package), then plan each region's deployment."""
    groups: dict[tuple[str, str | None, str], list[FunctionSpec]] = {}
    for spec in specs:
        groups.setdefault((spec.region, spec.boto_profile, spec.lambda_.supervisor.layer_name), []).append(spec)
    regions = []
    for (region, profile, layer_name), members in groups.items():
        # the threads that use this session's clients: the functions' pool and the region's own thread
        session = ctx.aws(region, profile, concurrency=min(MAX_PARALLEL_FUNCTIONS, len(members)) + 1)
        provider = AwsProvider(session)
        read_ahead(provider, [spec.name for spec in members], {layer_name})
        identity = provider.identity
        deployments = [FunctionDeployment(spec, _artifacts(spec, identity, layer_package, providers))
                       for spec in members]
        planned = RegionDeployment(provider, layer_name, deployments)
        plan_region(planned, layer_package, members[0].lambda_.supervisor.license_info)
        regions.append(planned)
    return regions


def _artifacts(spec: FunctionSpec, identity: Identity, layer_package: LayerPackage,
               providers: StorageProvidersSpec) -> FunctionArtifacts:
    owner = identity.owner
    config = function_config(spec, __version__, providers=providers)
    secrets = secret_values(spec, providers)
    deployment = spec.lambda_.deployment
    image = None
    if spec.lambda_.runtime == "image":  # no zip: the image holds the supervisor and the function's files
        image = image_artifacts(spec, config, spec.ecr.registry_url)
        package, needs_bucket = FunctionPackage(b"", "", 0), False
    else:
        package = build_function_zip(spec, config)
        needs_bucket = check_sizes(package, layer_package.unzipped_size, deployment.max_payload_size,
                                   deployment.max_s3_payload_size, bucket=deployment.bucket)
    tags = {TAG_CREATED_BY: "scar", TAG_OWNER: owner, TAG_SUPERVISOR: __version__,
            TAG_LAYER: spec.lambda_.supervisor.layer_name,
            TAG_IMAGE: spec.lambda_.container.image or _file_name(spec.lambda_.container.image_file),
            TAG_API: (spec.api_gateway.name or "")[:256]}  # a tag value holds 256 characters
    if needs_bucket:
        tags[TAG_DEPLOYMENT] = deployment.bucket  # the input buckets are in the function's policy: no tag limit
    if secrets:
        tags[TAG_CREDENTIALS] = "ssm"
    batch = None
    if spec.lambda_.execution_mode != "lambda":  # the AWS Batch resources, and what rm needs to find them
        batch = batch_artifacts(spec, config, _batch_runtime(), identity.account)
        tags.update({TAG_EXECUTION_MODE: spec.lambda_.execution_mode, TAG_DEPLOYMENT: deployment.bucket,
                     TAG_LAUNCH_TEMPLATE: launch_template_name(spec)})
    return FunctionArtifacts(package, needs_bucket, {k: v for k, v in tags.items() if v}, secrets, batch, image)


@functools.cache
def _batch_runtime() -> BatchRuntime:
    """What Batch instances install: the supervisor with its own Python (its jobs run the image directly,
    never udocker), built once per run and kept in the image store."""
    return batch_runtime(ImageStore(cache_folder() / "images"))


def _file_name(path: Path | None) -> str:
    return path.name if path else ""


def _preheat(region: RegionDeployment, name: str) -> str:
    """One synchronous invocation with an empty event, so the first real call finds a warm function."""
    try:
        answer = region.provider.lam.invoke(name, b"{}", asynchronous=False, tail_log=False)
    except Exception as err:  # noqa: BLE001 - the function is deployed; a failed warm-up is only reported
        return f"failed: {message_of(err)}"
    if answer.get("FunctionError"):
        return f"the warm-up call failed ({answer['FunctionError']})"
    return "invoked once"


def _report(ctx: Context, regions: list[RegionDeployment], dry_run: bool, oscar: OscarInit | None = None,
            aws_error: str | None = None) -> int:
    verbose = ctx.output.verbose
    rows: list[tuple[str, str, str, str]] = []
    functions = []
    shared = []
    for region in regions:
        common = [*region.shared.steps, *region.cleanup.steps]
        rows.extend(("(shared)", s.label, str(s.action), s.summary()) for s in common)
        shared.extend({**step.describe(verbose), "Region": region.provider.region} for step in common)
        for deployment in region.functions:
            steps = deployment.plan.steps if deployment.plan else []
            outcome = plan_outcome(deployment.plan, deployment.error, dry_run, "function")
            functions.append({"Name": deployment.spec.name, "Region": region.provider.region, "Result": outcome,
                              "Steps": [step.describe(verbose) for step in steps],
                              **({"Preheat": deployment.preheat} if deployment.preheat else {}),
                              **({"Error": deployment.error} if deployment.error else {})})
            rows.extend((deployment.spec.name, s.label, str(s.action), s.summary()) for s in steps)
            if deployment.preheat:
                rows.append((deployment.spec.name, f"function {deployment.spec.name}", "preheat", deployment.preheat))
            if verbose and not ctx.output.json_mode:
                rows.extend((deployment.spec.name, "", "call", f"{c.service}.{c.operation}")
                            for s in steps for c in s.calls)
    rows += oscar.rows(verbose and not ctx.output.json_mode) if oscar else []
    left = [item for region in regions for item in region.left_behind] + (oscar.left_behind if oscar else [])
    failed = [f for f in functions if f["Result"] == "failed"]
    lines = ["Plan (dry run: nothing was changed):" if dry_run else "Deployment:",
             table(("FUNCTION", "RESOURCE", "ACTION", "DETAIL"), rows), ""]
    lines += [f"{f['Name']}: {f['Result']}" + (f" ({f['Error']})" if f.get("Error") else "") for f in functions]
    lines += oscar.lines(dry_run) if oscar else []
    if aws_error:
        lines.append(f"AWS functions: not deployed ({aws_error})")
    if left:
        lines.append("left behind (could not be undone or cleaned up): " + "; ".join(left))
    document = {"DryRun": dry_run, "Shared": shared, "Functions": functions, **({"LeftBehind": left} if left else {})}
    if oscar:
        document["Services"] = oscar.documents(dry_run, verbose)
    if aws_error:
        document["AwsError"] = aws_error
    ctx.output.result(document, "\n".join(lines))
    failures = [f"{f['Name']}: {f['Error']}" for f in failed] + (oscar.failures() if oscar else [])
    total = len(functions) + (len(oscar.deployments) if oscar else 0)
    summary = [f"{len(failures)} of {total} function(s) failed: " + "; ".join(failures)] if failures else []
    if aws_error or failures:
        raise OperationFailed("; ".join(([f"AWS functions not deployed: {aws_error}"] if aws_error else []) + summary))
    return 0


