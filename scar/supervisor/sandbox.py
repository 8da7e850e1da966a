"""Run a command inside an extracted root filesystem, Lambda-like: the root read-only, a private writable /tmp, host
folders bound where asked, /proc and a minimal /dev, no network unless asked, exactly the given environment (plus
PWD, which every sandbox sets) in the given working directory.

Three sandboxes, tried in this order unless one is asked for:
* "bubblewrap" (`bwrap`, Debian package bubblewrap): namespaces; as root or, with user namespaces, unprivileged.
  /tmp is a tmpfs. Run as root, it drops every capability (`--cap-drop ALL`): Lambda grants none either.
* "chroot": `unshare` + `mount` + `unshare --root` (util-linux, always there), root only. In new mount, PID, IPC,
  UTS (and network) namespaces one `mount -a -T fstab` bind-mounts the root filesystem READ-ONLY on a fresh
  mountpoint in a per-run scratch folder and mounts /proc, a minimal /dev (the host's null, zero, full, random,
  urandom and tty bound on a scratch folder: so `2>/dev/null` never creates a file), /tmp and the binds under it.
  The mounts exist only in that namespace, so nothing leaks onto the host and nothing needs unmounting; the cached
  root filesystem is never modified. The command runs as root with all capabilities: this isolates what the
  command sees, it is no security boundary against hostile code (prefer bubblewrap for that).
* "proot" (Debian package proot): ptrace-based, unprivileged, slow on syscall-heavy work. proot itself can make
  nothing read-only, cut no network and lets background processes outlive it, so it runs inside `unshare --mount
  --pid [--net]` (as root, or in a user namespace where those work), on a read-only bind mount of the root
  filesystem and of the read-only binds. Where that is impossible (no root, no user namespaces) the command could
  write to the root filesystem and use the network; a warning is logged. proot waits for every process the command
  started, background ones included, until the timeout.

For chroot and proot, /tmp is a host scratch folder removed after the run. The environment is handed over as each
tool's own environment, not on its command line (as `bwrap --clearenv --setenv` would), so values such as
credentials never show in `ps`. Only the dynamic loader's LD_* variables go to bubblewrap with --setenv, so they
reach the command alone (with chroot and proot they also apply to the host's unshare, mount and proot).
Timeouts kill the whole process group (process.py); every sandbox takes its processes down with it.
Every sandbox runs under the same limits on processes, memory and file size (limits.py: a cgroup of its own where
one can be made, resource limits otherwise). Standard library only.
"""

from __future__ import annotations

import functools
import logging
import os
import posixpath
import shlex
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

from .limits import Limits, limited
from .process import ProcessResult, run_process

log = logging.getLogger(__name__)

SANDBOXES = ("bubblewrap", "chroot", "proot")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
INSTALL_HINT = ("install bubblewrap (apt-get install bubblewrap), or run as root (unshare and chroot from "
                "util-linux), or install proot (apt-get install proot)")
_ALIASES = {"bwrap": "bubblewrap", "unshare": "chroot"}
_REQUIRED_DIRS = ("proc", "dev", "tmp")
_DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
_NET_FILES = ("/etc/resolv.conf", "/etc/hosts")
_PROBE_TIMEOUT = 10


class SandboxError(Exception):
    """The command cannot be run in a sandbox here; the message says what to install or change."""


@dataclass(frozen=True)
class Bind:
    """A host folder or file visible at `target` (an absolute path) inside the sandbox."""

    source: Path
    target: str
    writable: bool = False


@dataclass(frozen=True)
class SandboxResult(ProcessResult):
    sandbox: str = ""  # "bubblewrap", "chroot" or "proot"


@dataclass(frozen=True)
class _Request:
    rootfs: str
    argv: list[str]
    binds: list[Bind]
    workdir: str
    network: bool
    env: dict[str, str]


def available_sandboxes() -> list[str]:
    """The sandboxes that work on this machine, in order of preference (probed once per process)."""
    return [name for name in SANDBOXES if _works(name)]


def run_in_rootfs(rootfs: Path, argv: list[str], env: dict[str, str], binds: list[Bind] | None = None,
                  workdir: str = "/", timeout: float | None = None, network: bool = False,
                  on_line: Callable[[str], None] | None = None, prefer: str | None = None,
                  limits: Limits | None = None) -> SandboxResult:
    """Run `argv` inside `rootfs` with exactly `env` (PATH defaults to the usual one) in `workdir`, under `limits`
    (processes, memory, file size: limits.py; the defaults when None).

    `prefer` forces a sandbox ("bubblewrap", "chroot", "proot"); otherwise the first that works is used."""
    full_env = {"PATH": DEFAULT_PATH, **env}
    _check_env(full_env)
    binds = [Bind(Path(os.path.abspath(b.source)), b.target, b.writable) for b in binds or []]
    request = _Request(os.path.realpath(rootfs), list(argv), binds, workdir, network, full_env)
    _check(request)
    name = _choose(prefer)
    host_env = {k: v for k, v in full_env.items() if not (name == "bubblewrap" and _for_loader(k))}
    try:
        limits = limits or Limits()
    except ValueError as err:
        raise SandboxError(str(err)) from None
    with (tempfile.TemporaryDirectory(prefix="scar-sandbox-", ignore_cleanup_errors=True) as scratch,
          limited(limits, host_env) as prefix):
        command = [*prefix, *_COMMANDS[name](request, Path(scratch))]
        result = run_process(command, host_env, cwd="/", timeout=timeout, on_line=on_line)
    values = {f.name: getattr(result, f.name) for f in fields(ProcessResult)}
    return SandboxResult(**values, sandbox=name)


# --- checks -----------------------------------------------------------------------------------------------------------


def _check(request: _Request) -> None:
    root = request.rootfs
    if not os.path.isdir(root):
        raise SandboxError(f"{root} is not a folder (extract the image first)")
    for name in _REQUIRED_DIRS:
        if not _is_real_dir(os.path.join(root, name)):
            raise SandboxError(f"{root} has no /{name} folder to mount over (extract_image creates it)")
    if not request.argv:
        raise SandboxError("no command to run")
    _check_absolute("working directory", request.workdir)
    if not _under_tmp(request.workdir) and not _is_dir_inside(root, request.workdir):
        raise SandboxError(f"working directory {request.workdir} does not exist in the image")
    for bind in request.binds:
        _check_absolute("bind target", bind.target)
        if not os.path.exists(bind.source):
            raise SandboxError(f"bind source {bind.source} does not exist")
        inside = _inside(root, bind.target)
        if not _under_tmp(bind.target) and (inside is None or not os.path.exists(inside)):
            raise SandboxError(f"bind target {bind.target} does not exist in the image (or passes through a "
                               f"symbolic link); only targets under /tmp are created")


def _check_absolute(what: str, path: str) -> None:
    if not path.startswith("/") or posixpath.normpath(path) != path or "\0" in path:
        raise SandboxError(f"{what} must be an absolute, normalized path: {path!r}")


def _check_env(env: dict[str, str]) -> None:
    for name, value in env.items():
        if not name or "=" in name or "\0" in name or "\0" in value:
            raise SandboxError(f"invalid environment variable {name!r}")


def _for_loader(name: str) -> bool:
    """Variables the dynamic loader reads: they would apply to the host tool starting the sandbox too."""
    return name.startswith("LD_")


def _under_tmp(path: str) -> bool:
    return path.startswith("/tmp/")


def _is_real_dir(path: str) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _inside(root: str, path: str) -> str | None:
    """The host path of `path` inside the root; None when a component is a symbolic link (it could lead out)."""
    current = root
    for part in path.strip("/").split("/"):
        current = os.path.join(current, part) if part else current
        if os.path.islink(current):
            return None
    return current


def _is_dir_inside(root: str, path: str) -> bool:
    inside = _inside(root, path)
    return inside is not None and _is_real_dir(inside)


def _choose(prefer: str | None) -> str:
    if prefer is not None:
        name = _ALIASES.get(prefer, prefer)
        if name not in SANDBOXES:
            raise SandboxError(f"unknown sandbox {prefer!r}: choose one of {', '.join(SANDBOXES)}")
        if not _works(name):
            raise SandboxError(f"the {name} sandbox does not work here: {_HINTS[name]}")
        return name
    for name in SANDBOXES:
        if _works(name):
            return name
    raise SandboxError(f"no sandbox works here to run the container: {INSTALL_HINT}")


# --- probes -----------------------------------------------------------------------------------------------------------

_HINTS = {"bubblewrap": "install it (apt-get install bubblewrap) and allow user namespaces when not root",
          "chroot": "it needs root and util-linux (unshare, mount)",
          "proot": "install it (apt-get install proot); it needs ptrace"}


@functools.cache
def _works(name: str) -> bool:
    true = shutil.which("true") or "/bin/true"
    if name == "bubblewrap":
        bwrap = shutil.which("bwrap")
        return bool(bwrap) and _succeeds([bwrap, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
                                          "--unshare-all", "--die-with-parent", "--", true])
    if name == "chroot":
        return (os.geteuid() == 0 and all(shutil.which(tool) for tool in ("unshare", "mount"))
                and _succeeds([*_chroot_namespaces(network=False), "--root=/", "--wd=/", "--", true]))
    proot = shutil.which("proot")
    return bool(proot) and _succeeds([proot, "-r", "/", true])


def _succeeds(command: list[str]) -> bool:
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=_PROBE_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@functools.lru_cache(maxsize=1)
def _namespace_prefix() -> tuple[str, ...] | None:
    """How to get private mount and PID namespaces here: as root, or in a user namespace; None when neither works."""
    unshare = shutil.which("unshare")
    if unshare is None or shutil.which("mount") is None:
        return None
    user = () if os.geteuid() == 0 else ("--user", "--map-root-user")
    prefix = (unshare, *user, "--mount", "--propagation", "private", "--pid", "--fork", "--kill-child")
    return prefix if _succeeds([*prefix, "--", shutil.which("true") or "/bin/true"]) else None


# --- command lines ----------------------------------------------------------------------------------------------------


def _bubblewrap(request: _Request, scratch: Path) -> list[str]:
    command = [shutil.which("bwrap") or "bwrap", "--ro-bind", request.rootfs, "/", "--proc", "/proc", "--dev", "/dev",
               "--tmpfs", "/tmp"]
    if os.geteuid() == 0:
        command += ["--cap-drop", "ALL"]  # bwrap keeps root's capabilities otherwise; Lambda grants none
    for bind in request.binds:
        command += ["--bind" if bind.writable else "--ro-bind", str(bind.source), bind.target]
    if _under_tmp(request.workdir) and not _covered(request.workdir, request.binds):
        command += ["--dir", request.workdir]
    if request.network:
        for path in _net_files(request.rootfs):
            command += ["--ro-bind", path, path]
    for name, value in request.env.items():
        if _for_loader(name):
            command += ["--setenv", name, value]
    command += ["--unshare-all", *(["--share-net"] if request.network else []), "--die-with-parent",
                "--chdir", request.workdir, "--", *request.argv]
    return command


def _chroot_namespaces(network: bool) -> list[str]:
    return [shutil.which("unshare") or "unshare", "--mount", "--propagation", "private", "--pid", "--fork",
            "--kill-child", "--ipc", "--uts", *([] if network else ["--net"])]


def _chroot(request: _Request, scratch: Path) -> list[str]:
    """In fresh namespaces, one `mount -a` mounts everything listed in an fstab (the root filesystem read-only on a
    fresh mountpoint, /proc, /dev and /tmp from the scratch folder, the binds), then `unshare --root` chroots there.
    Fresh mountpoints matter: `mount -a` silently skips an entry whose target already looks mounted."""
    root = str(_mountpoint(scratch / "root", request.rootfs))
    tmp = _scratch_tmp(request, scratch)
    dev = _scratch_dev(scratch)
    mounts = [(request.rootfs, root, "none", "bind,ro"), ("proc", root + "/proc", "proc", "nosuid,nodev,noexec"),
              (str(dev), root + "/dev", "none", "bind,nosuid")]
    mounts += [(f"/dev/{name}", f"{root}/dev/{name}", "none", "bind") for name in _DEVICES]
    mounts.append((str(tmp), root + "/tmp", "none", "bind,nosuid,nodev"))
    mounts += [(str(b.source), root + b.target, "none", "bind" if b.writable else "bind,ro") for b in request.binds]
    if request.network:
        mounts += [(path, root + path, "none", "bind,ro") for path in _net_files(request.rootfs)]
    fstab = _write_fstab(scratch, mounts)
    q = shlex.quote
    script = (f"{q(shutil.which('mount') or 'mount')} -a -T {q(str(fstab))} && "
              f'exec {q(shutil.which("unshare") or "unshare")} --root={q(root)} --wd={q(request.workdir)} -- "$@"')
    return [*_chroot_namespaces(request.network), "--", "/bin/sh", "-c", script, "scar-sandbox", *request.argv]


def _mountpoint(path: Path, source: str) -> Path:
    """An empty folder, or an empty file when `source` is a file, to mount `source` on."""
    if os.path.isdir(source):
        path.mkdir()
    else:
        path.touch()
    return path


def _scratch_tmp(request: _Request, scratch: Path) -> Path:
    """The host folder shown as /tmp, with the mountpoints of the binds under /tmp and the working directory."""
    tmp = scratch / "tmp"
    tmp.mkdir()
    tmp.chmod(0o1777)
    for bind in request.binds:
        if _under_tmp(bind.target):
            target = tmp / bind.target[len("/tmp/"):]
            target.parent.mkdir(parents=True, exist_ok=True)
            if os.path.isdir(bind.source):
                target.mkdir(exist_ok=True)
            else:
                target.touch()
    if _under_tmp(request.workdir) and not _covered(request.workdir, request.binds):
        (tmp / request.workdir[len("/tmp/"):]).mkdir(parents=True, exist_ok=True)
    return tmp


def _scratch_dev(scratch: Path) -> Path:
    """A minimal /dev: mountpoints for the host's harmless devices, the usual links, a writable shm."""
    dev = scratch / "dev"
    dev.mkdir()
    for name in _DEVICES:
        (dev / name).touch()
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        (dev / name).symlink_to(target)
    (dev / "shm").mkdir()
    (dev / "shm").chmod(0o1777)
    dev.chmod(0o755)
    return dev


def _write_fstab(scratch: Path, mounts: list[tuple[str, str, str, str]]) -> Path:
    fstab = scratch / "fstab"
    fstab.write_text("".join(f"{_fstab_escape(source)} {_fstab_escape(target)} {kind} {options} 0 0\n"
                             for source, target, kind, options in mounts))
    return fstab


def _fstab_escape(path: str) -> str:
    return "".join(f"\\{ord(c):03o}" if c in " \t\n\\" else c for c in path)


def _proot(request: _Request, scratch: Path) -> list[str]:
    """proot with a host scratch folder as /tmp, inside private mount, PID (and network) namespaces when possible,
    where the root filesystem and the read-only binds are read-only bind mounts on fresh mountpoints."""
    if any(":" in path for b in request.binds for path in (str(b.source), b.target)):
        raise SandboxError("proot cannot bind paths that contain ':'")
    tmp = _scratch_tmp(request, scratch)
    prefix = _namespace_prefix()
    if prefix is None:
        log.warning("proot without private namespaces: the root filesystem is writable by the command, the network "
                    "is shared and background processes may outlive the run (run as root or allow user namespaces)")
        return _proot_command(request.rootfs, request, tmp, {})
    root = str(_mountpoint(scratch / "root", request.rootfs))
    mounts = [(request.rootfs, root, "none", "bind,ro")]
    sources: dict[int, str] = {}
    for index, bind in enumerate(request.binds):
        if not bind.writable:
            sources[index] = str(_mountpoint(scratch / f"read-only-{index}", str(bind.source)))
            mounts.append((str(bind.source), sources[index], "none", "bind,ro"))
    fstab = _write_fstab(scratch, mounts)
    mount = shlex.quote(shutil.which("mount") or "mount")
    script = (f"{mount} -t proc -o nosuid,nodev,noexec proc /proc && {mount} -a -T {shlex.quote(str(fstab))} && "
              'exec "$@"')
    network = [] if request.network else ["--net"]
    return [*prefix, *network, "--", "/bin/sh", "-c", script, "scar-sandbox",
            *_proot_command(root, request, tmp, sources)]


def _proot_command(root: str, request: _Request, tmp: Path, sources: dict[int, str]) -> list[str]:
    command = [shutil.which("proot") or "proot", "-0", "-r", root, "-b", "/proc", "-b", f"{tmp}:/tmp"]
    for device in _DEVICES:
        command += ["-b", f"/dev/{device}"]
    command += ["-b", "/proc/self/fd:/dev/fd"]
    for index, bind in enumerate(request.binds):
        command += ["-b", f"{sources.get(index, str(bind.source))}:{bind.target}"]
    if request.network:
        for path in _net_files(request.rootfs):
            command += ["-b", path]
    return [*command, "-w", request.workdir, *request.argv]


def _covered(path: str, binds: list[Bind]) -> bool:
    """True when `path` is a bind target or lies under one (creating it would write to the host)."""
    return any(path == b.target or path.startswith(b.target.rstrip("/") + "/") for b in binds)


def _net_files(rootfs: str) -> list[str]:
    """Host name-resolution files to show inside when the network is shared and the image has them as files."""
    found = []
    for path in _NET_FILES:
        inside = _inside(rootfs, path)
        if os.path.isfile(path) and inside is not None and os.path.isfile(inside):
            found.append(path)
    return found


_COMMANDS: dict[str, Callable[[_Request, Path], list[str]]] = {
    "bubblewrap": _bubblewrap, "chroot": _chroot, "proot": _proot}
