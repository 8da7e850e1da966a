"""`scar get -b BUCKET[/FOLDER] -p DIR`: download a folder (keeping its layout) or one object."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from scar.aws.s3 import S3, parse_location
from scar.aws.transfer import download, plan_download
from scar.cli.commands.transfer_common import finish, transfer_options
from scar.errors import BadInputError

if TYPE_CHECKING:
    from scar.cli.main import Context


def run(args: argparse.Namespace, ctx: Context) -> int:
    location = parse_location(args.bucket)
    destination = Path(args.path).expanduser()
    if destination.exists() and not destination.is_dir():
        raise BadInputError(f"command line: -p/--path: {args.path!r} is not a folder")
    options = transfer_options(args)
    s3 = S3(ctx.aws(concurrency=options.connections).client("s3"))
    items, refused = plan_download(s3, location, destination)
    if not items and not refused:
        ctx.output.notice(f"no objects in {location}: nothing to download")
    with ctx.output.progress(sum(i.size for i in items), "download") as bar:
        report = download(s3, items, location, options, bar.update)
    report.failed[:0] = refused
    return finish(ctx, report, "Downloaded", "Downloaded")
