"""Reproducible zip archives: the same entries always give byte-identical zips.

Entries are sorted, every parent folder gets its own entry, timestamps are 1980-01-01, modes are 0644 for
files and 0755 for folders and executables, and content is deflated.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path, PurePosixPath

_EPOCH = (1980, 1, 1, 0, 0, 0)
_UNIX = 3  # ZipInfo.create_system: the external attributes hold Unix modes
_CHUNK = 1024 * 1024


@dataclass
class Archive:
    """Entries to zip, by their name in the archive: bytes or a local file, and whether it is executable."""

    files: dict[str, tuple[bytes | Path, bool]] = field(default_factory=dict)
    folders: set[str] = field(default_factory=set)

    def add(self, name: str, content: bytes | Path, executable: bool | None = None) -> None:
        """Add a file; `executable` defaults to the local file's own execute bit (False for bytes)."""
        name = _clean(name)
        if name in self:
            raise ValueError(f"{name} is already in the archive")
        if executable is None:
            executable = isinstance(content, Path) and bool(content.stat().st_mode & 0o111)
        self.files[name] = (content, executable)

    def __contains__(self, name: str) -> bool:
        return name in self.files or name in self.folders

    def add_folder(self, name: str) -> None:
        """Add an (empty) folder."""
        self.folders.add(_clean(name))

    @property
    def unzipped_size(self) -> int:
        """The total size of the files once extracted."""
        return sum(len(c) if isinstance(c, bytes) else c.stat().st_size for c, _ in self.files.values())

    def zip_bytes(self) -> bytes:
        """The archive: the same entries give the same bytes."""
        folders = set(self.folders)
        for name in (*self.files, *self.folders):
            folders.update(str(parent) for parent in PurePosixPath(name).parents if str(parent) != ".")
        entries = sorted([(f"{name}/", None) for name in folders] + list(self.files.items()), key=lambda e: e[0])
        buffer = BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, item in entries:
                info = zipfile.ZipInfo(name, _EPOCH)
                info.create_system = _UNIX
                if item is None:
                    info.external_attr = (stat.S_IFDIR | 0o755) << 16 | 0x10  # 0x10: MS-DOS folder flag
                    archive.writestr(info, b"")
                    continue
                content, executable = item
                info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                if isinstance(content, bytes):
                    archive.writestr(info, content)
                    continue
                info.file_size = content.stat().st_size  # decides zip64 before streaming, as writestr does
                with content.open("rb") as source, archive.open(info, "w") as target:
                    shutil.copyfileobj(source, target, _CHUNK)
        return buffer.getvalue()


def _clean(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"not a relative archive name: {name!r}")
    return str(path)
