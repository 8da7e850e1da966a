"""Small files in one request each, without s3transfer's machinery.

For a file of a few KiB, s3transfer's futures, submission threads and chunked reads cost more client CPU
than the request itself. Here a small file is one PutObject with its bytes, or one GetObject written to a
temporary file renamed into place, both through scar.aws.direct_objects. Memory stays bounded: at most one
small file per worker (`SMALL_OBJECT_MAX` each).

botocore sends every PutObject with `Expect: 100-continue`, which makes the client wait for the server's
go-ahead before it sends the body: one more round trip per upload on a real network. It lets a server refuse
a large body before it is sent; for a small one the round trip costs more than sending it (the AWS SDK for
Go adds the header only above 2 MB), so `allow_small_puts_without_expect` drops it there.
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from s3transfer.utils import S3_RETRYABLE_DOWNLOAD_ERRORS

from scar.aws.direct_objects import ObjectRequests

#: Files up to this size go through here; larger ones through s3transfer (multipart, streamed).
SMALL_OBJECT_MAX = 1024 * 1024
#: Reads of a GetObject body cut short (the request itself is retried by botocore) are tried this often.
READ_ATTEMPTS = 5

Progress = Callable[[int], Any]


def read_file(path: Path) -> bytes:
    with open(path, "rb") as source:
        return source.read()


def allow_small_puts_without_expect(client: Any) -> None:
    """PutObject calls of this client with a body of at most SMALL_OBJECT_MAX bytes go without
    `Expect: 100-continue` (registered once per client; runs after botocore's handler that adds it)."""
    client.meta.events.register_last("before-call.s3", _drop_expect, unique_id="scar-small-put-no-expect")


def _drop_expect(model: Any, params: dict[str, Any], **kwargs: Any) -> None:
    if model.name != "PutObject":
        return
    body = params.get("body")
    size = len(body.getbuffer()) if isinstance(body, io.BytesIO) else len(body) if isinstance(body, bytes) else None
    if size is not None and size <= SMALL_OBJECT_MAX:
        params["headers"].pop("Expect", None)


def put_small(objects: ObjectRequests, bucket: str, key: str, path: Path, progress: Progress) -> None:
    body = read_file(path)
    objects.put(bucket, key, body)
    progress(len(body))


def get_small(objects: ObjectRequests, bucket: str, key: str, target: Path, progress: Progress) -> None:
    """Download to a new temporary file beside `target` (never through an existing name or link), then
    rename it over `target`; on any failure the temporary file goes and `target` is untouched."""
    body = _read_object(objects, bucket, key)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.scar-part")
    try:
        with open(temporary, "xb") as out:
            out.write(body)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    progress(len(body))


def _read_object(objects: ObjectRequests, bucket: str, key: str) -> bytes:
    attempt = 1
    while True:
        try:
            return objects.get(bucket, key)
        except S3_RETRYABLE_DOWNLOAD_ERRORS:
            if attempt >= READ_ATTEMPTS:
                raise
            attempt += 1
