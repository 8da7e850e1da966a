"""How commands speak: results on stdout (a text table or exactly one JSON document), notices and
progress on stderr, progress bars only on a terminal."""

from __future__ import annotations

import sys
import threading

TYPE_CHECKING = False  # typing itself costs start-up time: `scar --help` must stay fast
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path
    from typing import Any, TextIO


class Output:
    def __init__(self, json_mode: bool = False, verbose: bool = False, progress: bool = True,
                 stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.json_mode = json_mode
        self.verbose = verbose
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.progress_enabled = progress and _is_terminal(self.stderr)
        self.document_printed = False
        self._answers: list[dict[str, Any]] = []
        self._answers_lock = threading.Lock()

    @property
    def wants_answers(self) -> bool:
        """Whether AWS answers are collected: with -v and -j, they go into the JSON document."""
        return self.verbose and self.json_mode

    def record_answer(self, service: str, operation: str, answer: dict[str, Any]) -> None:
        """Keep one AWS answer (secrets hidden, streamed bodies named, not read) for the JSON document.
        Called from any thread using a client."""
        import copy

        from scar.cli.debug_log import redact_data

        kept = {key: "(streamed body)" if hasattr(value, "read") else copy.deepcopy(value)
                for key, value in answer.items()}
        with self._answers_lock:
            self._answers.append({"Service": service, "Operation": operation, "Response": redact_data(kept)})

    def notice(self, message: str) -> None:
        """A one-line message for the user on stderr (never mixed with results)."""
        print(f"scar: {message}", file=self.stderr, flush=True)

    def hint(self, text: str) -> None:
        """Several lines of advice on stderr (for example how to create a missing role)."""
        print(text, file=self.stderr, flush=True)

    def detail(self, message: str) -> None:
        """A notice shown only with -v."""
        if self.verbose:
            self.notice(message)

    def result(self, document: Any, text: str | None) -> None:
        """The command's result: `document` as JSON with -j, otherwise `text` (if any)."""
        if self.json_mode:
            import json

            if self._answers and isinstance(document, dict):  # -v: the full AWS answers, as the original's
                with self._answers_lock:
                    document = {**document, "AwsResponses": list(self._answers)}
            json.dump(document, self.stdout, indent=2, default=str)
            self.stdout.write("\n")
            self.document_printed = True
        elif text:
            self.stdout.write(text if text.endswith("\n") else text + "\n")
        self.stdout.flush()

    def error(self, message: str, kind: str, exit_code: int) -> None:
        """An error on stderr; with -j also the one JSON document, unless a result was already printed."""
        for line in message.splitlines() or [""]:
            print(f"scar: error: {line}", file=self.stderr, flush=True)
        if self.json_mode and not self.document_printed:
            self.result({"Error": {"Type": kind, "Message": message, "ExitCode": exit_code}}, None)

    def progress(self, total: int | None, description: str, unit: str = "B") -> Any:
        """A progress bar on stderr when it is a terminal (and --no-progress is not given), as a context
        manager whose value has `update(n)`."""
        if not self.progress_enabled:
            return _NoProgress()
        from tqdm import tqdm

        return tqdm(total=total, desc=description, unit=unit, unit_scale=unit == "B", unit_divisor=1024,
                    file=self.stderr, leave=False, dynamic_ncols=True)


class _NoProgress:
    """Progress goes nowhere when there is no terminal."""

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, amount: float = 1) -> None:
        return None


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    from tabulate import tabulate

    return tabulate(list(rows), headers=list(headers), tablefmt="simple", disable_numparse=True)


def human_size(size: float) -> str:
    """1536 → "1.5 KiB"."""
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    index = 0
    while size >= 1024 and index < len(units) - 1:
        size /= 1024
        index += 1
    return f"{size:.0f} B" if index == 0 else f"{size:.1f} {units[index]}"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def output_file_flag(flag: str | None) -> Path | None:
    """The file `-o/--output-file` names, once its folder is known to exist."""
    from pathlib import Path  # here, not at the top: this module is loaded by `scar --help` too

    from scar.errors import BadInputError

    if not flag:
        return None
    path = Path(flag).expanduser()
    if not path.parent.is_dir():
        raise BadInputError(f"command line: -o/--output-file: the folder {str(path.parent)!r} does not exist")
    return path
