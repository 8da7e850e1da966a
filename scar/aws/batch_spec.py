"""What a function in `execution_mode: batch | lambda-batch` wants of AWS Batch and EC2, as plain data: the
launch template whose user data installs the supervisor artifact (batch_runtime.py, checked against its SHA-256),
the managed compute environment, the job queue and the job definition. No AWS call here."""

from __future__ import annotations

import base64
import hashlib
import json
import shlex
from typing import Any

from scar.aws.tags import TAG_DEFINITION, TAG_FUNCTION
from scar.config.specs import FunctionSpec
from scar.errors import BadInputError
from scar.package.batch_runtime import JOB_COMMAND, ROOT

#: AWS Batch refuses a job definition larger than this (RegisterJobDefinition's request)
JOB_DEFINITION_LIMIT = 24 * 1024
VOLUME = "scar-supervisor"
ARTIFACT_PREFIX = "scar-batch/{function}/"
#: where the user data downloads the artifact before checking and unpacking it in ROOT
ARCHIVE = "/opt/scar-supervisor.tar.gz"
_BOUNDARY = "==SCAR-BOUNDARY=="


def artifact_key(function: str, sha256: str) -> str:
    """Where the supervisor artifact of `function` is in the deployment bucket (named by its content)."""
    return f"{ARTIFACT_PREFIX.format(function=function)}supervisor-{sha256[:16]}.tar.gz"


def launch_template_name(spec: FunctionSpec) -> str:
    return f"{spec.batch.compute_resources.launch_template_name}-{spec.name}"


def digest(value: Any) -> str:
    """A short digest of what scar asks for, kept in a tag: planning compares it, not every field Batch echoes."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:32]


def user_data(bucket: str, key: str, sha256: str, region: str) -> str:
    """The instances' user data (base64 MIME multipart): fetch the artifact from the deployment bucket with
    the instance role, refuse it unless its SHA-256 is the pinned one, and unpack it where the jobs' volume
    is. Nothing here needs Python on the instance; modes end up a+rX, never setuid or writable by others."""
    script = "\n".join([
        "#!/bin/bash",
        "set -euo pipefail",
        f"archive={ARCHIVE}",
        f"target={ROOT}",
        "command -v aws >/dev/null || dnf install -y awscli || yum install -y awscli",
        f"aws s3 cp {shlex.quote(f's3://{bucket}/{key}')} \"$archive\" --region {shlex.quote(region)}",
        f'echo "{sha256}  $archive" | sha256sum --check --strict -',
        'mkdir -p "$target"',
        'tar -xzf "$archive" -C "$target" --no-same-owner --no-same-permissions',
        'chmod -R u-s,g-s,go-w,a+rX "$target"',
        'rm -f "$archive"',
    ])
    document = (f'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="{_BOUNDARY}"\n\n'
                f'--{_BOUNDARY}\nContent-Type: text/x-shellscript; charset="us-ascii"\n\n{script}\n\n'
                f"--{_BOUNDARY}--\n")
    return base64.b64encode(document.encode()).decode("ascii")


def compute_environment(spec: FunctionSpec, account: str, template_version: Any) -> dict[str, Any]:
    """CreateComputeEnvironment's parameters, but for the name and the tags. The launch template's version is
    named (not $Default): a new version then changes the environment, and updating it makes Batch use that
    version. EC2 instances are chosen BEST_FIT_PROGRESSIVE, SPOT ones as `allocation_strategy` says: with
    Batch's default, BEST_FIT, an environment can change nothing but its vCPUs in place."""
    compute = spec.batch.compute_resources
    resources: dict[str, Any] = {
        "type": compute.type, "minvCpus": compute.min_v_cpus, "maxvCpus": compute.max_v_cpus,
        "desiredvCpus": compute.desired_v_cpus, "instanceTypes": list(compute.instance_types),
        "subnets": list(compute.subnets), "securityGroupIds": list(compute.security_group_ids),
        "instanceRole": compute.instance_role.format(account_id=account),
        "launchTemplate": {"launchTemplateName": launch_template_name(spec), "version": template_version},
        "allocationStrategy": "BEST_FIT_PROGRESSIVE",
    }
    if compute.type == "SPOT":
        resources["bidPercentage"] = compute.bid_percentage
        resources["allocationStrategy"] = compute.allocation_strategy
    return {"type": spec.batch.type, "state": spec.batch.state,
            "serviceRole": spec.batch.service_role.format(account_id=account), "computeResources": resources}


def job_queue(spec: FunctionSpec) -> dict[str, Any]:
    return {"state": "ENABLED", "priority": 1,
            "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": spec.name}]}


def _vcpus(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def job_role_arn(role: str, account: str, partition: str) -> str:
    """`batch.job_role` as an ARN: a name is the account's role (in the region's partition); an ARN gets
    `{account_id}` filled in."""
    if role.startswith("arn:"):
        return role.replace("{account_id}", account)
    return f"arn:{partition}:iam::{account}:role/{role}"


def job_definition(spec: FunctionSpec, config: dict[str, Any], init_script: bytes | None, account: str,
                   partition: str) -> dict[str, Any]:
    """RegisterJobDefinition's parameters, but for the name and the tags. The command is the supervisor
    runtime's own Python, from the instance's ROOT mounted read-only at the same path: nothing of the image
    is used but its shell for the script. The function's configuration travels as base64 JSON: it names the
    SSM parameters of the storage credentials, never their values."""
    batch = spec.batch
    requirements = [{"type": "VCPU", "value": _vcpus(batch.vcpus)}, {"type": "MEMORY", "value": str(batch.memory)}]
    if batch.enable_gpu:
        requirements.append({"type": "GPU", "value": "1"})
    variables = {**batch.environment.variables, "SCAR_RUNNER": "direct", "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                 "FUNCTION_CONFIG": base64.b64encode(json.dumps(config, sort_keys=True).encode()).decode("ascii")}
    if init_script:
        variables["SCRIPT"] = base64.b64encode(init_script).decode("ascii")
    container: dict[str, Any] = {
        "image": spec.lambda_.container.image, "command": list(JOB_COMMAND), "resourceRequirements": requirements,
        "environment": [{"name": name, "value": value} for name, value in sorted(variables.items())],
        "volumes": [{"name": VOLUME, "host": {"sourcePath": ROOT}}],
        "mountPoints": [{"sourceVolume": VOLUME, "containerPath": ROOT, "readOnly": True}],
    }
    if batch.job_role:
        container["jobRoleArn"] = job_role_arn(batch.job_role, account, partition)
    nodes = batch.multi_node_parallel
    if nodes.enabled:
        return {"type": "multinode", "nodeProperties": {
            "numNodes": nodes.number_nodes, "mainNode": nodes.main_node_index,
            "nodeRangeProperties": [{"targetNodes": "0:", "container": container}]}}
    return {"type": "container", "containerProperties": container, "platformCapabilities": ["EC2"]}


def check_definition_size(name: str, definition: dict[str, Any]) -> None:
    """Refuse, before any resource exists, a definition AWS Batch would refuse for its size."""
    size = len(json.dumps({"jobDefinitionName": name, **definition}).encode())
    if size > JOB_DEFINITION_LIMIT:
        raise BadInputError(f"{name}: the AWS Batch job definition takes {size} bytes; AWS Batch allows "
                            f"{JOB_DEFINITION_LIMIT} bytes (24 KB) per job definition: make the init script, "
                            "the environment variables or the configuration smaller")


def tag_set(tags: dict[str, str], function: str, wanted: Any) -> dict[str, str]:
    """The tags of a Batch resource: the function's own, whose function it is, and the digest of its settings."""
    return {**tags, TAG_FUNCTION: function, TAG_DEFINITION: digest(wanted)}
