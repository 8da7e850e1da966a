"""What to tell a user who has no IAM role for their functions yet."""

from __future__ import annotations

import json

TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}
PERMISSIONS_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": "arn:aws:logs:*:*:log-group:/aws/lambda/*"},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::*/*"},
        {"Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": "arn:aws:ssm:*:*:parameter/scar/*"},
        {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "*",
         "Condition": {"StringLike": {"kms:ViaService": "ssm.*.amazonaws.com"}}},
    ],
}


def role_help() -> str:
    return (
        "Your functions need an IAM role. Create one (IAM console, or `aws iam create-role`) with this trust\n"
        f"policy:\n{json.dumps(TRUST_POLICY, indent=2)}\n"
        "and these permissions (logs for CloudWatch; S3 for inputs and outputs; SSM and KMS for the storage\n"
        "credentials scar keeps as SecureStrings):\n"
        f"{json.dumps(PERMISSIONS_POLICY, indent=2)}\n"
        "then set its ARN as aws.iam.role in scar.cfg, as iam.role in the FDL, or pass -r ARN."
    )
