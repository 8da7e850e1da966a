"""The AWS Batch supervisor artifact: the runtime and site layers of `runtime: image` under names relative to
/opt/scar, the job's entry script, modes without special bits; built once, then read from the image store."""

from __future__ import annotations

import hashlib
import io
import shutil
import stat
import tarfile

import pytest

from scar.package import batch_runtime as module
from scar.package.batch_runtime import JOB_COMMAND, batch_runtime
from scar.registry.store import ImageStore

pytestmark = pytest.mark.skipif(shutil.which("patchelf") is None, reason="patchelf is needed (install-system-deps)")


def test_the_artifact_holds_the_runtime_the_site_and_the_entry_script(tmp_path, monkeypatch):
    tmp_path.chmod(0o700)
    store = ImageStore(tmp_path / "store")
    built = batch_runtime(store)
    assert hashlib.sha256(built.archive).hexdigest() == built.sha256
    with tarfile.open(fileobj=io.BytesIO(built.archive)) as tar:
        members = {member.name: member for member in tar.getmembers()}
        entry = tar.extractfile(members["batch_job.py"]).read().decode()
    assert JOB_COMMAND == ["/opt/scar/python/bin/python3", "-I", "-S", "/opt/scar/batch_job.py"]
    assert {"python/bin/python3", "site/scar/supervisor/batch.py", "site/boto3/__init__.py"} <= set(members)
    assert all(not name.startswith(("/", "opt/", "..")) for name in members)
    assert all(m.isfile() or m.isdir() for m in members.values())
    assert all(stat.S_IMODE(m.mode) & ~0o755 == 0 and m.uid == 0 for m in members.values())
    assert members["python/bin/python3"].mode == 0o755
    assert 'sys.path.insert(0, "/opt/scar/site")' in entry and "from scar.supervisor.batch import main" in entry

    monkeypatch.setattr(module, "write_tar", lambda *_: pytest.fail("built again"))
    assert batch_runtime(store) == built  # unchanged: read back from the store
