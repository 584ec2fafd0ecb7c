"""Stored plan documents: compared with the plan made again, and read for pages without trust."""

from __future__ import annotations

import contextlib
import copy
import json
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mesoscreen.domain.comparison import first_difference
from mesoscreen.domain.errors import PlanError
from mesoscreen.domain.planner.documents import read_summary
from mesoscreen.domain.planner.plan import PlanRequest
from mesoscreen.domain.planner.request import request_from_json
from mesoscreen.knowledge import default_knowledge_base
from mesoscreen.knowledge.planning_loader import default_atlas, default_formulary
from mesoscreen.services.planning import PlanningService

PLANNER = PlanningService(default_atlas(), default_formulary(default_knowledge_base()))
REQUEST = PlanRequest((), "norwood-1", 1.0, "dutasteride_0_01", date(2026, 12, 1))
DOCUMENT = json.loads(json.dumps(PLANNER.plan(REQUEST, None).as_dict()))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def test_a_document_through_json_equals_the_plan_made_again_from_its_request() -> None:
    """The request a plan carries makes the same plan: the basis of the gate's re-check."""
    again = PLANNER.plan(request_from_json(DOCUMENT["request"]), None).as_dict()
    assert first_difference(DOCUMENT, again) is None


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (["points", 3, "volume_ml"], 0.5, "points[3].volume_ml: stored 0.5, planner 0.01"),
        (["depth_mm", 1], 9.5, "depth_mm[1]: stored 9.5, planner 2.0"),
        (["total_volume_ml"], 382, "total_volume_ml: stored 382"),
        (["dose", "total_dose"], None, "dose.total_dose: stored None"),
        (["screening_checked"], 1, "screening_checked: stored 1, planner False"),
    ],
)
def test_any_edited_figure_is_named_with_both_values(
    path: list[Any], value: object, expected: str
) -> None:
    """Volumes, depths, doses, flags: the first difference names where and what."""
    edited = copy.deepcopy(DOCUMENT)
    target = edited
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    found = first_difference(edited, DOCUMENT)
    assert found is not None
    assert found.startswith(expected)


def test_a_point_removed_or_a_field_added_is_a_difference() -> None:
    """Fewer points, or a field the planner does not make, never pass."""
    fewer = copy.deepcopy(DOCUMENT)
    fewer["points"].pop()
    assert first_difference(fewer, DOCUMENT) == "points: stored a list of 54, planner a list of 55"
    extra = copy.deepcopy(DOCUMENT) | {"approved": True}
    assert first_difference(extra, DOCUMENT) == "document.approved: not a field planner makes"
    assert (
        first_difference({"points": []}, DOCUMENT)
        == "document.request: missing from the stored plan"
    )


def test_the_summary_of_a_planner_document_has_its_figures() -> None:
    """Points, volume, dose in mg, depth, product and calendar."""
    summary = read_summary(DOCUMENT)
    assert summary.point_count == 55
    assert summary.total_volume_ml == pytest.approx(0.55)
    assert summary.total_dose == pytest.approx(0.055)
    assert summary.dose_unit == "mg"
    assert summary.depth_mm == (1.5, 2.0)
    assert summary.product_name_in("vi") == "Dutasterid 0,01%"
    assert summary.sessions[0].day == date(2026, 12, 1)


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"points": []}, "depth_mm"),
        ([], "document"),
        (DOCUMENT | {"sessions": [{"number": 1}]}, "sessions"),
        (DOCUMENT | {"point_count": "55"}, "point_count"),
        (DOCUMENT | {"point_count": True}, "point_count"),
        (DOCUMENT | {"product": {"name": "x"}}, "product.name"),
    ],
)
def test_a_malformed_document_is_refused_naming_the_field(document: object, field: str) -> None:
    """The page shows the message; nothing fails on the shape."""
    with pytest.raises(PlanError) as refused:
        read_summary(document)
    assert refused.value.field == field


@given(json_values)
def test_reading_any_json_gives_a_summary_or_a_plan_error(document: object) -> None:
    """Whatever a database row holds, reading it never raises anything else."""
    with contextlib.suppress(PlanError):
        read_summary(document)


@given(st.dictionaries(st.sampled_from(list(DOCUMENT)), json_values, max_size=6))
def test_a_planner_document_with_any_fields_replaced_reads_or_is_refused(
    replaced: dict[str, Any],
) -> None:
    """Near-valid documents (one field of each kind swapped) read or refuse, never crash."""
    with contextlib.suppress(PlanError):
        read_summary(DOCUMENT | replaced)


def _numeric_paths(value: object, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _numeric_paths(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _numeric_paths(v, (*path, i))]
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return [path] if is_number else []


NUMERIC_PATHS = _numeric_paths(DOCUMENT)


@given(st.sampled_from(NUMERIC_PATHS), st.floats(allow_nan=False, allow_infinity=False))
def test_any_number_changed_anywhere_in_a_plan_is_caught(path: tuple[Any, ...], new: float) -> None:
    """Every figure of a stored plan is compared: change one and the gate sees it (or the
    value was unchanged)."""
    edited = copy.deepcopy(DOCUMENT)
    target = edited
    for part in path[:-1]:
        target = target[part]
    old = target[path[-1]]
    target[path[-1]] = new
    found = first_difference(edited, DOCUMENT)
    assert (found is None) == (abs(new - old) <= 1e-9 * max(abs(new), abs(old)) + 1e-12)
