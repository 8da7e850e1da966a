"""What the deploy engine adds to init and rm, against moto: plans with their calls, ownership kept without
tag limits, the sweep of layer versions nothing uses, and one function's planning failure kept apart."""

from __future__ import annotations

import io
import json
import zipfile

from devtools.images import fake_udocker_engine
from tests.integration.conftest import write_fdl
from tests.integration.lifecycle_support import ROLE

BUCKETS = [f"scar-long-input-bucket-{n:02d}" for n in range(25)]  # 650 characters of names: over a tag's 256


def inputs_fdl(buckets: list[str]) -> str:
    listed = "\n".join(f"      - {{storage_provider: s3, path: {bucket}/in}}" for bucket in buckets)
    return f"""
functions:
  aws:
  - lambda:
      name: many-inputs
      container: {{image: busybox}}
      input:
{listed}
"""


def wired(aws, bucket: str) -> list[str]:
    config = aws("s3").get_bucket_notification_configuration(Bucket=bucket)
    return [entry["Id"] for entry in config.get("LambdaFunctionConfigurations", [])]


def statements(aws, function: str) -> list[str]:
    return sorted(s["Sid"] for s in json.loads(aws("lambda").get_policy(FunctionName=function)["Policy"])["Statement"])


def test_a_long_input_list_is_never_half_forgotten(scar, aws, tmp_path):
    path = write_fdl(tmp_path, inputs_fdl(BUCKETS))
    assert scar("init", "-f", path).code == 0
    assert all(len(wired(aws, bucket)) == 1 for bucket in BUCKETS)
    path.write_text(inputs_fdl(BUCKETS[:1]))
    result = scar("init", "-f", path)
    assert result.code == 0, result.stderr
    assert all(wired(aws, bucket) == [] for bucket in BUCKETS[1:])  # every one of them unwired
    assert len(wired(aws, BUCKETS[0])) == 1
    assert statements(aws, "many-inputs") == [f"scar-s3-{BUCKETS[0]}"]


def test_rm_by_name_finds_every_input_however_many(scar, aws, tmp_path):
    assert scar("init", "-f", write_fdl(tmp_path, inputs_fdl(BUCKETS))).code == 0
    result = scar("rm", "-n", "many-inputs")
    assert result.code == 0, result.stderr
    assert all(wired(aws, bucket) == [] for bucket in BUCKETS)
    assert aws("lambda").list_functions()["Functions"] == []


def test_dry_run_verbose_lists_the_calls_and_json_holds_them(scar, aws, tmp_path):
    path = write_fdl(tmp_path, inputs_fdl(BUCKETS[:1]))
    text = scar("init", "-f", path, "--dry-run", "-v")
    assert text.code == 0, text.stderr
    assert "lambda.CreateFunction" in text.stdout and "s3.PutBucketNotificationConfiguration" in text.stdout
    document = json.loads(scar("init", "-f", path, "--dry-run", "-v", "-j").stdout)
    (function,) = document["Functions"]
    calls = [call["Operation"] for step in function["Steps"] for call in step["Calls"]]
    assert "CreateFunction" in calls and "AddPermission" in calls
    created = next(step for step in function["Steps"] if step["Resource"] == "function many-inputs")
    assert created["Kind"] == "function" and created["Action"] == "create"
    assert aws("lambda").list_functions()["Functions"] == []


def test_a_layer_version_nothing_uses_is_swept(scar, aws, tmp_path, isolated_env):
    path = write_fdl(tmp_path, "functions: {aws: [{lambda: {name: layered, container: {image: busybox}}}]}\n")
    assert scar("init", "-f", path).code == 0
    (old,) = aws("lambda").list_layer_versions(LayerName="faas-supervisor")["LayerVersions"]
    engine = json.loads((isolated_env / ".scar" / "scar.cfg").read_text())
    engine_file = engine["aws"]["lambda"]["supervisor"]["udocker_engine"]["file"]
    with open(engine_file, "wb") as changed:  # a new supervisor layer content
        changed.write(fake_udocker_engine() + b"\0" * 512)
    plan = scar("init", "-f", path, "--dry-run")
    assert f"layer faas-supervisor:{old['Version']}" in plan.stdout and "no function uses it" in plan.stdout
    assert scar("init", "-f", path).code == 0
    (new,) = aws("lambda").list_layer_versions(LayerName="faas-supervisor")["LayerVersions"]
    assert new["Version"] != old["Version"]
    layers = aws("lambda").get_function_configuration(FunctionName="layered")["Layers"]
    assert [layer["Arn"] for layer in layers] == [new["LayerVersionArn"]]


def test_one_function_that_cannot_be_planned_leaves_the_others(scar, aws, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("main.py", "def handler(event, context): pass\n")
    aws("lambda").create_function(FunctionName="not-ours", Runtime="python3.12", Role=ROLE,
                                  Handler="main.handler", Code={"ZipFile": buffer.getvalue()})
    path = write_fdl(tmp_path, """
        functions:
          aws:
          - lambda: {name: not-ours, container: {image: busybox}}
          - lambda: {name: ours-fn, container: {image: busybox}}
        """)
    result = scar("init", "-f", path)
    assert result.code == 1
    assert "ours-fn: created" in result.stdout and "not-ours: failed" in result.stdout
    assert "was not created by scar" in result.stderr
    names = sorted(f["FunctionName"] for f in aws("lambda").list_functions()["Functions"])
    assert names == ["not-ours", "ours-fn"]
    assert aws("lambda").get_function(FunctionName="not-ours")["Configuration"]["Runtime"] == "python3.12"
