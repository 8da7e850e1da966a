"""Whole images between a registry and the store: pull (manifest, configuration, missing layers) and push
(every blob the repository lacks, then the manifest), several blobs at a time, with one progress bar on a
terminal (stderr) and none otherwise."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from scar.registry.client import Manifest, RegistryClient
from scar.registry.errors import RegistryError
from scar.registry.platforms import Platform, choose
from scar.registry.store import ImageStore, StoredImage

WORKERS = 4


@dataclass(frozen=True)
class PushResult:
    digest: str
    outcomes: dict[str, str]  # blob digest -> present, mounted or uploaded


def pull(client: RegistryClient, repository: str, reference: str, store: ImageStore, platform: Platform,
         progress: bool | None = None) -> StoredImage:
    """The image `repository:reference` (the `platform` one of an index) in `store`; only missing blobs are
    downloaded, each verified before it is kept."""
    label = f"{client.host}/{repository}:{reference}"
    manifest = client.manifest(repository, reference)
    if manifest.is_index:
        descriptor = choose(manifest.document, platform, label)
        manifest = client.manifest(repository, str(descriptor["digest"]))
        if manifest.is_index:
            raise RegistryError(f"{label}: an index inside an index is not supported")
    document = manifest.document
    config, layers = document.get("config"), document.get("layers")
    if not isinstance(config, dict) or not isinstance(layers, list):
        raise RegistryError(f"{label}: the manifest lists no config and layers (a schema 1 manifest?)")
    wanted = [d for d in [config, *layers] if isinstance(d, dict) and not store.has(str(d.get("digest")))]
    with _bar(sum(int(d.get("size") or 0) for d in wanted), f"pull {repository}", progress) as advance:
        def fetch(descriptor: dict[str, Any]) -> None:
            digest = str(descriptor["digest"])
            target = store.download_target(digest)
            store.path(digest)  # refuses an unsupported digest before any download
            client.download_blob(repository, digest, int(descriptor.get("size") or 0), target, advance)
            store.adopt(target, digest)

        _each(fetch, wanted)
    store.put(manifest.data)
    return store.image(manifest.digest)


def push(client: RegistryClient, store: ImageStore, image: StoredImage, repository: str, tags: tuple[str, ...] = (),
         mount_from: str = "", progress: bool | None = None) -> PushResult:
    """Push `image` to `repository`: each blob after a HEAD (mounted from `mount_from` on the same registry when
    given), then the manifest by digest and under every tag in `tags`."""
    outcomes: dict[str, str] = {}
    lock = threading.Lock()
    with _bar(sum(int(d.get("size") or 0) for d in image.blobs), f"push {repository}", progress) as advance:
        def send(descriptor: dict[str, Any]) -> None:
            digest = str(descriptor["digest"])
            path = store.path(digest)
            outcome = client.upload_blob(repository, digest, path.stat().st_size, lambda: path.open("rb"),
                                         mount_from, advance)
            if outcome != "uploaded":
                advance(int(descriptor.get("size") or 0))
            with lock:
                outcomes[digest] = outcome

        _each(send, list(image.blobs))
    manifest = Manifest(image.manifest.data, image.manifest.media_type, image.digest)
    for reference in tags or (image.digest,):
        client.put_manifest(repository, reference, manifest)
    return PushResult(image.digest, outcomes)


def _each(work: Callable[[dict[str, Any]], None], items: list[dict[str, Any]]) -> None:
    """Run `work` on every item, a few at a time; the first error is raised once all have stopped."""
    if not items:
        return
    with ThreadPoolExecutor(min(WORKERS, len(items))) as pool:
        futures = [pool.submit(work, item) for item in items]
    for future in futures:
        future.result()


@contextmanager
def _bar(total: int, label: str, show: bool | None) -> Iterator[Callable[[int], None]]:
    if show is None:
        show = sys.stderr.isatty()
    if not show or not total:
        yield lambda count: None
        return
    from tqdm import tqdm

    lock = threading.Lock()
    with tqdm(total=total, desc=label, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr,
              leave=False) as bar:
        def advance(count: int) -> None:
            with lock:
                bar.update(count)

        yield advance
