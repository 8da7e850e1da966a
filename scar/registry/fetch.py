"""An image named `name[:tag|@digest]` in the store: pulled from its registry, or straight from the store when
named by a digest it already holds (no network then)."""

from __future__ import annotations

from scar.registry.auth import Credentials, docker_config_credentials
from scar.registry.client import RegistryClient
from scar.registry.errors import RegistryError
from scar.registry.platforms import Platform
from scar.registry.reference import parse_reference
from scar.registry.store import ImageStore, StoredImage
from scar.registry.transfer import pull


def fetch_image(name: str, store: ImageStore, platform: Platform, credentials: Credentials | None = None,
                progress: bool | None = None) -> StoredImage:
    reference = parse_reference(name)
    if reference.digest and store.has(reference.digest):
        try:
            return store.image(reference.digest)
        except RegistryError:
            pass  # an index, or a blob is missing: the registry has them
    client = RegistryClient(reference.base_url, credentials or docker_config_credentials(reference.registry))
    return pull(client, reference.repository, reference.reference, store, platform, progress)
