"""`scar invoke -n NAME | -f FDL`: call a function through its HTTP endpoint (API Gateway): GET without
data, POST with `-db FILE` (its bytes) or `-jd JSON`; `-p JSON` query parameters; `-a` asynchronous."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scar.aws.apigateway import ApiGateway
from scar.aws.http_endpoint import (
    Answer,
    Endpoint,
    build_request,
    check_limits,
    error_message,
    find_endpoint,
    send,
    signed,
    timeout_error,
)
from scar.aws.invoke import output_for_json
from scar.aws.lambda_ import Lambda
from scar.cli.output import output_file_flag
from scar.cli.targets import selected_functions
from scar.errors import BadInputError, OperationFailed

if TYPE_CHECKING:
    from scar.cli.main import Context

#: what the original treated as "launched" for -a: 502 is API Gateway failing to read Lambda's empty answer
LAUNCHED = 502


def run(args: argparse.Namespace, ctx: Context) -> int:
    target = selected_functions(ctx, several=False)[0]
    if args.asynchronous and args.output_file:
        raise BadInputError("command line: -o/--output-file needs a synchronous call (-a/--asynchronous "
                            "returns no output)")
    body, content_type = _body(args)
    query = _query(args.parameters)
    check_limits(body, args.asynchronous)
    output_file = output_file_flag(args.output_file)
    session = ctx.aws(target.region, target.profile)
    stage = target.spec.api_gateway.stage_name if target.spec else None

    def original_id() -> str | None:
        configuration = Lambda(session.client("lambda")).get_configuration(target.name) or {}
        return ((configuration.get("Environment") or {}).get("Variables") or {}).get("API_GATEWAY_ID")

    endpoint = find_endpoint(ApiGateway(session.client("apigateway")), target.name, session.region, stage,
                             original_id)
    request = build_request(endpoint, body, content_type, query, args.asynchronous)
    if endpoint.iam:
        request = signed(request, session.credentials(), session.region)
    ctx.output.detail(f"{request.method} {request.url}")
    answer = send(request, endpoint)
    if args.asynchronous:
        return _launched(ctx, target.name, endpoint, answer)
    if not 200 <= answer.status < 300:
        if answer.status == 504:
            raise timeout_error()
        raise OperationFailed(f"function {target.name!r} failed (HTTP {answer.status}): {error_message(answer)}")
    return _result(ctx, target.name, endpoint, answer, output_file)


def _body(args: argparse.Namespace) -> tuple[bytes | None, str | None]:
    if args.data_binary and args.json_data is not None:
        raise BadInputError("command line: give -db/--data-binary FILE or -jd/--json-data JSON, not both")
    if args.json_data is not None:
        try:
            json.loads(args.json_data)
        except ValueError as err:
            raise BadInputError(f"command line: -jd/--json-data is not JSON: {err}") from None
        return args.json_data.encode("utf-8"), "application/json"
    if args.data_binary:
        path = Path(args.data_binary).expanduser()
        try:
            return path.read_bytes(), "application/octet-stream"
        except OSError as err:
            raise BadInputError(f"command line: -db/--data-binary: cannot read {path}: {err.strerror or err}") \
                from None
    return None, None


def _query(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    try:
        parameters = json.loads(text)
    except ValueError as err:
        raise BadInputError(f"command line: -p/--parameters is not JSON: {err}") from None
    if not isinstance(parameters, dict) or not all(isinstance(v, (str, int, float, bool)) for v in parameters.values()):
        raise BadInputError('command line: -p/--parameters must be a JSON object of plain values, such as '
                            '\'{"name": "value"}\'')
    return {str(key): json.dumps(value) if isinstance(value, bool) else str(value)
            for key, value in parameters.items()}



def _launched(ctx: Context, name: str, endpoint: Endpoint, answer: Answer) -> int:
    if not (200 <= answer.status < 300 or answer.status == LAUNCHED):
        raise OperationFailed(f"function {name!r} was not launched (HTTP {answer.status}): {error_message(answer)}")
    ctx.output.result({"APIGateway": {"Name": name, "Url": endpoint.url, "StatusCode": answer.status,
                                      "Asynchronous": True}},
                      f"Function '{name}' launched")
    return 0


def _result(ctx: Context, name: str, endpoint: Endpoint, answer: Answer, output_file: Path | None) -> int:
    headers = {key.lower(): value for key, value in answer.headers.items()}
    document: dict[str, Any] = {"Name": name, "Url": endpoint.url, "StatusCode": answer.status,
                                "RequestId": headers.get("amz-lambda-request-id"),
                                "LogGroupName": headers.get("amz-log-group-name"),
                                "LogStreamName": headers.get("amz-log-stream-name")}
    for label, key in (("Request Id", "RequestId"), ("Log Group Name", "LogGroupName"),
                       ("Log Stream Name", "LogStreamName")):
        if document[key]:
            ctx.output.notice(f"{label}: {document[key]}")
    if output_file:
        try:
            output_file.write_bytes(answer.body)
        except OSError as err:
            raise OperationFailed(f"the function ran, but its output could not be written to {output_file}: "
                                  f"{err.strerror or err}") from None
        ctx.output.notice(f"output written to {output_file} ({len(answer.body):,} bytes)")
        ctx.output.result({"APIGateway": {**document, "OutputFile": str(output_file)}}, None)
        return 0
    text, encoding = output_for_json(answer.body)
    ctx.output.result({"APIGateway": {**document, "Payload": text, "PayloadEncoding": encoding}},
                      answer.body.decode("utf-8", errors="replace"))
    return 0
