"""S3 input wiring as pure data: a function's rules merge into, and come out of, whatever else a bucket
notifies, and nothing of anybody else's is lost."""

from __future__ import annotations

import copy

import pytest

from scar.aws.s3_triggers import EVENTS, Rule, merged_notifications, rule_id, same_notifications, with_entries
from scar.errors import ScarError

ARN = "arn:aws:lambda:us-east-1:123456789012:function:fn"
OTHER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:other"


def ours(function: str, arn: str, prefix: str = "", suffix: str = "") -> dict:
    rules = ([{"Name": "prefix", "Value": prefix}] if prefix else []) + \
        ([{"Name": "suffix", "Value": suffix}] if suffix else [])
    entry = {"Id": rule_id(function, Rule(prefix, suffix)), "LambdaFunctionArn": arn, "Events": list(EVENTS)}
    if rules:
        entry["Filter"] = {"Key": {"FilterRules": rules}}
    return entry


FOREIGN_LAMBDA = {"Id": "hand-made", "LambdaFunctionArn": OTHER_ARN, "Events": ["s3:ObjectCreated:*"],
                  "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "elsewhere/"}]}}}
FOREIGN_TO_FN = {"Id": "hand-made-for-fn", "LambdaFunctionArn": ARN, "Events": ["s3:ObjectRemoved:*"]}
QUEUE = {"Id": "q", "QueueArn": "arn:aws:sqs:us-east-1:123456789012:q", "Events": ["s3:ObjectCreated:*"],
         "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "queue/"}]}}}
TOPIC = {"Id": "t", "TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Events": ["s3:ObjectRemoved:*"]}


@pytest.fixture
def bucket() -> dict:
    """A bucket that notifies a queue, a topic, EventBridge, another function, and fn itself twice: once by
    a rule scar made (input in/) and once by a rule somebody made by hand."""
    return {"QueueConfigurations": [QUEUE], "TopicConfigurations": [TOPIC], "EventBridgeConfiguration": {},
            "LambdaFunctionConfigurations": [FOREIGN_LAMBDA, ours("fn", ARN, "in/"), FOREIGN_TO_FN,
                                             ours("fn-2", OTHER_ARN, "in2/")]}


def test_merge_replaces_only_the_functions_own_rules(bucket: dict) -> None:
    original = copy.deepcopy(bucket)
    merged = merged_notifications(bucket, "fn", ARN, [Rule("new/", ".csv"), Rule("new/", ".txt")], "b")
    assert bucket == original  # the input is not changed
    assert merged["QueueConfigurations"] == [QUEUE]
    assert merged["TopicConfigurations"] == [TOPIC]
    assert merged["EventBridgeConfiguration"] == {}
    assert merged["LambdaFunctionConfigurations"] == [
        FOREIGN_LAMBDA, FOREIGN_TO_FN, ours("fn-2", OTHER_ARN, "in2/"),
        ours("fn", ARN, "new/", ".csv"), ours("fn", ARN, "new/", ".txt")]


def test_merge_into_an_empty_bucket() -> None:
    assert merged_notifications({}, "fn", ARN, [Rule("", "")], "b") == {
        "LambdaFunctionConfigurations": [{"Id": rule_id("fn", Rule("", "")), "LambdaFunctionArn": ARN,
                                          "Events": ["s3:ObjectCreated:*"]}]}


@pytest.mark.parametrize("rule", [Rule("queue/", ""), Rule("queue/sub/", ".csv"), Rule("", ""),
                                  Rule("elsewhere/x", "")])
def test_a_rule_overlapping_another_owners_is_refused(bucket: dict, rule: Rule) -> None:
    with pytest.raises(ScarError, match=r"bucket b: the input rule .* overlaps the existing notification"):
        merged_notifications(bucket, "fn", ARN, [rule], "b")


def test_rules_for_other_events_or_its_own_old_rules_do_not_overlap() -> None:
    merged = merged_notifications({"TopicConfigurations": [TOPIC],
                                   "LambdaFunctionConfigurations": [ours("fn", ARN, "")]}, "fn", ARN, [Rule("", "")],
                                  "b")
    assert merged["LambdaFunctionConfigurations"] == [ours("fn", ARN, "")]


def test_with_entries_keeps_others_and_drops_foreign_rules_for_the_arn_only_when_asked(bucket: dict) -> None:
    original = copy.deepcopy(bucket)
    kept = with_entries(bucket, "fn", [])
    assert kept["LambdaFunctionConfigurations"] == [FOREIGN_LAMBDA, FOREIGN_TO_FN, ours("fn-2", OTHER_ARN, "in2/")]
    dropped = with_entries(bucket, "fn", [], ARN)
    assert dropped["LambdaFunctionConfigurations"] == [FOREIGN_LAMBDA, ours("fn-2", OTHER_ARN, "in2/")]
    for result in (kept, dropped):
        assert result["QueueConfigurations"] == [QUEUE] and result["TopicConfigurations"] == [TOPIC]
        assert result["EventBridgeConfiguration"] == {}
    assert bucket == original


def test_with_entries_puts_back_previous_entries(bucket: dict) -> None:
    previous = [ours("fn", ARN, "in/")]
    changed = merged_notifications(bucket, "fn", ARN, [Rule("new/", "")], "b")
    restored = with_entries(changed, "fn", previous)
    assert same_notifications(restored, bucket)
    assert not same_notifications(changed, bucket)


def test_own_rules_are_those_of_exactly_that_function() -> None:
    existing = {"LambdaFunctionConfigurations": [ours("img", ARN, "a/"), ours("img-fn", OTHER_ARN, "b/")]}
    assert with_entries(existing, "img", [])["LambdaFunctionConfigurations"] == [ours("img-fn", OTHER_ARN, "b/")]


def test_same_notifications_ignores_order_and_absent_lists(bucket: dict) -> None:
    shuffled = copy.deepcopy(bucket)
    shuffled["LambdaFunctionConfigurations"].reverse()
    shuffled["QueueConfigurations"][0] = dict(reversed(list(QUEUE.items())))
    assert same_notifications(bucket, shuffled)
    assert same_notifications({}, {"LambdaFunctionConfigurations": [], "QueueConfigurations": []})
    assert not same_notifications(bucket, {**bucket, "TopicConfigurations": []})
    altered = copy.deepcopy(bucket)
    altered["LambdaFunctionConfigurations"][0]["Events"] = ["s3:ObjectCreated:Put"]
    assert not same_notifications(bucket, altered)


def test_eventbridge_on_and_off_differ() -> None:
    assert not same_notifications({}, {"EventBridgeConfiguration": {}})
