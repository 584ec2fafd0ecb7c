"""Scalp zones as regions of (theta, phi) on the head, and hair-loss stages mapped to zones."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mesoscreen.domain.errors import PlanError
from mesoscreen.domain.knowledge_base import Text
from mesoscreen.domain.planner.head import HeadModel
from mesoscreen.domain.reasons import Reason, problem

_AREA_STEPS = 120


def _within_phi(phi: float, low: float, high: float) -> bool:
    """Whether azimuth ``phi`` lies in [low, high) read round the circle (ranges may wrap)."""
    return (phi - low) % 360.0 < (high - low)


@dataclass(frozen=True, slots=True)
class ZonePatch:
    """A band of the scalp: theta from ``theta_min`` to ``theta_max``, phi from low to high."""

    theta_min: float
    theta_max: float
    phi_min: float
    phi_max: float

    def contains(self, theta: float, phi: float) -> bool:
        """Whether (theta, phi) lies in the patch (lower bounds inclusive)."""
        return self.theta_min <= theta < self.theta_max and _within_phi(
            phi, self.phi_min, self.phi_max
        )

    def area_cm2(self, head: HeadModel) -> float:
        """Surface area of the patch on ``head`` by the midpoint rule."""
        d_theta = (self.theta_max - self.theta_min) / _AREA_STEPS
        d_phi = (self.phi_max - self.phi_min) / _AREA_STEPS
        total = 0.0
        for i in range(_AREA_STEPS):
            theta = self.theta_min + (i + 0.5) * d_theta
            for j in range(_AREA_STEPS):
                total += head.area_element(theta, self.phi_min + (j + 0.5) * d_phi)
        return total * math.radians(d_theta) * math.radians(d_phi)


@dataclass(frozen=True, slots=True)
class Zone:
    """A named treatment zone made of one or more patches."""

    id: str
    name: Text
    patches: tuple[ZonePatch, ...]

    def contains(self, theta: float, phi: float) -> bool:
        """Whether (theta, phi) lies in the zone."""
        return any(patch.contains(theta, phi) for patch in self.patches)

    def area_cm2(self, head: HeadModel) -> float:
        """Surface area of the zone on ``head``."""
        return sum(patch.area_cm2(head) for patch in self.patches)


@dataclass(frozen=True, slots=True)
class Stage:
    """A hair-loss stage of a classification scale, with the zones treated by default."""

    id: str
    scale: str
    name: Text
    zones: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class ScalpAtlas:
    """Every zone and stage the planner knows."""

    zones: Mapping[str, Zone]
    stages: Mapping[str, Stage]

    def resolve(self, zone_ids: Sequence[str], stage_id: str | None) -> tuple[Zone, ...]:
        """The zones asked for: the stage's defaults plus the zones named, each once.

        PlanError names an unknown zone or stage and lists the known ones.
        """
        wanted: list[str] = []
        if stage_id is not None:
            stage = self.stages.get(stage_id)
            if stage is None:
                known = ", ".join(self.stages)
                raise PlanError(
                    f"'stage': unknown stage {stage_id!r} (expected one of: {known})",
                    field="stage",
                    problems=problem(Reason.UNKNOWN_STAGE, "stage"),
                )
            wanted.extend(stage.zones)
        for zone_id in zone_ids:
            if zone_id not in self.zones:
                known = ", ".join(self.zones)
                raise PlanError(
                    f"'zones': unknown zone {zone_id!r} (expected one of: {known})",
                    field="zones",
                    problems=problem(Reason.UNKNOWN_ZONE, "zones"),
                )
            wanted.append(zone_id)
        if not wanted:
            raise PlanError(
                "'zones': no zone chosen (give zones, a stage, or both)",
                field="zones",
                problems=problem(Reason.NO_ZONE_CHOSEN, "zones"),
            )
        return tuple(self.zones[zone_id] for zone_id in dict.fromkeys(wanted))
