"""The Python runtime that image functions carry, so that the supervisor needs nothing of the user's image (a
busybox or Alpine image has no Python, or not the right one).

It is the Python that runs scar, copied with the C library and every shared library it and its extension
modules load, its program interpreter and search path rewritten (patchelf) to point inside
/opt/scar/python: it runs on any Linux image of the same architecture whatever C library the image has
(glibc, musl or none). Hence what scar can produce: **the build machine's architecture only** (x86_64 from
x86_64, arm64 from arm64), glibc-based, no matter the image's libc. The supervisor, boto3 (trimmed to the
services the supervisor calls) and their dependencies go in a second layer under /opt/scar/site.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from pathlib import Path

from scar.errors import ScarError
from scar.package.image_layer import LayerFile, build_layer
from scar.package.machine import build_architecture
from scar.registry.store import ImageStore

PREFIX = "/opt/scar/python"
SITE = "/opt/scar/site"
BOOTSTRAP = "/opt/scar/bootstrap.py"
INTERPRETER = f"{PREFIX}/bin/python3"
#: extension modules that pull in X11, Tk, terminals or databases the supervisor never uses
_SKIPPED_EXTENSIONS = re.compile(r"^(_tkinter|_curses|_curses_panel|readline|nis|_dbm|_gdbm|_sqlite3|_crypt|"
                                 r"_ctypes_test|_test\w*|xxlimited\w*)\.")
_SKIPPED_STDLIB = {"site-packages", "test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3",
                   "__pycache__", "distutils", "pydoc_data", "unittest"}
_SITE_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
_BOTOCORE_SERVICES = {"s3", "ssm", "sts"}


def lambda_architecture() -> str:
    return {"amd64": "x86_64", "arm64": "arm64"}.get(build_architecture(), build_architecture())


def runtime_layer(store: ImageStore) -> dict[str, str]:
    """The runtime layer's descriptor (built once per Python installation and kept in the store)."""
    files = _runtime_files()
    key = _key([f"{f.name}:{f.source}:{f.source.stat().st_size}:{f.source.stat().st_mtime_ns}" for f in files
                if f.source is not None])
    return build_layer(store, f"runtime-{key}", lambda: _patched(files))


def site_layer(store: ImageStore) -> dict[str, str]:
    """The supervisor, boto3 and their dependencies, and the bootstrap the entry point runs."""
    files = [LayerFile(BOOTSTRAP.lstrip("/"), data=_BOOTSTRAP_CODE.encode())]
    files.append(LayerFile(f"{SITE.lstrip('/')}/scar/__init__.py", data=b""))
    files += _tree(_package("scar.supervisor"), f"{SITE}/scar/supervisor", python_only=True)
    for name in _SITE_PACKAGES:
        found = _package(name)
        if found.is_file():  # a one-file module
            files.append(LayerFile(f"{SITE.lstrip('/')}/{found.name}", found))
            continue
        files += _tree(found, f"{SITE}/{name}", python_only=False, keep=_botocore_data if name == "botocore" else None)
    key = _key([f"{f.name}:{f.source.stat().st_size}:{f.source.stat().st_mtime_ns}" if f.source else
                f"{f.name}:{hashlib.sha256(f.data or b'').hexdigest()}" for f in files])
    return build_layer(store, f"site-{key}", lambda: files)


_BOOTSTRAP_CODE = f'''"""scar's entry point in an image function: the supervisor's Runtime API loop."""
import sys

sys.path.insert(0, "{SITE}")
from scar.supervisor.runtime_api import main

main()
'''


def _runtime_files() -> list[LayerFile]:
    if shutil.which("patchelf") is None:
        raise ScarError("runtime: image and AWS Batch functions need patchelf to build the supervisor's Python runtime "
                        "(Debian package patchelf; scripts/install-system-deps.sh)")
    executable = Path(sys.executable).resolve()
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    dynload = Path(sysconfig.get_config_var("DESTSHARED") or stdlib / "lib-dynload")
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    files = [LayerFile(f"{PREFIX.lstrip('/')}/bin/python3", executable, mode=0o755)]
    for path in stdlib.rglob("*"):
        relative = path.relative_to(stdlib)
        if path.is_file() and not set(relative.parts) & _SKIPPED_STDLIB and path.parent != dynload \
                and not relative.parts[0].startswith("config-"):
            files.append(LayerFile(f"{PREFIX.lstrip('/')}/lib/{version}/{relative.as_posix()}", path))
    extensions = [path for path in sorted(dynload.glob("*.so")) if not _SKIPPED_EXTENSIONS.match(path.name)]
    files += [LayerFile(f"{PREFIX.lstrip('/')}/lib/{version}/lib-dynload/{p.name}", p, mode=0o755) for p in extensions]
    libraries: dict[str, Path] = {}
    for binary in [executable, *extensions]:
        libraries.update(_shared_libraries(binary))
    files += [LayerFile(f"{PREFIX.lstrip('/')}/lib/{name}", path, mode=0o755)
              for name, path in sorted(libraries.items())]
    return files


def _shared_libraries(binary: Path) -> dict[str, Path]:
    """Name → file of every library `binary` loads, its program interpreter included (from ldd)."""
    listing = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False)
    if listing.returncode != 0:
        raise ScarError(f"cannot list the libraries of {binary}: {listing.stderr.strip() or listing.stdout.strip()}")
    found = {}
    for line in listing.stdout.splitlines():
        match = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
        if match:
            path = Path(match.group(1))
            name = line.split("=>")[0].strip() if "=>" in line else path.name
            found[Path(name).name] = path.resolve()
    return found


def _patched(files: list[LayerFile]) -> list[LayerFile]:
    """`files` with the interpreter, the libraries and the extension modules rewritten to find each other
    under PREFIX (a search path of their own, as DT_RPATH, so that it also serves what they load)."""
    scratch = Path(tempfile.mkdtemp(prefix="scar-runtime-"))
    loader = next(f.name for f in files if re.search(r"/lib/ld-linux[^/]*\.so", f.name))
    result = []
    for item in files:
        library = (item.name.endswith(".so") or ".so." in item.name) and item.name != loader
        patch = item.name.endswith("/bin/python3") or library
        if not patch or item.source is None:
            result.append(item)
            continue
        copy = scratch / Path(item.name).name
        shutil.copy2(item.source, copy)
        arguments = ["--force-rpath", "--set-rpath", f"{PREFIX}/lib"]
        if item.name.endswith("/bin/python3"):
            arguments = ["--set-interpreter", f"/{loader}", *arguments]
        done = subprocess.run(["patchelf", *arguments, str(copy)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ScarError(f"patchelf failed on {item.source}: {done.stderr.strip()}")
        result.append(LayerFile(item.name, copy, mode=0o755, cleanup=True))
    return result


def _package(name: str) -> Path:
    """The folder of package `name`, or the file of a one-file module."""
    spec = importlib.util.find_spec(name)
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    if spec is not None and spec.origin and spec.origin.endswith(".py"):
        return Path(spec.origin)
    raise ScarError(f"cannot build the supervisor's site layer: the Python package {name} is not installed")


def _botocore_data(relative: Path) -> bool:
    parts = relative.parts
    return not (len(parts) > 2 and parts[0] == "data" and parts[1] not in _BOTOCORE_SERVICES)


def _tree(folder: Path, target: str, python_only: bool,
          keep: Callable[[Path], bool] | None = None) -> list[LayerFile]:
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or "__pycache__" in relative.parts or (python_only and path.suffix != ".py"):
            continue
        if keep is not None and not keep(relative):
            continue
        found.append(LayerFile(f"{target.lstrip('/')}/{relative.as_posix()}", path))
    return found


def _key(parts: list[str]) -> str:
    return hashlib.sha256("\n".join([sys.version, os.uname().machine, *parts]).encode()).hexdigest()[:32]
