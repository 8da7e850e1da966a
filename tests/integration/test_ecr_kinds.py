"""The ECR repository and container image kinds against moto's ECR: the repository created tagged and read
back, an image (its manifest put as a push would) found by digest with DescribeImages, deleted with
BatchDeleteImage, and the repository removed with its images; one scar did not create is never removed."""

from __future__ import annotations

import json

import pytest

from scar.aws import kinds as _registered  # noqa: F401 - registers the AWS kinds
from scar.aws.identity import caller_identity
from scar.aws.image_entries import image_removal
from scar.aws.kinds.container_image import KIND as IMAGE
from scar.aws.kinds.container_image import image_name, split_name
from scar.aws.kinds.ecr_repository import KIND as REPOSITORY
from scar.aws.provider import AwsProvider
from scar.aws.session import AwsSession
from scar.deploy.executor import Executor
from scar.deploy.kind import Kinds, Resource
from scar.deploy.model import Action, Plan, ResourceId
from scar.deploy.planner import plan_resources

MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                  "digest": "sha256:" + "1" * 64, "size": 10}, "layers": []})


@pytest.fixture
def provider(cloud):
    session = AwsSession("us-east-1")
    return AwsProvider(session, caller_identity(session.client("sts")))


def test_repository_created_tagged_then_removed_with_its_images(provider, aws):
    kinds = Kinds("aws", provider)
    rid = ResourceId(REPOSITORY, "fn", provider.scope, "fn")
    plan = plan_resources("fn", kinds, [Resource(rid, {"Tags": {"createdby": "scar", "owner": "me"}})])
    assert [step.action for step in plan.steps] == [Action.CREATE]
    Executor().run(plan)
    ecr = aws("ecr")
    found = ecr.describe_repositories(repositoryNames=["fn"])["repositories"][0]
    tags = ecr.list_tags_for_resource(resourceArn=found["repositoryArn"])["tags"]
    assert {"Key": "createdby", "Value": "scar"} in tags
    again = plan_resources("fn", kinds, [Resource(rid, {"Tags": {"createdby": "scar"}})])
    assert [step.action for step in again.steps] == [Action.UNCHANGED]

    digest = ecr.put_image(repositoryName="fn", imageManifest=MANIFEST, imageTag="latest")["image"]["imageId"][
        "imageDigest"]
    image = ResourceId(IMAGE, image_name("", "fn", digest), provider.scope, "fn")
    assert kinds[IMAGE].read(image) == {"Digest": digest}
    assert kinds[IMAGE].read(ResourceId(IMAGE, image_name("", "fn", "sha256:" + "2" * 64), provider.scope)) is None
    uri = f"{provider.account}.dkr.ecr.us-east-1.amazonaws.com/fn@{digest}"
    assert image_removal(provider, kinds, "fn", uri, delete_image=False) == []
    steps = image_removal(provider, kinds, "fn", uri, delete_image=True)
    assert [(step.resource.kind, step.action) for step in steps] == [(REPOSITORY, Action.DELETE)]
    Executor().run(Plan("rm", steps))
    assert ecr.describe_repositories()["repositories"] == []


def test_an_image_is_deleted_by_digest(provider, aws):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName="other")
    digest = ecr.put_image(repositoryName="other", imageManifest=MANIFEST)["image"]["imageId"]["imageDigest"]
    kinds = Kinds("aws", provider)
    rid = ResourceId(IMAGE, image_name("", "other", digest), provider.scope, "other")
    (step,) = kinds[IMAGE].removal(rid, kinds[IMAGE].read(rid))
    Executor().run(Plan("rm", [step]))
    assert ecr.describe_images(repositoryName="other")["imageDetails"] == []


def test_a_repository_scar_did_not_create_is_kept(provider, aws):
    aws("ecr").create_repository(repositoryName="theirs")
    kinds = Kinds("aws", provider)
    uri = f"{provider.account}.dkr.ecr.us-east-1.amazonaws.com/theirs@sha256:{'3' * 64}"
    steps = image_removal(provider, kinds, "theirs", uri, delete_image=True)
    assert [step.action for step in steps] == [Action.UNCHANGED]
    assert "scar did not create it" in steps[0].detail


def test_image_names_round_trip():
    digest = "sha256:" + "a" * 64
    assert split_name(image_name("", "repo/x", digest)) == ("", "repo/x", digest)
    assert split_name(image_name("http://127.0.0.1:5000", "fn", digest)) == ("http://127.0.0.1:5000", "fn", digest)
