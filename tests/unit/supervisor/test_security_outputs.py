"""Result files copied into a local folder (`scar run --local --output-dir`) never go through a link planted
there, and no name, key or output line someone else controls can forge a line of the supervisor's log."""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

import pytest

from scar.supervisor.config import FunctionConfig
from scar.supervisor.events import Invocation
from scar.supervisor.response import RequestInfo
from scar.supervisor.runners import DirectRunner
from scar.supervisor.storage import Storage, StorageError, place_output
from scar.supervisor.supervisor import Supervisor, configure_logging, log


def source(tmp_path: Path, text: str = "result\n") -> Path:
    path = tmp_path / "source.txt"
    path.write_text(text)
    return path


def test_a_link_at_the_target_is_replaced_not_followed(tmp_path: Path) -> None:
    out, victim = tmp_path / "out", tmp_path / "victim.txt"
    out.mkdir()
    victim.write_text("keep me\n")
    (out / "link.txt").symlink_to("../victim.txt")
    assert place_output(source(tmp_path), out, "link.txt") == out / "link.txt"
    assert victim.read_text() == "keep me\n"
    assert not (out / "link.txt").is_symlink() and (out / "link.txt").read_text() == "result\n"
    assert sorted(p.name for p in out.iterdir()) == ["link.txt"]  # no temporary file left


@pytest.mark.parametrize("planted", ["../elsewhere", "inside"])
def test_a_link_among_the_folders_is_refused(tmp_path: Path, planted: str) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    (out / "inside").mkdir(parents=True)
    elsewhere.mkdir()
    (out / "sub").symlink_to(planted)
    with pytest.raises(StorageError, match="'sub' there is a symbolic link"):
        place_output(source(tmp_path), out, "sub/deeper/file.txt")
    assert list(elsewhere.iterdir()) == [] and list((out / "inside").iterdir()) == []


def test_folders_are_created_and_files_replaced(tmp_path: Path) -> None:
    out = tmp_path / "out"
    place_output(source(tmp_path, "one\n"), out, "a/b/file.txt")
    place_output(source(tmp_path, "two\n"), out, "a/b/file.txt")
    assert (out / "a" / "b" / "file.txt").read_text() == "two\n"
    assert [p.name for p in (out / "a" / "b").iterdir()] == ["file.txt"]


@pytest.mark.parametrize("relative", ["../escape.txt", "/abs.txt", "a/../../escape.txt"])
def test_paths_leaving_the_folder_are_refused(tmp_path: Path, relative: str) -> None:
    with pytest.raises(StorageError, match="refusing"):
        place_output(source(tmp_path), tmp_path / "out", relative)


def supervisor(tmp_path: Path, script: str, output_dir: Path | None = None,
               storage: type[Storage] = Storage) -> tuple[Supervisor, Invocation]:
    config = FunctionConfig.from_dict({"name": "fn", "container": {"timeout_threshold": 0}}, tmp_path)
    return (Supervisor(config, DirectRunner(), storage(config), output_dir),
            Invocation("direct", {}, cmd_args=["/bin/sh", "-c", script]))


def test_a_local_run_never_writes_through_a_planted_link(tmp_path: Path) -> None:
    out, victim = tmp_path / "out", tmp_path / "victim.txt"
    (out / "nested").mkdir(parents=True)
    victim.write_text("keep me\n")
    (out / "link.txt").symlink_to("../victim.txt")
    (out / "nested" / "up").symlink_to("../..")
    run, invocation = supervisor(tmp_path, 'echo pwned > "$TMP_OUTPUT_DIR/link.txt"', out)
    assert run.handle_invocations([invocation], RequestInfo("r"), None)["statusCode"] == 200
    assert victim.read_text() == "keep me\n" and (out / "link.txt").read_text() == "pwned\n"
    run, invocation = supervisor(tmp_path, 'mkdir -p "$TMP_OUTPUT_DIR/nested/up" && '
                                           'echo pwned > "$TMP_OUTPUT_DIR/nested/up/victim.txt"', out)
    answer = run.handle_invocations([invocation], RequestInfo("r"), None)
    assert answer["statusCode"] == 500
    assert b"symbolic link" in base64.b64decode(answer["body"])
    assert victim.read_text() == "keep me\n"


# --- the log ------------------------------------------------------------------------------------------------------


class SupervisorLog:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    def start(self) -> None:
        """Configure the log as for a run: in the test, on its captured stderr (not while fixtures are set up)."""
        configure_logging("INFO")

    def lines(self) -> list[str]:
        return self._capsys.readouterr().err.split("\n")[:-1]


@pytest.fixture
def supervisor_log(capsys: pytest.CaptureFixture[str]) -> Any:
    saved = log.handlers[:], log.level, log.propagate
    yield SupervisorLog(capsys)
    log.handlers[:], log.propagate = saved[0], saved[2]
    log.setLevel(saved[1])


FORGED = "INFO r forged: the function was updated"


def assert_unforged(lines: list[str]) -> None:
    assert lines
    for line in lines:
        assert line.split(" ")[0] in ("INFO", "WARNING", "ERROR") and " r " in line, line
        assert not any(c in line for c in "\r\x1b\x85\u2028"), line
        assert not line.startswith(FORGED)


def test_output_file_names_cannot_forge_log_lines(tmp_path: Path, supervisor_log: SupervisorLog) -> None:
    script = (f'printf x > "$TMP_OUTPUT_DIR/$(printf "a\\n{FORGED}")"; '
              f'printf x > "$TMP_OUTPUT_DIR/$(printf "b\\r\\033[2K{FORGED}")"; printf "out\\r{FORGED}\\n"')
    run, invocation = supervisor(tmp_path, script, tmp_path / "out")
    supervisor_log.start()
    assert run.handle_invocations([invocation], RequestInfo("r"), None)["statusCode"] == 200
    lines = supervisor_log.lines()
    assert_unforged(lines)
    assert any(line.endswith(f"/out/a\\n{FORGED}") for line in lines)
    assert f"INFO r | out\\r{FORGED}" in lines


def test_object_keys_cannot_forge_log_lines(tmp_path: Path, supervisor_log: SupervisorLog) -> None:
    class FailingS3:
        """Stands in for S3: the download fails, so the key shows in the error line too."""

        def download_file(self, bucket: str, key: str, filename: str) -> None:
            raise OSError("no such object")

    class FakeStorage(Storage):
        def client(self, reference: str) -> Any:
            return FailingS3()

    key = f"in/x\n{FORGED}\u2028{FORGED}"
    run, _ = supervisor(tmp_path, "true", storage=FakeStorage)
    event = {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"}, "object": {"key": key}}}]}
    supervisor_log.start()
    answer = run.handle(event, RequestInfo("r"), None)
    assert answer["statusCode"] == 500
    lines = supervisor_log.lines()
    assert_unforged(lines)
    assert f"INFO r downloading s3://b/in/x\\n{FORGED}\\u2028{FORGED}" in lines
    assert logging.getLogger("scar.supervisor") is log
