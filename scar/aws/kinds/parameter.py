"""Storage credentials as SSM SecureStrings, one per provider and function. Planning never decrypts them:
each parameter's description carries a salted PBKDF2 digest of its value, and the wanted value is compared
with that. Only an update, or a deletion that `init` may undo, reads the old value (into memory) so that the
undo can put it back; `rm` deletes without reading it."""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

from botocore.exceptions import ClientError

from scar.aws.errors import error_code
from scar.aws.provider import AwsProvider
from scar.aws.tags import TAG_CREATED_BY
from scar.deploy.kind import Kind, Resource, register
from scar.deploy.model import Action, Call, Change, ResourceId, Step
from scar.package.function_config import SECRET_PARAMETER

KIND = "credentials"
DESCRIPTION = "storage credentials of a scar function"
_ITERATIONS = 100_000
_ALGORITHM = "pbkdf2-sha256"


def function_path(function: str) -> str:
    return SECRET_PARAMETER.format(function=function, reference="").rstrip("/")


def digest(value: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else os.urandom(16)
    derived = hashlib.pbkdf2_hmac("sha256", value.encode(), salt, _ITERATIONS)
    return f"{_ALGORITHM}:{_ITERATIONS}:{salt.hex()}:{derived.hex()}"


def matches(value: str, description: str) -> bool:
    """Whether `description` carries the digest of `value`."""
    stored = description.rsplit(" ", 1)[-1]
    parts = stored.split(":")
    if len(parts) != 4 or parts[0] != _ALGORITHM or not parts[1].isdigit():
        return False
    try:
        salt = bytes.fromhex(parts[2])
    except ValueError:
        return False
    derived = hashlib.pbkdf2_hmac("sha256", value.encode(), salt, int(parts[1])).hex()
    return hmac.compare_digest(derived, parts[3])


def stored_parameters(provider: AwsProvider, function: str) -> dict[str, str]:
    """Name → description of the function's parameters (DescribeParameters: no value is read)."""

    def read() -> dict[str, str]:
        found = {}
        paginator = provider.ssm.get_paginator("describe_parameters")
        for page in paginator.paginate(ParameterFilters=[
                {"Key": "Path", "Option": "Recursive", "Values": [function_path(function)]}]):
            for parameter in page.get("Parameters", ()):
                found[parameter["Name"]] = parameter.get("Description", "")
        return found

    return provider.once(("parameters", function), read)


@register("aws")
class Parameter(Kind):
    """Named by the parameter, with the function as parent. Wanted state: Value (the credentials as JSON)."""

    kind = KIND
    secret_fields = frozenset({"Value"})

    def __init__(self, provider: AwsProvider) -> None:
        self.provider = provider

    def label(self, rid: ResourceId, action: Action) -> str:
        return f"credentials {rid.name}"

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        name = {"Name": rid.name}
        return {Action.CREATE: (Call("ssm", "PutParameter", name),),
                Action.UPDATE: (Call("ssm", "GetParameter", name), Call("ssm", "PutParameter", name)),
                Action.DELETE: (Call("ssm", "DeleteParameter", name),)
                }.get(action, ())

    def read(self, rid: ResourceId) -> dict[str, Any] | None:
        description = stored_parameters(self.provider, rid.parent).get(rid.name)
        return None if description is None else {"Description": description}

    def plan(self, resource: Resource, current: dict[str, Any] | None, known: Any) -> list[Step]:
        rid, value = resource.id, resource.desired["Value"]
        if current is None:
            return [self.step(rid, Action.CREATE, resource.desired, None, detail="SecureString")]
        if matches(value, current["Description"]):
            return [self.step(rid, Action.UNCHANGED, resource.desired, current, detail="SecureString")]
        return [self.step(rid, Action.UPDATE, resource.desired, current, detail="SecureString (new value)",
                          changes=(Change("Value", "", value, secret=True),))]

    def _put(self, name: str, value: str, description: str, overwrite: bool) -> None:
        kwargs: dict[str, Any] = {"Overwrite": True} if overwrite else {
            "Tags": [{"Key": TAG_CREATED_BY, "Value": "scar"}]}
        self.provider.ssm.put_parameter(Name=name, Value=value, Type="SecureString", Description=description,
                                        **kwargs)

    def _value(self, name: str) -> str:
        return self.provider.ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]

    def create(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        value = desired["Value"]
        self._put(step.resource.name, value, f"{DESCRIPTION} {digest(value)}", overwrite=False)
        outputs["created"] = True

    def update(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        outputs["previous"] = self._value(step.resource.name)  # in memory only, for the undo
        value = desired["Value"]
        self._put(step.resource.name, value, f"{DESCRIPTION} {digest(value)}", overwrite=True)

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        self._delete(step.resource.name, outputs, keep_previous=True)

    def delete_for_good(self, step: Step, outputs: dict[str, Any]) -> None:
        self._delete(step.resource.name, outputs, keep_previous=False)  # `rm`: no undo, so no decryption

    def _delete(self, name: str, outputs: dict[str, Any], keep_previous: bool) -> None:
        try:
            if keep_previous:
                outputs["previous"] = self._value(name)
            self.provider.ssm.delete_parameter(Name=name)
        except ClientError as err:
            if error_code(err) != "ParameterNotFound":
                raise
        outputs["deleted"] = True

    def undo(self, step: Step, outputs: dict[str, Any]) -> None:
        if step.action is Action.CREATE and outputs.get("created"):
            self.delete(step, {})
        elif "previous" in outputs:  # an update or a deletion that read the old value
            overwrite = step.action is Action.UPDATE
            self._put(step.resource.name, outputs["previous"], step.current["Description"], overwrite)
