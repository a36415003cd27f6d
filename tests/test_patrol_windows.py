"""Hour × day tables and patrol windows (minimality checked by brute force)."""

from __future__ import annotations

import itertools
import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsc_geo._errors import ConfigError
from parsc_geo.patrol.windows import (
    Window,
    block_counts,
    hour_day_table,
    hourly_counts,
    merge_blocks,
    minimal_cover,
    patrol_windows,
    window_hours,
)

TZ = "America/Lima"


def _frame(rows):
    return pd.DataFrame(
        {
            "occurred_at": pd.to_datetime([r[0] for r in rows]).tz_localize(TZ),
            "time_known": [r[1] for r in rows],
        }
    )


# -- check inputs -----------------------------------------------------------------------------


@pytest.mark.parametrize("share", [0, -0.1, 1.5])
def test_share_out_of_range_is_rejected(share):
    with pytest.raises(ConfigError, match="share"):
        patrol_windows(hour_day_table(_frame([])), share=share)


@pytest.mark.parametrize("block", [0, 5, 7, 25])
def test_block_hours_must_divide_24(block):
    with pytest.raises(ConfigError, match="block_hours"):
        patrol_windows(hour_day_table(_frame([])), block_hours=block)


# -- check outputs ----------------------------------------------------------------------------


def test_hour_day_table_counts_by_hand_and_skips_unknown_times():
    # 2020-03-06 is a Friday, 2020-03-07 a Saturday, 2020-03-09 a Monday.
    rows = [
        ("2020-03-06 20:15", True),
        ("2020-03-06 20:45", True),
        ("2020-03-07 02:00", True),
        ("2020-03-09 00:00", False),
        ("2020-03-09 08:59", True),
    ]
    table = hour_day_table(_frame(rows))
    assert table.shape == (24, 7)
    assert int(table.to_numpy().sum()) == 4
    assert table.loc[20, "viernes"] == 2
    assert table.loc[2, "sábado"] == 1
    assert table.loc[8, "lunes"] == 1
    assert table.loc[0, "lunes"] == 0  # unknown time is not midnight


def test_hour_day_table_reads_times_in_the_incidents_zone():
    frame = pd.DataFrame(
        {
            "occurred_at": pd.to_datetime(["2020-03-07 01:30"]).tz_localize("UTC"),
            "time_known": [True],
        }
    )
    frame.attrs["timezone"] = "America/Lima"
    table = hour_day_table(frame)
    # 01:30 UTC on Saturday is 20:30 on Friday in Lima (UTC−5).
    assert table.loc[20, "viernes"] == 1
    # without a zone named, aware times are read in their own zone (01:30 on Saturday)
    frame.attrs.clear()
    assert hour_day_table(frame).loc[1, "sábado"] == 1


def test_minimal_cover_by_hand():
    counts = [0, 5, 1, 9, 0, 3]
    # total 18, 60 % → 10.8 → 11 incidents: 9 + 5 = 14 with two blocks; one block is not enough.
    assert minimal_cover(counts, 0.6) == [1, 3]
    assert minimal_cover(counts, 0.5) == [3]  # 9 ≥ ceil(9.0)
    assert minimal_cover([0, 0, 0], 0.6) == []
    assert minimal_cover([2, 2, 2, 2, 2], 0.6) == [0, 1, 2]  # ties to the earlier blocks


def test_share_times_total_is_not_rounded_up_by_float_error():
    # 0.6 × 10 = 6.000000000000001 in floating point: 6 incidents must be enough.
    assert minimal_cover([6, 4], 0.6) == [0]


@settings(max_examples=150, deadline=None)
@given(
    counts=st.lists(st.integers(min_value=0, max_value=12), min_size=6, max_size=12),
    share=st.floats(min_value=0.05, max_value=1.0),
)
def test_minimal_cover_matches_brute_force(counts, share):
    total = sum(counts)
    chosen = minimal_cover(counts, share)
    if total == 0:
        assert chosen == []
        return
    target = math.ceil(share * total - 1e-9)
    best_k, best_cover = None, None
    for k in range(0, len(counts) + 1):
        covers = [sum(counts[i] for i in c) for c in itertools.combinations(range(len(counts)), k)]
        feasible = [c for c in covers if c >= target]
        if feasible:
            best_k, best_cover = k, max(feasible)
            break
    assert len(chosen) == best_k
    assert sum(counts[i] for i in chosen) == best_cover
    assert sum(counts[i] for i in chosen) >= share * total - 1e-9


def test_windows_merge_across_midnight():
    counts = [5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]  # 2-hour blocks: 00–02 and 22–24
    windows = merge_blocks([0, 11], counts, 2, "laborable")
    assert windows == [Window("laborable", 22, 4, 12)]
    assert windows[0].label == "22:00–02:00"
    assert window_hours(windows) == {22, 23, 0, 1}


def test_patrol_windows_cover_the_share_per_day_type():
    rows = []
    # Weekdays: 8 at 19–20 h on Wednesday, 2 at 09 h on Monday; weekend: 3 at 03 h on Sunday.
    rows += [("2020-03-04 19:10", True)] * 5 + [("2020-03-04 20:10", True)] * 3
    rows += [("2020-03-02 09:00", True)] * 2
    rows += [("2020-03-08 03:30", True)] * 3
    table = hour_day_table(_frame(rows))
    windows = patrol_windows(table, share=0.5, block_hours=1)
    assert [w.label for w in windows["laborable"]] == ["19:00–20:00"]  # 5 of 10
    windows = patrol_windows(table, share=0.6, block_hours=1)
    assert [w.label for w in windows["laborable"]] == ["19:00–21:00"]  # 5 + 3 ≥ 6
    windows = patrol_windows(table, share=0.9, block_hours=1)
    assert [w.label for w in windows["laborable"]] == ["09:00–10:00", "19:00–21:00"]
    assert [w.label for w in windows["fin_de_semana"]] == ["03:00–04:00"]
    hourly = hourly_counts(table, "laborable")
    assert sum(hourly) == 10
    blocks = block_counts(hourly, 2)
    assert (blocks[4], blocks[9], blocks[10]) == (2, 5, 3)  # 08–10, 18–20, 20–22 h
    assert sum(blocks) == 10
