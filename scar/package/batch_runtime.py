"""The supervisor artifact that AWS Batch instances install: the self-contained Python runtime and the site
(supervisor, boto3) that `runtime: image` builds (image_runtime.py), in one tar.gz with a small entry script. The
instances unpack it in ROOT, where the runtime's absolute paths expect it, and every job gets it mounted read-only
at the same path, so a job needs nothing of its image: no Python, no boto3, any C library (or none).

Like the runtime itself, it is the building machine's architecture (see instance_types.py for what that means for
the instances). It is built once per Python installation and scar version and kept in the image store."""

from __future__ import annotations

import hashlib
import io
import tarfile
from dataclasses import dataclass

from scar.errors import ScarError
from scar.package.image_layer import cached, tar_info, write_tar
from scar.package.image_runtime import INTERPRETER, PREFIX, SITE, runtime_layer, site_layer
from scar.registry.store import ImageStore

ROOT = "/opt/scar"
JOB_ENTRY = f"{ROOT}/batch_job.py"
#: the job's command: the runtime's own Python, isolated from the image's (-I: no PYTHON* variables, no user
#: site; -S: no site-packages), running the entry script that puts SITE first on its path
JOB_COMMAND = [INTERPRETER, "-I", "-S", JOB_ENTRY]
_MEMBER_PREFIX = ROOT.lstrip("/") + "/"
_JOB_ENTRY_CODE = f'''"""scar's entry point in an AWS Batch job: the event in the job's environment, as in Lambda."""
import sys

sys.path.insert(0, "{SITE}")
from scar.supervisor.batch import main

sys.exit(main())
'''.encode()
assert PREFIX.startswith(_MEMBER_PREFIX, 1) and SITE.startswith(_MEMBER_PREFIX, 1)


@dataclass(frozen=True)
class BatchRuntime:
    archive: bytes  # a tar.gz of ROOT's content, names relative to ROOT
    sha256: str  # hex digest of `archive`


def batch_runtime(store: ImageStore) -> BatchRuntime:
    """The artifact, from the image store when its layers did not change."""
    layers = [runtime_layer(store), site_layer(store)]
    key = hashlib.sha256("\n".join([*(layer["digest"] for layer in layers),
                                    hashlib.sha256(_JOB_ENTRY_CODE).hexdigest()]).encode()).hexdigest()[:32]
    descriptor = cached(store, f"batch-{key}", lambda: write_tar(store, lambda tar: _fill(store, layers, tar)))
    return BatchRuntime(store.read(descriptor["digest"]), descriptor["digest"].split(":", 1)[1])


def _fill(store: ImageStore, layers: list[dict[str, str]], tar: tarfile.TarFile) -> None:
    """The layers' entries under ROOT, renamed relative to it (folders and regular files only, no special mode
    bit: the layers are scar's own), then the entry script."""
    for layer in layers:
        with store.path(layer["digest"]).open("rb") as stream, tarfile.open(fileobj=stream, mode="r|gz") as source:
            for member in source:
                if not member.name.startswith(_MEMBER_PREFIX):
                    continue  # the folders above ROOT
                if not (member.isfile() or member.isdir()):
                    raise ScarError(f"unexpected entry {member.name} in scar's runtime layer {layer['digest']}")
                member.name = member.name[len(_MEMBER_PREFIX):]
                member.mode &= 0o755
                tar.addfile(member, source.extractfile(member) if member.isfile() else None)
    tar.addfile(tar_info(JOB_ENTRY[len(ROOT) + 1:], tarfile.REGTYPE, 0o644, len(_JOB_ENTRY_CODE)),
                io.BytesIO(_JOB_ENTRY_CODE))
