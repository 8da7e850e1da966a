"""`scar run` on a function with an S3 input: one event per object of the input folder."""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from scar.aws.invoke import decode_response, output_for_json, read_timeout
from scar.aws.lambda_ import Lambda
from scar.aws.launcher import LaunchReport, Selection, event_payload, invoke_with_backoff, launch_async, select_objects
from scar.aws.s3 import S3, S3Location, S3Object, parse_location
from scar.cli.confirm import confirm
from scar.cli.output import human_size, table
from scar.cli.targets import Target
from scar.config.specs import own_s3
from scar.errors import EXIT_INTERRUPTED, BadInputError, OperationFailed, ScarError

if TYPE_CHECKING:
    from scar.cli.main import Context


class LaunchInterrupted(ScarError):
    """Ctrl-C while sending: what went is reported, nothing more is sent."""

    exit_code = EXIT_INTERRUPTED


def input_locations(args: argparse.Namespace, target: Target) -> list[S3Location]:
    """The folders whose objects become events: -ib, else the function's own S3 inputs (unless the run
    sends a script or arguments, or --no-files)."""
    if args.input_bucket:
        return [parse_location(args.input_bucket, "-ib/--input-bucket")]
    if args.no_files or args.run_script or args.c_args or target.spec is None:
        return []
    return [S3Location(io.bucket, io.folder) for io in own_s3(target.spec.lambda_.input)]


def launch(args: argparse.Namespace, ctx: Context, target: Target, locations: list[S3Location]) -> int:
    if args.asynchronous or args.output_file:
        raise BadInputError("command line: -a and -o do not apply to the event launcher (the first event is "
                            "synchronous, the others asynchronous); use --no-files for one plain run")
    session = ctx.aws(target.region, target.profile, concurrency=args.concurrency)
    s3 = S3(session.client("s3"))
    selection = Selection(args.prefix, args.suffix, args.limit)
    if args.dry_run:
        return _dry_run(ctx, target, [(location, select_objects(s3, location, selection)) for location in locations])
    with ThreadPoolExecutor(1) as pool:  # the function's configuration is asked while the folders are listed
        described = pool.submit(lambda: Lambda(session.client("lambda")).get_configuration(target.name))
        batches = [(location, select_objects(s3, location, selection)) for location in locations]
    total = sum(len(objects) for _, objects in batches)
    if total == 0:
        ctx.output.notice("no objects to send in " + ", ".join(str(location) for location, _ in batches))
        ctx.output.result({"Name": target.name, "Events": 0, "Sent": 0, "ThrottledRetries": 0, "Failed": []}, None)
        return 0
    configuration = described.result()
    if configuration is None:
        raise ScarError(f"function {target.name!r} does not exist in {target.region} (deploy it with scar init)")
    confirm(ctx, f"about to send {total} event(s) to {target.name} (--dry-run lists them)",
            "Send them?", "nothing sent")
    (first_location, first_objects) = next((loc, objs) for loc, objs in batches if objs)
    first = first_objects[0]
    report = LaunchReport()
    waiting = ctx.aws(target.region, target.profile, read_timeout=read_timeout(int(configuration["Timeout"])))
    response, retries = invoke_with_backoff(waiting.client("lambda"), target.name,
                                            event_payload(first, first_location.bucket, target.region, False), False)
    response["Payload"] = response["Payload"].read()
    outcome = decode_response(response)
    report.record(outcome.error is None, retries, first.key, outcome.error or "")
    if outcome.error:
        raise OperationFailed(f"the first event (s3://{first_location.bucket}/{first.key}) failed: {outcome.error}; "
                              f"the other {total - 1} event(s) were not sent")
    ctx.output.notice(f"first event: s3://{first_location.bucket}/{first.key} (synchronous)")
    if outcome.output:
        ctx.output.hint(outcome.output.decode("utf-8", "replace").rstrip())
    try:
        with ctx.output.progress(total - 1, "events", unit="event") as bar:
            for location, objects in batches:
                rest = [obj for obj in objects if obj is not first]
                launch_async(session.client("lambda"), target.name, rest, location.bucket, target.region,
                             args.concurrency, report, bar.update)
    except KeyboardInterrupt:
        _summary(ctx, target, total, report, outcome.output, interrupted=True)
        raise LaunchInterrupted(f"interrupted: {report.sent} of {total} event(s) sent to {target.name}, "
                          f"{total - report.sent - len(report.failed)} not sent") from None
    return _summary(ctx, target, total, report, outcome.output)


def _dry_run(ctx: Context, target: Target, batches: list[tuple[S3Location, list[S3Object]]]) -> int:
    rows = [(f"s3://{location.bucket}/{obj.key}", human_size(obj.size)) for location, objects in batches
            for obj in objects]
    document = {"Name": target.name, "DryRun": True,
                "Events": [{"Bucket": location.bucket, "Key": obj.key, "Size": obj.size}
                           for location, objects in batches for obj in objects]}
    text = table(("OBJECT", "SIZE"), rows) + f"\n\n{len(rows)} event(s) would be sent to {target.name} (dry run)"
    ctx.output.result(document, text)
    return 0


def _summary(ctx: Context, target: Target, total: int, report: LaunchReport, first_output: bytes,
             interrupted: bool = False) -> int:
    text_output, encoding = output_for_json(first_output)
    document: dict[str, Any] = {
        "Name": target.name, "Events": total, "Sent": report.sent, "ThrottledRetries": report.throttled_retries,
        "Failed": [{"Key": key, "Error": reason} for key, reason in report.failed],
        "FirstOutput": text_output, "FirstOutputEncoding": encoding,
    }
    if interrupted:
        document["Interrupted"] = True
    summary = (f"Sent {report.sent} of {total} event(s) to {target.name} (1 synchronous, the rest asynchronous): "
               f"{report.throttled_retries} throttled call(s) retried, {len(report.failed)} failed")
    ctx.output.result(document, summary)
    if report.failed and not interrupted:
        raise OperationFailed(f"{len(report.failed)} event(s) could not be sent:\n"
                              + "\n".join(f"{key}: {reason}" for key, reason in report.failed))
    return 0
