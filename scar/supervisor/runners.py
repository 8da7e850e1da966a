"""The ways the supervisor runs the user's code: in a local sandbox on an extracted image, with udocker in
Lambda's zip runtime, or directly when the supervisor already runs inside the image."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .config import FunctionConfig
from .limits import Limits
from .process import ProcessResult, run_process

#: Where the request's folder appears inside a container.
CONTAINER_WORKDIR = "/tmp/scar/{request_id}"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: What steers udocker itself (its settings, its Python, the dynamic loader, the locale): udocker reads these
#: from its own environment, so a container variable of that name cannot travel there.
_UDOCKER_OWN = frozenset({"PATH", "HOME", "TMPDIR", "GCONV_PATH", "GLIBC_TUNABLES", "LOCPATH", "NLSPATH"})
_UDOCKER_OWN_PREFIXES = ("UDOCKER_", "PYTHON", "LD_", "LC_", "LANG", "PROOT_", "MALLOC_")


class RunnerError(Exception):
    """The container cannot be run (no image, no script, no sandbox...)."""


@dataclass(frozen=True)
class RunSpec:
    request_id: str
    workdir: Path  # on the host: input/, output/ and scripts/ live here
    script: str | None  # a file name in workdir/scripts
    args: list[str] | None
    env: dict[str, str]  # the container's environment, with container paths
    timeout: float | None
    on_line: Callable[[str], None]


@dataclass(frozen=True)
class RunResult:
    process: ProcessResult
    runner: str  # what ran the code, for the logs ("bubblewrap", "udocker", "direct"...)


class Runner(Protocol):
    def container_workdir(self, request_id: str, workdir: Path) -> str:
        """Where `workdir` appears to the user's code."""

    def run(self, spec: RunSpec) -> RunResult:
        """Run the script (or the image's command) and wait for it."""


def checked_environment(env: dict[str, str]) -> dict[str, str]:
    """`env`, when every name is a plain identifier and no value holds a NUL byte (no process environment can
    carry one); otherwise a RunnerError naming the variable. Values are otherwise passed exactly as they are."""
    for name, value in env.items():
        if not _VARIABLE_NAME.fullmatch(name):
            raise RunnerError(f"invalid container variable name {name!r}: use letters, digits and _, not first a "
                              "digit")
        if "\x00" in value:
            raise RunnerError(f"the container variable {name} holds a NUL byte, which no process environment can "
                              "carry")
    return env


def _script_argv(spec: RunSpec, inside: str) -> list[str] | None:
    if spec.script:
        return ["/bin/sh", f"{inside}/scripts/{spec.script}", *(spec.args or [])]
    return None


class DirectRunner:
    """The supervisor already runs inside the container image (Lambda's container-image runtime)."""

    def container_workdir(self, request_id: str, workdir: Path) -> str:
        return str(workdir)

    def run(self, spec: RunSpec) -> RunResult:
        argv = _script_argv(spec, str(spec.workdir)) or spec.args
        if not argv:
            raise RunnerError("nothing to run: give the function an init_script, or send 'script' or 'cmd_args'")
        # the function's own AWS settings and role credentials, as for any Lambda code (environment only)
        inherited = {k: v for k, v in os.environ.items() if k.startswith("AWS_") or k in ("PATH", "LANG", "HOME")}
        env = {"PATH": DEFAULT_PATH, **inherited, **checked_environment(spec.env)}
        try:
            result = run_process(argv, env, cwd=str(spec.workdir), timeout=spec.timeout, on_line=spec.on_line)
        except OSError as err:  # a command that does not exist or cannot be run: an answer, not a crash
            raise RunnerError(f"cannot run {argv[0]}: {err.strerror or err}") from None
        return RunResult(result, "direct")


class SandboxRunner:
    """The image extracted on this machine and run under bubblewrap (or chroot, or proot)."""

    def __init__(self, config: FunctionConfig, image_path: Callable[[], Path], cache_root: Path,
                 network: bool = False, prefer: str | None = None, limits: Limits | None = None) -> None:
        """`limits`: what each run may use (default: the environment's settings, see `Limits`)."""
        self._config = config
        self._image_path = image_path
        self._cache_root = cache_root
        self._network = network
        self._prefer = prefer
        self._limits = limits
        self._image: Any = None  # the extracted image, kept for the warm invocations that follow

    def container_workdir(self, request_id: str, workdir: Path) -> str:
        return CONTAINER_WORKDIR.format(request_id=request_id)

    def run(self, spec: RunSpec) -> RunResult:
        from .image import ImageError, extract_image
        from .sandbox import Bind, SandboxError, run_in_rootfs

        if self._image is None:
            try:
                self._image = extract_image(self._image_path(), self._cache_root)
            except ImageError as err:
                raise RunnerError(f"cannot use the image: {err}") from None
        image = self._image
        inside = self.container_workdir(spec.request_id, spec.workdir)
        argv = _script_argv(spec, inside) or [*image.config.entrypoint, *(spec.args or image.config.cmd)]
        if not argv:
            raise RunnerError("nothing to run: the image has no command and the function no script")
        env = {"PATH": DEFAULT_PATH, **image.config.env, **checked_environment(spec.env)}
        binds = [Bind(spec.workdir / "input", f"{inside}/input", False),
                 Bind(spec.workdir / "scripts", f"{inside}/scripts", False),
                 Bind(spec.workdir / "output", f"{inside}/output", True)]
        try:
            result = run_in_rootfs(image.rootfs, argv, env, binds, image.config.workdir or "/tmp", spec.timeout,
                                   network=self._network, on_line=spec.on_line, prefer=self._prefer,
                                   limits=self._limits)
        except SandboxError as err:
            raise RunnerError(str(err)) from None
        return RunResult(result, result.sandbox)


#: udocker's execution modes the supervisor sets: Fakechroot (what Lambda allows) and PRoot.
UDOCKER_MODES = ("F1", "P1")
#: The engine tarball in the supervisor layer (scar.package.layer.ENGINE_NAME), beside its python/ folder:
#: /opt/udocker/... in Lambda, wherever an emulator extracts the layer elsewhere.
_LAYER_ENGINE = Path(__file__).resolve().parents[3] / "udocker" / "udocker-englib.tar.gz"
_LAMBDA_ENGINE = Path("/opt/udocker/udocker-englib.tar.gz")


class UdockerRunner:
    """udocker in Fakechroot mode (F1) as in Lambda's zip runtime, or PRoot mode (P1). Its image, container and
    tools live under /tmp, so warm invocations reuse them."""

    def __init__(self, config: FunctionConfig, image_path: Callable[[], Path] | None, udocker_dir: Path) -> None:
        self._config = config
        self._image_path = image_path
        self._dir = udocker_dir
        self._container = f"scar-{config.name}"
        self._mode = config.udocker_execmode

    def container_workdir(self, request_id: str, workdir: Path) -> str:
        return str(workdir)  # udocker maps volumes at the same path

    def _udocker(self, *args: str, timeout: float | None = None, on_line: Callable[[str], None] | None = None,
                 values: dict[str, str] | None = None) -> ProcessResult:
        """Run udocker with its own settings and `values` (container variables it reads by name) as its
        environment; never the supervisor's, which holds the role's credentials."""
        env = {**(values or {}), "PATH": os.environ.get("PATH", DEFAULT_PATH), "HOME": str(self._dir / "home"),
               "UDOCKER_DIR": str(self._dir), "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        tarball = engine_tarball()
        if tarball is not None:
            env["UDOCKER_TARBALL"] = str(tarball)
        # udocker refuses root without --allow-root (a machine of one's own; Lambda never runs as root)
        return run_process([sys.executable, "-m", "udocker.maincmd", "--allow-root", *args], env,
                           timeout=timeout, on_line=on_line)

    def _prepare(self) -> None:
        from .image import ImageError, prepare_cache

        if self._mode not in UDOCKER_MODES:
            raise RunnerError(f"unknown udocker execution mode {self._mode!r} ({' or '.join(UDOCKER_MODES)})")
        try:  # private and ours, like the image cache: a planted container would run as this user
            prepare_cache(self._dir)
        except ImageError as err:
            raise RunnerError(f"cannot use udocker's folder: {err}") from None
        marker = self._dir / "scar" / f"{self._container}.{self._mode}.ready"
        if marker.exists():
            return
        image = self._get_image()
        step = self._udocker("create", f"--name={self._container}", image)
        if step.exit_code != 0 and "already exist" not in step.output.decode("utf-8", "replace"):
            raise RunnerError(f"udocker create failed: {step.tail(5)}")
        if self._mode.startswith("F"):
            self._record_loader()
        step = self._udocker("setup", f"--execmode={self._mode}", self._container)
        if step.exit_code != 0:
            raise RunnerError(f"udocker setup failed: {step.tail(5)}")
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()

    def _get_image(self) -> str:
        """The image's name in udocker's repository, loaded from the image file or pulled from its registry.

        udocker names a loaded image after the repository it is given, with the tag the tarball holds, so
        the name is read back from its list of images."""
        if self._image_path is None:
            image = self._config.image or f"scar/{self._config.name}:latest"
            step = self._udocker("pull", image)
            if step.exit_code != 0:
                raise RunnerError(f"udocker could not pull the image {image}: {step.tail(5)}")
            return image
        repository = f"scar-image/{self._config.name.lower()}"
        step = self._udocker("load", "-i", str(self._image_path()), repository)
        if step.exit_code != 0 and "already exist" not in step.output.decode("utf-8", "replace"):
            raise RunnerError(f"udocker could not load the image file: {step.tail(5)}")
        listing = self._udocker("images").output.decode("utf-8", "replace").split()
        loaded = sorted(word for word in listing if word.startswith(f"{repository}:"))
        if not loaded:
            raise RunnerError(f"udocker loaded no image from the image file: {step.tail(5)}")
        return loaded[0]

    def _record_loader(self) -> None:
        """Write the container's dynamic loader where udocker's Fakechroot mode looks for it first
        (`ld.so.path`), read from the image's own programs: udocker would ask patchelf with a flag (-q) that
        not every patchelf has, and without a loader it silently runs the programs with the host's loader."""
        from .elf import program_interpreter

        container = (self._dir / "containers" / self._container).resolve()
        record = container / "ld.so.path"
        root = container / "ROOT"
        if record.exists() or not root.is_dir():
            return
        for folder in ("bin", "usr/bin"):
            parts = Path(folder).parts
            if any((root / Path(*parts[:depth])).is_symlink() for depth in range(1, len(parts) + 1)):
                continue  # a link in the image may lead out of it
            try:
                names = sorted(os.listdir(root / folder))
            except OSError:
                continue
            for name in names:
                loader = program_interpreter(root / folder / name)
                if loader and ".so" in loader:
                    record.write_text(loader + "\n", encoding="utf-8")
                    return

    def run(self, spec: RunSpec) -> RunResult:
        options, values = _udocker_variables(checked_environment(spec.env))
        self._prepare()
        args = ["--quiet", "run", "--nosysdirs", "-v", "/dev", "-v", "/proc", "-v", "/etc/hosts",
                "-v", str(spec.workdir), *options, f"--workdir={spec.workdir}"]
        if self._mode.startswith("F") and os.geteuid() == 0:
            # as root, udocker makes the container's /etc/group from the image's and from root's supplementary
            # groups (none): for an image without one it refuses to start. The image's own users and groups
            # then (never in Lambda, which does not run as root)
            args.append("--containerauth")
        if spec.script:
            args += [f"--entrypoint=/bin/sh {spec.workdir}/scripts/{spec.script}", self._container]
        else:
            args.append(self._container)
        args += spec.args or []
        result = self._udocker(*args, timeout=spec.timeout, on_line=spec.on_line, values=values)
        return RunResult(result, f"udocker {self._mode}")


def engine_tarball() -> Path | None:
    """udocker's engine tarball: `SCAR_UDOCKER_TARBALL`, else the one in the supervisor layer. None: udocker
    downloads its tools on first use."""
    chosen = os.environ.get("SCAR_UDOCKER_TARBALL")
    for candidate in ([Path(chosen)] if chosen else [_LAYER_ENGINE, _LAMBDA_ENGINE]):
        if candidate.is_file():
            return candidate
    return None


def _udocker_variables(env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """udocker's options for the container's variables, and the values it reads from its own environment.

    A variable goes as `--env=NAME` with its value in udocker's environment, which udocker copies unchanged
    whatever it holds: no value can become a second variable (udocker splits an --env-file at every line
    break, `\\r` included, and trims each value) and no value is on udocker's command line (in Fakechroot mode
    udocker itself then hands them to `env -i` on its command line, for the instant before the container
    starts). A variable that would steer udocker itself goes as `--env=NAME=VALUE`; udocker trims such a
    value, so one with spaces around it is refused."""
    options, values = [], {}
    for name, value in env.items():
        if name in _UDOCKER_OWN or name.startswith(_UDOCKER_OWN_PREFIXES):
            if value != value.strip():
                raise RunnerError(f"the udocker runner cannot pass {name}: udocker would trim the spaces around "
                                  "its value")
            options.append(f"--env={name}={value}")
        else:
            options.append(f"--env={name}")
            values[name] = value
    return options, values


def image_file_path(config: FunctionConfig, download: Callable[[str, str, Path], Path], cache: Path) -> Path:
    """The image tarball: in the function package, or downloaded once from the deployment bucket into
    `cache/images`, a private folder checked as the rootfs cache is (another user could otherwise plant the
    tarball that is then extracted and run)."""
    from .image import ImageError, prepare_cache

    info = config.image_file or {}
    if info.get("path"):
        return config.task_root / info["path"]
    if info.get("bucket") and info.get("key"):
        folder = cache / "images"
        try:
            prepare_cache(folder)
        except ImageError as err:
            raise RunnerError(f"cannot use the image: {err}") from None
        target = folder / Path(info["key"]).name
        if not target.exists():
            partial = download(info["bucket"], info["key"], folder)
            shutil.move(str(partial), target)
        return target
    raise RunnerError("the function defines no image file")
