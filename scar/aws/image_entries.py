"""What a `runtime: image` function adds to its resources: the ECR repository named after it (unless
`ecr.registry_url` names another registry), the function image by digest, and the code Lambda runs
(`ImageUri` = `repository@sha256:…`); or, with `container.create_image: false`, the image given, as is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scar.aws.kinds.container_image import KIND as CONTAINER_IMAGE
from scar.aws.kinds.container_image import ecr_host, image_name
from scar.aws.kinds.ecr_repository import KIND as ECR_REPOSITORY
from scar.aws.provider import AwsProvider
from scar.aws.tags import TAG_CREATED_BY
from scar.deploy.kind import Kinds, Resource
from scar.deploy.model import ResourceId, Step
from scar.registry.reference import parse_reference
from scar.registry.store import ImageStore, StoredImage


@dataclass(frozen=True)
class ImageArtifacts:
    repository: str  # named after the function
    registry_url: str  # empty: the account's ECR
    image: StoredImage | None = None  # None: container.create_image false, `uri` used as is
    store: ImageStore | None = None
    uri: str = ""


def repository_uri(provider: AwsProvider, artifacts: ImageArtifacts) -> str:
    if artifacts.registry_url:
        return f"{artifacts.registry_url.split('://', 1)[-1].rstrip('/')}/{artifacts.repository}"
    return f"{ecr_host(provider)}/{artifacts.repository}"


def image_entries(provider: AwsProvider, name: str, artifacts: ImageArtifacts,
                  tags: dict[str, str]) -> tuple[list[Resource], dict[str, Any]]:
    """The entries that put the image in place, and the function's Code."""
    if artifacts.image is None:
        return [], {"ImageUri": artifacts.uri}
    scope = provider.scope
    entries = []
    if not artifacts.registry_url:
        entries.append(Resource(ResourceId(ECR_REPOSITORY, artifacts.repository, scope, name),
                                {"Tags": {**tags, TAG_CREATED_BY: "scar"}}))
    digest = artifacts.image.digest
    entries.append(Resource(ResourceId(CONTAINER_IMAGE, image_name(artifacts.registry_url, artifacts.repository,
                                                                   digest), scope, name),
                            {"Digest": digest, "Image": artifacts.image, "Store": artifacts.store}))
    return entries, {"ImageUri": f"{repository_uri(provider, artifacts)}@{digest}"}


def image_removal(provider: AwsProvider, kinds: Kinds, name: str, image_uri: str | None,
                  delete_image: bool) -> list[Step]:
    """`rm` of an image function: its ECR repository named after it (only if scar created it), or the image's
    digest in another registry; nothing when `ecr.delete_image` is false or the image was not scar's."""
    if not delete_image or not image_uri:
        return []
    scope = provider.scope
    reference = parse_reference(image_uri)
    if ".dkr.ecr." in reference.registry:
        if reference.repository != name:
            return []  # a prepared image (create_image: false): not scar's to delete
        rid = ResourceId(ECR_REPOSITORY, name, scope, name)
        return kinds[ECR_REPOSITORY].removal(rid, kinds[ECR_REPOSITORY].read(rid))
    if not reference.digest or reference.repository != name:
        return []
    rid = ResourceId(CONTAINER_IMAGE, image_name(reference.base_url, reference.repository, reference.digest),
                     scope, name)
    return kinds[CONTAINER_IMAGE].removal(rid, kinds[CONTAINER_IMAGE].read(rid))
