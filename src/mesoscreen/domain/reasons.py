"""Why a request was refused, as machine reason codes that an edge turns into words.

An error of ``domain.errors`` carries ``problems``: each a ``Problem`` of one ``Reason``, the
refused field (a request or form field, when there is one) and the values the words need
(``params``: a limit, a date, an ingredient id). The API sends them as they are, beside the
error's ``code``; the web pages say them in the reader's language with the field's label and
the knowledge base's names for ids (``entrypoints/web/error_words.py``). A test fails when a
reason has no words in a language.

An error raised without problems still has one: its class code (``Reason(error.code)``) on
its field, so every refusal a page shows is said in words, the specific ones more precisely.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType

# A param is a value words can carry: text (often an id the edge names), a number or a date;
# a tuple is a list the edge joins.
Param = str | int | float | date | datetime | tuple[str, ...]


class Reason(StrEnum):
    """Every reason a refusal can give; the values are stable codes clients may rely on."""

    # One per error class: the reason of an error raised without a more precise one.
    MESOSCREEN_ERROR = "mesoscreen_error"
    INVALID_INPUT = "invalid_input"
    INVALID_INTAKE = "invalid_intake"
    INVALID_POLICY = "invalid_policy"
    INVALID_PLAN = "invalid_plan"
    INVALID_FHIR = "invalid_fhir"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    TOO_LARGE = "too_large"
    INVALID_KNOWLEDGE_BASE = "invalid_knowledge_base"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    CONSENT_REQUIRED = "consent_required"
    DUPLICATE_REQUEST = "duplicate_request"
    FORBIDDEN = "forbidden"
    INVALID_HOOK_REQUEST = "invalid_hook_request"
    BODY_TOO_LARGE = "body_too_large"
    WEAK_PASSWORD = "weak_password"  # noqa: S105 (a reason code, not a password)
    IF_MATCH_REQUIRED = "if_match_required"
    CSRF_FAILED = "csrf_failed"
    STALE_VERSION = "stale_version"
    USERNAME_UNAVAILABLE = "username_unavailable"
    AUDIT_LOG_ALTERED = "audit_log_altered"

    # A field's value.
    REQUIRED = "required"
    NOT_A_NUMBER = "not_a_number"
    NOT_A_DATE = "not_a_date"
    NOT_A_MOMENT = "not_a_moment"
    OUT_OF_RANGE = "out_of_range"  # params: low, high, got, unit
    TOO_LONG = "too_long"  # params: most, got
    NOT_A_CHOICE = "not_a_choice"  # the value is none of the offered choices
    IN_THE_FUTURE = "in_the_future"  # params: got
    AFTER_SCREENING_DATE = "after_screening_date"  # params: got, screening
    TOO_MANY_ITEMS = "too_many_items"  # params: most, got
    BEFORE_BIRTH = "before_birth"  # params: got
    BEFORE_ONSET = "before_onset"  # params: got
    OTHER_PATIENTS_RECORD = "other_patients_record"  # a session, plan or measure of another
    NOT_EDITABLE = "not_editable"
    BOTH_DEPTHS_NEEDED = "both_depths_needed"
    PASSWORD_TOO_SHORT = "password_too_short"  # noqa: S105 (a reason code); params: least
    PASSWORD_TOO_LONG = "password_too_long"  # noqa: S105 (a reason code); params: most
    PASSWORD_TOO_COMMON = "password_too_common"  # noqa: S105 (a reason code, not a password)

    # The screening a plan or a consent rests on.
    SCREENING_UNSIGNED = "screening_unsigned"
    SCREENING_CORRECTED = "screening_corrected"
    SCREENING_SUPERSEDED = "screening_superseded"
    SCREENING_OTHER_KNOWLEDGE_BASE = "screening_other_knowledge_base"
    OUTCOME_FORBIDS_TREATMENT = "outcome_forbids_treatment"  # params: outcome
    ACTIONS_NOT_DONE = "actions_not_done"  # params: actions

    # The plan.
    INGREDIENT_EXCLUDED = "ingredient_excluded"  # params: product, ingredient, finding
    INGREDIENT_EXCLUDED_UNTIL_DONE = "ingredient_excluded_until_done"  # and: open (actions)
    BEFORE_EARLIEST_DATE = "before_earliest_date"  # params: got, earliest
    UNKNOWN_ZONE = "unknown_zone"
    UNKNOWN_STAGE = "unknown_stage"
    NO_ZONE_CHOSEN = "no_zone_chosen"
    NO_POINT_FITS = "no_point_fits"  # params: spacing_cm
    UNKNOWN_PRODUCT = "unknown_product"
    AMBIGUOUS_PRODUCT = "ambiguous_product"
    OVER_PRODUCT_LIMIT = "over_product_limit"  # params: got, most, unit, product
    DEPTH_OUTSIDE_LIMITS = "depth_outside_limits"  # params: low, high, product
    PLAN_NOT_REPRODUCED = "plan_not_reproduced"
    PLAN_UNREADABLE = "plan_unreadable"
    PLAN_FAILS_GATE = "plan_fails_gate"  # a session's plan no longer passes the plan gate
    PLAN_NOT_SIGNED = "plan_not_signed"

    # Photos and drawn signatures.
    PHOTO_TOO_LARGE = "photo_too_large"  # params: most_mb
    PHOTO_TOO_MANY_PIXELS = "photo_too_many_pixels"  # params: most
    PHOTO_NOT_AN_IMAGE = "photo_not_an_image"
    PHOTO_DAMAGED = "photo_damaged"
    PHOTO_TYPE_MISMATCH = "photo_type_mismatch"
    NO_PHOTO_ON_DATE = "no_photo_on_date"  # params: view, got
    NOT_SAME_PATIENT_OR_VIEW = "not_same_patient_or_view"
    SIGNATURE_NOT_A_DRAWING = "signature_not_a_drawing"

    # Consent.
    CONSENT_MISSING = "consent_missing"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    CONSENT_OLD_TEMPLATE = "consent_old_template"  # params: version
    CONSENT_TEMPLATE_CHANGED = "consent_template_changed"  # params: version
    CONSENT_TEMPLATE_MISSING = "consent_template_missing"
    DECLARATION_UNCONFIRMED = "declaration_unconfirmed"
    SIGNATURE_NAME_MISMATCH = "signature_name_mismatch"
    ALREADY_COUNTERSIGNED = "already_countersigned"
    ALREADY_WITHDRAWN = "already_withdrawn"

    # Records (drafts, signatures, corrections).
    ALREADY_SIGNED = "already_signed"
    SIGNED_NOT_EDITED = "signed_not_edited"
    DRAFT_NOT_AMENDED = "draft_not_amended"
    ALREADY_CORRECTED = "already_corrected"

    # Sessions, adverse events, actions, measures.
    PRODUCT_EXPIRED = "product_expired"  # params: product, lot, expiry
    EVENT_NEEDS_WHAT = "event_needs_what"
    ACTION_NOT_REQUIRED = "action_not_required"
    CLEARANCE_NEEDS_WHO_AND_WHEN = "clearance_needs_who_and_when"
    MEASURE_NEEDS_A_VALUE = "measure_needs_a_value"
    COUNT_NEEDS_AREA = "count_needs_area"

    # Accounts and patients.
    OWN_ROLE = "own_role"
    OWN_ACCOUNT_DISABLED = "own_account_disabled"
    OTHER_CLINICS_USER = "other_clinics_user"
    NO_CLINIC = "no_clinic"
    CLINIC_NAME_TAKEN = "clinic_name_taken"
    KEY_REUSED = "key_reused"


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a request was refused: the code, the field it concerns, the words' values."""

    code: Reason
    field: str | None = None
    params: Mapping[str, Param] = dataclasses.field(default_factory=lambda: MappingProxyType({}))

    def as_dict(self) -> dict[str, object]:
        """The problem as JSON: dates as ISO text, lists as lists."""

        def plain(value: Param) -> object:
            if isinstance(value, date | datetime):
                return value.isoformat()
            return list(value) if isinstance(value, tuple) else value

        return {
            "code": self.code.value,
            "field": self.field,
            "params": {name: plain(value) for name, value in self.params.items()},
        }


def problem(code: Reason, field: str | None = None, **params: Param) -> tuple[Problem, ...]:
    """A one-problem tuple, as errors take them: ``problems=problem(Reason.REQUIRED, 'x')``."""
    return (Problem(code, field, MappingProxyType(params)),)


def class_problem(classes: tuple[type, ...], field: str | None) -> Problem:
    """The problem of an error raised without one: the code of its nearest class that has a
    reason (an error class outside this list falls back to its parent's)."""
    for kind in classes:
        try:
            return Problem(Reason(str(getattr(kind, "code", ""))), field)
        except ValueError:
            continue
    return Problem(Reason.MESOSCREEN_ERROR, field)
