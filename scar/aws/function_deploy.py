"""Plans for one scar function on Lambda: its supervisor layer, log group, deployment package, code,
configuration and tags, compared with what exists so that an unchanged function needs no mutating call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scar.aws.deploy import CREATE, UNCHANGED, UPDATE, Journal, Plan, Step
from scar.aws.lambda_ import Lambda
from scar.aws.logs import Logs
from scar.aws.s3 import S3
from scar.aws.s3_triggers import TriggerPlanner
from scar.aws.secrets import SecretsPlanner
from scar.aws.tags import TAG_CREATED_BY, TAG_CREDENTIALS, TAG_INPUTS
from scar.config.defaults import LAMBDA_PYTHON_RUNTIMES
from scar.config.specs import FunctionSpec, StorageIOSpec
from scar.errors import ScarError
from scar.package.function_zip import FunctionPackage
from scar.package.layer import LayerPackage

DEPLOYMENT_KEY = "scar/{name}/function.zip"
CODE_HASH_METADATA = "scar-code-sha256"


def own_s3(ios: list[StorageIOSpec]) -> list[StorageIOSpec]:
    """Inputs or outputs in the function's own account (`s3`), the ones scar wires and creates."""
    return [io for io in ios if io.storage_provider == "s3"]


def log_group_name(function: str) -> str:
    return f"/aws/lambda/{function}"


@dataclass
class LayerState:
    """The supervisor layer version functions will use; `arn` is None until a new version is published."""

    name: str
    arn: str | None


def plan_layer(lam: Lambda, name: str, package: LayerPackage, license_info: str) -> tuple[Step, LayerState]:
    """Reuse the version whose description names this content, or publish a new one."""
    for version in lam.layer_versions(name):
        if version.get("Description") == package.description:
            state = LayerState(name, version["LayerVersionArn"])
            return Step(f"layer {name}", UNCHANGED, f"version {version['Version']}"), state
    state = LayerState(name, None)

    def publish(journal: Journal) -> None:
        answer = lam.publish_layer(name, package.description, package.zip_bytes, list(LAMBDA_PYTHON_RUNTIMES),
                                   "Apache-2.0", ["x86_64", "arm64"])
        state.arn = answer["LayerVersionArn"]
        journal.record(f"layer {answer['LayerVersionArn']}",
                       lambda: lam.delete_layer_version(name, answer["Version"]))

    return Step(f"layer {name}", CREATE, package.description, publish), state


@dataclass(frozen=True)
class FunctionArtifacts:
    package: FunctionPackage
    needs_bucket: bool
    tags: dict[str, str]
    secrets: dict[str, dict[str, str]]  # storage credentials by provider reference, kept in SSM


def desired_configuration(spec: FunctionSpec, layer_arn: str | None) -> dict[str, Any]:
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
        "Layers": [layer_arn or "(new supervisor layer version)", *lam.layers],
        "VpcConfig": {"SubnetIds": list(vpc.subnet_ids) if vpc else [],
                      "SecurityGroupIds": list(vpc.security_group_ids) if vpc else []},
        "FileSystemConfigs": [{"Arn": fs.arn, "LocalMountPath": fs.local_mount_path} for fs in lam.file_system],
    }


def current_configuration(configuration: dict[str, Any]) -> dict[str, Any]:
    """GetFunction's configuration in the shape of `desired_configuration`."""
    vpc = configuration.get("VpcConfig") or {}
    return {
        "Role": configuration.get("Role"),
        "Handler": configuration.get("Handler"),
        "Runtime": configuration.get("Runtime"),
        "Description": configuration.get("Description", ""),
        "Timeout": configuration.get("Timeout"),
        "MemorySize": configuration.get("MemorySize"),
        "EphemeralStorage": {"Size": (configuration.get("EphemeralStorage") or {}).get("Size", 512)},
        "Environment": {"Variables": dict((configuration.get("Environment") or {}).get("Variables") or {})},
        "Layers": [layer["Arn"] for layer in configuration.get("Layers") or ()],
        "VpcConfig": {"SubnetIds": list(vpc.get("SubnetIds") or []),
                      "SecurityGroupIds": list(vpc.get("SecurityGroupIds") or [])},
        "FileSystemConfigs": [{"Arn": fs["Arn"], "LocalMountPath": fs["LocalMountPath"]}
                              for fs in configuration.get("FileSystemConfigs") or ()],
    }


class FunctionPlanner:
    """Builds the plan of one function from its spec, artifacts and what exists in its account."""

    def __init__(self, lam: Lambda, logs: Logs, s3: Callable[[], S3], ssm: Callable[[], Any], region: str,
                 account: str) -> None:
        self.lam = lam
        self.logs = logs
        self.s3 = s3  # built only when a bucket is involved
        self.ssm = ssm  # built only when there are credentials to keep
        self.region = region
        self.account = account

    def plan(self, spec: FunctionSpec, artifacts: FunctionArtifacts, layer: LayerState) -> Plan:
        name = spec.name
        remote = self.lam.get_function(name)
        if remote is not None and (remote.get("Tags") or {}).get(TAG_CREATED_BY) != "scar":
            raise ScarError(f"{name}: a Lambda function with this name exists and was not created by scar; "
                            "choose another name (scar never changes functions it did not create)")
        plan = Plan(name)
        inputs = own_s3(spec.lambda_.input)
        old_inputs = set((remote or {}).get("Tags", {}).get(TAG_INPUTS, "").split())
        stale_inputs = sorted(old_inputs - {io.bucket for io in inputs})
        triggers = TriggerPlanner(self.s3(), self.lam.client, self.region, self.account) \
            if inputs or stale_inputs else None
        if artifacts.secrets or (remote or {}).get("Tags", {}).get(TAG_CREDENTIALS):
            plan.steps.extend(SecretsPlanner(self.ssm()).steps(name, artifacts.secrets))
        plan.steps.append(self._log_group_step(spec))
        code = self._code_source(spec, artifacts, plan)
        if remote is None:
            plan.steps.append(self._create_step(spec, artifacts, layer, code))
        else:
            plan.steps.extend(self._update_steps(spec, artifacts, layer, code, remote))
        if triggers is not None:
            plan.steps.extend(triggers.trigger_steps(name, inputs, function_exists=remote is not None))
            plan.steps.extend(triggers.unwire_steps(name, stale_inputs))
        return plan

    # -- log group -------------------------------------------------------------------------------

    def _log_group_step(self, spec: FunctionSpec) -> Step:
        group = log_group_name(spec.name)
        days = spec.cloudwatch.log_retention_policy_in_days
        existing = self.logs.get_group(group)
        if existing is None:
            def create(journal: Journal) -> None:
                self.logs.create_group(group, {TAG_CREATED_BY: "scar"})
                journal.record(f"log group {group}", lambda: self.logs.delete_group(group))
                self.logs.set_retention(group, days)

            return Step(f"log group {group}", CREATE, f"retention {days} days", create)
        if existing.get("retentionInDays") != days:
            return Step(f"log group {group}", UPDATE,
                        f"retention {existing.get('retentionInDays', 'never expire')} → {days} days",
                        lambda journal: self.logs.set_retention(group, days))
        return Step(f"log group {group}", UNCHANGED, f"retention {days} days")

    # -- code ------------------------------------------------------------------------------------

    def _code_source(self, spec: FunctionSpec, artifacts: FunctionArtifacts, plan: Plan) -> dict[str, Any]:
        """Where Lambda takes the code from; adds the upload step when it goes through the bucket."""
        if not artifacts.needs_bucket:
            return {"ZipFile": artifacts.package.zip_bytes}
        bucket = spec.lambda_.deployment.bucket
        key = DEPLOYMENT_KEY.format(name=spec.name)
        s3 = self.s3()
        metadata = s3.object_metadata(bucket, key)
        stored = (metadata or {}).get(CODE_HASH_METADATA)
        resource = f"deployment package s3://{bucket}/{key}"
        if stored == artifacts.package.code_sha256:
            plan.steps.append(Step(resource, UNCHANGED, _mib(len(artifacts.package.zip_bytes))))
        else:
            def upload(journal: Journal) -> None:
                s3.ensure_bucket(bucket, self.region)
                s3.client.put_object(Bucket=bucket, Key=key, Body=artifacts.package.zip_bytes,
                                     Metadata={CODE_HASH_METADATA: artifacts.package.code_sha256})
                if metadata is None:
                    journal.record(resource, lambda: s3.client.delete_object(Bucket=bucket, Key=key))

            plan.steps.append(Step(resource, CREATE if metadata is None else UPDATE,
                                   _mib(len(artifacts.package.zip_bytes)), upload))
        return {"S3Bucket": bucket, "S3Key": key}

    # -- the function ----------------------------------------------------------------------------

    def _create_step(self, spec: FunctionSpec, artifacts: FunctionArtifacts, layer: LayerState,
                     code: dict[str, Any]) -> Step:
        lam = spec.lambda_

        def create(journal: Journal) -> None:
            desired = desired_configuration(spec, layer.arn)
            kwargs: dict[str, Any] = {
                key: value for key, value in desired.items() if key not in ("VpcConfig", "FileSystemConfigs")}
            if lam.vpc:
                kwargs["VpcConfig"] = desired["VpcConfig"]
            if lam.file_system:
                kwargs["FileSystemConfigs"] = desired["FileSystemConfigs"]
            self.lam.create_function(FunctionName=spec.name, PackageType="Zip", Code=code,
                                     Architectures=list(lam.architectures), Tags=artifacts.tags, **kwargs)
            journal.record(f"function {spec.name}", lambda: self.lam.delete_function(spec.name))
            self.lam.wait_active(spec.name)

        detail = f"{lam.runtime}, {lam.memory} MB, {lam.timeout} s, {_mib(len(artifacts.package.zip_bytes))}"
        return Step(f"function {spec.name}", CREATE, detail, create)

    def _update_steps(self, spec: FunctionSpec, artifacts: FunctionArtifacts, layer: LayerState,
                      code: dict[str, Any], remote: dict[str, Any]) -> list[Step]:
        name = spec.name
        configuration = remote["Configuration"]
        steps: list[Step] = []
        architectures = list(spec.lambda_.architectures)
        code_changed = configuration.get("CodeSha256") != artifacts.package.code_sha256
        arch_changed = (configuration.get("Architectures") or ["x86_64"]) != architectures
        if code_changed or arch_changed:
            def update_code(journal: Journal) -> None:
                self.lam.update_code(name, Architectures=architectures, **code)
                self.lam.wait_updated(name)

            why = "new package" if code_changed else f"architecture {architectures[0]}"
            steps.append(Step(f"code of {name}", UPDATE, why, update_code))
        current = current_configuration(configuration)
        desired = desired_configuration(spec, layer.arn)
        changed = [key for key in desired if desired[key] != current[key]]
        if changed:
            def update_configuration(journal: Journal) -> None:
                wanted = desired_configuration(spec, layer.arn)
                self.lam.update_configuration(name, **{key: wanted[key] for key in changed})
                journal.record(f"configuration of {name}", lambda: self._restore(name, current, changed))
                self.lam.wait_updated(name)

            steps.append(Step(f"configuration of {name}", UPDATE, _changes(current, desired, changed),
                              update_configuration))
        tags = remote.get("Tags") or {}
        stale = [key for key in tags if key.startswith("scar:") and key not in artifacts.tags]
        new_tags = {key: value for key, value in artifacts.tags.items() if tags.get(key) != value}
        if new_tags or stale:
            arn = configuration["FunctionArn"]

            def retag(journal: Journal) -> None:
                if new_tags:
                    self.lam.tag(arn, new_tags)
                if stale:
                    self.lam.untag(arn, stale)

            steps.append(Step(f"tags of {name}", UPDATE, ", ".join(sorted([*new_tags, *stale])), retag))
        if not steps:
            steps.append(Step(f"function {name}", UNCHANGED, "up to date"))
        return steps

    def _restore(self, name: str, previous: dict[str, Any], keys: list[str]) -> None:
        self.lam.update_configuration(name, **{key: previous[key] for key in keys})
        self.lam.wait_updated(name)


def _changes(current: dict[str, Any], desired: dict[str, Any], keys: list[str]) -> str:
    shown = []
    for key in keys:
        if key in ("MemorySize", "Timeout", "Runtime", "Handler", "Role"):
            shown.append(f"{key} {current[key]} → {desired[key]}")
        else:
            shown.append(key)
    return ", ".join(shown)


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"
