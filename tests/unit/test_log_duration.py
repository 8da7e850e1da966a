"""`scar log --since DURATION`."""

from __future__ import annotations

import pytest

from scar.cli.commands.log import parse_duration
from scar.errors import BadInputError


@pytest.mark.parametrize(("text", "seconds"), [
    ("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86400), ("1w", 604800), ("1h30m", 5400), (" 2H ", 7200)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "30", "0s", "0m0s", "1x", "-5m", "1.5h", "m", "10 m", "yesterday"])
def test_invalid_durations(text):
    with pytest.raises(BadInputError) as caught:
        parse_duration(text)
    assert caught.value.message == (f"command line: --since: {text!r} is not a duration "
                                    "(for example 30s, 10m, 2h, 1d)")
