"""Local times of incidents: hours, days and dates in the zone of the place where they occurred.

An incident's hour of day, weekday and calendar date are read in the time zone of its study
area, never in a fixed one. The workspace returns ``occurred_at`` in its own zone (its
``timezone`` metadata: America/Lima for Peru, the import's ``--timezone`` elsewhere) and names it
in ``attrs["timezone"]``; :func:`parsc_geo.io.read_points` does the same for a file. So:

- tz-aware times are read in the zone given (``attrs["timezone"]`` of the table), else in their
  own zone, which is the study area's when they come from a workspace or a file;
- naive times are local wall-clock times already and are read as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def incidents_zone(incidents: Any) -> str | None:
    """Return the time zone of an incident table: ``attrs["timezone"]``, else its times' zone.

    None when the table names no zone and its ``occurred_at`` is naive or missing.
    """
    import pandas as pd

    zone = getattr(incidents, "attrs", {}).get("timezone")
    if zone:
        return str(zone)
    columns = getattr(incidents, "columns", ())
    if "occurred_at" in columns and isinstance(incidents["occurred_at"].dtype, pd.DatetimeTZDtype):
        return str(incidents["occurred_at"].dt.tz)
    return None


def local_times(values: pd.Series, zone: str | None = None) -> pd.Series:
    """Return occurrence times as local times of ``zone`` (see the module rules).

    Parameters
    ----------
    values
        Times (tz-aware or naive) or text read by :func:`pandas.to_datetime` (NaT where it fails).
    zone
        IANA zone to read tz-aware times in; None keeps their own zone.

    Returns
    -------
    pandas.Series
        Tz-aware in ``zone`` (or their own zone) when the times are aware, naive otherwise.
    """
    import pandas as pd

    times = values if pd.api.types.is_datetime64_any_dtype(values.dtype) else None
    if times is None:
        times = pd.to_datetime(values, errors="coerce")
    if zone and isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_convert(zone)
    return times


def incident_times(incidents: pd.DataFrame) -> pd.Series:
    """Return ``occurred_at`` of ``incidents`` as local times of the table's zone."""
    return local_times(incidents["occurred_at"], incidents_zone(incidents))


def wall_clock(times: pd.Series) -> pd.Series:
    """Return local times without their zone (the clock reading: 21:30 stays 21:30)."""
    import pandas as pd

    if isinstance(times.dtype, pd.DatetimeTZDtype):
        return times.dt.tz_localize(None)
    return times
