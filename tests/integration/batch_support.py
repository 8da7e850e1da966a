"""Arranging moto for AWS Batch: the default roles scar names (the service role, the instance profile), the
pre-seeded default VPC's subnets and security group, and an FDL for a Batch function."""

from __future__ import annotations

import json
from typing import Any

import boto3

REGION = "us-east-1"


def create_batch_roles(endpoint: str) -> None:
    """ecsInstanceRole (an instance profile) and service-role/AWSBatchServiceRole, as scar's defaults name them."""
    iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "batch.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    iam.create_role(RoleName="AWSBatchServiceRole", Path="/service-role/", AssumeRolePolicyDocument=trust)
    iam.create_role(RoleName="ecsInstanceRole", AssumeRolePolicyDocument=trust)
    iam.create_instance_profile(InstanceProfileName="ecsInstanceRole")
    iam.add_role_to_instance_profile(InstanceProfileName="ecsInstanceRole", RoleName="ecsInstanceRole")


def network(endpoint: str) -> tuple[list[str], list[str]]:
    """Two subnets and the default security group of moto's default VPC."""
    ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=REGION)
    subnets = sorted(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"])[:2]
    groups = [g["GroupId"] for g in ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"]]
    return subnets, groups


def batch_fdl(name: str, subnets: list[str], groups: list[str], lambda_extra: str = "", batch_extra: str = "",
              mode: str = "batch", image: str = "python:3.12-slim") -> str:
    """An FDL for one Batch function (`*_extra`: more YAML lines, indented for their section)."""
    return f"""
functions:
  aws:
  - lambda:
      name: {name}
      execution_mode: {mode}
      init_script: script.sh
      container: {{image: "{image}"}}
      deployment: {{bucket: {name}-deploy}}
{lambda_extra}
    batch:
      compute_resources:
        subnets: {json.dumps(subnets)}
        security_group_ids: {json.dumps(groups)}
{batch_extra}
"""


def batch_state(endpoint: str) -> dict[str, Any]:
    """The Batch and EC2 resources scar may touch, field by field (active job definitions only; every version of
    each launch template)."""
    batch = boto3.client("batch", endpoint_url=endpoint, region_name=REGION)
    ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=REGION)
    environments = {e["computeEnvironmentName"]: (e.get("state"), e.get("computeResources"), e.get("tags"),
                                                  e.get("serviceRole"))
                    for e in batch.describe_compute_environments()["computeEnvironments"]
                    if e.get("status") != "DELETED"}
    queues = {q["jobQueueName"]: (q.get("state"), q.get("computeEnvironmentOrder"), q.get("tags"), q.get("priority"))
              for q in batch.describe_job_queues()["jobQueues"] if q.get("status") != "DELETED"}
    definitions = sorted((d["jobDefinitionName"], d["revision"])
                         for d in batch.describe_job_definitions(status="ACTIVE")["jobDefinitions"])
    templates = {t["LaunchTemplateName"]: (t.get("DefaultVersionNumber"), t.get("Tags"), [
        (v["VersionNumber"], v["LaunchTemplateData"].get("UserData"))
        for v in ec2.describe_launch_template_versions(LaunchTemplateName=t["LaunchTemplateName"])[
            "LaunchTemplateVersions"]]) for t in ec2.describe_launch_templates()["LaunchTemplates"]}
    return {"compute environments": environments, "job queues": queues, "job definitions": definitions,
            "launch templates": templates}
