"""`scar rm -n NAME | -f FDL | -a`: remove functions and what scar created for them."""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from scar.aws import kinds as _registered  # noqa: F401 - registers the AWS kinds
from scar.aws.errors import message_of
from scar.aws.kinds.function import KIND as FUNCTION
from scar.aws.provider import AwsProvider
from scar.aws.read_ahead import read_ahead
from scar.aws.removal import Removal, remove_function, remove_unused_layer_versions
from scar.cli.confirm import confirm
from scar.cli.output import table
from scar.cli.targets import Target, selected_functions, selected_services
from scar.config.defaults import default_config
from scar.config.specs import StorageProvidersSpec
from scar.deploy.executor import REMOVED, WOULD_REMOVE
from scar.deploy.kind import Kinds
from scar.errors import BadInputError, OperationFailed
from scar.package.function_config import secret_values

if TYPE_CHECKING:
    from scar.cli.main import Context
    from scar.config.specs import OscarServiceSpec
    from scar.oscar.deployment import ServiceRemoval

MAX_PARALLEL = 16


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.all:
        if args.name or args.conf_file:
            raise BadInputError("command line: -a/--all removes every function: do not combine it with -n or -f")
        targets = _all_functions(ctx)
        if not targets:
            ctx.output.notice("no scar functions to remove")
            ctx.output.result({"Functions": [], "Layers": []}, None)
            return 0
        if not args.dry_run:
            listing = ", ".join(t.name for t in targets)
            confirm(ctx, f"rm -a would remove {len(targets)} function(s) and their log groups: {listing}",
                    "Remove them?", "nothing removed")
    services = selected_services(ctx) if not args.all else ()
    if not args.all:  # an FDL of OSCAR services only has no AWS function to select
        targets = selected_functions(ctx, several=True) if not services or ctx.settings().functions else []
    groups: dict[tuple[str, str | None], list[Target]] = {}
    for target in targets:
        groups.setdefault((target.region, target.profile), []).append(target)
    removals: list[Removal] = []
    layer_rows: list[tuple[str, str]] = []
    for (region, profile), members in groups.items():
        session = ctx.aws(region, profile, concurrency=MAX_PARALLEL * 2)
        provider = AwsProvider(session)
        read_ahead(provider, [target.name for target in members], {_layer_of(target) for target in members},
                   existing=True)
        kinds = Kinds("aws", provider)
        done = _remove_group(provider, kinds, members, ctx.settings().storage_providers, args.dry_run)
        removals.extend(done)
        layer_rows.extend(remove_unused_layer_versions(
            provider, kinds, {r.layer for r in done if r.layer and not r.error},
            {r.name for r in done if not r.error}, args.dry_run))
    return _report(ctx, removals, layer_rows, args.dry_run, _remove_services(ctx, services, args.dry_run))


def _remove_services(ctx: Context, services: tuple[OscarServiceSpec, ...], dry_run: bool) -> list[ServiceRemoval]:
    if not services:
        return []
    from scar.cli.oscar import remove

    return remove(ctx, services, dry_run)


def _all_functions(ctx: Context) -> list[Target]:
    settings = ctx.settings()
    found = Kinds("aws", AwsProvider(ctx.aws()))[FUNCTION].owned()
    return [Target(rid.name, settings.region, settings.profile) for rid, _ in found]


def _remove_group(provider: AwsProvider, kinds: Kinds, members: list[Target], providers: StorageProvidersSpec,
                  dry_run: bool) -> list[Removal]:
    def remove(target: Target) -> Removal:
        spec = target.spec
        layer = _layer_of(target)
        secrets = bool(secret_values(spec, providers)) if spec else False
        try:
            return remove_function(provider, kinds, target.name, spec, layer, secrets, dry_run)
        except Exception as err:  # noqa: BLE001 - one function's failure must not stop the others
            return Removal(target.name, error=message_of(err))

    with ThreadPoolExecutor(min(MAX_PARALLEL, len(members))) as pool:
        return list(pool.map(remove, members))


def _layer_of(target: Target) -> str:
    """The supervisor layer the definition (or scar's default) names; the function's tag says last."""
    spec = target.spec
    return spec.lambda_.supervisor.layer_name if spec else default_config()["aws"]["lambda"]["supervisor"]["layer_name"]


def _report(ctx: Context, removals: list[Removal], layer_rows: list[tuple[str, str]], dry_run: bool,
            services: list[ServiceRemoval] | None = None) -> int:
    services = services or []
    rows = [(r.name, resource, outcome) for r in removals for resource, outcome in r.outcomes]
    rows += [(s.spec.name, s.label, f"failed: {s.error}" if s.error else s.result) for s in services]
    rows += [("-", resource, outcome) for resource, outcome in layer_rows]
    rows += [(r.name, "-", f"failed: {r.error}") for r in removals if r.error]
    document = {
        "DryRun": dry_run,
        "Functions": [{"Name": r.name, "Resources": [{"Resource": res, "Result": out} for res, out in r.outcomes],
                       **({"Error": r.error} if r.error else {})} for r in removals],
        "Layers": [{"Resource": res, "Result": out} for res, out in layer_rows],
        **({"Services": [{"Name": s.spec.name, "Cluster": s.spec.cluster_id, "Result": s.result,
                          **({"Error": s.error} if s.error else {})} for s in services]} if services else {}),
    }
    changed = sum(1 for _, _, outcome in rows if outcome in (REMOVED, WOULD_REMOVE))
    summary = (f"{changed} resource(s) would be removed (dry run: nothing changed)" if dry_run
               else f"{changed} resource(s) removed")
    ctx.output.result(document, table(("FUNCTION", "RESOURCE", "RESULT"), rows) + "\n\n" + summary)
    failed = [f"{r.name}: {r.error}" for r in removals if r.error]
    failed += [f"{s.spec.name} (OSCAR {s.spec.cluster_id}): {s.error}" for s in services if s.error]
    if failed:
        raise OperationFailed("; ".join(failed))
    return 0
