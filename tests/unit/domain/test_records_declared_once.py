"""The draft/signed fields are declared once, on ``SignedFields``, for every signable record."""

from __future__ import annotations

import inspect
from dataclasses import fields, is_dataclass

from mesoscreen.domain import records
from mesoscreen.domain.planner import plan
from mesoscreen.domain.records import SignedFields

SIGNED = {"signed_by", "signed_at", "version"}


def _record_classes() -> list[type]:
    return [k for _, k in inspect.getmembers(records, inspect.isclass)
            if is_dataclass(k) and k.__module__ == records.__name__]  # fmt: skip


def test_every_record_with_a_signature_takes_it_from_signed_fields() -> None:
    """No record re-declares signed_by or signed_at; each that has them is a SignedFields."""
    signable = [k for k in _record_classes() if "signed_by" in {f.name for f in fields(k)}]
    assert {k.__name__ for k in signable} >= {
        "Screening", "PlanRecord", "TreatmentSession", "AdverseEvent", "Consent",
    }  # fmt: skip
    for kind in signable:
        assert issubclass(kind, SignedFields), kind
        if kind is not SignedFields:
            assert not SIGNED & set(inspect.get_annotations(kind)), kind


def test_the_stored_plan_and_the_planners_result_have_different_names() -> None:
    """PlanRecord is what is stored and signed; PlannedTreatment is what the planner makes."""
    assert hasattr(records, "PlanRecord")
    assert hasattr(plan, "PlannedTreatment")
    names = {k.__name__ for k in _record_classes()}
    planner = {k.__name__ for _, k in inspect.getmembers(plan, inspect.isclass)
               if k.__module__ == plan.__name__}  # fmt: skip
    assert names.isdisjoint(planner)
