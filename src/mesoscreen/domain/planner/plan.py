"""A treatment plan: where to inject, how much (mL and mg), how deep and when, checked against
the screening and the product's caps."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date

from mesoscreen.domain.errors import PlanError
from mesoscreen.domain.planner.doses import SessionDose
from mesoscreen.domain.planner.formulary import Product
from mesoscreen.domain.planner.head import HeadModel
from mesoscreen.domain.planner.layout import (
    InjectionPoint,
    SpacingStatistics,
    lay_out_points,
    spacing_statistics,
)
from mesoscreen.domain.planner.request import PlanRequest
from mesoscreen.domain.planner.safety import ScreeningConstraints
from mesoscreen.domain.planner.zones import ScalpAtlas, Zone
from mesoscreen.domain.reasons import Reason, problem

__all__ = ["Geometry", "PlanRequest", "PlannedTreatment", "Session", "ZoneArea", "plan_treatment"]


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
class Geometry:
    """The points laid on one head over some zones at one spacing, with areas and statistics."""

    points: tuple[InjectionPoint, ...]
    zones: tuple[ZoneArea, ...]
    spacing: SpacingStatistics


def lay_out_geometry(head: HeadModel, zones: tuple[Zone, ...], spacing_cm: float) -> Geometry:
    """Points, zone areas and spacing statistics (deterministic: the same input, the same
    output, so callers may cache it)."""
    points = lay_out_points(head, zones, spacing_cm)
    return Geometry(
        points=tuple(points),
        zones=_zone_areas(zones, points, head),
        spacing=spacing_statistics(points, head, spacing_cm),
    )


@dataclass(frozen=True, slots=True)
class PlannedTreatment:
    """The planner's result: the request, points on the head, product, dose, depth and
    calendar (stored, it becomes the document of a ``records.PlanRecord``)."""

    request: PlanRequest
    head: HeadModel
    spacing_cm: float
    zones: tuple[ZoneArea, ...]
    points: tuple[InjectionPoint, ...]
    spacing: SpacingStatistics
    product: Product
    dose: SessionDose
    sessions: tuple[Session, ...]
    screening_checked: bool
    formulary_hash: str = ""

    @property
    def area_cm2(self) -> float:
        """The treated area."""
        return round(sum(zone.area_cm2 for zone in self.zones), 1)

    @property
    def total_volume_ml(self) -> float:
        """The volume of one session in mL."""
        return self.dose.total_volume_ml

    def as_dict(self) -> dict[str, object]:
        """JSON form: what ``mesoscreen plan --json`` prints and the records service stores.

        It holds the request it was made from, so the plan can be made again and compared.
        """
        dose = self.dose
        return {
            "request": self.request.as_dict(),
            "area_cm2": self.area_cm2,
            "spacing_cm": self.spacing_cm,
            "point_count": len(self.points),
            "total_volume_ml": dose.total_volume_ml,
            "volume_per_point_ml": dose.volume_per_point_ml,
            "depth_mm": list(dose.depth_mm),
            "dose": dose.as_dict(),
            "head": {
                "a_cm": round(self.head.a, 3),
                "b_cm": round(self.head.b, 3),
                "c_cm": round(self.head.c, 3),
            },
            "zones": [
                {"id": z.id, "area_cm2": round(z.area_cm2, 1), "points": z.points}
                for z in self.zones
            ],
            "product": self.product.as_dict(),
            "formulary": {"hash": self.formulary_hash},
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
                    "volume_ml": dose.volume_per_point_ml,
                    "dose": dose.dose_per_point,
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
    formulary_hash: str = "",
    geometry: Callable[[HeadModel, tuple[Zone, ...], float], Geometry] = lay_out_geometry,
) -> PlannedTreatment:
    """Make the plan; PlanError (naming the field) when the request, a cap or the screening
    forbids it.

    Without ``constraints`` the plan is made but marked as not checked against a screening;
    the caps of the product apply either way.
    """
    if constraints is not None:
        constraints.check(product, completed_actions, request.first_session)
    head = HeadModel.from_measurements(
        request.head_circumference_cm, request.nasion_inion_cm, request.ear_to_ear_cm
    )
    zones = atlas.resolve(request.zones, request.stage)
    laid = geometry(head, zones, request.spacing_cm)
    if not laid.points:
        raise PlanError(
            "'zones': no injection point fits the zones chosen at this spacing "
            f"({request.spacing_cm:g} cm); choose more zones or a smaller spacing",
            field="zones",
            problems=problem(Reason.NO_POINT_FITS, "zones", spacing_cm=request.spacing_cm),
        )
    dose = product.session(len(laid.points), request.volume_per_point_ml, request.depth_mm)
    return PlannedTreatment(
        request=request,
        head=head,
        spacing_cm=request.spacing_cm,
        zones=laid.zones,
        points=laid.points,
        spacing=laid.spacing,
        product=product,
        dose=dose,
        sessions=tuple(
            Session(n, phase, day)
            for n, phase, day in product.schedule.session_dates(request.first_session)
        ),
        screening_checked=constraints is not None,
        formulary_hash=formulary_hash,
    )


def _zone_areas(
    zones: Sequence[Zone], points: Sequence[InjectionPoint], head: HeadModel
) -> tuple[ZoneArea, ...]:
    """Area and point count of each zone."""
    return tuple(
        ZoneArea(
            id=zone.id,
            area_cm2=zone.area_cm2(head),
            points=sum(1 for p in points if p.zone == zone.id),
        )
        for zone in zones
    )
