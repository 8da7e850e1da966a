"""Invocation payloads, their limits, and the decoding of synchronous responses."""

from __future__ import annotations

import base64
import json

import pytest

from scar.aws.invoke import (
    ASYNC_PAYLOAD_LIMIT,
    SYNC_PAYLOAD_LIMIT,
    Invocation,
    build_payload,
    check_payload_size,
    decode_response,
    output_for_json,
    read_timeout,
)
from scar.errors import BadInputError


def response(payload: bytes, function_error: str | None = None, log: str | None = None) -> dict:
    answer = {"StatusCode": 200, "Payload": payload, "ResponseMetadata": {"RequestId": "aws-request"}}
    if function_error:
        answer["FunctionError"] = function_error
    if log is not None:
        answer["LogResult"] = base64.b64encode(log.encode()).decode()
    return answer


def supervisor(body: str, status: int = 200, encoded: bool = True, **extra: object) -> bytes:
    headers = {"amz-lambda-request-id": "req", "amz-log-group-name": "/aws/lambda/fn", "amz-log-stream-name": "st"}
    return json.dumps({"statusCode": status, "headers": headers,
                       "body": base64.b64encode(body.encode()).decode() if encoded else body,
                       "isBase64Encoded": encoded, **extra}).encode()


# ---- payloads ---------------------------------------------------------------------------------------


def test_default_payload_is_an_empty_object():
    assert build_payload() == b"{}"


def test_payload_with_script_and_arguments():
    assert json.loads(build_payload(b"echo \xff", ["a", "b c"])) == {"script": "ZWNobyD/", "cmd_args": ["a", "b c"]}


def test_empty_arguments_are_left_out():
    assert json.loads(build_payload(b"", [])) == {"script": ""}


@pytest.mark.parametrize(("asynchronous", "limit"), [(False, SYNC_PAYLOAD_LIMIT), (True, ASYNC_PAYLOAD_LIMIT)])
def test_payload_limits(asynchronous, limit):
    check_payload_size(b"x" * limit, asynchronous)
    with pytest.raises(BadInputError) as caught:
        check_payload_size(b"x" * (limit + 1), asynchronous)
    assert f"{limit + 1:,} bytes" in caught.value.message
    assert f"({limit:,} bytes) limit" in caught.value.message


def test_limits_are_lambdas():
    assert (SYNC_PAYLOAD_LIMIT, ASYNC_PAYLOAD_LIMIT) == (6_291_456, 1_048_576)


def test_read_timeout_outlasts_the_function():
    assert read_timeout(900) > 900


# ---- responses --------------------------------------------------------------------------------------


def test_supervisor_document_is_decoded():
    decoded = decode_response(response(supervisor("hi\n"), log="START\nEND\n"))
    assert decoded == Invocation("req", 200, "/aws/lambda/fn", "st", b"hi\n", None, "START\nEND\n")


def test_plain_body_when_not_base64():
    assert decode_response(response(supervisor("plain", encoded=False))).output == b"plain"


def test_invalid_base64_body_is_shown_as_it_came():
    assert decode_response(response(supervisor("not base64!", encoded=False, isBase64Encoded=True))).output == (
        b"not base64!")


def test_other_payloads_are_shown_as_is():
    decoded = decode_response(response(b'{"cmd_args": ["x"]}'))
    assert decoded == Invocation("aws-request", 200, None, None, b'{"cmd_args": ["x"]}')
    assert decode_response(response(b"\xff binary")).output == b"\xff binary"


def test_function_error_with_lambda_error_document():
    payload = json.dumps({"errorMessage": "boom", "errorType": "KeyError", "stackTrace": []}).encode()
    assert decode_response(response(payload, "Unhandled")).error == "KeyError: boom"


def test_function_error_with_raw_text():
    assert decode_response(response(b"error running docker: no daemon", "Handled")).error == (
        "error running docker: no daemon")


def test_function_error_without_details():
    assert decode_response(response(b"", "Unhandled")).error == "no details in the response"


def test_timeout_is_a_failure_even_without_function_error():
    payload = json.dumps({"errorMessage": "2026-11-25T10:00:00.000Z id Task timed out after 3.00 seconds"})
    error = decode_response(response(payload.encode())).error
    assert error is not None and error.startswith("2026-11-25T10:00:00.000Z id Task timed out after 3.00 seconds")
    assert "raise the function's timeout" in error


def test_supervisor_error_status_uses_the_exception():
    body = json.dumps({"exception": "Traceback ...\nValueError: bad\n"})
    decoded = decode_response(response(supervisor(body, status=500)))
    assert decoded.error == "Traceback ...\nValueError: bad"
    assert decoded.log_group == "/aws/lambda/fn"


def test_supervisor_error_status_with_plain_body():
    assert decode_response(response(supervisor("it broke", status=502))).error == "it broke"


def test_output_for_json():
    assert output_for_json("é".encode()) == ("é", "utf-8")
    assert output_for_json(b"\xff\x00") == ("/wA=", "base64")
