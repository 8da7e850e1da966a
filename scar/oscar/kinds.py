"""The OSCAR resource kinds (family "oscar"): a service, read with GET /system/services/{name}, created
with POST, updated with PUT (the whole service), deleted with DELETE (404: already absent)."""

from __future__ import annotations

from typing import Any

from scar.deploy.kind import Kind, register
from scar.deploy.model import Action, Call, ResourceId, Step
from scar.oscar.client import OscarError
from scar.oscar.provider import OscarProvider
from scar.oscar.service import comparable

SERVICE_KIND = "oscar service"


@register("oscar")
class OscarService(Kind):
    kind = SERVICE_KIND
    secret_fields = frozenset({"storage_providers"})

    def __init__(self, provider: OscarProvider) -> None:
        self.provider = provider

    def read(self, rid: ResourceId) -> dict[str, Any] | None:
        answer = self.provider.client.get_service(rid.name)
        return None if answer is None else comparable(answer)

    def label(self, rid: ResourceId, action: Action) -> str:
        return f"oscar service {rid.name} ({self.provider.cluster.cluster_id})"

    def describe(self, desired: dict[str, Any]) -> str:
        return f"{desired['image']}, {desired['memory']}, {desired['cpu']} cpu"

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        cluster = {"cluster": self.provider.cluster.cluster_id}
        return {Action.CREATE: (Call("oscar", "POST /system/services", {**cluster, "name": rid.name}),),
                Action.UPDATE: (Call("oscar", "PUT /system/services", {**cluster, "name": rid.name}),),
                Action.DELETE: (Call("oscar", f"DELETE /system/services/{rid.name}", cluster),)}.get(action, ())

    def create(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        try:
            self.provider.client.create_service(desired)
        except OscarError as err:
            if err.status is None:  # no answer (a timeout): it may exist, so the undo deletes it (404 is fine)
                outputs["maybe_created"] = True
            raise
        outputs["created"] = True

    def update(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        self.provider.client.update_service(desired)

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        self.provider.client.delete_service(step.resource.name)
        outputs["deleted"] = True
