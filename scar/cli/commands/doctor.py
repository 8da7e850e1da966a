"""`scar doctor [-f FDL]`: check what deploying and running functions needs, one line per check, and exit 1
when a check fails. Without -f it checks what a function with scar.cfg's settings would need."""

from __future__ import annotations

import argparse
import copy
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from scar.cli import doctor
from scar.cli.doctor import Check
from scar.errors import EXIT_FAILED, EXIT_OK, ScarError

if TYPE_CHECKING:
    from scar.cli.main import Context
    from scar.config.loader import Settings

#: the function checked without -f: only scar.cfg's settings (role, bucket, supervisor) matter
_PLACEHOLDER_FDL = "functions:\n  aws:\n  - lambda: {name: scar-doctor, container: {image: busybox}}\n"


def run(args: argparse.Namespace, ctx: Context) -> int:
    settings = ctx.settings() if args.conf_file else _cfg_settings(args, ctx)
    checks = [Check("region", "ok", settings.region)]
    checks += _aws_checks(ctx, settings)
    functions = settings.functions
    if functions:
        from scar.package.udocker_engine import cached_engine, default_cache_dir

        engines = {f.lambda_.supervisor.udocker_engine for f in functions
                   if f.lambda_.supervisor.runner == "udocker" and f.lambda_.runtime != "image"}
        checks += [doctor.check_engine(engine, lambda url, sha: cached_engine(url, sha, default_cache_dir()))
                   for engine in engines]
    from scar.supervisor.sandbox import available_sandboxes

    checks.append(doctor.check_sandbox(available_sandboxes()))
    failed = any(c.status == "fail" for c in checks)
    document = {"Ok": not failed, "Checks": [c.as_dict() for c in checks]}
    ctx.output.result(document, "\n".join(c.line() for c in checks))
    return EXIT_FAILED if failed else EXIT_OK


def _cfg_settings(args: argparse.Namespace, ctx: Context) -> Settings:
    from scar.config.loader import load_settings

    with tempfile.TemporaryDirectory(prefix="scar-doctor-") as folder:
        placeholder = Path(folder) / "doctor.yaml"
        placeholder.write_text(_PLACEHOLDER_FDL)
        cfg_args = copy.copy(args)
        cfg_args.conf_file = str(placeholder)
        return load_settings(cfg_args, ctx.output.notice)


def _aws_checks(ctx: Context, settings: Settings) -> list[Check]:
    try:
        from scar.aws.identity import caller_identity

        session = ctx.aws()
        identity = caller_identity(session.client("sts"))
    except ScarError as err:
        return [Check("credentials", "fail", err.message)]  # the message says what to do
    except Exception as err:  # noqa: BLE001 - botocore's failures, as one line
        return [Check("credentials", "fail", doctor.aws_error(err)[1],
                      "check your credentials (`aws sts get-caller-identity`) and the endpoint")]
    checks = [Check("credentials", "ok", f"{identity.arn} (account {identity.account})")]
    iam = session.client("iam")
    roles = dict.fromkeys(f.iam.role for f in settings.functions) or {None: None}
    checks += [doctor.check_role(iam, role) for role in roles]
    providers = settings.storage_providers
    other_storage = bool(providers.s3 or providers.minio or providers.onedata)
    checks.append(doctor.check_permissions(iam, identity.arn,
                                           doctor.needed_actions(settings.functions, other_storage)))
    s3 = session.client("s3")
    used = doctor.buckets(settings.functions)
    checks += [doctor.check_bucket(s3, bucket, purpose) for bucket, purpose in used.items()]
    return checks
