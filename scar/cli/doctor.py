"""The checks of `scar doctor`: each one looks at one thing a deployment or a local run needs and says what
it found and, when something is wrong, how to fix it. No check changes anything.

A check's status is `ok`, `fail` (init or run would fail: the command exits 1), `warn` (works, but with a
cost, or only part of scar is affected) or `unknown` (scar may not look: it cannot tell).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from scar.config.specs import FunctionSpec, UdockerEngineSpec, own_s3

MARKS = {"ok": "✓", "fail": "✗", "warn": "!", "unknown": "?"}
ROLE_DOCS = "docs/functions.md#before-the-first-deployment"


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        fix = f" → fix: {self.fix}" if self.fix else ""
        return f"{MARKS[self.status]} {self.name}: {self.detail}{fix}"

    def as_dict(self) -> dict[str, str]:
        return {"Name": self.name, "Status": self.status, "Detail": self.detail, "Fix": self.fix}


def aws_error(err: Exception) -> tuple[str, str]:
    """(error code, one-line message) of a boto3 failure."""
    from scar.aws.errors import translate

    response = getattr(err, "response", None)
    code = response.get("Error", {}).get("Code", "") if isinstance(response, dict) else ""
    message = " ".join(translate(err).message.split())  # one line, whatever the server sent
    return code, message if len(message) <= 160 else message[:157] + "..."


DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden", "403")


# ---- credentials ------------------------------------------------------------------------------------------


def principal_arn(caller_arn: str) -> str | None:
    """The IAM principal to simulate for a caller: a user or role ARN (an assumed role's session becomes its
    role); None for the root user, which is allowed everything."""
    parts = caller_arn.split(":", 5)
    if len(parts) < 6:
        return caller_arn
    partition, account, resource = parts[1], parts[4], parts[5]
    if resource == "root":
        return None
    if resource.startswith("assumed-role/"):
        return f"arn:{partition}:iam::{account}:role/{resource.split('/')[1]}"
    return caller_arn


# ---- the role ---------------------------------------------------------------------------------------------


def trusts_lambda(document: Any) -> bool:
    """Whether a trust policy lets lambda.amazonaws.com assume the role."""
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = _listed(statement.get("Action"))
        services = _listed((statement.get("Principal") or {}).get("Service")
                           if isinstance(statement.get("Principal"), dict) else None)
        if (statement.get("Effect") == "Allow" and {"sts:AssumeRole", "sts:*", "*"} & set(actions)
                and "lambda.amazonaws.com" in services):
            return True
    return False


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def check_role(iam: Any, role_arn: str | None) -> Check:
    if not role_arn:
        return Check("role", "fail", "no IAM role for your functions",
                     f"set aws.iam.role in scar.cfg (or iam.role in the FDL, or -r ARN); the role: {ROLE_DOCS}")
    name = role_arn.split(":role/", 1)[-1].rsplit("/", 1)[-1]
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except Exception as err:  # noqa: BLE001 - botocore's errors, sorted by code below
        code, message = aws_error(err)
        if code == "NoSuchEntity":
            return Check("role", "fail", f"{role_arn} does not exist", f"create it: {ROLE_DOCS}")
        if code in DENIED:
            return Check("role", "unknown", f"{role_arn}: you may not read it (iam:GetRole), so scar cannot tell")
        return Check("role", "fail", f"{role_arn}: {message}")
    if role["Arn"] != role_arn:
        return Check("role", "fail", f"{role_arn} does not exist (the role named {name} is {role['Arn']})",
                     "set the role's exact ARN")
    if not trusts_lambda(role.get("AssumeRolePolicyDocument", {})):
        return Check("role", "fail", f"{role_arn} does not trust lambda.amazonaws.com",
                     f"add lambda.amazonaws.com to its trust policy: {ROLE_DOCS}")
    return Check("role", "ok", f"{role_arn} exists and trusts lambda.amazonaws.com")


# ---- the caller's permissions -----------------------------------------------------------------------------

_BASE = ("sts:GetCallerIdentity", "iam:PassRole", "tag:GetResources", "lambda:GetFunction", "lambda:CreateFunction",
         "lambda:UpdateFunctionConfiguration", "lambda:UpdateFunctionCode", "lambda:DeleteFunction",
         "lambda:InvokeFunction", "lambda:PublishLayerVersion", "lambda:ListLayerVersions",
         "lambda:AddPermission", "lambda:RemovePermission", "lambda:TagResource", "logs:CreateLogGroup",
         "logs:PutRetentionPolicy", "logs:DeleteLogGroup", "logs:FilterLogEvents")
_S3 = ("s3:CreateBucket", "s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:GetBucketNotification",
       "s3:PutBucketNotification")
_API = ("apigateway:GET", "apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE")
_BATCH = ("batch:CreateComputeEnvironment", "batch:CreateJobQueue", "batch:RegisterJobDefinition",
          "batch:SubmitJob", "batch:DescribeComputeEnvironments", "batch:DescribeJobQueues",
          "ec2:CreateLaunchTemplate", "ec2:DescribeLaunchTemplates")
_ECR = ("ecr:GetAuthorizationToken", "ecr:CreateRepository", "ecr:DescribeImages", "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchDeleteImage")
_SSM = ("ssm:PutParameter", "ssm:GetParametersByPath", "ssm:DeleteParameter")


def needed_actions(functions: Iterable[FunctionSpec], with_storage_providers: bool) -> list[str]:
    """The IAM actions `init`, `run`, `log` and `rm` call for these functions."""
    actions = list(_BASE)
    for spec in functions:
        lam = spec.lambda_
        if own_s3(lam.input) or own_s3(lam.output) or lam.deployment.bucket:
            actions += _S3
        if spec.api_gateway.name:
            actions += _API
        if lam.execution_mode != "lambda":
            actions += _BATCH
        if lam.runtime == "image":
            actions += _ECR
    if with_storage_providers:
        actions += _SSM  # other storage's credentials are kept as SecureString parameters
    return list(dict.fromkeys(actions))


def check_permissions(iam: Any, caller_arn: str, actions: list[str]) -> Check:
    principal = principal_arn(caller_arn)
    if principal is None:
        return Check("permissions", "warn", "you are the account's root user: every action is allowed",
                     "deploy as an IAM user or role instead of root")
    denied: list[str] = []
    try:
        pages = iam.get_paginator("simulate_principal_policy").paginate(
            PolicySourceArn=principal, ActionNames=actions)
        for page in pages:
            denied += [r["EvalActionName"] for r in page["EvaluationResults"] if r["EvalDecision"] != "allowed"]
    except Exception as err:  # noqa: BLE001 - any failure means the simulation is not available
        code, message = aws_error(err)
        why = "you may not call iam:SimulatePrincipalPolicy" if code in DENIED else message
        return Check("permissions", "unknown", f"cannot tell whether you may call the {len(actions)} actions "
                     f"scar needs ({why})")
    if denied:
        return Check("permissions", "fail", f"{principal} may not call {', '.join(denied)}",
                     "add these actions to your IAM user's or role's policy")
    return Check("permissions", "ok", f"{principal} may call all {len(actions)} actions scar needs")


# ---- buckets ----------------------------------------------------------------------------------------------


def buckets(functions: Iterable[FunctionSpec]) -> dict[str, str]:
    """The own-account buckets the functions use, with what for (deployment, input, output)."""
    used: dict[str, str] = {}
    for spec in functions:
        lam = spec.lambda_
        if lam.deployment.bucket:
            used.setdefault(lam.deployment.bucket, "deployment")
        for purpose, ios in (("input", lam.input), ("output", lam.output)):
            for io in own_s3(ios):
                used.setdefault(io.bucket, purpose)
    return used


def check_bucket(s3: Any, bucket: str, purpose: str) -> Check:
    name = f"{purpose} bucket"
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception as err:  # noqa: BLE001 - sorted by code below
        code, message = aws_error(err)
        if code in ("404", "NoSuchBucket", "NotFound"):
            return Check(name, "ok", f"{bucket} does not exist yet: scar init creates it")
        if code in DENIED:
            return Check(name, "fail", f"{bucket} belongs to another account, or you may not use it",
                         "choose another bucket name (bucket names are global)")
        return Check(name, "fail", f"{bucket}: {message}")
    return Check(name, "ok", f"{bucket} exists and you may use it")


# ---- what stays on this machine ---------------------------------------------------------------------------


def check_engine(source: UdockerEngineSpec, cached: Callable[[str, str | None], Any]) -> Check:
    """udocker's engine tarball, which init puts in the supervisor layer."""
    import hashlib

    if source.file is not None:
        try:
            digest = hashlib.sha256(source.file.read_bytes()).hexdigest()
        except OSError as err:
            return Check("udocker engine", "fail", f"cannot read {source.file}: {err.strerror or err}",
                         "fix aws.lambda.supervisor.udocker_engine.file in scar.cfg")
        if source.sha256 and digest != source.sha256:
            return Check("udocker engine", "fail", f"{source.file} has SHA-256 {digest}, not {source.sha256}",
                         "use the right file, or fix udocker_engine.sha256")
        return Check("udocker engine", "ok", f"{source.file} (the local copy scar.cfg names)")
    if cached(source.url, source.sha256):
        return Check("udocker engine", "ok", f"cached from {source.url}")
    return Check("udocker engine", "warn", f"not cached yet: the first scar init downloads {source.url}",
                 "allow that download, or set udocker_engine.file to a local copy")


def check_sandbox(available: list[str]) -> Check:
    if available:
        return Check("local sandbox", "ok", f"{', '.join(available)} (for scar run --local)")
    return Check("local sandbox", "warn", "no sandbox works here: scar run --local cannot run functions",
                 "install bubblewrap (apt-get install bubblewrap) or proot")
