"""Resource limits for a sandboxed command: how many processes it may run, how much memory it may use, how large a
file it may write. Without them a fork bomb exhausts the host's process ids until the timeout.

How each is enforced, best first:
* A cgroup of the sandbox's own, when this process may make one (root with a writable /sys/fs/cgroup: cgroup v2 under
  this process's cgroup or its parent, whichever hands out the pids and memory controllers, or the v1 pids and memory
  hierarchies). `pids.max` counts every process and thread of the sandbox, the sandbox tool's own included;
  `memory.max` (v1 `memory.limit_in_bytes`) bounds their memory, the files they put in a tmpfs /tmp included, and the
  kernel's OOM killer stops the command that passes it. The cgroup is removed after the run, with any process left.
* Otherwise resource limits (setrlimit) on the sandbox tool, inherited by everything it starts. RLIMIT_NPROC counts
  all the processes of the real user id, so it is set to the user's current count plus the limit; the kernel never
  applies it to root, so root without a cgroup has no process limit (a warning is logged; the timeout still ends the
  run). RLIMIT_AS bounds each process's address space to ADDRESS_SPACE_FACTOR times the memory: address space counts
  what programs reserve (thread stacks, malloc arenas, language runtimes), far more than what they use.
* RLIMIT_FSIZE always: a larger file is cut short and its writer gets SIGXFSZ.

The limits are applied by a few lines of Python run with this interpreter in front of the sandbox tool (join the
cgroups, set the rlimits, exec), so no preexec_fn runs in a forked copy of a threaded supervisor. Standard library only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")
#: Lambda's quota of processes and threads per execution environment.
DEFAULT_PROCESSES = 1024
#: When neither SCAR_SANDBOX_MEMORY_MB nor the function's memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE) is set.
DEFAULT_MEMORY_MB = 1024
#: The largest /tmp Lambda offers: no file of a function can be larger there.
DEFAULT_FILE_SIZE_MB = 10240
ADDRESS_SPACE_FACTOR = 4
_MIB = 1024 * 1024
_REMOVE_TRIES = 50  # x 0.02 s: the killed processes of a cgroup take a moment to leave it

_TRAMPOLINE = """\
import json, os, resource, signal, sys
signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # Python ignores both; exec would hand that on
signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
setup = json.loads(sys.argv[1])
try:
    for procs in setup["cgroups"]:
        with open(procs, "w") as handle:
            handle.write(str(os.getpid()))
    for name, value in setup["environment"].items():  # undo Python's C locale coercion (PEP 538)
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    for name, value in setup["rlimits"].items():
        kind = getattr(resource, name)
        hard = resource.getrlimit(kind)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (value, value))
    os.execvp(sys.argv[2], sys.argv[2:])
except OSError as err:
    sys.exit(f"scar: cannot start the sandbox with its limits: {err}")
"""


def _setting(*names: str, default: int) -> Callable[[], int]:
    """A default read at construction from the first of the environment variables `names` that is set."""

    def read() -> int:
        for name in names:
            value = os.environ.get(name, "").strip()
            if value:
                if not value.isdigit() or int(value) < 1:
                    raise ValueError(f"{name}={value!r}: the sandbox limit must be a positive whole number")
                return int(value)
        return default

    return read


@dataclass(frozen=True)
class Limits:
    """What one sandboxed run may use. Defaults: SCAR_SANDBOX_PROCESSES, SCAR_SANDBOX_MEMORY_MB (else the function's
    memory, AWS_LAMBDA_FUNCTION_MEMORY_SIZE, which Lambda sets) and SCAR_SANDBOX_FILE_SIZE_MB, else the constants."""

    processes: int = field(default_factory=_setting("SCAR_SANDBOX_PROCESSES", default=DEFAULT_PROCESSES))
    memory_mb: int = field(default_factory=_setting("SCAR_SANDBOX_MEMORY_MB", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                                                    default=DEFAULT_MEMORY_MB))
    file_size_mb: int = field(default_factory=_setting("SCAR_SANDBOX_FILE_SIZE_MB", default=DEFAULT_FILE_SIZE_MB))

    @classmethod
    def for_memory(cls, memory_mb: int | None) -> Limits:
        """The defaults, with a function's memory unless SCAR_SANDBOX_MEMORY_MB says otherwise."""
        if memory_mb is None or os.environ.get("SCAR_SANDBOX_MEMORY_MB", "").strip():
            return cls()
        return cls(memory_mb=memory_mb)

    def __post_init__(self) -> None:
        for name in ("processes", "memory_mb", "file_size_mb"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"sandbox limit {name} must be a positive whole number, not {value!r}")


@contextlib.contextmanager
def limited(limits: Limits, env: Mapping[str, str]) -> Iterator[list[str]]:
    """The words to put before a command started with `env` so that it runs under `limits`; cgroups made for it go
    away afterwards."""
    groups = _make_cgroups(limits)
    try:
        rlimits = {"RLIMIT_FSIZE": limits.file_size_mb * _MIB}
        if "memory" not in groups:
            rlimits["RLIMIT_AS"] = limits.memory_mb * ADDRESS_SPACE_FACTOR * _MIB
        if "pids" not in groups:
            if os.geteuid() == 0:
                log.warning("the sandbox runs without a process limit: root ignores RLIMIT_NPROC and no cgroup "
                            "could be made under %s (only the timeout stops a fork bomb)", CGROUP_ROOT)
            else:
                rlimits["RLIMIT_NPROC"] = _tasks_of(os.getuid()) + limits.processes
        setup = {"cgroups": sorted({str(group / "cgroup.procs") for group in groups.values()}), "rlimits": rlimits,
                 "environment": {"LC_CTYPE": env.get("LC_CTYPE")}}
        yield [sys.executable, "-I", "-S", "-c", _TRAMPOLINE, json.dumps(setup)]
    finally:
        for group in sorted(set(groups.values())):
            _report(group, limits)
            _remove(group)


# --- cgroups ----------------------------------------------------------------------------------------------------------


def _make_cgroups(limits: Limits) -> dict[str, Path]:
    """The cgroup made for each controller ("pids", "memory") with its limit written; none where that is impossible."""
    if os.geteuid() != 0:
        return {}
    name = f"scar-sandbox-{os.getpid()}-{secrets.token_hex(4)}"
    processes, memory = str(limits.processes), str(limits.memory_mb * _MIB)
    if (CGROUP_ROOT / "cgroup.controllers").is_file():
        parent = _v2_parent()
        group = _make(parent / name, [("pids.max", processes), ("memory.max", memory)],
                      [("memory.swap.max", "0")]) if parent else None
        return {"pids": group, "memory": group} if group else {}
    own = _own_cgroups()
    made: dict[str, Path] = {}
    for controller, required, optional in (
            ("pids", [("pids.max", processes)], []),
            ("memory", [("memory.limit_in_bytes", memory)], [("memory.memsw.limit_in_bytes", memory)])):
        if controller in own:
            group = _make(CGROUP_ROOT / controller / own[controller].lstrip("/") / name, required, optional)
            if group:
                made[controller] = group
    return made


def _make(group: Path, required: list[tuple[str, str]], optional: list[tuple[str, str]]) -> Path | None:
    """A new cgroup with its settings; None when it cannot be made (no such hierarchy, read-only, not allowed).
    Optional settings are those missing where the kernel accounts no swap."""
    try:
        group.mkdir()
        for file, value in required:
            (group / file).write_text(value)
    except OSError as err:
        log.debug("no cgroup %s for the sandbox: %s", group, err)
        _remove(group)
        return None
    for file, value in optional:
        with contextlib.suppress(OSError):
            (group / file).write_text(value)
    return group


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup path per controller ("" for cgroup v2), from /proc/self/cgroup."""
    found: dict[str, str] = {}
    try:
        text = Path("/proc/self/cgroup").read_text()
    except OSError:
        return found
    for line in text.splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            found[controller] = path
    return found


def _v2_parent() -> Path | None:
    """This process's cgroup, or its parent, whichever hands pids and memory to its children (v2 lets a cgroup with
    processes of its own hand out none)."""
    own = CGROUP_ROOT / _own_cgroups().get("", "/").lstrip("/")
    for candidate in (own, own.parent):
        try:
            enabled = (candidate / "cgroup.subtree_control").read_text().split()
        except OSError:
            continue
        if {"pids", "memory"} <= set(enabled) and candidate.is_relative_to(CGROUP_ROOT):
            return candidate
    return None


def _report(group: Path, limits: Limits) -> None:
    """Say when the command reached a limit: its failures are otherwise puzzling."""
    refused, killed = _counter(group / "pids.events", "max"), 0
    for file in ("memory.events", "memory.oom_control"):  # v2, v1
        killed += _counter(group / file, "oom_kill")
    if refused:
        log.warning("the command reached its limit of %d processes (%d refused)", limits.processes, refused)
    if killed:
        log.warning("the command passed its memory limit of %d MiB: the kernel killed %d of its processes",
                    limits.memory_mb, killed)


def _counter(file: Path, key: str) -> int:
    """The value of `key` in a cgroup file of "key value" lines; 0 when absent."""
    with contextlib.suppress(OSError, ValueError):
        for line in file.read_text().splitlines():
            name, value = line.split()
            if name == key:
                return int(value)
    return 0


def _remove(group: Path) -> None:
    """Kill what is left in the cgroup and remove it."""
    for _ in range(_REMOVE_TRIES):
        try:
            pids = (group / "cgroup.procs").read_text().split()
        except FileNotFoundError:
            return
        except OSError:
            pids = []
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)
    log.warning("cannot remove the sandbox cgroup %s: processes are still in it", group)


# --- rlimits ----------------------------------------------------------------------------------------------------------


def _tasks_of(uid: int) -> int:
    """How many processes and threads the user runs now (what RLIMIT_NPROC counts)."""
    count = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                count += int(fields["Threads"])
    return count
