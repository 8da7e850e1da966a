"""`put` and `get`: many files, in parallel, through s3transfer (multipart, retries, bounded queues)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from s3transfer.manager import TransferConfig, TransferManager
from s3transfer.subscribers import BaseSubscriber

from scar.aws.direct_objects import ObjectRequests
from scar.aws.errors import describe
from scar.aws.s3 import S3, S3Location, S3Object
from scar.aws.small_objects import SMALL_OBJECT_MAX, allow_small_puts_without_expect, get_small, put_small
from scar.errors import BadInputError

MIB = 1024 * 1024


@dataclass(frozen=True)
class TransferItem:
    local: Path
    key: str
    size: int
    etag: str | None = None  # of the object to download, when the listing gave it


@dataclass
class TransferReport:
    """What a transfer did: the files moved and the ones that failed, with why."""

    location: S3Location
    done: list[TransferItem] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path or key, reason)
    seconds: float = 0.0

    @property
    def bytes(self) -> int:
        return sum(item.size for item in self.done)

    def in_order(self, planned: list[TransferItem]) -> None:
        """`done` in the order of the plan (small files go first, whatever their place in it)."""
        place = {id(item): n for n, item in enumerate(planned)}
        self.done.sort(key=lambda item: place[id(item)])


@dataclass(frozen=True)
class TransferOptions:
    """How many requests are in flight: `concurrency` for small files, one request each, whose time is round
    trips (32 where the AWS CLI keeps 10); `part_concurrency` for the parts of larger files, whose time is
    bandwidth: 10, as the AWS CLI and s3transfer (more parts at once only add buffers and contention)."""

    concurrency: int = 32
    part_concurrency: int = 10
    chunk_size: int = 8 * MIB
    direct: bool = True  # small files by scar.aws.direct_objects' own requests (False: botocore's calls only)

    @property
    def connections(self) -> int:
        """The connection pool this needs."""
        return max(self.concurrency, self.part_concurrency)

    def config(self) -> TransferConfig:
        return TransferConfig(
            multipart_threshold=self.chunk_size,
            multipart_chunksize=self.chunk_size,
            max_request_concurrency=self.part_concurrency,
            max_submission_concurrency=max(5, self.part_concurrency // 2),
            max_request_queue_size=max(1000, self.part_concurrency * 10),
            max_io_queue_size=1000,
        )


Progress = Callable[[int], Any]


class _Subscriber(BaseSubscriber):
    """One per file: hands s3transfer what the plan already knows, so that it need not ask again, and reports
    progress. The size spares an upload a stat; the size and the ETag from the listing spare a download its
    HeadObject (s3transfer >= 0.13 makes one unless it has both), as the AWS CLI does."""

    def __init__(self, item: TransferItem, advance: Progress) -> None:
        self._item = item
        self._advance = advance

    def on_queued(self, future: Any, **kwargs: Any) -> None:
        future.meta.provide_transfer_size(self._item.size)
        if self._item.etag is not None:
            future.meta.provide_object_etag(self._item.etag)

    def on_progress(self, future: Any, bytes_transferred: int, **kwargs: Any) -> None:
        self._advance(bytes_transferred)


def plan_upload(source: Path, location: S3Location) -> list[TransferItem]:
    """The files to upload and their keys: a file goes to FOLDER/<name>, a tree keeps its layout."""
    if source.is_file():
        return [TransferItem(source, location.key_for(source.name), source.stat().st_size)]
    if not source.is_dir():
        raise BadInputError(f"command line: -p/--path: {str(source)!r} is not a file or a folder")
    items = []
    for folder, subfolders, files in os.walk(source):
        subfolders.sort()
        for name in sorted(files):
            path = Path(folder, name)
            if path.is_file():
                relative = path.relative_to(source).as_posix()
                items.append(TransferItem(path, location.key_for(relative), path.stat().st_size))
    return items


def _small_first(items: list[TransferItem]) -> tuple[list[TransferItem], list[TransferItem]]:
    """Small files (one request each, scar.aws.small_objects) and the others (s3transfer). They go in that
    order, one group at a time, so that no more than `concurrency` requests are ever in flight."""
    return [i for i in items if i.size <= SMALL_OBJECT_MAX], [i for i in items if i.size > SMALL_OBJECT_MAX]


def _transfer_small(task: Callable[..., None], s3: S3, items: list[TransferItem], location: S3Location,
                    options: TransferOptions, progress: Progress, report: TransferReport,
                    label: Callable[[TransferItem], str]) -> None:
    """`task` for each item on `concurrency` threads; on Ctrl-C the queued ones are dropped and only those
    under way finish."""
    objects = ObjectRequests(s3.client, direct=options.direct)
    pool = ThreadPoolExecutor(max_workers=options.concurrency)
    try:
        _collect([(item, pool.submit(task, objects, location.bucket, item.key, item.local, progress))
                  for item in items], report, label)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def upload(s3: S3, items: list[TransferItem], location: S3Location, options: TransferOptions,
           progress: Progress) -> TransferReport:
    report = TransferReport(location)
    started = time.monotonic()
    small, large = _small_first(items)
    allow_small_puts_without_expect(s3.client)
    _transfer_small(put_small, s3, small, location, options, progress, report, _path_of)
    if large:  # s3transfer's manager starts (and at the end joins) threads of its own
        with TransferManager(s3.client, options.config()) as manager:
            futures = [
                (item, manager.upload(str(item.local), location.bucket, item.key,
                                      subscribers=[_Subscriber(item, progress)]))
                for item in large
            ]
            _collect(futures, report, _path_of)
    report.in_order(items)
    report.seconds = time.monotonic() - started
    return report


def plan_download(s3: S3, location: S3Location, destination: Path) -> tuple[list[TransferItem], list[tuple[str, str]]]:
    """The objects under the folder and where each goes, plus the keys refused as unsafe.

    A key is written below `destination` at its path relative to the folder; a key that would land
    outside it (`..`, an absolute path, a link that leads out) is refused. When the location names
    a single object rather than a folder, that object is the plan.
    """
    objects = list(s3.list_objects(location))
    base = location.key_prefix
    if not objects and location.folder:
        single = s3.head_object(location.bucket, location.folder)
        if single is not None:
            parent, _, _ = location.folder.rpartition("/")
            objects, base = [single], (parent + "/" if parent else "")
    root = destination.resolve()
    items: list[TransferItem] = []
    refused: list[tuple[str, str]] = []
    folders: dict[Path, bool] = {}
    for obj in objects:
        target = _safe_target(root, obj, base, folders)
        if target is None:
            refused.append((obj.key, "refused: the key would be written outside the destination folder"))
        else:
            items.append(TransferItem(target, obj.key, obj.size, obj.etag))
    return items, refused


def download(s3: S3, items: list[TransferItem], location: S3Location, options: TransferOptions,
             progress: Progress) -> TransferReport:
    """Download every item; each is written to a temporary file renamed into place when complete (by
    small_objects or s3transfer), so an interrupted or failed download never leaves a partial file under the
    final name."""
    report = TransferReport(location)
    started = time.monotonic()
    small, large = _small_first(_with_folders(items, report))
    _transfer_small(get_small, s3, small, location, options, progress, report, _key_of)
    if large:
        with TransferManager(s3.client, options.config()) as manager:
            futures = [(item, manager.download(location.bucket, item.key, str(item.local),
                                               subscribers=[_Subscriber(item, progress)]))
                       for item in large]
            _collect(futures, report, _key_of)
    report.in_order(items)
    report.seconds = time.monotonic() - started
    return report


def _path_of(item: TransferItem) -> str:
    return str(item.local)


def _key_of(item: TransferItem) -> str:
    return item.key


def _with_folders(items: list[TransferItem], report: TransferReport) -> list[TransferItem]:
    """The items whose folder exists (created if needed, once per folder); the others are reported failed."""
    folders: dict[Path, str | None] = {}  # folder → why it cannot be created (None: it exists)
    ready = []
    for item in items:
        folder = item.local.parent
        if folder not in folders:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                folders[folder] = None
            except OSError as err:
                folders[folder] = f"cannot create {folder}: {err.strerror or err}"
        reason = folders[folder]
        if reason is None:
            ready.append(item)
        else:
            report.failed.append((item.key, reason))
    return ready


def _collect(futures: list[tuple[TransferItem, Any]], report: TransferReport,
             label: Callable[[TransferItem], str]) -> None:
    for item, future in futures:
        try:
            future.result()
        except Exception as err:  # noqa: BLE001 - each file's failure is reported, the others go on
            report.failed.append((label(item), describe(err)))
        else:
            report.done.append(item)


def _safe_target(root: Path, obj: S3Object, base: str, folders: dict[Path, bool]) -> Path | None:
    """Where the object goes below `root`, or None when it would land outside. `folders` remembers the
    verdict on each folder already seen (the many objects of one folder cost one check)."""
    relative = obj.key[len(base):] if obj.key.startswith(base) else obj.key
    parts = PurePosixPath(relative).parts
    if not parts or relative.startswith("/") or any(part in ("..", ".") for part in parts) or "\\" in relative:
        return None
    target = root.joinpath(*parts)
    inside = folders.get(target.parent)
    if inside is None:
        # a folder (or link) that already exists below root must not lead outside it
        existing = target.parent
        while existing != root and not existing.exists():
            existing = existing.parent
        inside = folders[target.parent] = existing.resolve().is_relative_to(root)
    return target if inside else None
