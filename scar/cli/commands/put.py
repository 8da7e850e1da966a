"""`scar put -b BUCKET[/FOLDER] -p PATH`: upload a file or a folder tree (the bucket is created if missing)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from scar.aws.s3 import S3, parse_location
from scar.aws.transfer import plan_upload, upload
from scar.cli.commands.transfer_common import finish, transfer_options
from scar.errors import BadInputError

if TYPE_CHECKING:
    from scar.cli.main import Context


def run(args: argparse.Namespace, ctx: Context) -> int:
    location = parse_location(args.bucket)
    source = Path(args.path).expanduser()
    if not source.exists():
        raise BadInputError(f"command line: -p/--path: {args.path!r} does not exist")
    items = plan_upload(source, location)
    options = transfer_options(args)
    session = ctx.aws(concurrency=options.connections)
    s3 = S3(session.client("s3"))
    if s3.ensure_bucket(location.bucket, session.region):
        ctx.output.notice(f"created bucket {location.bucket!r} in {session.region}")
    if not items:
        ctx.output.notice(f"{source} holds no files: nothing to upload")
    with ctx.output.progress(sum(i.size for i in items), "upload") as bar:
        report = upload(s3, items, location, options, bar.update)
    return finish(ctx, report, "Uploaded", "Uploaded")
