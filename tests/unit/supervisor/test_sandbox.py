"""scar.supervisor.sandbox: each sandbox that works on this machine runs commands in an extracted busybox image,
Lambda-like (read-only root, private /tmp, binds, no network, exactly the given environment, timeouts)."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

from devtools.images import build_busybox_image, static_busybox
from scar.supervisor import sandbox as sandbox_module
from scar.supervisor.image import extract_image
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
