"""Every FDL in examples/ passes `scar validate` (with a scar.cfg that has what a user's would: a role and
the OSCAR cluster `my_oscar`), and every example folder has its README and the scripts its FDL names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*/*.yaml"))
ROLE = "arn:aws:iam::123456789012:role/scar-lambda-role"


@pytest.fixture
def user_config(isolated_env: Path) -> Path:
    config = isolated_env / ".scar" / "scar.cfg"
    config.parent.mkdir()
    config.write_text(json.dumps({
        "aws": {"iam": {"role": ROLE}},
        "oscar": {"my_oscar": {"endpoint": "https://oscar.example.org", "auth_user": "oscar",
                               "auth_password": "example-password"}},
    }))
    return config


def test_there_are_examples_of_every_use_case():
    folders = {path.parent.name for path in EXAMPLES}
    assert {"cowsay", "hello", "workflow", "local", "http", "image", "oscar", "video-workflow", "imagemagick",
            "darknet", "mpi", "mask-detector-workflow"} <= folders


@pytest.mark.parametrize("fdl", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_example_validates(fdl, scar, user_config):
    result = scar("-j", "validate", "-f", fdl)
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["Functions"] or document["Services"]


@pytest.mark.parametrize("folder", sorted({p.parent for p in EXAMPLES}), ids=lambda p: p.name)
def test_example_folder_has_a_readme_and_its_scripts(folder):
    assert (folder / "README.md").is_file()
    for fdl in folder.glob("*.yaml"):
        data = yaml.safe_load(fdl.read_text())
        functions = data["functions"]
        scripts = [f["lambda"].get("init_script") for f in functions.get("aws") or []]
        scripts += [service.get("script") for entry in functions.get("oscar") or [] for service in entry.values()]
        for script in filter(None, scripts):
            assert (folder / script).is_file(), f"{fdl.name} names {script}"


def test_the_mixed_workflow_spans_oscar_and_aws(scar, user_config):
    fdl = ROOT / "examples" / "mask-detector-workflow" / "mask-detector-workflow.yaml"
    document = json.loads(scar("-j", "validate", "-f", fdl, "--graph").stdout)
    assert [f["Name"] for f in document["Graph"]["Functions"]] == [
        "scar-mask-detector", "blurry-faces (OSCAR my_oscar)"]


def test_the_mpi_example_is_a_multi_node_batch_job(scar, user_config):
    data = yaml.safe_load((ROOT / "examples" / "mpi" / "mpi.yaml").read_text())
    function = data["functions"]["aws"][0]
    assert function["lambda"]["execution_mode"] == "batch"
    assert function["batch"]["multi_node_parallel"] == {"enabled": True, "number_nodes": 3, "main_node_index": 0}
