"""A function image in its repository, identified by its digest (`repository@sha256:…`): present or pushed.
Pushing sends only the blobs the repository lacks (a HEAD before each); an image already there is unchanged
and costs no push at all. The repository is the account's ECR (authenticated with GetAuthorizationToken), or
the registry `ecr.registry_url` names. Removing deletes that digest (ECR BatchDeleteImage, or the registry's
manifest DELETE)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from scar.aws.errors import error_code
from scar.aws.provider import AwsProvider
from scar.config.regions import dns_suffix
from scar.deploy.kind import Kind, NotUndoable, register
from scar.deploy.model import Action, Call, ResourceId, Step
from scar.registry.auth import docker_config_credentials, ecr_credentials
from scar.registry.client import RegistryClient
from scar.registry.transfer import push

KIND = "container image"
TAG = "latest"


def image_name(registry_url: str, repository: str, digest: str) -> str:
    """The resource's name: `repository@digest` in ECR, `<registry_url>/repository@digest` elsewhere."""
    return f"{registry_url.rstrip('/')}/{repository}@{digest}" if registry_url else f"{repository}@{digest}"


def split_name(name: str) -> tuple[str, str, str]:
    """(registry_url, repository, digest) of an image resource's name."""
    where, _, digest = name.rpartition("@")
    if "://" in where:
        scheme, _, rest = where.partition("://")
        host, _, repository = rest.partition("/")
        return f"{scheme}://{host}", repository, digest
    return "", where, digest


@register("aws")
class ContainerImage(Kind):
    """Wanted state: Digest, and (not compared) the StoredImage and its ImageStore to push from."""

    kind = KIND
    compared = ("Digest",)

    def __init__(self, provider: AwsProvider) -> None:
        self.provider = provider

    def label(self, rid: ResourceId, action: Action) -> str:
        _, repository, digest = split_name(rid.name)
        return f"image {repository}@{digest[7:19]}"

    def describe(self, desired: Any) -> str:
        image = desired["Image"]
        return f"{len(image.layers)} layers, {sum(d['size'] for d in image.blobs) / 2**20:.1f} MiB"

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        registry, repository, _ = split_name(rid.name)
        auth = () if registry else (Call("ecr", "GetAuthorizationToken"),)
        where = {"repository": repository, "registry": registry or "ECR"}
        if action is Action.CREATE:
            return (*auth, Call("registry", "PushImage", where))
        if action is Action.DELETE:
            return (Call("registry", "DeleteManifest", where),) if registry else \
                (Call("ecr", "BatchDeleteImage", {"repositoryName": repository}),)
        return ()

    def read(self, rid: ResourceId) -> dict[str, Any] | None:
        registry, repository, digest = split_name(rid.name)
        if registry:
            return {"Digest": digest} if self.client(registry).manifest_digest(repository, digest) else None
        try:
            found = self.provider.ecr.describe_images(repositoryName=repository,
                                                      imageIds=[{"imageDigest": digest}])["imageDetails"]
        except ClientError as err:
            if error_code(err) in ("ImageNotFoundException", "RepositoryNotFoundException"):
                return None
            raise
        return {"Digest": digest} if found else None

    def create(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        registry, repository, _ = split_name(step.resource.name)
        client = self.client(registry)
        result = push(client, desired["Store"], desired["Image"], repository, (TAG,))
        outputs["created"] = True
        outputs["uploaded"] = sum(1 for outcome in result.outcomes.values() if outcome == "uploaded")

    def update(self, step: Step, desired: Any, outputs: dict[str, Any]) -> None:
        raise NotUndoable(f"{step.label}: an image is never changed, only pushed or deleted")

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        registry, repository, digest = split_name(step.resource.name)
        if registry:
            self.client(registry).delete_manifest(repository, digest)
        else:
            self.provider.ecr.batch_delete_image(repositoryName=repository, imageIds=[{"imageDigest": digest}])
        outputs["deleted"] = True

    def client(self, registry: str) -> RegistryClient:
        """One client per registry for this run (ECR's token asked once)."""
        def build() -> RegistryClient:
            if registry:
                host = registry.split("://", 1)[1]
                return RegistryClient(registry, docker_config_credentials(host))
            credentials, endpoint = ecr_credentials(self.provider.ecr.get_authorization_token())
            return RegistryClient(endpoint or ecr_endpoint(self.provider), credentials)

        return self.provider.once(("registry", registry), build)


def ecr_endpoint(provider: AwsProvider) -> str:
    return f"https://{ecr_host(provider)}"


def ecr_host(provider: AwsProvider) -> str:
    """The account's ECR registry in the provider's region, in its partition's domain."""
    return f"{provider.account}.dkr.ecr.{provider.region}.{dns_suffix(provider.region)}"
