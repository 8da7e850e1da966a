"""scar.supervisor.sandbox: each sandbox that works on this machine runs commands in an extracted busybox image,
Lambda-like (read-only root, private /tmp, binds, no network, exactly the given environment, timeouts)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from devtools.images import build_busybox_image, static_busybox
from scar.supervisor import limits as limits_module
from scar.supervisor import sandbox as sandbox_module
from scar.supervisor.image import extract_image
from scar.supervisor.limits import Limits
from scar.supervisor.sandbox import SANDBOXES, Bind, SandboxError, available_sandboxes, run_in_rootfs

HANDLER = "#!/bin/sh\necho \"handler in $(pwd) with $#\"\n"
WHY_MISSING = {"bubblewrap": "bwrap is not installed or does not work here (apt-get install bubblewrap)",
               "chroot": "the chroot sandbox needs root and util-linux",
               "proot": "proot is not installed or does not work here (apt-get install proot)"}


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if static_busybox() is None:
        pytest.skip("no static busybox here: apt-get install busybox-static (scripts/install-system-deps.sh)")
    folder = tmp_path_factory.mktemp("sandbox")
    image = build_busybox_image(folder / "busybox.tar", extra_files={"opt/handler.sh": HANDLER})
    return extract_image(image, folder / "cache").rootfs


@pytest.fixture(params=SANDBOXES)
def sandbox(request: pytest.FixtureRequest) -> str:
    if request.param not in available_sandboxes():
        pytest.skip(WHY_MISSING[request.param])
    return request.param


def snapshot(root: Path) -> dict[str, tuple[int, int, float]]:
    return {str(p.relative_to(root)): (p.lstat().st_mode, p.lstat().st_size, p.lstat().st_mtime)
            for p in [root, *root.rglob("*")]}


def sh(rootfs: Path, sandbox: str, script: str, **kwargs):
    kwargs.setdefault("env", {})
    kwargs.setdefault("timeout", 20)
    return run_in_rootfs(rootfs, ["/bin/sh", "-c", script], prefer=sandbox, **kwargs)


def test_output_and_exit_code(rootfs: Path, sandbox: str) -> None:
    lines: list[str] = []
    result = sh(rootfs, sandbox, "echo $GREETING; echo second >&2; exit 3", env={"GREETING": "hello"},
                on_line=lines.append)
    assert (result.exit_code, result.timed_out, result.sandbox) == (3, False, sandbox)
    assert result.output == b"hello\nsecond\n"
    assert lines == ["hello", "second"]


def test_exactly_the_given_environment(rootfs: Path, sandbox: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCAR_HOST_ONLY_VARIABLE", "must not leak")
    result = run_in_rootfs(rootfs, ["env"], {"GREETING": "hello", "EMPTY": ""}, prefer=sandbox, timeout=20)
    variables = dict(line.split("=", 1) for line in result.output.decode().splitlines())
    assert variables.pop("PWD") == "/"
    assert variables == {"GREETING": "hello", "EMPTY": "", "PATH": sandbox_module.DEFAULT_PATH}
    own_path = run_in_rootfs(rootfs, ["/bin/env"], {"PATH": "/bin"}, prefer=sandbox, timeout=20)
    assert b"PATH=/bin\n" in own_path.output


def test_root_filesystem_is_read_only_and_untouched(rootfs: Path, sandbox: str) -> None:
    before = snapshot(rootfs)
    result = sh(rootfs, sandbox, "ls /missing 2>/dev/null; echo x > /etc/new && echo wrote; mkdir /opt/new; "
                                 "echo y >> /etc/passwd; rm /bin/cat; echo done")
    output = result.output.decode()
    assert "wrote" not in output and "Read-only file system" in output
    assert output.endswith("done\n")
    assert snapshot(rootfs) == before
    assert list((rootfs / "dev").iterdir()) == [] and list((rootfs / "tmp").iterdir()) == []


def test_binds_and_private_tmp(rootfs: Path, sandbox: str, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "input.txt").write_text("input data\n")
    (tmp_path / "out").mkdir()
    binds = [Bind(tmp_path / "in", "/tmp/req/input"), Bind(tmp_path / "out", "/tmp/req/output", writable=True)]
    script = ("cat /tmp/req/input/input.txt; wc -c < /tmp/req/input/input.txt > /tmp/req/output/count; "
              "echo nope > /tmp/req/input/new || echo input is read-only; "
              "echo scratch > /tmp/scratch.txt && cat /tmp/scratch.txt; /opt/handler.sh a b")
    result = sh(rootfs, sandbox, script, binds=binds, workdir="/tmp/req/output")
    output = result.output.decode()
    assert result.exit_code == 0, output
    assert "input data\n" in output and "input is read-only" in output and "scratch\n" in output
    assert "handler in /tmp/req/output with 2" in output
    assert (tmp_path / "out" / "count").read_text().strip() == "11"
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == ["input.txt"]
    assert not (rootfs / "tmp" / "scratch.txt").exists()
    again = sh(rootfs, sandbox, "ls /tmp")  # every run gets a fresh /tmp
    assert again.output == b""


def test_working_directory_is_created_under_tmp(rootfs: Path, sandbox: str) -> None:
    assert sh(rootfs, sandbox, "pwd", workdir="/tmp/work/here").output == b"/tmp/work/here\n"
    assert sh(rootfs, sandbox, "pwd", workdir="/opt").output == b"/opt\n"


def test_no_network_unless_asked(rootfs: Path, sandbox: str) -> None:
    interfaces = sh(rootfs, sandbox, "tail -n +3 /proc/net/dev | cut -d: -f1").output.split()
    assert interfaces == [b"lo"]
    host = [line.split(":")[0].strip() for line in Path("/proc/net/dev").read_text().splitlines()[2:]]
    if set(host) == {"lo"}:
        pytest.skip("this machine has no network interface but lo")
    shared = sh(rootfs, sandbox, "tail -n +3 /proc/net/dev | cut -d: -f1", network=True).output.split()
    assert set(shared) == {name.encode() for name in host}


def processes_with(marker: str) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as stream:
                if marker.encode() in stream.read():
                    found.append(pid)
        except OSError:
            continue
    return found


def test_timeout_kills_everything(rootfs: Path, sandbox: str) -> None:
    marker = f"{uuid.uuid4().int % 10**7 + 10**7}"  # an unusual sleep length, to find leftovers by
    script = f"echo started; busybox setsid sleep {marker} & sleep {marker}; echo never"
    started = time.monotonic()
    result = sh(rootfs, sandbox, script, timeout=0.5)
    assert result.timed_out and result.output == b"started\n"
    assert time.monotonic() - started < 5
    deadline = time.monotonic() + 3
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with(marker) == []


def test_bad_requests_are_refused(rootfs: Path, tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="unknown sandbox"):
        run_in_rootfs(rootfs, ["true"], {}, prefer="docker")
    with pytest.raises(SandboxError, match="does not exist in the image"):
        run_in_rootfs(rootfs, ["true"], {}, binds=[Bind(tmp_path, "/data")])
    with pytest.raises(SandboxError, match="bind source"):
        run_in_rootfs(rootfs, ["true"], {}, binds=[Bind(tmp_path / "missing", "/tmp/x")])
    with pytest.raises(SandboxError, match="working directory"):
        run_in_rootfs(rootfs, ["true"], {}, workdir="/nowhere")
    with pytest.raises(SandboxError, match="absolute"):
        run_in_rootfs(rootfs, ["true"], {}, workdir="relative")
    bare = tmp_path / "bare"
    (bare / "tmp").mkdir(parents=True)
    with pytest.raises(SandboxError, match="no /proc folder"):
        run_in_rootfs(bare, ["true"], {})


def test_no_sandbox_names_what_to_install(rootfs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_module, "_works", lambda name: False)
    assert available_sandboxes() == []
    with pytest.raises(SandboxError, match=r"install bubblewrap.*proot"):
        run_in_rootfs(rootfs, ["true"], {})
    with pytest.raises(SandboxError, match="bubblewrap sandbox does not work here: install it"):
        run_in_rootfs(rootfs, ["true"], {}, prefer="bwrap")


def test_loader_variables_reach_only_the_command(rootfs: Path) -> None:
    if "bubblewrap" not in available_sandboxes():
        pytest.skip(WHY_MISSING["bubblewrap"])
    result = run_in_rootfs(rootfs, ["env"], {"LD_PRELOAD": "/nonexistent.so"}, prefer="bubblewrap", timeout=20)
    assert b"ld.so" not in result.output  # the host's bwrap did not try to preload it
    assert b"LD_PRELOAD=/nonexistent.so\n" in result.output


# --- limits: processes, memory, file size (scar/supervisor/limits.py) -------------------------------------------------

#: Starts up to 100 background sleeps; each start records its number, the last one recorded is printed. The loop
#: runs in a subshell because a shell that cannot fork stops; `read` and `echo` need no fork. Bounded: 100
#: processes for 2 seconds even where no limit held.
FORK_STORM = ("(i=0; while [ $i -lt 100 ]; do sleep 2 >/dev/null 2>&1 & i=$((i+1)); echo $i > /tmp/started; "
              "done); read n < /tmp/started; echo started=$n")
#: Doubles a string 27 times (128 MiB, about 192 MiB at the peak) unless memory runs out first.
MEMORY_HOG = 'x=a; i=0; while [ $i -lt 27 ]; do x="$x$x"; i=$((i+1)); done; echo survived ${#x}'


def started(result) -> int:
    return int(result.output.decode().rsplit("started=", 1)[1].split()[0])


def leftover_cgroups() -> list[Path]:
    return list(limits_module.CGROUP_ROOT.glob(f"**/scar-sandbox-{os.getpid()}-*"))


def test_a_fork_storm_stays_under_the_process_limit(rootfs: Path, sandbox: str) -> None:
    result = sh(rootfs, sandbox, FORK_STORM, limits=Limits(processes=40))
    assert (result.exit_code, result.timed_out) == (0, False)
    assert 20 <= started(result) < 40  # the sandbox tool and the shells count too
    assert "can't fork" in result.output.decode()
    assert leftover_cgroups() == []


def test_a_memory_hog_is_stopped(rootfs: Path, sandbox: str) -> None:
    stopped = sh(rootfs, sandbox, MEMORY_HOG, limits=Limits(memory_mb=64))
    assert b"survived" not in stopped.output and stopped.exit_code != 0 and not stopped.timed_out
    assert leftover_cgroups() == []


def test_the_memory_hog_survives_with_enough_memory(rootfs: Path) -> None:
    # the control of the test above: what stops the hog is the limit, not the machine
    result = sh(rootfs, available_sandboxes()[0], MEMORY_HOG, limits=Limits(memory_mb=1024))
    assert result.output == b"survived 134217728\n"


def test_a_file_larger_than_the_limit_is_cut_short(rootfs: Path, sandbox: str) -> None:
    result = sh(rootfs, sandbox, "head -c 2097152 /dev/zero > /tmp/big; echo status=$?; wc -c < /tmp/big",
                limits=Limits(file_size_mb=1))
    assert result.output.decode().split()[-2:] == ["status=153", "1048576"]  # 128 + SIGXFSZ


def test_default_limits_reach_the_cgroup(rootfs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCAR_SANDBOX_PROCESSES", raising=False)
    monkeypatch.delenv("SCAR_SANDBOX_MEMORY_MB", raising=False)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048")
    seen: dict[str, str] = {}

    def look(line: str) -> None:  # called while the command runs, so its cgroups still exist
        for file in ("pids.max", "memory.max", "memory.limit_in_bytes"):
            for path in limits_module.CGROUP_ROOT.glob(f"**/scar-sandbox-{os.getpid()}-*/{file}"):
                seen[file] = path.read_text().strip()

    result = sh(rootfs, available_sandboxes()[0], "echo running; sleep 0.2; grep 'Max file size' /proc/self/limits",
                on_line=look)
    if not seen:
        pytest.skip("no cgroup can be made here (not root, or /sys/fs/cgroup is read-only)")
    assert seen.pop("pids.max") == "1024"
    assert list(seen.values()) == [str(2048 * 1024 * 1024)]
    assert result.output.decode().split()[-3:] == ["10737418240", "10737418240", "bytes"]


def test_without_a_cgroup_rlimits_bound_memory_and_file_size(rootfs: Path, sandbox: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(limits_module, "CGROUP_ROOT", tmp_path / "no-cgroups")
    hog = sh(rootfs, sandbox, MEMORY_HOG, limits=Limits(memory_mb=16))  # 64 MiB of address space
    assert b"survived" not in hog.output and hog.exit_code != 0
    shown = sh(rootfs, sandbox, "grep -e 'Max address space' -e 'Max file size' /proc/self/limits",
               limits=Limits(memory_mb=16, file_size_mb=3)).output.decode().splitlines()
    assert [line.split()[-3:-1] for line in shown] == [[str(3 << 20)] * 2, [str(64 << 20)] * 2]
    if os.geteuid() == 0:
        assert "without a process limit: root ignores RLIMIT_NPROC" in caplog.text


AS_USER = """
import sys
from pathlib import Path
from scar.supervisor.limits import Limits
from scar.supervisor.sandbox import run_in_rootfs
result = run_in_rootfs(Path(sys.argv[1]), ["/bin/sh", "-c", sys.argv[2]], {}, prefer=sys.argv[3], timeout=20,
                       limits=Limits(processes=40))
sys.stdout.write(result.output.decode())
"""


def test_a_normal_user_s_fork_storm_is_bounded_by_rlimit_nproc(rootfs: Path, sandbox: str) -> None:
    # root gets a cgroup; a normal user gets RLIMIT_NPROC = its current processes + the limit. Run as nobody.
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv (util-linux) to run the sandbox as nobody")
    as_nobody = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    runnable = [python for python in ("/usr/bin/python3", sys.executable) if subprocess.run(
        [*as_nobody, python, "-c", "import sys; assert sys.version_info >= (3, 11)"], check=False,
        capture_output=True).returncode == 0]
    if not runnable:
        pytest.skip("nobody can run no Python 3.11+ here")
    python = runnable[0]
    shared = Path(tempfile.mkdtemp(prefix="scar-nobody-"))
    try:
        shared.chmod(0o755)
        shutil.copytree(rootfs, shared / "rootfs", symlinks=True)
        done = subprocess.run([*as_nobody, python, "-c", AS_USER, str(shared / "rootfs"), FORK_STORM, sandbox],
                              env={"PATH": os.environ["PATH"], "PYTHONPATH": str(Path(__file__).parents[3])},
                              cwd="/", capture_output=True, text=True, timeout=60, check=False)
    finally:
        shutil.rmtree(shared)
    if done.returncode != 0 and f"the {sandbox} sandbox does not work here" in done.stderr:
        pytest.skip(f"the {sandbox} sandbox does not work as nobody here")
    assert done.returncode == 0, done.stderr
    assert 20 <= int(done.stdout.rsplit("started=", 1)[1].split()[0]) < 40


def test_limits_default_to_the_environment_then_to_lambda_s_quotas(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SCAR_SANDBOX_PROCESSES", "SCAR_SANDBOX_MEMORY_MB", "SCAR_SANDBOX_FILE_SIZE_MB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", raising=False)
    assert Limits() == Limits(processes=1024, memory_mb=1024, file_size_mb=10240)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "3008")
    assert Limits().memory_mb == 3008
    monkeypatch.setenv("SCAR_SANDBOX_MEMORY_MB", "256")
    monkeypatch.setenv("SCAR_SANDBOX_PROCESSES", "64")
    monkeypatch.setenv("SCAR_SANDBOX_FILE_SIZE_MB", "5")
    assert Limits() == Limits(processes=64, memory_mb=256, file_size_mb=5)
    for wrong in ({"processes": 0}, {"memory_mb": -1}, {"file_size_mb": 1.5}):
        with pytest.raises(ValueError, match="must be a positive whole number"):
            Limits(**wrong)


def test_a_wrong_limit_in_the_environment_is_a_sandbox_error(rootfs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCAR_SANDBOX_PROCESSES", "many")
    with pytest.raises(SandboxError, match="SCAR_SANDBOX_PROCESSES='many': the sandbox limit must be a positive"):
        sh(rootfs, None, "true")


def test_the_command_gets_the_default_signal_dispositions(rootfs: Path, sandbox: str) -> None:
    # the limits are applied by a Python trampoline, and Python ignores SIGPIPE and SIGXFSZ: not the command
    result = sh(rootfs, sandbox, "yes | head -n 1; grep SigIgn /proc/self/status")
    answer, _, ignored = result.output.decode().split()
    assert answer == "y"
    assert int(ignored, 16) & (1 << (signal.SIGPIPE - 1) | 1 << (signal.SIGXFSZ - 1)) == 0
