"""The whole argparse tree of scar, in one place.

It imports nothing heavy: `scar --help`, `--version` and usage errors must not load boto3.
Handlers are named by module path and imported only when their command runs.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

from scar.version import __version__

TYPE_CHECKING = False  # no `typing` import at start-up
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout, found faster: the terminal width without importing shutil (and with it
    zlib, bz2 and lzma), and plain word wrapping without importing textwrap where textwrap's result is
    the same (tests/unit/test_cli_parser_lazy.py checks it for every help text and width)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, _terminal_width() - 2 if width is None else width)

    def _split_lines(self, text: str, width: int) -> list[str]:
        lines = wrap_words(self._whitespace_matcher.sub(" ", text).strip(), width)
        return super()._split_lines(text, width) if lines is None else lines

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines = wrap_words(self._whitespace_matcher.sub(" ", text).strip(), width - len(indent))
        return super()._fill_text(text, width, indent) if lines is None else "\n".join(indent + line for line in lines)


class _RawDescriptionFormatter(argparse.RawDescriptionHelpFormatter, _Formatter):
    """A command's help: its epilog of examples is printed as written."""


#: Where textwrap may break a line inside a word: after a hyphen that follows a letter or punctuation.
_HYPHEN_BREAK = re.compile(r"""[\w!"'&.,?]-""")


def wrap_words(text: str, width: int) -> list[str] | None:
    """`textwrap.wrap(text, width)` for a text of words separated by single spaces, when that is plain
    word wrapping: no word longer than the width and no hyphen textwrap could break at; else None."""
    if not text or width < 1 or _HYPHEN_BREAK.search(text):
        return None
    words = text.split(" ")
    if max(map(len, words)) > width:
        return None
    lines, line = [], words[0]
    for word in words[1:]:
        if len(line) + 1 + len(word) <= width:
            line += " " + word
        else:
            lines.append(line)
            line = word
    lines.append(line)
    return lines


def _terminal_width() -> int:
    """What shutil.get_terminal_size() gives for the columns: $COLUMNS, else stdout's terminal, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def build_parser(lazy: bool = False) -> argparse.ArgumentParser:
    """scar's argparse tree. With `lazy` (what `main` uses: a run uses one command at most), a command's
    parser is built when the command is parsed: building every command's parser took most of the time
    of `scar --help`. Otherwise every parser is built at once, for what walks the tree (completion,
    tests). Both give the same help and the same parsed arguments (tests/unit/test_cli_parser_lazy.py)."""
    parser = argparse.ArgumentParser(
        prog="scar",
        description="Run container images as serverless functions on AWS Lambda, AWS Batch and OSCAR.",
        formatter_class=_Formatter,
    )
    _global_options(parser, suppress=False)
    parser.add_argument("--version", action="version", version=f"scar {__version__}")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND",
                                     parser_class=_LazyCommand if lazy else _command)
    commands.required = True
    for name, (handler, help_text, fill) in COMMANDS.items():
        commands.add_parser(name, help=help_text, description=help_text, epilog=_epilog(name),
                            formatter_class=_RawDescriptionFormatter, fill=fill, handler=handler)
    return parser


def _command(*, fill: Callable[[argparse.ArgumentParser], None], handler: str,
             **kwargs: Any) -> argparse.ArgumentParser:
    """One command's parser: `add_parser`'s arguments, `fill`'s options, the handler's module."""
    parser = argparse.ArgumentParser(**kwargs)
    fill(parser)
    parser.set_defaults(handler=handler)
    return parser


class _LazyCommand:
    """Stands for a command's parser among the commands' choices and builds it when the command is
    parsed (argparse asks a command's parser for nothing else)."""

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._parser: argparse.ArgumentParser | None = None

    def parse_known_args(self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None,
                         ) -> tuple[argparse.Namespace, list[str]]:
        if self._parser is None:
            self._parser = _command(**self._kwargs)
        return self._parser.parse_known_args(args, namespace)


def _global_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """The global options, accepted before or after the command (`scar -j ls ...`, `scar ls ... -j`).

    In commands their defaults are suppressed, so a value given before the command is never reset.
    """
    group = parser.add_argument_group("global options")
    default = {"default": argparse.SUPPRESS} if suppress else {}
    group.add_argument("--region", metavar="REGION", help="AWS region (beats AWS_REGION, the FDL and scar.cfg)",
                       **default)
    group.add_argument("--endpoint-url", metavar="URL",
                       help="send every AWS request to URL (AWS_ENDPOINT_URL[_<SERVICE>] work too)", **default)
    group.add_argument("--config", metavar="PATH",
                       help="scar.cfg to use (default: $SCAR_CONFIG_FOLDER/scar.cfg or ~/.scar/scar.cfg)",
                       **default)
    group.add_argument("-pf", "--profile", metavar="PROFILE", help="AWS profile to use (beats AWS_PROFILE)",
                       **default)
    group.add_argument("--debug", action="store_true", help="show full tracebacks and AWS requests", **default)
    group.add_argument("-j", "--json", action="store_true", help="print one JSON document on stdout", **default)
    group.add_argument("-v", "--verbose", action="store_true", help="print more detail", **default)
    group.add_argument("--no-progress", action="store_true", help="never show progress bars", **default)
    group.add_argument("-y", "--yes", action="store_true", help="answer yes to confirmations", **default)


def _function_options(sub: argparse.ArgumentParser) -> None:
    """Flags that set one function's definition (they override the FDL and scar.cfg)."""
    group = sub.add_argument_group("function definition")
    group.add_argument("-n", "--name", help="function name; with an FDL of several functions, selects one")
    image = sub.add_mutually_exclusive_group()  # listed under "options", where its help has always been
    image.add_argument("-i", "--image", help="container image (for example grycap/cowsay)")
    image.add_argument("-if", "--image-file", metavar="TAR", help="container image saved with `docker save`")
    group.add_argument("-s", "--init-script", metavar="PATH", help="script run in the container on each call")
    group.add_argument("-d", "--description", help="function description")
    group.add_argument("-e", "--environment", action="append", metavar="NAME=VALUE",
                       help="container environment variable (repeatable)")
    group.add_argument("-le", "--lambda-environment", action="append", metavar="NAME=VALUE",
                       help="Lambda environment variable (repeatable)")
    group.add_argument("-m", "--memory", type=int, metavar="MB", help="memory, 128 to 10240 MB")
    group.add_argument("-t", "--timeout", type=int, metavar="SECONDS", help="timeout, 1 to 900 s")
    group.add_argument("-tt", "--timeout-threshold", type=int, metavar="SECONDS",
                       help="seconds kept back from the timeout to upload outputs")
    group.add_argument("-ll", "--log-level", help="supervisor log level (DEBUG, INFO, WARNING, ERROR, CRITICAL)")
    group.add_argument("-l", "--layers", action="append", metavar="ARN", help="extra Lambda layer (repeatable)")
    group.add_argument("-ib", "--input-bucket", metavar="BUCKET[/FOLDER]", help="S3 input that triggers the function")
    group.add_argument("-ob", "--output-bucket", metavar="BUCKET[/FOLDER]", help="S3 output for result files")
    group.add_argument("-em", "--execution-mode", choices=("lambda", "lambda-batch", "batch"),
                       help="where the function runs")
    group.add_argument("-r", "--iam-role", metavar="ARN", help="IAM role the function runs with")
    group.add_argument("-sv", "--supervisor-version", metavar="VERSION", help="supervisor version to deploy")
    group.add_argument("-rt", "--runtime", help="Lambda runtime (python3.12, python3.13, python3.14 or image)")
    group.add_argument("--architecture", choices=("x86_64", "arm64"), help="Lambda architecture")
    group.add_argument("-es", "--ephemeral-storage", type=int, metavar="MB", help="/tmp size, 512 to 10240 MB")
    group.add_argument("-ep", "--extra-payload", metavar="PATH", help="file or folder added to the function")
    group.add_argument("-db", "--deployment-bucket", metavar="BUCKET", help="bucket for large deployment packages")
    group.add_argument("-ph", "--preheat", action="store_true", help="invoke the function once after deploying")
    group.add_argument("-api", "--api-gateway-name", metavar="NAME", help="expose the function through API Gateway")
    group.add_argument("-bm", "--batch-memory", type=int, metavar="MIB", help="AWS Batch job memory")
    group.add_argument("-bc", "--batch-vcpus", type=float, metavar="VCPUS", help="AWS Batch job vCPUs")
    group.add_argument("-g", "--enable-gpu", action="store_true", help="give AWS Batch jobs a GPU")


def _select_options(sub: argparse.ArgumentParser) -> None:
    """`-n NAME` and/or `-f FDL`: which functions a command acts on."""
    group = sub.add_argument_group("function selection")
    group.add_argument("-n", "--name", help="function name (with -f: one function of the FDL)")
    group.add_argument("-f", "--conf-file", metavar="FDL", help="FDL YAML file defining the functions")


def _transfer_options(sub: argparse.ArgumentParser) -> None:
    group = sub.add_argument_group("transfer")
    group.add_argument("--concurrency", type=_positive_int, metavar="N",
                       help="parallel requests (default 32 for files up to 1 MiB, 10 for the parts of larger ones)")
    group.add_argument("--chunk-size", type=_part_size, default=8, metavar="MIB",
                       help="multipart part size in MiB, at least 5 (default 8)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _part_size(text: str) -> int:
    value = _positive_int(text)
    if value < 5:
        raise argparse.ArgumentTypeError(f"S3 multipart parts are at least 5 MiB, not {value}")
    return value


def _init(sub: argparse.ArgumentParser) -> None:
    _function_options(sub)
    _global_options(sub, suppress=True)
    sub.add_argument("-f", "--conf-file", metavar="FDL", help="FDL YAML file with the functions to deploy")
    sub.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")


def _run(sub: argparse.ArgumentParser) -> None:
    _global_options(sub, suppress=True)
    _select_options(sub)
    sub.add_argument("-a", "--asynchronous", action="store_true", help="do not wait for the result")
    sub.add_argument("-o", "--output-file", metavar="FILE", help="write the function's output to FILE")
    sub.add_argument("-s", "--run-script", metavar="PATH", help="script to run in the container this time")
    files = sub.add_argument_group("event launcher (a function with an S3 input: one event per object)")
    files.add_argument("-ib", "--input-bucket", metavar="BUCKET[/FOLDER]", help="send the objects of this folder")
    files.add_argument("--prefix", default="", help="only objects whose name (in the folder) starts with this")
    files.add_argument("--suffix", default="", help="only objects whose name ends with this")
    files.add_argument("--limit", type=_positive_int, metavar="N", help="send at most N events")
    files.add_argument("--concurrency", type=_positive_int, default=64, metavar="N",
                       help="asynchronous invocations in flight (default 64)")
    files.add_argument("--dry-run", action="store_true", help="list the objects that would be sent")
    files.add_argument("--no-files", action="store_true", help="invoke once, without the input folder's objects")
    local = sub.add_argument_group("local runs (--local: on this machine, without deploying)")
    local.add_argument("--local", action="store_true", help="run the function here, in a sandbox")
    local.add_argument("--input", metavar="FILE|s3://BUCKET/KEY", help="the input file to process")
    local.add_argument("--output-dir", metavar="DIR", help="write result files here instead of uploading them")
    local.add_argument("-if", "--image-file", metavar="TAR", help="image (`docker save` tarball), without -f")
    local.add_argument("--network", action="store_true", help="let the container use the network")
    local.add_argument("--sandbox", choices=("bubblewrap", "chroot", "proot"), help="force one sandbox")
    sub.add_argument("c_args", nargs=argparse.REMAINDER, metavar="ARGS",
                     help="arguments for the container (everything after the options)")


def _invoke(sub: argparse.ArgumentParser) -> None:
    _global_options(sub, suppress=True)
    _select_options(sub)
    sub.add_argument("-db", "--data-binary", metavar="FILE", help="POST the bytes of FILE")
    sub.add_argument("-jd", "--json-data", metavar="JSON", help="POST this JSON (Content-Type: application/json)")
    sub.add_argument("-p", "--parameters", metavar="JSON", help='query parameters, e.g. \'{"name": "value"}\'')
    sub.add_argument("-a", "--asynchronous", action="store_true", help="launch it and do not wait for the result")
    sub.add_argument("-o", "--output-file", metavar="FILE", help="write the function's output to FILE")


def _ls(sub: argparse.ArgumentParser) -> None:
    _global_options(sub, suppress=True)
    sub.add_argument("-b", "--bucket", metavar="BUCKET[/FOLDER]", help="list this bucket folder instead")


def _log(sub: argparse.ArgumentParser) -> None:
    _global_options(sub, suppress=True)
    _select_options(sub)
    sub.add_argument("-ls", "--log-stream-name", metavar="STREAM", help="only this log stream")
    sub.add_argument("-ri", "--request-id", metavar="ID", help="only the lines of this invocation")
    sub.add_argument("--since", metavar="DURATION", help="only events newer than this (30s, 10m, 2h, 1d)")
    sub.add_argument("--follow", action="store_true", help="keep printing new events until Ctrl-C")


def _rm(sub: argparse.ArgumentParser) -> None:
    _global_options(sub, suppress=True)
    _select_options(sub)
    sub.add_argument("-a", "--all", action="store_true", help="remove all your scar functions (asks first)")
    sub.add_argument("--dry-run", action="store_true", help="list what would be removed and change nothing")


def _validate(sub: argparse.ArgumentParser) -> None:
    _function_options(sub)
    _global_options(sub, suppress=True)
    sub.add_argument("-f", "--conf-file", required=True, metavar="FDL", help="FDL YAML file")
    sub.add_argument("--graph", nargs="?", const="text", choices=("text", "mermaid"),
                     help="show which function's output triggers which function (text, or mermaid for docs)")


def _put(sub: argparse.ArgumentParser) -> None:
    _transfer_options(sub)
    _global_options(sub, suppress=True)
    sub.add_argument("-b", "--bucket", required=True, metavar="BUCKET[/FOLDER]",
                     help="destination; the bucket is created if missing")
    sub.add_argument("-p", "--path", required=True, metavar="PATH", help="local file or folder to upload")


def _get(sub: argparse.ArgumentParser) -> None:
    _transfer_options(sub)
    _global_options(sub, suppress=True)
    sub.add_argument("-b", "--bucket", required=True, metavar="BUCKET[/FOLDER]", help="what to download")
    sub.add_argument("-p", "--path", default=".", metavar="DIR", help="local folder to write to (default: .)")


def _doctor(sub: argparse.ArgumentParser) -> None:
    _global_options(sub, suppress=True)
    sub.add_argument("-f", "--conf-file", metavar="FDL", help="also check what this FDL's functions need")


def _completion(sub: argparse.ArgumentParser) -> None:
    _global_options(sub, suppress=True)
    sub.add_argument("shell", choices=("bash", "zsh", "fish"), help="the shell to complete for")


#: Each command: its handler's module, its one line of help, and what adds its arguments.
COMMANDS: dict[str, tuple[str, str, Callable[[argparse.ArgumentParser], None]]] = {
    "init": ("scar.cli.commands.init", "deploy functions (create them, or update what changed; rolled back on failure)",
             _init),
    "run": ("scar.cli.commands.run", "invoke a function and show its output", _run),
    "invoke": ("scar.cli.commands.invoke", "call a function's HTTP endpoint (API Gateway)", _invoke),
    "ls": ("scar.cli.commands.ls", "list your functions, or the files in a bucket folder (-b)", _ls),
    "log": ("scar.cli.commands.log", "show a function's logs", _log),
    "rm": ("scar.cli.commands.rm", "remove functions and what scar created for them", _rm),
    "validate": ("scar.cli.commands.validate",
                 "check an FDL file (with scar.cfg and any flags) and list every problem", _validate),
    "put": ("scar.cli.commands.put", "upload a file or a folder tree to S3", _put),
    "get": ("scar.cli.commands.get", "download a bucket folder (or one object)", _get),
    "doctor": ("scar.cli.commands.doctor",
               "check credentials, region, role, permissions, buckets and the local sandbox", _doctor),
    "completion": ("scar.cli.commands.completion", "print a shell completion script", _completion),
}


#: Two or three examples at the end of each command's --help.
EXAMPLES = {
    "init": ("scar init -f hello.yaml                      deploy the functions of an FDL",
             "scar init -f hello.yaml --dry-run            show the plan, change nothing",
             "scar init -n cowsay -i grycap/cowsay         one function from flags only"),
    "run": ("scar run -n scar-cowsay                       invoke it and show its output",
            "scar run -n scar-hello -- sh -c 'echo hi'     run another command in its container",
            "scar run --local -f hello.yaml -if busybox.tar --input in.txt   on this machine"),
    "invoke": ("scar invoke -n scar-http                      GET the function's endpoint",
               "scar invoke -n scar-http -db photo.jpg -o out.jpg   POST a file, save the answer",
               "scar invoke -n scar-http -jd '{\"a\": 1}'        POST JSON"),
    "ls": ("scar ls                                       your functions (and OSCAR services)",
           "scar ls -b scar-hello/output                  the files in a bucket folder",
           "scar -j ls                                    as one JSON document"),
    "log": ("scar log -n scar-hello                        the function's logs",
            "scar log -n scar-hello --since 10m --follow   the last ten minutes, then new lines",
            "scar log -n scar-batch -ri JOB_ID             one invocation or AWS Batch job"),
    "rm": ("scar rm -f hello.yaml                         remove the functions of an FDL",
           "scar rm -n scar-hello --dry-run               show what would be removed",
           "scar rm -a -y                                 remove all your scar functions"),
    "validate": ("scar validate -f hello.yaml                   check an FDL, list every problem",
                 "scar validate -f workflow.yaml --graph        which output triggers which function",
                 "scar validate -f workflow.yaml --graph mermaid   the same, for the docs"),
    "put": ("scar put -b scar-hello/input -p input/        upload a folder tree",
            "scar put -b scar-hello/input -p photo.jpg     upload one file (triggers the function)"),
    "get": ("scar get -b scar-hello/output -p results/     download a folder",
            "scar get -b scar-hello/output/a.txt.out       download one object here"),
    "doctor": ("scar doctor                                   credentials, region, role, sandbox",
               "scar doctor -f hello.yaml                     also what the FDL's functions need",
               "scar -j doctor                                as one JSON document"),
    "completion": ("source <(scar completion bash)               bash, this shell",
                   "scar completion zsh > \"${fpath[1]}/_scar\"    zsh",
                   "scar completion fish > ~/.config/fish/completions/scar.fish"),
}


def _epilog(name: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in EXAMPLES[name])


