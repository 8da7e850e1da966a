"""examples/video-workflow against moto: a Batch function whose output folder is the input of a Lambda
function is deployed (each wired to its folder of the shared bucket, the Batch resources created) and
removed without leaving anything."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.integration.batch_support import batch_state, create_batch_roles, network

#: every Batch init builds the supervisor's Python runtime (batch_runtime.py), which needs patchelf
pytestmark = pytest.mark.skipif(shutil.which("patchelf") is None, reason="patchelf is needed "
                                "(scripts/install-system-deps.sh)")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "video-workflow"
EMPTY = {"compute environments": {}, "job queues": {}, "job definitions": [], "launch templates": {}}


def test_the_video_workflow_deploys_and_is_removed(scar, aws, deploy_env, tmp_path):
    create_batch_roles(deploy_env)
    subnets, groups = network(deploy_env)
    for script in ("frames.sh", "thumbs.sh"):
        shutil.copy(EXAMPLE / script, tmp_path / script)
    text = (EXAMPLE / "video-workflow.yaml").read_text()
    text = text.replace("[subnet-00000000000000001, subnet-00000000000000002]", json.dumps(subnets))
    text = text.replace("[sg-00000000000000001]", json.dumps(groups))
    fdl = tmp_path / "video-workflow.yaml"
    fdl.write_text(text)
    aws("s3").create_bucket(Bucket="scar-video")

    result = scar("init", "-f", fdl)
    assert result.code == 0, result.stderr
    state = batch_state(deploy_env)
    assert list(state["compute environments"]) == ["scar-video-frames"]
    assert state["compute environments"]["scar-video-frames"][1]["type"] == "SPOT"
    assert list(state["job queues"]) == ["scar-video-frames"]
    assert state["job definitions"] == [("scar-video-frames", 1)]
    rules = aws("s3").get_bucket_notification_configuration(Bucket="scar-video")["LambdaFunctionConfigurations"]
    wired = {rule["LambdaFunctionArn"].rsplit(":", 1)[-1]: sorted(
        (f["Name"].lower(), f["Value"]) for f in rule["Filter"]["Key"]["FilterRules"]) for rule in rules}
    assert wired["scar-video-frames"][0] == ("prefix", "input/")
    assert wired["scar-video-thumbs"] == [("prefix", "frames/"), ("suffix", ".jpg")]
    listed = {f["Name"]: f["Execution_mode"] for f in json.loads(scar("ls", "-j").stdout)["Functions"]}
    assert listed == {"scar-video-frames": "batch", "scar-video-thumbs": "lambda"}

    removed = scar("rm", "-f", fdl)
    assert removed.code == 0, removed.stderr
    assert batch_state(deploy_env) == EMPTY
    assert aws("lambda").list_functions()["Functions"] == []
    assert aws("s3").get_bucket_notification_configuration(Bucket="scar-video").get(
        "LambdaFunctionConfigurations", []) == []
