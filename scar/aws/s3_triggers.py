"""S3 input wiring: the buckets, the permission S3 needs to invoke a function, and the bucket's
notification rules, merged into (and later removed from) whatever else the bucket already notifies.

Rules scar owns carry the Id `scar-<function>-<12 hex digits>`; everything else on the bucket is kept as it
is. No "folder marker" object is ever written (it would fire the function once for nothing).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from scar.aws.deploy import CREATE, DELETE, UNCHANGED, UPDATE, Journal, Step
from scar.aws.errors import error_code
from scar.aws.s3 import S3
from scar.config.specs import StorageIOSpec
from scar.errors import ScarError

EVENTS = ["s3:ObjectCreated:*"]
_bucket_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _bucket_lock(bucket: str) -> threading.Lock:
    """Notification configurations are read, changed and written whole: one writer per bucket at a time
    (functions of one FDL deploy in parallel and may share a bucket)."""
    with _locks_guard:
        return _bucket_locks.setdefault(bucket, threading.Lock())
_CONFIG_KINDS = ("LambdaFunctionConfigurations", "QueueConfigurations", "TopicConfigurations")


@dataclass(frozen=True)
class Rule:
    prefix: str
    suffix: str


def rules_for(io: StorageIOSpec) -> list[Rule]:
    """One notification rule per (prefix, suffix): S3 allows one of each per rule. File-name prefixes are
    relative to the input folder."""
    folder = f"{io.folder}/" if io.folder else ""
    prefixes = [folder + p for p in io.prefix] or [folder]
    return [Rule(prefix, suffix) for prefix in prefixes for suffix in (io.suffix or [""])]


def rule_id(function: str, rule: Rule) -> str:
    digest = hashlib.sha256(f"{rule.prefix}\0{rule.suffix}".encode()).hexdigest()[:12]
    return f"scar-{function}-{digest}"


def owned_by(entry: dict[str, Any], function: str) -> bool:
    """Whether a notification rule is one scar made for `function` (`img` never claims `img-fn`'s rules)."""
    return re.fullmatch(f"scar-{re.escape(function)}-[0-9a-f]{{12}}", str(entry.get("Id", ""))) is not None


def statement_id(bucket: str) -> str:
    return f"scar-s3-{bucket}"


def _lambda_entry(function: str, arn: str, rule: Rule) -> dict[str, Any]:
    filters = [{"Name": "prefix", "Value": rule.prefix}] if rule.prefix else []
    if rule.suffix:
        filters.append({"Name": "suffix", "Value": rule.suffix})
    entry: dict[str, Any] = {"Id": rule_id(function, rule), "LambdaFunctionArn": arn, "Events": list(EVENTS)}
    if filters:
        entry["Filter"] = {"Key": {"FilterRules": filters}}
    return entry


def _filters(entry: dict[str, Any]) -> Rule:
    rules = {r["Name"].lower(): r["Value"] for r in (entry.get("Filter") or {}).get("Key", {}).get("FilterRules", [])}
    return Rule(rules.get("prefix", ""), rules.get("suffix", ""))


def _overlaps(a: Rule, b: Rule) -> bool:
    prefixes = a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)
    suffixes = a.suffix.endswith(b.suffix) or b.suffix.endswith(a.suffix)
    return prefixes and suffixes


def _creates_objects(entry: dict[str, Any]) -> bool:
    return any(event.startswith(("s3:ObjectCreated", "s3:*")) for event in entry.get("Events", ()))


def current_notifications(s3: S3, bucket: str) -> dict[str, Any]:
    config = s3.client.get_bucket_notification_configuration(Bucket=bucket)
    config.pop("ResponseMetadata", None)
    return config


def merged_notifications(existing: dict[str, Any], function: str, arn: str, rules: list[Rule],
                         bucket: str) -> dict[str, Any]:
    """`existing` with this function's rules replaced by `rules`; raises when one overlaps another owner's."""
    merged = copy.deepcopy(existing)
    others = [e for e in merged.get("LambdaFunctionConfigurations", []) if not owned_by(e, function)]
    for kind in _CONFIG_KINDS:
        for entry in (others if kind == "LambdaFunctionConfigurations" else merged.get(kind, [])):
            if not _creates_objects(entry):
                continue
            for rule in rules:
                if _overlaps(rule, _filters(entry)):
                    target = entry.get("LambdaFunctionArn") or entry.get("QueueArn") or entry.get("TopicArn")
                    raise ScarError(
                        f"bucket {bucket}: the input rule (prefix {rule.prefix!r}, suffix {rule.suffix!r}) overlaps "
                        f"the existing notification {entry.get('Id', '(no id)')} for {target}; S3 cannot send "
                        "the same object-created event to both: change the input folder or the other rule")
    merged["LambdaFunctionConfigurations"] = others + [_lambda_entry(function, arn, rule) for rule in rules]
    return merged


def without_function(existing: dict[str, Any], function: str, arn: str) -> dict[str, Any]:
    merged = copy.deepcopy(existing)
    merged["LambdaFunctionConfigurations"] = [
        e for e in merged.get("LambdaFunctionConfigurations", [])
        if not owned_by(e, function) and e.get("LambdaFunctionArn") != arn]
    return merged


def _put(s3: S3, bucket: str, config: dict[str, Any]) -> None:
    # an empty EventBridgeConfiguration means "enabled": keep it; drop only empty lists
    clean = {k: v for k, v in config.items() if v or k == "EventBridgeConfiguration"}
    s3.client.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=clean)


class TriggerPlanner:
    """Steps that wire a function's S3 inputs (and make sure its S3 outputs' buckets exist)."""

    def __init__(self, s3: S3, lam_client: Any, region: str, account: str) -> None:
        self.s3 = s3
        self.lam = lam_client
        self.region = region
        self.account = account

    def bucket_steps(self, buckets: list[str]) -> list[Step]:
        steps = []
        for bucket in dict.fromkeys(buckets):
            if self.s3.bucket_exists(bucket):
                steps.append(Step(f"bucket {bucket}", UNCHANGED, "exists"))
                continue

            def create(journal: Journal, bucket: str = bucket) -> None:
                if self.s3.ensure_bucket(bucket, self.region):
                    self.s3.client.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [
                        {"Key": "createdby", "Value": "scar"}]})
                    journal.record(f"bucket {bucket}", lambda: self._delete_if_empty(bucket))

            steps.append(Step(f"bucket {bucket}", CREATE, f"private, in {self.region}", create))
        return steps

    def _delete_if_empty(self, bucket: str) -> None:
        if not self.s3.client.list_objects_v2(Bucket=bucket, MaxKeys=1).get("KeyCount"):
            self.s3.client.delete_bucket(Bucket=bucket)

    def trigger_steps(self, function: str, inputs: list[StorageIOSpec], function_exists: bool) -> list[Step]:
        arn = f"arn:aws:lambda:{self.region}:{self.account}:function:{function}"
        by_bucket: dict[str, list[Rule]] = {}
        for io in inputs:
            by_bucket.setdefault(io.bucket, []).extend(rules_for(io))
        steps = []
        for bucket, rules in by_bucket.items():
            steps.append(self._permission_step(function, bucket, function_exists))
            steps.append(self._notification_step(function, arn, bucket, rules))
        return steps

    def unwire_steps(self, function: str, buckets: list[str]) -> list[Step]:
        """Steps that take the function off buckets that are no longer its inputs."""
        arn = f"arn:aws:lambda:{self.region}:{self.account}:function:{function}"
        steps = []
        for bucket in buckets:
            def unwire(journal: Journal, bucket: str = bucket) -> None:
                remove_triggers(self.s3, function, arn, [bucket])
                self._remove_permission(function, statement_id(bucket))

            steps.append(Step(f"notification s3://{bucket} → {function}", DELETE, "no longer an input", unwire))
        return steps

    def _permission_step(self, function: str, bucket: str, function_exists: bool) -> Step:
        sid = statement_id(bucket)
        resource = f"permission for s3://{bucket} to invoke {function}"
        if function_exists and sid in self._statement_ids(function):
            return Step(resource, UNCHANGED, f"SourceAccount {self.account}")

        def add(journal: Journal) -> None:
            self.lam.add_permission(FunctionName=function, StatementId=sid, Action="lambda:InvokeFunction",
                                    Principal="s3.amazonaws.com", SourceArn=f"arn:aws:s3:::{bucket}",
                                    SourceAccount=self.account)
            journal.record(resource, lambda: self._remove_permission(function, sid))

        return Step(resource, CREATE, f"SourceArn arn:aws:s3:::{bucket}, SourceAccount {self.account}", add)

    def _statement_ids(self, function: str) -> set[str]:
        try:
            policy = json.loads(self.lam.get_policy(FunctionName=function)["Policy"])
        except ClientError as err:
            if error_code(err) == "ResourceNotFoundException":
                return set()
            raise
        return {statement.get("Sid") for statement in policy.get("Statement", ())}

    def _remove_permission(self, function: str, sid: str) -> None:
        try:
            self.lam.remove_permission(FunctionName=function, StatementId=sid)
        except ClientError as err:
            if error_code(err) != "ResourceNotFoundException":
                raise

    def _restore(self, function: str, arn: str, bucket: str) -> None:
        """Undo: take this function's rules off the bucket again (other writers' changes stay)."""
        with _bucket_lock(bucket):
            _put(self.s3, bucket, without_function(current_notifications(self.s3, bucket), function, arn))

    def _notification_step(self, function: str, arn: str, bucket: str, rules: list[Rule]) -> Step:
        resource = f"notification s3://{bucket} → {function}"
        existing = current_notifications(self.s3, bucket) if self.s3.bucket_exists(bucket) else {}
        wanted = merged_notifications(existing, function, arn, rules, bucket)
        detail = ", ".join(f"{r.prefix or '*'}{'…' + r.suffix if r.suffix else ''}" for r in rules)
        if _same(existing, wanted):
            return Step(resource, UNCHANGED, detail)

        def put(journal: Journal) -> None:
            with _bucket_lock(bucket):
                before = current_notifications(self.s3, bucket)
                _put(self.s3, bucket, merged_notifications(before, function, arn, rules, bucket))
            journal.record(resource, lambda: self._restore(function, arn, bucket))

        ours = [e for e in existing.get("LambdaFunctionConfigurations", []) if owned_by(e, function)]
        return Step(resource, UPDATE if ours else CREATE, f"object created in {detail}", put)


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    def normal(config: dict[str, Any]) -> dict[str, Any]:
        return {kind: sorted(json.dumps(e, sort_keys=True) for e in config.get(kind, []))
                for kind in (*_CONFIG_KINDS, "EventBridgeConfiguration")}
    return normal(a) == normal(b)


def remove_triggers(s3: S3, function: str, arn: str, buckets: list[str]) -> list[tuple[str, str]]:
    """Take this function's rules off each bucket (keeping every other rule); a missing bucket is fine."""
    outcomes = []
    for bucket in dict.fromkeys(buckets):
        resource = f"notification s3://{bucket} → {function}"
        with _bucket_lock(bucket):
            try:
                existing = current_notifications(s3, bucket)
            except ClientError as err:
                if error_code(err) != "NoSuchBucket":
                    raise
                existing = {}
            remaining = without_function(existing, function, arn)
            changed = not _same(existing, remaining)
            if changed:
                _put(s3, bucket, remaining)
        outcomes.append((resource, "removed" if changed else "already absent"))
    return outcomes
