"""When and what: peak hours, peak days and main modalidades of groups of incidents.

One profile for every table that describes a group of incidents — a hotspot
(:mod:`parsc_geo.hotspots`) or a patrol critical point (:mod:`parsc_geo.patrol.points`):

``peak_hours``
    The :data:`PEAK_HOURS_WINDOW`-hour run of the clock (wrapping at midnight) holding most
    incidents whose time is known, written ``"19–22 h"`` (``"22–1 h"`` across midnight); the
    earliest start wins ties. Incidents with a date but no time (``time_known`` False) are left
    out: their midnight is not a real hour.
``peak_days``
    The :data:`PEAK_DAYS` days of the week with most incidents with a date (a date without a
    time still has a weekday), most frequent first, Monday first on ties: ``"viernes, sábado"``.
``top_modalidades``
    The :data:`TOP_MODALIDADES` most frequent modalidades (labelled with their delito
    específico, :func:`parsc_geo.schema.modalidad_label`): ``"HURTO SIMPLE (12); ROBO (5)"``.

Each is None for a group without the data it needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from .schema import DAY_NAMES_ES, modalidad_label

if TYPE_CHECKING:
    import pandas as pd

#: Width (hours) of the peak-hour window.
PEAK_HOURS_WINDOW: Final = 3
#: Number of days listed in ``peak_days``.
PEAK_DAYS: Final = 2
#: Number of modalidades listed in ``top_modalidades``.
TOP_MODALIDADES: Final = 3


def local_times(incidents: pd.DataFrame) -> pd.Series | None:
    """Return ``occurred_at`` as local times of the incidents' own zone, None without it.

    NaT where missing; see :mod:`parsc_geo.localtime`.
    """
    from .localtime import incident_times

    if "occurred_at" not in incidents.columns:
        return None
    return incident_times(incidents)


def known_hours(incidents: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return (row positions, hours) of the incidents whose time of day is known."""
    from ._text import as_bool

    times = local_times(incidents)
    if times is None:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    known = times.notna().to_numpy().copy()
    if "time_known" in incidents.columns:
        known &= as_bool(incidents["time_known"])
    rows = np.flatnonzero(known)
    return rows, times.dt.hour.to_numpy()[known].astype(np.int64)


def dated_weekdays(incidents: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return (row positions, weekdays 0 = Monday) of the incidents with a date."""
    times = local_times(incidents)
    if times is None:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    dated = times.notna().to_numpy()
    rows = np.flatnonzero(dated)
    return rows, times.dt.day_of_week.to_numpy()[dated].astype(np.int64)


def _format_hours(start: int, width: int) -> str:
    end = start + width if start + width <= 24 else start + width - 24
    return f"{start}–{end} h"


def peak_hours_by_group(
    groups: np.ndarray, hours: np.ndarray, n_groups: int, width: int = PEAK_HOURS_WINDOW
) -> list[str | None]:
    """Return the peak-hour window of each group (see the module docstring).

    Parameters
    ----------
    groups
        Group (0 … ``n_groups`` − 1) of each incident of known time.
    hours
        Hour of day (0–23) of each of those incidents.
    n_groups
        Number of groups.
    width
        Width of the window in hours.
    """
    out: list[str | None] = [None] * n_groups
    if len(hours) == 0:
        return out
    table = np.zeros((n_groups, 24), dtype=np.int64)
    np.add.at(table, (np.asarray(groups, dtype=np.int64), np.asarray(hours, dtype=np.int64)), 1)
    windows = sum(np.roll(table, -k, axis=1) for k in range(width))
    start = np.argmax(windows, axis=1)
    for g in np.unique(groups):
        out[int(g)] = _format_hours(int(start[int(g)]), width)
    return out


def peak_days_by_group(
    groups: np.ndarray, weekdays: np.ndarray, n_groups: int, k: int = PEAK_DAYS
) -> list[str | None]:
    """Return the ``k`` peak days of each group (see the module docstring)."""
    out: list[str | None] = [None] * n_groups
    if len(weekdays) == 0:
        return out
    table = np.zeros((n_groups, 7), dtype=np.int64)
    np.add.at(table, (np.asarray(groups, dtype=np.int64), np.asarray(weekdays, dtype=np.int64)), 1)
    for g in np.unique(groups):
        counts = table[int(g)]
        order = np.lexsort((np.arange(7), -counts))
        chosen = [int(d) for d in order[:k] if counts[d] > 0]
        out[int(g)] = ", ".join(DAY_NAMES_ES[d] for d in chosen)
    return out


def top_modalidades_by_group(
    incidents: pd.DataFrame, groups: np.ndarray, n_groups: int, k: int = TOP_MODALIDADES
) -> list[str | None]:
    """Return the ``k`` most frequent modalidades of each group, ``"LABEL (n); …"``.

    Parameters
    ----------
    incidents
        Incidents with ``modalidad`` (and ``delito_especifico``), one row per entry of
        ``groups``.
    groups
        Group of each incident.
    n_groups
        Number of groups.
    k
        How many modalidades to list.
    """
    import pandas as pd

    out: list[str | None] = [None] * n_groups
    if "modalidad" not in incidents.columns or len(incidents) == 0:
        return out

    def text(column: str) -> Any:
        if column not in incidents.columns:
            return ""
        values = incidents[column].astype("object")
        return values.where(values.notna(), "").to_numpy()

    frame = pd.DataFrame({"_g": np.asarray(groups), "_esp": text("delito_especifico")})
    frame["_mod"] = text("modalidad")
    pairs = frame.groupby(["_g", "_esp", "_mod"], sort=False).size().reset_index(name="_c")
    pairs["_label"] = [
        modalidad_label(str(e), str(m))
        for e, m in zip(pairs["_esp"].to_numpy(), pairs["_mod"].to_numpy(), strict=True)
    ]
    pairs = pairs[pairs["_label"] != ""]
    labels = pairs.groupby(["_g", "_label"], sort=False)["_c"].sum().reset_index()
    labels = labels.sort_values(
        ["_g", "_c", "_label"], ascending=[True, False, True], kind="stable"
    )
    labels = labels.groupby("_g", sort=False).head(k)
    for g, group in labels.groupby("_g", sort=False):
        out[int(str(g))] = "; ".join(
            f"{lab} ({c})" for lab, c in zip(group["_label"], group["_c"], strict=True)
        )
    return out


def peak_hours(hours: Iterable[int], width: int = PEAK_HOURS_WINDOW) -> str | None:
    """Return the peak-hour window of one group of hours (None without hours).

    Examples
    --------
    >>> peak_hours([19, 20, 20, 21, 3])
    '19–22 h'
    >>> peak_hours([23, 23, 0, 12])
    '22–1 h'
    """
    values = np.asarray(list(hours), dtype=np.int64)
    return peak_hours_by_group(np.zeros(len(values), dtype=np.int64), values, 1, width)[0]


def peak_days(weekdays: Iterable[int], k: int = PEAK_DAYS) -> str | None:
    """Return the ``k`` peak days of one group of weekdays (0 = Monday; None without any).

    Examples
    --------
    >>> peak_days([4, 5, 5, 0])
    'sábado, lunes'
    """
    values = np.asarray(list(weekdays), dtype=np.int64)
    return peak_days_by_group(np.zeros(len(values), dtype=np.int64), values, 1, k)[0]


def top_modalidades(incidents: pd.DataFrame, k: int = TOP_MODALIDADES) -> str | None:
    """Return the ``k`` most frequent modalidades of one group of incidents (None if none)."""
    return top_modalidades_by_group(incidents, np.zeros(len(incidents), dtype=np.int64), 1, k)[0]
