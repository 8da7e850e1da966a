"""What a scar function on Lambda consists of, as resources for the deploy engine: what `init` wants, what
the sweeper finds stale, and what `rm` removes. The order of the entries is the order of the steps."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from scar.aws.batch_resources import BatchArtifacts, batch_entries, batch_removal_steps, batch_stale_entries
from scar.aws.image_entries import ImageArtifacts, image_entries, image_removal
from scar.aws.kinds.api_permission import KIND as API_PERMISSION
from scar.aws.kinds.api_permission import api_permission
from scar.aws.kinds.api_routes import KIND as API_ROUTES
from scar.aws.kinds.api_routes import ROUTES, routes_entry
from scar.aws.kinds.api_stage import KIND as API_STAGE
from scar.aws.kinds.api_stage import stage_entry
from scar.aws.kinds.bucket import KIND as BUCKET
from scar.aws.kinds.function import CODE_KIND, TAGS_KIND
from scar.aws.kinds.function import KIND as FUNCTION
from scar.aws.kinds.layer import KIND as LAYER
from scar.aws.kinds.log_group import KIND as LOG_GROUP
from scar.aws.kinds.log_group import log_group_name
from scar.aws.kinds.notification import KIND as NOTIFICATION
from scar.aws.kinds.notification import WITH_FUNCTION
from scar.aws.kinds.package_object import KIND as PACKAGE
from scar.aws.kinds.package_object import package_key, stored_packages
from scar.aws.kinds.parameter import KIND as PARAMETER
from scar.aws.kinds.parameter import stored_parameters
from scar.aws.kinds.permission import KIND as PERMISSION
from scar.aws.kinds.permission import s3_permission, wired_buckets
from scar.aws.kinds.rest_api import BINARY_MEDIA_TYPES, DESCRIPTION, api_tags
from scar.aws.kinds.rest_api import KIND as REST_API
from scar.aws.provider import AwsProvider
from scar.aws.s3_triggers import Rule, rules_for
from scar.aws.tags import (
    TAG_API,
    TAG_CREDENTIALS,
    TAG_DEPLOYMENT,
    TAG_EXECUTION_MODE,
    TAG_INPUTS,
    TAG_LAUNCH_TEMPLATE,
)
from scar.config.defaults import LAMBDA_PYTHON_RUNTIMES
from scar.config.specs import FunctionSpec, own_s3
from scar.deploy.kind import Kinds, Resource, Stale
from scar.deploy.model import Action, Ref, ResourceId, Step
from scar.errors import ScarError
from scar.package.function_config import secret_parameter
from scar.package.function_zip import FunctionPackage
from scar.package.layer import LayerPackage

Entry = Resource | Stale


@dataclass(frozen=True)
class FunctionArtifacts:
    package: FunctionPackage
    needs_bucket: bool
    tags: dict[str, str]
    secrets: dict[str, dict[str, str]]  # storage credentials by provider reference, kept in SSM
    batch: BatchArtifacts | None = None  # execution_mode batch or lambda-batch
    image: ImageArtifacts | None = None  # runtime: image (then `package` is not deployed)


def layer_id(provider: AwsProvider, name: str) -> ResourceId:
    return ResourceId(LAYER, name, provider.scope)


def function_id(provider: AwsProvider, name: str) -> ResourceId:
    return ResourceId(FUNCTION, name, provider.scope)


def layer_entry(provider: AwsProvider, name: str, package: LayerPackage, license_info: str) -> Resource:
    return Resource(layer_id(provider, name), {
        "Description": package.description, "Zip": package.zip_bytes, "LicenseInfo": license_info,
        "CompatibleRuntimes": list(LAMBDA_PYTHON_RUNTIMES), "CompatibleArchitectures": ["x86_64", "arm64"]})


def bucket_entries(provider: AwsProvider, buckets: list[str]) -> list[Resource]:
    return [Resource(ResourceId(BUCKET, bucket, provider.scope), {}) for bucket in dict.fromkeys(buckets)]


def desired_configuration(spec: FunctionSpec, layer_arn: Ref | str) -> dict[str, Any]:
    """The function's configuration as Lambda reports it (the keys UpdateFunctionConfiguration takes)."""
    lam = spec.lambda_
    vpc = lam.vpc
    return {
        "Role": spec.iam.role,
        "Handler": f"{spec.name}.lambda_handler",
        "Runtime": lam.runtime,
        "Description": lam.description,
        "Timeout": lam.timeout,
        "MemorySize": lam.memory,
        "EphemeralStorage": {"Size": lam.ephemeral_storage},
        "Environment": {"Variables": dict(lam.environment.variables)},
        "Layers": [layer_arn, *lam.layers],
        "VpcConfig": {"SubnetIds": list(vpc.subnet_ids) if vpc else [],
                      "SecurityGroupIds": list(vpc.security_group_ids) if vpc else []},
        "FileSystemConfigs": [{"Arn": fs.arn, "LocalMountPath": fs.local_mount_path} for fs in lam.file_system],
    }


def function_entries(provider: AwsProvider, spec: FunctionSpec, artifacts: FunctionArtifacts,
                     layer_arn: Ref | str) -> list[Entry]:
    """Everything one function wants, and what it had that it no longer wants, in the order to apply."""
    name, scope = spec.name, provider.scope
    remote = provider.function(name)
    tags = (remote or {}).get("Tags") or {}
    entries: list[Entry] = []
    if artifacts.secrets or tags.get(TAG_CREDENTIALS):
        wanted = {secret_parameter(name, reference): json.dumps(values, sort_keys=True)
                  for reference, values in artifacts.secrets.items()}
        entries += [Resource(ResourceId(PARAMETER, parameter, scope, name), {"Value": value})
                    for parameter, value in wanted.items()]
        entries += [Stale(ResourceId(PARAMETER, parameter, scope, name))
                    for parameter in stored_parameters(provider, name) if parameter not in wanted]
    entries.append(Resource(ResourceId(LOG_GROUP, log_group_name(name), scope, name),
                            {"retentionInDays": spec.cloudwatch.log_retention_policy_in_days}))
    zip_bytes = artifacts.package.zip_bytes
    code: dict[str, Any] = {"ZipFile": zip_bytes}
    code_state: dict[str, Any] = {"CodeSha256": artifacts.package.code_sha256}
    configuration = desired_configuration(spec, layer_arn)
    if artifacts.image is not None:
        image_resources, code = image_entries(provider, name, artifacts.image, artifacts.tags)
        entries += image_resources
        code_state = {"ImageUri": code["ImageUri"], "PackageType": "Image"}
        configuration.update(Handler=None, Runtime=None, Layers=[])  # the image says what runs
        zip_bytes = b""
    elif artifacts.needs_bucket:
        bucket = spec.lambda_.deployment.bucket
        key = package_key(name, zip_bytes)
        code = {"S3Bucket": bucket, "S3Key": key}
        entries.append(Resource(ResourceId(PACKAGE, f"{bucket}/{key}", scope, name), {"Body": zip_bytes}))
        entries += [Stale(ResourceId(PACKAGE, f"{bucket}/{old}", scope, name))
                    for old in stored_packages(provider, bucket, name) if old != key]
    if artifacts.batch is not None:
        entries += batch_entries(provider, spec, artifacts.batch, artifacts.tags)
    elif tags.get(TAG_EXECUTION_MODE):  # back to Lambda only
        entries += batch_stale_entries(provider, name, tags.get(TAG_LAUNCH_TEMPLATE),
                                       tags.get(TAG_DEPLOYMENT, "").split("/", 1)[0] or None)
    fid = function_id(provider, name)
    entries.append(Resource(fid, {
        "Configuration": configuration, "Code": code, **code_state, "Architectures": list(spec.lambda_.architectures),
        "Tags": artifacts.tags, "Size": len(zip_bytes)}))
    entries.append(Resource(ResourceId(TAGS_KIND, name, scope), artifacts.tags))
    rules: dict[str, list[Rule]] = {}
    for io in own_s3(spec.lambda_.input):
        rules.setdefault(io.bucket, []).extend(rules_for(io))
    for bucket, bucket_rules in rules.items():
        entries.append(Resource(ResourceId(PERMISSION, bucket, scope, name), s3_permission(provider, bucket)))
        entries.append(Resource(ResourceId(NOTIFICATION, bucket, scope, name),
                                {"Rules": bucket_rules, "FunctionArn": Ref(fid, "FunctionArn")}))
    for bucket in _wired(provider, name, tags) - set(rules):  # inputs it no longer has
        entries += [Stale(ResourceId(NOTIFICATION, bucket, scope, name)),
                    Stale(ResourceId(PERMISSION, bucket, scope, name))]
    entries += api_entries(provider, spec, artifacts.tags, tags)
    entries.append(Resource(ResourceId(CODE_KIND, name, scope), {
        "Code": code, **code_state, "Architectures": list(spec.lambda_.architectures)}))
    return entries


def api_entries(provider: AwsProvider, spec: FunctionSpec, function_tags: dict[str, str],
                remote_tags: dict[str, str]) -> list[Entry]:
    """The function's REST API, its routes, the permission to invoke the function and the stage, in that
    order (the stage last: the API is live only once it can invoke the function); or, when the function
    had an API (its `scar:api` tag says) and no longer wants one, the removal of the API and permission."""
    name, scope, api = spec.name, provider.scope, spec.api_gateway
    if not api.name:
        old = remote_tags.get(TAG_API)
        if not old:
            return []
        return [Stale(ResourceId(API_PERMISSION, old, scope, name)), Stale(ResourceId(REST_API, old, scope, name))]
    fid = function_id(provider, name)
    rid = ResourceId(REST_API, api.name, scope, name)
    routes = routes_entry(rid, Ref(fid, "FunctionArn"), api.auth)
    return [
        Resource(rid, {"Name": api.name, "Description": DESCRIPTION, "EndpointTypes": ["REGIONAL"],
                       "BinaryMediaTypes": list(BINARY_MEDIA_TYPES), "Tags": api_tags(function_tags, name)}),
        Resource(ResourceId(API_ROUTES, api.name, scope, name), routes),
        Resource(ResourceId(API_PERMISSION, api.name, scope, name), api_permission(rid)),
        Resource(ResourceId(API_STAGE, api.name, scope, name),
                 stage_entry(rid, api.stage_name, {"AuthorizationType": routes["AuthorizationType"],
                                                   "Routes": ROUTES})),
    ]


def _wired(provider: AwsProvider, name: str, tags: dict[str, str]) -> set[str]:
    """The buckets the deployed function is wired to: its policy says, and older scar versions' tag."""
    if provider.function(name) is None:
        return set()
    return set(wired_buckets(provider.policy_statements(name))) | set(tags.get(TAG_INPUTS, "").split())


def removal_steps(provider: AwsProvider, kinds: Kinds, name: str, spec: FunctionSpec | None,
                  has_secrets: bool) -> list[Step]:
    """The steps that remove a function and what scar made for it (an UNCHANGED step: already absent). Its
    triggers go first, so that S3 never points at a function that is gone; the function before its log
    group, so that no invocation in flight recreates the group."""
    scope = provider.scope
    fid = function_id(provider, name)
    current = kinds[FUNCTION].read(fid)  # refuses a function scar did not create
    tags = current["Tags"] if current else {}
    buckets = _wired(provider, name, tags)
    if spec is not None:
        buckets |= {io.bucket for io in own_s3(spec.lambda_.input)}
    steps: list[Step] = []

    def remove(rid: ResourceId) -> list[Step]:
        kind = kinds[rid.kind]
        return kind.removal(rid, kind.read(rid))

    for bucket in sorted(buckets):
        for step in remove(ResourceId(NOTIFICATION, bucket, scope, name)):
            step.part = WITH_FUNCTION
            steps.append(step)
    api = tags.get(TAG_API) or (spec.api_gateway.name if spec else None)
    if api:  # the API first: no new request reaches a function on its way out
        steps += remove(ResourceId(REST_API, api, scope, name))
        steps += remove(ResourceId(API_PERMISSION, api, scope, name))
    steps += kinds[FUNCTION].removal(fid, current)
    steps += image_removal(provider, kinds, name, current.get("ImageUri") if current else None,
                           spec.ecr.delete_image if spec else True)
    deployment = {tags[TAG_DEPLOYMENT].split("/", 1)[0]} if tags.get(TAG_DEPLOYMENT) else set()
    if spec and spec.lambda_.deployment.bucket:
        deployment.add(spec.lambda_.deployment.bucket)
    if tags.get(TAG_EXECUTION_MODE) or (spec and spec.lambda_.execution_mode != "lambda"):
        steps += batch_removal_steps(provider, kinds, name, spec, deployment, tags.get(TAG_LAUNCH_TEMPLATE))
    elif current is None and spec is None:  # no tags left to ask: look for what a Batch function had, by name
        try:
            steps += [step for step in batch_removal_steps(provider, kinds, name, None, deployment, None)
                      if step.action is Action.DELETE]
        except ScarError:
            pass  # resources of that name that scar did not create: not this function's
    steps += remove(ResourceId(LOG_GROUP, log_group_name(name), scope, name))
    if tags.get(TAG_CREDENTIALS) or has_secrets:
        steps += [kinds[PARAMETER].removal(ResourceId(PARAMETER, parameter, scope, name), {"Description": ""})[0]
                  for parameter in stored_parameters(provider, name)]
    for bucket in sorted(deployment):
        steps += [kinds[PACKAGE].removal(ResourceId(PACKAGE, f"{bucket}/{key}", scope, name), {})[0]
                  for key in stored_packages(provider, bucket, name)]
    return steps
