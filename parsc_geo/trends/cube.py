"""The space-time cube: incidents counted (or harm summed) per grid cell and period."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import ConfigError, InsufficientDataError
from .._text import num
from .._validate import check_choice, check_positive
from ..localtime import incidents_zone
from .periods import ALIGNMENTS, PeriodSpec, auto_period, local_dates, make_periods, parse_period

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

#: Which cells make up the cube: those with at least one incident in some period (as
#: ArcGIS's cubes, whose locations are those with data), or every cell of the grid (sfhotspot).
CELL_CHOICES: tuple[str, ...] = ("data", "all")
#: Fewest complete periods for a trend analysis.
MIN_PERIODS = 5
#: Below this many periods the trend test has little power; announced.
FEW_PERIODS = 10
#: Column of the occurrence times (canonical incident schema).
TIME_COLUMN = "occurred_at"


@dataclass
class SpaceTimeCube:
    """Counts per cell and period.

    Attributes
    ----------
    grid
        The cube's cells: a grid from :func:`parsc_geo.grid.make_grid` (metric CRS), possibly
        a subset of its rows; ``cell_id`` is the grid's.
    starts, ends
        Start (inclusive) and end (exclusive) date of each period.
    values
        Analysed variable, shape (cells, periods): incident counts, or summed weights.
    counts
        Incident counts, shape (cells, periods).
    parameters
        Every choice made while building the cube.
    """

    grid: gpd.GeoDataFrame
    starts: pd.DatetimeIndex
    ends: pd.DatetimeIndex
    values: np.ndarray
    counts: np.ndarray
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        """Return (cells, periods)."""
        return (int(self.values.shape[0]), int(self.values.shape[1]))

    def to_frame(self) -> pd.DataFrame:
        """Return the cube as a long table, one row per bin, by cell then period.

        Columns: ``cell_id``, ``period_start``, ``period_end``, ``count`` and, when the cube
        sums weights, ``value``.
        """
        import pandas as pd

        n_cells, n_periods = self.shape
        frame = pd.DataFrame(
            {
                "cell_id": np.repeat(self.grid["cell_id"].to_numpy(np.int64), n_periods),
                "period_start": np.tile(self.starts.to_numpy(), n_cells),
                "period_end": np.tile(self.ends.to_numpy(), n_cells),
                "count": self.counts.ravel().astype(np.int64),
            }
        )
        if self.parameters.get("weights"):
            frame["value"] = self.values.ravel()
        return frame


def _announce(message: str, quiet: bool) -> None:
    from ..hotspots._common import announce

    announce(message, quiet)


def build_cube(
    data: gpd.GeoDataFrame,
    *,
    cell_size: float | None = None,
    grid_shape: str = "square",
    period: str | PeriodSpec | None = None,
    align: str = "end",
    first: Any = None,
    last: Any = None,
    cells: str = "data",
    area: Any = None,
    grid: gpd.GeoDataFrame | None = None,
    margin: float | None = None,
    weights: str | None = None,
    time_column: str = TIME_COLUMN,
    exclude_at_station: bool = True,
    min_periods: int = MIN_PERIODS,
    quiet: bool = False,
) -> SpaceTimeCube:
    """Count incidents per grid cell and period.

    Parameters
    ----------
    data
        Incident points with an occurrence time column (any CRS; counted in the metric CRS).
    cell_size
        Cell size in metres; None: the shorter side of the incidents' extent / 50, at least
        50 m, rounded to 10 m (as ``parsc-geo hotspots --method gistar``; announced).
    grid_shape
        ``"square"`` or ``"hex"``.
    period
        Period length (:func:`parsc_geo.trends.periods.parse_period`); None: chosen from the
        time span as sfhotspot does (announced).
    align
        ``"end"`` (periods end on the last covered date) or ``"start"``.
    first, last
        First and last covered dates; None: the first and last incident dates.
    cells
        ``"data"``: cells with at least one incident; ``"all"``: every grid cell in the area.
    area
        Study area for the grid; None: the incidents' convex hull buffered by ``margin``.
    grid
        A ready grid from :func:`parsc_geo.grid.make_grid` (overrides ``cell_size``,
        ``grid_shape`` and ``area``).
    margin
        Buffer of the automatic area in metres; None: the cell size × √2.
    weights
        None to count incidents, or a numeric column (e.g. ``"harm"``) to sum.
    time_column
        Column of occurrence times (timezone-aware times are read in America/Lima).
    exclude_at_station
        Drop incidents stacked on a police station.
    min_periods
        Fewest complete periods; fewer raises :class:`InsufficientDataError`.
    quiet
        Do not announce automatic choices.

    Returns
    -------
    SpaceTimeCube

    Raises
    ------
    InsufficientDataError
        No dated incidents, or fewer than ``min_periods`` complete periods.
    ConfigError
        Bad parameter values or a missing time column.
    """
    import pandas as pd
    import shapely

    from ..grid import (
        GRID_SHAPES,
        auto_cell_size,
        count_points,
        extent_size,
        make_grid,
        points_hull,
    )
    from ..hotspots._common import locate, point_weights

    check_choice("grid_shape", grid_shape, GRID_SHAPES)
    check_choice("align", align, ALIGNMENTS)
    check_choice("cells", cells, CELL_CHOICES)
    check_positive("cell_size", cell_size)
    check_positive("margin", margin)
    if time_column not in data.columns:
        raise ConfigError(
            f"los incidentes no tienen la columna de fecha {time_column!r} "
            f"(columnas: {', '.join(map(str, data.columns[:15]))})",
            hint="importe el archivo con 'parsc-geo ingest' (crea 'occurred_at') y use el "
            "espacio de trabajo",
        )
    # prepare()'s rows, order and coordinates without its copy of every column of every row
    prepared = locate(data, exclude_at_station=exclude_at_station, metric=_crs_of(grid))
    times = data[time_column].take(prepared.rows).reset_index(drop=True)
    dates = local_dates(times, incidents_zone(data)).reset_index(drop=True)
    del times
    dated = dates.notna().to_numpy()
    params: dict[str, Any] = {**prepared.info, "n_undated": int((~dated).sum())}
    if not dated.any():
        raise InsufficientDataError(
            "ningún incidente tiene fecha utilizable", hint=f"revise la columna {time_column!r}"
        )
    first_date = pd.Timestamp(first).normalize() if first is not None else dates[dated].min()
    last_date = pd.Timestamp(last).normalize() if last is not None else dates[dated].max()
    if last_date < first_date:
        raise ConfigError(f"el periodo termina ({last_date.date()}) antes de empezar")
    span = float((last_date - first_date).days)
    if period is None:
        spec = auto_period(span)
        _announce(
            f"Tendencias: periodo de {spec.label()} (automático: los datos abarcan "
            f"{num(span)} días; regla de sfhotspot)",
            quiet,
        )
        params["period_auto"] = True
    else:
        spec = parse_period(period)
        params["period_auto"] = False
    periods = make_periods(first_date, last_date, spec, align)
    params.update(
        period=spec.text(),
        period_label_es=spec.label(),
        align=align,
        first_date=first_date.date().isoformat(),
        last_date=last_date.date().isoformat(),
        n_periods=len(periods),
    )
    if len(periods) < min_periods:
        raise InsufficientDataError(
            f"solo caben {len(periods)} periodos completos de {spec.label()} entre "
            f"{first_date.date()} y {last_date.date()}; el análisis de tendencias requiere al "
            f"menos {min_periods}",
            hint="use un periodo más corto (--period) o datos de más tiempo",
        )
    if len(periods) < FEW_PERIODS:
        _announce(
            f"Tendencias: solo {len(periods)} periodos; con menos de {FEW_PERIODS} la prueba "
            "de Mann-Kendall rara vez es significativa",
            quiet,
        )
    period_of = np.full(len(dates), -1, dtype=np.int64)
    period_of[dated] = periods.index_of(dates[dated])
    outside = int(((period_of < 0) & dated).sum())
    params["n_outside_periods"] = outside
    if outside:
        _announce(
            f"Tendencias: {num(outside)} incidentes quedan fuera de los periodos completos "
            f"({periods.starts[0].date()} a {(periods.ends[-1] - pd.Timedelta(days=1)).date()})",
            quiet,
        )
    x, y = prepared.x, prepared.y
    if grid is not None:
        gparams = grid.attrs.get("parameters", {})
        if "cell_size" not in gparams:
            raise ConfigError("grid debe provenir de parsc_geo.grid.make_grid (faltan los attrs)")
        cell_size = float(gparams["cell_size"])
        grid_shape = str(gparams["shape"])
        params.update(cell_size=cell_size, cell_size_auto=False, area="grid given")
    else:
        auto = cell_size is None
        if cell_size is None:
            choice = auto_cell_size(*extent_size(x, y), purpose="counts")
            cell_size = choice.size
            _announce(f"Tendencias: celda de {num(cell_size)} m ({choice.rule_es})", quiet)
            params["cell_size_rule"] = choice.rule
        params.update(cell_size=float(cell_size), cell_size_auto=auto)
        buffer = float(margin) if margin is not None else float(cell_size) * math.sqrt(2.0)
        if area is None:
            hull = points_hull(x, y)
            area = shapely.buffer(hull, buffer)
            params["area"] = "convex hull of the incidents + margin"
        else:
            params["area"] = "given"
        grid = make_grid(area, float(cell_size), shape=grid_shape, crs=prepared.crs, quiet=quiet)
    params["grid_shape"] = grid_shape
    cell_of = count_points(grid, x, y)
    use = (cell_of >= 0) & (period_of >= 0)
    params["n_outside_grid"] = int(((cell_of < 0) & (period_of >= 0)).sum())
    n_periods = len(periods)
    key = cell_of[use] * n_periods + period_of[use]
    size = len(grid) * n_periods
    counts = np.bincount(key, minlength=size).reshape(len(grid), n_periods)
    w_points = (
        np.ones(len(prepared.rows))
        if weights is None
        else point_weights(_weight_rows(data, prepared.rows, weights), weights)
    )
    values = np.bincount(key, weights=w_points[use], minlength=size).reshape(len(grid), n_periods)
    keep = np.ones(len(grid), dtype=bool) if cells == "all" else counts.sum(axis=1) > 0
    cube_grid = grid.loc[keep].reset_index(drop=True)
    cube_grid.attrs["parameters"] = dict(grid.attrs.get("parameters", {}))
    params.update(
        cells=cells,
        n_grid_cells=len(grid),
        n_cells=int(keep.sum()),
        n_used=int(use.sum()),
        weights=weights,
    )
    return SpaceTimeCube(
        grid=cube_grid,
        starts=periods.starts,
        ends=periods.ends,
        values=values[keep].astype(float),
        counts=counts[keep].astype(np.int64),
        parameters=params,
    )


def _weight_rows(data: gpd.GeoDataFrame, rows: np.ndarray, weights: str) -> pd.DataFrame:
    """Return the used incidents' weight column (and ``incident_id``, named in errors)."""
    if weights not in data.columns:
        return data  # point_weights reads no row: the error naming the columns
    columns = [c for c in ("incident_id", weights) if c in data.columns]
    return data[columns].take(rows).reset_index(drop=True)


def _crs_of(grid: gpd.GeoDataFrame | None) -> Any:
    return None if grid is None else grid.crs
