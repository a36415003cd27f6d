"""The one profile of a group of incidents: peak hours, peak days, main modalidades."""

from __future__ import annotations

import numpy as np
import pandas as pd

from parsc_geo.profile import (
    dated_weekdays,
    known_hours,
    peak_days,
    peak_days_by_group,
    peak_hours,
    peak_hours_by_group,
    top_modalidades,
)


def test_peak_hours_by_hand():
    # 3-hour windows: 19–22 holds 19, 20, 20, 21 = 4; 20–23 holds 20, 20, 21 = 3
    assert peak_hours([19, 20, 20, 21, 3]) == "19–22 h"
    # across midnight: 22–1 holds 23, 23, 0 = 3; 23–2 holds the same 3: the earlier start wins
    assert peak_hours([23, 23, 0, 12]) == "22–1 h"
    # 0–3, 1–4, 9–12 and 10–13 all hold two hours (1, 2 or 10, 11): the earliest start wins
    assert peak_hours([1, 2, 10, 11]) == "0–3 h"
    assert peak_hours([]) is None


def test_peak_days_by_hand():
    # Saturday twice, Friday and Monday once: Saturday first, then Monday (Monday first on ties)
    assert peak_days([4, 5, 5, 0]) == "sábado, lunes"
    assert peak_days([6]) == "domingo"
    assert peak_days([]) is None


def test_groups_are_profiled_separately():
    groups = np.array([0, 0, 0, 1, 1])
    hours = np.array([8, 9, 9, 22, 23])
    assert peak_hours_by_group(groups, hours, 3) == ["7–10 h", "21–24 h", None]
    weekdays = np.array([0, 0, 2, 6, 6])
    assert peak_days_by_group(groups, weekdays, 2) == ["lunes, miércoles", "domingo"]


def test_hours_need_a_known_time_days_only_a_date():
    incidents = pd.DataFrame(
        {
            # Friday 20:00, Friday 00:00 (time unknown), Saturday 21:00, no date
            "occurred_at": pd.to_datetime(
                ["2020-03-06 20:00", "2020-03-06 00:00", "2020-03-07 21:00", None]
            ).tz_localize("America/Lima"),
            "time_known": ["true", "false", True, False],
        }
    )
    rows, hours = known_hours(incidents)
    assert rows.tolist() == [0, 2] and hours.tolist() == [20, 21]
    rows, weekdays = dated_weekdays(incidents)
    assert rows.tolist() == [0, 1, 2] and weekdays.tolist() == [4, 4, 5]
    assert peak_days(weekdays) == "viernes, sábado"


def test_top_modalidades_label_with_the_delito_especifico():
    incidents = pd.DataFrame(
        {
            "delito_especifico": ["HURTO", "HURTO", "ROBO", "ROBO", "ROBO", "HURTO"],
            "modalidad": ["SIMPLE", "SIMPLE", "AGRAVADO", "AGRAVADO", "SIMPLE", "AGRAVADO"],
        }
    )
    # HURTO SIMPLE 2, ROBO AGRAVADO 2, then HURTO AGRAVADO 1 and ROBO SIMPLE 1 (alphabetical)
    assert top_modalidades(incidents) == "HURTO SIMPLE (2); ROBO AGRAVADO (2); HURTO AGRAVADO (1)"
    assert top_modalidades(incidents.iloc[:0]) is None
