"""A thin wrapper over the Lambda client: functions, layers, waiters and invocations."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from scar.aws.errors import error_code

#: How long to keep retrying while a new IAM role propagates to Lambda (AWS documents "a few seconds").
ROLE_PROPAGATION_SECONDS = 30


class Lambda:
    def __init__(self, client: Any) -> None:
        self.client = client

    # -- functions -------------------------------------------------------------------------------

    def get_function(self, name: str) -> dict[str, Any] | None:
        """`GetFunction` (configuration, code location and tags), or None when it does not exist."""
        try:
            return self.client.get_function(FunctionName=name)
        except ClientError as err:
            if error_code(err) == "ResourceNotFoundException":
                return None
            raise

    def get_configuration(self, name: str) -> dict[str, Any] | None:
        try:
            return self.client.get_function_configuration(FunctionName=name)
        except ClientError as err:
            if error_code(err) == "ResourceNotFoundException":
                return None
            raise

    def create_function(self, **kwargs: Any) -> dict[str, Any]:
        """`CreateFunction`, retrying while a just-created role is not yet assumable by Lambda."""
        deadline = time.monotonic() + ROLE_PROPAGATION_SECONDS
        delay = 1.0
        while True:
            try:
                return self.client.create_function(**kwargs)
            except ClientError as err:
                message = str(err.response.get("Error", {}).get("Message", ""))
                propagating = error_code(err) == "InvalidParameterValueException" and "cannot be assumed" in message
                if not propagating or time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 8)

    def update_code(self, name: str, **code: Any) -> dict[str, Any]:
        return self.client.update_function_code(FunctionName=name, **code)

    def update_configuration(self, name: str, **configuration: Any) -> dict[str, Any]:
        return self.client.update_function_configuration(FunctionName=name, **configuration)

    def delete_function(self, name: str) -> bool:
        """Delete; False when it was already gone."""
        try:
            self.client.delete_function(FunctionName=name)
            return True
        except ClientError as err:
            if error_code(err) == "ResourceNotFoundException":
                return False
            raise

    def tag(self, arn: str, tags: dict[str, str]) -> None:
        self.client.tag_resource(Resource=arn, Tags=tags)

    def untag(self, arn: str, keys: list[str]) -> None:
        self.client.untag_resource(Resource=arn, TagKeys=keys)

    def wait_active(self, name: str) -> None:
        self.client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})

    def wait_updated(self, name: str) -> None:
        self.client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})

    def invoke(self, name: str, payload: bytes, asynchronous: bool, tail_log: bool = True) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"FunctionName": name, "Payload": payload,
                                  "InvocationType": "Event" if asynchronous else "RequestResponse"}
        if tail_log and not asynchronous:
            kwargs["LogType"] = "Tail"
        response = self.client.invoke(**kwargs)
        response["Payload"] = response["Payload"].read() if "Payload" in response else b""
        return response

    # -- layers ----------------------------------------------------------------------------------

    def list_functions(self) -> list[dict[str, Any]]:
        """Every function of the region (ListFunctions, all pages)."""
        paginator = self.client.get_paginator("list_functions")
        return [function for page in paginator.paginate() for function in page.get("Functions", ())]

    def layer_versions(self, layer_name: str) -> list[dict[str, Any]]:
        """Every version of a layer, newest first (empty when the layer does not exist)."""
        paginator = self.client.get_paginator("list_layer_versions")
        try:
            return [v for page in paginator.paginate(LayerName=layer_name) for v in page.get("LayerVersions", ())]
        except ClientError as err:
            if error_code(err) == "ResourceNotFoundException":
                return []
            raise

    def publish_layer(self, layer_name: str, description: str, zip_bytes: bytes, runtimes: list[str],
                      license_info: str, architectures: list[str]) -> dict[str, Any]:
        return self.client.publish_layer_version(
            LayerName=layer_name, Description=description, Content={"ZipFile": zip_bytes},
            CompatibleRuntimes=runtimes, CompatibleArchitectures=architectures, LicenseInfo=license_info)

    def delete_layer_version(self, layer_name: str, version: int) -> None:
        self.client.delete_layer_version(LayerName=layer_name, VersionNumber=version)
