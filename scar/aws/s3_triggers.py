"""S3 input wiring as pure data: the notification rules of a function's inputs, and how they merge into (and
come out of) whatever else a bucket already notifies. `scar.aws.kinds.notification` applies them.

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

from scar.aws.s3 import S3
from scar.config.specs import StorageIOSpec
from scar.errors import ScarError

EVENTS = ["s3:ObjectCreated:*"]
_bucket_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()
_CONFIG_KINDS = ("LambdaFunctionConfigurations", "QueueConfigurations", "TopicConfigurations")


@dataclass(frozen=True)
class Rule:
    prefix: str
    suffix: str


def bucket_lock(bucket: str) -> threading.Lock:
    """Notification configurations are read, changed and written whole: one writer per bucket at a time
    (functions of one FDL deploy in parallel and may share a bucket)."""
    with _locks_guard:
        return _bucket_locks.setdefault(bucket, threading.Lock())


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


def with_entries(existing: dict[str, Any], function: str, entries: list[dict[str, Any]],
                 arn: str | None = None) -> dict[str, Any]:
    """`existing` with this function's rules replaced by `entries` (and, given `arn`, any other rule that
    targets the function dropped too: a rule left pointing at a deleted function breaks the bucket's next
    notification update)."""
    merged = copy.deepcopy(existing)
    merged["LambdaFunctionConfigurations"] = [
        e for e in merged.get("LambdaFunctionConfigurations", [])
        if not owned_by(e, function) and (arn is None or e.get("LambdaFunctionArn") != arn)] + list(entries)
    return merged


def put_notifications(s3: S3, bucket: str, config: dict[str, Any]) -> None:
    # an empty EventBridgeConfiguration means "enabled": keep it; drop only empty lists
    clean = {k: v for k, v in config.items() if v or k == "EventBridgeConfiguration"}
    s3.client.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=clean)


def same_notifications(a: dict[str, Any], b: dict[str, Any]) -> bool:
    def normal(config: dict[str, Any]) -> dict[str, Any]:
        entries = {kind: sorted(json.dumps(e, sort_keys=True) for e in config.get(kind, [])) for kind in _CONFIG_KINDS}
        return {**entries, "EventBridge": "EventBridgeConfiguration" in config}  # present (even empty) means on
    return normal(a) == normal(b)
