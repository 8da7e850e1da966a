"""Who is calling (STS): the account id and the owner name scar tags its resources with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str

    @property
    def owner(self) -> str:
        """The IAM user or role name behind the credentials (an assumed role's session name is left out,
        so every session of the same role owns the same functions)."""
        resource = self.arn.split(":", 5)[-1]
        kind, _, rest = resource.partition("/")
        if kind == "assumed-role":
            return rest.split("/", 1)[0]
        return rest.rsplit("/", 1)[-1] if rest else resource


def caller_identity(sts_client: Any) -> Identity:
    answer = sts_client.get_caller_identity()
    return Identity(answer["Account"], answer["Arn"])
