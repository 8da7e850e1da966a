"""A function's notification rules on one bucket, merged into (and taken out of) whatever else the bucket
notifies: SQS, SNS, EventBridge and other functions' rules stay as they are. Every write reads the bucket's
configuration afresh under a lock, so functions of one FDL that share a bucket never overwrite each other."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from scar.aws.errors import error_code
from scar.aws.provider import AwsProvider
from scar.aws.s3_triggers import (
    Rule,
    bucket_lock,
    current_notifications,
    merged_notifications,
    owned_by,
    put_notifications,
    same_notifications,
    with_entries,
)
from scar.deploy.kind import Kind, Resource, register
from scar.deploy.model import Action, Call, Ref, ResourceId, Step

KIND = "notification"
WITH_FUNCTION = "with the function"  # the part of a removal step that comes with the function's own removal


@register("aws")
class Notification(Kind):
    """Named by its bucket, with the function as parent. Wanted state: Rules (a list of `Rule`) and
    FunctionArn; current state: the function's own entries on the bucket."""

    kind = KIND

    def __init__(self, provider: AwsProvider) -> None:
        self.provider = provider

    def label(self, rid: ResourceId, action: Action) -> str:
        return f"notification s3://{rid.name} → {rid.parent}"

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        if action is Action.UNCHANGED:
            return ()
        return (Call("s3", "GetBucketNotificationConfiguration", {"Bucket": rid.name}),
                Call("s3", "PutBucketNotificationConfiguration", {"Bucket": rid.name}))

    def _configuration(self, bucket: str) -> dict[str, Any]:
        try:
            return current_notifications(self.provider.s3, bucket)
        except ClientError as err:
            if error_code(err) != "NoSuchBucket":
                raise
            return {}

    def read(self, rid: ResourceId) -> dict[str, Any]:
        configuration = self.provider.once(("notifications", rid.name), lambda: self._configuration(rid.name))
        entries = [e for e in configuration.get("LambdaFunctionConfigurations", ()) if owned_by(e, rid.parent)]
        return {"Entries": entries, "Bucket": configuration}

    def plan(self, resource: Resource, current: dict[str, Any], known: Any) -> list[Step]:
        rid, wanted = resource.id, resource.desired
        rules: list[Rule] = wanted["Rules"]
        detail = ", ".join(f"{r.prefix or '*'}{'…' + r.suffix if r.suffix else ''}" for r in rules)
        arn = wanted["FunctionArn"]
        arn = known.get(arn, arn) if isinstance(arn, Ref) else arn
        # raises when a rule overlaps another owner's: before anything is created
        merged = merged_notifications(current["Bucket"], rid.parent, arn if isinstance(arn, str) else "", rules,
                                      rid.name)
        if isinstance(arn, str) and same_notifications(current["Bucket"], merged):
            return [self.step(rid, Action.UNCHANGED, wanted, current, detail=detail)]
        action = Action.UPDATE if current["Entries"] else Action.CREATE
        return [self.step(rid, action, wanted, current, detail=f"object created in {detail}")]

    def removal(self, rid: ResourceId, current: dict[str, Any]) -> list[Step]:
        if not current["Entries"]:
            return [self.step(rid, Action.UNCHANGED, None, current, detail="already absent")]
        return [self.step(rid, Action.DELETE, None, current)]

    def apply(self, step: Step, desired: Any, outputs: dict[str, Any], undoable: bool = True) -> None:
        """One call whether or not it is undone later (`undoable`): the rules' undo needs nothing kept."""
        bucket, function = step.resource.name, step.resource.parent
        with bucket_lock(bucket):
            before = self._configuration(bucket)
            if step.action is Action.DELETE:  # `rm` also drops foreign rules aimed at the function it deletes
                arn = self.provider.arn("lambda", f"function:{function}") if step.part == WITH_FUNCTION else None
                after = with_entries(before, function, [], arn)
            else:
                after = merged_notifications(before, function, desired["FunctionArn"], desired["Rules"], bucket)
            outputs["changed"] = True
            if not same_notifications(before, after):
                put_notifications(self.provider.s3, bucket, after)
        if step.action is Action.DELETE:
            outputs["deleted"] = True

    def undo(self, step: Step, outputs: dict[str, Any]) -> None:
        """Put this function's previous entries back (other writers' changes since stay)."""
        if not outputs.get("changed"):
            return
        bucket = step.resource.name
        with bucket_lock(bucket):
            before = self._configuration(bucket)
            if not before and not step.current["Bucket"]:
                return  # the bucket is gone (its own undo removed it): nothing to restore
            after = with_entries(before, step.resource.parent, step.current["Entries"])
            if not same_notifications(before, after):
                put_notifications(self.provider.s3, bucket, after)
