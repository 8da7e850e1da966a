"""The typed specs every command works with once configuration is loaded and validated.

Field rules follow current AWS limits. Keys are the FDL's (and the original SCAR's), so old files load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scar.config.defaults import (
    BATCH_INSTANCE_ROLE,
    BATCH_SERVICE_ROLE,
    DEFAULT_DESCRIPTION,
    DEFAULT_RUNTIME,
    LAMBDA_PYTHON_RUNTIMES,
    SUPERVISOR_LICENSE,
    UDOCKER_ENGINE_URL,
    UDOCKER_EXECMODE,
    UDOCKER_EXECMODES,
)
from scar.config.regions import known_regions
from scar.config.schema import (
    at_least,
    each,
    int_range,
    matches,
    max_items,
    max_length,
    one_of,
    spec_field,
)
from scar.package.instance_types import instance_architecture, mismatched
from scar.package.machine import build_architecture

Report = Callable[..., None]

FUNCTION_NAME = r"[A-Za-z0-9_-]{1,64}"
ROLE_ARN = r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}"
#: a role name, or its ARN whose account may be {account_id} (filled in from STS)
ROLE_NAME_OR_ARN = r"[\w+=,.@-]{1,64}|arn:aws[a-z-]*:iam::(\d{12}|\{account_id\}):role/[\w+=,.@/-]{1,512}"
LAYER_ARN = r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]{1,140}:\d+"
BUCKET_NAME = r"(?=.{3,63}$)[a-z0-9][a-z0-9.-]*[a-z0-9]"
IMAGE_REFERENCE = r"[^\s]{1,4096}"
STORAGE_REFERENCE = r"(s3|minio)(\.[A-Za-z0-9_-]+)?|onedata\.[A-Za-z0-9_-]+"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)
LAMBDA_ENVIRONMENT_LIMIT = 4096
MAX_USER_LAYERS = 4  # Lambda allows 5 layers and scar adds the supervisor's


def _upper(value: str) -> str:
    return value.upper()


def _strip_slashes(value: str) -> str:
    return value.strip("/")


def _known_region(value: str) -> str | None:
    return None if value in known_regions() else "must be an AWS region (for example us-east-1, eu-west-1)"


def _storage_path(value: str) -> str | None:
    bucket = value.split("/", 1)[0]
    return None if matches(BUCKET_NAME, "")(bucket) is None else (
        "must be BUCKET[/FOLDER] with a valid bucket name (3-63 lowercase letters, digits, dots or hyphens)"
    )


def _url_or_empty(value: str) -> str | None:
    return matches(r"https?://\S+", "an http(s) URL")(value) if value else None


def _inside(path: str, folder: str) -> bool:
    """Whether `bucket/a/b` lies in the folder `bucket/a` (folder semantics: `bucket/ab` does not)."""
    return path == folder or path.startswith(folder + "/")


def _env_size(variables: dict[str, str]) -> int:
    return sum(len(k.encode()) + len(v.encode()) for k, v in variables.items())


# ---- shared pieces ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnvironmentSpec:
    variables: dict[str, str] = spec_field(key="Variables", factory=dict)


@dataclass(frozen=True)
class StorageIOSpec:
    """One input or output: a storage provider reference and a `bucket[/folder]` path."""

    storage_provider: str = spec_field(
        required=True, checks=(matches(STORAGE_REFERENCE, "s3, s3.ID, minio, minio.ID or onedata.ID"),)
    )
    path: str = spec_field(required=True, normalize=_strip_slashes, checks=(_storage_path,))
    suffix: list[str] = spec_field(factory=list)
    prefix: list[str] = spec_field(factory=list)

    @property
    def bucket(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def folder(self) -> str:
        return self.path.split("/", 1)[1] if "/" in self.path else ""


# ---- AWS Lambda -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContainerSpec:
    image: str | None = spec_field(checks=(matches(IMAGE_REFERENCE, "a container image reference (no spaces)"),))
    image_file: Path | None = spec_field(path="file")
    environment: EnvironmentSpec = spec_field(factory=EnvironmentSpec)
    timeout_threshold: int = spec_field(10, checks=(int_range(0, 899, "seconds"),))
    alpine: bool = spec_field(False)
    create_image: bool = spec_field(True)


@dataclass(frozen=True)
class DeploymentSpec:
    bucket: str | None = spec_field(checks=(matches(BUCKET_NAME, "a valid S3 bucket name"),))
    max_payload_size: int = spec_field(52428800, checks=(at_least(1, "bytes"),))
    max_s3_payload_size: int = spec_field(262144000, checks=(at_least(1, "bytes"),))


@dataclass(frozen=True)
class UdockerEngineSpec:
    """Where the udocker engine tarball shipped in the supervisor layer comes from: a local file, or a URL."""

    url: str = spec_field(UDOCKER_ENGINE_URL, checks=(matches(r"https?://\S+", "an http(s) URL"),))
    sha256: str | None = spec_field(normalize=str.lower, checks=(
        matches(r"[0-9a-f]{64}", "a SHA-256 digest (64 hexadecimal digits)"),))
    file: Path | None = spec_field(path="file")


@dataclass(frozen=True)
class SupervisorSpec:
    version: str = spec_field(
        "builtin", checks=(matches(r"builtin|latest|[0-9A-Za-z][0-9A-Za-z._-]*", "builtin, latest or a tag"),)
    )
    layer_name: str = spec_field(
        "faas-supervisor", checks=(matches(r"[A-Za-z0-9_-]{1,140}", "a Lambda layer name"),)
    )
    license_info: str = spec_field(SUPERVISOR_LICENSE, checks=(max_length(512),))
    udocker_engine: UdockerEngineSpec = spec_field(factory=UdockerEngineSpec)
    #: how the supervisor runs the container: udocker (AWS Lambda), or a sandbox on the host running the
    #: function (bubblewrap: local emulators such as ministack, whose functions run on this machine)
    runner: str = spec_field("udocker", checks=(one_of("udocker", "sandbox"),))
    #: udocker's execution mode: F1 (Fakechroot, what Lambda allows) or P1 (PRoot, where Fakechroot cannot work)
    udocker_execmode: str = spec_field(UDOCKER_EXECMODE, normalize=str.upper, checks=(one_of(*UDOCKER_EXECMODES),))


@dataclass(frozen=True)
class VpcSpec:
    subnet_ids: list[str] = spec_field(key="SubnetIds", factory=list, checks=(max_items(16),))
    security_group_ids: list[str] = spec_field(key="SecurityGroupIds", factory=list, checks=(max_items(5),))


@dataclass(frozen=True)
class FileSystemSpec:
    arn: str = spec_field(key="Arn", required=True, checks=(
        matches(r"arn:aws[a-z-]*:elasticfilesystem:[a-z0-9-]+:\d{12}:access-point/fsap-[0-9a-f]+",
                "an EFS access point ARN"),))
    local_mount_path: str = spec_field(key="LocalMountPath", required=True, checks=(
        matches(r"/mnt/[A-Za-z0-9._/-]+", "a path under /mnt/"),))


@dataclass(frozen=True)
class LambdaSpec:
    name: str = spec_field(required=True, checks=(
        matches(FUNCTION_NAME, "1 to 64 letters, digits, hyphens or underscores"),))
    memory: int = spec_field(512, checks=(int_range(128, 10240, "MB"),))
    timeout: int = spec_field(300, checks=(int_range(1, 900, "seconds"),))
    ephemeral_storage: int = spec_field(512, checks=(int_range(512, 10240, "MB"),))
    description: str = spec_field(DEFAULT_DESCRIPTION, checks=(max_length(256),))
    runtime: str = spec_field(DEFAULT_RUNTIME, checks=(one_of(*LAMBDA_PYTHON_RUNTIMES, "image"),))
    architectures: list[str] = spec_field(factory=lambda: ["x86_64"], checks=(
        lambda v: None if len(v) == 1 else "must name exactly one architecture",
        each(one_of("x86_64", "arm64"))))
    execution_mode: str = spec_field("lambda", checks=(one_of("lambda", "lambda-batch", "batch"),))
    log_level: str = spec_field("INFO", normalize=_upper, checks=(one_of(*LOG_LEVELS),))
    layers: list[str] = spec_field(factory=list, checks=(
        max_items(MAX_USER_LAYERS), each(matches(LAYER_ARN, "a Lambda layer version ARN"))))
    invocation_type: str = spec_field("RequestResponse", checks=(one_of("RequestResponse", "Event", "DryRun"),))
    asynchronous: bool = spec_field(False)
    log_type: str = spec_field("Tail", checks=(one_of("Tail", "None"),))
    environment: EnvironmentSpec = spec_field(factory=EnvironmentSpec)
    init_script: Path | None = spec_field(path="file")
    run_script: Path | None = spec_field(path="file")
    c_args: list[str] = spec_field(factory=list)
    extra_payload: Path | None = spec_field(path="file_or_dir")
    preheat: bool = spec_field(False)
    container: ContainerSpec = spec_field(factory=ContainerSpec)
    input: list[StorageIOSpec] = spec_field(factory=list)
    output: list[StorageIOSpec] = spec_field(factory=list)
    deployment: DeploymentSpec = spec_field(factory=DeploymentSpec)
    supervisor: SupervisorSpec = spec_field(factory=SupervisorSpec)
    vpc: VpcSpec | None = spec_field()
    file_system: list[FileSystemSpec] = spec_field(factory=list, checks=(max_items(1),))

    def cross_check(self, report: Report) -> None:
        if not self.container.image and not self.container.image_file:
            report(("container", "image"), "is required (or give container.image_file)")
        if self.container.image and self.container.image_file:
            report(("container", "image_file"), "cannot be given together with container.image")
        if self.container.timeout_threshold >= self.timeout:
            report(("container", "timeout_threshold"),
                   f"must be lower than the function's timeout ({self.timeout} s)",
                   self.container.timeout_threshold)
        for o_index, out in enumerate(self.output):
            for i_index, inp in enumerate(self.input):
                if out.storage_provider == inp.storage_provider and _inside(out.path, inp.path):
                    report(("output", o_index, "path"),
                           f"is inside the input folder {inp.path!r} (input[{i_index}]): every result would "
                           "trigger the function again", out.path)
        size = _env_size(self.environment.variables)
        if size > LAMBDA_ENVIRONMENT_LIMIT:
            report(("environment", "Variables"),
                   f"take {size} bytes; Lambda allows {LAMBDA_ENVIRONMENT_LIMIT} bytes of environment in all")


# ---- other AWS services -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IamSpec:
    role: str | None = spec_field(checks=(
        matches(ROLE_ARN, "an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)"),))


@dataclass(frozen=True)
class ApiGatewaySpec:
    name: str | None = spec_field(checks=(max_length(1024),))
    stage_name: str = spec_field("scar", checks=(matches(r"[A-Za-z0-9_-]{1,128}", "letters, digits, - or _"),))
    auth: str = spec_field("none", checks=(one_of("none", "iam"),))  # iam: callers sign with SigV4


@dataclass(frozen=True)
class CloudWatchSpec:
    log_retention_policy_in_days: int = spec_field(30, checks=(one_of(*LOG_RETENTION_DAYS),))


SPOT_STRATEGIES = ("SPOT_CAPACITY_OPTIMIZED", "SPOT_PRICE_CAPACITY_OPTIMIZED", "BEST_FIT", "BEST_FIT_PROGRESSIVE")


@dataclass(frozen=True)
class ComputeResourcesSpec:
    security_group_ids: list[str] = spec_field(factory=list)
    type: str = spec_field("EC2", checks=(one_of("EC2", "SPOT", "FARGATE", "FARGATE_SPOT"),))
    desired_v_cpus: int = spec_field(0, checks=(at_least(0),))
    min_v_cpus: int = spec_field(0, checks=(at_least(0),))
    max_v_cpus: int = spec_field(2, checks=(at_least(1),))
    subnets: list[str] = spec_field(factory=list)
    instance_types: list[str] = spec_field(factory=lambda: ["optimal"])
    launch_template_name: str = spec_field("faas-supervisor", checks=(
        matches(r"[A-Za-z0-9().\-/_]{3,128}", "3 to 128 letters, digits or ().-/_"),))
    instance_role: str = spec_field(BATCH_INSTANCE_ROLE)
    bid_percentage: int = spec_field(100, checks=(int_range(1, 100, "percent"),))  # SPOT only
    allocation_strategy: str = spec_field("SPOT_CAPACITY_OPTIMIZED", checks=(one_of(*SPOT_STRATEGIES),))

    def cross_check(self, report: Report) -> None:
        if not self.min_v_cpus <= self.desired_v_cpus <= self.max_v_cpus:
            report(("desired_v_cpus",), f"must be between min_v_cpus ({self.min_v_cpus}) and "
                   f"max_v_cpus ({self.max_v_cpus})", self.desired_v_cpus)


@dataclass(frozen=True)
class MultiNodeSpec:
    enabled: bool = spec_field(False)
    number_nodes: int = spec_field(10, checks=(int_range(1, 1000, "nodes"),))
    main_node_index: int = spec_field(0, checks=(at_least(0),))

    def cross_check(self, report: Report) -> None:
        if self.main_node_index >= self.number_nodes:
            report(("main_node_index",), f"must be lower than number_nodes ({self.number_nodes})",
                   self.main_node_index)


@dataclass(frozen=True)
class BatchSpec:
    vcpus: float = spec_field(1, checks=(at_least(0.25, "vCPUs"),))
    memory: int = spec_field(1024, checks=(at_least(4, "MiB"),))
    enable_gpu: bool = spec_field(False)
    state: str = spec_field("ENABLED", checks=(one_of("ENABLED", "DISABLED"),))
    type: str = spec_field("MANAGED", checks=(one_of("MANAGED", "UNMANAGED"),))
    environment: EnvironmentSpec = spec_field(factory=EnvironmentSpec)
    compute_resources: ComputeResourcesSpec = spec_field(factory=ComputeResourcesSpec)
    service_role: str = spec_field(BATCH_SERVICE_ROLE)
    multi_node_parallel: MultiNodeSpec = spec_field(factory=MultiNodeSpec)
    job_role: str | None = spec_field(checks=(matches(ROLE_NAME_OR_ARN, "an IAM role name or ARN (my-role, or "
                                                      "arn:aws:iam::{account_id}:role/my-role)"),))


@dataclass(frozen=True)
class EcrSpec:
    delete_image: bool = spec_field(True)
    registry_url: str = spec_field("")  # push image functions here instead of the account's ECR (tests, mirrors)


@dataclass(frozen=True)
class FunctionSpec:
    """One AWS function of the FDL, merged with scar.cfg and the command line."""

    region: str = spec_field(required=True, checks=(_known_region,))
    boto_profile: str | None = spec_field()
    lambda_: LambdaSpec = spec_field(key="lambda", factory=LambdaSpec)
    iam: IamSpec = spec_field(factory=IamSpec)
    api_gateway: ApiGatewaySpec = spec_field(factory=ApiGatewaySpec)
    cloudwatch: CloudWatchSpec = spec_field(factory=CloudWatchSpec)
    batch: BatchSpec = spec_field(factory=BatchSpec)
    ecr: EcrSpec = spec_field(factory=EcrSpec)

    @property
    def name(self) -> str:
        return self.lambda_.name

    def cross_check(self, report: Report) -> None:
        """What AWS Batch needs, checked before any resource exists (exit 2)."""
        mode = self.lambda_.execution_mode
        if mode == "lambda":
            return
        batch, compute = self.batch, self.batch.compute_resources
        needed = f"is required with lambda.execution_mode {mode}"
        if not compute.subnets:
            report(("batch", "compute_resources", "subnets"), f"{needed} (at least one subnet id)")
        if not compute.security_group_ids:
            report(("batch", "compute_resources", "security_group_ids"), f"{needed} (at least one security group)")
        if compute.type not in ("EC2", "SPOT"):
            report(("batch", "compute_resources", "type"), "must be EC2 or SPOT (scar's instances install the "
                   "supervisor from a launch template)", compute.type)
        if not self.lambda_.deployment.bucket:
            report(("lambda", "deployment", "bucket"), f"{needed} (the supervisor artifact for the instances is "
                   "uploaded there)")
        if not self.lambda_.container.image:
            report(("lambda", "container", "image"), f"{needed} (AWS Batch runs the image itself)")
        wrong = mismatched(compute.instance_types, build_architecture())
        if wrong:
            report(("batch", "compute_resources", "instance_types"), f"must be linux/{build_architecture()} "
                   "instances: the jobs run the supervisor runtime this machine builds (its own architecture); "
                   f"{', '.join(wrong)} would launch {instance_architecture(wrong[0])} instances", wrong)
        if not float(batch.vcpus).is_integer():
            report(("batch", "vcpus"), "must be a whole number of vCPUs on EC2 and SPOT", batch.vcpus)
        elif batch.vcpus > compute.max_v_cpus:
            report(("batch", "vcpus"), f"must not be more than batch.compute_resources.max_v_cpus "
                   f"({compute.max_v_cpus}): the job could never start", batch.vcpus)


# ---- OSCAR --------------------------------------------------------------------------------------------

OSCAR_MEMORY = r"[1-9]\d*(Mi|Gi)"
K8S_CPU = r"\d+(\.\d+)?|\d+m"
#: the cluster's own MinIO: a service may use it without defining it in storage_providers
OSCAR_OWN_STORAGE = ("minio", "minio.default")


def _positive_cpu(value: str) -> str | None:
    amount = float(value[:-1]) / 1000 if value.endswith("m") else float(value)
    return None if amount > 0 else "must be more than 0"


@dataclass(frozen=True)
class OscarClusterSpec:
    """How to reach one OSCAR cluster: scar.cfg's `oscar.<cluster_id>`, possibly completed by the FDL.
    Either basic auth (`auth_user`/`auth_password`) or an OIDC bearer token (`oidc_token`)."""

    cluster_id: str
    endpoint: str
    auth_user: str = field(default="", repr=False)
    auth_password: str = field(default="", repr=False)
    oidc_token: str = field(default="", repr=False)
    ssl_verify: bool = True


def _check_cluster_auth(auth_user: str, auth_password: str, oidc_token: str, report: Report) -> None:
    if oidc_token and (auth_user or auth_password):
        report(("oidc_token",), "cannot be given together with auth_user/auth_password: choose one way to "
               "sign in")
    elif bool(auth_user) != bool(auth_password):
        missing = "auth_password" if auth_user else "auth_user"
        report((missing,), "is required with " + ("auth_user" if auth_user else "auth_password"))


@dataclass(frozen=True)
class OscarConnectionSpec:
    """The connection keys of one `oscar.<cluster_id>` entry of scar.cfg (for `ls` over every cluster)."""

    endpoint: str = spec_field("", checks=(_url_or_empty,))
    auth_user: str = spec_field("")
    auth_password: str = spec_field("", secret=True)
    oidc_token: str = spec_field("", secret=True)
    ssl_verify: bool = spec_field(True)

    def cross_check(self, report: Report) -> None:
        _check_cluster_auth(self.auth_user, self.auth_password, self.oidc_token, report)


@dataclass(frozen=True)
class OscarServiceSpec:
    """One OSCAR service: the FDL entry merged with its cluster's settings from scar.cfg. `cluster_id` is
    the entry's key (the loader sets it and refuses it among the service's keys)."""

    name: str = spec_field(required=True, checks=(
        matches(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", "a DNS label (lowercase letters, digits, hyphens)"),))
    image: str = spec_field(required=True, checks=(
        matches(IMAGE_REFERENCE, "a container image reference (no spaces)"),))
    script: Path | None = spec_field(required=True, path="file")
    memory: str = spec_field("256Mi", checks=(matches(OSCAR_MEMORY, "a memory size in Mi or Gi, like 256Mi or 1Gi"),))
    cpu: str = spec_field("0.2", checks=(matches(K8S_CPU, "a CPU quantity like 0.5 or 500m"), _positive_cpu))
    total_memory: str | None = spec_field(checks=(
        matches(OSCAR_MEMORY, "a memory size in Mi or Gi, like 4Gi"),))
    total_cpu: str | None = spec_field(checks=(matches(K8S_CPU, "a CPU quantity like 2 or 2000m"), _positive_cpu))
    log_level: str = spec_field("INFO", normalize=_upper, checks=(one_of(*LOG_LEVELS),))
    alpine: bool = spec_field(False)
    environment: EnvironmentSpec = spec_field(factory=EnvironmentSpec)
    annotations: dict[str, str] = spec_field(factory=dict)
    labels: dict[str, str] = spec_field(factory=dict)
    input: list[StorageIOSpec] = spec_field(factory=list)
    output: list[StorageIOSpec] = spec_field(factory=list)
    endpoint: str = spec_field("", checks=(_url_or_empty,))  # empty: cross_check says it is required
    auth_user: str = spec_field("")
    auth_password: str = spec_field("", secret=True)
    oidc_token: str = spec_field("", secret=True)
    ssl_verify: bool = spec_field(True)
    cluster_id: str = spec_field("")

    @property
    def cluster(self) -> OscarClusterSpec:
        return OscarClusterSpec(self.cluster_id, self.endpoint, self.auth_user, self.auth_password,
                                self.oidc_token, self.ssl_verify)

    def cross_check(self, report: Report) -> None:
        if not self.endpoint:
            report(("endpoint",), "is required: set the cluster's endpoint in scar.cfg or in the FDL")
        _check_cluster_auth(self.auth_user, self.auth_password, self.oidc_token, report)
        for key, index, io in storage_ios(self):
            if io.storage_provider == "s3":
                report((key, index, "storage_provider"), "must name a provider defined in storage_providers "
                       "(s3.ID): an OSCAR service has no AWS account of its own", io.storage_provider)


# ---- storage providers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class S3ProviderSpec:
    access_key: str | None = spec_field(secret=True)
    secret_key: str | None = spec_field(secret=True)
    region: str | None = spec_field(checks=(_known_region,))


@dataclass(frozen=True)
class MinioProviderSpec:
    endpoint: str = spec_field(required=True, checks=(matches(r"https?://\S+", "an http(s) URL"),))
    verify: bool = spec_field(True)
    region: str = spec_field("us-east-1")
    access_key: str | None = spec_field(secret=True)
    secret_key: str | None = spec_field(secret=True)


@dataclass(frozen=True)
class OnedataProviderSpec:
    oneprovider_host: str = spec_field(required=True)
    token: str = spec_field(required=True, secret=True)
    space: str = spec_field(required=True)


@dataclass(frozen=True)
class StorageProvidersSpec:
    s3: dict[str, S3ProviderSpec] = spec_field(factory=dict)
    minio: dict[str, MinioProviderSpec] = spec_field(factory=dict)
    onedata: dict[str, OnedataProviderSpec] = spec_field(factory=dict)

    def has(self, reference: str) -> bool:
        """Whether `s3`, `s3.ID`, `minio`, `minio.ID` or `onedata.ID` names a provider that exists."""
        kind, _, ident = reference.partition(".")
        if not ident:
            return kind in ("s3", "minio")  # the function's own AWS account / the OSCAR cluster's MinIO
        return ident in getattr(self, kind, {})


def own_s3(ios: tuple[StorageIOSpec, ...] | list[StorageIOSpec]) -> list[StorageIOSpec]:
    """Inputs or outputs in the function's own account (`s3`), the ones scar wires and creates."""
    return [io for io in ios if io.storage_provider == "s3"]


def storage_ios(spec: Any) -> list[tuple[str, int, StorageIOSpec]]:
    """The inputs and outputs of a Lambda or OSCAR spec, with their key and index."""
    return [(key, i, io) for key in ("input", "output") for i, io in enumerate(getattr(spec, key))]
