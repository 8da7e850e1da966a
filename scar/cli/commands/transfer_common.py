"""What `put` and `get` share: options, the progress bar and the summary."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from scar.aws.transfer import MIB, TransferOptions, TransferReport
from scar.cli.output import human_size
from scar.errors import OperationFailed

if TYPE_CHECKING:
    from scar.cli.main import Context


def transfer_options(args: argparse.Namespace) -> TransferOptions:
    """`--concurrency N` sets both the small files' and the parts' (each keeps its default otherwise). With
    -v -j (botocore's answers go into the JSON document) or --debug (its wire log), every request is a
    botocore call."""
    direct = not (args.debug or (args.verbose and args.json))
    given = {} if args.concurrency is None else {"concurrency": args.concurrency, "part_concurrency": args.concurrency}
    return TransferOptions(chunk_size=args.chunk_size * MIB, direct=direct, **given)


def finish(ctx: Context, report: TransferReport, verb: str, files_key: str) -> int:
    """Print the summary (or the JSON document) and fail, naming each file, if any failed."""
    document = _document(report, files_key) if ctx.output.json_mode else None
    if ctx.output.verbose:
        for item in report.done:
            ctx.output.notice(f"{verb.lower()} {item.local} <-> s3://{report.location.bucket}/{item.key}")
    summary = (f"{verb} {len(report.done)} file(s), {human_size(report.bytes)}, "
               f"{'to' if verb == 'Uploaded' else 'from'} {report.location} in {report.seconds:.1f} s")
    if report.failed:
        summary += f"; {len(report.failed)} failed"
    ctx.output.result(document, summary)
    if report.failed:
        lines = [f"{name}: {reason}" for name, reason in report.failed]
        raise OperationFailed(f"{len(report.failed)} file(s) failed:\n" + "\n".join(lines))
    return 0


def _document(report: TransferReport, files_key: str) -> dict[str, Any]:
    return {
        "Bucket": report.location.bucket,
        "Prefix": report.location.key_prefix,
        files_key: [{"Path": str(item.local), "Key": item.key, "Size": item.size} for item in report.done],
        "Failed": [{"Name": name, "Error": reason} for name, reason in report.failed],
        "Bytes": report.bytes,
        "Seconds": round(report.seconds, 3),
    }
