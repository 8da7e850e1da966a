"""Built-in defaults: the lowest configuration layer, and the content of a new scar.cfg.

The shape is the original SCAR's `scar.cfg` (JSON), brought up to date: one region and profile for all of a
function's services, current Lambda runtimes and limits, current AWS Batch instance types.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from scar.version import __version__

CONFIG_VERSION = "2.0.0"
#: `~/.scar/scar.cfg` (or `$SCAR_CONFIG_FOLDER/scar.cfg`)
CONFIG_FOLDER_NAME = ".scar"
CONFIG_FILE_NAME = "scar.cfg"

DEFAULT_REGION = "us-east-1"
DEFAULT_DESCRIPTION = "Automatically generated lambda function"
SUPERVISOR_LICENSE = "Apache-2.0"  # the LicenseInfo the supervisor layer is published with
BATCH_INSTANCE_ROLE = "arn:aws:iam::{account_id}:instance-profile/ecsInstanceRole"
BATCH_SERVICE_ROLE = "arn:aws:iam::{account_id}:role/service-role/AWSBatchServiceRole"

#: Runtimes AWS Lambda still accepts for new Python functions, newest last.
LAMBDA_PYTHON_RUNTIMES = ("python3.12", "python3.13", "python3.14")
DEFAULT_RUNTIME = "python3.13"

#: udocker's engine tarball (its "udockertools"), as udocker 1.3.17 names it; pin its sha256 in scar.cfg.
UDOCKER_ENGINE_URL = "https://download.a.incd.pt/udocker/udocker-englib-1.2.11.tar.gz"
#: udocker's execution modes a function may use, and the default (Lambda allows Fakechroot, not PRoot's ptrace).
UDOCKER_EXECMODES = ("F1", "P1")
UDOCKER_EXECMODE = "F1"

#: Supervisor versions that mean scar's own supervisor (the one it ships); any other is an original SCAR
#: release, which an upgraded scar.cfg's value turns into `builtin` and which init refuses from an FDL or flag.
OWN_SUPERVISOR_VERSIONS = ("builtin", "latest", __version__)

_DEFAULTS: dict[str, Any] = {
    "scar": {"config_version": CONFIG_VERSION},
    "aws": {
        "region": DEFAULT_REGION,
        "iam": {"role": ""},
        "lambda": {
            "execution_mode": "lambda",
            "timeout": 300,
            "memory": 512,
            "ephemeral_storage": 512,
            "description": DEFAULT_DESCRIPTION,
            "runtime": DEFAULT_RUNTIME,
            "architectures": ["x86_64"],
            "layers": [],
            "invocation_type": "RequestResponse",
            "asynchronous": False,
            "log_type": "Tail",
            "log_level": "INFO",
            "environment": {"Variables": {}},
            "deployment": {"max_payload_size": 52428800, "max_s3_payload_size": 262144000},
            "container": {"environment": {"Variables": {}}, "timeout_threshold": 10},
            "supervisor": {
                "version": "builtin",
                "layer_name": "faas-supervisor",
                "license_info": SUPERVISOR_LICENSE,
                "udocker_engine": {"url": UDOCKER_ENGINE_URL, "sha256": None},
                "runner": "udocker",
                "udocker_execmode": UDOCKER_EXECMODE,
            },
        },
        "api_gateway": {"stage_name": "scar"},
        "cloudwatch": {"log_retention_policy_in_days": 30},
        "batch": {
            "vcpus": 1,
            "memory": 1024,
            "enable_gpu": False,
            "state": "ENABLED",
            "type": "MANAGED",
            "environment": {"Variables": {}},
            "compute_resources": {
                "security_group_ids": [],
                "type": "EC2",
                "desired_v_cpus": 0,
                "min_v_cpus": 0,
                "max_v_cpus": 2,
                "subnets": [],
                "instance_types": ["optimal"],
                "launch_template_name": "faas-supervisor",
                "instance_role": BATCH_INSTANCE_ROLE,
            },
            "service_role": BATCH_SERVICE_ROLE,
            "multi_node_parallel": {"enabled": False, "number_nodes": 10, "main_node_index": 0},
        },
        "ecr": {"delete_image": True},
    },
    "oscar": {
        "my_oscar": {
            "endpoint": "",
            "auth_user": "",
            "auth_password": "",
            "ssl_verify": True,
            "memory": "256Mi",
            "cpu": "0.2",
            "log_level": "INFO",
        }
    },
}


def default_config() -> dict[str, Any]:
    """A fresh, mutable copy of the built-in defaults."""
    return copy.deepcopy(_DEFAULTS)


def cache_folder() -> Path:
    """scar's cache: `$XDG_CACHE_HOME/scar`, by default `~/.cache/scar` (udocker's engine, local rootfs)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "scar"
