"""The whole argparse tree of scar, in one place.

It imports nothing heavy: `scar --help`, `--version` and usage errors must not load boto3.
Handlers are named by module path and imported only when their command runs.
"""

from __future__ import annotations

import argparse

from scar.version import __version__


def _global_options(suppress: bool) -> argparse.ArgumentParser:
    """The global options, accepted before or after the command (`scar -j ls ...`, `scar ls ... -j`).

    In subcommands their defaults are suppressed, so a value given before the command is never reset.
    """
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("global options")
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
    return parent


def _function_options() -> argparse.ArgumentParser:
    """Flags that set one function's definition (they override the FDL and scar.cfg)."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("function definition")
    group.add_argument("-n", "--name", help="function name; with an FDL of several functions, selects one")
    image = group.add_mutually_exclusive_group()
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
    return parent


def _select_options(sub: argparse.ArgumentParser) -> None:
    """`-n NAME` and/or `-f FDL`: which functions a command acts on."""
    group = sub.add_argument_group("function selection")
    group.add_argument("-n", "--name", help="function name (with -f: one function of the FDL)")
    group.add_argument("-f", "--conf-file", metavar="FDL", help="FDL YAML file defining the functions")


def _transfer_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("transfer")
    group.add_argument("--concurrency", type=_positive_int, default=10, metavar="N",
                       help="parallel requests (default 10)")
    group.add_argument("--chunk-size", type=_part_size, default=8, metavar="MIB",
                       help="multipart part size in MiB, at least 5 (default 8)")
    return parent


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scar",
        description="Run container images as serverless functions on AWS Lambda, AWS Batch and OSCAR.",
        parents=[_global_options(suppress=False)],
    )
    parser.add_argument("--version", action="version", version=f"scar {__version__}")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    commands.required = True
    common = _global_options(suppress=True)

    def command(name: str, handler: str, help_text: str, *parents: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text, parents=[*parents, common],
                                  epilog=_epilog(name), formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.set_defaults(handler=handler)
        return sub

    init = command("init", "scar.cli.commands.init",
                   "deploy functions (create them, or update what changed; rolled back on failure)",
                   _function_options())
    init.add_argument("-f", "--conf-file", metavar="FDL", help="FDL YAML file with the functions to deploy")
    init.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")

    run = command("run", "scar.cli.commands.run", "invoke a function and show its output")
    _select_options(run)
    run.add_argument("-a", "--asynchronous", action="store_true", help="do not wait for the result")
    run.add_argument("-o", "--output-file", metavar="FILE", help="write the function's output to FILE")
    run.add_argument("-s", "--run-script", metavar="PATH", help="script to run in the container this time")
    files = run.add_argument_group("event launcher (a function with an S3 input: one event per object)")
    files.add_argument("-ib", "--input-bucket", metavar="BUCKET[/FOLDER]", help="send the objects of this folder")
    files.add_argument("--prefix", default="", help="only objects whose name (in the folder) starts with this")
    files.add_argument("--suffix", default="", help="only objects whose name ends with this")
    files.add_argument("--limit", type=_positive_int, metavar="N", help="send at most N events")
    files.add_argument("--concurrency", type=_positive_int, default=64, metavar="N",
                       help="asynchronous invocations in flight (default 64)")
    files.add_argument("--dry-run", action="store_true", help="list the objects that would be sent")
    files.add_argument("--no-files", action="store_true", help="invoke once, without the input folder's objects")
    local = run.add_argument_group("local runs (--local: on this machine, without deploying)")
    local.add_argument("--local", action="store_true", help="run the function here, in a sandbox")
    local.add_argument("--input", metavar="FILE|s3://BUCKET/KEY", help="the input file to process")
    local.add_argument("--output-dir", metavar="DIR", help="write result files here instead of uploading them")
    local.add_argument("-if", "--image-file", metavar="TAR", help="image (`docker save` tarball), without -f")
    local.add_argument("--network", action="store_true", help="let the container use the network")
    local.add_argument("--sandbox", choices=("bubblewrap", "chroot", "proot"), help="force one sandbox")
    run.add_argument("c_args", nargs=argparse.REMAINDER, metavar="ARGS",
                     help="arguments for the container (everything after the options)")

    invoke = command("invoke", "scar.cli.commands.invoke", "call a function's HTTP endpoint (API Gateway)")
    _select_options(invoke)
    invoke.add_argument("-db", "--data-binary", metavar="FILE", help="POST the bytes of FILE")
    invoke.add_argument("-jd", "--json-data", metavar="JSON", help="POST this JSON (Content-Type: application/json)")
    invoke.add_argument("-p", "--parameters", metavar="JSON", help='query parameters, e.g. \'{"name": "value"}\'')
    invoke.add_argument("-a", "--asynchronous", action="store_true", help="launch it and do not wait for the result")
    invoke.add_argument("-o", "--output-file", metavar="FILE", help="write the function's output to FILE")

    ls = command("ls", "scar.cli.commands.ls", "list your functions, or the files in a bucket folder (-b)")
    ls.add_argument("-b", "--bucket", metavar="BUCKET[/FOLDER]", help="list this bucket folder instead")

    log = command("log", "scar.cli.commands.log", "show a function's logs")
    _select_options(log)
    log.add_argument("-ls", "--log-stream-name", metavar="STREAM", help="only this log stream")
    log.add_argument("-ri", "--request-id", metavar="ID", help="only the lines of this invocation")
    log.add_argument("--since", metavar="DURATION", help="only events newer than this (30s, 10m, 2h, 1d)")
    log.add_argument("--follow", action="store_true", help="keep printing new events until Ctrl-C")

    rm = command("rm", "scar.cli.commands.rm", "remove functions and what scar created for them")
    _select_options(rm)
    rm.add_argument("-a", "--all", action="store_true", help="remove all your scar functions (asks first)")
    rm.add_argument("--dry-run", action="store_true", help="list what would be removed and change nothing")

    validate = command("validate", "scar.cli.commands.validate",
                       "check an FDL file (with scar.cfg and any flags) and list every problem",
                       _function_options())
    validate.add_argument("-f", "--conf-file", required=True, metavar="FDL", help="FDL YAML file")
    validate.add_argument("--graph", nargs="?", const="text", choices=("text", "mermaid"),
                          help="show which function's output triggers which function (text, or mermaid for docs)")

    put = command("put", "scar.cli.commands.put", "upload a file or a folder tree to S3", _transfer_options())
    put.add_argument("-b", "--bucket", required=True, metavar="BUCKET[/FOLDER]",
                     help="destination; the bucket is created if missing")
    put.add_argument("-p", "--path", required=True, metavar="PATH", help="local file or folder to upload")

    get = command("get", "scar.cli.commands.get", "download a bucket folder (or one object)", _transfer_options())
    get.add_argument("-b", "--bucket", required=True, metavar="BUCKET[/FOLDER]", help="what to download")
    get.add_argument("-p", "--path", default=".", metavar="DIR", help="local folder to write to (default: .)")

    doctor = command("doctor", "scar.cli.commands.doctor",
                     "check credentials, region, role, permissions, buckets and the local sandbox")
    doctor.add_argument("-f", "--conf-file", metavar="FDL", help="also check what this FDL's functions need")

    completion = command("completion", "scar.cli.commands.completion", "print a shell completion script")
    completion.add_argument("shell", choices=("bash", "zsh", "fish"), help="the shell to complete for")
    return parser


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


