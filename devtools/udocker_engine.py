"""A stand-in for udocker's engine tarball ("udockertools", downloaded from the internet), built offline from
Debian's proot, patchelf and libfakechroot, so that real udocker runs containers on this machine.

The tarball has the layout `udocker install` accepts: `udocker_dir/bin/*` (installed into `$UDOCKER_DIR/bin`),
`udocker_dir/lib/*` (into `$UDOCKER_DIR/lib`) and `udocker_dir/lib/VERSION`, at least the release udocker
requires. Two of Debian's tools differ from udocker's own builds, and the stand-in leaves that visible:
- Debian's proot 5.1.0 turns `fstat` into EINVAL when given `-k <kernel release>`, which udocker always passes,
  so no dynamically linked program starts: `bin/proot` is a wrapper that drops `-k` and runs `bin/proot.real`;
- Debian's patchelf has no `-q`, with which udocker looks for the image's program interpreter in Fakechroot
  modes: it is shipped as it is, so the tests prove the supervisor does not depend on that flag.
With Debian's libfakechroot, Fakechroot mode does not bind directory volumes (only udocker's patched build reads
FAKECHROOT_DIR_MAP) and does not confine static programs (LD_PRELOAD has nothing to hook).

Install the packages with `scripts/install-system-deps.sh` (proot, fakechroot, patchelf)."""

from __future__ import annotations

import gzip
import io
import shutil
import tarfile
from pathlib import Path

#: The udockertools release udocker 1.3.17 requires (its `tarball_release`).
ENGINE_VERSION = "1.2.11"
LIBFAKECHROOT = ("/usr/lib/x86_64-linux-gnu/fakechroot/libfakechroot.so",
                 "/usr/lib/aarch64-linux-gnu/fakechroot/libfakechroot.so")
_MTIME = 1_700_000_000

#: Runs the real proot without udocker's `-k <release>` (see the module's docstring).
PROOT_WRAPPER = """\
#!/bin/sh
# scar test stand-in: Debian's proot fails every dynamically linked program under -k <release>
real="$(dirname "$0")/proot.real"
skip=0
for argument in "$@"; do
  shift
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  if [ "$argument" = -k ]; then skip=1; continue; fi
  set -- "$@" "$argument"
done
exec "$real" "$@"
"""


def debian_engine_files() -> dict[str, Path]:
    """The host files of the stand-in: {"proot", "patchelf", "libfakechroot.so"} → path. FileNotFoundError
    naming the Debian packages when one is missing."""
    found = {"proot": shutil.which("proot"), "patchelf": shutil.which("patchelf"),
             "libfakechroot.so": next((p for p in LIBFAKECHROOT if Path(p).is_file()), None)}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise FileNotFoundError(f"missing {', '.join(missing)}: apt-get install proot fakechroot patchelf "
                                "(scripts/install-system-deps.sh)")
    return {name: Path(path).resolve() for name, path in found.items() if path is not None}


def build_engine_tarball(path: Path, version: str = ENGINE_VERSION) -> Path:
    """Write the stand-in engine tarball (gzip, reproducible: the same files give the same bytes)."""
    files = debian_engine_files()
    entries: list[tuple[str, bytes, int]] = [
        ("udocker_dir/bin/proot", PROOT_WRAPPER.encode(), 0o755),
        ("udocker_dir/bin/proot.real", files["proot"].read_bytes(), 0o755),
        ("udocker_dir/bin/patchelf", files["patchelf"].read_bytes(), 0o755),
        ("udocker_dir/lib/libfakechroot.so", files["libfakechroot.so"].read_bytes(), 0o644),
        ("udocker_dir/lib/VERSION", f"{version}\n".encode(), 0o644),
    ]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for folder in ("udocker_dir", "udocker_dir/bin", "udocker_dir/lib"):
            info = tarfile.TarInfo(folder)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, _MTIME
            archive.addfile(info)
        for name, data, mode in entries:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, _MTIME
            archive.addfile(info, io.BytesIO(data))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(buffer.getvalue(), compresslevel=6, mtime=0))
    return path
