"""The `--debug` log's redaction: structured bodies, text patterns, and what stays visible."""

from __future__ import annotations

import json
import logging

import pytest

from scar.cli.debug_log import HIDDEN, _Redact, looks_secret, redact, redact_data

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize("name", ["SecretAccessKey", "AccessKeyId", "SessionToken", "aws_secret_access_key",
                                  "Password", "auth_password", "Token", "Credentials", "secret_key",
                                  "access_key", "MINIO_SECRET_KEY", "x-amz-security-token", "authorizationToken"])
def test_secret_names(name):
    assert looks_secret(name)


@pytest.mark.parametrize("name", ["NextToken", "nextToken", "ContinuationToken", "NextContinuationToken",
                                  "nextForwardToken", "ClientToken", "Name", "Value", "KeyId", "FunctionName",
                                  "scar:credentials", "Description"])
def test_names_that_stay_visible(name):
    assert not looks_secret(name)


def test_ssm_secure_string_values_are_hidden_in_requests_and_answers():
    put = {"Name": "/scar/f/storage/s3.x", "Value": json.dumps({"secret_key": SECRET}), "Type": "SecureString"}
    answer = {"Parameters": [{**put, "Version": 1}], "NextToken": "page-2"}
    request = {"url_path": "/", "headers": {"X-Amz-Target": "AmazonSSM.PutParameter"},
               "body": json.dumps(put).encode()}
    shown = repr(redact_data(request)) + repr(redact_data(json.dumps(answer).encode()))
    assert SECRET not in shown
    assert "/scar/f/storage/s3.x" in shown and "page-2" in shown and "AmazonSSM.PutParameter" in shown


def test_tags_and_plain_values_stay_visible():
    tags = {"Tags": [{"Key": "owner", "Value": "alice"}], "Environment": {"Variables": {"LOG": "INFO"}}}
    assert redact_data(tags) == tags


def test_environment_and_name_value_pairs_whose_name_looks_secret():
    data = {"Environment": {"Variables": {"MINIO_SECRET_KEY": SECRET, "MODE": "fast"}},
            "environment": [{"name": "DB_PASSWORD", "value": SECRET}, {"name": "MODE", "value": "fast"}]}
    assert redact_data(data) == {"Environment": {"Variables": {"MINIO_SECRET_KEY": HIDDEN, "MODE": "fast"}},
                                 "environment": [{"name": "DB_PASSWORD", "value": HIDDEN},
                                                 {"name": "MODE", "value": "fast"}]}


def test_sts_credentials_are_hidden_as_a_whole_and_in_xml():
    assert redact_data({"Credentials": {"AccessKeyId": "AKIA1", "SecretAccessKey": SECRET}}) == {
        "Credentials": HIDDEN}
    xml = f"<AssumeRoleResult><SecretAccessKey>{SECRET}</SecretAccessKey><Arn>arn:x</Arn></AssumeRoleResult>"
    assert redact(xml) == f"<AssumeRoleResult><SecretAccessKey>{HIDDEN}</SecretAccessKey><Arn>arn:x</Arn>" \
                          "</AssumeRoleResult>"


@pytest.mark.parametrize("text", [
    f"'X-Amz-Security-Token': b'{SECRET}'",
    f'\\"secret_key\\": \\"{SECRET}\\"',
    f'\\\\\\"secret_key\\\\\\": \\\\\\"{SECRET}\\\\\\"',
    f"x-amz-security-token:{SECRET}",
    f"aws_secret_access_key = {SECRET}",
    f"https://b.s3.amazonaws.com/k?X-Amz-Security-Token={SECRET}&X-Amz-Expires=60",
])
def test_text_patterns_hide_values_whatever_the_quoting(text):
    assert SECRET not in redact(text)


def test_authorization_header_keeps_its_scope_but_not_the_key_or_signature():
    header = ("AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/eu-west-1/ssm/aws4_request, "
              "SignedHeaders=host;x-amz-date, Signature=" + "ab" * 32)
    shown = redact(header)
    assert "AKIAEXAMPLE" not in shown and "ab" * 32 not in shown
    assert "/20260101/eu-west-1/ssm/aws4_request" in shown and "SignedHeaders=host;x-amz-date" in shown


def test_the_filter_redacts_arguments_before_formatting_and_tracebacks():
    record = logging.LogRecord("botocore.endpoint", logging.DEBUG, __file__, 1, "params: %s", (
        {"body": json.dumps({"Name": "n", "Value": SECRET, "Type": "SecureString"}).encode()},), None)
    assert _Redact().filter(record)
    assert SECRET not in record.getMessage()
    try:
        raise ValueError(f"password={SECRET}")
    except ValueError:
        import sys

        failed = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    _Redact().filter(failed)
    assert SECRET not in logging.Formatter().format(failed)
