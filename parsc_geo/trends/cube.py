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
    from collections.abc import Sequence

    import geopandas as gpd
    import pandas as pd

    from ..hotspots._common import Located
    from ..partitions import Partition
    from .periods import Periods

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
    data: gpd.GeoDataFrame | Sequence[Partition],
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
    pool: Any = 1,
) -> SpaceTimeCube:
    """Count incidents per grid cell and period.

    Parameters
    ----------
    data
        Incident points with an occurrence time column (any CRS; counted in the metric CRS),
        or the partitions holding them, every incident in one
        (:func:`parsc_geo.partitions.write_partitions`, as a distributed run writes them):
        then tasks of ``pool`` that each read one partition count them (see Notes) and this
        process holds the merged extent, the grid and the cube, never a row.
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
        None to count incidents, or a numeric column (e.g. ``"harm"``) to sum (of a table
        only: partitions are counted).
    time_column
        Column of occurrence times (timezone-aware times are read in America/Lima).
    exclude_at_station
        Drop incidents stacked on a police station.
    min_periods
        Fewest complete periods; fewer raises :class:`InsufficientDataError`.
    quiet
        Do not announce automatic choices.
    pool
        Where the tasks of partitions run: a :class:`parsc_geo.parallel.WorkerPool` (or Dask
        pool), or a number of workers (unused for a table).

    Returns
    -------
    SpaceTimeCube

    Raises
    ------
    InsufficientDataError
        No dated incidents, or fewer than ``min_periods`` complete periods.
    ConfigError
        Bad parameter values, a missing time column, or weights of partitions.

    Notes
    -----
    From partitions (:func:`parsc_geo.partitions.map_partitions`), a first pass finds the
    metric CRS the whole table is located in (:func:`parsc_geo.hotspots._common.locate_crs`);
    a second, what the periods and the grid need of the incidents (:class:`CubeExtent`:
    dates, extent, convex hull), merged here; the periods and the grid are then chosen as for
    a table (the same code), and a third pass counts each partition's incidents per cell and
    period. The cube is the table's, value for value (counts are whole numbers, and the hull
    of the partitions' hulls is the hull of every point, see
    :func:`parsc_geo.grid.points_hull`). The incidents outside the periods are announced
    after the grid's choices (they are known once counted).
    """
    from ..hotspots._common import point_weights
    from ..partitions import as_partitions

    _check_options(
        grid_shape=grid_shape, align=align, cells=cells, cell_size=cell_size, margin=margin
    )
    choices = _CubeChoices(
        periods={
            "period": period,
            "align": align,
            "first": first,
            "last": last,
            "min_periods": min_periods,
            "time_column": time_column,
            "quiet": quiet,
        },
        grid={
            "cell_size": cell_size,
            "grid_shape": grid_shape,
            "area": area,
            "grid": grid,
            "margin": margin,
            "quiet": quiet,
        },
        cells=cells,
        located=(time_column, exclude_at_station, _crs_of(grid)),
        hull=area is None and grid is None,
    )
    partitions = as_partitions(data)
    if partitions is not None:
        if weights is not None:
            raise ConfigError(
                f"el cubo de incidentes en particiones cuenta incidentes; no suma {weights!r}",
                hint="pase la tabla de incidentes para sumar pesos",
            )
        return _cube_of_partitions(partitions, choices, pool)
    prepared, dates = _located_dates(data, *choices.located)
    extent = cube_extent(prepared.x, prepared.y, dates, prepared.info, hull=choices.hull)
    params: dict[str, Any] = {**extent.info, "n_undated": extent.n_undated}
    periods = _plan_periods(extent, params, **choices.periods)
    period_of, outside = _period_of(dates, periods)
    params["n_outside_periods"] = outside
    _announce_outside(outside, periods, quiet)
    x, y = prepared.x, prepared.y
    grid = _plan_grid(extent, params, crs=prepared.crs, **choices.grid)
    key, use, params["n_outside_grid"] = _bin_keys(grid, x, y, period_of, len(periods))
    size = len(grid) * len(periods)
    counts = np.bincount(key, minlength=size).reshape(len(grid), len(periods))
    w_points = (
        np.ones(len(prepared.rows))
        if weights is None
        else point_weights(_weight_rows(data, prepared.rows, weights), weights)
    )
    values = np.bincount(key, weights=w_points[use], minlength=size).reshape(
        len(grid), len(periods)
    )
    return _finish_cube(
        grid, periods, counts, values, params, cells=cells, n_used=int(use.sum()), weights=weights
    )


@dataclass(frozen=True)
class _CubeChoices:
    """The choices of :func:`build_cube` that its two paths (a table, partitions) share."""

    #: keywords of :func:`_plan_periods`
    periods: dict[str, Any]
    #: keywords of :func:`_plan_grid` but its CRS
    grid: dict[str, Any]
    cells: str
    #: ``(time_column, exclude_at_station, metric CRS or None)`` of :func:`_located_dates`
    located: tuple[str, bool, Any]
    #: whether the automatic area (the incidents' hull) is needed
    hull: bool


def _cube_of_partitions(
    partitions: Sequence[Partition], choices: _CubeChoices, pool: Any
) -> SpaceTimeCube:
    """Return :func:`build_cube` of the incidents of ``partitions``, counted by tasks.

    Each task returns its partition's extent, then its non-empty bins and their counts: this
    process holds the merged extent, the grid and the cube, never a row (see
    :func:`build_cube`'s Notes).
    """
    from ..hotspots._common import locate_crs, merge_located
    from ..partitions import map_partitions

    time_column, exclude_at_station, crs = choices.located
    if crs is None:
        crs = locate_crs(partitions, exclude_at_station=exclude_at_station, pool=pool)
    # what locate() and the dates read (the time zone may come from occurred_at's type)
    columns = (time_column, "occurred_at", "at_station")
    located = (time_column, exclude_at_station, crs)
    extents = map_partitions(
        _partition_extent,
        partitions,
        pool=pool,
        columns=columns,
        args=(*located, choices.hull),
    )
    info = merge_located([e.info for e in extents], crs, exclude_at_station=exclude_at_station)
    extent = merge_extents(extents, info)
    del extents
    params: dict[str, Any] = {**extent.info, "n_undated": extent.n_undated}
    periods = _plan_periods(extent, params, **choices.periods)
    params["n_outside_periods"] = 0  # counted with the bins (its place: the table's)
    grid = _plan_grid(extent, params, crs=crs, **choices.grid)
    n_periods = len(periods)
    flat = np.zeros(len(grid) * n_periods, dtype=np.int64)
    outside = outside_grid = n_used = 0
    for bins, n, part_outside, part_outside_grid, part_used in map_partitions(
        _partition_bins, partitions, pool=pool, columns=columns, args=(*located, periods, grid)
    ):
        flat[bins] += n  # a partition's bins are distinct
        outside += part_outside
        outside_grid += part_outside_grid
        n_used += part_used
    params["n_outside_periods"] = outside
    _announce_outside(outside, periods, bool(choices.periods["quiet"]))
    params["n_outside_grid"] = outside_grid
    counts = flat.reshape(len(grid), n_periods)
    # the table's values without weights: sums of ones, the counts as floats
    return _finish_cube(
        grid,
        periods,
        counts,
        counts.astype(float),
        params,
        cells=choices.cells,
        n_used=n_used,
        weights=None,
    )


def _check_options(
    *, grid_shape: str, align: str, cells: str, cell_size: float | None, margin: float | None
) -> None:
    """Raise :class:`ConfigError` for a bad choice of a cube (see :func:`build_cube`)."""
    from ..grid import GRID_SHAPES

    check_choice("grid_shape", grid_shape, GRID_SHAPES)
    check_choice("align", align, ALIGNMENTS)
    check_choice("cells", cells, CELL_CHOICES)
    check_positive("cell_size", cell_size)
    check_positive("margin", margin)


@dataclass
class CubeExtent:
    """What the periods and the grid of a cube need of the incidents (see :func:`cube_extent`).

    Attributes
    ----------
    info
        ``Located.info`` of the incidents (:func:`parsc_geo.hotspots._common.locate`).
    n_undated
        Usable incidents without a date.
    first, last
        First and last local date of the dated incidents (None without one).
    bounds
        ``(xmin, ymin, xmax, ymax)`` of the incidents' metric coordinates (None without one).
    hull
        Their convex hull (:func:`parsc_geo.grid.points_hull`), None when not asked.
    """

    info: dict[str, Any]
    n_undated: int
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    bounds: tuple[float, float, float, float] | None
    hull: Any = None

    def size(self) -> tuple[float, float]:
        """Return the width and height of the extent (:func:`parsc_geo.grid.extent_size`)."""
        if self.bounds is None:
            return 0.0, 0.0
        xmin, ymin, xmax, ymax = self.bounds
        return float(xmax - xmin), float(ymax - ymin)


def cube_extent(
    x: np.ndarray, y: np.ndarray, dates: pd.Series, info: dict[str, Any], *, hull: bool
) -> CubeExtent:
    """Return the :class:`CubeExtent` of located incidents.

    Parameters
    ----------
    x, y
        Their metric coordinates.
    dates
        Their local dates (NaT: undated), in the same order.
    info
        Their ``Located.info``.
    hull
        Compute their convex hull (the automatic area needs it).
    """
    from ..grid import points_hull

    dated = dates.notna().to_numpy()
    some = bool(dated.any())
    return CubeExtent(
        info=dict(info),
        n_undated=int((~dated).sum()),
        first=dates[dated].min() if some else None,
        last=dates[dated].max() if some else None,
        bounds=(float(x.min()), float(y.min()), float(x.max()), float(y.max())) if len(x) else None,
        hull=points_hull(x, y) if hull else None,
    )


def merge_extents(extents: Sequence[CubeExtent], info: dict[str, Any]) -> CubeExtent:
    """Return the :class:`CubeExtent` of the incidents of several parts together.

    The earliest first date, the latest last date, the bounds' union and the hull of the
    parts' hull vertices (the hull of every point, :func:`parsc_geo.grid.points_hull`);
    ``info`` is the parts' merged ``Located.info``
    (:func:`parsc_geo.hotspots._common.merge_located`).
    """
    import shapely

    from ..grid import points_hull

    firsts = [e.first for e in extents if e.first is not None]
    lasts = [e.last for e in extents if e.last is not None]
    boxes = np.array([e.bounds for e in extents if e.bounds is not None], dtype=float)
    bounds = None
    if len(boxes):
        xmin, ymin = boxes[:, 0].min(), boxes[:, 1].min()
        xmax, ymax = boxes[:, 2].max(), boxes[:, 3].max()
        bounds = (float(xmin), float(ymin), float(xmax), float(ymax))
    hull = None
    hulls = [e.hull for e in extents if e.hull is not None]
    if hulls:
        vertices = np.vstack([shapely.get_coordinates(h) for h in hulls])
        hull = points_hull(vertices[:, 0], vertices[:, 1])
    return CubeExtent(
        info=dict(info),
        n_undated=sum(e.n_undated for e in extents),
        first=min(firsts) if firsts else None,
        last=max(lasts) if lasts else None,
        bounds=bounds,
        hull=hull,
    )


def _located_dates(
    data: gpd.GeoDataFrame, time_column: str, exclude_at_station: bool, metric: Any
) -> tuple[Located, pd.Series]:
    """Return the usable incidents located (:func:`locate`) and their local dates."""
    from ..hotspots._common import locate

    if time_column not in data.columns:
        raise ConfigError(
            f"los incidentes no tienen la columna de fecha {time_column!r} "
            f"(columnas: {', '.join(map(str, data.columns[:15]))})",
            hint="importe el archivo con 'parsc-geo ingest' (crea 'occurred_at') y use el "
            "espacio de trabajo",
        )
    # prepare()'s rows, order and coordinates without its copy of every column of every row
    prepared = locate(data, exclude_at_station=exclude_at_station, metric=metric)
    times = data[time_column].take(prepared.rows).reset_index(drop=True)
    dates = local_dates(times, incidents_zone(data)).reset_index(drop=True)
    return prepared, dates


def _plan_periods(
    extent: CubeExtent,
    params: dict[str, Any],
    *,
    period: str | PeriodSpec | None,
    align: str,
    first: Any,
    last: Any,
    min_periods: int,
    time_column: str,
    quiet: bool,
) -> Periods:
    """Return the cube's complete periods for the incidents' dates; record the choices."""
    import pandas as pd

    if extent.first is None or extent.last is None:
        raise InsufficientDataError(
            "ningún incidente tiene fecha utilizable", hint=f"revise la columna {time_column!r}"
        )
    first_date = pd.Timestamp(first).normalize() if first is not None else extent.first
    last_date = pd.Timestamp(last).normalize() if last is not None else extent.last
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
    return periods


def _period_of(dates: pd.Series, periods: Periods) -> tuple[np.ndarray, int]:
    """Return each incident's period (-1: none) and the dated incidents in no period."""
    dated = dates.notna().to_numpy()
    period_of = np.full(len(dates), -1, dtype=np.int64)
    period_of[dated] = periods.index_of(dates[dated])
    return period_of, int(((period_of < 0) & dated).sum())


def _announce_outside(outside: int, periods: Periods, quiet: bool) -> None:
    """Announce the dated incidents left out of the complete periods, if any."""
    import pandas as pd

    if outside:
        _announce(
            f"Tendencias: {num(outside)} incidentes quedan fuera de los periodos completos "
            f"({periods.starts[0].date()} a {(periods.ends[-1] - pd.Timedelta(days=1)).date()})",
            quiet,
        )


def _plan_grid(
    extent: CubeExtent,
    params: dict[str, Any],
    *,
    cell_size: float | None,
    grid_shape: str,
    area: Any,
    grid: gpd.GeoDataFrame | None,
    margin: float | None,
    crs: Any,
    quiet: bool,
) -> gpd.GeoDataFrame:
    """Return the cube's grid: ``grid``, or one over ``area`` or the incidents' hull."""
    import shapely

    from ..grid import auto_cell_size, make_grid

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
            choice = auto_cell_size(*extent.size(), purpose="counts")
            cell_size = choice.size
            _announce(f"Tendencias: celda de {num(cell_size)} m ({choice.rule_es})", quiet)
            params["cell_size_rule"] = choice.rule
        params.update(cell_size=float(cell_size), cell_size_auto=auto)
        buffer = float(margin) if margin is not None else float(cell_size) * math.sqrt(2.0)
        if area is None:
            area = shapely.buffer(extent.hull, buffer)
            params["area"] = "convex hull of the incidents + margin"
        else:
            params["area"] = "given"
        grid = make_grid(area, float(cell_size), shape=grid_shape, crs=crs, quiet=quiet)
    params["grid_shape"] = grid_shape
    return grid


def _bin_keys(
    grid: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray, period_of: np.ndarray, n_periods: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Return the bins of the incidents in the cube, which those are, and the rest's count.

    ``(bins, used, outside grid)``: the bin (cell × periods + period) of each used incident
    (in a cell and a period), the mask of those, and the dated incidents in no cell.
    """
    from ..grid import count_points

    cell_of = count_points(grid, x, y)
    use = (cell_of >= 0) & (period_of >= 0)
    outside_grid = int(((cell_of < 0) & (period_of >= 0)).sum())
    return cell_of[use] * n_periods + period_of[use], use, outside_grid


def _finish_cube(
    grid: gpd.GeoDataFrame,
    periods: Periods,
    counts: np.ndarray,
    values: np.ndarray,
    params: dict[str, Any],
    *,
    cells: str,
    n_used: int,
    weights: str | None,
) -> SpaceTimeCube:
    """Return the cube of the cells kept (every cell, or those with incidents)."""
    keep = np.ones(len(grid), dtype=bool) if cells == "all" else counts.sum(axis=1) > 0
    cube_grid = grid.loc[keep].reset_index(drop=True)
    cube_grid.attrs["parameters"] = dict(grid.attrs.get("parameters", {}))
    params.update(
        cells=cells,
        n_grid_cells=len(grid),
        n_cells=int(keep.sum()),
        n_used=n_used,
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


def _partition_extent(
    data: gpd.GeoDataFrame, time_column: str, exclude_at_station: bool, crs: Any, hull: bool
) -> CubeExtent:
    """Return one partition's :class:`CubeExtent` (a task of :func:`build_cube`)."""
    prepared, dates = _located_dates(data, time_column, exclude_at_station, crs)
    return cube_extent(prepared.x, prepared.y, dates, prepared.info, hull=hull)


def _partition_bins(
    data: gpd.GeoDataFrame,
    time_column: str,
    exclude_at_station: bool,
    crs: Any,
    periods: Periods,
    grid: gpd.GeoDataFrame,
) -> tuple[np.ndarray, np.ndarray, int, int, int]:
    """Return one partition's bins of the cube and their counts (a task).

    ``(bins, counts, outside periods, outside grid, used)``: the distinct non-empty bins
    (cell × periods + period), their incident counts, and the partition's part of
    ``n_outside_periods``, ``n_outside_grid`` and ``n_used``.
    """
    prepared, dates = _located_dates(data, time_column, exclude_at_station, crs)
    period_of, outside = _period_of(dates, periods)
    key, use, outside_grid = _bin_keys(grid, prepared.x, prepared.y, period_of, len(periods))
    bins, counts = np.unique(key, return_counts=True)
    return bins, counts.astype(np.int64), outside, outside_grid, int(use.sum())


def _weight_rows(data: gpd.GeoDataFrame, rows: np.ndarray, weights: str) -> pd.DataFrame:
    """Return the used incidents' weight column (and ``incident_id``, named in errors)."""
    if weights not in data.columns:
        return data  # point_weights reads no row: the error naming the columns
    columns = [c for c in ("incident_id", weights) if c in data.columns]
    return data[columns].take(rows).reset_index(drop=True)


def _crs_of(grid: gpd.GeoDataFrame | None) -> Any:
    return None if grid is None else grid.crs
