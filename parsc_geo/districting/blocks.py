"""Building blocks of sector design: grid cells clipped to a jurisdiction, and who touches whom.

Blocks
------
The jurisdiction is covered with hexagonal (default) or square cells of
:func:`parsc_geo.grid.make_grid` and each cell is clipped to it; a clipped cell that falls apart
(a cell across a river bend of the boundary) gives one block per part. When district pieces are
given (to keep sectors inside district limits), cells are cut along them too and every block
carries its district's ``ubigeo``. Blocks tile the jurisdiction exactly: their union is the
jurisdiction and they do not overlap (up to floating-point slivers far below a square metre).

The automatic cell size gives about :data:`DEFAULT_TARGET_BLOCKS` cells over the jurisdiction
(rounded up to 10 m, never below ``settings.MIN_CELL_SIZE_M``): fine enough for about 50 blocks
per subsector of a 36-subsector plan, coarse enough to design a comisaría in seconds.

Adjacency
---------
Two blocks are neighbours when they share a stretch of boundary longer than
:data:`SHARED_EDGE_MIN_FRACTION` of the cell size (touching at a corner is not enough: the union
of two corner-touching blocks is not one polygon). The shared length is
``(perimeter_a + perimeter_b − perimeter(a ∪ b)) / 2``, which is robust to the tiny
coordinate differences clipping leaves along the jurisdiction's boundary.

A jurisdiction in several separate parts (islands, a territory cut by another comisaría) gives a
block graph in several pieces; each smaller piece is joined to the nearest block of the rest by
a *bridge* (shared length 0), so that a sector may span separate parts of the jurisdiction only
where the jurisdiction itself is separate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from .._errors import ConfigError
from ..settings import MIN_CELL_SIZE_M

if TYPE_CHECKING:
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

#: Number of blocks the automatic cell size aims at.
DEFAULT_TARGET_BLOCKS: Final[int] = 2000
#: Default block shape.
DEFAULT_SHAPE: Final[str] = "hex"
#: Blocks are neighbours when they share more than this fraction of the cell size.
SHARED_EDGE_MIN_FRACTION: Final[float] = 1e-3


@dataclass
class Blocks:
    """Blocks of one jurisdiction and their adjacency.

    Attributes
    ----------
    frame
        One row per block (metric CRS): ``block_id``, ``ubigeo`` (district piece, or empty),
        ``cell_size_m`` (its cell size, or √area for a piece of a cut block), ``x``, ``y``
        (centroid), ``area_m2``,
        ``perimeter_m``, geometry.
    neighbours
        For each block, the indices of its neighbours (ascending).
    shared
        For each block, the boundary length shared with each neighbour (0 for a bridge).
    bridges
        Pairs of blocks joined across a gap between separate parts of the jurisdiction.
    parameters
        ``cell_size``, ``shape``, ``crs``, ``cell_size_auto`` and the block count.
    """

    frame: gpd.GeoDataFrame
    neighbours: list[list[int]]
    shared: list[list[float]]
    bridges: list[tuple[int, int]] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame)


def auto_cell_size(area_m2: float, shape: str, target: int = DEFAULT_TARGET_BLOCKS) -> float:
    """Return the cell size (m) giving about ``target`` cells over ``area_m2``.

    A hexagon whose centres are ``d`` apart has area ``√3/2 · d²``; a square of side ``d``,
    ``d²``. The size is rounded up to 10 m and is at least ``settings.MIN_CELL_SIZE_M``.

    Examples
    --------
    >>> auto_cell_size(100e6, "square", 100)
    1000.0
    """
    per_cell = area_m2 / max(target, 1)
    side = math.sqrt(per_cell) if shape == "square" else math.sqrt(2.0 * per_cell / math.sqrt(3.0))
    return max(MIN_CELL_SIZE_M, math.ceil(side / 10.0 - 1e-9) * 10.0)


def district_pieces(
    jurisdiction: BaseGeometry, districts: gpd.GeoDataFrame
) -> list[tuple[str, BaseGeometry]]:
    """Split ``jurisdiction`` along district limits: one ``(ubigeo, piece)`` per district.

    Districts are taken in ``ubigeo`` order, each minus the ones before it (the bundled polygons
    overlap slightly); slivers of the jurisdiction in no district go to the piece they share
    most boundary with. ``districts`` must be in the jurisdiction's CRS.
    """
    import shapely

    from .jurisdiction import polygon_parts

    ordered = districts.sort_values("ubigeo", kind="stable")
    pieces: list[tuple[str, BaseGeometry]] = []
    taken = shapely.Polygon()
    for ubigeo, geom in zip(ordered["ubigeo"].astype(str), ordered.geometry, strict=True):
        if not geom.intersects(jurisdiction):
            continue
        piece = shapely.difference(shapely.intersection(jurisdiction, geom), taken)
        parts = polygon_parts(piece)
        if parts:
            pieces.append((ubigeo, shapely.union_all(parts)))
            taken = shapely.union(taken, geom)
    if not pieces:
        return [("", jurisdiction)]
    rest = polygon_parts(
        shapely.difference(jurisdiction, shapely.union_all([p for _, p in pieces]))
    )
    for part in rest:
        best = max(
            range(len(pieces)),
            key=lambda k: (shapely.length(shapely.intersection(part.boundary, pieces[k][1])), -k),
        )
        pieces[best] = (pieces[best][0], shapely.union(pieces[best][1], part))
    return pieces


def make_blocks(
    jurisdiction: BaseGeometry,
    crs: Any,
    *,
    cell_size: float | None = None,
    shape: str = DEFAULT_SHAPE,
    pieces: list[tuple[str, BaseGeometry]] | None = None,
    target: int = DEFAULT_TARGET_BLOCKS,
) -> Blocks:
    """Cover ``jurisdiction`` with clipped cells and find which blocks touch.

    Parameters
    ----------
    jurisdiction
        Polygon or multipolygon in the metric ``crs``.
    crs
        Metric CRS of the jurisdiction.
    cell_size
        Cell size in metres (side of squares, distance between hexagon centres); None chooses
        it with :func:`auto_cell_size`.
    shape
        ``"hex"`` or ``"square"``.
    pieces
        Optional ``(ubigeo, geometry)`` district pieces (:func:`district_pieces`); blocks are
        cut along them.
    target
        Block count the automatic cell size aims at.

    Returns
    -------
    Blocks
    """
    import shapely

    from ..grid import make_grid
    from .jurisdiction import polygon_parts

    if shape not in ("hex", "square"):
        raise ConfigError(f"la forma de las celdas debe ser 'hex' o 'square'; se recibió {shape!r}")
    if cell_size is not None and not cell_size > 0:
        raise ConfigError(f"el tamaño de celda debe ser positivo; se recibió {cell_size!r}")
    area = float(jurisdiction.area)
    if area <= 0:
        raise ConfigError("la jurisdicción no tiene superficie")
    chosen = cell_size if cell_size is not None else auto_cell_size(area, shape, target)
    grid = make_grid(jurisdiction, chosen, shape=shape, crs=crs, clip=True)
    cells = grid.geometry.to_numpy()
    ubigeo_of: list[str] = []
    geoms: list[Any] = []
    for code, piece in pieces or [("", jurisdiction)]:
        cut = cells if pieces is None else shapely.intersection(cells, piece)
        for cell in cut:
            for part in polygon_parts(cell):
                geoms.append(part)
                ubigeo_of.append(code)
    parameters = {
        "cell_size": float(chosen),
        "cell_size_auto": cell_size is None,
        "shape": shape,
        "crs": grid.crs.to_string(),
        "by_district": pieces is not None,
        "refined": 0,
    }
    return _assemble(geoms, ubigeo_of, [float(chosen)] * len(geoms), grid.crs, parameters)


def _assemble(
    geoms: list[Any], ubigeo_of: list[str], sizes: list[float], crs: Any, parameters: dict[str, Any]
) -> Blocks:
    """Build :class:`Blocks` (table, adjacency, bridges) from block polygons."""
    import geopandas as gpd
    import shapely

    geom_arr = np.array(geoms, dtype=object)
    centroids = shapely.centroid(geom_arr)
    frame = gpd.GeoDataFrame(
        {
            "block_id": np.arange(len(geom_arr), dtype=np.int64),
            "ubigeo": ubigeo_of,
            "cell_size_m": sizes,
            "x": shapely.get_x(centroids),
            "y": shapely.get_y(centroids),
            "area_m2": shapely.area(geom_arr),
            "perimeter_m": shapely.length(geom_arr),
        },
        geometry=list(geom_arr),
        crs=crs,
    )
    smallest = float(min(sizes)) if sizes else 1.0
    neighbours, shared = _adjacency(geom_arr, frame["perimeter_m"].to_numpy(), smallest)
    bridges = _bridge(neighbours, shared, frame["x"].to_numpy(), frame["y"].to_numpy())
    return Blocks(
        frame=frame,
        neighbours=neighbours,
        shared=shared,
        bridges=bridges,
        parameters={**parameters, "n_blocks": len(frame), "n_bridges": len(bridges)},
    )


def split_block(geom: Any) -> list[Any]:
    """Split a block into triangles that add no corner to its boundary.

    A convex block is fanned from its centroid (a hexagon gives 6 triangles, a square 4, a
    triangle 3); a concave one (cut by the jurisdiction's boundary) gets its constrained
    Delaunay triangulation (shapely ≥ 2.1; otherwise it stays whole). Because the boundary
    keeps exactly its corners, the pieces meet the neighbouring blocks edge to edge, and
    unions of blocks stay free of slivers.
    """
    import shapely

    hull = geom.convex_hull
    if not len(geom.interiors) and geom.area >= hull.area * (1.0 - 1e-9):
        ring = shapely.get_coordinates(geom.exterior)
        centre = shapely.get_coordinates(geom.centroid)[0]
        triangles = [shapely.Polygon([centre, ring[k], ring[k + 1]]) for k in range(len(ring) - 1)]
        return [t for t in triangles if t.area > 0]
    if hasattr(shapely, "constrained_delaunay_triangles"):
        pieces = shapely.get_parts(shapely.constrained_delaunay_triangles(geom))
        kept = [t for t in pieces if t.area > 0]
        if kept:
            return kept
    return [geom]


def refine_blocks(blocks: Blocks, split: np.ndarray) -> Blocks:
    """Return the blocks with those marked in ``split`` cut into triangles (:func:`split_block`).

    A block holding a large part of the workload cannot be shared between sectors; cutting it
    lets the design balance finely where the incidents are, and keeps big blocks where there
    are none. Blocks smaller than ``settings.MIN_CELL_SIZE_M`` squared are not cut. The pieces
    tile the block, so the blocks still tile the jurisdiction.
    """
    frame = blocks.frame
    geoms: list[Any] = []
    ubigeo_of: list[str] = []
    sizes: list[float] = []
    refined = 0
    for geom, code, size, cut in zip(
        frame.geometry, frame["ubigeo"], frame["cell_size_m"], split, strict=True
    ):
        pieces = split_block(geom) if cut and geom.area > MIN_CELL_SIZE_M**2 else [geom]
        refined += len(pieces) > 1
        for piece in pieces:
            geoms.append(piece)
            ubigeo_of.append(code)
            sizes.append(float(size) if len(pieces) == 1 else float(np.sqrt(piece.area)))
    parameters = {**blocks.parameters, "refined": blocks.parameters.get("refined", 0) + refined}
    return _assemble(geoms, ubigeo_of, sizes, frame.crs, parameters)


def _adjacency(
    geoms: np.ndarray, perimeter: np.ndarray, cell_size: float
) -> tuple[list[list[int]], list[list[float]]]:
    import shapely

    n = len(geoms)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    union_perimeter = shapely.length(shapely.union(geoms[left], geoms[right]))
    length = (perimeter[left] + perimeter[right] - union_perimeter) / 2.0
    ok = length > SHARED_EDGE_MIN_FRACTION * cell_size
    neighbours: list[list[int]] = [[] for _ in range(n)]
    shared: list[list[float]] = [[] for _ in range(n)]
    for a, b, s in zip(left[ok].tolist(), right[ok].tolist(), length[ok].tolist(), strict=True):
        neighbours[a].append(b)
        shared[a].append(s)
        neighbours[b].append(a)
        shared[b].append(s)
    for i in range(n):
        order = np.argsort(neighbours[i], kind="stable")
        neighbours[i] = [neighbours[i][k] for k in order]
        shared[i] = [shared[i][k] for k in order]
    return neighbours, shared


def components(neighbours: list[list[int]], members: list[int] | None = None) -> list[list[int]]:
    """Return the connected pieces of the block graph (or of ``members``), largest first."""
    pool = set(range(len(neighbours))) if members is None else set(members)
    seen: set[int] = set()
    pieces: list[list[int]] = []
    for start in sorted(pool):
        if start in seen:
            continue
        seen.add(start)
        piece = [start]
        stack = [start]
        while stack:
            u = stack.pop()
            for v in neighbours[u]:
                if v in pool and v not in seen:
                    seen.add(v)
                    piece.append(v)
                    stack.append(v)
        pieces.append(sorted(piece))
    pieces.sort(key=lambda p: (-len(p), p[0]))
    return pieces


def _bridge(
    neighbours: list[list[int]], shared: list[list[float]], x: np.ndarray, y: np.ndarray
) -> list[tuple[int, int]]:
    """Join separate pieces of the graph to the nearest block of the rest (in place)."""
    from scipy.spatial import cKDTree

    pieces = components(neighbours)
    bridges: list[tuple[int, int]] = []
    if len(pieces) <= 1:
        return bridges
    joined = list(pieces[0])
    for piece in pieces[1:]:
        tree = cKDTree(np.column_stack([x[joined], y[joined]]))
        dist, near = tree.query(np.column_stack([x[piece], y[piece]]))
        k = int(np.argmin(dist))
        a, b = piece[k], joined[int(near[k])]
        for u, v in ((a, b), (b, a)):
            neighbours[u].append(v)
            shared[u].append(0.0)
        bridges.append((min(a, b), max(a, b)))
        joined.extend(piece)
    return bridges


def locate(blocks: Blocks, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return the block (position) of each point, or -1 for points outside every block.

    A point on a shared edge goes to the block with the lowest position.
    """
    import shapely

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    out = np.full(len(x), -1, dtype=np.int64)
    if not len(x) or not len(blocks):
        return out
    tree = shapely.STRtree(blocks.frame.geometry.to_numpy())
    pi, bi = tree.query(shapely.points(x, y), predicate="intersects")
    order = np.lexsort((bi, pi))
    pi, bi = pi[order], bi[order]
    first = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.zeros(0, dtype=bool)
    out[pi[first]] = bi[first]
    return out
