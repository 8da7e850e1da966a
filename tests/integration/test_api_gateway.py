"""`init`, `ls` and `rm` of a function with an HTTP endpoint, against moto server: the REST API, its routes,
stage and permission exactly; an unchanged re-init makes no mutating call; `rm` leaves nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.conftest import write_fdl
from tests.integration.lifecycle_support import ACCOUNT

REGION = "us-east-1"
FDL = """
functions:
  aws:
  - lambda:
      name: web-fn
      init_script: script.sh
      container: {image: busybox}
    api_gateway: {name: web-api}
"""
ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:web-fn"
URI = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{ARN}/invocations"
HEADER = "X-Amz-Invocation-Type"


@pytest.fixture
def fdl(tmp_path):
    (tmp_path / "script.sh").write_text("#!/bin/sh\necho hello\n")
    return write_fdl(tmp_path, FDL)


def the_api(aws: Any) -> dict[str, Any]:
    apis = aws("apigateway").get_rest_apis()["items"]
    assert len(apis) == 1, apis
    return apis[0]


def routes(aws: Any, api_id: str) -> dict[str, dict[str, Any]]:
    gateway = aws("apigateway")
    found = {}
    for resource in gateway.get_resources(restApiId=api_id)["items"]:
        method = gateway.get_method(restApiId=api_id, resourceId=resource["id"], httpMethod="ANY")
        found[resource["path"]] = {key: method[key] for key in ("authorizationType", "requestParameters",
                                                                "methodIntegration")}
    return found


def statements(aws: Any, name: str = "web-fn") -> list[dict[str, Any]]:
    return json.loads(aws("lambda").get_policy(FunctionName=name)["Policy"])["Statement"]


def test_init_creates_the_api_routes_stage_and_permission(scar, aws, fdl):
    result = scar("init", "-f", fdl)
    assert result.code == 0, result.stderr
    api = the_api(aws)
    assert api["name"] == "web-api"
    assert api["endpointConfiguration"] == {"types": ["REGIONAL"]}
    assert api["tags"] == {"createdby": "scar", "owner": "moto", "scar:function": "web-fn"}
    expected = {"authorizationType": "NONE", "requestParameters": {f"method.request.header.{HEADER}": False},
                "methodIntegration": {
                    "type": "AWS_PROXY", "httpMethod": "POST", "uri": URI, "cacheKeyParameters": [],
                    "requestParameters": {f"integration.request.header.{HEADER}": f"method.request.header.{HEADER}"}}}
    # the -a header reaches Lambda as its invocation type: the mapping is on both routes
    assert routes(aws, api["id"]) == {"/": expected, "/{proxy+}": expected}
    stages = aws("apigateway").get_stages(restApiId=api["id"])["item"]
    assert [stage["stageName"] for stage in stages] == ["scar"]
    [statement] = statements(aws)
    assert statement["Sid"] == "scar-apigateway"
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == \
        f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api['id']}/*"
    tags = aws("lambda").get_function(FunctionName="web-fn")["Tags"]
    assert tags["scar:api"] == "web-api"


def test_create_rest_api_asks_for_binary_media_types(scar, aws, fdl, monkeypatch):
    """moto drops binaryMediaTypes given at creation (a gap of the emulator), so the request is checked: the
    data plane on ministack (tests/e2e/test_http.py) proves binary bodies pass untouched."""
    sent: list[dict[str, Any]] = []
    from scar.aws.session import AwsSession

    original = AwsSession.client

    def client(session: AwsSession, service: str) -> Any:
        built = original(session, service)
        if service == "apigateway" and not getattr(built, "_recorded", False):
            built.meta.events.register("provide-client-params.apigateway.CreateRestApi",
                                       lambda params, **kw: sent.append(dict(params)))
            built._recorded = True
        return built

    monkeypatch.setattr(AwsSession, "client", client)
    assert scar("init", "-f", fdl).code == 0
    assert [params["binaryMediaTypes"] for params in sent] == [["*/*"]]
    assert sent[0]["description"] == "API created automatically with SCAR"


def test_reinit_unchanged_makes_no_mutating_call_and_keeps_the_url(scar, aws, fdl, counter):
    assert scar("init", "-f", fdl).code == 0
    api_id = the_api(aws)["id"]
    counter.reset()
    result = scar("init", "-f", fdl)
    assert result.code == 0, result.stderr
    assert counter.mutating == {}
    assert "web-fn: up to date" in result.stdout
    assert the_api(aws)["id"] == api_id


def test_iam_auth_and_a_new_stage_are_planned_and_applied(scar, aws, fdl, counter):
    assert scar("init", "-f", fdl).code == 0
    api_id = the_api(aws)["id"]
    deployments = len(aws("apigateway").get_deployments(restApiId=api_id)["items"])
    changed = fdl.read_text().replace("{name: web-api}", "{name: web-api, auth: iam, stage_name: prod}")
    fdl.write_text(changed)
    plan = scar("init", "-f", fdl, "--dry-run")
    assert plan.code == 0, plan.stderr
    assert "routes of REST API web-api" in plan.stdout and "StageName scar → prod" in plan.stdout
    counter.reset()
    assert scar("init", "-f", fdl).code == 0, "applying the plan"
    assert {route["authorizationType"] for route in routes(aws, api_id).values()} == {"AWS_IAM"}
    assert [s["stageName"] for s in aws("apigateway").get_stages(restApiId=api_id)["item"]] == ["prod"]
    assert len(aws("apigateway").get_deployments(restApiId=api_id)["items"]) == deployments + 1
    assert the_api(aws)["id"] == api_id  # same API, same URL host
    counter.reset()
    assert scar("init", "-f", fdl).code == 0
    assert counter.mutating == {}


def test_ls_shows_the_url_and_rm_leaves_nothing(scar, aws, fdl):
    assert scar("init", "-f", fdl).code == 0
    api_id = the_api(aws)["id"]
    url = f"https://{api_id}.execute-api.{REGION}.amazonaws.com/scar/launch"
    listed = scar("ls")
    assert url in listed.stdout, listed.stdout
    document = json.loads(scar("ls", "-j").stdout)
    assert document["Functions"][0]["Api_gateway"] == url
    removed = scar("rm", "-f", fdl)
    assert removed.code == 0, removed.stderr
    assert "REST API web-api of web-fn" in removed.stdout
    assert aws("apigateway").get_rest_apis()["items"] == []
    assert aws("lambda").list_functions()["Functions"] == []


def test_rm_tolerates_an_api_already_gone(scar, aws, fdl):
    assert scar("init", "-f", fdl).code == 0
    aws("apigateway").delete_rest_api(restApiId=the_api(aws)["id"])
    removed = scar("rm", "-n", "web-fn")
    assert removed.code == 0, removed.stderr
    assert "already absent" in removed.stdout
    assert aws("lambda").list_functions()["Functions"] == []


def test_dropping_the_api_from_the_definition_removes_it(scar, aws, fdl):
    assert scar("init", "-f", fdl).code == 0
    fdl.write_text(FDL.replace("    api_gateway: {name: web-api}\n", ""))
    result = scar("init", "-f", fdl)
    assert result.code == 0, result.stderr
    assert aws("apigateway").get_rest_apis()["items"] == []
    assert not any(s["Sid"] == "scar-apigateway" for s in _policy_or_empty(aws))
    assert "scar:api" not in aws("lambda").get_function(FunctionName="web-fn")["Tags"]


def test_api_flag_deploys_an_endpoint(scar, aws, tmp_path):
    (tmp_path / "script.sh").write_text("#!/bin/sh\necho hi\n")
    result = scar("init", "-n", "flag-fn", "-i", "busybox", "-s", str(tmp_path / "script.sh"), "-api", "flag-api")
    assert result.code == 0, result.stderr
    assert the_api(aws)["tags"]["scar:function"] == "flag-fn"


def test_unknown_auth_is_refused_before_any_call(scar, tmp_path, counter):
    (tmp_path / "script.sh").write_text("#!/bin/sh\necho hi\n")
    path = write_fdl(tmp_path, FDL.replace("{name: web-api}", "{name: web-api, auth: token}"))
    result = scar("init", "-f", path)
    assert result.code == 2
    assert "auth" in result.stderr and "Traceback" not in result.stderr
    assert counter.mutating == {}


def _policy_or_empty(aws: Any) -> list[dict[str, Any]]:
    try:
        return statements(aws)
    except aws("lambda").exceptions.ResourceNotFoundException:
        return []


def test_ls_without_the_right_to_read_api_gateway_still_lists(scar, aws, fdl, monkeypatch):
    """API Gateway answers AccessDenied (a local server standing in for an account without apigateway:GET):
    the URL column shows "-", the listing works."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Denied(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            data = b'{"message": "User is not authorized to perform: apigateway:GET"}'
            self.send_response(403)
            self.send_header("x-amzn-ErrorType", "AccessDeniedException")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    assert scar("init", "-f", fdl).code == 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Denied)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL_API_GATEWAY", f"http://127.0.0.1:{server.server_address[1]}")
        listed = scar("ls", "-j")
    finally:
        server.shutdown()
        server.server_close()
    assert listed.code == 0, listed.stderr
    assert json.loads(listed.stdout)["Functions"][0]["Api_gateway"] == "-"


def test_the_originals_per_service_region_key_is_accepted(scar, aws, tmp_path):
    (tmp_path / "script.sh").write_text("#!/bin/sh\necho hi\n")
    path = write_fdl(tmp_path, FDL.replace("{name: web-api}", "{name: web-api, region: us-east-1}"))
    result = scar("init", "-f", path)
    assert result.code == 0, result.stderr
    assert the_api(aws)["name"] == "web-api"
