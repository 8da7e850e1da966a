"""Turn botocore's exceptions into scar errors with a message that says what happened."""

from __future__ import annotations

import botocore.exceptions

from scar.errors import AwsError, BadInputError, ScarError


def error_code(err: botocore.exceptions.ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def describe(err: Exception) -> str:
    """A short reason for one item's failure (a file, an event): `Code: message`, or the exception."""
    if isinstance(err, botocore.exceptions.ClientError):
        error = err.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".rstrip(": ")
    if isinstance(err, OSError):
        return err.strerror or str(err)
    return f"{type(err).__name__}: {err}"


def message_of(err: Exception) -> str:
    """The user-facing message of any failure: a scar error's own, an AWS one translated."""
    if isinstance(err, ScarError):
        return err.message
    if type(err).__module__.startswith("botocore"):
        return translate(err).message
    return f"{type(err).__name__}: {err}"


def translate(err: Exception) -> ScarError:
    if isinstance(err, botocore.exceptions.ClientError):
        error = err.response.get("Error", {})
        code = error.get("Code", "Unknown")
        message = error.get("Message") or ""
        return AwsError(f"{err.operation_name} failed: {code}{': ' + message if message else ''}")
    if isinstance(err, botocore.exceptions.NoCredentialsError):
        return BadInputError("no AWS credentials found: run `aws configure`, set AWS_ACCESS_KEY_ID and "
                             "AWS_SECRET_ACCESS_KEY, or choose a profile with --profile")
    if isinstance(err, botocore.exceptions.NoRegionError):
        return BadInputError("no AWS region: pass --region, set AWS_REGION, or set aws.region in scar.cfg")
    if isinstance(err, botocore.exceptions.ProfileNotFound):
        return BadInputError(str(err))
    if isinstance(err, (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionError)):
        return AwsError(f"cannot reach AWS: {err}")
    if isinstance(err, botocore.exceptions.ParamValidationError):
        return BadInputError(f"invalid request: {err}")
    return AwsError(f"{type(err).__name__}: {err}")
