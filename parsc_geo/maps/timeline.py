"""The months of an atlas: what the period control lists and what every time layer counts.

A map's period control offers the whole period and each calendar month from the first to the
last incident (months without incidents included, so that twelve months are twelve entries).
Layers that follow it carry their values per period as ``[whole, month 0, month 1, ...]``
(:meth:`Timeline.series`), and the runtime shows the entry of the period chosen.

Months are taken in the incidents' local time (:mod:`parsc_geo.localtime`: the zone of the
table, ``attrs["timezone"]``, else the times' own), as their dates are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from jinja2 import Template

from ..labels_es import MONTHS
from ..localtime import incidents_zone, local_times, wall_clock
from .base import SafeMacroElement, js_json

if TYPE_CHECKING:
    import folium
    import geopandas as gpd
    import pandas as pd

#: What the period control says follows it (internal maps), one line each.
FOLLOWS_NOTE: tuple[str, ...] = (
    "Siguen el periodo: incidentes, densidad, conteos por sector, subsector y zona, y la "
    "leyenda de incidentes.",
    "Del periodo completo: el contorno y el número de las zonas críticas, las celdas Gi* y "
    "las tendencias.",
)


def month_codes(when: pd.Series, zone: str | None = None) -> pd.Series:
    """Return ``"YYYY-MM"`` of each timestamp in local time of ``zone`` (None where missing).

    ``zone`` None reads tz-aware times in their own zone and naive times as they are
    (:func:`parsc_geo.localtime.local_times`).
    """
    times = wall_clock(local_times(when, zone))
    period = times.dt.to_period("M")
    out = period.astype("string")
    return out.where(times.notna(), None)


def month_label(code: str) -> str:
    """Return the Spanish name of a month code: ``"2020-03"`` → ``"marzo 2020"``."""
    year, month = code.split("-")
    return f"{MONTHS[int(month) - 1]} {year}"


@dataclass(frozen=True)
class Timeline:
    """Consecutive calendar months, first to last (``codes`` as ``"YYYY-MM"``)."""

    codes: tuple[str, ...]

    @classmethod
    def of(cls, incidents: pd.DataFrame | None) -> Timeline:
        """Return the months spanned by ``incidents["occurred_at"]`` (none without dates)."""
        if incidents is None or "occurred_at" not in incidents.columns or not len(incidents):
            return cls(())
        codes = month_codes(incidents["occurred_at"], incidents_zone(incidents)).dropna()
        if not len(codes):
            return cls(())
        return cls.spanning(codes.min(), codes.max())

    @classmethod
    def spanning(cls, first: str, last: str) -> Timeline:
        """Return the months from ``first`` to ``last`` (``"YYYY-MM"``), both included."""
        import pandas as pd

        start, end = pd.Period(first, "M"), pd.Period(last, "M")
        return cls(tuple(str(p) for p in pd.period_range(start, end, freq="M")))

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def labels(self) -> list[str]:
        """Spanish names of the months (``"enero 2020"``)."""
        return [month_label(c) for c in self.codes]

    def index(self, incidents: pd.DataFrame) -> np.ndarray:
        """Return each incident's month as an index into :attr:`codes` (-1: undated or outside)."""
        if "occurred_at" not in incidents.columns or not len(incidents) or not self.codes:
            return np.full(len(incidents), -1, dtype=np.int64)
        import pandas as pd

        codes = month_codes(incidents["occurred_at"], incidents_zone(incidents))
        idx = pd.Categorical(codes, categories=list(self.codes)).codes
        return np.asarray(idx, dtype=np.int64)

    def series(self, groups: np.ndarray, months: np.ndarray, n_groups: int) -> np.ndarray:
        """Count rows per group and period: shape ``(n_groups, 1 + len(self))``.

        Column 0 is the whole period (every row of a group, dated or not), column ``1 + i``
        month ``i``. ``groups`` gives each row's group (-1: none), ``months`` its month index.
        """
        groups = np.asarray(groups, dtype=np.int64)
        months = np.asarray(months, dtype=np.int64)
        out = np.zeros((n_groups, 1 + len(self)), dtype=np.int64)
        inside = groups >= 0
        out[:, 0] = np.bincount(groups[inside], minlength=n_groups)[:n_groups]
        dated = inside & (months >= 0)
        if dated.any() and len(self):
            flat = groups[dated] * len(self) + months[dated]
            per = np.bincount(flat, minlength=n_groups * len(self))[: n_groups * len(self)]
            out[:, 1:] = per.reshape(n_groups, len(self))
        return out

    def totals(self, months: np.ndarray) -> list[int]:
        """Return the number of rows in each month."""
        months = np.asarray(months, dtype=np.int64)
        counts = np.bincount(months[months >= 0], minlength=len(self))[: len(self)]
        return [int(c) for c in counts]


def counts_by_period(
    points: gpd.GeoDataFrame | None,
    polygons: gpd.GeoDataFrame,
    timeline: Timeline,
    months: np.ndarray | None = None,
) -> np.ndarray:
    """Return incidents inside each polygon per period: shape ``(n, 1 + len(timeline))``.

    Column 0 counts every incident inside (dated or not), column ``1 + i`` month ``i``
    (``months``: each point's month index, default computed from ``points``). Polygons may
    overlap: a point counts in each polygon holding it.
    """
    import geopandas as gpd

    n = len(polygons)
    if points is None or not len(points) or not n:
        return np.zeros((n, 1 + len(timeline)), dtype=np.int64)
    if months is None:
        months = timeline.index(points)
    pts = gpd.GeoDataFrame(
        {"_month": np.asarray(months, dtype=np.int64)},
        geometry=points.geometry.to_crs(polygons.crs).values,
        crs=polygons.crs,
    )
    poly = gpd.GeoDataFrame(geometry=polygons.geometry.values, crs=polygons.crs)
    joined = gpd.sjoin(pts, poly, how="inner", predicate="within")
    return timeline.series(
        joined["index_right"].to_numpy(dtype=np.int64), joined["_month"].to_numpy(), n
    )


def parts(prefix: str, series: Sequence[int], suffix: str = "") -> list[object]:
    """Return a text in parts whose count follows the period (see the runtime's ``P.text``)."""
    return [prefix, {"n": [int(v) for v in series]}, suffix]


class PeriodControl(SafeMacroElement):
    """The period control: whole period or one month, with what follows it (see runtime)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        parscGeo.periodControl({{ this._parent.get_name() }}, {{ this.data_json }});
        {% endmacro %}
        """
    )

    def __init__(self, data: dict[str, object]) -> None:
        super().__init__()
        self._name = "ParscPeriod"
        self.data_json = js_json(data)


def add_period_control(
    m: folium.Map,
    timeline: Timeline,
    counts: Sequence[int],
    total: int,
    *,
    note: Sequence[str] = FOLLOWS_NOTE,
) -> bool:
    """Add the period control when there are two months or more; return whether it was added.

    Parameters
    ----------
    m
        The map.
    timeline
        The months offered.
    counts
        Incidents of the page in each month (shown beside the month).
    total
        Incidents of the page in the whole period.
    note
        Lines saying which layers follow the period and which are of the whole period.
    """
    if len(timeline) < 2:
        return False
    PeriodControl(
        {
            "labels": timeline.labels,
            "counts": [int(c) for c in counts],
            "total": int(total),
            "note": list(note),
        }
    ).add_to(m)
    return True
