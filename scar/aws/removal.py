"""Removing scar functions through the same resource kinds `init` uses: best effort and idempotent, each
function's resources in the order `removal_steps` gives, then the supervisor layer versions no function uses
any more."""

from __future__ import annotations

from dataclasses import dataclass, field

from scar.aws.errors import message_of
from scar.aws.kinds.layer import VERSION_KIND, unused_versions
from scar.aws.provider import AwsProvider
from scar.aws.resources import removal_steps
from scar.aws.tags import TAG_LAYER
from scar.config.specs import FunctionSpec
from scar.deploy.executor import carry_out_removal
from scar.deploy.kind import Kinds


@dataclass
class Removal:
    name: str
    outcomes: list[tuple[str, str]] = field(default_factory=list)  # (resource, what happened)
    layer: str | None = None
    error: str | None = None


def remove_function(provider: AwsProvider, kinds: Kinds, name: str, spec: FunctionSpec | None, layer: str,
                    has_secrets: bool, dry_run: bool) -> Removal:
    """Remove one function and what scar created for it; stops at the first failure (a new `rm` resumes)."""
    removal = Removal(name, layer=layer)
    steps = removal_steps(provider, kinds, name, spec, has_secrets)
    removal.layer = ((provider.function(name) or {}).get("Tags") or {}).get(TAG_LAYER, layer)
    for step in steps:
        try:
            removal.outcomes.append((step.label, carry_out_removal(step, dry_run)))
        except Exception as err:  # noqa: BLE001 - reported; what is left stays for the next rm
            removal.error = f"could not remove {step.label}: {message_of(err)}"
            break
    return removal


def remove_unused_layer_versions(provider: AwsProvider, kinds: Kinds, layers: set[str], removed: set[str],
                                 dry_run: bool) -> list[tuple[str, str]]:
    """Versions of `layers` that no function uses once the functions in `removed` are gone."""
    kind = kinds[VERSION_KIND]
    rows = []
    for layer in sorted(layers):
        for rid in unused_versions(provider, layer, set(), removed):
            for step in kind.removal(rid, kind.read(rid)):
                try:
                    rows.append((step.label, carry_out_removal(step, dry_run)))
                except Exception as err:  # noqa: BLE001 - one version's failure does not stop the others
                    rows.append((step.label, f"failed: {message_of(err)}"))
    return rows
