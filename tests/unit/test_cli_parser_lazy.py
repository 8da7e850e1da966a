"""`main` builds only the parser of the command it runs (`build_parser(lazy=True)`): it must give exactly
what the whole tree gives (help, usage errors, parsed arguments), so the two cannot drift apart."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scar.cli.parser import COMMANDS, build_parser, wrap_words


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


FULL = _commands(build_parser())


def _outcome(argv: list[str], lazy: bool, capsys: pytest.CaptureFixture[str]) -> tuple[object, str, str]:
    """What parsing argv gives: the namespace (or the exit code), stdout and stderr."""
    try:
        result: object = vars(build_parser(lazy=lazy).parse_args(argv))
    except SystemExit as done:
        result = ("exit", done.code)
    out, err = capsys.readouterr()
    return result, out, err


def _every_option(command: str) -> list[str]:
    """An argv for `command` giving every option of the full tree a value (one of each exclusive group)."""
    sub = FULL[command]
    excluded = {action for group in sub._mutually_exclusive_groups for action in group._group_actions[1:]}
    argv, positional, remainder = [command], [], []
    for action in sub._actions:
        if isinstance(action, argparse._HelpAction) or action in excluded:
            continue
        if action.choices:
            value = [str(next(iter(action.choices)))]
        elif action.nargs == 0:
            value = []
        elif action.type in (int, float) or action.metavar in ("N", "MIB"):
            value = ["7"]
        else:
            value = ["some-value"]
        if action.nargs == argparse.REMAINDER:
            remainder = ["echo", "-n", "hi"]
        elif action.option_strings:
            argv += [action.option_strings[-1], *value]
        else:
            positional += value
    return [*argv, *positional, *remainder]


@pytest.mark.parametrize("argv", [["--help"], ["-h"], [], ["bogus"], ["--version"], ["--region"]])
def test_top_level_help_and_errors_are_those_of_the_whole_tree(argv, capsys):
    assert _outcome(argv, True, capsys) == _outcome(argv, False, capsys)


def test_top_level_help_lists_every_command_with_its_line(capsys):
    _, out, _ = _outcome(["--help"], True, capsys)
    for name, (_, help_text, _) in COMMANDS.items():
        assert f"    {name:<20}{help_text[:30]}" in out


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("columns", ["80", "100", "200"])
def test_command_help_is_that_of_the_whole_tree(command, columns, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", columns)
    lazy = _outcome([command, "--help"], True, capsys)
    assert lazy == _outcome([command, "--help"], False, capsys)
    assert lazy[0] == ("exit", 0) and lazy[1].startswith(f"usage: scar {command}")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_parsed_arguments_are_those_of_the_whole_tree(command, capsys):
    argv = _every_option(command)
    for variant in (argv, ["-j", "--region", "eu-west-1", *argv], [*argv[:1], "--bogus", *argv[1:]], argv[:1]):
        assert _outcome(variant, True, capsys) == _outcome(variant, False, capsys), variant
    parsed = _outcome(argv, True, capsys)[0]
    assert isinstance(parsed, dict) and parsed["command"] == command and parsed["handler"] == COMMANDS[command][0]


def _help_texts() -> set[str]:
    texts = {build_parser().description or ""}
    for sub in FULL.values():
        texts.add(sub.description or "")
        texts.update(action.help for action in sub._actions if action.help)
    texts.update(help_text for _, help_text, _ in COMMANDS.values())
    return texts


@pytest.mark.parametrize("text", sorted(_help_texts()))
def test_word_wrapping_is_textwraps_for_every_help_text(text):
    normal = " ".join(text.split())
    for width in range(1, 121):
        lines = wrap_words(normal, width)
        assert lines is None or lines == textwrap.wrap(normal, width), width


@given(st.lists(st.text(alphabet="ab-.(,!'_ ", min_size=1, max_size=8), min_size=1, max_size=12),
       st.integers(1, 30))
def test_word_wrapping_is_textwraps_or_none(words, width):
    text = " ".join(" ".join(words).split())
    lines = wrap_words(text, width)
    assert lines is None or lines == textwrap.wrap(text, width)


@pytest.mark.parametrize("columns", [None, "100", "0", "-3", "wide"])
def test_help_width_is_shutils(columns, monkeypatch):
    from scar.cli.parser import _terminal_width

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert _terminal_width() == shutil.get_terminal_size().columns


def test_help_builds_no_command_parser_and_imports_no_formatting_modules():
    probe = ("import sys\n"
             "from scar.cli.main import main\n"
             "code = main(['--help'])\n"
             "print(sorted(m for m in ('shutil', 'textwrap', 'threading', 'scar.cli.output') if m in sys.modules))\n")
    env = {"COLUMNS": "80", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
