"""S3 inputs and outputs wired at init and unwired at rm, against moto server."""

from __future__ import annotations

import json

from tests.integration.conftest import write_fdl
from tests.integration.lifecycle_support import ACCOUNT, CallCounter

REGION = "us-east-1"


fdl = write_fdl


SIMPLE = """
functions:
  aws:
  - lambda:
      name: img-fn
      container: {image: busybox}
      input: [{storage_provider: s3, path: media-bucket/input}]
      output: [{storage_provider: s3, path: results-bucket/output}]
"""


def lambda_rules(aws, bucket):
    return aws("s3").get_bucket_notification_configuration(Bucket=bucket).get("LambdaFunctionConfigurations", [])


def test_init_wires_input_and_creates_buckets_without_markers(scar, aws, tmp_path):
    result = scar("init", "-f", fdl(tmp_path, SIMPLE))
    assert result.code == 0, result.stderr
    s3 = aws("s3")
    for bucket in ("media-bucket", "results-bucket"):
        assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0  # no folder marker object
    rules = lambda_rules(aws, "media-bucket")
    assert len(rules) == 1
    assert rules[0]["LambdaFunctionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:img-fn"
    assert rules[0]["Events"] == ["s3:ObjectCreated:*"]
    assert rules[0]["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "input/"}]
    policy = json.loads(aws("lambda").get_policy(FunctionName="img-fn")["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == "arn:aws:s3:::media-bucket"
    assert statement["Condition"]["StringEquals"]["AWS:SourceAccount"] == ACCOUNT
    assert "scar:inputs" not in aws("lambda").get_function(FunctionName="img-fn")["Tags"]  # the policy records it


def test_reinit_with_inputs_is_a_no_op(scar, aws, tmp_path, monkeypatch):
    path = fdl(tmp_path, SIMPLE)
    assert scar("init", "-f", path).code == 0
    counter = CallCounter(monkeypatch)
    result = scar("init", "-f", path)
    assert result.code == 0
    assert counter.mutating == {}


def test_other_notifications_survive_init_and_rm(scar, aws, tmp_path):
    s3, sqs = aws("s3"), aws("sqs")
    s3.create_bucket(Bucket="media-bucket")
    queue = sqs.create_queue(QueueName="audit")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_object(Bucket="media-bucket", Key="input/already-there.txt", Body=b"data")
    existing = {"QueueConfigurations": [{"Id": "audit-logs", "QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"],
                                         "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "logs/"}]}}}]}
    s3.put_bucket_notification_configuration(Bucket="media-bucket", NotificationConfiguration=existing)
    path = fdl(tmp_path, SIMPLE)
    assert scar("init", "-f", path).code == 0
    config = s3.get_bucket_notification_configuration(Bucket="media-bucket")
    assert [q["Id"] for q in config["QueueConfigurations"]] == ["audit-logs"]
    assert len(config["LambdaFunctionConfigurations"]) == 1
    result = scar("rm", "-n", "img-fn")  # no FDL: the function's tags say which buckets to unwire
    assert result.code == 0, result.stderr
    assert "notification s3://media-bucket → img-fn" in result.stdout
    config = s3.get_bucket_notification_configuration(Bucket="media-bucket")
    assert [q["Id"] for q in config["QueueConfigurations"]] == ["audit-logs"]
    assert config.get("LambdaFunctionConfigurations", []) == []
    assert s3.get_object(Bucket="media-bucket", Key="input/already-there.txt")["Body"].read() == b"data"


def test_overlapping_rule_is_reported_and_nothing_is_left(scar, aws, tmp_path):
    s3 = aws("s3")
    s3.create_bucket(Bucket="media-bucket")
    other = {"LambdaFunctionConfigurations": [{
        "Id": "someone-else", "Events": ["s3:ObjectCreated:*"],
        "LambdaFunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:other",
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "input/"}]}}}]}
    s3.put_bucket_notification_configuration(Bucket="media-bucket", NotificationConfiguration=other)
    result = scar("init", "-f", fdl(tmp_path, SIMPLE))
    assert result.code == 1
    assert "overlaps the existing notification someone-else" in result.stderr
    assert aws("lambda").list_functions()["Functions"] == []
    assert [r["Id"] for r in lambda_rules(aws, "media-bucket")] == ["someone-else"]


def test_rm_tolerates_a_deleted_input_bucket(scar, aws, tmp_path):
    path = fdl(tmp_path, SIMPLE)
    assert scar("init", "-f", path).code == 0
    aws("s3").delete_bucket(Bucket="media-bucket")
    result = scar("rm", "-f", path)
    assert result.code == 0, result.stderr
    assert aws("lambda").list_functions()["Functions"] == []


def test_suffix_and_prefix_filters_become_rules(scar, aws, tmp_path):
    path = fdl(tmp_path, """
        functions:
          aws:
          - lambda:
              name: filter-fn
              container: {image: busybox}
              input: [{storage_provider: s3, path: media-bucket/in, suffix: [.jpg, .png]}]
        """)
    assert scar("init", "-f", path).code == 0
    rules = sorted(tuple((r["Name"].capitalize(), r["Value"]) for r in rule["Filter"]["Key"]["FilterRules"])
                   for rule in lambda_rules(aws, "media-bucket"))
    assert rules == [(("Prefix", "in/"), ("Suffix", ".jpg")), (("Prefix", "in/"), ("Suffix", ".png"))]


def test_workflow_output_of_one_is_input_of_the_next(scar, aws, tmp_path):
    path = fdl(tmp_path, """
        functions:
          aws:
          - lambda:
              name: split-fn
              container: {image: busybox}
              input: [{storage_provider: s3, path: video-bucket/start}]
              output: [{storage_provider: s3, path: video-bucket/frames}]
          - lambda:
              name: detect-fn
              container: {image: busybox}
              input: [{storage_provider: s3, path: video-bucket/frames}]
              output: [{storage_provider: s3, path: video-bucket/result}]
        """)
    result = scar("init", "-f", path)
    assert result.code == 0, result.stderr
    targets = {r["Filter"]["Key"]["FilterRules"][0]["Value"]: r["LambdaFunctionArn"].rsplit(":", 1)[-1]
               for r in lambda_rules(aws, "video-bucket")}
    assert targets == {"start/": "split-fn", "frames/": "detect-fn"}
    assert scar("rm", "-f", path).code == 0
    assert lambda_rules(aws, "video-bucket") == []


def test_output_inside_its_own_input_is_refused(scar, aws, tmp_path):
    path = fdl(tmp_path, """
        functions:
          aws:
          - lambda:
              name: loop-fn
              container: {image: busybox}
              input: [{storage_provider: s3, path: loop-bucket/in}]
              output: [{storage_provider: s3, path: loop-bucket/in/results}]
        """)
    result = scar("init", "-f", path)
    assert result.code == 2
    assert ("functions.aws[0].lambda.output[0].path: 'loop-bucket/in/results' is inside the input folder "
            "'loop-bucket/in' (input[0]): every result would trigger the function again") in result.stderr


def test_function_names_that_prefix_each_other_keep_their_own_rules(scar, aws, tmp_path):
    path = fdl(tmp_path, """
        functions:
          aws:
          - lambda: {name: img, container: {image: busybox}, input: [{storage_provider: s3, path: shared-bucket/a}]}
          - lambda: {name: img-fn, container: {image: busybox}, input: [{storage_provider: s3, path: shared-bucket/b}]}
        """)
    assert scar("init", "-f", path).code == 0
    owners = sorted(r["LambdaFunctionArn"].rsplit(":", 1)[-1] for r in lambda_rules(aws, "shared-bucket"))
    assert owners == ["img", "img-fn"]
    assert scar("rm", "-n", "img").code == 0
    assert [r["LambdaFunctionArn"].rsplit(":", 1)[-1] for r in lambda_rules(aws, "shared-bucket")] == ["img-fn"]


def test_moving_an_input_unwires_the_old_bucket(scar, aws, tmp_path):
    path = fdl(tmp_path, SIMPLE)
    assert scar("init", "-f", path).code == 0
    path.write_text(path.read_text().replace("media-bucket/input", "other-media-bucket/input"))
    result = scar("init", "-f", path)
    assert result.code == 0, result.stderr
    assert "notification s3://media-bucket → img-fn" in result.stdout and "no longer wanted" in result.stdout
    assert lambda_rules(aws, "media-bucket") == []
    assert len(lambda_rules(aws, "other-media-bucket")) == 1
    statements = json.loads(aws("lambda").get_policy(FunctionName="img-fn")["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["scar-s3-other-media-bucket"]


def test_a_failed_function_does_not_take_a_shared_bucket_with_it(scar, aws, tmp_path):
    bad_layer = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:missing:1"
    path = fdl(tmp_path, f"""
        functions:
          aws:
          - lambda: {{name: good-fn, container: {{image: busybox}},
                     input: [{{storage_provider: s3, path: common-bucket/good}}]}}
          - lambda: {{name: bad-fn, layers: ["{bad_layer}"], container: {{image: busybox}},
                     input: [{{storage_provider: s3, path: common-bucket/bad}}]}}
        """)
    result = scar("init", "-f", path)
    assert result.code == 1
    assert "(shared)" in result.stdout
    assert aws("s3").head_bucket(Bucket="common-bucket")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert [r["LambdaFunctionArn"].rsplit(":", 1)[-1] for r in lambda_rules(aws, "common-bucket")] == ["good-fn"]


def test_a_failed_deploy_removes_the_bucket_it_created(scar, aws, tmp_path):
    bad_layer = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:missing:1"
    path = fdl(tmp_path, f"""
        functions:
          aws:
          - lambda: {{name: bad-fn, layers: ["{bad_layer}"], container: {{image: busybox}},
                     input: [{{storage_provider: s3, path: lonely-bucket/in}}]}}
        """)
    assert scar("init", "-f", path).code == 1
    assert "lonely-bucket" not in [b["Name"] for b in aws("s3").list_buckets()["Buckets"]]


def test_a_cycle_between_functions_is_refused(scar, aws, tmp_path):
    path = fdl(tmp_path, """
        functions:
          aws:
          - lambda:
              name: ping
              container: {image: busybox}
              input: [{storage_provider: s3, path: loop-bucket/a}]
              output: [{storage_provider: s3, path: loop-bucket/b}]
          - lambda:
              name: pong
              container: {image: busybox}
              input: [{storage_provider: s3, path: loop-bucket/b}]
              output: [{storage_provider: s3, path: loop-bucket/a/again}]
        """)
    result = scar("init", "-f", path)
    assert result.code == 2
    assert "functions.aws: the outputs and inputs form a loop: ping → pong → ping" in result.stderr
