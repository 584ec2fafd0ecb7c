"""The one safety gate every stored treatment plan passes: at creation, edit, signing, amendment,
on its page and before a session is recorded from it.

A plan passes when:
- its screening is signed, current for the patient (no correction and no newer screening of
  the patient), made with the knowledge base in force (same hash), and its outcome permits
  treatment with every treatment-blocking action recorded as done;
- the planner, given the request the plan carries, makes it without refusal: known zones and
  product, no ingredient the screening excludes (unless every action lifting the exclusion is
  done), no first session before the screening's ``earliest_date``, every cap of the product
  kept (volume per point, volume per session, dose per session, depth range);
- and what is stored is exactly what the planner makes from that request: every point, volume,
  dose, depth and date. A document is never taken from a client; the planner makes it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

from mesoscreen.domain.comparison import first_difference
from mesoscreen.domain.errors import ConflictError, PlanError
from mesoscreen.domain.planner.request import PlanRequest, request_from_json
from mesoscreen.domain.reasons import Reason, problem
from mesoscreen.domain.records import PlanRecord, Screening
from mesoscreen.services.ports import Planner, UnitOfWork
from mesoscreen.services.recording import every_record
from mesoscreen.services.required_actions import done_actions


@dataclass(frozen=True, slots=True)
class GatedScreening:
    """A screening that may carry a plan, with the actions recorded as done for it."""

    screening: Screening
    done_actions: tuple[str, ...]

    @property
    def earliest_date(self) -> date | None:
        """The date before which no treatment may start (the decision's one bound)."""
        value = self.screening.decision.get("earliest_date")
        return date.fromisoformat(value) if isinstance(value, str) else None


class PlanGate:
    """Checks plans against their screening, the knowledge base in force and the planner."""

    def __init__(self, planner: Planner, knowledge_base_hash: str) -> None:
        self.planner = planner
        self.knowledge_base_hash = knowledge_base_hash

    def screening(
        self, uow: UnitOfWork, clinic_ids: Collection[str], screening_id: str
    ) -> GatedScreening:
        """The screening if it may carry a plan; ConflictError when it is unsigned, replaced or
        made with another knowledge base (the outcome and actions are the planner's to check)."""
        screening = uow.screenings.get(screening_id, clinic_ids)
        if screening.signed_at is None:
            raise ConflictError(
                f"screening '{screening.id}': must be signed by a clinician before planning",
                problems=problem(Reason.SCREENING_UNSIGNED, "screening"),
            )
        if uow.screenings.replaced(screening.id):
            raise ConflictError(
                f"screening '{screening.id}': has been corrected (expected the latest one)",
                problems=problem(Reason.SCREENING_CORRECTED, "screening"),
            )
        newer = [
            other.id
            for other in every_record(
                uow.screenings, clinic_ids, {"patient_id": screening.patient_id}
            )
            if other.created_at > screening.created_at
        ]
        if newer:
            raise ConflictError(
                f"screening '{screening.id}': a newer screening of this patient replaces it "
                f"(expected the current one, '{newer[-1]}')",
                problems=problem(Reason.SCREENING_SUPERSEDED, "screening"),
            )
        if screening.knowledge_base_hash != self.knowledge_base_hash:
            raise ConflictError(
                f"screening '{screening.id}': made with knowledge base "
                f"{screening.knowledge_base_version} ({screening.knowledge_base_hash[:19]}), "
                f"not the one in force ({self.knowledge_base_hash[:19]}); screen the patient "
                "again",
                problems=problem(Reason.SCREENING_OTHER_KNOWLEDGE_BASE, "screening"),
            )
        return GatedScreening(screening, tuple(done_actions(uow, screening, clinic_ids)))

    def build(
        self,
        uow: UnitOfWork,
        clinic_ids: Collection[str],
        screening_id: str,
        request: PlanRequest,
    ) -> tuple[GatedScreening, dict[str, object]]:
        """The screening and the plan document the planner makes for ``request`` from it;
        PlanError or ConflictError saying why not."""
        gated = self.screening(uow, clinic_ids, screening_id)
        plan = self.planner.plan(request, gated.screening.decision, gated.done_actions)
        return gated, plan.as_dict()

    def check(
        self, uow: UnitOfWork, clinic_ids: Collection[str], plan: PlanRecord
    ) -> GatedScreening:
        """The plan's screening if the stored plan passes the gate (module doc); PlanError
        naming the refused field, or ConflictError, otherwise."""
        document = plan.document
        if not isinstance(document, Mapping):
            raise PlanError(
                f"plan '{plan.id}' 'document': not a JSON object",
                field="document",
                problems=problem(Reason.PLAN_UNREADABLE, "document"),
            )
        request = request_from_json(document.get("request"))
        gated = self.screening(uow, clinic_ids, plan.screening_id)
        made = self.planner.plan(request, gated.screening.decision, gated.done_actions)
        difference = first_difference(document, made.as_dict())
        if difference is not None:
            field = difference.split(":", 1)[0]
            raise PlanError(
                f"plan '{plan.id}' '{field}': the stored plan is not what the planner makes "
                f"from its request ({difference}); make the plan again from its request",
                field=field,
                problems=problem(Reason.PLAN_NOT_REPRODUCED, field),
            )
        return gated
