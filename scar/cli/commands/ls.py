"""`scar ls`: your scar functions; `scar ls -b BUCKET[/FOLDER]`: the objects in a bucket folder."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from scar.aws import kinds as _registered  # noqa: F401 - registers the AWS kinds
from scar.aws.functions import DESCRIBE_CONCURRENCY
from scar.aws.kinds.function import KIND as FUNCTION
from scar.aws.provider import AwsProvider
from scar.aws.s3 import S3, parse_location
from scar.aws.tags import TAG_EXECUTION_MODE
from scar.cli.output import human_size, table
from scar.deploy.kind import Kinds
from scar.errors import OperationFailed

if TYPE_CHECKING:
    from scar.cli.main import Context


def run(args: argparse.Namespace, ctx: Context) -> int:
    return _objects(args, ctx) if args.bucket else _functions(ctx)


def _functions(ctx: Context) -> int:
    session = ctx.aws(concurrency=DESCRIBE_CONCURRENCY)
    provider = AwsProvider(session)
    functions = [info for _, info in Kinds("aws", provider)[FUNCTION].owned()]
    document = {"Functions": [
        {"Name": f.name, "Memory": f.memory, "Timeout": f.timeout, "Image_id": f.image, "Api_gateway": f.api_url,
         "Sup_version": f.supervisor, "Arn": f.arn, **_batch_columns(f.name, f.tags)}
        for f in functions]}
    if ctx.output.verbose and ctx.output.json_mode:
        for entry, info in zip(document["Functions"], functions, strict=True):
            entry["Configuration"] = info.configuration
            entry["Tags"] = info.tags
    text = None
    if functions and any(entry.get("Job_queue") for entry in document["Functions"]):
        text = table(("NAME", "MEMORY", "TIME", "IMAGE_ID", "API_URL", "SUPERVISOR_VERSION", "EXECUTION_MODE",
                      "JOB_QUEUE"),
                     ((f.name, f.memory, f.timeout, f.image, f.api_url, f.supervisor, entry["Execution_mode"],
                       entry.get("Job_queue", "-")) for f, entry in zip(functions, document["Functions"], strict=True)))
    elif functions:
        text = table(("NAME", "MEMORY", "TIME", "IMAGE_ID", "API_URL", "SUPERVISOR_VERSION"),
                     ((f.name, f.memory, f.timeout, f.image, f.api_url, f.supervisor) for f in functions))
    else:
        ctx.output.notice(f"no scar functions of {provider.identity.owner} in {session.region}")
    unreachable = _add_oscar_services(ctx, document)
    if document.get("Services"):
        services = table(("CLUSTER", "NAME", "IMAGE", "MEMORY", "CPU"),
                         ((s["Cluster"], s["Name"], s["Image"], s["Memory"], s["Cpu"]) for s in document["Services"]))
        text = f"{text}\n\nOSCAR services:\n{services}" if text else services
    ctx.output.result(document, text)
    if unreachable:
        raise OperationFailed("; ".join(unreachable))
    return 0


def _add_oscar_services(ctx: Context, document: dict[str, Any]) -> list[str]:
    """The services of every cluster scar.cfg configures, in `document["Services"]`; the clusters that
    could not be listed, with why."""
    from scar.config.oscar_clusters import configured_clusters

    clusters = configured_clusters(ctx.settings().config_file, ctx.output.notice)
    if not clusters:
        return []
    from scar.cli.oscar import list_services

    document["Services"], unreachable = list_services(ctx, clusters)
    if not document["Services"] and not unreachable:
        ctx.output.notice(f"no OSCAR services on {', '.join(c.cluster_id for c in clusters)}")
    return unreachable


def _objects(args: argparse.Namespace, ctx: Context) -> int:
    location = parse_location(args.bucket)
    objects = list(S3(ctx.aws().client("s3")).list_objects(location))
    document = {
        "Bucket": location.bucket,
        "Prefix": location.key_prefix,
        "Objects": [{"Key": o.key, "Size": o.size, "LastModified": o.last_modified.isoformat()} for o in objects],
    }
    text = None
    if objects:
        text = table(("KEY", "SIZE", "LAST_MODIFIED"),
                     ((o.key, human_size(o.size), o.last_modified.strftime("%Y-%m-%d %H:%M:%S")) for o in objects))
    else:
        ctx.output.notice(f"no objects in {location}")
    ctx.output.result(document, text)
    return 0


def _batch_columns(name: str, tags: dict[str, str]) -> dict[str, str]:
    """The execution mode, and for a function that uses AWS Batch its job queue (named after the function)."""
    mode = tags.get(TAG_EXECUTION_MODE, "lambda")
    return {"Execution_mode": mode, **({"Job_queue": name} if mode != "lambda" else {})}
