"""The AWS Batch part of a function in `execution_mode: batch | lambda-batch`, as resources for the deploy
engine: the supervisor artifact in the deployment bucket, the launch template that installs it, the compute
environment, the job queue and the job definition, in that order; `rm` removes them queue first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scar.aws.batch_spec import (
    ARTIFACT_PREFIX,
    artifact_key,
    check_definition_size,
    compute_environment,
    job_definition,
    job_queue,
    launch_template_name,
    tag_set,
    user_data,
)
from scar.aws.kinds.compute_environment import KIND as COMPUTE_ENVIRONMENT
from scar.aws.kinds.job_definition import KIND as JOB_DEFINITION
from scar.aws.kinds.job_queue import KIND as JOB_QUEUE
from scar.aws.kinds.launch_template import KIND as LAUNCH_TEMPLATE
from scar.aws.kinds.package_object import KIND as PACKAGE
from scar.aws.provider import AwsProvider
from scar.aws.tags import TAG_DEFINITION
from scar.config.regions import partition_of
from scar.config.specs import FunctionSpec
from scar.deploy.kind import Kinds, Resource, Stale
from scar.deploy.model import Ref, ResourceId, Step
from scar.package.batch_runtime import BatchRuntime


@dataclass(frozen=True)
class BatchArtifacts:
    supervisor_archive: bytes  # what the instances install (batch_runtime.py; checked against `sha256`)
    sha256: str
    definition: dict[str, Any]  # RegisterJobDefinition's parameters (size already checked)


def _wanted(params: dict[str, Any], tags: dict[str, str], function: str) -> dict[str, Any]:
    tagged = tag_set(tags, function, params)
    return {"Params": params, "Tags": tagged, "Digest": tagged[TAG_DEFINITION]}


def batch_entries(provider: AwsProvider, spec: FunctionSpec, batch: BatchArtifacts,
                  tags: dict[str, str]) -> list[Resource]:
    name, scope = spec.name, provider.scope
    bucket = spec.lambda_.deployment.bucket
    assert bucket  # the configuration's checks require it in Batch modes
    key = artifact_key(name, batch.sha256)
    template = {"LaunchTemplateData": {"UserData": user_data(bucket, key, batch.sha256, provider.region)}}
    template_id = ResourceId(LAUNCH_TEMPLATE, launch_template_name(spec), scope, name)
    # the template's default version, once planned or applied (left out of the digest: a Ref digests as one string)
    version = Ref(template_id, "Version")
    return [
        Resource(ResourceId(PACKAGE, f"{bucket}/{key}", scope, name), {"Body": batch.supervisor_archive}),
        Resource(template_id, _wanted(template, tags, name)),
        Resource(ResourceId(COMPUTE_ENVIRONMENT, name, scope, name),
                 {**_wanted(compute_environment(spec, provider.account, version), tags, name),
                  "TemplateVersion": version}),
        Resource(ResourceId(JOB_QUEUE, name, scope, name), _wanted(job_queue(spec), tags, name)),
        Resource(ResourceId(JOB_DEFINITION, name, scope, name), _wanted(batch.definition, tags, name)),
    ]


def batch_stale_entries(provider: AwsProvider, name: str, template: str | None, bucket: str | None) -> list[Stale]:
    """What a function that no longer uses AWS Batch still has there, swept once the rest succeeded."""
    scope = provider.scope
    entries = [Stale(ResourceId(kind, resource, scope, name)) for kind, resource in (
        (JOB_QUEUE, name), (COMPUTE_ENVIRONMENT, name), (JOB_DEFINITION, name),
        (LAUNCH_TEMPLATE, template or f"faas-supervisor-{name}"))]
    if bucket:
        entries += [Stale(ResourceId(PACKAGE, f"{bucket}/{key}", scope, name))
                    for key in stored_artifacts(provider, bucket, name)]
    return entries


def stored_artifacts(provider: AwsProvider, bucket: str, function: str) -> list[str]:
    s3 = provider.s3
    if not s3.bucket_exists(bucket):
        return []
    paginator = s3.client.get_paginator("list_objects_v2")
    return [item["Key"] for page in paginator.paginate(Bucket=bucket, Prefix=ARTIFACT_PREFIX.format(function=function))
            for item in page.get("Contents", ())]


def batch_removal_steps(provider: AwsProvider, kinds: Kinds, name: str, spec: FunctionSpec | None,
                        deployment_buckets: set[str], template: str | None) -> list[Step]:
    """Queue, then compute environment (each disabled, then deleted), every revision of the definition, the
    launch template (the function's tag names it) and the supervisor artifacts; what is already gone gives
    an UNCHANGED step."""
    scope = provider.scope
    template = template or (launch_template_name(spec) if spec else f"faas-supervisor-{name}")
    steps: list[Step] = []
    for kind, resource in ((JOB_QUEUE, name), (COMPUTE_ENVIRONMENT, name), (JOB_DEFINITION, name),
                           (LAUNCH_TEMPLATE, template)):
        rid = ResourceId(kind, resource, scope, name)
        steps += kinds[kind].removal(rid, kinds[kind].read(rid))
    for bucket in sorted(deployment_buckets):
        steps += [kinds[PACKAGE].removal(ResourceId(PACKAGE, f"{bucket}/{key}", scope, name), {})[0]
                  for key in stored_artifacts(provider, bucket, name)]
    return steps


def batch_artifacts(spec: FunctionSpec, config: dict[str, Any], runtime: BatchRuntime,
                    account: str) -> BatchArtifacts:
    """The supervisor artifact and the job definition (its job role in the account and the region's
    partition), its size checked (BadInputError, before any call)."""
    script = spec.lambda_.init_script.read_bytes() if spec.lambda_.init_script else None
    definition = job_definition(spec, config, script, account, partition_of(spec.region))
    check_definition_size(spec.name, definition)
    return BatchArtifacts(runtime.archive, runtime.sha256, definition)
