"""The Dockerfile, checked without a container builder: its install steps, run on the files its build stage
copies, give a working `scar` in a fresh virtualenv; and it keeps the promises of docs/installation.md
(non-root user scar, ~/.aws and ~/.scar as volumes, scar as the entry point, bubblewrap inside)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from scar.version import __version__

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _build_stage_sources() -> list[str]:
    """What the build stage copies from the context (COPY lines before the second FROM)."""
    build = DOCKERFILE.split("\nFROM ")[1]
    sources = []
    for line in build.splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            sources += line.split()[1:-1]
    return sources


def test_the_build_stage_sources_make_a_wheel_that_installs_and_runs(tmp_path):
    context = tmp_path / "context"
    context.mkdir()
    for source in _build_stage_sources():
        origin = ROOT / source
        if origin.is_dir():
            shutil.copytree(origin, context / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, context / source)
    wheels = tmp_path / "wheels"
    # --no-deps: the dependencies come from PyPI in the image; here only scar's own packaging is under test
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--wheel-dir", str(wheels), str(context)], check=True, capture_output=True, timeout=300)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--find-links", str(wheels), "scar"], check=True, capture_output=True, timeout=300)
    version = subprocess.run([str(venv / "bin" / "scar"), "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"scar {__version__}"
    installed = subprocess.run([str(venv / "bin" / "python"), "-c",
                                "import scar.supervisor, scar.cli.commands.doctor, pathlib, scar; "
                                "print(pathlib.Path(scar.__file__).parent / 'py.typed')"],
                               capture_output=True, text=True, timeout=60)
    assert installed.returncode == 0, installed.stderr
    assert Path(installed.stdout.strip()).is_file()


def test_the_image_runs_scar_as_the_non_root_user_with_its_volumes():
    final = DOCKERFILE.split("\nFROM ")[-1]
    assert re.search(r"useradd .*--uid 1000 .*scar", final)
    assert "USER 1000:1000" in final
    assert 'VOLUME ["/home/scar/.aws", "/home/scar/.scar"]' in final
    assert 'ENTRYPOINT ["scar"]' in final
    assert "bubblewrap" in final
    assert "pip install --no-cache-dir --no-index" in final  # only the build stage's wheels
    assert "gcc" not in final and "build-essential" not in final


def test_hadolint_accepts_it():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    process = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert process.returncode == 0, process.stdout + process.stderr
