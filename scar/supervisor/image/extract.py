"""Apply an image's layers to an empty folder, safely.

Nothing is written outside the root filesystem: names that climb above the root are skipped, absolute names are
taken relative to it, symbolic links in parent components are followed as `chroot` would (an absolute target starts
again at the root, `..` stops there), whiteouts and hardlinks resolve the same way. Nothing gains privileges on the
host: setuid and setgid bits are cleared (the sticky bit of folders is kept), device nodes and fifos are not created,
and only `user.*` extended attributes are restored (never file capabilities). Owners are kept when extracting as
root, as Docker does: with those bits gone and the cache private, owning a file grants nothing. Entries that cannot
be placed safely are skipped with a warning on this module's logger.

Each layer is read once, as a stream (see layers.py), and whiteouts are applied when met: they hide what lower layers
hold, never what this layer wrote before them (the layer's own paths are remembered until it ends).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import stat
import tarfile
from pathlib import Path

from .layers import LayerStream, open_layer
from .limits import SizeLimit
from .model import Layer
from .source import COPY_CHUNK, MAX_SYMLINK_HOPS, Source

log = logging.getLogger(__name__)

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
#: Folders the sandboxes mount over; Docker creates them (and WorkingDir) when it creates a container, so do we.
MOUNTPOINTS = (("proc", 0o555), ("dev", 0o755), ("sys", 0o555), ("tmp", 0o1777))
_KEPT_MODE = {True: 0o1777, False: 0o777}  # by "is a folder": no setuid, no setgid; sticky only where it means it
_KEPT_XATTR = "SCHILY.xattr.user."


class _Skip(Exception):
    """This entry cannot be placed safely."""


class Extractor:
    """Applies layers, bottom first, to an empty root filesystem folder."""

    def __init__(self, root: Path, limit: SizeLimit) -> None:
        self.root = os.path.realpath(root)
        self.limit = limit
        self.as_root = os.geteuid() == 0
        self.dirs: dict[str, tarfile.TarInfo] = {}  # host path -> header whose metadata is applied at the end
        self.layer_paths: set[str] = set()  # host paths the current layer wrote
        self.layer_parents: set[str] = set()  # folders holding some of them
        self.cleared = 0  # setuid / setgid bits removed

    def extract(self, source: Source, layers: tuple[Layer, ...], workdir: str) -> None:
        for layer in layers:
            with open_layer(source, layer, self.limit) as stream:
                self._layer(stream)
                stream.verify()
        self._finish_dirs()
        self._add_mountpoints(workdir)
        os.chmod(self.root, 0o755)
        if self.cleared:
            log.info("cleared the setuid or setgid bit of %d entries of %s", self.cleared, source.label)

    def _layer(self, stream: LayerStream) -> None:
        self.layer_paths.clear()
        self.layer_parents.clear()
        for member in stream.members():
            if os.path.basename(member.name).startswith(WHITEOUT):
                self._whiteout(member)
            else:
                self._entry(stream, member)

    def _whiteout(self, member: tarfile.TarInfo) -> None:
        parts = _clean(member.name)
        if parts is None:
            log.warning("skipped whiteout %r: it climbs above the root", member.name)
            return
        try:
            folder = self._resolve(parts[:-1], create=False)
        except _Skip as error:
            log.warning("skipped whiteout %r: %s", member.name, error)
            return
        if folder is None:
            return  # nothing below to hide
        if parts[-1] == OPAQUE:
            self._hide_children(folder)
        elif not parts[-1].startswith(WHITEOUT * 2):  # other .wh..wh.* names are aufs bookkeeping
            victim = parts[-1][len(WHITEOUT):]
            if victim in ("", ".", ".."):
                log.warning("skipped whiteout %r: invalid name", member.name)
                return
            self._hide(os.path.join(folder, victim))

    def _hide(self, path: str) -> None:
        """Remove what lower layers put at `path`, keeping what the current layer wrote there or below."""
        if path in self.layer_paths:
            return
        if path in self.layer_parents:
            self._hide_children(path)
        else:
            self._remove(path)

    def _hide_children(self, folder: str) -> None:
        try:
            if not stat.S_ISDIR(os.lstat(folder).st_mode):
                return  # never list through a symbolic link: its target is a host path
        except FileNotFoundError:
            return
        for name in os.listdir(folder):
            self._hide(os.path.join(folder, name))

    def _written(self, path: str) -> None:
        self.layer_paths.add(path)
        parent = os.path.dirname(path)
        while parent != self.root and parent not in self.layer_parents:
            self.layer_parents.add(parent)
            parent = os.path.dirname(parent)

    def _entry(self, stream: LayerStream, member: tarfile.TarInfo) -> None:
        parts = _clean(member.name)
        if parts is None:
            log.warning("skipped %r: it climbs above the root", member.name)
            return
        if not parts:
            return  # the root itself
        if not (member.isdir() or member.isreg() or member.issym() or member.islnk()):
            log.warning("skipped %r: device nodes and fifos are not extracted", member.name)
            return
        try:
            target = os.path.join(self._resolve(parts[:-1], create=True) or self.root, parts[-1])
            if member.isdir():
                self._dir(target, member)
            elif member.isreg():
                self.limit.take(member.size, f"{stream.label}: {member.name}")
                self._file(stream, target, member)
            elif member.issym():
                self._replace(target)
                os.symlink(member.linkname, target)
            else:
                self._hardlink(stream, target, member)
            self._written(target)
            if not (member.isdir() or member.islnk()):  # folders are finished last; a hardlink shares its metadata
                self._metadata(target, member)
        except _Skip as error:
            log.warning("skipped %r: %s", member.name, error)

    def _resolve(self, parts: list[str], create: bool) -> str | None:
        """The host path of folder `parts`, following symbolic links with chroot semantics; None when missing and
        not `create`. Every path it returns lies inside the root."""
        resolved: list[str] = []
        pending = list(reversed(parts))
        hops = 0
        while pending:
            part = pending.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if resolved:
                    resolved.pop()
                continue
            current = os.path.join(self.root, *resolved, part)
            try:
                mode = os.lstat(current).st_mode
            except FileNotFoundError:
                if not create:
                    return None
                os.mkdir(current)
                os.chmod(current, 0o755)  # whatever the umask
                self._written(current)
                mode = stat.S_IFDIR
            if stat.S_ISLNK(mode):
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    raise _Skip("too many levels of symbolic links")
                target = os.readlink(current)
                if target.startswith("/"):
                    resolved = []
                pending.extend(reversed(target.split("/")))
            elif stat.S_ISDIR(mode):
                resolved.append(part)
            else:
                raise _Skip(f"/{'/'.join([*resolved, part])} is not a directory")
        return os.path.join(self.root, *resolved)

    def _dir(self, target: str, member: tarfile.TarInfo) -> None:
        try:
            is_dir = stat.S_ISDIR(os.lstat(target).st_mode)
        except FileNotFoundError:
            is_dir = False
        if not is_dir:
            self._replace(target)
            os.mkdir(target, 0o755)
        self.dirs[target] = member

    def _file(self, stream: LayerStream, target: str, member: tarfile.TarInfo) -> None:
        self._replace(target)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as out:
            data = stream.archive.extractfile(member) if stream.archive is not None else None
            if data is not None:
                shutil.copyfileobj(data, out, COPY_CHUNK)

    def _hardlink(self, stream: LayerStream, target: str, member: tarfile.TarInfo) -> None:
        parts = _clean(member.linkname)
        if not parts:
            raise _Skip(f"hardlink target {member.linkname!r} is outside the root")
        folder = self._resolve(parts[:-1], create=False)
        source = os.path.join(folder or self.root, parts[-1])
        try:
            info = os.lstat(source) if folder is not None else None
        except FileNotFoundError:
            info = None
        if info is None:
            raise _Skip(f"hardlink target {member.linkname!r} does not exist")
        if stat.S_ISDIR(info.st_mode):
            raise _Skip(f"hardlink target {member.linkname!r} is a directory")
        if source == target:
            return
        self._replace(target)
        try:
            os.link(source, target, follow_symlinks=False)
        except OSError:  # e.g. a file system without hardlinks: copy instead
            if stat.S_ISLNK(info.st_mode):
                os.symlink(os.readlink(source), target)
            else:
                self.limit.take(info.st_size, f"{stream.label}: {member.name}")
                shutil.copy2(source, target, follow_symlinks=False)

    def _replace(self, target: str) -> None:
        """Make room for a new entry: whatever is at `target` goes (a folder with its content)."""
        if os.path.lexists(target):
            self._remove(target)

    def _remove(self, path: str) -> None:
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return
        if stat.S_ISDIR(mode):
            shutil.rmtree(path)
            prefix = path + os.sep
            for name in [d for d in self.dirs if d == path or d.startswith(prefix)]:
                del self.dirs[name]
        else:
            os.unlink(path)

    def _metadata(self, target: str, member: tarfile.TarInfo) -> None:
        """Owner first (chown clears setuid and setgid anyway), then the mode without them, `user.*` extended
        attributes, times."""
        if self.as_root:
            with contextlib.suppress(OSError):
                os.lchown(target, member.uid, member.gid)
        if not member.issym():
            mode = member.mode & _KEPT_MODE[member.isdir()]
            if member.mode & (stat.S_ISUID | stat.S_ISGID):
                self.cleared += 1
                log.debug("cleared the setuid/setgid bits of %r", member.name)
            os.chmod(target, mode)
        for key, value in member.pax_headers.items():
            if key.startswith(_KEPT_XATTR):  # security.capability would grant privileges as setuid does
                with contextlib.suppress(OSError):
                    os.setxattr(target, key[len("SCHILY.xattr."):], value.encode("utf-8", "surrogateescape"),
                                follow_symlinks=False)
        with contextlib.suppress(OSError, OverflowError, ValueError):
            os.utime(target, (member.mtime, member.mtime), follow_symlinks=False)

    def _finish_dirs(self) -> None:
        for path in sorted(self.dirs, reverse=True):  # children first: a parent's mode never blocks them
            try:
                if not stat.S_ISDIR(os.lstat(path).st_mode):
                    continue
            except FileNotFoundError:
                continue
            self._metadata(path, self.dirs[path])

    def _add_mountpoints(self, workdir: str) -> None:
        """What Docker adds when it creates a container: the mountpoints, and the working directory."""
        for name, mode in MOUNTPOINTS:
            path = os.path.join(self.root, name)
            if not os.path.lexists(path):
                os.mkdir(path)
                os.chmod(path, mode)
        try:
            self._resolve(_clean(workdir) or [], create=True)
        except _Skip as error:
            log.warning("cannot create the working directory %s: %s", workdir, error)


def _clean(name: str) -> list[str] | None:
    """Components of an entry name relative to the root (a leading / is dropped); None if `..` climbs above it."""
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return parts
