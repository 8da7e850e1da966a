"""What the AWS Batch and EC2 kinds share: the provider, the digest tag planning compares, ownership (scar
never changes a resource it did not create), and changing settings and tags in place, or refusing at planning
what Batch cannot change in place."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from scar.aws import batch_waiters
from scar.aws.provider import AwsProvider
from scar.aws.tags import TAG_CREATED_BY, TAG_DEFINITION
from scar.deploy.kind import Kind, Resource
from scar.deploy.model import Action, Call, Change, Ref, ResourceId, Step, resolve
from scar.errors import BadInputError, ScarError


def changed(base: Mapping[str, Any], target: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of `target` whose value differs from `base`'s: what an update call sends."""
    return {key: value for key, value in target.items() if base.get(key) != value}


def tag_changes(old: Mapping[str, str], new: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The tags to set and the keys to remove to go from `old` to `new`."""
    return changed(old, new), sorted(set(old) - set(new))


class BatchKind(Kind):
    """Wanted state: Params (the create call's parameters but the name and tags), Tags and Digest (the
    digest of Params, also in the tags). `read` gives {"Digest": ..., "Tags": ...} or None. A kind that
    changes in place also reads its current settings (for the plan's changes and the undo) and says, in
    `refuse`, what it cannot change."""

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

    def plan(self, resource: Resource, current: Any | None, known: Mapping[Ref, Any]) -> list[Step]:
        steps = super().plan(resource, current, known)
        step = steps[0]
        if step.action is Action.UPDATE:
            wanted = resolve(step.desired, known, strict=False)
            self.refuse(step.resource, step.current, wanted)
            others = tuple(change for change in step.changes if change.field != "Digest")
            step.changes = (*self.setting_changes(step.current, wanted), *others) or step.changes
            step.calls = self.update_calls(step.resource, step.current, wanted)
        return steps

    # -- what a kind that changes in place provides ----------------------------------------------------

    def refuse(self, rid: ResourceId, current: dict[str, Any], wanted: dict[str, Any]) -> None:
        """Raise `refused(...)` for a change AWS cannot make in place."""

    def setting_changes(self, current: dict[str, Any], wanted: dict[str, Any]) -> tuple[Change, ...]:
        """The settings that change, as the plan shows them."""
        return ()

    def update_calls(self, rid: ResourceId, current: dict[str, Any], wanted: dict[str, Any]) -> tuple[Call, ...]:
        return self.calls(Action.UPDATE, rid)

    def refused(self, rid: ResourceId, key: str, old: Any, new: Any, why: str) -> BadInputError:
        function = rid.parent or rid.name
        return BadInputError(f"{function}: {key} cannot change from {old} to {new} in place: {why}; run "
                             f"`scar rm -n {function}`, then `scar init` again")


class BatchSettingsKind(BatchKind):
    """A Batch resource (compute environment, job queue) whose settings change by one update call and whose
    tags change by ARN; the undo of an update changes them back to what planning read."""

    def change_settings(self, name: str, base: dict[str, Any], target: dict[str, Any]) -> None:
        """Send the update call from Params `base` to Params `target`, if they differ, and wait."""
        raise NotImplementedError

    def update(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        outputs["Wanted"] = desired
        self._change(step, step.current, desired)
        outputs["Arn"] = step.current["Arn"]

    def undo(self, step: Step, outputs: dict[str, Any]) -> None:
        if step.action is not Action.UPDATE:
            super().undo(step, outputs)
        elif "Wanted" in outputs:
            self._change(step, outputs["Wanted"], step.current)

    def _change(self, step: Step, base: dict[str, Any], target: dict[str, Any]) -> None:
        """From the settings and tags of `base` to those of `target`."""
        self.change_settings(step.resource.name, base["Params"], target["Params"])
        self.retag(step.current["Arn"], base["Tags"], target["Tags"])

    def retag(self, arn: str, old: Mapping[str, str], new: Mapping[str, str]) -> None:
        """TagResource / UntagResource so that the resource's tags are `new`."""
        put, remove = tag_changes(old, new)
        if put:
            self.provider.batch.tag_resource(resourceArn=arn, tags=put)
        if remove:
            self.provider.batch.untag_resource(resourceArn=arn, tagKeys=remove)

    def tag_calls(self, current: dict[str, Any], wanted: dict[str, Any]) -> tuple[Call, ...]:
        put, remove = tag_changes(current["Tags"], wanted["Tags"])
        arn = {"resourceArn": current["Arn"]}
        return ((Call("batch", "TagResource", arn),) if put else ()) + \
            ((Call("batch", "UntagResource", {**arn, "tagKeys": remove}),) if remove else ())
