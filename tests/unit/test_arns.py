"""Partitions from botocore's data, and ARNs spelled with them."""

from __future__ import annotations

import pytest

from scar.aws.arns import arn, regional_arn
from scar.aws.s3_events import s3_event
from scar.config.regions import partition_of


@pytest.mark.parametrize(("region", "partition"), [
    ("us-east-1", "aws"), ("eu-west-1", "aws"), ("cn-north-1", "aws-cn"), ("cn-northwest-1", "aws-cn"),
    ("us-gov-west-1", "aws-us-gov"), ("us-gov-east-1", "aws-us-gov"),
])
def test_partition_of_known_regions(region, partition):
    assert partition_of(region) == partition


def test_a_region_botocore_does_not_list_yet_gets_the_partition_its_name_matches():
    assert partition_of("cn-southwest-9") == "aws-cn"
    assert partition_of("us-gov-central-9") == "aws-us-gov"


def test_arn_shapes():
    assert arn("aws-cn", "lambda", "cn-north-1", "123456789012", "function:f") == \
        "arn:aws-cn:lambda:cn-north-1:123456789012:function:f"
    assert arn("aws", "s3", "", "", "bucket") == "arn:aws:s3:::bucket"
    assert regional_arn("logs", "us-gov-west-1", "1", "log-group:/aws/lambda/f") == \
        "arn:aws-us-gov:logs:us-gov-west-1:1:log-group:/aws/lambda/f"


def test_launcher_events_carry_the_bucket_arn_of_their_partition():
    record = s3_event("b", "k", 1, "cn-north-1")["Records"][0]
    assert record["s3"]["bucket"]["arn"] == "arn:aws-cn:s3:::b"


def test_endpoint_domains_follow_the_partition():
    from scar.aws.apigateway import invoke_url
    from scar.config.regions import dns_suffix

    assert dns_suffix("eu-west-1") == "amazonaws.com" and dns_suffix("us-gov-west-1") == "amazonaws.com"
    assert dns_suffix("cn-north-1") == "amazonaws.com.cn"
    assert invoke_url("abc", "cn-north-1", "scar") == "https://abc.execute-api.cn-north-1.amazonaws.com.cn/scar/launch"


def test_ecr_registries_follow_the_partition():
    from types import SimpleNamespace

    from scar.aws.kinds.container_image import ecr_host

    provider = SimpleNamespace(account="123456789012", region="cn-northwest-1")  # only what the host needs
    assert ecr_host(provider) == "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn"
