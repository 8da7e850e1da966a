"""fdl-example.yaml and docs/fdl-reference.md are generated from the specs the validator uses: they must be
up to date, name every key the specs accept (and no other), and the example must validate."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from scar.cli.main import main
from scar.config import reference
from scar.config.reference_text import DESCRIPTIONS
from scar.config.schema import spec_field
from scar.config.specs import FunctionSpec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "fdl-example.yaml"
ROLE = "arn:aws:iam::123456789012:role/scar-lambda-role"


def test_generated_files_are_up_to_date():
    assert EXAMPLE.read_text() == reference.example_yaml(), "run python scripts/fdl_example.py"
    assert (ROOT / "docs" / "fdl-reference.md").read_text() == reference.reference_markdown()


def test_check_mode_fails_on_a_stale_file(tmp_path, monkeypatch):
    stale = tmp_path / "fdl-example.yaml"
    stale.write_text("functions: {}\n")
    script = (ROOT / "scripts" / "fdl_example.py").read_text()
    patched = tmp_path / "fdl_example.py"
    patched.write_text(script.replace("ROOT / \"fdl-example.yaml\"", f"Path({str(stale)!r})").replace(
        "ROOT = Path(__file__).resolve().parent.parent", f"ROOT = Path({str(ROOT)!r})"))
    process = subprocess.run([sys.executable, str(patched), "--check"], capture_output=True, text=True)
    assert process.returncode == 1
    assert "out of date" in process.stderr
    assert subprocess.run([sys.executable, str(ROOT / "scripts" / "fdl_example.py"), "--check"]).returncode == 0


def test_every_key_has_a_description_and_no_description_is_stale():
    names = reference.all_names()
    assert [n for n in names if n not in DESCRIPTIONS] == []
    assert [d for d in DESCRIPTIONS if d not in names] == []
    assert [e for e in [*reference.EXAMPLES, *reference.COMMENTED] if e not in names] == []


def _uncommented(text: str) -> str:
    """The example with every commented key made active (the header is dropped)."""
    body = text[text.index("\nfunctions:") + 1:]
    return re.sub(r"^(\s*)# ", r"\1", body, flags=re.MULTILINE)


def _paths(data: object, prefix: str) -> list[str]:
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{prefix}.{key}"
            found.append(name)
            found += _paths(value, name)
    elif isinstance(data, list):
        for item in data:
            found += _paths(item, prefix + "[]")
    return found


def test_the_example_names_every_key_once_commented_keys_included():
    data = yaml.safe_load(_uncommented(EXAMPLE.read_text()))
    found = _paths(data["functions"]["aws"][0], "aws")
    found += _paths(data["functions"]["oscar"][0][reference.OSCAR_CLUSTER], "oscar")
    storage = data["storage_providers"]
    found += [name for kind, entries in storage.items()
              for name in [f"storage.{kind}", *(re.sub(r"^(storage\.\w+)\.\w+", r"\1.<id>", p)
                                                for p in _paths(entries, f"storage.{kind}")
                                                if p.count(".") > 2)]]
    assert sorted(found) == sorted(reference.all_names())


@dataclasses.dataclass(frozen=True)
class _ExtendedFunctionSpec(FunctionSpec):
    """FunctionSpec with one more key, as a future change to specs.py would add."""

    scan_on_push: bool = spec_field(False)


def test_a_new_spec_field_appears_in_both_documents_and_needs_a_description(monkeypatch):
    monkeypatch.setattr(reference, "FunctionSpec", _ExtendedFunctionSpec)
    assert "aws.scan_on_push" in reference.all_names()
    assert "\n    scan_on_push: false  # " in reference.example_yaml()
    assert "| `scan_on_push` | true/false | `false` |" in reference.reference_markdown()
    assert reference.example_yaml() != EXAMPLE.read_text()  # so test_generated_files_are_up_to_date fails
    assert "aws.scan_on_push" not in DESCRIPTIONS  # so the description test fails


def test_scar_validate_accepts_the_example(isolated_env, capsys):
    config = isolated_env / ".scar" / "scar.cfg"
    config.parent.mkdir()
    config.write_text(json.dumps({"aws": {"iam": {"role": ROLE}}}))
    code = main(["validate", "-f", str(EXAMPLE), "-j"])
    out, err = capsys.readouterr()
    assert code == 0, err
    document = json.loads(out)
    assert [f["Name"] for f in document["Functions"]] == ["scar-example"]
    assert [s["Name"] for s in document["Services"]] == ["scar-example"]
