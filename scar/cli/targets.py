"""Which functions a command acts on: `-n NAME`, `-f FDL`, or both (one function of the FDL)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from scar.config.specs import FunctionSpec, OscarServiceSpec
from scar.errors import BadInputError

if TYPE_CHECKING:
    from scar.cli.main import Context


@dataclass(frozen=True)
class Target:
    """A function to act on: its name, where it lives, and its spec when an FDL defined it."""

    name: str
    region: str
    profile: str | None
    spec: FunctionSpec | None = None


def selected_functions(ctx: Context, *, several: bool) -> list[Target]:
    """The functions named on the command line; `several=False` insists on exactly one."""
    args = ctx.args
    settings = ctx.settings()
    if args.conf_file:
        specs = settings.functions
        if not specs:
            raise BadInputError(f"{settings.fdl_file}: defines no AWS function")
        if len(specs) > 1 and not several:
            names = ", ".join(f.name for f in specs)
            raise BadInputError(f"{settings.fdl_file} defines {len(specs)} functions ({names}): "
                                "choose one with -n NAME")
        return [Target(f.name, f.region, f.boto_profile, f) for f in specs]
    if args.name:
        return [Target(args.name, settings.region, settings.profile)]
    raise BadInputError("command line: name the function with -n NAME or -f FDL")


def selected_services(ctx: Context) -> tuple[OscarServiceSpec, ...]:
    """The OSCAR services of `-f FDL` (with `-n NAME`: the one so named); none without an FDL."""
    return ctx.settings().oscar_services if ctx.args.conf_file else ()


def selected_service(ctx: Context) -> OscarServiceSpec | None:
    """The one OSCAR service a command acts on, when `-f` (and `-n`) select a service rather than an AWS
    function; None leaves the choice to `selected_functions`."""
    services = selected_services(ctx)
    if not services:
        return None
    settings = ctx.settings()
    count = len(services) + len(settings.functions)
    if count > 1:
        names = ", ".join([*(f.name for f in settings.functions), *(s.name for s in services)])
        raise BadInputError(f"{settings.fdl_file} defines {count} functions and services ({names}): "
                            "choose one with -n NAME")
    return services[0]
