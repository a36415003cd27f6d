"""Patrol plans per comisaría sector: critical points, hours and days, windows and a schedule.

The plan's *Vecindario Seguro* activity (A43) asks each comisaría to patrol by sectors. For every
sector (and its subsectors) :func:`plan_patrols` gathers the ranked critical points, the counts
and harm by modalidad, the hour-of-day × day-of-week table, the recommended patrol windows and a
schedule of short, repeated visits (Koper 1995). The printable sheets and the machine-readable
tables are written by :func:`parsc_geo.reports.write_patrol_outputs`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .._errors import ConfigError, CRSError, InputDataError, InsufficientDataError
from .._text import as_bool
from ..schema import DAY_NAMES_ES
from ..sectors import sort_key
from .places import LOCATION_COLUMNS
from .points import (
    DEFAULT_CELL_SIZE_M,
    DEFAULT_CORE_RADIUS_M,
    DEFAULT_EPS_M,
    DEFAULT_MAX_AREA_M2,
    DEFAULT_MAX_POINTS,
    DEFAULT_METHOD,
    DEFAULT_MIN_COUNT,
    METHODS,
    POINT_COLUMNS,
)
from .schedule import ScheduleOptions, ShiftSchedule
from .windows import DAY_TYPES, DEFAULT_BLOCK_HOURS, DEFAULT_SHARE, Window

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    from pyproj import CRS
    from shapely.geometry.base import BaseGeometry

    from ..parallel import Pending, WorkerPool
    from ..partitions import Partition

#: Label of incidents inside a sector but in no subsector.
NO_SUBSECTOR = "(sin subsector)"
#: What the summary says of a sector without incidents (it gets no patrol sheet).
NO_SHEET = "sin denuncias en el periodo: sin hoja de patrullaje"
#: What the summary says of a comisaría without incidents (it gets no PDF).
NO_SHEETS = "sin denuncias en el periodo: sin hojas de patrullaje"

_INCIDENT_NEEDS = (
    "incident_id",
    "occurred_at",
    "time_known",
    "delito_especifico",
    "modalidad",
    "harm",
    "comisaria",
    "sector",
    "subsector",
)


@dataclass
class SectorPlan:
    """Everything a patrol sheet shows for one sector.

    Attributes
    ----------
    comisaria, comisaria_id, sector
        Identity of the sector.
    geometry
        Sector polygon (union of its subsectors) in the plan's metric CRS.
    subsectors
        The sector's subsector polygons (metric CRS), in natural label order.
    incidents
        The sector's incidents (metric CRS).
    hour_day
        24 × 7 table of incidents with a known time (see
        :func:`parsc_geo.patrol_windows.hour_day_table`).
    windows
        Patrol windows per day type.
    points
        Critical points (dicts, rank order, metric geometry).
    tour
        Visiting order of the points (indices into ``points``).
    travel_minutes
        Minutes allowed between two visits.
    schedules
        Day type → one :class:`~parsc_geo.patrol_schedule.ShiftSchedule` per shift.
    notes
        Notes about the data of this sector (Spanish).
    """

    comisaria: str
    comisaria_id: str | None
    sector: str
    geometry: BaseGeometry
    subsectors: gpd.GeoDataFrame
    incidents: gpd.GeoDataFrame
    hour_day: pd.DataFrame
    windows: dict[str, list[Window]]
    points: list[dict[str, Any]]
    tour: list[int]
    travel_minutes: int
    schedules: dict[str, list[ShiftSchedule]]
    notes: list[str] = field(default_factory=list)

    @property
    def n_incidents(self) -> int:
        """Incidents in the sector."""
        return len(self.incidents)

    @property
    def n_no_time(self) -> int:
        """Incidents in the sector whose time of day is unknown."""
        return int((~as_bool(self.incidents["time_known"])).sum())

    def subsector_counts(self) -> list[tuple[str, int, float]]:
        """Return ``(subsector, incidents, harm)`` per subsector, in natural label order.

        Every subsector of the layer appears (with zero incidents if none); incidents with no
        subsector are counted under :data:`NO_SUBSECTOR` (listed last, only when present).
        """
        labels = [str(s) for s in self.subsectors["subsector"]]
        sub = self.incidents["subsector"].where(self.incidents["subsector"].notna(), NO_SUBSECTOR)
        rows = []
        for label in labels:
            mask = (sub == label).to_numpy()
            rows.append((label, int(mask.sum()), float(self.incidents["harm"][mask].sum())))
        extra = sorted(set(sub.astype(str)) - set(labels), key=sort_key)
        for label in extra:
            mask = (sub == label).to_numpy()
            rows.append((label, int(mask.sum()), float(self.incidents["harm"][mask].sum())))
        return rows

    def window_share(self, day_type: str) -> float:
        """Share of the day type's incidents (with a known time) inside its windows."""
        from .windows import hourly_counts, window_hours

        hourly = hourly_counts(self.hour_day, day_type)
        total = sum(hourly)
        if total == 0:
            return 0.0
        hours = window_hours(self.windows[day_type])
        return sum(hourly[h] for h in hours) / total


@dataclass
class PatrolPlan:
    """Patrol plans of one or more comisarías, one :class:`SectorPlan` per sector.

    Attributes
    ----------
    sectors
        Sector plans ordered by comisaría, then sector label (natural order).
    crs
        Metric CRS of the geometries.
    schedule_options
        Resources and dosage of the schedules.
    parameters
        Every parameter used, including automatic choices.
    period
        First and last date of the incidents (ISO strings), or None without incidents.
    n_outside
        Incidents of the selected comisarías that fall in no sector.
    """

    sectors: list[SectorPlan]
    crs: CRS
    schedule_options: ScheduleOptions
    parameters: dict[str, Any]
    period: tuple[str, str] | None
    n_outside: int

    def points_frame(self) -> gpd.GeoDataFrame:
        """Return every critical point as a GeoDataFrame (EPSG:4326, :data:`POINT_COLUMNS`)."""
        import geopandas as gpd

        from ..settings import CRS_GEOGRAPHIC

        rows = []
        geoms = []
        for sp in self.sectors:
            tour_pos = {p: k + 1 for k, p in enumerate(sp.tour)}
            for k, pt in enumerate(sp.points):
                rows.append(
                    {
                        "punto_id": point_id(sp, pt["rango"]),
                        "comisaria": sp.comisaria,
                        "comisaria_id": sp.comisaria_id,
                        "sector": sp.sector,
                        **{c: pt[c] for c in ("subsector", "rango", "n", "dano", "riesgo")},
                        **{c: pt[c] for c in ("area_m2", "modalidades", "horas_pico", "dias_pico")},
                        "orden_visita": tour_pos[k],
                        "visitas_laborable": _visits(sp, "laborable", k),
                        "visitas_fin_de_semana": _visits(sp, "fin_de_semana", k),
                        "metodo": self.parameters["method"],
                        "origen_id": pt["origen_id"],
                        **{c: pt.get(c) for c in LOCATION_COLUMNS},
                    }
                )
                geoms.append(pt["geometry"])
        gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs=self.crs).to_crs(CRS_GEOGRAPHIC)
        if len(gdf):
            gdf["rango_comisaria"] = _rank_within(gdf, ["comisaria"])
            gdf["rango_subsector"] = _rank_within(gdf, ["comisaria", "sector", "subsector"])
        for col in POINT_COLUMNS:
            if col not in gdf:
                gdf[col] = []
        gdf = gdf[[*POINT_COLUMNS, "geometry"]]
        gdf.attrs["parameters"] = dict(self.parameters)
        return gdf

    def schedule_frame(self) -> pd.DataFrame:
        """Return every scheduled visit: one row per visit, in sheet order."""
        import pandas as pd

        rows = []
        for sp in self.sectors:
            for day_type, shifts in sp.schedules.items():
                for sh in shifts:
                    for order, v in enumerate(sh.visits, start=1):
                        pt = sp.points[v.point]
                        rows.append(
                            {
                                "comisaria": sp.comisaria,
                                "sector": sp.sector,
                                "tipo_dia": DAY_TYPES[day_type][0],
                                "turno": sh.shift,
                                "horario_turno": shift_label(
                                    sh.start_hour, self.schedule_options.shift_hours
                                ),
                                "unidad": v.unit,
                                "orden": order,
                                "inicio": clock(sh.start_hour, v.start),
                                "fin": clock(sh.start_hour, v.end),
                                "punto": pt["rango"],
                                "punto_id": point_id(sp, pt["rango"]),
                                "subsector": pt["subsector"],
                                "minutos_visita": v.end - v.start,
                                "minutos_traslado": v.travel,
                            }
                        )
        columns = [
            "comisaria",
            "sector",
            "tipo_dia",
            "turno",
            "horario_turno",
            "unidad",
            "orden",
            "inicio",
            "fin",
            "punto",
            "punto_id",
            "subsector",
            "minutos_visita",
            "minutos_traslado",
        ]
        return pd.DataFrame(rows, columns=columns)

    def windows_frame(self) -> pd.DataFrame:
        """Return the patrol windows: one row per window, per sector and day type."""
        import pandas as pd

        rows = []
        for sp in self.sectors:
            for day_type, windows in sp.windows.items():
                share = sp.window_share(day_type)
                for w in windows:
                    rows.append(
                        {
                            "comisaria": sp.comisaria,
                            "sector": sp.sector,
                            "tipo_dia": DAY_TYPES[day_type][0],
                            "ventana": w.label,
                            "hora_inicio": w.start_hour,
                            "horas": w.hours,
                            "n": w.n,
                            "cobertura_tipo_dia": round(share, 4),
                        }
                    )
        columns = [
            "comisaria",
            "sector",
            "tipo_dia",
            "ventana",
            "hora_inicio",
            "horas",
            "n",
            "cobertura_tipo_dia",
        ]
        return pd.DataFrame(rows, columns=columns)

    def summary_frame(self) -> pd.DataFrame:
        """Return incident counts per comisaría, sector and subsector (they add up)."""
        import pandas as pd

        rows = []
        by_comisaria: dict[str, list[SectorPlan]] = {}
        for sp in self.sectors:
            by_comisaria.setdefault(sp.comisaria, []).append(sp)
        for comisaria, plans in by_comisaria.items():
            rows.append(
                {
                    "nivel": "comisaría",
                    "comisaria": comisaria,
                    "sector": None,
                    "subsector": None,
                    "n": sum(p.n_incidents for p in plans),
                    "n_sin_hora": sum(p.n_no_time for p in plans),
                    "dano": round(sum(float(p.incidents["harm"].sum()) for p in plans), 6),
                    "puntos_criticos": sum(len(p.points) for p in plans),
                    "observacion": NO_SHEETS if not sum(p.n_incidents for p in plans) else None,
                }
            )
            for sp in plans:
                rows.append(
                    {
                        "nivel": "sector",
                        "comisaria": comisaria,
                        "sector": sp.sector,
                        "subsector": None,
                        "n": sp.n_incidents,
                        "n_sin_hora": sp.n_no_time,
                        "dano": round(float(sp.incidents["harm"].sum()), 6),
                        "puntos_criticos": len(sp.points),
                        "observacion": NO_SHEET if not sp.n_incidents else None,
                    }
                )
                sub = sp.incidents["subsector"].where(
                    sp.incidents["subsector"].notna(), NO_SUBSECTOR
                )
                no_time = ~as_bool(sp.incidents["time_known"])
                for label, n, harm in sp.subsector_counts():
                    mask = (sub == label).to_numpy()
                    rows.append(
                        {
                            "nivel": "subsector",
                            "comisaria": comisaria,
                            "sector": sp.sector,
                            "subsector": label,
                            "n": n,
                            "n_sin_hora": int(no_time[mask].sum()),
                            "dano": round(harm, 6),
                            "puntos_criticos": sum(1 for p in sp.points if p["subsector"] == label),
                            "observacion": None,
                        }
                    )
        columns = [
            "nivel",
            "comisaria",
            "sector",
            "subsector",
            "n",
            "n_sin_hora",
            "dano",
            "puntos_criticos",
            "observacion",
        ]
        return pd.DataFrame(rows, columns=columns)

    def modalidades_frame(self) -> pd.DataFrame:
        """Return incidents and harm by modalidad per comisaría, sector and subsector."""
        import pandas as pd

        from ..schema import modalidad_label

        frames = []
        # one table of every sector's incidents, grouped at each level
        data = self.incidents_frame()
        for level, keys in (
            ("comisaría", ["comisaria"]),
            ("sector", ["comisaria", "sector"]),
            ("subsector", ["comisaria", "sector", "subsector"]),
        ):
            if not len(data):
                continue
            grouped = (
                data.groupby([*keys, "delito_especifico", "modalidad"], sort=False, dropna=False)
                .agg(n=("incident_id", "size"), dano=("harm", "sum"))
                .reset_index()
            )
            grouped.insert(0, "nivel", level)
            frames.append(grouped)
        columns = [
            "nivel",
            "comisaria",
            "sector",
            "subsector",
            "delito_especifico",
            "modalidad",
            "etiqueta",
            "n",
            "dano",
        ]
        if not frames:
            return pd.DataFrame(columns=columns)
        out = pd.concat(frames, ignore_index=True)
        for col in ("sector", "subsector"):
            if col not in out:
                out[col] = None
        out["etiqueta"] = [
            modalidad_label(str(e), str(m))
            for e, m in zip(out["delito_especifico"], out["modalidad"], strict=True)
        ]
        out["dano"] = out["dano"].astype(float).round(6)
        level_order = {"comisaría": 0, "sector": 1, "subsector": 2}
        cols = {c: list(out[c]) for c in ("nivel", "comisaria", "sector", "subsector", "n")}
        labels = list(out["etiqueta"])

        def row_key(i: int) -> tuple[Any, ...]:
            return (
                sort_key(cols["comisaria"][i]),
                level_order[cols["nivel"][i]],
                sort_key(cols["sector"][i]),
                sort_key(cols["subsector"][i]),
                -int(cols["n"][i]),
                labels[i],
            )

        out = out.iloc[sorted(range(len(out)), key=row_key)]
        return out[columns].reset_index(drop=True)

    def hour_day_frame(self) -> pd.DataFrame:
        """Return hour × day counts per comisaría, sector and subsector in long form.

        One row per level, unit, day and hour (``nivel``, ``comisaria``, ``sector``,
        ``subsector``, ``dia``, ``hora``, ``n``); only incidents with a known time count.
        """
        import numpy as np
        import pandas as pd

        from .windows import hour_day_table

        blocks: list[dict[str, Any]] = []
        days = np.tile(np.asarray(DAY_NAMES_ES, dtype=object), 24)
        hours = np.repeat(np.arange(24, dtype=np.int64), len(DAY_NAMES_ES))

        def add(level: str, com: str, sec: str | None, sub: str | None, table: Any) -> None:
            # hour by hour, each day in turn: the rows of the 24 × 7 table in reading order
            values = np.asarray(table).astype(np.int64).reshape(-1)
            blocks.append(
                {"nivel": level, "comisaria": com, "sector": sec, "subsector": sub, "n": values}
            )

        by_comisaria: dict[str, list[SectorPlan]] = {}
        for sp in self.sectors:
            by_comisaria.setdefault(sp.comisaria, []).append(sp)
        for com, plans in by_comisaria.items():
            add("comisaría", com, None, None, sum(p.hour_day.to_numpy() for p in plans))
            for sp in plans:
                add("sector", com, sp.sector, None, sp.hour_day.to_numpy())
                sub = sp.incidents["subsector"].where(
                    sp.incidents["subsector"].notna(), NO_SUBSECTOR
                )
                for label, _, _ in sp.subsector_counts():
                    part = sp.incidents[(sub == label).to_numpy()]
                    add("subsector", com, sp.sector, label, hour_day_table(part).to_numpy())
        size = len(days)
        rows = {
            key: np.concatenate([np.full(size, b[key], dtype=object) for b in blocks])
            if blocks
            else np.array([], dtype=object)
            for key in ("nivel", "comisaria", "sector", "subsector")
        }
        rows["dia"] = np.tile(days, len(blocks))
        rows["hora"] = np.tile(hours, len(blocks))
        rows["n"] = (
            np.concatenate([b["n"] for b in blocks]) if blocks else np.array([], dtype=np.int64)
        )
        columns = ["nivel", "comisaria", "sector", "subsector", "dia", "hora", "n"]
        return pd.DataFrame(rows, columns=columns)

    def incidents_frame(self) -> pd.DataFrame:
        """Return the incidents of every sector (no geometry), with ``subsector`` filled."""
        import pandas as pd

        parts = [pd.DataFrame(sp.incidents.drop(columns="geometry")) for sp in self.sectors]
        parts = [p for p in parts if len(p)]
        if not parts:
            return pd.DataFrame(columns=list(_INCIDENT_NEEDS))
        data = pd.concat(parts, ignore_index=True)
        data["subsector"] = data["subsector"].where(data["subsector"].notna(), NO_SUBSECTOR)
        return data


def locate_points(plans: list[SectorPlan], crs: CRS) -> None:
    """Add the location fields (:data:`~parsc_geo.patrol.places.LOCATION_COLUMNS`) to every point.

    A point is located at the representative point of its polygon in WGS 84, rounded to
    :data:`parsc_geo.settings.COORD_DECIMALS` decimals; its coordinates, UTM position, nearest
    place and geo URI all describe that one location. The point dicts are updated in place.
    """
    import geopandas as gpd

    from ..settings import COORD_DECIMALS, CRS_GEOGRAPHIC
    from .places import locate

    owned = [(sp, pt) for sp in plans for pt in sp.points]
    if not owned:
        return
    shapes = gpd.GeoSeries([pt["geometry"] for _, pt in owned], crs=crs).to_crs(CRS_GEOGRAPHIC)
    centre = shapes.representative_point()
    labels = [f"PC {pt['rango']} {sp.sector} {sp.comisaria}" for sp, pt in owned]
    fields = locate(
        list(centre.x.round(COORD_DECIMALS)), list(centre.y.round(COORD_DECIMALS)), labels
    )
    for (_, pt), found in zip(owned, fields, strict=True):
        pt.update(found)


def _visits(plan: SectorPlan, day_type: str, point: int) -> int:
    """Return the visits a point gets on one day of ``day_type``, all shifts and units."""
    return sum(1 for sh in plan.schedules[day_type] for v in sh.visits if v.point == point)


def _rank_within(points: pd.DataFrame, keys: list[str]) -> list[int]:
    """Rank points by risk within groups of ``keys`` (ties: incidents, then sector order)."""
    order = sorted(
        range(len(points)),
        key=lambda i: (
            tuple(sort_key(points[k].iloc[i]) for k in keys),
            -float(points["riesgo"].iloc[i]),
            -int(points["n"].iloc[i]),
            sort_key(points["sector"].iloc[i]),
            int(points["rango"].iloc[i]),
        ),
    )
    ranks = [0] * len(points)
    previous: tuple[Any, ...] | None = None
    rank = 0
    for i in order:
        group = tuple(points[k].iloc[i] for k in keys)
        rank = rank + 1 if group == previous else 1
        previous = group
        ranks[i] = rank
    return ranks


def point_id(plan: SectorPlan, rank: int) -> str:
    """Return the stable id of a critical point, e.g. ``"PC-1234-SECTOR 1-03"``."""
    owner = plan.comisaria_id or plan.comisaria
    return f"PC-{owner}-{plan.sector}-{rank:02d}"


def clock(shift_start: int, minutes: int) -> str:
    """Return the clock time ``HH:MM`` of ``minutes`` after ``shift_start`` o'clock."""
    total = (shift_start * 60 + minutes) % (24 * 60)
    return f"{total // 60:02d}:{total % 60:02d}"


def shift_label(start: int, hours: int) -> str:
    """Return a shift's hours, e.g. ``"22:00–06:00"``."""
    return f"{start:02d}:00–{(start + hours) % 24:02d}:00"


def _check_inputs(columns: Collection[str], no_crs: bool, sectors: gpd.GeoDataFrame) -> None:
    """Raise an :class:`InputDataError` naming what the incidents or the sector layer lack.

    ``columns``: the incidents' columns; ``no_crs``: whether the incidents have no CRS.
    """
    from .._validate import ProblemCollector

    problems = ProblemCollector("en las entradas de plan_patrols")
    missing = [c for c in _INCIDENT_NEEDS if c not in columns]
    if missing:
        problems.add(f"a los incidentes les falta(n) la(s) columna(s) {', '.join(missing)}")
    missing = [c for c in ("comisaria", "sector", "subsector") if c not in sectors.columns]
    if missing:
        problems.add(f"a la capa de sectores le falta(n) la(s) columna(s) {', '.join(missing)}")
    if no_crs:
        problems.add("los incidentes no tienen SRC")
    if sectors.crs is None:
        problems.add("la capa de sectores no tiene SRC")
    if not len(sectors):
        problems.add("la capa de sectores está vacía")
    problems.raise_if_any(
        InputDataError,
        hint="asigne antes los incidentes con parsc_geo.assign.assign_incidents(..., sectors=...)",
    )


def _table_schema(incidents: gpd.GeoDataFrame) -> tuple[Collection[str], bool]:
    """Return the columns of a table and whether its geometry has no CRS."""
    return incidents.columns, incidents.crs is None


def _partition_schema(partitions: Sequence[Partition]) -> tuple[set[str], bool]:
    """Return the columns every partition has and whether one's geometry has no CRS.

    Read from the files' schemas (no row is read).
    """
    import pyarrow.parquet as pq

    columns: set[str] | None = None
    no_crs = False
    for partition in partitions:
        schema = pq.read_schema(partition.path)
        # the partition carries its table's CRS (None: none), not the file
        no_crs |= partition.crs is None
        names = set(schema.names)
        columns = names if columns is None else columns & names
    return columns or set(), no_crs


def _planned_columns(incidents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``incidents`` with the columns a sector's plan reads (and the geometry)."""
    from ..incidents import only_columns

    return only_columns(incidents, _planned_needs())


def _planned_needs() -> set[str]:
    """Return the incident columns a sector's plan reads (besides the geometry)."""
    from ..hotspots._common import INPUT_COLUMNS

    return {*_INCIDENT_NEEDS, *INPUT_COLUMNS}


#: The incident columns the sheets and tables of a plan read (and the geometry): what a
#: :class:`SectorPlan` keeps of its sector's incidents once planned.
_SHEET_COLUMNS = (*_INCIDENT_NEEDS, "at_station")


class _SectorRows:
    """One sector's incidents as positions in the run's table: what a plan task holds.

    The rows are cut, projected and labelled (:func:`_prepared`) only when they are needed:
    as the task is pickled for a worker (the worker receives the prepared rows, as a task
    holding them would have sent them) or when the task runs, or its plan is assembled, here.

    Parameters
    ----------
    frame
        The incidents (with the columns the plan reads, any CRS).
    positions
        Positions (``iloc``) of the sector's incidents, ascending.
    crs
        The plan's metric CRS.
    """

    def __init__(self, frame: gpd.GeoDataFrame, positions: np.ndarray, crs: CRS) -> None:
        self.frame = frame
        self.positions = positions
        self.crs = crs

    def __len__(self) -> int:
        return len(self.positions)

    def load(self, columns: tuple[str, ...] | None = None) -> gpd.GeoDataFrame:
        """Return the prepared rows, with only ``columns`` (and the geometry) if given."""
        from ..incidents import only_columns

        frame = self.frame if columns is None else only_columns(self.frame, columns)
        return _prepared(frame.iloc[self.positions], self.crs)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # the worker projects and labels the rows itself: this process only cuts them
        return _prepared, (self.frame.iloc[self.positions], self.crs)


class _PartitionRows:
    """One sector's incidents as the partitions that hold them: what a plan task carries.

    The worker reads the rows (:meth:`load`): each piece's rows from its partition (only
    the ``columns`` a plan reads), put back in the table's order (ascending index), then
    projected and labelled (:func:`_prepared`) as :class:`_SectorRows` gives them. This
    process holds the positions only; the task returns the plan with the rows the sheets
    read (this process has no table to cut them from again).

    Parameters
    ----------
    pieces
        ``(partition, positions in it, ascending)``; a sector without incidents reads no
        row of one partition (its columns and types).
    crs
        The plan's metric CRS.
    columns
        The incident columns to read (besides the geometry).
    """

    def __init__(
        self,
        pieces: list[tuple[Partition, np.ndarray]],
        crs: CRS,
        columns: Collection[str],
    ) -> None:
        self.pieces = pieces
        self.crs = crs
        self.columns = frozenset(columns)

    def __len__(self) -> int:
        return sum(len(positions) for _, positions in self.pieces)

    def load(self) -> gpd.GeoDataFrame:
        """Return the prepared rows, in the order of the table the partitions were cut from."""
        import numpy as np
        import pandas as pd

        frames = []
        for partition, positions in self.pieces:
            whole = len(positions) == partition.rows and np.array_equal(
                positions, np.arange(partition.rows)
            )
            frames.append(partition.load(self.columns, positions=None if whole else positions))
        rows = frames[0]
        if len(frames) > 1:
            attrs = frames[0].attrs
            rows = pd.concat(frames)
            # the partitions' rows back in the table's order: its index is ascending
            rows = rows.iloc[np.argsort(rows.index.to_numpy(), kind="stable")]
            rows.attrs = dict(attrs)
        return _prepared(rows, self.crs)


def _prepared(rows: gpd.GeoDataFrame, crs: CRS) -> gpd.GeoDataFrame:
    """Return a sector's incidents as its plan reads them: metric CRS, blank labels None."""
    import geopandas as gpd

    rows = rows.to_crs(crs)
    for col in ("comisaria", "sector", "subsector"):
        # The workspace stores missing labels as empty strings.
        rows[col] = _labels(rows[col])
    return gpd.GeoDataFrame(rows, geometry=rows.geometry.name, crs=crs)


def _blank(column: pd.Series) -> pd.Series:
    """Return where a label is missing or only spaces."""
    blank: pd.Series = column.isna() | (column.astype(str).str.strip() == "")
    return blank


def _labels(column: pd.Series) -> pd.Series:
    """Return the labels as Python objects, None where blank (:func:`_blank`).

    Text labels are factorised first, so that the rows of one label share one string: a
    sector's hundreds of thousands of incidents repeat a few dozen labels, and a string per
    row made these three columns more than half of the memory a plan holds.
    """
    import numpy as np
    import pandas as pd

    if isinstance(column.dtype, pd.StringDtype):
        codes, uniques = pd.factorize(column)
        values = np.full(len(column), None, dtype=object)
        found = codes >= 0
        values[found] = np.asarray(uniques, dtype=object)[codes[found]]
        labels = pd.Series(values, index=column.index, name=column.name, dtype=object)
    else:
        labels = column.astype(object)
    return labels.where(~_blank(column), None)


def _select_comisaria(sectors: gpd.GeoDataFrame, comisaria: str | None) -> gpd.GeoDataFrame:
    if comisaria is None:
        return sectors
    wanted = comisaria.strip().casefold()
    names = sectors["comisaria"].astype(str)
    mask = names.str.strip().str.casefold() == wanted
    if "comisaria_id" in sectors:
        mask |= sectors["comisaria_id"].astype(str).str.strip() == comisaria.strip()
    if not mask.any():
        known = ", ".join(sorted(set(names), key=sort_key))
        raise ConfigError(
            f"la comisaría {comisaria!r} no está en la capa de sectores",
            hint=f"la capa contiene: {known}",
        )
    return sectors[mask.to_numpy()]


def _candidates(
    data: gpd.GeoDataFrame,
    sector_geom: BaseGeometry,
    crs: CRS,
    *,
    hotspots: gpd.GeoDataFrame | None,
    method: str,
    min_count: int,
    eps_m: float,
    cell_size_m: float,
    notes: list[str],
) -> tuple[list[BaseGeometry], list[str]]:
    """Return candidate polygons (metric) and their ids for one sector."""
    from .points import engine_candidates, grid_candidates

    if hotspots is not None:
        if hotspots.crs is None:
            raise CRSError(
                "los hotspots dados a plan_patrols no tienen SRC",
                hint="las tablas de hotspots están en EPSG:4326: use hotspots.set_crs('EPSG:4326')",
            )
        found = hotspots.to_crs(crs)
        found = found[found.geometry.intersects(sector_geom)]
        ids = [str(i) for i in found["hotspot_id"]] if "hotspot_id" in found else [""] * len(found)
        return list(found.geometry), ids
    if not len(data):
        return [], []
    if method == "grid":
        cells = grid_candidates(data, cell_size_m)
        return cells, [f"celda-{k + 1:04d}" for k in range(len(cells))]
    try:
        found = engine_candidates(
            data.to_crs("EPSG:4326"),
            method,
            min_count=min_count,
            eps_m=eps_m,
            cell_size_m=cell_size_m,
            notes=notes,
        )
    except InsufficientDataError as exc:
        notes.append(f"Sin puntos críticos: {exc.message}")
        return [], []
    found = found.to_crs(crs)
    return list(found.geometry), [str(i) for i in found["hotspot_id"]]


@dataclass(frozen=True)
class _SectorSettings:
    """What every sector of one :func:`plan_patrols` call is planned with."""

    crs: CRS
    share: float
    block_hours: int
    options: ScheduleOptions
    hotspots: gpd.GeoDataFrame | None
    method: str
    min_count: int
    eps_m: float
    cell_size_m: float
    max_area_m2: float
    core_radius_m: float
    max_points: int
    risk: str
    exclude_at_station: bool


def _plan_sector(
    task: tuple[str, str, gpd.GeoDataFrame, _SectorRows | gpd.GeoDataFrame, _SectorSettings],
) -> SectorPlan:
    """Plan one sector (a task of :func:`plan_patrols`, possibly in a worker process)."""
    import pandas as pd
    from shapely.ops import unary_union

    from ..incidents import only_columns, select
    from .points import critical_points
    from .schedule import schedule_shift, shortest_tour, travel_minutes_for
    from .windows import hour_day_table, hourly_counts, patrol_windows, window_hours

    com, sec, subs, rows, st = task
    # in a worker the rows arrive cut and projected (see _SectorRows.__reduce__), or are read
    # from the partitions here (_PartitionRows: then the plan returns the sheets' columns)
    keep = isinstance(rows, _PartitionRows)
    inc = rows.load() if isinstance(rows, _SectorRows | _PartitionRows) else rows
    del rows
    crs, options = st.crs, st.options
    geom = unary_union(list(subs.geometry))
    notes: list[str] = []
    table = hour_day_table(inc)
    windows = patrol_windows(table, share=st.share, block_hours=st.block_hours)
    usable = select(inc, include_at_station=not st.exclude_at_station)
    if st.exclude_at_station and len(usable) < len(inc):
        notes.append(
            f"{len(inc) - len(usable)} denuncias registradas en la ubicación de una "
            "comisaría no se usan para los puntos críticos."
        )
    cands, ids = _candidates(
        usable,
        geom,
        crs,
        hotspots=st.hotspots,
        method=st.method,
        min_count=st.min_count,
        eps_m=st.eps_m,
        cell_size_m=st.cell_size_m,
        notes=notes,
    )
    points = critical_points(
        usable,
        geom,
        candidates=cands,
        origin_ids=ids,
        min_count=st.min_count,
        max_area_m2=st.max_area_m2,
        core_radius_m=st.core_radius_m,
        max_points=st.max_points,
        risk=st.risk,
    )
    xy = [
        (p["geometry"].representative_point().x, p["geometry"].representative_point().y)
        for p in points
    ]
    tour = shortest_tour(xy)
    travel = (
        options.travel_minutes
        if options.travel_minutes is not None
        else travel_minutes_for(xy, tour, options.speed_kmh)
    )
    schedules: dict[str, list[ShiftSchedule]] = {}
    for day_type in DAY_TYPES:
        hourly = hourly_counts(table, day_type)
        hours = window_hours(windows[day_type])
        schedules[day_type] = [
            schedule_shift(
                k + 1,
                start,
                options,
                risks=[p["riesgo"] for p in points],
                tour=tour,
                travel=travel,
                window_hours=hours,
                hourly=hourly,
            )
            for k, start in enumerate(options.shift_starts())
        ]
    ids_col = subs.get("comisaria_id")
    com_id = str(ids_col.iloc[0]) if ids_col is not None and pd.notna(ids_col.iloc[0]) else None
    return SectorPlan(
        comisaria=com,
        comisaria_id=com_id,
        sector=sec,
        geometry=geom,
        subsectors=subs,
        # plan_patrols puts the incidents back (they need not travel back from a worker),
        # unless they were read from partitions (this process holds no table to cut)
        incidents=only_columns(inc, _SHEET_COLUMNS) if keep else inc.iloc[:0],
        hour_day=table,
        windows=windows,
        points=points,
        tour=tour,
        travel_minutes=travel,
        schedules=schedules,
        notes=notes,
    )


def _rows_by_key(comisaria: pd.Series, sector: pd.Series) -> dict[tuple[str, str], np.ndarray]:
    """Return the positions of the rows of each (comisaría, sector), in their order."""
    import numpy as np
    import pandas as pd

    if not len(comisaria):
        return {}
    positions = pd.Series(np.arange(len(comisaria)))
    groups = positions.groupby([comisaria.to_numpy(), sector.to_numpy()], sort=False).indices
    out: dict[tuple[str, str], np.ndarray] = {}
    for key, rows in groups.items():
        pair: tuple[Any, Any] = key  # type: ignore[assignment]
        out[str(pair[0]), str(pair[1])] = np.sort(np.asarray(rows))
    return out


def plan_patrols(
    incidents: gpd.GeoDataFrame | Sequence[Partition],
    sectors: gpd.GeoDataFrame,
    *,
    comisaria: str | None = None,
    share: float = DEFAULT_SHARE,
    block_hours: int = DEFAULT_BLOCK_HOURS,
    schedule: ScheduleOptions | None = None,
    method: str = DEFAULT_METHOD,
    hotspots: gpd.GeoDataFrame | None = None,
    min_count: int = DEFAULT_MIN_COUNT,
    eps_m: float = DEFAULT_EPS_M,
    cell_size_m: float = DEFAULT_CELL_SIZE_M,
    max_area_m2: float = DEFAULT_MAX_AREA_M2,
    core_radius_m: float = DEFAULT_CORE_RADIUS_M,
    max_points: int = DEFAULT_MAX_POINTS,
    risk: str = "n",
    exclude_at_station: bool = True,
    workers: WorkerPool | int = 1,
) -> PatrolPlan:
    """Plan patrols for every sector of the sector layer (or of one comisaría).

    Parameters
    ----------
    incidents
        Assigned incidents (:func:`parsc_geo.assign.assign_incidents`): the ``comisaria``,
        ``sector`` and ``subsector`` columns decide which sector an incident belongs to. Or
        the partitions holding them, every incident once, rows in the table's order within
        each (:func:`parsc_geo.partitions.write_partitions`, the table's index ascending, as
        a distributed run writes them): then the sectors' tasks read their own rows and this
        process holds none (see :func:`start_plan_patrols`); the plan is the same.
    sectors
        Sector layer: one row per subsector with ``comisaria``, ``sector``, ``subsector`` (and
        optionally ``comisaria_id``).
    comisaria
        Plan only this comisaría (name, case-insensitive, or ``comisaria_id``).
    share
        Share of a day type's incidents that the patrol windows must cover (default 0.6).
    block_hours
        Length of the hour blocks windows are made of (divides 24; default 2).
    schedule
        Patrol resources and dosage (default :class:`ScheduleOptions`: 3 shifts of 8 h from
        06:00, 1 unit per sector, visits of 15 min, revisits after 120 min).
    method
        Where candidate critical points come from: ``"dbscan"`` (clusters within ``eps_m``),
        ``"gistar"`` (hot Gi* cells of ``cell_size_m``) or ``"grid"`` (count cells).
    hotspots
        Precomputed hotspot polygons (``schema.HOTSPOT_COLUMNS``) to use as candidates instead.
    min_count
        Minimum incidents in a critical point.
    eps_m, cell_size_m
        DBSCAN radius and cell size (metres).
    max_area_m2, core_radius_m
        A candidate larger than ``max_area_m2`` is shrunk to the circle of ``core_radius_m``
        around its densest incident: a critical point is a small area.
    max_points
        At most this many critical points per sector.
    risk
        ``"n"`` (incidents) or ``"harm"`` (harm-weighted): ranks the points and apportions visits.
    exclude_at_station
        Leave incidents stacked at a police station out of the critical points (they still count
        in the tables).
    workers
        A :class:`parsc_geo.parallel.WorkerPool` or a number of processes that plan the
        sectors in parallel (1: in this process); the plan does not depend on it.

    Returns
    -------
    PatrolPlan
        One :class:`SectorPlan` per sector, ordered by comisaría and natural sector order.

    Notes
    -----
    Visits of 10–15 minutes repeated about every two hours follow the Koper curve (Koper 1995,
    *Justice Quarterly* 12(4)) and the Minneapolis hot spots patrol experiment (Sherman &
    Weisburd 1995, *Justice Quarterly* 12(4)). The visiting order is the shortest straight-line
    tour found by nearest neighbour and 2-opt, not a road route.
    """
    from ..parallel import worker_pool

    with worker_pool(workers) as pool:
        return start_plan_patrols(
            incidents,
            sectors,
            comisaria=comisaria,
            share=share,
            block_hours=block_hours,
            schedule=schedule,
            method=method,
            hotspots=hotspots,
            min_count=min_count,
            eps_m=eps_m,
            cell_size_m=cell_size_m,
            max_area_m2=max_area_m2,
            core_radius_m=core_radius_m,
            max_points=max_points,
            risk=risk,
            exclude_at_station=exclude_at_station,
            pool=pool,
        ).results()[0]


def start_plan_patrols(
    incidents: gpd.GeoDataFrame | Sequence[Partition],
    sectors: gpd.GeoDataFrame,
    *,
    pool: WorkerPool,
    comisaria: str | None = None,
    share: float = DEFAULT_SHARE,
    block_hours: int = DEFAULT_BLOCK_HOURS,
    schedule: ScheduleOptions | None = None,
    method: str = DEFAULT_METHOD,
    hotspots: gpd.GeoDataFrame | None = None,
    min_count: int = DEFAULT_MIN_COUNT,
    eps_m: float = DEFAULT_EPS_M,
    cell_size_m: float = DEFAULT_CELL_SIZE_M,
    max_area_m2: float = DEFAULT_MAX_AREA_M2,
    core_radius_m: float = DEFAULT_CORE_RADIUS_M,
    max_points: int = DEFAULT_MAX_POINTS,
    risk: str = "n",
    exclude_at_station: bool = True,
) -> Pending[PatrolPlan]:
    """Check the options and start :func:`plan_patrols`'s sectors in ``pool``; return at once.

    Errors in the options are raised here. :meth:`~parsc_geo.parallel.Pending.results` waits
    for the sectors and returns ``[plan]``, the plan :func:`plan_patrols` returns; a run
    starts it before the stages it does not depend on.

    ``incidents`` (the table or its partitions) and the other parameters are as for
    :func:`plan_patrols`. Of a table, each sector's task holds its rows' positions in it
    (:class:`_SectorRows`). Of partitions, one task per partition
    (:func:`parsc_geo.partitions.map_partitions`, reading the ``comisaria`` and ``sector``
    columns only) returns the positions of its rows in each sector of the layer and its
    incidents in no sector (waited for here); then each sector's task reads its own rows
    from the partitions that hold them (:class:`_PartitionRows`), plans the sector and
    returns its plan with the sector's incidents (the columns the sheets and tables read),
    which the plan keeps as a table's plan does: the same sectors, incidents, points,
    windows, schedules, period and parameters.
    """
    from ..partitions import as_partitions
    from ..projection import metric_crs
    from .windows import check_window_options

    partitions = as_partitions(incidents)
    schema = _table_schema(incidents) if partitions is None else _partition_schema(partitions)
    _check_inputs(*schema, sectors)
    check_window_options(share, block_hours)
    if method not in METHODS:
        raise ConfigError(f"method debe ser uno de {', '.join(METHODS)}; se recibió {method!r}")
    if not isinstance(min_count, int) or min_count < 1:
        raise ConfigError(f"min_count debe ser un número entero ≥ 1; se recibió {min_count!r}")
    for name, value in (
        ("eps_m", eps_m),
        ("cell_size_m", cell_size_m),
        ("max_area_m2", max_area_m2),
        ("core_radius_m", core_radius_m),
    ):
        if not value > 0:
            raise ConfigError(f"{name} debe ser positivo; se recibió {value!r}")
    if not isinstance(max_points, int) or max_points < 1:
        raise ConfigError(f"max_points debe ser un número entero ≥ 1; se recibió {max_points!r}")
    options = schedule if schedule is not None else ScheduleOptions()

    layer = _select_comisaria(sectors, comisaria)
    crs = metric_crs(layer)
    layer = layer.to_crs(crs)
    names = set(layer["comisaria"].astype(str))
    keys = list(
        zip(
            layer["comisaria"].astype(str),
            layer["sector"].astype(str),
            strict=True,
        )
    )
    key_set = sorted(set(keys), key=lambda k: (sort_key(k[0]), sort_key(k[1])))
    settings = _SectorSettings(
        crs=crs,
        share=share,
        block_hours=block_hours,
        options=options,
        hotspots=hotspots,
        method=method,
        min_count=min_count,
        eps_m=eps_m,
        cell_size_m=cell_size_m,
        max_area_m2=max_area_m2,
        core_radius_m=core_radius_m,
        max_points=max_points,
        risk=risk,
        exclude_at_station=exclude_at_station,
    )
    parameters = {
        "comisaria": comisaria,
        "share": share,
        "block_hours": block_hours,
        "method": "hotspots" if hotspots is not None else method,
        "min_count": min_count,
        "eps_m": eps_m,
        "cell_size_m": cell_size_m,
        "max_area_m2": max_area_m2,
        "core_radius_m": core_radius_m,
        "max_points": max_points,
        "risk": risk,
        "exclude_at_station": exclude_at_station,
        "crs": crs.to_string(),
        "units": options.units,
        "shifts": options.shifts,
        "shift_hours": options.shift_hours,
        "first_shift_start": options.first_shift_start,
        "available_hours": options.available_minutes / 60,
        "visit_minutes": options.visit_minutes,
        "revisit_minutes": options.revisit_minutes,
        "travel_minutes": options.travel_minutes,
        "speed_kmh": options.speed_kmh,
        "tour": "nearest neighbour + 2-opt, straight lines",
    }
    setup = _Setup(key_set, names, layer, settings, parameters)
    rows: list[_SectorRows] | list[_PartitionRows]
    if partitions is None:
        rows, n_outside = _table_rows(incidents, setup)
    else:
        rows, n_outside = _partitions_rows(partitions, setup, pool)
    return _start_sectors(setup, rows, n_outside, pool)


def _table_rows(incidents: gpd.GeoDataFrame, setup: _Setup) -> tuple[list[_SectorRows], int]:
    """Return each sector's rows of a table (in ``setup.key_set``'s order) and those in none."""
    import numpy as np

    # The sectors' incidents are not copied here: each task holds its rows' positions in
    # ``incidents`` (:class:`_SectorRows`) and the rows are cut, projected and labelled as the
    # task is sent to a worker, then again for the sheets once the plan is done. A projected
    # copy held from the plan's start to the sheets kept ~0.5 GB in this process at a million.
    planned = _planned_columns(incidents)
    incident_rows, n_outside = _sector_positions(incidents, setup.names, setup.key_set)
    empty = np.zeros(0, dtype=np.intp)
    rows = [
        _SectorRows(planned, incident_rows.get(key, empty), setup.settings.crs)
        for key in setup.key_set
    ]
    return rows, n_outside


def _partitions_rows(
    partitions: Sequence[Partition], setup: _Setup, pool: WorkerPool
) -> tuple[list[_PartitionRows], int]:
    """Return :func:`_table_rows` of the table of ``partitions``, found by tasks of ``pool``."""
    import numpy as np

    from ..partitions import map_partitions

    # the partitions of no incident (provinces of the area without any) hold no sector's
    live = [p for p in partitions if p.rows]
    found = map_partitions(
        _sector_positions,
        live,
        pool=pool,
        columns=("comisaria", "sector"),
        args=(setup.names, setup.key_set),
    )
    n_outside = sum(n for _, n in found)
    wanted = frozenset(_planned_needs())
    # a sector without incidents reads none of the smallest partition (its columns and types)
    smallest = min(partitions, key=lambda p: p.rows) if partitions else None
    rows = []
    for key in setup.key_set:
        pieces = [(p, mine[key]) for p, (mine, _) in zip(live, found, strict=True) if key in mine]
        if not pieces and smallest is not None:
            pieces = [(smallest, np.zeros(0, dtype=np.int64))]
        rows.append(_PartitionRows(pieces, setup.settings.crs, wanted))
    return rows, n_outside


@dataclass
class _Setup:
    """What :func:`start_plan_patrols` makes of the sector layer and options."""

    #: the (comisaría, sector) keys of the layer, in the plan's order
    key_set: list[tuple[str, str]]
    #: the layer's comisarías
    names: set[str]
    #: the layer in the plan's metric CRS
    layer: gpd.GeoDataFrame
    settings: _SectorSettings
    parameters: dict[str, Any]


def _sector_positions(
    incidents: pd.DataFrame, names: set[str], key_set: list[tuple[str, str]]
) -> tuple[dict[tuple[str, str], np.ndarray], int]:
    """Return the positions of each sector's incidents, and the incidents in no sector.

    ``({(comisaría, sector): positions, ascending}, n)``: an incident belongs to a sector of
    ``key_set`` by its ``comisaria`` and ``sector`` labels (blank labels are missing); ``n``
    counts the incidents of a comisaría of ``names`` in none of its sectors. Row by row, so
    the table's answer is its partitions' answers together (a task of
    :func:`start_plan_patrols` of partitions).
    """
    import numpy as np
    import pandas as pd

    blank = {col: _blank(incidents[col]) for col in ("comisaria", "sector")}
    com_text = incidents["comisaria"].where(~blank["comisaria"]).astype(str)
    sec_text = incidents["sector"].where(~blank["sector"]).astype(str)
    inside = np.flatnonzero(com_text.isin(names).to_numpy())
    in_com, in_sec = com_text.iloc[inside], sec_text.iloc[inside]
    # (comisaría, sector) of each incident among the layer's, compared column-wise (a Python
    # tuple per incident took seconds and hundreds of megabytes at a million)
    inc_keys = pd.MultiIndex.from_arrays([in_com, in_sec])
    has_sector = ~blank["sector"].to_numpy()[inside] & np.asarray(
        inc_keys.isin(key_set), dtype=bool
    )
    del inc_keys
    n_outside = int((~has_sector).sum())
    # The rows of each sector, found by grouping once: a mask per sector over every incident
    # of the country's comisarías would take sectors × incidents comparisons.
    kept = np.flatnonzero(has_sector)
    incident_rows = {
        key: inside[kept[rows]]
        for key, rows in _rows_by_key(in_com.iloc[kept], in_sec.iloc[kept]).items()
    }
    return incident_rows, n_outside


def _start_sectors(
    setup: _Setup, rows: list[Any], n_outside: int, pool: WorkerPool
) -> Pending[PatrolPlan]:
    """Start one task per sector of ``setup.key_set`` (its incidents: ``rows``) in ``pool``."""
    import numpy as np

    from ..parallel import Pending

    layer = setup.layer
    layer_rows = _rows_by_key(layer["comisaria"].astype(str), layer["sector"].astype(str))
    empty = np.zeros(0, dtype=np.intp)
    tasks = []
    for (com, sec), mine in zip(setup.key_set, rows, strict=True):
        subs = layer.iloc[layer_rows.get((com, sec), empty)]
        subs = subs.iloc[
            sorted(range(len(subs)), key=lambda i: sort_key(subs["subsector"].iloc[i]))
        ]
        tasks.append((com, sec, subs, mine, setup.settings))
    # the largest sectors first, so that no long one is started last
    order = sorted(range(len(tasks)), key=lambda k: -len(tasks[k][3]))
    drawing = pool.start(_plan_sector, [tasks[k] for k in order])
    crs, options, parameters = setup.settings.crs, setup.settings.options, setup.parameters

    def finish() -> list[PatrolPlan]:
        planned: list[Any] = [None] * len(tasks)
        for k, plan in zip(order, drawing.results(), strict=True):
            planned[k] = plan
        return [_assemble(planned, tasks, crs, options, parameters, n_outside)]

    return Pending(finish)


def _assemble(
    planned: list[Any],
    tasks: list[Any],
    crs: Any,
    options: ScheduleOptions,
    parameters: dict[str, Any],
    n_outside: int,
) -> PatrolPlan:
    """Return the plan of the sectors' plans (:func:`start_plan_patrols`'s last step)."""
    import pandas as pd

    # the incidents stayed here: the tasks return their plans without them; the sheets and
    # tables read fewer columns than the planning
    plans = [
        p
        if isinstance(task[3], _PartitionRows)
        else replace(p, incidents=task[3].load(_SHEET_COLUMNS))
        for p, task in zip(planned, tasks, strict=True)
    ]
    locate_points(plans, crs)

    dates = pd.to_datetime(
        pd.concat([p.incidents["occurred_at"] for p in plans]) if plans else pd.Series([])
    )
    period = None
    if len(dates) and dates.notna().any():
        period = (dates.min().date().isoformat(), dates.max().date().isoformat())
    return PatrolPlan(
        sectors=plans,
        crs=crs,
        schedule_options=options,
        parameters=parameters,
        period=period,
        n_outside=n_outside,
    )
