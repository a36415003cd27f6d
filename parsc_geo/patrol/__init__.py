"""Patrol plans per comisaría sector (the plan's *Vecindario Seguro* activity).

:mod:`~parsc_geo.patrol.points` finds and ranks the critical points of a sector;
:mod:`~parsc_geo.patrol.windows` chooses the hours to patrol; :mod:`~parsc_geo.patrol.schedule`
spreads short visits over the shifts; :mod:`~parsc_geo.patrol.plan` puts them together
(:func:`plan_patrols`). Printable sheets and tables are written by :mod:`parsc_geo.reports`.
"""

from typing import Any

from .._compat import moved_name
from .plan import NO_SUBSECTOR, PatrolPlan, SectorPlan, clock, plan_patrols, point_id, shift_label
from .schedule import ScheduleOptions, ShiftSchedule
from .windows import DAY_TYPES, Window

__all__ = [
    "DAY_TYPES",
    "NO_SUBSECTOR",
    "PatrolPlan",
    "ScheduleOptions",
    "SectorPlan",
    "ShiftSchedule",
    "Window",
    "clock",
    "plan_patrols",
    "point_id",
    "shift_label",
]


def __getattr__(name: str) -> Any:
    """Serve names that moved elsewhere (``write_patrol_outputs``: :mod:`parsc_geo.reports`)."""
    return moved_name(__name__, name)
