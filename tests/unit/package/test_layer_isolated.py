"""The built supervisor layer stands alone: in `python -I -S` with only the layer, the standard library and
boto3 (with what boto3 needs, as Lambda's runtime has them) on sys.path, every supervisor module imports and
`python -m scar.supervisor` runs an event end to end. The rest of the venv (scar's client, yaml, requests)
is out of reach, so an import of anything else fails here."""

from __future__ import annotations

import base64
import importlib.util
import json
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from scar.package.layer import build_supervisor_layer

#: boto3 and its dependencies, as Lambda's Python runtime provides them beside the layer
BOTO = ("boto3", "botocore", "jmespath", "dateutil", "urllib3", "s3transfer", "six")
#: in the venv, never in the layer or Lambda's runtime
UNREACHABLE = ("scar.cli", "scar.config", "scar.aws", "scar.deploy", "scar.package", "yaml", "requests")

PRELUDE = """\
import json, sys
sys.path[:] = json.loads(sys.argv.pop(1))
"""

CHECK_IMPORTS = PRELUDE + """\
import importlib, pkgutil, scar.supervisor
names = [m.name for m in pkgutil.walk_packages(scar.supervisor.__path__, "scar.supervisor.")]
for name in names:
    importlib.import_module(name)
import boto3
unreachable = []
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
        unreachable.append(name)
    except ImportError:
        pass
print(json.dumps({"imported": names, "reachable": unreachable,
                  "files": sorted({getattr(m, "__file__", None) or "" for m in list(sys.modules.values())})}))
"""

RUN_MAIN = PRELUDE + """\
import runpy
sys.argv[0] = "scar.supervisor"
try:
    runpy.run_module("scar.supervisor", run_name="__main__", alter_sys=True)
except SystemExit as done:
    code = done.code
files = sorted({getattr(m, "__file__", None) or "" for m in list(sys.modules.values())})
print(json.dumps(files), file=sys.stderr)
sys.exit(code)
"""


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The unzipped layer, a folder of links to boto3 and its dependencies only, and the standard library's
    folders (sys.path of `python -I -S`: no site-packages)."""
    root = tmp_path_factory.mktemp("isolated")
    layer = root / "opt"
    with zipfile.ZipFile(BytesIO(build_supervisor_layer(None).zip_bytes)) as archive:
        archive.extractall(layer)
    boto = root / "runtime"
    boto.mkdir()
    for name in BOTO:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin, name
        source = Path(spec.origin).parent if spec.submodule_search_locations else Path(spec.origin)
        (boto / source.name).symlink_to(source)
    stdlib = json.loads(subprocess.run([sys.executable, "-I", "-S", "-c", "import sys, json; print(json.dumps("
                                        "[p for p in sys.path if p]))"], capture_output=True, text=True,
                                       check=True).stdout)
    assert not any("site-packages" in p or "dist-packages" in p for p in stdlib)
    return {"layer": layer / "python", "boto": boto, "stdlib": stdlib, "root": root,
            "sys_path": [str(layer / "python"), str(boto), *stdlib]}


def isolated(paths: dict[str, object], code: str, *args: str, stdin: str = "",
             cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(paths["root"]), "LANG": "C.UTF-8"}
    return subprocess.run([sys.executable, "-I", "-S", "-c", code, json.dumps(paths["sys_path"]), *args],
                          input=stdin, capture_output=True, text=True, env=env, cwd=cwd or paths["root"],
                          timeout=60)


def outside(paths: dict[str, object], files: list[str]) -> list[str]:
    """Module files that are neither the layer's, boto3's (through the links) nor the standard library's."""
    allowed = (str(paths["layer"]), str(paths["boto"]), *paths["stdlib"])  # type: ignore[misc]
    return [file for file in files if file and (not file.startswith(allowed) or "site-packages" in file)]


def test_every_supervisor_module_imports_with_the_layer_alone(paths: dict[str, object]) -> None:
    done = isolated(paths, CHECK_IMPORTS, json.dumps(UNREACHABLE))
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert {"scar.supervisor.__main__", "scar.supervisor.entry", "scar.supervisor.storage",
            "scar.supervisor.sandbox", "scar.supervisor.runtime_api"} <= set(found["imported"])
    assert found["reachable"] == []  # the client, yaml and requests are out of reach
    assert outside(paths, found["files"]) == []
    assert any(file.startswith(str(paths["boto"]) + "/boto3/") for file in found["files"])


def test_the_rest_of_the_venv_is_out_of_reach(paths: dict[str, object]) -> None:
    """The check above would pass for nothing if the venv leaked in: prove that `import yaml` fails here
    and works with site-packages."""
    probe = PRELUDE + "import yaml\n"
    assert "No module named 'yaml'" in isolated(paths, probe).stderr
    assert subprocess.run([sys.executable, "-c", "import yaml"], capture_output=True).returncode == 0


def test_python_dash_m_supervisor_runs_an_event(paths: dict[str, object], tmp_path: Path) -> None:
    config = tmp_path / "function_config.yaml"
    config.write_text(json.dumps({"name": "isolated", "container": {"image": "alpine:3.20"}, "runner": "direct",
                                  "log_level": "info"}))
    done = isolated(paths, RUN_MAIN, "--config", str(config), "--runner", "direct", "--request-id", "req-iso",
                    stdin=json.dumps({"cmd_args": ["echo", "hi"]}), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["statusCode"] == 200
    assert answer["headers"]["amz-lambda-request-id"] == "req-iso"
    assert base64.b64decode(answer["body"]) == b"hi\n"
    files = json.loads(done.stderr.strip().splitlines()[-1])
    assert outside(paths, files) == []
    assert any(file.startswith(str(paths["layer"]) + "/scar/supervisor/") for file in files)


def test_a_failing_command_fails_the_same_way(paths: dict[str, object], tmp_path: Path) -> None:
    config = tmp_path / "function_config.yaml"
    config.write_text(json.dumps({"name": "isolated", "container": {"image": "alpine:3.20"}, "runner": "direct"}))
    done = isolated(paths, RUN_MAIN, "--config", str(config), "--request-id", "req-iso",
                    stdin=json.dumps({"cmd_args": ["sh", "-c", "echo failing; exit 3"]}), cwd=tmp_path)
    assert done.returncode == 1
    answer = json.loads(done.stdout)
    assert answer["statusCode"] != 200
    assert json.loads(base64.b64decode(answer["body"]))["exit_code"] == 3
