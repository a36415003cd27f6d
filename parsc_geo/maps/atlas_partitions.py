"""What an atlas needs of incidents held in partitions (a distributed run), computed by tasks.

In a distributed run the incidents are written by province into partitions
(:mod:`parsc_geo.partitions`) and this process need not hold them:
:func:`summarise_partitions` asks one task per partition for what the whole atlas needs (its
columns, dates, months, provinces and study area) and :func:`rows_near` for the positions of
the incidents near each page, which the page's task then reads itself. The results are those
:func:`parsc_geo.maps.atlas.write_atlas` computes from the table: the same period, months,
pages and rows in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import settings
from .._text import fold as _fold

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from ..area import StudyArea
    from ..partitions import Partition, Pieces
    from .timeline import Timeline

#: Columns a partition's summary reads besides the geometry: dates, provinces, UBIGEO, and the
#: categories every map needs (to check they are there).
SUMMARY_COLUMNS: tuple[str, ...] = (
    "occurred_at",
    "provincia",
    "ubigeo",
    "delito_generico",
    "fenomeno",
)


@dataclass(frozen=True)
class PartSummary:
    """What one partition tells of its incidents (:func:`summarise_part`).

    Attributes
    ----------
    columns
        Its columns among :data:`SUMMARY_COLUMNS` and the geometry's name.
    crs
        Its CRS.
    rows
        Its number of incidents.
    dates
        First and last date (local time, :func:`parsc_geo.localtime.incident_times`), or None.
    months
        First and last month (``"YYYY-MM"``, :class:`parsc_geo.maps.timeline.Timeline`), or None.
    provinces
        Provinces (folded, :func:`parsc_geo._text.fold`) of the incidents that name one.
    departments
        The departments' UBIGEO (two digits) of the ``ubigeo`` column.
    """

    columns: tuple[str, ...]
    crs: Any
    rows: int
    dates: tuple[pd.Timestamp, pd.Timestamp] | None
    months: tuple[str, str] | None
    provinces: frozenset[str]
    departments: frozenset[str]


def period_of(first: Any, last: Any) -> str:
    """Return the period text of :func:`parsc_geo.maps.atlas.period_text` (first, last dates).

    Examples
    --------
    >>> import pandas as pd
    >>> period_of(pd.Timestamp("2020-01-05"), pd.Timestamp("2020-03-01 10:00"))
    '2020-01-05 a 2020-03-01'
    """
    return f"{first:%Y-%m-%d} a {last:%Y-%m-%d}"


def summarise_part(incidents: gpd.GeoDataFrame) -> PartSummary:
    """Return a partition's :class:`PartSummary` (a task: read :data:`SUMMARY_COLUMNS`)."""
    from .._text import fold_values
    from ..localtime import incident_times
    from .timeline import Timeline

    dates = None
    if "occurred_at" in incidents.columns and len(incidents):
        when = incident_times(incidents).dropna()
        if len(when):
            dates = (when.min(), when.max())
    months = Timeline.of(incidents).codes
    provinces: frozenset[str] = frozenset()
    if "provincia" in incidents.columns:
        named = incidents["provincia"].notna()
        provinces = frozenset(fold_values(incidents["provincia"])[named])
    departments: frozenset[str] = frozenset()
    if "ubigeo" in incidents.columns:
        codes = incidents["ubigeo"].dropna().astype(str).unique()
        departments = frozenset(c[:2] for c in codes if len(c) >= 2 and c[:2].isdigit())
    return PartSummary(
        tuple(incidents.columns),
        incidents.crs,
        len(incidents),
        dates,
        (months[0], months[-1]) if months else None,
        provinces,
        departments,
    )


def provinces_touched(incidents: gpd.GeoDataFrame, provinces: gpd.GeoDataFrame) -> frozenset[str]:
    """Return the provinces (folded names) that a partition's incidents touch (a task)."""
    if not len(incidents):
        return frozenset()
    touched = provinces[provinces.intersects(incidents.to_crs(provinces.crs).geometry.union_all())]
    return frozenset(touched["provincia"].map(_fold))


@dataclass
class AtlasIncidents:
    """What an atlas needs of the incidents of partitions (:func:`summarise_partitions`).

    Attributes
    ----------
    partitions
        The partitions, every incident in one.
    columns, crs
        The incidents' columns (of :data:`SUMMARY_COLUMNS`, and the geometry) and CRS.
    territory
        Their study area (:func:`parsc_geo.area.area_of` of the table).
    period
        Their period (:func:`parsc_geo.maps.atlas.period_text` of the table).
    timeline
        Their months (:meth:`parsc_geo.maps.timeline.Timeline.of` the table).
    present
        The provinces (folded names) with incidents, as the atlas finds them in the table.
    attrs
        The table's ``attrs``.
    """

    partitions: list[Partition]
    columns: tuple[str, ...]
    crs: Any
    territory: StudyArea
    period: str | None
    timeline: Timeline
    present: set[str]
    attrs: dict[str, Any]


def summarise_partitions(partitions: Sequence[Partition], *, pool: Any = 1) -> AtlasIncidents:
    """Return what an atlas needs of the incidents of ``partitions``, each read by a task.

    Parameters
    ----------
    partitions
        The partitions holding the incidents, every incident in one (at least one partition).
    pool
        A :class:`parsc_geo.parallel.WorkerPool` (or Dask pool), or a number of workers.

    Returns
    -------
    AtlasIncidents
        The columns, CRS, study area, period, months and provinces with incidents of their
        table, as :func:`parsc_geo.maps.atlas.write_atlas` finds them in it.
    """
    import pandas as pd

    from ..area import area_of
    from ..partitions import map_partitions
    from .timeline import Timeline

    parts = list(partitions)
    found = map_partitions(summarise_part, parts, pool=pool, columns=SUMMARY_COLUMNS)
    attrs = dict(parts[0].attrs)
    columns = found[0].columns
    # the study area as area_of finds it in the table: recorded, else the UBIGEO's departments
    probe = pd.DataFrame(
        {"ubigeo": sorted(set().union(*(f.departments for f in found)))}
        if "ubigeo" in columns
        else {}
    )
    probe.attrs.update(attrs)
    territory = area_of(probe, quiet=False)
    dated = [f.dates for f in found if f.dates is not None]
    period = period_of(min(d[0] for d in dated), max(d[1] for d in dated)) if dated else None
    spans = [f.months for f in found if f.months is not None]
    timeline = (
        Timeline.spanning(min(s[0] for s in spans), max(s[1] for s in spans))
        if spans
        else Timeline(())
    )
    if "provincia" in columns and any(f.provinces for f in found):
        present = set().union(*(f.provinces for f in found))
    else:
        touched = map_partitions(
            provinces_touched, parts, pool=pool, columns=(), args=(territory.provinces(),)
        )
        present = set().union(*touched)
    return AtlasIncidents(parts, columns, found[0].crs, territory, period, timeline, present, attrs)


def page_hits(incidents: gpd.GeoDataFrame, boxes: Sequence[Any]) -> tuple[np.ndarray, list[Any]]:
    """Return a partition's index and, for each box, the positions of its incidents in it.

    A task of :func:`rows_near`: the incidents whose point (in
    :data:`parsc_geo.settings.CRS_GEOGRAPHIC`) falls in each box (a shapely polygon), by the
    spatial index the atlas queries (their positions ascending).
    """
    import numpy as np
    import shapely

    geographic = incidents.to_crs(settings.CRS_GEOGRAPHIC)
    tree = shapely.STRtree(np.asarray(geographic.geometry.values))
    hits = [np.sort(tree.query(box)).astype(np.int64) for box in boxes]
    return incidents.index.to_numpy(), hits


def rows_near(
    partitions: Sequence[Partition],
    boxes: Sequence[Any],
    columns: frozenset[str],
    *,
    pool: Any = 1,
) -> list[Pieces]:
    """Return, for each box, the incidents in it as a page's task reads them (in table order).

    Parameters
    ----------
    partitions
        The partitions holding the incidents, every incident in one.
    boxes
        Polygons in :data:`parsc_geo.settings.CRS_GEOGRAPHIC` (one per page).
    columns
        The only columns the pages read besides the geometry.
    pool
        A :class:`parsc_geo.parallel.WorkerPool` (or Dask pool), or a number of workers.

    Returns
    -------
    list of parsc_geo.partitions.Pieces
        One per box: where its incidents are (this process reads none of them).
    """
    from ..partitions import Pieces, map_partitions

    parts = list(partitions)
    found = map_partitions(page_hits, parts, pool=pool, columns=(), args=(list(boxes),))
    return [
        Pieces.in_index_order(
            [
                (partition, hits[k], index[hits[k]])
                for partition, (index, hits) in zip(parts, found, strict=True)
            ],
            columns,
        )
        for k in range(len(boxes))
    ]
