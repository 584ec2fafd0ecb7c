"""Voids: a session, an adverse event or a plan entered in error (a duplicate, the wrong
patient) marked so with a reason; nothing is deleted or changed (``SignableRecords.void``)."""

# No ``from __future__ import annotations``: FastAPI reads each route's annotations, and the
# id's alias is a variable of the function that makes the route.
from typing import Annotated, Any

from fastapi import Path, status

from mesoscreen.bootstrap import Services
from mesoscreen.entrypoints.api.deps import PrincipalDep, ServicesDep
from mesoscreen.entrypoints.api.schemas import VoidIn, VoidOut
from mesoscreen.entrypoints.prefix_router import PrefixRouter
from mesoscreen.services.signable import SignableRecords

router = PrefixRouter(prefix="/api/v1", tags=["voids"])

# The path of each kind of record that can be voided, its id's name there (as on the kind's
# other routes) and the name of its use cases.
_KINDS = {
    "treatment-sessions": ("session_id", "treatment_sessions"),
    "adverse-events": ("event_id", "adverse_events"),
    "plans": ("plan_id", "plans"),
}


def _void_route(path: str) -> None:
    id_name, use_cases = _KINDS[path]

    def records(services: Services) -> SignableRecords[Any]:
        found: SignableRecords[Any] = getattr(services, use_cases)
        return found

    @router.post(
        f"/{path}/{{{id_name}}}/void",
        response_model=VoidOut,
        status_code=status.HTTP_201_CREATED,
        name=f"void_{path.replace('-', '_')}",
        summary=f"Void a record of {path.replace('-', ' ')} entered in error",
    )
    def void(
        record_id: Annotated[str, Path(alias=id_name)],
        body: VoidIn,
        principal: PrincipalDep,
        services: ServicesDep,
    ) -> VoidOut:
        """Void the record, with why: it stays as it was and no longer counts (lists mark it,
        the worklist leaves it out). A signed record needs a role that signs it; a record is
        voided once (409 after)."""
        return VoidOut.of(records(services).void(principal, record_id, body.reason))


for _path in _KINDS:
    _void_route(_path)
