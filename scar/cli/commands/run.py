"""`scar run`: invoke one function, waiting for its output (stdout or -o FILE) or not (-a)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scar.aws.invoke import (
    Invocation,
    build_payload,
    check_payload_size,
    decode_response,
    output_for_json,
    read_timeout,
)
from scar.cli.output import output_file_flag
from scar.cli.targets import Target, selected_functions, selected_service
from scar.errors import BadInputError, OperationFailed, ScarError

if TYPE_CHECKING:
    from scar.aws.lambda_ import Lambda
    from scar.cli.main import Context
    from scar.config.specs import LambdaSpec, OscarServiceSpec


def run(args: argparse.Namespace, ctx: Context) -> int:
    local_only = [flag for flag, value in (("--input", args.input), ("--output-dir", args.output_dir),
                                           ("-if/--image-file", args.image_file), ("--network", args.network),
                                           ("--sandbox", args.sandbox)) if value]
    if args.local:
        return _run_local(args, ctx)
    service = selected_service(ctx)
    if service is not None:
        return _run_service(args, ctx, service)
    if local_only:
        raise BadInputError(f"command line: {', '.join(local_only)} only apply to local runs: add --local")
    from scar.cli.launch import input_locations, launch

    target = selected_functions(ctx, several=False)[0]
    locations = input_locations(args, target)
    if locations:
        return launch(args, ctx, target, locations)
    launcher_only = [flag for flag, value in (("--prefix", args.prefix), ("--suffix", args.suffix),
                                              ("--limit", args.limit), ("--dry-run", args.dry_run)) if value]
    if launcher_only:
        raise BadInputError(f"command line: {', '.join(launcher_only)} only apply when the function has an S3 "
                            "input (or with -ib BUCKET/FOLDER)")
    spec = target.spec.lambda_ if target.spec else None
    asynchronous = args.asynchronous or bool(spec and (spec.asynchronous or spec.invocation_type == "Event"))
    if asynchronous and args.output_file:
        raise BadInputError("command line: -o/--output-file needs a synchronous run (there is no output to "
                            "write with -a/--asynchronous or lambda.asynchronous)")
    payload = build_payload(*_script_and_args(ctx, args, spec))
    check_payload_size(payload, asynchronous)
    output_file = output_file_flag(args.output_file)
    response = _invoker(ctx, target).invoke(target.name, payload, asynchronous, tail_log=ctx.output.verbose)
    if asynchronous:
        _report_launch(ctx, target.name, response)
    else:
        _report_result(ctx, target.name, decode_response(response), output_file)
    return 0


def _run_service(args: argparse.Namespace, ctx: Context, service: OscarServiceSpec) -> int:
    """An OSCAR service: POST /run (waiting for the output) or, with -a, POST /job. The event is --input
    FILE's bytes, or the Lambda-style event of -s SCRIPT and trailing arguments."""
    from scar.cli.oscar import invoke

    refused = [flag for flag, value in (("--output-dir", args.output_dir), ("-if/--image-file", args.image_file),
                                        ("--network", args.network), ("--sandbox", args.sandbox),
                                        ("-ib/--input-bucket", args.input_bucket), ("--prefix", args.prefix),
                                        ("--suffix", args.suffix), ("--limit", args.limit),
                                        ("--dry-run", args.dry_run), ("--no-files", args.no_files)) if value]
    if refused:
        raise BadInputError(f"command line: {', '.join(refused)} do not apply to OSCAR services")
    if args.asynchronous and args.output_file:
        raise BadInputError("command line: -o/--output-file needs a synchronous run (-a only launches a job)")
    if args.input:
        if args.run_script or _container_args(args.c_args, None):
            raise BadInputError("command line: --input sends the file as the event: do not combine it with -s "
                                "or command arguments")
        path = Path(args.input).expanduser()
        if not path.is_file():
            raise BadInputError(f"command line: --input: {args.input!r} is not a file (OSCAR services take a "
                                "local file)")
        payload = path.read_bytes()
    else:
        payload = build_payload(*_script_and_args(ctx, args, None))
    output_file = output_file_flag(args.output_file)
    output = invoke(ctx, service, payload, args.asynchronous)
    where = {"Name": service.name, "Cluster": service.cluster_id}
    if output is None:
        ctx.output.result({"OscarOutput": {**where, "Launched": True}},
                          f"Service '{service.name}' launched on OSCAR cluster {service.cluster_id} "
                          f"(its jobs: scar log -n {service.name} -f FDL)")
    elif output_file:
        _write(output_file, output)
        ctx.output.notice(f"output written to {output_file} ({len(output):,} bytes)")
        ctx.output.result({"OscarOutput": {**where, "OutputFile": str(output_file)}}, None)
    else:
        text, encoding = output_for_json(output)
        ctx.output.result({"OscarOutput": {**where, "Output": text, "OutputEncoding": encoding}},
                          output.decode("utf-8", errors="replace"))
    return 0


def _run_local(args: argparse.Namespace, ctx: Context) -> int:
    from scar.local.run import LocalRun, run_local

    if args.asynchronous or args.output_file:
        raise BadInputError("command line: -a and -o do not apply to --local runs (use --output-dir)")
    target = selected_functions(ctx, several=False)[0]
    settings = ctx.settings()
    image = Path(args.image_file).expanduser() if args.image_file else None
    if image is not None and not image.is_file():
        raise BadInputError(f"command line: -if/--image-file: {args.image_file!r} is not a file")
    spec = target.spec.lambda_ if target.spec else None
    output_dir = Path(args.output_dir).expanduser() if args.output_dir else None
    job = LocalRun(target.name, target.region, target.spec, settings.storage_providers, image)
    script, container_args = _script_and_args(ctx, args, spec)
    result = run_local(job, input_path=args.input, output_dir=output_dir, script=script,
                       args=container_args or None, network=args.network,
                       sandbox=args.sandbox, verbose=ctx.output.verbose)
    ctx.output.notice(f"ran {target.name} locally in {result.sandbox or 'no sandbox'} ({result.seconds:.2f} s)")
    text, encoding = output_for_json(result.output)
    document = {"Name": target.name, "Local": True, "Sandbox": result.sandbox, "Seconds": round(result.seconds, 3),
                "Output": text, "OutputEncoding": encoding}
    if result.error:
        ctx.output.result({**document, "Error": result.error, **result.details}, None)
        if result.output:
            ctx.output.hint(result.output.decode("utf-8", "replace").rstrip())
        raise OperationFailed(f"function '{target.name}' failed: {result.error}")
    ctx.output.result(document, result.output.decode("utf-8", "replace"))
    return 0


def _script_and_args(ctx: Context, args: argparse.Namespace, spec: LambdaSpec | None) -> tuple[bytes | None, list[str]]:
    """What the container runs: command arguments (trailing, else the FDL's c_args) override any script,
    run or init (the supervisor runs no init script when arguments come), as in the original SCAR; else
    the run script (-s, else the FDL's)."""
    container_args = _container_args(args.c_args, spec)
    if not container_args:
        return _run_script(args.run_script, spec), []
    if args.run_script:
        ctx.output.notice("-s/--run-script is not sent: the command arguments override it")
    return None, container_args


def _run_script(flag: str | None, spec: LambdaSpec | None) -> bytes | None:
    """The script to send: -s PATH, else the FDL's lambda.run_script, else none."""
    if flag:
        path = Path(flag).expanduser()
        if not path.is_file():
            raise BadInputError(f"command line: -s/--run-script: {flag!r} is not a file")
    elif spec and spec.run_script:
        path = spec.run_script
    else:
        return None
    try:
        return path.read_bytes()
    except OSError as err:
        raise BadInputError(f"{path}: cannot be read: {err.strerror or err}") from None


def _container_args(c_args: list[str], spec: LambdaSpec | None) -> list[str]:
    """The trailing arguments (argparse keeps a leading `--`), else the FDL's lambda.c_args."""
    given = c_args[1:] if c_args[:1] == ["--"] else c_args
    return given or (list(spec.c_args) if spec else [])



def _invoker(ctx: Context, target: Target) -> Lambda:
    """A Lambda client that waits for answers as long as the deployed function may run.

    It also proves the function exists (not every emulator checks on invoke). The FDL's timeout sizes the
    first client; a second is built only when the deployed timeout is unknown (-n alone) or longer.
    """
    from scar.aws.lambda_ import Lambda

    expected = target.spec.lambda_.timeout if target.spec else None
    functions = Lambda(ctx.aws(target.region, target.profile,
                               read_timeout=read_timeout(expected) if expected else None).client("lambda"))
    configuration = functions.get_configuration(target.name)
    if configuration is None:
        raise ScarError(f"function {target.name!r} does not exist in {target.region} (deploy it with scar init)")
    deployed = int(configuration["Timeout"])
    if expected is None or deployed > expected:
        session = ctx.aws(target.region, target.profile, read_timeout=read_timeout(deployed))
        functions = Lambda(session.client("lambda"))
    return functions


def _report_launch(ctx: Context, name: str, response: dict[str, Any]) -> None:
    request_id = response.get("ResponseMetadata", {}).get("RequestId")
    document = {"StatusCode": response.get("StatusCode"), "RequestId": request_id, "Name": name}
    ctx.output.result({"LambdaOutput": document}, f"Function '{name}' launched (request id {request_id})")


def _report_result(ctx: Context, name: str, invocation: Invocation, output_file: Path | None) -> None:
    """Where to find the logs on stderr; the output on stdout or in FILE; a failure as the error."""
    for label, value in (("Request Id", invocation.request_id), ("Log Group Name", invocation.log_group),
                         ("Log Stream Name", invocation.log_stream)):
        if value:
            ctx.output.notice(f"{label}: {value}")
    for line in invocation.log_tail.splitlines():  # requested with -v only
        ctx.output.detail(f"log: {line}")
    document: dict[str, Any] = {  # the original SCAR's LambdaOutput, with scar's additions after it
        "StatusCode": invocation.status_code, "LogGroupName": invocation.log_group,
        "LogStreamName": invocation.log_stream, "RequestId": invocation.request_id, "Name": name,
    }
    if invocation.error:
        ctx.output.result({"LambdaOutput": {**document, "FunctionError": invocation.error}}, None)
        raise OperationFailed(f"function {name!r} failed: {invocation.error}")
    if output_file:
        _write(output_file, invocation.output)
        ctx.output.notice(f"output written to {output_file} ({len(invocation.output):,} bytes)")
        ctx.output.result({"LambdaOutput": {**document, "OutputFile": str(output_file)}}, None)
        return
    text, encoding = output_for_json(invocation.output)
    ctx.output.result({"LambdaOutput": {"StatusCode": invocation.status_code, "Payload": text, **document,
                                        "PayloadEncoding": encoding}},
                      invocation.output.decode("utf-8", errors="replace"))


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as err:
        raise OperationFailed(f"the function ran, but its output could not be written to {path}: "
                              f"{err.strerror or err}") from None
