"""The program interpreter (the dynamic loader, PT_INTERP) an ELF executable names, read with the standard
library: udocker's Fakechroot modes run the container's programs through the container's own loader, and
finding it must not depend on the flags of whichever patchelf udocker has."""

from __future__ import annotations

import os
import stat
import struct
from pathlib import Path

_PT_INTERP = 3
_MAX_INTERPRETER = 4096


def program_interpreter(path: Path) -> str | None:
    """The loader `path` names, or None: not an ELF file, statically linked, a symlink (never followed: it may
    lead out of the container) or unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as stream:
            return _interpreter(stream)
    except (OSError, struct.error, ValueError):
        return None
    finally:
        os.close(fd)


def _interpreter(stream) -> str | None:  # type: ignore[no-untyped-def]
    head = stream.read(64)
    if head[:4] != b"\x7fELF" or head[4] not in (1, 2) or head[5] not in (1, 2):
        return None
    order = "<" if head[5] == 1 else ">"
    if head[4] == 2:
        phoff, = struct.unpack_from(order + "Q", head, 0x20)
        phentsize, phnum = struct.unpack_from(order + "HH", head, 0x36)
        entry = order + "II QQ Q Q"  # p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz
    else:
        phoff, = struct.unpack_from(order + "I", head, 0x1C)
        phentsize, phnum = struct.unpack_from(order + "HH", head, 0x2A)
        entry = order + "I I II I"  # p_type, p_offset, p_vaddr, p_paddr, p_filesz
    if not phnum or phentsize < struct.calcsize(entry):
        return None
    stream.seek(phoff)
    table = stream.read(phentsize * phnum)
    for index in range(phnum):
        fields = struct.unpack_from(entry, table, index * phentsize)
        if fields[0] != _PT_INTERP:
            continue
        offset, size = (fields[2], fields[5]) if head[4] == 2 else (fields[1], fields[4])
        if not 0 < size <= _MAX_INTERPRETER:
            return None
        stream.seek(offset)
        name = stream.read(size).split(b"\x00", 1)[0].decode("utf-8")
        return name if name.startswith("/") else None
    return None
