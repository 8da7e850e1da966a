"""Amazon Resource Names, spelled with the partition of their region (`arn:aws-cn:...` in China)."""

from __future__ import annotations

from scar.config.regions import partition_of


def arn(partition: str, service: str, region: str, account: str, resource: str) -> str:
    """`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`; region and account may be empty (IAM, S3)."""
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


def regional_arn(service: str, region: str, account: str, resource: str) -> str:
    """An ARN in `region`'s own partition."""
    return arn(partition_of(region), service, region, account, resource)
