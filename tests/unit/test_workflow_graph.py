"""`scar validate -f FDL --graph`: which folder starts which function and which function's output starts
which function, as a text tree, as Mermaid, and in the -j document."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from scar.cli.graph import Folder, Node, Workflow, as_mermaid, as_text
from scar.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
ROLE = "arn:aws:iam::123456789012:role/scar-lambda-role"

FAN_OUT = """
functions:
  aws:
  - lambda:
      name: split
      container: {image: busybox}
      input: [{storage_provider: s3, path: media/in}]
      output: [{storage_provider: s3, path: media/parts}]
  - lambda:
      name: small
      container: {image: busybox}
      input: [{storage_provider: s3, path: media/parts}]
      output: [{storage_provider: s3, path: media/small}]
  - lambda:
      name: big
      container: {image: busybox}
      input: [{storage_provider: s3, path: media}]
      output: [{storage_provider: s3, path: archive/big}]
  - lambda:
      name: manual
      container: {image: busybox}
      output: [{storage_provider: s3, path: media/parts/manual}]
"""


@pytest.fixture
def validate(isolated_env, capsys):
    config = isolated_env / ".scar" / "scar.cfg"
    config.parent.mkdir()
    config.write_text(json.dumps({"aws": {"iam": {"role": ROLE}}}))

    def run(fdl: Path, *flags: str) -> tuple[int, str, str]:
        code = main(["validate", "-f", str(fdl), *flags])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_the_workflow_example_is_a_chain(validate):
    code, out, err = validate(ROOT / "examples" / "workflow" / "workflow.yaml", "--graph")
    assert code == 0, err
    assert out.endswith(textwrap.dedent("""\
        [s3:scar-workflow/input]
        └─▶ scar-wf-clean
            └─▶ [s3:scar-workflow/clean]
                └─▶ scar-wf-count
                    └─▶ [s3:scar-workflow/result]
        """))


def test_mermaid_is_only_the_diagram(validate):
    code, out, _ = validate(ROOT / "examples" / "workflow" / "workflow.yaml", "--graph", "mermaid")
    assert code == 0
    assert out.splitlines() == [
        "flowchart LR",
        '  s0[("s3:scar-workflow/input")]',
        '  s1[("s3:scar-workflow/clean")]',
        '  s2[("s3:scar-workflow/result")]',
        '  f0["scar-wf-clean"]',
        '  f1["scar-wf-count"]',
        "  s0 --> f0",
        "  f0 --> s1",
        "  s1 --> f1",
        "  f1 --> s2",
    ]


def test_subfolders_trigger_the_parent_folders_function_and_json_lists_every_trigger(validate, tmp_path):
    fdl = tmp_path / "fan.yaml"
    fdl.write_text(FAN_OUT)
    code, out, err = validate(fdl, "--graph", "-j")
    assert code == 0, err
    triggers = {(t["From"], t["Via"], t["To"]) for t in json.loads(out)["Graph"]["Triggers"]}
    assert triggers == {
        ("split", "s3:media/parts", "small"), ("split", "s3:media/parts", "big"),
        ("small", "s3:media/small", "big"),
        ("manual", "s3:media/parts/manual", "small"), ("manual", "s3:media/parts/manual", "big"),
    }
    code, out, _ = validate(fdl, "--graph")
    assert out[out.index("\n[s3:media/in]") + 1:] == textwrap.dedent("""\
        [s3:media/in]
        ├─▶ split
        │   └─▶ [s3:media/parts]
        │       ├─▶ small
        │       │   └─▶ [s3:media/small]
        │       │       └─▶ big
        │       │           └─▶ [s3:archive/big]
        │       └─▶ big
        │           └─▶ [s3:archive/big]
        └─▶ big
            └─▶ [s3:archive/big]
        [s3:media]
        └─▶ big
            └─▶ [s3:archive/big]
        manual  (no input: started by scar run)
        └─▶ [s3:media/parts/manual]
            ├─▶ small
            │   └─▶ [s3:media/small]
            │       └─▶ big
            │           └─▶ [s3:archive/big]
            └─▶ big
                └─▶ [s3:archive/big]
        """)


MIXED = """
functions:
  aws:
  - lambda:
      name: resize
      container: {image: busybox}
      input: [{storage_provider: s3, path: photos/in}]
      output: [{storage_provider: minio.shared, path: photos/small}]
  oscar:
  - my_oscar:
      name: classify
      image: busybox
      script: script.sh
      endpoint: https://oscar.example.org
      input: [{storage_provider: minio.shared, path: photos/small}]
      output: [{storage_provider: minio.shared, path: photos/labels}]
storage_providers:
  minio:
    shared: {endpoint: "https://minio.example.org"}
"""


def test_mixed_aws_and_oscar_services_are_one_graph(validate, tmp_path):
    (tmp_path / "script.sh").write_text("echo\n")
    fdl = tmp_path / "mixed.yaml"
    fdl.write_text(MIXED)
    code, out, err = validate(fdl, "--graph", "-j")
    assert code == 0, err
    assert json.loads(out)["Graph"]["Triggers"] == [
        {"From": "resize", "Via": "minio.shared:photos/small", "To": "classify (OSCAR my_oscar)"}]


def test_without_graph_there_is_no_graph(validate):
    _, out, _ = validate(ROOT / "examples" / "workflow" / "workflow.yaml", "-j")
    assert "Graph" not in json.loads(out)


def test_a_loop_of_services_is_drawn_not_followed_forever():
    a, b = Folder("minio", "x/a"), Folder("minio", "x/b")
    flow = Workflow((Node("one", (a,), (b,)), Node("two", (b,), (a,))))
    text = as_text(flow)
    assert text.splitlines() == ["one  (started only by outputs of its own loop)",
                                 "two  (started only by outputs of its own loop)"]
    assert "f0 --> s1" in as_mermaid(flow) and "f1 --> s0" in as_mermaid(flow)


def test_a_loop_reached_from_a_start_is_marked():
    start, a, b = Folder("minio", "in"), Folder("minio", "x/a"), Folder("minio", "x/b")
    flow = Workflow((Node("one", (start, a), (b,)), Node("two", (b,), (a,))))
    assert as_text(flow).splitlines() == [
        "[minio:in]", "└─▶ one", "    └─▶ [minio:x/b]", "        └─▶ two", "            └─▶ [minio:x/a]",
        "                └─▶ one  (loop)"]
