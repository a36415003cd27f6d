"""The grid on which every forecast is scored: square cells over a study area, any origin.

Rules (they change PAI, so they are stated once here and recorded with every result)
-------------------------------------------------------------------------------------
Study area
    The polygon given by the caller or, when none is given, the convex hull of the *training*
    incidents (:func:`default_study_area`): the area the analyst's own history covers. Isolated
    points farther from the median centre than :data:`OUTLIER_FACTOR` times the 99th-percentile
    distance (mis-geocoded records: another city, a default coordinate) are left out of the
    hull, so that one of them cannot multiply the area, the cells and the budget. Incidents
    outside the area can never be captured and still count in the hit-rate denominator.
Cells
    Square lattice cells of ``cell_size`` metres whose lines lie at ``offset + k·cell_size``;
    with a zero offset they line up with :func:`parsc_geo.grid.make_grid`. A cell belongs to
    the grid when it shares area with the study area.
Partial cells
    Cells on the boundary count whole: every cell has the area ``cell_size²`` and the study
    area used for coverage and PAI is ``n_cells · cell_size²`` (reported as
    ``study_area_km2``). Every selection of ``k`` cells thus has exactly the area
    ``k · cell_size²`` whatever the method, which is what makes methods comparable on one
    area budget and PEI* (best ``k`` cells) a like-for-like optimum.
Order
    Cells are numbered north to south, then west to east. Ties between equal scores are broken
    by a fixed pseudo-random order of the cells (a seeded hash of their lattice position), the
    same for every method: equal cells are neither taken north-west first nor in input order.
Default cell size
    :data:`DEFAULT_CELL_SIZE_M` (100 m, about a city block; NIJ's forecasting challenge allowed
    cells of 250–600 ft, 76–183 m), enlarged in 10 m steps when the study area would need more
    than :data:`MAX_CELLS` cells (:func:`auto_cell_size`). On Toronto's 2014–2021 major-crime
    data the backtest-chosen forecast gained more over counts with 100 m cells than with 150 m
    (``benchmarks/bench_forecast.py``): counts are sparser, so the neighbourhood's history
    matters more.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import ConfigError
from .._validate import check_positive
from ..grid import points_hull
from ..settings import SEED

if TYPE_CHECKING:
    import geopandas as gpd

#: Default side of the evaluation cells, metres.
DEFAULT_CELL_SIZE_M = 100.0
#: Most cells the automatic cell size allows (memory and time of the backtests).
MAX_CELLS = 400_000
#: Points beyond this many 99th-percentile distances from the median centre are outliers.
OUTLIER_FACTOR = 3.0


def auto_cell_size(area_m2: float) -> float:
    """Return :data:`DEFAULT_CELL_SIZE_M`, enlarged to 10 m steps to stay ≤ :data:`MAX_CELLS`.

    Examples
    --------
    >>> auto_cell_size(630e6)  # Toronto: 63 000 cells of 100 m
    100.0
    >>> auto_cell_size(33_000e6)  # a whole region: 290 m keeps it under 400 000 cells
    290.0
    """
    size = DEFAULT_CELL_SIZE_M
    while area_m2 / (size * size) > MAX_CELLS:
        size += 10.0
    return size


def default_study_area(x: np.ndarray, y: np.ndarray) -> Any:
    """Return the convex hull of the points (metric coordinates), outliers left out.

    Points farther from the median centre than :data:`OUTLIER_FACTOR` times the 99th
    percentile of the distances to it are left out (with 20 points or more). Fewer than three
    distinct points, or points on a line, give no area: the hull is then buffered by half a
    default cell so that a grid can still be built.
    """
    if len(x) == 0:
        raise ConfigError(
            "no hay incidentes para delimitar el área de estudio",
            hint="revise el período de entrenamiento o indique un área",
        )
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(x) >= 20:
        d = np.hypot(x - np.median(x), y - np.median(y))
        limit = OUTLIER_FACTOR * float(np.percentile(d, 99))
        if limit > 0:
            x, y = x[d <= limit], y[d <= limit]
    # by chunks: the same hull without a shapely point per incident (grid.points_hull)
    hull = points_hull(x, y)
    if hull.area <= 0:
        hull = hull.buffer(DEFAULT_CELL_SIZE_M / 2.0)
    return hull


def _hash_order(rows: np.ndarray, cols: np.ndarray, seed: int) -> np.ndarray:
    """Return a pseudo-random but fixed key per lattice cell (splitmix64 of its position)."""
    with np.errstate(over="ignore"):
        z = (rows.astype(np.uint64) << np.uint64(32)) ^ (
            cols.astype(np.uint64) & np.uint64(0xFFFFFFFF)
        )
        z = z + np.uint64(seed & 0xFFFFFFFFFFFFFFFF) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return z


@dataclass(frozen=True)
class CellGrid:
    """Square cells of one lattice over a study area (see the module rules).

    Attributes
    ----------
    cell_size
        Side of the cells, metres.
    offset
        Origin of the lattice lines (x, y), metres, each in ``[0, cell_size)``.
    col0, row0
        Lattice column of the west-most cell and lattice row (counted southwards, as
        :mod:`parsc_geo.grid` does) of the north-most cell of the bounding box.
    n_rows, n_cols
        Shape of the bounding box of the grid, in cells.
    flat
        Position (row-major in the bounding box) of every grid cell, increasing.
    crs
        Metric CRS of the coordinates.
    area
        The study area polygon (metric CRS).
    """

    cell_size: float
    offset: tuple[float, float]
    col0: int
    row0: int
    n_rows: int
    n_cols: int
    flat: np.ndarray
    crs: str
    area: Any
    _lookup: np.ndarray = field(repr=False, compare=False)

    @property
    def n_cells(self) -> int:
        """Number of grid cells."""
        return len(self.flat)

    @property
    def cell_area_km2(self) -> float:
        """Area of one cell, km²."""
        return self.cell_size * self.cell_size / 1e6

    @property
    def study_area_km2(self) -> float:
        """Area used for coverage and PAI: ``n_cells · cell_size²``, km²."""
        return self.n_cells * self.cell_area_km2

    @property
    def x0(self) -> float:
        """West edge of the bounding box, metres."""
        return self.offset[0] + self.col0 * self.cell_size

    @property
    def ytop(self) -> float:
        """North edge of the bounding box, metres."""
        return self.offset[1] - self.row0 * self.cell_size

    @functools.cached_property
    def box_rows_cols(self) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of every cell in the bounding box (cached, read-only)."""
        rr, cc = np.divmod(self.flat, self.n_cols)
        rr.flags.writeable = False
        cc.flags.writeable = False
        return rr, cc

    @property
    def rows(self) -> np.ndarray:
        """Lattice row of every cell (counted southwards)."""
        return np.asarray(self.row0 + self.box_rows_cols[0], dtype=np.int64)

    @property
    def cols(self) -> np.ndarray:
        """Lattice column of every cell."""
        return np.asarray(self.col0 + self.box_rows_cols[1], dtype=np.int64)

    def lattice(self, cells: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return the lattice rows and columns of ``cells`` (all when None).

        Those of the cells asked for only: the cluster methods ask for a few cells of a large
        grid, polygon by polygon.
        """
        if cells is None:
            return self.rows, self.cols
        row, col = np.divmod(self.flat[np.asarray(cells, dtype=np.int64)], self.n_cols)
        return (
            np.asarray(self.row0 + row, dtype=np.int64),
            np.asarray(self.col0 + col, dtype=np.int64),
        )

    def centres(self, cells: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return the x and y of the centres of ``cells`` (all when None), metres."""
        half = self.cell_size / 2.0
        rows, cols = self.lattice(cells)
        x = self.offset[0] + cols * self.cell_size + half
        y = self.offset[1] - rows * self.cell_size - half
        return x, y

    def cells_in_bounds(self, bounds: Any) -> np.ndarray:
        """Return the cells (increasing indices) that may meet the box ``bounds``.

        ``bounds`` is ``(minx, miny, maxx, maxy)`` in metres; every cell whose square meets the
        box is returned, and a few around it (one cell of margin against rounding).
        """
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
            return np.zeros(0, dtype=np.int64)  # an empty geometry
        cs = self.cell_size
        c_lo = max(math.floor((minx - self.x0) / cs) - 1, 0)
        c_hi = min(math.floor((maxx - self.x0) / cs) + 2, self.n_cols)
        r_lo = max(math.floor((self.ytop - maxy) / cs) - 1, 0)
        r_hi = min(math.floor((self.ytop - miny) / cs) + 2, self.n_rows)
        if c_lo >= c_hi or r_lo >= r_hi:
            return np.zeros(0, dtype=np.int64)
        rr, cc = np.meshgrid(
            np.arange(r_lo, r_hi, dtype=np.int64),
            np.arange(c_lo, c_hi, dtype=np.int64),
            indexing="ij",
        )
        cells = self._lookup[(rr * self.n_cols + cc).ravel()]
        return cells[cells >= 0]

    def at(self, r: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Return the cell at row ``r`` and column ``c`` of the bounding box (-1: none)."""
        ok = (r >= 0) & (r < self.n_rows) & (c >= 0) & (c < self.n_cols)
        out = np.full(len(r), -1, dtype=np.int64)
        out[ok] = self._lookup[r[ok] * self.n_cols + c[ok]]
        return out

    def neighbour(self, cells: np.ndarray, dr: int, dc: int) -> np.ndarray:
        """Return the cell ``dr`` rows south and ``dc`` columns east of each cell (-1: none)."""
        r, c = np.divmod(self.flat[np.asarray(cells, dtype=np.int64)], self.n_cols)
        return self.at(r + dr, c + dc)

    def tiebreak(self, seed: int = SEED) -> np.ndarray:
        """Return the fixed tie-breaking key of every cell (larger first)."""
        return _hash_order(self.rows, self.cols, seed)

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Return the grid cell (index into the cells) of every point, or -1 outside the grid."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        col = np.floor((x - self.x0) / self.cell_size).astype(np.int64)
        row = np.floor((self.ytop - y) / self.cell_size).astype(np.int64)
        inside = (col >= 0) & (col < self.n_cols) & (row >= 0) & (row < self.n_rows)
        out = np.full(len(x), -1, dtype=np.int64)
        out[inside] = self._lookup[row[inside] * self.n_cols + col[inside]]
        return out

    def counts(self, cell: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Return the number (or weight sum) of points per cell from their located cells."""
        keep = cell >= 0
        located = cell[keep]
        # ones for counts: their sums are the same whole numbers, as floats at once
        w = np.ones(located.size) if weights is None else np.asarray(weights, dtype=float)[keep]
        return np.bincount(located, weights=w, minlength=self.n_cells)

    def to_raster(self, values: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """Return per-cell ``values`` on the bounding-box raster (row 0 north)."""
        out = np.full(self.n_rows * self.n_cols, fill, dtype=float)
        out[self.flat] = values
        return out.reshape(self.n_rows, self.n_cols)

    def polygons(self, cells: np.ndarray | None = None) -> np.ndarray:
        """Return the square polygons of ``cells`` (all when None), metric CRS."""
        import shapely

        cs = self.cell_size
        rows, cols = self.lattice(cells)
        west = self.offset[0] + cols * cs
        north = self.offset[1] - rows * cs
        return np.asarray(shapely.box(west, north - cs, west + cs, north))

    def describe(self) -> dict[str, Any]:
        """Return the grid's parameters for ``attrs``/JSON."""
        return {
            "cell_size_m": float(self.cell_size),
            "offset_m": [float(self.offset[0]), float(self.offset[1])],
            "n_cells": int(self.n_cells),
            "study_area_km2": float(self.study_area_km2),
            "crs": self.crs,
        }


#: Largest block side (cells) the first level of :func:`cells_sharing_area` tests.
_MAX_BLOCKS_PER_SIDE = 32


def _block_boxes(
    rows: np.ndarray,
    cols: np.ndarray,
    heights: np.ndarray,
    widths: np.ndarray,
    cell_size: float,
    offset: tuple[float, float],
    col0: int,
    row0: int,
) -> np.ndarray:
    """Return the boxes of blocks of cells, grown by a margin that covers rounding."""
    import shapely

    ox, oy = offset
    west = ox + (col0 + cols) * cell_size
    east = ox + (col0 + cols + widths) * cell_size
    north = oy - (row0 + rows) * cell_size
    south = oy - (row0 + rows + heights) * cell_size
    # The cells' own edges (``west + cell_size`` …) may differ from the lattice lines by a
    # few units in the last place: the margin keeps every cell strictly inside its block.
    margin = 1e-6 + 1e-12 * max(
        abs(ox), abs(oy), float(np.abs(west).max()), float(np.abs(north).max())
    )
    return np.asarray(shapely.box(west - margin, south - margin, east + margin, north + margin))


def cells_sharing_area(
    area: Any,
    cell_size: float,
    offset: tuple[float, float],
    col0: int,
    row0: int,
    n_rows: int,
    n_cols: int,
) -> np.ndarray:
    """Return the positions (row-major in the box) of the lattice cells sharing area with ``area``.

    A cell belongs when ``intersects(area, cell) and not touches(area, cell)``, its interior
    meets the area's. Only the cells near the area's boundary are tested one by one: blocks of
    cells are tested first (a quadtree, from blocks of up to
    ``max(n_rows, n_cols) / 32`` cells a side); a block inside the area keeps all its cells, a
    block outside it none, and only blocks the boundary crosses are split in four. The tests on
    single cells are those on the cells' own squares, so the result is that of testing every
    cell of the box (``tests/test_evaluation_cells.py`` compares them), at a cost that grows
    with the boundary's length in cells rather than with the box's area.

    Parameters
    ----------
    area
        Polygon (metric CRS), prepared or not.
    cell_size
        Side of the cells, metres.
    offset
        Origin of the lattice lines (already reduced modulo ``cell_size``).
    col0, row0
        Lattice column and row (counted southwards) of the box's north-west cell.
    n_rows, n_cols
        Shape of the box, in cells.

    Returns
    -------
    numpy.ndarray
        Increasing positions ``row * n_cols + col`` in the box (int64).
    """
    import shapely

    cs = float(cell_size)
    ox, oy = offset
    keep = np.zeros((n_rows, n_cols), dtype=bool)
    size = 1
    while max(n_rows, n_cols) > size * _MAX_BLOCKS_PER_SIDE:
        size *= 2
    rows, cols = (
        a.ravel().astype(np.int64)
        for a in np.meshgrid(np.arange(0, n_rows, size), np.arange(0, n_cols, size), indexing="ij")
    )
    while rows.size:
        heights = np.minimum(size, n_rows - rows)
        widths = np.minimum(size, n_cols - cols)
        if size == 1:
            # the same squares as a test of every cell would build
            west = ox + (col0 + cols) * cs
            north = oy - (row0 + rows) * cs
            # a cell whose centre lies inside the area shares area with it (the centre is in
            # both interiors); the others are tested on their squares
            hit = shapely.contains_xy(area, west + cs / 2.0, north - cs / 2.0)
            rest = np.flatnonzero(~hit)
            boxes = shapely.box(west[rest], north[rest] - cs, west[rest] + cs, north[rest])
            meets = shapely.intersects(area, boxes)
            hit[rest[meets]] = ~shapely.touches(area, boxes[meets])
            keep[rows[hit], cols[hit]] = True
            break
        boxes = _block_boxes(rows, cols, heights, widths, cs, offset, col0, row0)
        meets = shapely.intersects(area, boxes)
        inside = np.zeros(rows.size, dtype=bool)
        inside[meets] = shapely.contains(area, boxes[meets])
        for r, c, h, w in zip(
            rows[inside].tolist(),
            cols[inside].tolist(),
            heights[inside].tolist(),
            widths[inside].tolist(),
            strict=True,
        ):
            keep[r : r + h, c : c + w] = True
        split = meets & ~inside
        half = size // 2
        r, c = rows[split], cols[split]
        rows = np.concatenate([r, r, r + half, r + half])
        cols = np.concatenate([c, c + half, c, c + half])
        ok = (rows < n_rows) & (cols < n_cols)
        rows, cols = rows[ok], cols[ok]
        size = half
    return np.flatnonzero(keep.ravel()).astype(np.int64)


def make_cell_grid(
    area: Any, cell_size: float, crs: str, *, offset: tuple[float, float] = (0.0, 0.0)
) -> CellGrid:
    """Build the evaluation grid: lattice cells sharing area with ``area``.

    Parameters
    ----------
    area
        Study area polygon in the metric ``crs``.
    cell_size
        Side of the cells, metres.
    crs
        Metric CRS (recorded).
    offset
        Origin of the lattice lines, metres (taken modulo ``cell_size``).

    Returns
    -------
    CellGrid
    """
    import shapely

    check_positive("cell_size", cell_size, allow_none=False)
    if area is None or area.is_empty or area.area <= 0:
        raise ConfigError("el área de estudio no tiene superficie")
    cs = float(cell_size)
    ox, oy = (float(offset[0]) % cs, float(offset[1]) % cs)
    minx, miny, maxx, maxy = area.bounds
    col0 = math.floor((minx - ox) / cs)
    col1 = max(math.ceil((maxx - ox) / cs), col0 + 1)
    row0 = -math.ceil((maxy - oy) / cs)
    row1 = max(-math.floor((miny - oy) / cs), row0 + 1)
    n_cols, n_rows = col1 - col0, row1 - row0
    shapely.prepare(area)
    flat = cells_sharing_area(area, cs, (ox, oy), col0, row0, n_rows, n_cols)
    if len(flat) == 0:
        raise ConfigError("el área de estudio no cubre ninguna celda")
    lookup = np.full(n_rows * n_cols, -1, dtype=np.int64)
    lookup[flat] = np.arange(len(flat))
    return CellGrid(
        cell_size=cs,
        offset=(ox, oy),
        col0=col0,
        row0=row0,
        n_rows=n_rows,
        n_cols=n_cols,
        flat=flat,
        crs=str(crs),
        area=area,
        _lookup=lookup,
    )


def cells_frame(
    grid: CellGrid, cells: np.ndarray, columns: dict[str, Any] | None = None
) -> gpd.GeoDataFrame:
    """Return the given cells as a GeoDataFrame in EPSG:4326 with ``cell_id`` and ``columns``."""
    import geopandas as gpd

    from ..settings import CRS_GEOGRAPHIC

    cells = np.asarray(cells, dtype=np.int64)
    data: dict[str, Any] = {
        "cell_id": [f"r{r}c{c}" for r, c in zip(*grid.lattice(cells), strict=True)]
    }
    data.update(columns or {})
    frame = gpd.GeoDataFrame(data, geometry=list(grid.polygons(cells)), crs=grid.crs)
    return frame.to_crs(CRS_GEOGRAPHIC)
