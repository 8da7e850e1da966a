"""Shell completion (`scar completion bash|zsh|fish`) and the examples at the end of every command's help."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys

import pytest

from scar.cli.main import main
from scar.cli.parser import build_parser


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


COMMANDS = sorted(_commands())


def _scar(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_ends_with_examples(command, capsys):
    code, out, _ = _scar(capsys, command, "--help")
    assert code == 0
    tail = out[out.index("\nexamples:\n"):].splitlines()[2:]
    assert 2 <= len(tail) <= 3
    assert all(line.startswith("  scar ") or line.startswith("  source <(scar ") for line in tail)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script_names_every_command(shell, capsys):
    code, out, err = _scar(capsys, "completion", shell)
    assert code == 0, err
    for command in COMMANDS:
        assert command in out
    assert "conf-file" in out and "dry-run" in out


def test_bash_completion_is_valid_bash_and_completes(capsys, tmp_path):
    _, script, _ = _scar(capsys, "completion", "bash")
    path = tmp_path / "scar.bash"
    path.write_text(script)
    assert subprocess.run(["bash", "-n", str(path)]).returncode == 0
    probe = (f"source {path}; COMP_WORDS=(scar va); COMP_CWORD=1; _shtab_scar scar va scar; "
             "printf '%s\\n' \"${COMPREPLY[@]}\"")
    completed = subprocess.run(["bash", "-c", probe], capture_output=True, text=True)
    assert completed.stdout.split() == ["validate"]
    assert "_shtab_scar_validate__f_COMPGEN=_shtab_compgen_files" in script  # -f FDL completes file names


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completion_parses(capsys, tmp_path):
    _, script, _ = _scar(capsys, "completion", "zsh")
    path = tmp_path / "_scar"
    path.write_text(script)
    assert subprocess.run(["zsh", "-n", str(path)]).returncode == 0


def test_unknown_shell_is_a_usage_error(capsys):
    code, _, err = _scar(capsys, "completion", "tcsh")
    assert code == 2
    assert "invalid choice: 'tcsh'" in err


def test_help_does_not_import_shtab():
    probe = ("import sys\nfrom scar.cli.main import main\ncode = main(['--help'])\n"
             "print('SHTAB' if 'shtab' in sys.modules else 'NO-SHTAB', file=sys.stderr)\n")
    process = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert "NO-SHTAB" in process.stderr
