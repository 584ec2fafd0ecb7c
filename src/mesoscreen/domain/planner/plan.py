"""A treatment plan: where to inject, how much, how deep and when, checked against screening."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from mesoscreen.domain.planner.formulary import Product
from mesoscreen.domain.planner.head import HeadModel
from mesoscreen.domain.planner.layout import (
    InjectionPoint,
    SpacingStatistics,
    lay_out_points,
    spacing_statistics,
)
from mesoscreen.domain.planner.safety import ScreeningConstraints
from mesoscreen.domain.planner.zones import ScalpAtlas, Zone


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """What the clinician asks for."""

    zones: tuple[str, ...]
    stage: str | None
    spacing_cm: float
    product: str
    first_session: date
    head_circumference_cm: float | None = None
    nasion_inion_cm: float | None = None
    ear_to_ear_cm: float | None = None


@dataclass(frozen=True, slots=True)
class ZoneArea:
    """A treated zone, its area and its number of points."""

    id: str
    area_cm2: float
    points: int


@dataclass(frozen=True, slots=True)
class Session:
    """One planned session."""

    number: int
    phase: str
    day: date


@dataclass(frozen=True, slots=True)
class TreatmentPlan:
    """The finished plan: points on the head, product, volumes, depth and calendar."""

    head: HeadModel
    spacing_cm: float
    zones: tuple[ZoneArea, ...]
    points: tuple[InjectionPoint, ...]
    spacing: SpacingStatistics
    product: Product
    total_volume_ml: float
    sessions: tuple[Session, ...]
    screening_checked: bool

    @property
    def area_cm2(self) -> float:
        """The treated area."""
        return round(sum(zone.area_cm2 for zone in self.zones), 1)

    def as_dict(self) -> dict[str, object]:
        """JSON form: what ``mesoscreen plan --json`` prints and the records service stores."""
        product = self.product
        return {
            "area_cm2": self.area_cm2,
            "spacing_cm": self.spacing_cm,
            "point_count": len(self.points),
            "total_volume_ml": self.total_volume_ml,
            "head": {
                "a_cm": round(self.head.a, 3),
                "b_cm": round(self.head.b, 3),
                "c_cm": round(self.head.c, 3),
            },
            "zones": [
                {"id": z.id, "area_cm2": round(z.area_cm2, 1), "points": z.points}
                for z in self.zones
            ],
            "product": {
                "id": product.id,
                "name": product.name.as_dict(),
                "ingredients": list(product.ingredients),
                "concentration": product.concentration,
                "technique": product.technique.value,
                "needle": product.needle,
                "depth_mm": list(product.depth_mm),
                "volume_per_point_ml": product.volume_per_point_ml,
                "max_volume_per_session_ml": product.max_volume_per_session_ml,
                "sources": dict(product.sources),
            },
            "spacing_statistics_cm": {
                "nearest_neighbour_mean": round(self.spacing.mean_cm, 3),
                "nearest_neighbour_min": round(self.spacing.minimum_cm, 3),
                "nearest_neighbour_max": round(self.spacing.maximum_cm, 3),
            },
            "sessions": [
                {"number": s.number, "phase": s.phase, "date": s.day.isoformat()}
                for s in self.sessions
            ],
            "screening_checked": self.screening_checked,
            "points": [
                {
                    "number": p.number,
                    "zone": p.zone,
                    "x": p.x,
                    "y": p.y,
                    "z": p.z,
                    "theta_deg": p.theta,
                    "phi_deg": p.phi,
                    "volume_ml": product.volume_per_point_ml,
                }
                for p in self.points
            ],
        }


def plan_treatment(
    request: PlanRequest,
    atlas: ScalpAtlas,
    product: Product,
    constraints: ScreeningConstraints | None,
    completed_actions: Collection[str] = (),
) -> TreatmentPlan:
    """Make the plan; PlanError (naming the field) when the request or the screening forbids it.

    Without ``constraints`` the plan is made but marked as not checked against a screening.
    """
    if constraints is not None:
        constraints.check(product, completed_actions)
    head = HeadModel.from_measurements(
        request.head_circumference_cm, request.nasion_inion_cm, request.ear_to_ear_cm
    )
    zones = atlas.resolve(request.zones, request.stage)
    points = lay_out_points(head, zones, request.spacing_cm)
    total = product.session_volume_ml(len(points))
    return TreatmentPlan(
        head=head,
        spacing_cm=request.spacing_cm,
        zones=_zone_areas(zones, points, head),
        points=tuple(points),
        spacing=spacing_statistics(points, head, request.spacing_cm),
        product=product,
        total_volume_ml=total,
        sessions=tuple(
            Session(n, phase, day)
            for n, phase, day in product.schedule.session_dates(request.first_session)
        ),
        screening_checked=constraints is not None,
    )


def _zone_areas(
    zones: Sequence[Zone], points: Sequence[InjectionPoint], head: HeadModel
) -> tuple[ZoneArea, ...]:
    """Area and point count of each zone."""
    out = []
    for zone in zones:
        zone_id = zone.id
        out.append(
            ZoneArea(
                id=zone_id,
                area_cm2=zone.area_cm2(head),
                points=sum(1 for p in points if p.zone == zone_id),
            )
        )
    return tuple(out)
