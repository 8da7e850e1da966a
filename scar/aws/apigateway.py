"""A thin wrapper over API Gateway (REST APIs, v1): paginated reads, and deletions that accept what is
already gone. Mutating calls go through `client` as they are."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from scar.aws.errors import error_code
from scar.config.regions import dns_suffix

NOT_FOUND = "NotFoundException"
LAUNCH_PATH = "launch"  # the path the original's endpoint URLs end with


def invoke_url(api_id: str, region: str, stage: str) -> str:
    """The public URL of a stage: `https://<id>.execute-api.<region>.amazonaws.com/<stage>/launch`."""
    return f"https://{api_id}.execute-api.{region}.{dns_suffix(region)}/{stage}/{LAUNCH_PATH}"


class ApiGateway:
    def __init__(self, client: Any) -> None:
        self.client = client

    def rest_apis(self) -> list[dict[str, Any]]:
        return [api for page in self.client.get_paginator("get_rest_apis").paginate()
                for api in page.get("items", ())]

    def resources(self, api_id: str) -> dict[str, dict[str, Any]]:
        """The API's resources by path ("/", "/{proxy+}")."""
        pages = self.client.get_paginator("get_resources").paginate(restApiId=api_id)
        return {resource["path"]: resource for page in pages for resource in page.get("items", ())}

    def method(self, api_id: str, resource_id: str, http_method: str) -> dict[str, Any] | None:
        try:
            return self.client.get_method(restApiId=api_id, resourceId=resource_id, httpMethod=http_method)
        except ClientError as err:
            if error_code(err) == NOT_FOUND:
                return None
            raise

    def stages(self, api_id: str) -> dict[str, str]:
        """Stage name → the deployment it serves."""
        return {stage["stageName"]: stage.get("deploymentId", "")
                for stage in self.client.get_stages(restApiId=api_id).get("item", ())}

    def deployments(self, api_id: str) -> dict[str, str]:
        """Deployment id → its description."""
        pages = self.client.get_paginator("get_deployments").paginate(restApiId=api_id)
        return {item["id"]: item.get("description", "") for page in pages for item in page.get("items", ())}

    def delete_rest_api(self, api_id: str) -> bool:
        """Delete; False when it was already gone."""
        return self._tolerant(self.client.delete_rest_api, restApiId=api_id)

    def delete_resource(self, api_id: str, resource_id: str) -> bool:
        return self._tolerant(self.client.delete_resource, restApiId=api_id, resourceId=resource_id)

    def delete_method(self, api_id: str, resource_id: str, http_method: str) -> bool:
        return self._tolerant(self.client.delete_method, restApiId=api_id, resourceId=resource_id,
                              httpMethod=http_method)

    def delete_stage(self, api_id: str, stage: str) -> bool:
        return self._tolerant(self.client.delete_stage, restApiId=api_id, stageName=stage)

    def delete_deployment(self, api_id: str, deployment_id: str) -> bool:
        return self._tolerant(self.client.delete_deployment, restApiId=api_id, deploymentId=deployment_id)

    @staticmethod
    def _tolerant(call: Any, **params: Any) -> bool:
        try:
            call(**params)
            return True
        except ClientError as err:
            if error_code(err) == NOT_FOUND:
                return False
            raise
