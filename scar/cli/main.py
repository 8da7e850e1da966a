"""The entry point: parse, run one command handler, and turn errors into messages and exit codes."""

from __future__ import annotations

import argparse
import importlib
import sys

from scar.cli.parser import build_parser
from scar.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, ScarError

TYPE_CHECKING = False  # no `typing` import at start-up
if TYPE_CHECKING:
    from scar.aws.session import AwsSession
    from scar.cli.output import Output
    from scar.config.loader import Settings


class Context:
    """What a command handler gets besides its arguments."""

    def __init__(self, args: argparse.Namespace, output: Output) -> None:
        import threading  # not at start-up: `scar --help` never gets here

        self.args = args
        self.output = output
        self._settings: Settings | None = None
        self._sessions: dict[tuple[str, str | None, str | None], AwsSession] = {}
        self._sessions_lock = threading.Lock()

    def settings(self, deploying: bool = False) -> Settings:
        """The validated configuration (loaded once, on first use); `deploying` also requires a role."""
        if self._settings is None:
            from scar.config.loader import load_settings

            self._settings = load_settings(self.args, self.output.notice, deploying)
        return self._settings

    def aws(self, region: str | None = None, profile: str | None = None, concurrency: int = 10,
            read_timeout: int | None = None) -> AwsSession:
        """An AWS session (default region and profile from the settings). One session is built per
        (region, profile, endpoint) and run, so credentials are resolved once; each call views it with its
        own read timeout, and connection pools grow to the largest `concurrency` asked."""
        from scar.aws.session import AwsSession

        settings = self.settings()
        key = (region or settings.region, profile if profile is not None else settings.profile,
               settings.endpoint_url)
        with self._sessions_lock:
            if key not in self._sessions:
                observer = self.output.record_answer if self.output.wants_answers else None
                self._sessions[key] = AwsSession(*key, concurrency=concurrency, observer=observer)
            return self._sessions[key].view(concurrency, read_timeout)


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser(lazy=True).parse_args(argv)
    except SystemExit as done:  # --help, --version and usage errors (argparse already printed them)
        return done.code if isinstance(done.code, int) else EXIT_FAILED
    from scar.cli.output import Output  # after parsing: it needs threading, which --help does not

    output = Output(json_mode=args.json, verbose=args.verbose, progress=not args.no_progress)
    if not args.debug:
        return _run(args, output)
    from scar.cli import debug_log

    with debug_log.enabled():
        return _run(args, output)


def _run(args: argparse.Namespace, output: Output) -> int:
    """The command's handler, with every failure turned into a message and an exit code."""
    try:
        handler = importlib.import_module(args.handler)
        return handler.run(args, Context(args, output)) or EXIT_OK
    except ScarError as err:
        _debug_traceback(args)
        output.error(err.message, type(err).__name__, err.exit_code)
        return err.exit_code
    except KeyboardInterrupt:
        output.error("interrupted", "Interrupted", EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (for example `scar ls | head`); nothing more to say
        return EXIT_FAILED
    except Exception as err:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        known = _from_botocore(err)
        if known is not None:
            _debug_traceback(args)
            output.error(known.message, type(known).__name__, known.exit_code)
            return known.exit_code
        _debug_traceback(args)
        hint = "" if args.debug else " (run with --debug for the traceback)"
        output.error(f"unexpected {type(err).__name__}: {err}{hint}", type(err).__name__, EXIT_FAILED)
        return EXIT_FAILED


def _from_botocore(err: Exception) -> ScarError | None:
    if not type(err).__module__.startswith(("botocore", "boto3", "s3transfer", "urllib3")):
        return None
    from scar.aws.errors import translate

    return translate(err)


def _debug_traceback(args: argparse.Namespace) -> None:
    if args.debug:
        import traceback

        from scar.cli.debug_log import redact

        print(redact(traceback.format_exc()), end="", file=sys.stderr)
