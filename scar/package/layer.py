"""The supervisor layer: scar's supervisor, udocker and (when obtained) udocker's engine tarball.

Lambda extracts layers into /opt, and /opt/python is on the function's sys.path. The zip is reproducible,
so its SHA-256 identifies a layer version.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from scar.errors import ScarError
from scar.package.archive import Archive
from scar.version import __version__

ENGINE_NAME = "udocker/udocker-englib.tar.gz"
_SCAR_INIT = b'"""scar\'s supervisor, as shipped in its Lambda layer."""\n'


@dataclass(frozen=True)
class LayerPackage:
    zip_bytes: bytes
    sha256: str  # hex digest of zip_bytes
    description: str  # names the content, to find an already published version
    unzipped_size: int


def build_supervisor_layer(engine: Path | None) -> LayerPackage:
    """The layer zip; `engine` is udocker's engine tarball, or None to let udocker fetch it at run time."""
    archive = Archive()
    archive.add("python/scar/__init__.py", _SCAR_INIT)
    _add_sources(archive, "python/scar/supervisor", _package_folder("scar.supervisor"))
    _add_sources(archive, "python/udocker", _package_folder("udocker"))
    if engine is not None:
        archive.add(ENGINE_NAME, engine, executable=False)
    data = archive.zip_bytes()
    digest = hashlib.sha256(data).hexdigest()
    return LayerPackage(data, digest, f"scar supervisor {__version__} (sha256:{digest[:12]})", archive.unzipped_size)


def _package_folder(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ScarError(f"cannot build the supervisor layer: the Python package {package} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _add_sources(archive: Archive, prefix: str, folder: Path) -> None:
    for source in folder.rglob("*.py"):
        if source.is_file() and "__pycache__" not in source.parts:
            archive.add(f"{prefix}/{source.relative_to(folder).as_posix()}", source, executable=False)
