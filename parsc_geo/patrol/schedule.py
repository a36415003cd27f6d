"""Patrol schedules at critical points: Koper-curve dosage, risk-proportional visits, tours.

The dosage follows the Koper curve: short visits (about 10–15 minutes) repeated roughly every
two hours during the risky hours deter more than long or random presence (Koper 1995; Sherman &
Weisburd 1995, the Minneapolis hot spots experiment).

How a shift is planned
----------------------
1. The shift's *patrol time* is the part of the shift inside the day type's patrol windows; when a
   unit has fewer available hours than that, the busiest hours (by incidents) are kept.
2. The patrol time is cut into slots of ``visit + travel`` minutes; every unit has the same slots.
3. Each critical point can be visited at most once per revisit interval; the visits available are
   apportioned to the points in proportion to their risk (largest-remainder method, capped).
4. Slots are filled in time order: each takes the eligible point (not visited within the revisit
   interval, visits left) that is furthest behind its allocation; ties follow the visiting order.

The visiting order is a short closed tour in straight lines: nearest neighbour from the first-
ranked point, improved with 2-opt (Croes 1958). It is not a road route.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ScheduleOptions:
    """Resources and dosage of a patrol schedule.

    Attributes
    ----------
    units
        Patrol units assigned to each sector per shift.
    shifts
        Shifts per day (None: as many whole shifts as fit in 24 h, e.g. 3 of 8 h, 2 of 12 h).
    shift_hours
        Length of a shift in hours.
    first_shift_start
        Hour (0–23) at which the first shift starts; the others follow back to back.
    available_hours
        Hours per unit and shift for visits to critical points (None: the whole shift).
    visit_minutes
        Length of a visit (Koper 1995: about 10–15 minutes).
    revisit_minutes
        Minimum time between two visits to the same point (about 2 hours).
    travel_minutes
        Minutes between two visits (None: mean leg of the tour at ``speed_kmh``).
    speed_kmh
        Straight-line travel speed used when ``travel_minutes`` is None.
    """

    units: int = 1
    shifts: int | None = None
    shift_hours: int = 8
    first_shift_start: int = 6
    available_hours: float | None = None
    visit_minutes: int = 15
    revisit_minutes: int = 120
    travel_minutes: int | None = None
    speed_kmh: float = 20.0

    def __post_init__(self) -> None:
        """Check every option and raise one error listing the problems."""
        from .._validate import ProblemCollector

        problems = ProblemCollector("en las opciones del horario de patrullaje")
        if (
            self.shifts is None
            and isinstance(self.shift_hours, int)
            and 1 <= self.shift_hours <= 24
        ):
            object.__setattr__(self, "shifts", 24 // self.shift_hours)
        if not isinstance(self.units, int) or self.units < 1:
            problems.add(f"units debe ser un número entero ≥ 1; se recibió {self.units!r}")
        if not isinstance(self.shifts, int) or self.shifts < 1:
            problems.add(f"shifts debe ser un número entero ≥ 1; se recibió {self.shifts!r}")
        if not isinstance(self.shift_hours, int) or not 1 <= self.shift_hours <= 24:
            problems.add(
                f"shift_hours debe ser un número entero de horas 1–24; se recibió "
                f"{self.shift_hours!r}"
            )
        elif isinstance(self.shifts, int) and self.shifts * self.shift_hours > 24:
            problems.add(
                f"{self.shifts} turnos de {self.shift_hours} h superan las 24 h "
                f"({self.shifts * self.shift_hours} h)"
            )
        if not isinstance(self.first_shift_start, int) or not 0 <= self.first_shift_start <= 23:
            problems.add(
                f"first_shift_start debe ser una hora 0–23; se recibió {self.first_shift_start!r}"
            )
        if self.available_hours is not None and not (0 < self.available_hours <= self.shift_hours):
            problems.add(
                f"available_hours debe estar en (0, shift_hours={self.shift_hours}]; "
                f"se recibió {self.available_hours!r}"
            )
        if not isinstance(self.visit_minutes, int) or not 1 <= self.visit_minutes <= 240:
            problems.add(
                f"visit_minutes debe ser un número entero 1–240; se recibió {self.visit_minutes!r}"
            )
        if not isinstance(self.revisit_minutes, int) or self.revisit_minutes < self.visit_minutes:
            problems.add(
                "revisit_minutes debe ser un número entero ≥ visit_minutes "
                f"({self.visit_minutes}); se recibió {self.revisit_minutes!r}"
            )
        if self.travel_minutes is not None and (
            not isinstance(self.travel_minutes, int) or self.travel_minutes < 0
        ):
            problems.add(
                f"travel_minutes debe ser un número entero ≥ 0; se recibió {self.travel_minutes!r}"
            )
        if not self.speed_kmh > 0:
            problems.add(f"speed_kmh debe ser positivo; se recibió {self.speed_kmh!r}")
        problems.raise_if_any(hint="vea los valores por defecto en `parsc-geo patrol --help`")

    @property
    def available_minutes(self) -> int:
        """Minutes per unit and shift available for visits."""
        hours = self.shift_hours if self.available_hours is None else self.available_hours
        return round(hours * 60)

    def shift_starts(self) -> list[int]:
        """Return the start hour (0–23) of each shift."""
        count = self.shifts if self.shifts is not None else 24 // self.shift_hours
        return [(self.first_shift_start + k * self.shift_hours) % 24 for k in range(count)]


@dataclass
class Visit:
    """One scheduled visit (times in minutes from the shift's start)."""

    unit: int
    start: int
    end: int
    point: int
    travel: int


@dataclass
class ShiftSchedule:
    """The schedule of one shift for one day type.

    Attributes
    ----------
    shift
        Shift number (1 = first).
    start_hour
        Hour at which the shift starts.
    segments
        Patrol-time intervals ``(start, end)`` in minutes from the shift's start.
    allocation
        Visits apportioned to each point (by point index).
    visits
        Scheduled visits in time order, then unit.
    """

    shift: int
    start_hour: int
    segments: list[tuple[int, int]]
    allocation: list[int]
    visits: list[Visit] = field(default_factory=list)

    def minutes_used(self, unit: int) -> int:
        """Minutes of ``unit`` spent visiting and travelling in this shift."""
        return sum(v.end - v.start + v.travel for v in self.visits if v.unit == unit)


def distance_matrix(xy: Sequence[tuple[float, float]]) -> list[list[float]]:
    """Return the Euclidean distance matrix of metric coordinates."""
    return [[math.dist(a, b) for b in xy] for a in xy]


def tour_length(order: Sequence[int], dist: Sequence[Sequence[float]]) -> float:
    """Return the length of the closed tour visiting ``order``."""
    n = len(order)
    if n < 2:
        return 0.0
    return sum(dist[order[k]][order[(k + 1) % n]] for k in range(n))


def shortest_tour(xy: Sequence[tuple[float, float]]) -> list[int]:
    """Return a short closed tour through ``xy`` (metric coordinates), starting at index 0.

    Nearest neighbour from point 0 (ties to the lower index), then 2-opt moves until none
    shortens the tour (Croes 1958). For three points or fewer every tour has the same length.

    Parameters
    ----------
    xy
        Point coordinates in metres, first-ranked point first.

    Returns
    -------
    list of int
        Indices of ``xy`` in visiting order, starting with 0.
    """
    n = len(xy)
    if n == 0:
        return []
    dist = distance_matrix(xy)
    order = [0]
    left = set(range(1, n))
    while left:
        last = order[-1]
        nxt = min(left, key=lambda j: (dist[last][j], j))
        order.append(nxt)
        left.remove(nxt)
    improved = n > 3
    while improved:
        improved = False
        for i in range(1, n - 1):
            for j in range(i + 1, n):
                a, b = order[i - 1], order[i]
                c, d = order[j], order[(j + 1) % n]
                delta = dist[a][c] + dist[b][d] - dist[a][b] - dist[c][d]
                if delta < -1e-9:
                    order[i : j + 1] = reversed(order[i : j + 1])
                    improved = True
    return order


def travel_minutes_for(
    xy: Sequence[tuple[float, float]], order: Sequence[int], speed_kmh: float
) -> int:
    """Return the tour's mean leg in whole minutes at ``speed_kmh`` (0 for one point)."""
    if len(order) < 2:
        return 0
    mean_leg = tour_length(order, distance_matrix(xy)) / len(order)
    return math.ceil(mean_leg / (speed_kmh * 1000 / 60) - 1e-9)


def apportion(total: int, weights: Sequence[float], caps: Sequence[int]) -> list[int]:
    """Split ``total`` visits in proportion to ``weights`` without exceeding ``caps``.

    Points whose proportional quota reaches their cap get the cap and the rest is shared again
    among the others; the final shares use the largest-remainder (Hamilton) method, ties to the
    lower index.

    Parameters
    ----------
    total
        Visits to share (reduced to ``sum(caps)`` if larger).
    weights
        Risk of each point (non-negative).
    caps
        Maximum visits of each point.

    Returns
    -------
    list of int
        Visits per point; they add up to ``min(total, sum of caps over positive weights)``.
    """
    n = len(weights)
    alloc = [0] * n
    active = [i for i in range(n) if weights[i] > 0 and caps[i] > 0]
    left = min(total, sum(caps[i] for i in active))
    while active and left > 0:
        wsum = sum(weights[i] for i in active)
        quotas = {i: left * weights[i] / wsum for i in active}
        saturated = [i for i in active if quotas[i] >= caps[i]]
        if saturated:
            for i in saturated:
                alloc[i] = caps[i]
                left -= caps[i]
            active = [i for i in active if i not in saturated]
            continue
        floors = {i: math.floor(quotas[i]) for i in active}
        for i in active:
            alloc[i] = floors[i]
        rest = left - sum(floors.values())
        by_remainder = sorted(active, key=lambda i: (-(quotas[i] - floors[i]), i))
        for i in by_remainder[:rest]:
            alloc[i] += 1
        break
    return alloc


def patrol_segments(
    shift_start: int, options: ScheduleOptions, window_hours: set[int], hourly: Sequence[int]
) -> list[tuple[int, int]]:
    """Return the shift's patrol-time intervals (minutes from the shift's start).

    Parameters
    ----------
    shift_start
        Hour the shift starts.
    options
        Schedule options (shift length and available hours).
    window_hours
        Hours of day inside the patrol windows.
    hourly
        Incidents per hour of day (used to keep the busiest hours when time is short).
    """
    offsets = [k for k in range(options.shift_hours) if (shift_start + k) % 24 in window_hours]
    budget = options.available_minutes
    chosen: dict[int, int] = {}
    for k in sorted(offsets, key=lambda k: (-hourly[(shift_start + k) % 24], k)):
        if budget <= 0:
            break
        chosen[k] = min(60, budget)
        budget -= chosen[k]
    segments: list[tuple[int, int]] = []
    for k in sorted(chosen):
        start, end = k * 60, k * 60 + chosen[k]
        if segments and segments[-1][1] == start:
            segments[-1] = (segments[-1][0], end)
        else:
            segments.append((start, end))
    return segments


def slot_starts(segments: Sequence[tuple[int, int]], slot: int) -> list[int]:
    """Return slot start times: ``slot`` minutes each, wholly inside a segment."""
    return [t for a, b in segments for t in range(a, b - slot + 1, slot)]


def max_spaced(times: Sequence[int], gap: int) -> int:
    """Return the largest number of ``times`` (sorted) pairwise at least ``gap`` apart."""
    count, last = 0, None
    for t in times:
        if last is None or t - last >= gap:
            count, last = count + 1, t
    return count


def _rested(last: int | None, now: int, gap: int) -> bool:
    """Return whether a point last visited at ``last`` may be visited again at ``now``."""
    return last is None or now - last >= gap


def schedule_shift(
    shift: int,
    shift_start: int,
    options: ScheduleOptions,
    *,
    risks: Sequence[float],
    tour: Sequence[int],
    travel: int,
    window_hours: set[int],
    hourly: Sequence[int],
) -> ShiftSchedule:
    """Schedule the visits of one shift.

    Parameters
    ----------
    shift
        Shift number (1 = first).
    shift_start
        Hour the shift starts.
    options
        Resources and dosage.
    risks
        Risk of each critical point (point index = rank − 1).
    tour
        Visiting order of the points (indices of ``risks``).
    travel
        Travel minutes between two visits.
    window_hours
        Hours of day inside the patrol windows of the day type.
    hourly
        Incidents per hour of day for the day type.

    Returns
    -------
    ShiftSchedule
        Every unit's visits fit in its available minutes and inside the patrol windows.
    """
    segments = patrol_segments(shift_start, options, window_hours, hourly)
    slot = options.visit_minutes + travel
    starts = slot_starts(segments, slot)
    n = len(risks)
    cap = max_spaced(starts, options.revisit_minutes)
    allocation = apportion(len(starts) * options.units, risks, [cap] * n)
    result = ShiftSchedule(shift, shift_start, segments, allocation)
    if n == 0:
        return result
    position = {p: k for k, p in enumerate(tour)}
    done = [0] * n
    last_visit: list[int | None] = [None] * n
    last_point: list[int | None] = [None] * options.units
    for t in starts:
        for unit in range(options.units):
            eligible = [
                i
                for i in range(n)
                if done[i] < allocation[i] and _rested(last_visit[i], t, options.revisit_minutes)
            ]
            if not eligible:
                continue
            here = last_point[unit]
            ref = position[here] if here is not None else -1

            def key(i: int, ref: int = ref) -> tuple[float, int]:
                return (done[i] / allocation[i], (position[i] - ref - 1) % n)

            point = min(eligible, key=key)
            done[point] += 1
            last_visit[point] = t
            last_point[unit] = point
            result.visits.append(Visit(unit + 1, t, t + options.visit_minutes, point, travel))
    return result
