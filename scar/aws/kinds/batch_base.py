"""What the AWS Batch and EC2 kinds share: the provider, the digest tag planning compares, ownership (scar
never changes a resource it did not create), and the refusal to change in place what Batch cannot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scar.aws import batch_waiters
from scar.aws.provider import AwsProvider
from scar.aws.tags import TAG_CREATED_BY, TAG_DEFINITION
from scar.deploy.kind import Kind, Resource
from scar.deploy.model import Action, ResourceId, Step
from scar.errors import ScarError


class BatchKind(Kind):
    """Wanted state: Params (the create call's parameters but the name and tags), Tags and Digest (the
    digest of Params, also in the tags). `read` gives {"Digest": ..., "Tags": ...} or None."""

    compared = ("Digest",)
    what: str = "resource"
    #: a function that no longer uses AWS Batch: its resources are removed once everything else succeeded
    sweep_last = True

    def __init__(self, provider: AwsProvider) -> None:
        self.provider = provider

    def label(self, rid: ResourceId, action: Action) -> str:
        return f"{self.kind} {rid.name}"

    def disable_then_delete(self, name: str, state: str | None, disable: Callable[[], Any],
                            remove: Callable[[], Any], waiters: str, outputs: dict[str, Any]) -> None:
        """Batch deletes only what is disabled: disable it (and wait), delete it, wait until it is gone.
        `waiters` names the pair of waiters (`<waiters>Disabled`, `<waiters>Deleted`)."""
        batch = self.provider.batch
        if state != "DISABLED":
            disable()
            batch_waiters.wait(batch, f"{waiters}Disabled", name)
        remove()
        outputs["deleted"] = True
        batch_waiters.wait(batch, f"{waiters}Deleted", name)

    def owned_state(self, rid: ResourceId, tags: dict[str, str], **extra: Any) -> dict[str, Any]:
        if tags.get(TAG_CREATED_BY) != "scar":
            raise ScarError(f"{rid.parent or rid.name}: the {self.what} {rid.name} exists and was not created by "
                            "scar; scar never changes or removes resources it did not create")
        return {"Digest": tags.get(TAG_DEFINITION), "Tags": tags, **extra}

    def plan(self, resource: Resource, current: Any | None, known: Any) -> list[Step]:
        steps = super().plan(resource, current, known)
        if steps[0].action is Action.UPDATE and not self.updatable:
            raise ScarError(f"{resource.id.parent}: the settings of the {self.what} {resource.id.name} changed and "
                            f"AWS Batch cannot change them in place: run `scar rm -n {resource.id.parent}`, then "
                            "`scar init` again")
        return steps

    updatable = False
