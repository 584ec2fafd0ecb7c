"""Record outputs are derived from the record declarations: every field a record declares is
shown by the API or named as left out with why, so the two cannot drift apart."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import pytest
from pydantic import BaseModel

import mesoscreen.entrypoints.api.photo_schemas
import mesoscreen.entrypoints.api.schemas
from mesoscreen.domain import audit, records
from mesoscreen.domain.access import Role
from mesoscreen.domain.records import Clinic, JsonList, JsonObject, Patient, Screening, User
from mesoscreen.entrypoints.api.record_schemas import RecordOut, json_shaped
from mesoscreen.entrypoints.api.schemas import PatientOut, ScreeningOut, UserOut

# Record declarations the API shows no output of, and why.
NOT_SERVED = {
    records.AuthSession: "sign-in sessions never leave the server",
    records.LoginThrottle: "failed sign-ins never leave the server",
    records.LiveSessionBounds: "the live-session rule's cut-offs, computed per check, never stored",
    records.ConsentWithdrawal: "shown inside ConsentOut (withdrawn_at, withdrawal_reason)",
    records.SignedFields: "part of every signable record, not a record of its own",
    records.Page: "shown as PageOut around the records",
}
MODULES = (mesoscreen.entrypoints.api.schemas, mesoscreen.entrypoints.api.photo_schemas)
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
CLINIC = Clinic("c1", "North", NOW)


def record_outputs() -> dict[type[Any], type[RecordOut]]:
    """The API's record outputs (those of the schema modules), by the record each shows."""
    found: dict[type[Any], type[RecordOut]] = {}
    pending = [RecordOut]
    while pending:
        schema = pending.pop()
        pending.extend(schema.__subclasses__())
        if schema.__module__ in {module.__name__ for module in MODULES}:
            assert schema.declared_record not in found, f"two outputs of {schema.declared_record}"
            found[schema.declared_record] = schema
    return found


def _declared_records() -> set[type[Any]]:
    """Every dataclass declared in the records and audit modules."""
    return {
        value
        for module in (records, audit)
        for value in vars(module).values()
        if inspect.isclass(value)
        and dataclasses.is_dataclass(value)
        and value.__module__ == module.__name__
    }


def _unaccounted(
    record: type[Any], schema: type[BaseModel], left_out: Mapping[str, str]
) -> set[str]:
    """The record's fields that ``schema`` neither shows nor names as left out."""
    return {f.name for f in dataclasses.fields(record)} - set(schema.model_fields) - set(left_out)


def test_every_record_the_api_serves_has_an_output_derived_from_it() -> None:
    """Each record dataclass has a derived output, or is named here as not served, with why."""
    served = set(record_outputs())
    assert served | set(NOT_SERVED) == _declared_records()
    assert not served & set(NOT_SERVED)
    assert {schema.__name__ for schema in record_outputs().values()} >= {
        "ClinicOut", "UserOut", "PatientOut", "ScreeningOut", "ActionOut", "PlanOut",
        "TreatmentSessionOut", "AdverseEventOut", "ConsentOut", "PhotoOut",
        "OutcomeMeasureOut", "AuditEntryOut",
    }  # fmt: skip


def test_every_field_of_every_record_is_shown_or_named_left_out_with_why() -> None:
    """No record field is missing silently from its output; each left-out one says why."""
    for record, schema in record_outputs().items():
        assert _unaccounted(record, schema, schema.left_out) == set(), schema.__name__
        assert all(why.strip() for why in schema.left_out.values()), schema.__name__
        assert not set(schema.left_out) & set(schema.model_fields), schema.__name__


def test_the_check_catches_a_gained_field_a_hand_written_schema_forgot() -> None:
    """A record that gains a field is flagged against a schema that lists fields by hand."""

    @dataclasses.dataclass(frozen=True)
    class Room:
        id: str
        name: str

    grown = dataclasses.make_dataclass("Room", [("floor", int)], bases=(Room,), frozen=True)

    class HandWritten(BaseModel):
        id: str
        name: str

    assert _unaccounted(Room, HandWritten, {}) == set()
    assert _unaccounted(grown, HandWritten, {}) == {"floor"}
    assert _unaccounted(grown, HandWritten, {"floor": "not shown"}) == set()


def test_a_field_a_record_gains_is_shown_unless_named_left_out() -> None:
    """The derived output follows the record: a new field shows at once, or is left out."""
    grown = dataclasses.make_dataclass("Clinic", [("region", str)], bases=(Clinic,), frozen=True)

    class GrownOut(RecordOut, record=grown):
        """A clinic with a region."""

    class QuietOut(RecordOut, record=grown, left_out={"region": "kept inside"}):
        """A clinic, region left out."""

    clinic_fields = [f.name for f in dataclasses.fields(Clinic)]
    assert list(GrownOut.model_fields) == [*clinic_fields, "region"]
    assert list(QuietOut.model_fields) == clinic_fields
    clinic = grown(**{f.name: getattr(CLINIC, f.name) for f in dataclasses.fields(Clinic)},
                   region="Hanoi")  # fmt: skip
    assert GrownOut.of(clinic).model_dump()["region"] == "Hanoi"
    assert "region" not in QuietOut.of(clinic).model_dump()


def test_leaving_out_a_name_the_record_does_not_declare_is_refused() -> None:
    """A misspelt or renamed field to leave out fails at once, naming it: it would otherwise
    stop hiding the field it meant."""
    with pytest.raises(TypeError, match="'pasword_hash' must be a field of User"):

        class _Out(RecordOut, record=User, left_out={"pasword_hash": "a secret"}):
            """Misspelt."""


def test_a_record_field_named_like_an_outputs_class_variable_is_refused() -> None:
    """A record with a field called ``left_out`` (or any name an output keeps for itself)
    fails at once instead of having its field silently replaced by the class variable."""

    @dataclass(frozen=True)
    class Clashing:
        id: str
        left_out: str

    with pytest.raises(TypeError, match="declares left_out, a name the output keeps"):

        class _Out(RecordOut, record=Clashing):
            """Clashes."""


def test_a_field_left_out_without_a_reason_or_also_annotated_is_refused() -> None:
    """Left out means saying why, and never also showing it."""
    with pytest.raises(TypeError, match="must say why"):

        class _Silent(RecordOut, record=Clinic, left_out={"name": " "}):
            """No reason."""

    with pytest.raises(TypeError, match="both left out and annotated"):

        class _Both(RecordOut, record=Clinic, left_out={"name": "private"}):
            """Both."""

            name: str


def test_record_types_are_shown_json_shaped() -> None:
    """Mappings become objects, sequences and frozensets lists, inside optionals too."""
    assert json_shaped(JsonObject) == dict[str, Any]
    assert json_shaped(JsonList) == list[dict[str, Any]]
    assert json_shaped(frozenset[str]) == list[str]
    assert json_shaped(JsonObject | None) == dict[str, Any] | None
    assert json_shaped(Mapping[str, str]) == dict[str, str]
    assert json_shaped(str | None) == str | None
    assert json_shaped(str) is str
    assert json_shaped(Role) is Role


def test_of_takes_read_only_mappings_and_tuples_and_sorts_sets() -> None:
    """A record's read-only mappings and tuples of them come out as objects and lists, and a
    set's members sorted."""
    consent_doc = MappingProxyType({"sections": ("risks",)})
    screening = Screening(
        id="s1", clinic_id="c1", patient_id="p1", screening_date=NOW.date(), outcome="eligible",
        answers=MappingProxyType({"age": 40}), decision=consent_doc, knowledge_base_version="1",
        knowledge_base_hash="h", policy=MappingProxyType({}), replaces_id=None,
        created_by="u1", created_at=NOW,
    )  # fmt: skip
    shown = ScreeningOut.of(screening).model_dump(mode="json")
    assert shown["answers"] == {"age": 40}
    assert shown["decision"] == {"sections": ["risks"]}
    members = frozenset(f"c{n}" for n in range(40))  # iterated in hash order, not sorted
    assert list(members) != sorted(members)
    user = User("u1", "lan", Role.NURSE, members, "h", False, NOW)
    assert UserOut.of(user).clinic_ids == sorted(members)


def test_an_account_is_shown_without_its_password_hash_and_with_sorted_clinics() -> None:
    """The hash is in neither the output's fields nor its JSON; clinics come sorted."""
    user = User("u1", "lan", Role.NURSE, frozenset({"c2", "c1"}), "$argon2id$hash", False, NOW)
    shown = UserOut.of(user, in_other_clinics=True).model_dump(mode="json")
    assert "password_hash" not in UserOut.model_json_schema()["properties"]
    assert "$argon2id$hash" not in str(shown)
    assert shown["clinic_ids"] == ["c1", "c2"]
    assert shown["in_other_clinics"] is True


def test_outputs_list_record_fields_in_order_signed_fields_last_then_what_the_api_adds() -> None:
    """A screening shows its own fields, then signed_by, signed_at, version, then replaced."""
    own = [f.name for f in dataclasses.fields(Screening) if f.kw_only is not True]
    assert list(ScreeningOut.model_fields) == [*own, "signed_by", "signed_at", "version",
                                               "replaced"]  # fmt: skip


def test_an_annotation_under_a_record_fields_name_reshapes_it_in_place() -> None:
    """PatientOut's intake may be None (left out for the front desk) and stays in place."""
    patient_fields = [f.name for f in dataclasses.fields(Patient)]
    shown = [name for name in PatientOut.model_fields if name in patient_fields]
    assert shown == [name for name in patient_fields if name != "created_by"]
    assert PatientOut.model_fields["intake"].is_required()
    assert not PatientOut.model_fields["language"].is_required()
    patient = Patient("p1", "c1", "Tran", "Minh", None, None, None, {"a": 1}, False, "u1",
                      NOW, NOW)  # fmt: skip
    assert PatientOut.of(patient, intake=None).intake is None
