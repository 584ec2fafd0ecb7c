"""Injection points laid out on the head surface at a set spacing.

Points sit on rings of constant distance from the vertex, measured along the scalp's
meridians: ring k lies k spacings from the vertex, and along each ring the points are
one spacing apart measured on the 3-D surface (each ring gets the whole number of
points closest to its length / spacing). Every distance is therefore a distance on the
head, not on a flat drawing. One lattice covers the whole scalp, so a point belongs to
exactly one zone and neighbouring zones join without gaps or doubled points.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace

from mesoscreen.domain.errors import PlanError
from mesoscreen.domain.planner.head import HeadModel, surface_distance
from mesoscreen.domain.planner.zones import Zone
from mesoscreen.domain.reasons import Reason, problem

SPACING_RANGE_CM = (0.5, 2.0)
THETA_LIMIT = 110.0
# Neighbour distances of a finished layout stay within this factor of the spacing.
MAX_SPACING_ERROR = 1.1
_PHI_SAMPLES = 360
_THETA_STEPS = 440


@dataclass(frozen=True, slots=True)
class InjectionPoint:
    """One injection point: its number, zone, place on the scalp and 3-D position in cm."""

    number: int
    zone: str
    theta: float
    phi: float
    x: float
    y: float
    z: float
    ring: int
    distance_from_vertex_cm: float

    @property
    def position(self) -> tuple[float, float, float]:
        """(x, y, z) in cm."""
        return (self.x, self.y, self.z)


@dataclass(frozen=True, slots=True)
class SpacingStatistics:
    """Nearest-neighbour distances on the surface, in cm."""

    count: int
    mean_cm: float
    minimum_cm: float
    maximum_cm: float
    stdev_cm: float


class _Meridians:
    """Arc length from the vertex along each sampled meridian, for turning distance into theta."""

    def __init__(self, head: HeadModel) -> None:
        self.head = head
        self.phis = [-180.0 + 360.0 * j / _PHI_SAMPLES for j in range(_PHI_SAMPLES)]
        self.thetas = [THETA_LIMIT * i / _THETA_STEPS for i in range(_THETA_STEPS + 1)]
        d_theta = math.radians(THETA_LIMIT / _THETA_STEPS)
        self.lengths: list[list[float]] = []
        for phi in self.phis:
            run, cumulative = 0.0, [0.0]
            for i in range(_THETA_STEPS):
                mid = (self.thetas[i] + self.thetas[i + 1]) / 2
                run += head.meridian_speed(mid, phi) * d_theta
                cumulative.append(run)
            self.lengths.append(cumulative)

    def theta_at(self, j: int, distance_cm: float) -> float:
        """Theta at ``distance_cm`` from the vertex along meridian ``j`` (clamped at the limit)."""
        lengths = self.lengths[j]
        if distance_cm >= lengths[-1]:
            return THETA_LIMIT
        i = bisect.bisect_right(lengths, distance_cm) - 1
        span = lengths[i + 1] - lengths[i]
        fraction = (distance_cm - lengths[i]) / span if span else 0.0
        return self.thetas[i] + fraction * (self.thetas[i + 1] - self.thetas[i])

    @property
    def longest_cm(self) -> float:
        """The longest meridian up to the theta limit."""
        return max(lengths[-1] for lengths in self.lengths)


def _ring(
    meridians: _Meridians, distance_cm: float, spacing_cm: float
) -> list[tuple[float, float]]:
    """(theta, phi) of the points of the ring at ``distance_cm`` from the vertex."""
    head = meridians.head
    samples = [(meridians.theta_at(j, distance_cm), phi) for j, phi in enumerate(meridians.phis)]
    positions = [head.point(theta, phi) for theta, phi in samples]
    cumulative = [0.0]
    for k in range(len(positions)):
        cumulative.append(
            cumulative[-1] + math.dist(positions[k], positions[(k + 1) % len(positions)])
        )
    length = cumulative[-1]
    count = max(1, round(length / spacing_cm))
    out = []
    for n in range(count):
        target = n * length / count
        k = min(bisect.bisect_right(cumulative, target) - 1, len(samples) - 1)
        span = cumulative[k + 1] - cumulative[k]
        fraction = (target - cumulative[k]) / span if span else 0.0
        theta_a, phi_a = samples[k]
        theta_b, phi_b = samples[(k + 1) % len(samples)]
        phi_step = (phi_b - phi_a + 180.0) % 360.0 - 180.0
        out.append((theta_a + fraction * (theta_b - theta_a), phi_a + fraction * phi_step))
    return out


def lay_out_points(
    head: HeadModel, zones: Sequence[Zone], spacing_cm: float
) -> list[InjectionPoint]:
    """Points spaced ``spacing_cm`` apart on the surface, in ``zones``, numbered from 1.

    Deterministic: the same head, zones and spacing give the same points.
    """
    low, high = SPACING_RANGE_CM
    if not low <= spacing_cm <= high:
        raise PlanError(
            f"'spacing_cm': expected {low:g} to {high:g} cm (got {spacing_cm:g})",
            field="spacing_cm",
            problems=problem(
                Reason.OUT_OF_RANGE, "spacing_cm", low=low, high=high, got=spacing_cm, unit="cm"
            ),
        )
    meridians = _Meridians(head)
    placed: list[tuple[int, float, float, float, Zone]] = []
    ring = 0
    while ring * spacing_cm <= meridians.longest_cm:
        distance = ring * spacing_cm
        spots = [(0.0, 0.0)] if ring == 0 else _ring(meridians, distance, spacing_cm)
        for theta, phi in spots:
            phi = (phi + 180.0) % 360.0 - 180.0
            # The zone is chosen by the angles the point records (to 4 places): a point just
            # below a zone's edge would otherwise be recorded on the edge, outside its zone.
            shown_theta, shown_phi = round(theta, 4), round(phi, 4)
            if shown_theta >= THETA_LIMIT:
                continue
            zone = next((z for z in zones if z.contains(shown_theta, shown_phi)), None)
            if zone is not None:
                placed.append((ring, distance, theta, phi, zone))
        ring += 1
    points: list[InjectionPoint] = []
    for number, (ring_index, distance, theta, phi, zone) in enumerate(placed, start=1):
        x, y, z = head.point(theta, phi)
        points.append(
            InjectionPoint(
                number,
                zone.id,
                round(theta, 4),
                round(phi, 4),
                round(x, 4),
                round(y, 4),
                round(z, 4),
                ring_index,
                round(distance, 4),
            )
        )
    return drop_isolated_points(points, head, spacing_cm)


def _nearest_distances(
    points: Sequence[InjectionPoint], head: HeadModel, spacing_cm: float
) -> list[float]:
    """Each point's distance on the surface to its nearest other point.

    Points are bucketed in cubes of twice the spacing, so each point meets only its own and
    the 26 neighbouring cubes; a point with nobody that close is compared with all.
    """
    radius = head.mean_radius
    cell = 2 * spacing_cm
    grid: dict[tuple[int, int, int], list[InjectionPoint]] = {}
    for point in points:
        grid.setdefault(_cell(point, cell), []).append(point)
    nearest = []
    for point in points:
        cx, cy, cz = _cell(point, cell)
        candidates = [
            other
            for dx in (-1, 0, 1)
            for dy in (-1, 0, 1)
            for dz in (-1, 0, 1)
            for other in grid.get((cx + dx, cy + dy, cz + dz), ())
            if other is not point
        ] or [other for other in points if other is not point]
        nearest.append(
            min(surface_distance(point.position, o.position, radius) for o in candidates)
        )
    return nearest


def _cell(point: InjectionPoint, size: float) -> tuple[int, int, int]:
    """The grid cube holding ``point``."""
    return (int(point.x // size), int(point.y // size), int(point.z // size))


def drop_isolated_points(
    points: list[InjectionPoint], head: HeadModel, spacing_cm: float
) -> list[InjectionPoint]:
    """Points with a neighbour within 10% over the spacing, renumbered from 1.

    A ring that only grazes a zone's corner can leave a point whose nearest neighbours sit
    diagonally on the next rings, ~15% further than the spacing; such edge points are
    dropped so that every neighbour distance of the finished layout is within 10%.
    """
    kept = points
    while len(kept) > 1:
        nearest = _nearest_distances(kept, head, spacing_cm)
        keep = [
            p for p, d in zip(kept, nearest, strict=True) if d <= MAX_SPACING_ERROR * spacing_cm
        ]
        if len(keep) == len(kept):
            break
        kept = keep
    return [replace(p, number=n) for n, p in enumerate(kept, start=1)]


def spacing_statistics(
    points: Sequence[InjectionPoint], head: HeadModel, spacing_cm: float
) -> SpacingStatistics:
    """Each point's nearest neighbour on the surface, summarised (zeros for fewer than two)."""
    if len(points) < 2:
        return SpacingStatistics(len(points), 0.0, 0.0, 0.0, 0.0)
    nearest = _nearest_distances(points, head, spacing_cm)
    return SpacingStatistics(
        count=len(points),
        mean_cm=statistics.fmean(nearest),
        minimum_cm=min(nearest),
        maximum_cm=max(nearest),
        stdev_cm=statistics.pstdev(nearest),
    )
