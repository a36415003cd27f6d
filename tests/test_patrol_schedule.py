"""Patrol schedules: apportionment, tours, Koper dosage and the hours given."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsc_geo._errors import ConfigError
from parsc_geo.patrol.schedule import (
    ScheduleOptions,
    apportion,
    distance_matrix,
    max_spaced,
    patrol_segments,
    schedule_shift,
    shortest_tour,
    slot_starts,
    tour_length,
    travel_minutes_for,
)

# -- check inputs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"units": 0}, "units"),
        ({"shifts": 4, "shift_hours": 8}, "superan las 24 h"),
        ({"first_shift_start": 24}, "first_shift_start"),
        ({"available_hours": 9}, "available_hours"),
        ({"visit_minutes": 0}, "visit_minutes"),
        ({"visit_minutes": 30, "revisit_minutes": 20}, "revisit_minutes"),
        ({"travel_minutes": -1}, "travel_minutes"),
        ({"speed_kmh": 0}, "speed_kmh"),
    ],
)
def test_bad_options_are_rejected(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ScheduleOptions(**kwargs)


def test_every_bad_option_is_listed_at_once():
    with pytest.raises(ConfigError) as info:
        ScheduleOptions(units=0, visit_minutes=0)
    assert "2 problemas" in str(info.value)


def test_default_shifts():
    opts = ScheduleOptions()
    assert opts.shifts == 3
    assert opts.shift_starts() == [6, 14, 22]
    assert opts.available_minutes == 480
    twelve = ScheduleOptions(shift_hours=12)
    assert twelve.shifts == 2 and twelve.shift_starts() == [6, 18]
    assert ScheduleOptions(shift_hours=5).shifts == 4  # whole shifts only: 20 of 24 h


# -- apportionment ----------------------------------------------------------------------------


def test_apportion_by_hand():
    assert apportion(10, [5, 3, 2], [99, 99, 99]) == [5, 3, 2]
    # quotas 4.42 and 2.58: floors 4 + 2, the spare visit goes to the larger remainder.
    assert apportion(7, [12, 7], [99, 99]) == [4, 3]
    # 4.8 ≥ cap 3: the first gets 3; 3 left split 1.5/1.5, the tie goes to the lower index.
    assert apportion(6, [8, 1, 1], [3, 10, 10]) == [3, 2, 1]
    # more visits than the caps allow: everyone at the cap.
    assert apportion(50, [8, 1, 1], [3, 3, 3]) == [3, 3, 3]
    assert apportion(5, [1, 0], [9, 9]) == [5, 0]  # zero risk gets nothing
    assert apportion(0, [1, 2], [9, 9]) == [0, 0]


@settings(max_examples=200, deadline=None)
@given(
    total=st.integers(min_value=0, max_value=60),
    weights=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=8),
)
def test_apportion_without_caps_is_hamilton(total, weights):
    alloc = apportion(total, weights, [10_000] * len(weights))
    assert sum(alloc) == total
    wsum = sum(weights)
    for a, w in zip(alloc, weights, strict=True):
        assert abs(a - total * w / wsum) < 1  # within one visit of the exact quota


@settings(max_examples=200, deadline=None)
@given(
    total=st.integers(min_value=0, max_value=60),
    pairs=st.lists(
        st.tuples(st.integers(min_value=1, max_value=40), st.integers(min_value=0, max_value=9)),
        min_size=1,
        max_size=8,
    ),
)
def test_apportion_respects_caps_and_uses_them(total, pairs):
    weights = [w for w, _ in pairs]
    caps = [c for _, c in pairs]
    alloc = apportion(total, weights, caps)
    assert all(0 <= a <= c for a, c in zip(alloc, caps, strict=True))
    assert sum(alloc) == min(total, sum(caps))


# -- tours ------------------------------------------------------------------------------------


def test_tour_on_points_in_convex_position_is_the_hull_order():
    # A 2-opt local optimum has no crossing edges; for points in convex position the only
    # such tour is the hull order, which is also the optimum.
    rng = random.Random(3)
    angles = sorted(rng.uniform(0, 2 * math.pi) for _ in range(9))
    ring = [(100 * math.cos(a), 100 * math.sin(a)) for a in angles]
    order = list(range(9))
    rng.shuffle(order)
    xy = [ring[i] for i in order]
    tour = shortest_tour(xy)
    assert tour[0] == 0 and sorted(tour) == list(range(9))
    positions = [order[i] for i in tour]
    steps = {(positions[(k + 1) % 9] - positions[k]) % 9 for k in range(9)}
    assert steps in ({1}, {8})  # around the circle, one way or the other


@pytest.mark.parametrize("seed", range(5))
def test_tour_is_near_brute_force_optimum_on_small_sets(seed):
    rng = random.Random(seed)
    xy = [(rng.uniform(0, 1000), rng.uniform(0, 1000)) for _ in range(7)]
    dist = distance_matrix(xy)
    best = min(tour_length((0, *p), dist) for p in itertools.permutations(range(1, 7)))
    tour = shortest_tour(xy)
    assert sorted(tour) == list(range(7))
    # 2-opt is a heuristic: close to the optimum on small sets (at most 10 % over here).
    assert tour_length(tour, dist) <= best * 1.10 + 1e-9


def test_travel_minutes_from_the_mean_leg():
    xy = [(0.0, 0.0), (1000.0, 0.0)]  # tour 2 km, 2 legs: 1 km at 20 km/h = 3 min
    assert travel_minutes_for(xy, [0, 1], 20.0) == 3
    assert travel_minutes_for([(0.0, 0.0)], [0], 20.0) == 0


# -- shifts -----------------------------------------------------------------------------------


def test_segments_are_the_window_hours_in_the_shift():
    opts = ScheduleOptions()
    hourly = [0] * 24
    segs = patrol_segments(22, opts, {23, 0, 1, 5}, hourly)
    assert segs == [(60, 240), (420, 480)]  # 23–02 h and 05–06 h after a 22 h start


def test_segments_keep_the_busiest_hours_when_time_is_short():
    opts = ScheduleOptions(available_hours=1.5)
    hourly = [0] * 24
    hourly[9], hourly[12], hourly[13] = 1, 6, 4
    segs = patrol_segments(6, opts, {9, 12, 13}, hourly)
    assert segs == [(360, 450)]  # 12 h whole, then the first half of 13 h; 09 h left out


def test_max_spaced_and_slots():
    assert slot_starts([(0, 60)], 20) == [0, 20, 40]
    assert slot_starts([(0, 59)], 20) == [0, 20]
    assert max_spaced([0, 20, 40, 120, 130, 250], 120) == 3  # 0, 120, 250


def test_visits_are_proportional_to_risk_when_time_is_scarce():
    # One 8-hour window, slots of 15 + 5 min = 24 slots; revisit ≥ 20 min lets any point take
    # any slot, so visits follow the risks 12 : 7 : 5 exactly (24 = 12 + 7 + 5).
    opts = ScheduleOptions(revisit_minutes=20, travel_minutes=5)
    sched = schedule_shift(
        1,
        6,
        opts,
        risks=[12, 7, 5],
        tour=[0, 1, 2],
        travel=5,
        window_hours=set(range(6, 14)),
        hourly=[1] * 24,
    )
    counts = [sum(1 for v in sched.visits if v.point == p) for p in range(3)]
    assert counts == [12, 7, 5]


def test_koper_dosage_caps_visits_per_point():
    # Two points, window 18–22 h (240 min), revisit 120 min: at most 2 visits each.
    opts = ScheduleOptions()
    sched = schedule_shift(
        2,
        14,
        opts,
        risks=[9, 3],
        tour=[0, 1],
        travel=5,
        window_hours={18, 19, 20, 21},
        hourly=[1] * 24,
    )
    for p in range(2):
        starts = sorted(v.start for v in sched.visits if v.point == p)
        assert len(starts) == 2
        assert all(b - a >= 120 for a, b in itertools.pairwise(starts))


@settings(max_examples=60, deadline=None)
@given(
    units=st.integers(1, 3),
    visit=st.integers(5, 30),
    revisit=st.integers(30, 180),
    travel=st.integers(0, 15),
    available=st.sampled_from([None, 0.5, 1.0, 2.5, 4.0]),
    hours=st.sets(st.integers(0, 23), max_size=24),
    risks=st.lists(st.integers(1, 30), min_size=0, max_size=6),
    start=st.integers(0, 23),
)
def test_schedule_never_exceeds_the_hours_given(
    units, visit, revisit, travel, available, hours, risks, start
):
    opts = ScheduleOptions(
        units=units,
        visit_minutes=visit,
        revisit_minutes=max(revisit, visit),
        available_hours=available,
        shifts=1,
    )
    sched = schedule_shift(
        1,
        start,
        opts,
        risks=risks,
        tour=list(range(len(risks))),
        travel=travel,
        window_hours=hours,
        hourly=[(h * 7) % 5 for h in range(24)],
    )
    for unit in range(1, units + 1):
        assert sched.minutes_used(unit) <= opts.available_minutes
        starts = [v.start for v in sched.visits if v.unit == unit]
        assert len(starts) == len(set(starts))  # one place at a time
    for v in sched.visits:
        assert any(a <= v.start and v.end + v.travel <= b for a, b in sched.segments)
        assert (start + v.start // 60) % 24 in hours  # inside a patrol window
    for p in range(len(risks)):
        starts = sorted(v.start for v in sched.visits if v.point == p)
        assert all(b - a >= opts.revisit_minutes for a, b in itertools.pairwise(starts))
        assert len(starts) <= sched.allocation[p]
