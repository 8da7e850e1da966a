"""The rootfs cache: private folders checked before they are trusted, one entry per verified image, built in a
locked partial folder and published by rename.

A cache folder must be a real folder (not a symbolic link) owned by this user that group and others cannot write;
scar creates its folders 0700 and tightens an existing one of its own to 0700. The folders above it must belong
to this user or to root and, when group or others can write them, be sticky (as /tmp is). Otherwise another local
user could plant or swap a root filesystem that this user — perhaps root — would then run.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from .extract import Extractor
from .limits import SizeLimit, size_limit
from .manifest import read_info
from .model import ExtractedImage, ImageError, ImageInfo
from .source import Source, open_source

log = logging.getLogger(__name__)

PARTIAL_SUFFIX = ".partial"
_LOCK_NAME = ".lock"
_FOREIGN_WRITE = stat.S_IWGRP | stat.S_IWOTH


def extract_image(path: Path, cache_root: Path, max_size: int | None = None) -> ExtractedImage:
    """Extract the image into `cache_root/<cache key>/rootfs` unless it is there already.

    Every layer is checked against the image's digests while it is extracted, and the entry is named by what was
    checked (ImageInfo.cache_key), so a cached root filesystem is one that matched its image. `max_size` caps the
    bytes written (see limits.py for the default). Extraction happens in a temporary sibling folder renamed into
    place once complete, so a crash never leaves a partial root filesystem that a later call would reuse, and
    concurrent callers do not disturb each other (the first rename wins; the others discard their copy). Leftovers
    of crashed extractions are removed.
    """
    cache_root = Path(os.path.abspath(cache_root))
    prepare_cache(cache_root)
    limit = size_limit(max_size, cache_root)
    with open_source(Path(path), scratch=cache_root, limit=limit) as source:
        info = read_info(source)
        final = cache_root / info.cache_key
        if not _usable_entry(final):
            _remove_stale_partials(cache_root)
            _extract_into(source, info, final, limit)
    return ExtractedImage(final / "rootfs", info.config, info.digest)


def prepare_cache(root: Path) -> None:
    """Create `root` (and what is missing above it) private, or check the existing folders (see the module)."""
    missing: list[Path] = []
    existing = root
    while not os.path.lexists(existing):
        missing.append(existing)
        existing = existing.parent
    _check_parents(root, existing if missing else root.parent)
    if not missing:
        _check_private(root)
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass  # created meanwhile: checked below like any other
        except OSError as error:
            raise ImageError(f"cannot create the image cache {folder}: {error.strerror}") from error
        _check_private(folder)


def _check_private(folder: Path) -> None:
    try:
        info = os.lstat(folder)
    except OSError as error:
        raise ImageError(f"cannot use the image cache folder {folder}: {error.strerror}") from error
    refuse = f"refusing the image cache folder {folder}"
    if stat.S_ISLNK(info.st_mode):
        raise ImageError(f"{refuse}: it is a symbolic link (a cache folder must be a real folder)")
    if not stat.S_ISDIR(info.st_mode):
        raise ImageError(f"{refuse}: it is not a folder")
    if info.st_uid != os.geteuid():
        raise ImageError(f"{refuse}: it belongs to uid {info.st_uid}, not to this user (uid {os.geteuid()}); "
                         "a cache folder must be this user's: remove it or use another one")
    if info.st_mode & _FOREIGN_WRITE:
        raise ImageError(f"{refuse}: group or others can write to it (mode {stat.S_IMODE(info.st_mode):04o}); "
                         "only its owner may: remove it, or chmod 700 it if nobody else changed its content")
    if info.st_mode & 0o077:
        os.chmod(folder, 0o700)


def _check_parents(root: Path, start: Path) -> None:
    """The real folders from `start` up to / must be this user's or root's, writable by others only if sticky."""
    folder = Path(os.path.realpath(start))
    for parent in (folder, *folder.parents):
        try:
            info = os.stat(parent)
        except OSError as error:
            raise ImageError(f"cannot use the image cache {root}: {parent}: {error.strerror}") from error
        if info.st_uid not in (0, os.geteuid()):
            raise ImageError(f"refusing the image cache {root}: the folder {parent} above it belongs to uid "
                             f"{info.st_uid}, neither this user nor root, who could replace the cache")
        if info.st_mode & _FOREIGN_WRITE and not info.st_mode & stat.S_ISVTX:
            raise ImageError(f"refusing the image cache {root}: group or others can write to the folder {parent} "
                             f"above it (mode {stat.S_IMODE(info.st_mode):04o}, not sticky) and could replace the "
                             "cache")


def _usable_entry(entry: Path) -> bool:
    """True when `entry` holds a root filesystem; an entry that fails the folder rules is refused, not reused."""
    if not os.path.lexists(entry):
        return False
    _check_private(entry)
    rootfs = entry / "rootfs"
    try:
        info = os.lstat(rootfs)
    except FileNotFoundError:
        return False
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & _FOREIGN_WRITE:
        raise ImageError(f"refusing the cached root filesystem {rootfs}: it must be a folder of this user that "
                         "group and others cannot write; remove it to extract the image again")
    return True


def _extract_into(source: Source, info: ImageInfo, final: Path, limit: SizeLimit) -> None:
    try:
        partial = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=PARTIAL_SUFFIX, dir=final.parent))
    except OSError as error:
        raise ImageError(f"cannot write to the image cache {final.parent}: {error.strerror}") from error
    try:
        with _locked(partial):
            rootfs = partial / "rootfs"
            rootfs.mkdir()
            Extractor(rootfs, limit).extract(source, info.layers, info.config.workdir)
            record = {"digest": info.digest, "diff_ids": [layer.diff_id for layer in info.layers],
                      **asdict(info.config)}
            (partial / "config.json").write_text(json.dumps(record))
            (partial / _LOCK_NAME).unlink()
            os.chmod(partial, 0o700)
            _publish(partial, final)
    except OSError as error:
        raise ImageError(f"cannot extract {source.label} into {final.parent}: {error}") from error
    finally:
        if partial.exists():
            remove_tree(partial)


@contextlib.contextmanager
def _locked(partial: Path) -> Iterator[None]:
    """Hold a lock that tells other extractors this partial folder is alive; it appears already locked."""
    fd, name = tempfile.mkstemp(dir=partial)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(name, partial / _LOCK_NAME)
        yield
    finally:
        os.close(fd)


def _publish(partial: Path, final: Path) -> None:
    try:
        os.rename(partial, final)
    except OSError as error:
        if error.errno not in (errno.EEXIST, errno.ENOTEMPTY) or not (final / "rootfs").is_dir():
            raise
        log.debug("%s was extracted concurrently; keeping that copy", final)


def _remove_stale_partials(cache_root: Path) -> None:
    """Remove partial folders whose extractor died (their lock is free)."""
    for entry in cache_root.iterdir():
        if not (entry.name.startswith(".") and entry.name.endswith(PARTIAL_SUFFIX)):
            continue
        try:
            fd = os.open(entry / _LOCK_NAME, os.O_RDONLY)
        except OSError:
            continue  # no lock (yet, or any more): leave it alone
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # alive
        else:
            log.info("removing %s, left by an interrupted extraction", entry)
            remove_tree(entry)
        finally:
            os.close(fd)


def remove_tree(path: Path) -> None:
    """Remove a folder tree even where extracted modes deny writing (for non-root users); ignore what is gone."""
    if os.geteuid() != 0:
        with contextlib.suppress(OSError):
            os.chmod(path, stat.S_IRWXU)
        for folder, dirs, _ in os.walk(path):  # never follows symbolic links
            for name in dirs:
                child = os.path.join(folder, name)
                if not os.path.islink(child):  # chmod would follow it, maybe out of the tree
                    with contextlib.suppress(OSError):
                        os.chmod(child, stat.S_IRWXU)
    shutil.rmtree(path, ignore_errors=True)
