"""Square and hexagonal grids in metres, clipped to an area, and the spatial weights between cells.

A grid is a GeoDataFrame in a metric CRS with one row per cell that intersects the area:

``cell_id`` (int)
    0, 1, … in lattice order (north to south, then west to east).
``row``, ``col`` (int)
    Position in the global lattice whose origin is snapped to multiples of the cell size, so
    that two grids with the same cell size are aligned wherever their areas are.
``x``, ``y`` (float)
    Centre of the full (unclipped) lattice cell in the metric CRS.
``area_km2`` (float)
    Area of the cell after clipping to the area.
``geometry``
    The cell clipped to the area.

Square cells have side ``cell_size``. Hexagonal cells are "pointy-top" hexagons whose
``cell_size`` is the distance between the centres of adjacent cells (the width across flats, as
``sf::st_make_grid``); their side is ``s = cell_size / √3`` and their area ``3√3/2 · s²``.

Automatic cell sizes
--------------------
:func:`auto_cell_size` holds the one automatic rule per purpose, named by that purpose:

``"surface"`` (kernel density rasters)
    The shorter side of the extent / :data:`parsc_geo.settings.CELL_SIZE_EXTENT_DIVISOR` (250,
    ArcGIS's rule) or the quartic-equivalent search radius / :data:`CELLS_PER_RADIUS` (4),
    whichever is smaller, at least :data:`parsc_geo.settings.MIN_CELL_SIZE_M` (50 m), enlarged
    so that the grid stays under :data:`parsc_geo.settings.MAX_CELLS_WARNING` cells, rounded up
    to a whole metre. Fine cells: the surface must look smooth.
``"counts"`` (grids whose cells are statistical units, e.g. Gi*)
    The shorter side of the extent / :data:`COUNT_CELL_DIVISOR` (50), at least 50 m, rounded to
    10 m. Coarse cells: each must hold enough incidents for the statistic to mean something.

Every automatic size comes with the rule that set it, in English (recorded in the results'
parameters) and in Spanish (announced).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from ._errors import ConfigError, CRSError
from ._text import num
from ._validate import check_choice, check_positive
from .settings import CELL_SIZE_EXTENT_DIVISOR, MAX_CELLS_WARNING, MIN_CELL_SIZE_M

if TYPE_CHECKING:
    import geopandas as gpd
    import scipy.sparse as sp
    from pyproj import CRS

GRID_SHAPES: tuple[str, ...] = ("square", "hex")
#: Purposes of automatic cell sizes (see the module docstring).
CELL_SIZE_PURPOSES: tuple[str, ...] = ("surface", "counts")
#: Surface rule: the cell is at most this fraction of the (quartic-equivalent) search radius.
CELLS_PER_RADIUS: Final[int] = 4
#: Counts rule: the shorter side of the extent divided by this number.
COUNT_CELL_DIVISOR: Final[int] = 50

#: Relative tolerance on neighbour distances: lattice distances are computed in floating point.
_DISTANCE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class CellSize:
    """An automatic cell size and why it was chosen.

    Attributes
    ----------
    size
        Cell size in metres.
    rule
        The rule that set it, in English (recorded with the results).
    rule_es
        The same in Spanish (announced).
    purpose
        ``"surface"`` or ``"counts"``.
    """

    size: float
    rule: str
    rule_es: str
    purpose: str


def extent_size(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Return the width and height of the extent of points (0, 0 without points)."""
    if len(x) == 0:
        return 0.0, 0.0
    return float(np.ptp(x)), float(np.ptp(y))


def auto_cell_size(
    width: float, height: float, *, purpose: str, search_radius: float | None = None
) -> CellSize:
    """Return the automatic cell size for an extent, by the rule of ``purpose``.

    Parameters
    ----------
    width, height
        Size of the extent in metres.
    purpose
        ``"surface"`` (density rasters) or ``"counts"`` (cells as statistical units, Gi*); see
        the module docstring for both rules.
    search_radius
        The quartic-equivalent search radius in metres (``"surface"`` only; required there).

    Returns
    -------
    CellSize

    Examples
    --------
    >>> auto_cell_size(12_000, 9_000, purpose="counts").size  # 9000 / 50 = 180 m
    180.0
    >>> auto_cell_size(30_000, 20_000, purpose="surface", search_radius=1_000).size  # 20000 / 250
    80.0
    """
    check_choice("purpose", purpose, CELL_SIZE_PURPOSES)
    if purpose == "counts":
        size = min(width, height) / COUNT_CELL_DIVISOR
        if size <= MIN_CELL_SIZE_M:
            size = MIN_CELL_SIZE_M
        size = float(max(MIN_CELL_SIZE_M, round(size / 10.0) * 10.0))
        return CellSize(
            size,
            f"shorter side of the extent / {COUNT_CELL_DIVISOR}, at least {MIN_CELL_SIZE_M:g} m, "
            "to 10 m",
            f"lado menor de la extensión / {COUNT_CELL_DIVISOR}, al menos {num(MIN_CELL_SIZE_M)} m",
            purpose,
        )
    if search_radius is None:
        raise ConfigError("la regla 'surface' de tamaño de celda requiere search_radius")
    by_extent = min(width, height) / CELL_SIZE_EXTENT_DIVISOR
    by_radius = search_radius / CELLS_PER_RADIUS
    if by_extent <= by_radius:
        size = by_extent
        rule = f"shorter side of the extent / {CELL_SIZE_EXTENT_DIVISOR}"
        rule_es = f"lado menor de la extensión / {CELL_SIZE_EXTENT_DIVISOR}"
    else:
        size = by_radius
        rule = f"search radius / {CELLS_PER_RADIUS}"
        rule_es = f"radio de búsqueda / {CELLS_PER_RADIUS}"
    if size < MIN_CELL_SIZE_M:
        size = MIN_CELL_SIZE_M
        rule = f"the {MIN_CELL_SIZE_M:g} m minimum"
        rule_es = f"el mínimo de {num(MIN_CELL_SIZE_M)} m"
    # Up to five more cells per axis: two of padding on each side and one of snapping.
    if (width + 5 * size) * (height + 5 * size) / (size * size) > MAX_CELLS_WARNING:
        # Smallest s with (width + 5 s)(height + 5 s) ≤ MAX_CELLS_WARNING · s².
        a = MAX_CELLS_WARNING - 25.0
        b = 5.0 * (width + height)
        size = (b + math.sqrt(b * b + 4.0 * a * width * height)) / (2.0 * a)
        rule = f"grid limited to {MAX_CELLS_WARNING:,} cells"
        rule_es = f"cuadrícula limitada a {num(MAX_CELLS_WARNING)} celdas"
    # Round up to a whole metre so that grids stay aligned and numbers stay readable.
    return CellSize(float(math.ceil(size)), rule, rule_es, purpose)


#: Points whose hull is found at once by :func:`points_hull` (one shapely point object each).
HULL_CHUNK: Final[int] = 100_000


def points_hull(x: np.ndarray, y: np.ndarray, chunk: int = HULL_CHUNK) -> Any:
    """Return ``shapely.convex_hull(shapely.multipoints(np.column_stack([x, y])))``, by chunks.

    A multipoint makes one shapely point per coordinate (about 200 bytes each: 200 MB for a
    million incidents). The hull of the points is the hull of the vertices of the hulls of
    any split of them: a point that is a vertex of the whole hull (strictly extreme) is one of
    its chunk's hull too, and GEOS builds the hull from the distinct strictly extreme points,
    starting at the lowest, whatever else it is given. The same geometry, a chunk of points
    at a time.
    """
    import shapely

    if len(x) <= chunk:
        return shapely.convex_hull(shapely.multipoints(np.column_stack([x, y])))
    vertices = [
        shapely.get_coordinates(
            shapely.convex_hull(
                shapely.multipoints(np.column_stack([x[s : s + chunk], y[s : s + chunk]]))
            )
        )
        for s in range(0, len(x), chunk)
    ]
    return shapely.convex_hull(shapely.multipoints(np.vstack(vertices)))


def hexagon_area(side: float) -> float:
    """Return the area of a regular hexagon of side ``side``: ``3√3/2 · side²``."""
    return 1.5 * math.sqrt(3.0) * side * side


def area_geometry(area: Any, crs: CRS | str | None) -> tuple[Any, CRS]:
    """Return ``area`` (GeoDataFrame, GeoSeries or shapely geometry) as one metric geometry.

    A shapely geometry needs ``crs``; a GeoDataFrame or GeoSeries is projected to ``crs`` or, when
    None, to its metric CRS. Returns the geometry and the CRS.
    """
    import geopandas as gpd
    import shapely
    from pyproj import CRS as _CRS

    from .projection import metric_crs

    if isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        if area.crs is None:
            raise CRSError(
                "el área no tiene sistema de referencia de coordenadas",
                hint="llame a area.set_crs(...) antes de construir una cuadrícula sobre ella",
            )
        if len(area) == 0:
            raise ConfigError("el área está vacía (sin geometrías)")
        target = _CRS.from_user_input(crs) if crs is not None else metric_crs(area)
        series = area.geometry if isinstance(area, gpd.GeoDataFrame) else area
        geom = shapely.union_all(np.asarray(series.to_crs(target).values))
        return shapely.make_valid(geom), target
    if isinstance(area, shapely.Geometry):
        if crs is None:
            raise CRSError(
                "un área shapely necesita su SRC",
                hint="indique crs='EPSG:32717' (u otro SRC métrico) con una geometría shapely",
            )
        target = _CRS.from_user_input(crs)
        if not target.is_projected:
            raise CRSError(
                f"las cuadrículas necesitan un SRC métrico; se recibió {target.to_string()}"
            )
        return shapely.make_valid(area), target
    raise ConfigError(
        "area debe ser un GeoDataFrame, GeoSeries o geometría shapely; "
        f"se recibió {type(area).__name__}"
    )


def _square_lattice(bounds: tuple[float, float, float, float], cell_size: float) -> tuple[Any, ...]:
    minx, miny, maxx, maxy = bounds
    c0 = math.floor(minx / cell_size)
    c1 = math.ceil(maxx / cell_size)
    r0 = math.floor(miny / cell_size)
    r1 = math.ceil(maxy / cell_size)
    c1 = max(c1, c0 + 1)
    r1 = max(r1, r0 + 1)
    cols = np.arange(c0, c1)
    rows_south_up = np.arange(r0, r1)
    # Row index counts from the north, as in rasters: global row = -(row of the south-west corner).
    grow = -rows_south_up[::-1] - 1
    cc, rr = np.meshgrid(cols, grow)
    x = (cc + 0.5) * cell_size
    y = (-rr - 0.5) * cell_size
    return rr.ravel(), cc.ravel(), x.ravel(), y.ravel()


def _hex_steps(cell_size: float) -> tuple[float, float]:
    """Return the horizontal and vertical half-steps of the hexagonal lattice.

    Every centre and vertex lies on integer multiples of ``cell_size / 2`` (x) and of
    ``side / 2`` (y), so vertices shared by neighbouring hexagons are bit-for-bit equal.
    """
    return cell_size / 2.0, cell_size / (2.0 * math.sqrt(3.0))


def _hex_centres(rows: np.ndarray, cols: np.ndarray, cell_size: float) -> tuple[Any, Any]:
    hx, hy = _hex_steps(cell_size)
    south_up = -rows
    return (2 * cols + south_up % 2) * hx, 3 * south_up * hy


def _hex_lattice(bounds: tuple[float, float, float, float], cell_size: float) -> tuple[Any, ...]:
    minx, miny, maxx, maxy = bounds
    hx, hy = _hex_steps(cell_size)
    r_lo = math.floor((miny - 2 * hy) / (3 * hy)) - 1
    r_hi = math.ceil((maxy + 2 * hy) / (3 * hy)) + 1
    c_lo = math.floor(minx / cell_size) - 1
    c_hi = math.ceil(maxx / cell_size) + 1
    rr_s, cc = np.meshgrid(np.arange(r_hi, r_lo - 1, -1), np.arange(c_lo, c_hi + 1), indexing="ij")
    rows = -rr_s.ravel()
    cols = cc.ravel()
    x, y = _hex_centres(rows, cols, cell_size)
    keep = (x + hx >= minx) & (x - hx <= maxx) & (y + 2 * hy >= miny) & (y - 2 * hy <= maxy)
    return rows[keep], cols[keep], x[keep], y[keep]


#: Vertices of a pointy-top hexagon in lattice half-steps (x, y) from its centre, at 30°, 90°, …
_HEX_VERTICES = np.array([(1, 1), (0, 2), (-1, 1), (-1, -1), (0, -2), (1, -1)])


def _cell_polygons(rows: np.ndarray, cols: np.ndarray, cell_size: float, shape: str) -> np.ndarray:
    import shapely

    if shape == "square":
        south = -rows - 1
        return shapely.box(
            cols * cell_size, south * cell_size, (cols + 1) * cell_size, (south + 1) * cell_size
        )
    hx, hy = _hex_steps(cell_size)
    south_up = -rows
    kx = (2 * cols + south_up % 2)[:, None] + _HEX_VERTICES[None, :, 0]
    ky = (3 * south_up)[:, None] + _HEX_VERTICES[None, :, 1]
    coords = np.stack([kx * hx, ky * hy], axis=-1)
    coords = np.concatenate([coords, coords[:, :1, :]], axis=1)
    return shapely.polygons(coords)


def make_grid(
    area: Any,
    cell_size: float,
    *,
    shape: str = "square",
    crs: CRS | str | None = None,
    clip: bool = True,
    quiet: bool = True,
) -> gpd.GeoDataFrame:
    """Build a square or hexagonal grid of ``cell_size`` metres over ``area``.

    Parameters
    ----------
    area
        GeoDataFrame or GeoSeries (any CRS; projected to ``crs`` or to its metric CRS), or a
        shapely geometry already in the metric ``crs``.
    cell_size
        Side of square cells, or distance between the centres of adjacent hexagons, in metres.
    shape
        ``"square"`` or ``"hex"``.
    crs
        Metric CRS of the grid; None chooses it with :func:`parsc_geo.projection.metric_crs`.
    clip
        Clip cells to the area (cells that do not intersect it are always dropped).
    quiet
        Do not warn about very large grids.

    Returns
    -------
    geopandas.GeoDataFrame
        ``cell_id``, ``row``, ``col``, ``x``, ``y``, ``area_km2``, geometry (metric CRS).
        ``attrs["parameters"]`` records ``cell_size``, ``shape`` and the CRS.

    Notes
    -----
    The lattice is anchored at multiples of ``cell_size`` (and, for hexagons, of the row
    spacing ``cell_size·√3/2``), so grids of the same cell size line up across areas.
    """
    import geopandas as gpd
    import shapely

    check_positive("cell_size", cell_size, allow_none=False)
    check_choice("shape", shape, GRID_SHAPES)
    geom, target = area_geometry(area, crs)
    if geom.is_empty or geom.area <= 0:
        raise ConfigError("el área no tiene superficie (vacía, puntos o líneas)")
    bounds = geom.bounds
    ncells = ((bounds[2] - bounds[0]) / cell_size + 2) * ((bounds[3] - bounds[1]) / cell_size + 2)
    if shape == "hex":
        ncells *= 2 / math.sqrt(3.0)
    if ncells > MAX_CELLS_WARNING and not quiet:
        import warnings

        warnings.warn(
            f"la cuadrícula tendrá unas {num(ncells)} celdas (cell_size={cell_size} m); "
            "considere un cell_size mayor",
            stacklevel=2,
        )
    lattice = (
        _square_lattice(bounds, cell_size) if shape == "square" else _hex_lattice(bounds, cell_size)
    )
    rows, cols, x, y = lattice
    polys = _cell_polygons(rows, cols, cell_size, shape)
    shapely.prepare(geom)
    hits = shapely.intersects(geom, polys)
    rows, cols, x, y, polys = rows[hits], cols[hits], x[hits], y[hits], polys[hits]
    if clip:
        inside = shapely.contains_properly(geom, polys)
        clipped = polys.copy()
        edge = ~inside
        if edge.any():
            clipped[edge] = shapely.intersection(polys[edge], geom)
        areas = shapely.area(clipped)
        keep = areas > 0
        rows, cols, x, y, clipped, areas = (
            rows[keep],
            cols[keep],
            x[keep],
            y[keep],
            clipped[keep],
            areas[keep],
        )
        polys = clipped
    else:
        areas = shapely.area(polys)
    order = np.lexsort((cols, rows))
    grid = gpd.GeoDataFrame(
        {
            "cell_id": np.arange(len(order), dtype=np.int64),
            "row": rows[order].astype(np.int64),
            "col": cols[order].astype(np.int64),
            "x": x[order],
            "y": y[order],
            "area_km2": areas[order] / 1e6,
        },
        geometry=polys[order],
        crs=target,
    )
    grid.attrs["parameters"] = {
        "cell_size": float(cell_size),
        "shape": shape,
        "crs": target.to_string(),
        "clip": clip,
    }
    return grid


def distance_band_weights(grid: gpd.GeoDataFrame, distance: float) -> sp.csr_matrix:
    """Binary weights between cells whose lattice centres are at most ``distance`` metres apart.

    Parameters
    ----------
    grid
        A grid from :func:`make_grid` (uses its ``x`` and ``y`` columns).
    distance
        Neighbourhood radius in metres (inclusive, with a relative tolerance of 1e-9).

    Returns
    -------
    scipy.sparse.csr_matrix
        Symmetric 0/1 matrix with an empty diagonal (no self-neighbours), rows in grid order.
    """
    import scipy.sparse as sp
    from scipy.spatial import cKDTree

    check_positive("distance", distance, allow_none=False)
    xy = np.column_stack([grid["x"].to_numpy(float), grid["y"].to_numpy(float)])
    n = len(xy)
    tree = cKDTree(xy)
    pairs = tree.query_pairs(distance * (1 + _DISTANCE_TOLERANCE), output_type="ndarray")
    i = np.concatenate([pairs[:, 0], pairs[:, 1]])
    j = np.concatenate([pairs[:, 1], pairs[:, 0]])
    w = sp.csr_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    w.sum_duplicates()
    return w


def contiguity_weights(grid: gpd.GeoDataFrame) -> sp.csr_matrix:
    """Binary queen-contiguity weights between the lattice cells of a grid.

    Square cells are neighbours when they share an edge or a corner (up to 8); hexagons when
    they share an edge (up to 6, which for hexagons is the same as sharing a corner).

    Notes
    -----
    Contiguity is that of the full lattice cells, so clipping a cell to the area boundary does
    not remove its neighbours. It equals ``libpysal.weights.Queen`` on the unclipped cells
    and :func:`distance_band_weights` at ``cell_size·√2`` (squares) or ``cell_size``
    (hexagons). Found by lattice arithmetic, without geometry.
    """
    params = grid.attrs.get("parameters", {})
    if "cell_size" not in params or "shape" not in params:
        raise ConfigError(
            "la contigüidad requiere una cuadrícula hecha con parsc_geo.grid.make_grid "
            "(attrs['parameters'] con cell_size y shape)"
        )
    import scipy.sparse as sp

    rows = grid["row"].to_numpy(np.int64)
    cols = grid["col"].to_numpy(np.int64)
    n = len(rows)
    if params["shape"] == "square":
        offsets = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0)]
        candidates = [(rows + dr, cols + dc) for dr, dc in offsets]
    else:
        # Rows alternate their offset: an even (south-up) row's neighbours in the rows above
        # and below are columns c−1 and c; an odd row's are c and c+1.
        odd = ((-rows) % 2).astype(np.int64)
        candidates = [(rows, cols - 1), (rows, cols + 1)]
        for dr in (-1, 1):
            candidates += [(rows + dr, cols - 1 + odd), (rows + dr, cols + odd)]
    source = np.concatenate([np.arange(n)] * len(candidates))
    target = _lookup(
        rows,
        cols,
        np.concatenate([r for r, _ in candidates]),
        np.concatenate([c for _, c in candidates]),
    )
    found = target >= 0
    w = sp.csr_matrix((np.ones(int(found.sum())), (source[found], target[found])), shape=(n, n))
    w.sum_duplicates()
    return w


#: Largest lattice bounding box (cells) indexed with a dense table in :func:`_lookup`.
_DENSE_LOOKUP_MAX = 25_000_000


def _lookup(rows: np.ndarray, cols: np.ndarray, qrows: np.ndarray, qcols: np.ndarray) -> np.ndarray:
    """Return the position of each queried (row, col) among the grid's cells, or -1."""
    qrows = np.asarray(qrows, dtype=np.int64)
    qcols = np.asarray(qcols, dtype=np.int64)
    if len(rows) == 0:
        return np.full(len(qrows), -1, dtype=np.int64)
    r0, c0 = int(rows.min()), int(cols.min())
    height, width = int(rows.max()) - r0 + 1, int(cols.max()) - c0 + 1
    if height * width <= _DENSE_LOOKUP_MAX:
        table = np.full((height, width), -1, dtype=np.int64)
        table[rows - r0, cols - c0] = np.arange(len(rows))
        r, c = qrows - r0, qcols - c0
        inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
        out = np.full(len(qrows), -1, dtype=np.int64)
        out[inside] = table[r[inside], c[inside]]
        return out
    key_grid = rows * (1 << 32) + cols
    key_query = qrows * (1 << 32) + qcols
    order = np.argsort(key_grid, kind="stable")
    sorted_keys = key_grid[order]
    pos = np.minimum(np.searchsorted(sorted_keys, key_query), len(sorted_keys) - 1)
    found = sorted_keys[pos] == key_query
    return np.where(found, order[pos], -1).astype(np.int64)


def count_points(grid: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return, for each point, the index (position in ``grid``) of its cell, or -1 outside.

    Points are assigned to lattice cells by arithmetic (squares) or nearest centre (hexagons,
    whose Voronoi cells they are); points whose lattice cell is not in the grid get -1.
    """
    params = grid.attrs.get("parameters", {})
    cell_size = float(params["cell_size"])
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(x) == 0 or len(grid) == 0:
        return np.full(len(x), -1, dtype=np.int64)
    if params["shape"] == "square":
        col = np.floor(x / cell_size).astype(np.int64)
        row = -np.floor(y / cell_size).astype(np.int64) - 1
    else:
        hx, hy = _hex_steps(cell_size)
        r_est = np.round(y / (3 * hy)).astype(np.int64)
        cand_south = r_est[:, None] + np.array([-1, 0, 1])[None, :]
        cand_cols = np.round((x[:, None] / hx - cand_south % 2) / 2).astype(np.int64)
        cx, cy = _hex_centres(-cand_south, cand_cols, cell_size)
        best = np.argmin((cx - x[:, None]) ** 2 + (cy - y[:, None]) ** 2, axis=1)
        take = np.arange(len(x))
        row = -cand_south[take, best]
        col = cand_cols[take, best]
    return _lookup(grid["row"].to_numpy(np.int64), grid["col"].to_numpy(np.int64), row, col)
