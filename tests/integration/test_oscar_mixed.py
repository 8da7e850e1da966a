"""A mixed FDL: one Lambda function on moto and one OSCAR service on the local OSCAR API, in one init and
one rm; a failure on one side does not hide the other side's report."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.conftest import write_fdl
from tests.integration.test_oscar import basic, configure, oscar  # noqa: F401 - `oscar` is a fixture

MIXED = """
    functions:
      aws:
      - lambda: {name: mixed-fn, container: {image: busybox}}
      oscar:
      - c1: {name: mixed-svc, image: grycap/plants, script: plants.sh}
    """


def mixed_fdl(folder: Path) -> Path:
    (folder / "plants.sh").write_text("echo plants\n")
    return write_fdl(folder, MIXED)


def test_one_init_deploys_both_and_one_rm_removes_both(scar, aws, oscar, isolated_env, tmp_path):  # noqa: F811
    configure(isolated_env, c1=basic(oscar))
    fdl = mixed_fdl(tmp_path)
    result = scar("-j", "init", "-f", fdl)
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert [(f["Name"], f["Result"]) for f in document["Functions"]] == [("mixed-fn", "created")]
    assert [(s["Name"], s["Result"]) for s in document["Services"]] == [("mixed-svc", "created")]
    assert aws("lambda").get_function(FunctionName="mixed-fn")["Configuration"]["FunctionName"] == "mixed-fn"
    assert "mixed-svc" in oscar.services
    removed = scar("rm", "-f", fdl)
    assert removed.code == 0, removed.stderr
    assert oscar.services == {}
    assert [f["FunctionName"] for f in aws("lambda").list_functions()["Functions"]] == []


def test_an_unreachable_cluster_does_not_hide_the_aws_report(scar, aws, isolated_env, tmp_path):
    configure(isolated_env, c1={"endpoint": "http://127.0.0.1:9", "auth_user": "u", "auth_password": "p"})
    result = scar("init", "-f", mixed_fdl(tmp_path))
    assert result.code == 1
    assert "mixed-fn: created" in result.stdout
    assert "mixed-svc (OSCAR c1): failed (OSCAR cluster c1: GET /system/services/mixed-svc: cannot reach" in (
        result.stdout)
    assert "1 of 2 function(s) failed" in result.stderr
    assert aws("lambda").get_function(FunctionName="mixed-fn")
