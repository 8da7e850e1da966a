"""Storage credentials kept in SSM Parameter Store as SecureStrings, one parameter per provider and
function, resolved by the supervisor at run time: the function's package, its environment and its
configuration only ever hold the parameter's name."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from scar.aws.deploy import CREATE, DELETE, UNCHANGED, UPDATE, Journal, Step
from scar.aws.errors import error_code
from scar.package.function_config import SECRET_PARAMETER, secret_parameter


def function_path(function: str) -> str:
    return SECRET_PARAMETER.format(function=function, reference="")


class SecretsPlanner:
    def __init__(self, ssm: Any) -> None:
        self.ssm = ssm

    def steps(self, function: str, secrets: dict[str, dict[str, str]]) -> list[Step]:
        wanted = {secret_parameter(function, reference): json.dumps(values, sort_keys=True)
                  for reference, values in secrets.items()}
        existing = self._existing(function)
        steps = [self._step(name, value, existing.get(name)) for name, value in wanted.items()]
        steps += [self._delete_step(name, value) for name, value in existing.items() if name not in wanted]
        return steps

    def _existing(self, function: str) -> dict[str, str]:
        found = {}
        paginator = self.ssm.get_paginator("get_parameters_by_path")
        for page in paginator.paginate(Path=function_path(function).rstrip("/"), Recursive=True,
                                       WithDecryption=True):
            for parameter in page.get("Parameters", ()):
                found[parameter["Name"]] = parameter["Value"]
        return found

    def _step(self, name: str, value: str, current: str | None) -> Step:
        resource = f"credentials {name}"
        if current == value:
            return Step(resource, UNCHANGED, "SecureString")
        if current is None:
            def create(journal: Journal) -> None:
                self.ssm.put_parameter(Name=name, Value=value, Type="SecureString",
                                       Description="storage credentials of a scar function",
                                       Tags=[{"Key": "createdby", "Value": "scar"}])
                journal.record(resource, lambda: delete_parameters(self.ssm, [name]))

            return Step(resource, CREATE, "SecureString", create)

        def update(journal: Journal) -> None:
            self.ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
            journal.record(resource, lambda: self.ssm.put_parameter(Name=name, Value=current, Type="SecureString",
                                                                    Overwrite=True))

        return Step(resource, UPDATE, "SecureString (new value)", update)

    def _delete_step(self, name: str, value: str) -> Step:
        def delete(journal: Journal) -> None:
            delete_parameters(self.ssm, [name])
            journal.record(f"credentials {name}", lambda: self.ssm.put_parameter(
                Name=name, Value=value, Type="SecureString"))

        return Step(f"credentials {name}", DELETE, "no longer used", delete)


def delete_parameters(ssm: Any, names: list[str]) -> int:
    """Delete parameters (absent ones are fine); how many existed."""
    deleted = 0
    for start in range(0, len(names), 10):
        answer = ssm.delete_parameters(Names=names[start:start + 10])
        deleted += len(answer.get("DeletedParameters", ()))
    return deleted


def remove_function_secrets(ssm: Any, function: str) -> list[tuple[str, str]]:
    try:
        names = list(SecretsPlanner(ssm)._existing(function))
    except ClientError as err:
        if error_code(err) in ("AccessDeniedException",):
            return [(f"credentials {function_path(function)}*", f"not checked ({error_code(err)})")]
        raise
    delete_parameters(ssm, names)
    return [(f"credentials {name}", "removed") for name in names]
