"""`scar ls -b BUCKET[/FOLDER]`: the objects in a bucket folder, with size and date."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from scar.aws.s3 import S3, parse_location
from scar.cli.output import human_size, table

if TYPE_CHECKING:
    from scar.cli.main import Context


def run(args: argparse.Namespace, ctx: Context) -> int:
    location = parse_location(args.bucket)
    objects = list(S3(ctx.aws().client("s3")).list_objects(location))
    document = {
        "Bucket": location.bucket,
        "Prefix": location.key_prefix,
        "Objects": [{"Key": o.key, "Size": o.size, "LastModified": o.last_modified.isoformat()} for o in objects],
    }
    if objects:
        text = table(("KEY", "SIZE", "LAST_MODIFIED"),
                     ((o.key, human_size(o.size), o.last_modified.strftime("%Y-%m-%d %H:%M:%S")) for o in objects))
    else:
        text = None
        ctx.output.notice(f"no objects in {location}")
    ctx.output.result(document, text)
    return 0
