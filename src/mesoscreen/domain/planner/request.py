"""What the clinician asks the planner for, and its JSON form (stored with every plan, so the
plan can be made again from it and compared with what was stored)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from mesoscreen.domain.errors import PlanError

# The keys of a request's JSON form; any other key is refused.
REQUEST_FIELDS = (
    "zones",
    "stage",
    "spacing_cm",
    "product",
    "first_session",
    "head_circumference_cm",
    "nasion_inion_cm",
    "ear_to_ear_cm",
    "volume_per_point_ml",
    "depth_mm",
)


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """Stage or zones, spacing, product, first session, head measures; volume per point and
    depth default to the product's (and may only stay within its caps)."""

    zones: tuple[str, ...]
    stage: str | None
    spacing_cm: float
    product: str
    first_session: date
    head_circumference_cm: float | None = None
    nasion_inion_cm: float | None = None
    ear_to_ear_cm: float | None = None
    volume_per_point_ml: float | None = None
    depth_mm: tuple[float, float] | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON form, every field present (null where the product's default applies)."""
        return {
            "zones": list(self.zones),
            "stage": self.stage,
            "spacing_cm": self.spacing_cm,
            "product": self.product,
            "first_session": self.first_session.isoformat(),
            "head_circumference_cm": self.head_circumference_cm,
            "nasion_inion_cm": self.nasion_inion_cm,
            "ear_to_ear_cm": self.ear_to_ear_cm,
            "volume_per_point_ml": self.volume_per_point_ml,
            "depth_mm": list(self.depth_mm) if self.depth_mm is not None else None,
        }


def _refuse(field: str, expected: str, got: object) -> PlanError:
    if got is None or isinstance(got, str | int | float | bool):
        shown = repr(got)[:60]
    else:
        shown = f"a {type(got).__name__}"
    return PlanError(f"'{field}': expected {expected} (got {shown})", field=field)


def _number(document: Mapping[str, Any], field: str, required: bool = False) -> float | None:
    value = document.get(field)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refuse(field, "a number", value)
    return float(value)


def request_from_json(document: object) -> PlanRequest:
    """The request in its JSON form; PlanError naming the first field that is wrong."""
    if not isinstance(document, Mapping):
        raise _refuse("request", "a JSON object", document)
    unknown = sorted(set(document) - set(REQUEST_FIELDS))
    if unknown:
        raise PlanError(
            f"'request': unknown field(s) {', '.join(map(str, unknown))} "
            f"(expected some of: {', '.join(REQUEST_FIELDS)})",
            field=str(unknown[0]),
        )
    zones = document.get("zones", [])
    if not isinstance(zones, list) or not all(isinstance(z, str) for z in zones):
        raise _refuse("zones", "a list of zone ids", zones)
    stage = document.get("stage")
    if stage is not None and not isinstance(stage, str):
        raise _refuse("stage", "a stage id or null", stage)
    product = document.get("product")
    if not isinstance(product, str) or not product:
        raise _refuse("product", "a product id or ingredient", product)
    first = document.get("first_session")
    try:
        first_session = date.fromisoformat(first) if isinstance(first, str) else None
    except ValueError:
        first_session = None
    if first_session is None:
        raise _refuse("first_session", "a date YYYY-MM-DD", first)
    depth = document.get("depth_mm")
    depth_mm: tuple[float, float] | None = None
    if depth is not None:
        if (
            not isinstance(depth, list)
            or len(depth) != 2
            or not all(isinstance(d, int | float) and not isinstance(d, bool) for d in depth)
        ):
            raise _refuse("depth_mm", "[shallowest, deepest] in mm", depth)
        depth_mm = (float(depth[0]), float(depth[1]))
    spacing = _number(document, "spacing_cm", required=True)
    assert spacing is not None  # noqa: S101 (required=True never gives None)
    return PlanRequest(
        zones=tuple(zones),
        stage=stage,
        spacing_cm=spacing,
        product=product,
        first_session=first_session,
        head_circumference_cm=_number(document, "head_circumference_cm"),
        nasion_inion_cm=_number(document, "nasion_inion_cm"),
        ear_to_ear_cm=_number(document, "ear_to_ear_cm"),
        volume_per_point_ml=_number(document, "volume_per_point_ml"),
        depth_mm=depth_mm,
    )
