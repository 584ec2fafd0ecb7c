"""The head as an ellipsoid scaled from the patient's measurements, and distances on it.

Coordinates are in centimetres: x to the patient's left, y forward (towards the nose),
z up; the origin is the centre of the head-circumference plane. A scalp point is given
by ``theta`` (degrees from the vertex, the top of the head) and ``phi`` (degrees of
azimuth, 0 at the front, positive towards the patient's left).

The circumference is the ellipse of semi-axes ``a`` (half-width) and ``b``
(half-length) at z = 0; the height ``c`` comes from the nasion-to-inion arc (and the
ear-to-ear arc when given), each taken as half the perimeter of the ellipse through
the vertex in its plane.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from mesoscreen.domain.errors import PlanError
from mesoscreen.domain.reasons import Reason, problem

DEFAULT_CIRCUMFERENCE_CM = 56.0
# Cephalic index (width / length) of an average adult head.
DEFAULT_WIDTH_TO_LENGTH = 0.8
# Nasion-to-inion arc per cm of circumference for an average adult (35 cm at 57 cm).
DEFAULT_ARC_PER_CIRCUMFERENCE = 35.0 / 57.0
CIRCUMFERENCE_RANGE_CM = (45.0, 70.0)
ARC_RANGE_CM = (25.0, 45.0)


def ellipse_perimeter(a: float, b: float) -> float:
    """Ramanujan's second approximation of an ellipse's perimeter (error < 1e-9 here)."""
    h = ((a - b) / (a + b)) ** 2
    return math.pi * (a + b) * (1 + 3 * h / (10 + math.sqrt(4 - 3 * h)))


def _solve(target: float, f: Callable[[float], float], low: float, high: float) -> float:
    """The x in [low, high] where the increasing function f(x) equals target (bisection)."""
    for _ in range(80):
        mid = (low + high) / 2
        if f(mid) < target:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _check_range(name: str, value: float, bounds: tuple[float, float]) -> None:
    """Refuse a measurement outside the plausible adult range."""
    low, high = bounds
    if not low <= value <= high:
        raise PlanError(
            f"'{name}': expected {low:g} to {high:g} cm (got {value:g})",
            field=name,
            problems=problem(Reason.OUT_OF_RANGE, name, low=low, high=high, got=value, unit="cm"),
        )


@dataclass(frozen=True, slots=True)
class HeadModel:
    """An ellipsoid head: semi-axes a (width), b (length), c (height) in cm."""

    a: float
    b: float
    c: float

    @classmethod
    def from_measurements(
        cls,
        circumference_cm: float | None = None,
        nasion_inion_cm: float | None = None,
        ear_to_ear_cm: float | None = None,
    ) -> HeadModel:
        """The head fitted to the measurements given; adult defaults for the others."""
        circumference = circumference_cm or DEFAULT_CIRCUMFERENCE_CM
        _check_range("head_circumference_cm", circumference, CIRCUMFERENCE_RANGE_CM)
        b = _solve(
            circumference,
            lambda half_length: ellipse_perimeter(
                DEFAULT_WIDTH_TO_LENGTH * half_length, half_length
            ),
            1.0,
            20.0,
        )
        a = DEFAULT_WIDTH_TO_LENGTH * b
        heights = []
        sagittal = nasion_inion_cm or DEFAULT_ARC_PER_CIRCUMFERENCE * circumference
        _check_range("nasion_inion_cm", sagittal, ARC_RANGE_CM)
        heights.append(_solve(2 * sagittal, lambda c: ellipse_perimeter(b, c), 1.0, 30.0))
        if ear_to_ear_cm is not None:
            _check_range("ear_to_ear_cm", ear_to_ear_cm, ARC_RANGE_CM)
            heights.append(_solve(2 * ear_to_ear_cm, lambda c: ellipse_perimeter(a, c), 1.0, 30.0))
        return cls(a=a, b=b, c=sum(heights) / len(heights))

    def point(self, theta_deg: float, phi_deg: float) -> tuple[float, float, float]:
        """The 3-D position (x, y, z) in cm of the scalp point at (theta, phi)."""
        theta, phi = math.radians(theta_deg), math.radians(phi_deg)
        s = math.sin(theta)
        return (self.a * s * math.sin(phi), self.b * s * math.cos(phi), self.c * math.cos(theta))

    def meridian_speed(self, theta_deg: float, phi_deg: float) -> float:
        """|dP/dtheta| in cm per radian: how fast a meridian runs at (theta, phi)."""
        theta, phi = math.radians(theta_deg), math.radians(phi_deg)
        cos_t = math.cos(theta)
        return math.sqrt(
            (self.a * cos_t * math.sin(phi)) ** 2
            + (self.b * cos_t * math.cos(phi)) ** 2
            + (self.c * math.sin(theta)) ** 2
        )

    def area_element(self, theta_deg: float, phi_deg: float) -> float:
        """|dP/dtheta x dP/dphi| in cm^2 per radian^2."""
        theta, phi = math.radians(theta_deg), math.radians(phi_deg)
        st, ct, sp, cp = math.sin(theta), math.cos(theta), math.sin(phi), math.cos(phi)
        tx, ty, tz = self.a * ct * sp, self.b * ct * cp, -self.c * st
        px, py, pz = self.a * st * cp, -self.b * st * sp, 0.0
        return math.sqrt(
            (ty * pz - tz * py) ** 2 + (tz * px - tx * pz) ** 2 + (tx * py - ty * px) ** 2
        )

    @property
    def mean_radius(self) -> float:
        """The mean of the semi-axes, for turning short chords into surface distances."""
        return (self.a + self.b + self.c) / 3


def surface_distance(
    p: tuple[float, float, float], q: tuple[float, float, float], radius: float
) -> float:
    """Distance on the scalp between two nearby points: the arc over their chord.

    For points a few cm apart on a head of radius ~9 cm the arc on a sphere of the local
    radius differs from the true geodesic by far less than a millimetre.
    """
    chord = math.dist(p, q)
    return 2 * radius * math.asin(min(1.0, chord / (2 * radius)))
