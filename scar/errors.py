"""The errors scar reports to its users.

Every expected failure is a `ScarError` carrying a message that says what to fix; only the CLI turns it
into text on stderr and an exit code.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class ScarError(Exception):
    """An expected failure with a message meant for the user."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInputError(ScarError):
    """The command line, a file or the environment is wrong; nothing was changed."""

    exit_code = EXIT_BAD_INPUT


class ConfigError(BadInputError):
    """One or more problems in the configuration (scar.cfg, the FDL file or the flags)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class AwsError(ScarError):
    """An AWS call failed."""


class OperationFailed(ScarError):
    """An operation ran but part of it failed (for example some files of a transfer)."""
