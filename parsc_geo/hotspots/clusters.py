"""Density-based clusters of incidents as hotspots: DBSCAN (scikit-learn) and HDBSCAN.

HDBSCAN runs the ``hdbscan`` package's Borůvka algorithm on a KD-tree with the exact minimum
spanning tree (McInnes & Healy 2017): about ``n log n``, where scikit-learn's implementation
builds the tree with Prim's algorithm over every pair of incidents (time ``n²``: 80,000
incidents in one province took 20 times longer). Its core distances come from a single-tree
KD-tree query: the package's own dual-tree query grew like ``n^1.6`` on dense incidents.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import ConfigError
from .._text import num
from .._validate import check_choice, check_positive
from ..settings import MIN_CELL_SIZE_M
from ._common import Prepared, announce, describe, empty, prepare

if TYPE_CHECKING:
    import geopandas as gpd

#: Fewest incidents (after exclusions) with which DBSCAN and HDBSCAN run.
MIN_INCIDENTS = 10
#: Smallest automatic ``min_samples`` / ``min_cluster_size``.
MIN_SAMPLES_FLOOR = 5
#: Range (m) within which the automatic DBSCAN ``eps`` is kept: below 50 m police geocoding is
#: noise; above 1 km clusters merge whole towns.
EPS_RANGE_M: tuple[float, float] = (MIN_CELL_SIZE_M, 1_000.0)
#: Default buffer (m) around cluster hulls: the precision of police geocoding.
DEFAULT_BUFFER_M = MIN_CELL_SIZE_M
#: Default ``ratio`` of :func:`shapely.concave_hull` (0 = most concave, 1 = convex hull).
CONCAVE_RATIO = 0.3
HULLS: tuple[str, ...] = ("concave", "convex")
#: Buffer (m) given to zero-area outlines (all incidents at one spot or on a line) when
#: ``buffer`` is 0, so that every hotspot is a polygon.
DEGENERATE_BUFFER_M = 1.0


def auto_min_samples(n: int) -> int:
    """Return the automatic minimum cluster size: ``max(5, round(2 ln n))``.

    Grows slowly with the number of incidents so that a hotspot in a large data set needs more
    incidents than one in a small data set, without swallowing small towns.
    """
    return max(MIN_SAMPLES_FLOOR, round(2.0 * math.log(max(n, 1))))


def knee_distance(x: np.ndarray, y: np.ndarray, k: int) -> float:
    """Return the knee of the sorted distances to the ``k``-th nearest other incident.

    The knee is the point of the ascending k-distance curve farthest below the chord joining
    its ends once both axes are scaled to [0, 1] (Ester et al. 1996's k-distance plot, knee
    located as in Satopää et al. 2011). Zero-length distances (stacked points) are kept.
    """
    from sklearn.neighbors import NearestNeighbors

    xy = np.column_stack([x, y])
    k = min(k, len(xy) - 1)
    nn = NearestNeighbors(n_neighbors=k + 1).fit(xy)
    distances, _ = nn.kneighbors(xy)
    d = np.sort(distances[:, -1])
    span = d[-1] - d[0]
    if span <= 0 or len(d) < 3:
        return float(d[-1])
    xs = np.linspace(0.0, 1.0, len(d))
    ys = (d - d[0]) / span
    return float(d[int(np.argmax(xs - ys))])


def _outline(x: np.ndarray, y: np.ndarray, hull: str, ratio: float, buffer: float) -> Any:
    import shapely

    points = shapely.multipoints(np.column_stack([x, y]))
    shape = (
        shapely.concave_hull(points, ratio=ratio)
        if hull == "concave"
        else shapely.convex_hull(points)
    )
    if buffer > 0:
        shape = shapely.buffer(shape, buffer, quad_segs=8)
    if shapely.area(shape) <= 0:
        # Stacked or collinear incidents have a point or line as hull: keep a polygon.
        shape = shapely.buffer(shape, DEGENERATE_BUFFER_M, quad_segs=8)
    return shape


#: Relative margin that keeps cell-level shortcuts clear of rounding at exactly ``eps``.
_MARGIN = 1e-9
#: Cells (of side eps/√2) within which a point's neighbours can lie: the 5 × 5 block around it.
_OFFSETS = [(dx, dy) for dx in range(-2, 3) for dy in range(-2, 3) if (dx, dy) > (0, 0)]


def dbscan_labels(xy: np.ndarray, eps: float, min_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Return DBSCAN labels and the core mask: scikit-learn's result, in memory linear in n.

    scikit-learn's ``DBSCAN`` lists every point's neighbours at once: memory grows with the
    number of pairs closer than ``eps``, which in a dense city means with the square of the
    incidents (a million incidents in one sector took gigabytes). The same result is built on
    a grid of cells of side ``eps/√2``, where any two points of a cell are neighbours:

    * a point in a cell holding ``min_samples`` points or more is a core point; the others
      count their neighbours (KD-tree counts, checked with scikit-learn's own neighbour search
      where a neighbour lies at ``eps`` give or take rounding);
    * clusters are the connected groups of cells with core points, two cells being linked when
      a core point of one lies within ``eps`` of a core point of the other (nearest-neighbour
      distances between the two cells, scikit-learn's search deciding at ``eps`` exactly);
    * clusters are numbered by their first core point and a border point joins the lowest
      numbered cluster with a core point within ``eps`` — what scikit-learn's depth-first
      expansion from each unvisited core point, in index order, does.

    Parameters
    ----------
    xy
        ``(n, 2)`` coordinates in metres.
    eps
        Neighbourhood radius (metres).
    min_samples
        Neighbours (the point itself included) that make a core point.

    Returns
    -------
    labels, core
        ``labels[i]`` is the cluster of point ``i`` (-1: noise), as ``DBSCAN(eps,
        min_samples).fit(xy).labels_``; ``core`` is the mask of core points.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree
    from sklearn.neighbors import NearestNeighbors

    n = len(xy)
    labels = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return labels, np.zeros(0, dtype=bool)
    # DBSCAN's own neighbour search (same parameters): it decides every case at eps exactly.
    exact = NearestNeighbors(radius=eps).fit(xy)
    side = eps / math.sqrt(2.0) * (1.0 - _MARGIN)
    cols = np.floor((xy[:, 0] - xy[:, 0].min()) / side).astype(np.int64)
    rows = np.floor((xy[:, 1] - xy[:, 1].min()) / side).astype(np.int64)
    width = int(rows.max()) + 5
    key = (cols + 2) * width + (rows + 2)
    cell_keys, cell_of = np.unique(key, return_inverse=True)
    cell_of = cell_of.reshape(-1)
    core = np.bincount(cell_of)[cell_of] >= min_samples
    tree = cKDTree(xy)
    # points of sparse cells count their neighbours: few points, and their neighbourhoods small
    sparse = np.flatnonzero(~core)
    if len(sparse):
        low = tree.query_ball_point(xy[sparse], eps * (1 - _MARGIN), return_length=True)
        high = tree.query_ball_point(xy[sparse], eps * (1 + _MARGIN), return_length=True)
        counts = np.asarray(low, dtype=np.int64)
        unsure = np.flatnonzero(np.asarray(low) != np.asarray(high))
        if len(unsure):
            found = exact.radius_neighbors(xy[sparse[unsure]], return_distance=False)
            counts[unsure] = [len(f) for f in found]
        core[sparse] = counts >= min_samples
    core_idx = np.flatnonzero(core)
    if not len(core_idx):
        return labels, core
    # cells with core points, and the core points of each (in index order)
    core_cells, core_cell_of = np.unique(cell_of[core_idx], return_inverse=True)
    core_cell_of = core_cell_of.reshape(-1)
    order = np.argsort(core_cell_of, kind="stable")
    starts = np.searchsorted(core_cell_of[order], np.arange(len(core_cells) + 1))
    members = [core_idx[order[a:b]] for a, b in itertools.pairwise(starts)]
    trees: dict[int, Any] = {}
    core_keys = cell_keys[core_cells]
    links_a: list[int] = []
    links_b: list[int] = []
    for dx, dy in _OFFSETS:
        target = core_keys + dx * width + dy
        at = np.searchsorted(core_keys, target)
        hit = (at < len(core_keys)) & (core_keys[np.minimum(at, len(core_keys) - 1)] == target)
        for a, b in zip(np.flatnonzero(hit).tolist(), at[hit].tolist(), strict=True):
            if _linked(xy, members[a], members[b], eps, trees, b, exact):
                links_a.append(a)
                links_b.append(b)
    graph = coo_matrix(
        (np.ones(len(links_a)), (links_a, links_b)), shape=(len(core_cells), len(core_cells))
    )
    _, component = connected_components(graph, directed=False)
    # clusters numbered by their first core point, as scikit-learn's expansion numbers them
    of_core = component[core_cell_of]
    first = np.full(component.max() + 1, n, dtype=np.int64)
    np.minimum.at(first, of_core, core_idx)
    number = np.empty_like(first)
    number[np.argsort(first, kind="stable")] = np.arange(len(first))
    labels[core_idx] = number[of_core]
    # border points: the lowest numbered cluster with a core point within eps
    others = np.flatnonzero(~core)
    if len(others):
        for i, near in zip(
            others, exact.radius_neighbors(xy[others], return_distance=False), strict=True
        ):
            reached = labels[near[core[near]]]
            if len(reached):
                labels[i] = int(reached.min())
    return labels, core


def _linked(
    xy: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    eps: float,
    trees: dict[int, Any],
    b_key: int,
    exact: Any,
) -> bool:
    """Whether a core point of ``a`` lies within ``eps`` of a core point of ``b``."""
    from scipy.spatial import cKDTree

    if len(a) * len(b) <= 4096:
        pa, pb = xy[a], xy[b]
        d = np.hypot(pa[:, None, 0] - pb[None, :, 0], pa[:, None, 1] - pb[None, :, 1]).min()
    else:
        if b_key not in trees:
            trees[b_key] = cKDTree(xy[b])
        d = float(trees[b_key].query(xy[a], k=1)[0].min())
    if d < eps * (1 - _MARGIN):
        return True
    if d > eps * (1 + _MARGIN):
        return False
    # at eps give or take rounding: scikit-learn's neighbour search decides
    found = exact.radius_neighbors(xy[a], return_distance=False)
    inside = set(b.tolist())
    return any(inside.intersection(f.tolist()) for f in found)


def _clusters_to_table(
    prepared: Prepared,
    labels: np.ndarray,
    *,
    method: str,
    hull: str,
    ratio: float,
    buffer: float,
    params: dict[str, Any],
    extra_per_point: dict[str, np.ndarray],
) -> gpd.GeoDataFrame:
    """Order clusters (largest first, then west→east, south→north), outline and describe them."""
    import pandas as pd

    has = labels >= 0
    ids, sizes = np.unique(labels[has], return_counts=True)
    # The members of every cluster at once (one sort), not one pass over all points per cluster.
    order = np.argsort(labels, kind="stable")
    starts = np.searchsorted(labels[order], ids)
    members = {int(c): order[a : a + k] for c, a, k in zip(ids, starts, sizes, strict=True)}
    min_x = np.array([prepared.x[members[int(c)]].min() for c in ids])
    min_y = np.array([prepared.y[members[int(c)]].min() for c in ids])
    ordered = ids[np.lexsort((min_y, min_x, -sizes))]
    position = np.full(int(labels.max()) + 1 if len(ids) else 0, -1, dtype=np.int64)
    position[ordered] = np.arange(len(ordered))
    membership = np.full(len(labels), -1, dtype=np.int64)
    membership[has] = position[labels[has]]
    geoms = [
        _outline(prepared.x[members[int(c)]], prepared.y[members[int(c)]], hull, ratio, buffer)
        for c in ordered
    ]
    extras = pd.DataFrame(
        {
            name: [float(values[members[int(c)]].mean()) for c in ordered]
            for name, values in extra_per_point.items()
        }
    )
    return describe(prepared, membership, geoms, method=method, extras=extras, parameters=params)


def hotspot_dbscan(
    data: gpd.GeoDataFrame,
    *,
    eps: float | None = None,
    min_samples: int | None = None,
    hull: str = "concave",
    concave_ratio: float = CONCAVE_RATIO,
    buffer: float | None = None,
    min_incidents: int = MIN_INCIDENTS,
    quiet: bool = False,
    exclude_at_station: bool = True,
) -> gpd.GeoDataFrame:
    """Find hotspots as DBSCAN clusters of incidents (distances in metres).

    Parameters
    ----------
    data
        Incident points (any CRS; clustered in the metric CRS).
    eps
        Neighbourhood radius in metres. None: the knee of the k-distance curve with
        ``k = min_samples − 1`` (:func:`knee_distance`), kept within 50–1,000 m (announced).
    min_samples
        Incidents within ``eps`` (the point itself included) that make a core point. None:
        :func:`auto_min_samples`.
    hull
        Cluster outline: ``"concave"`` (:func:`shapely.concave_hull`) or ``"convex"``.
    concave_ratio
        ``ratio`` of the concave hull (0 most concave … 1 convex).
    buffer
        Buffer in metres around the hull (None: 50 m, the precision of police geocoding).
        With 0, a zero-area hull (stacked or collinear incidents) gets a 1 m buffer.
    min_incidents
        Fewest incidents to run; fewer, and an empty table is returned with the reason.
    quiet
        Do not announce automatic choices and declines on stderr.
    exclude_at_station
        Drop incidents stacked on a police station (``at_station``), counting them.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`parsc_geo.schema.HOTSPOT_COLUMNS` plus ``core_share`` (share of core points),
        one row per cluster, largest first; noise points belong to no hotspot.

    Notes
    -----
    Ester, Kriegel, Sander & Xu (1996). Rows are put in a canonical order (coordinates, then
    ``incident_id``) before clustering, so the result does not depend on the input order.
    """
    check_positive("eps", eps)
    _check_outline(hull, concave_ratio, buffer)
    if min_samples is not None and (int(min_samples) != min_samples or min_samples < 1):
        raise ConfigError(f"min_samples debe ser un entero positivo; se recibió {min_samples!r}")
    prepared = prepare(data, exclude_at_station=exclude_at_station)
    n_used = len(prepared.points)
    buffer_m = DEFAULT_BUFFER_M if buffer is None else float(buffer)
    params: dict[str, Any] = {
        "hull": hull,
        "concave_ratio": float(concave_ratio),
        "buffer": buffer_m,
        "min_incidents": int(min_incidents),
    }
    if n_used < max(min_incidents, 2):
        return empty(
            "dbscan",
            f"only {n_used} incidents after exclusions; DBSCAN needs at least {min_incidents}",
            parameters={**prepared.info, **params},
            extras={"core_share": "float64"},
            quiet=quiet,
            reason_es=f"solo {n_used} incidentes utilizables; DBSCAN requiere al menos "
            f"{min_incidents}",
        )
    auto_ms = min_samples is None
    ms = auto_min_samples(n_used) if min_samples is None else int(min_samples)
    auto_eps = eps is None
    if eps is None:
        knee = knee_distance(prepared.x, prepared.y, max(ms - 1, 1))
        eps_value = float(min(max(knee, EPS_RANGE_M[0]), EPS_RANGE_M[1]))
        params["eps_knee"] = knee
        announce(
            f"DBSCAN: eps {num(eps_value)} m (codo de la distancia k {num(knee)} m, k={ms - 1}), "
            f"min_samples {ms}",
            quiet,
        )
    else:
        eps_value = float(eps)
    params.update(eps=eps_value, eps_auto=auto_eps, min_samples=ms, min_samples_auto=auto_ms)
    labels, is_core = dbscan_labels(np.column_stack([prepared.x, prepared.y]), eps_value, ms)
    core = is_core.astype(float)
    params["n_noise"] = int((labels < 0).sum())
    if not (labels >= 0).any():
        return empty(
            "dbscan",
            f"no cluster: no incident has {ms} incidents within {eps_value:.0f} m",
            parameters={**prepared.info, **params},
            extras={"core_share": "float64"},
            quiet=quiet,
            reason_es=f"ningún incidente tiene {ms} incidentes a menos de {eps_value:.0f} m",
        )
    out = _clusters_to_table(
        prepared,
        labels,
        method="dbscan",
        hull=hull,
        ratio=concave_ratio,
        buffer=buffer_m,
        params=params,
        extra_per_point={"core_share": core},
    )
    announce(
        f"DBSCAN: {num(len(out))} grupos, {num(params['n_noise'])} incidentes fuera de todo grupo",
        quiet,
    )
    return out


def hotspot_hdbscan(
    data: gpd.GeoDataFrame,
    *,
    min_cluster_size: int | None = None,
    min_samples: int | None = None,
    cluster_selection_epsilon: float = 0.0,
    hull: str = "concave",
    concave_ratio: float = CONCAVE_RATIO,
    buffer: float | None = None,
    min_incidents: int = MIN_INCIDENTS,
    quiet: bool = False,
    exclude_at_station: bool = True,
) -> gpd.GeoDataFrame:
    """Find hotspots as HDBSCAN clusters of incidents (distances in metres).

    Parameters
    ----------
    data
        Incident points (any CRS; clustered in the metric CRS).
    min_cluster_size
        Smallest cluster. None: :func:`auto_min_samples` (announced).
    min_samples
        Neighbours defining core distances; None uses ``min_cluster_size`` (scikit-learn).
    cluster_selection_epsilon
        Clusters closer than this many metres are merged (scikit-learn's parameter).
    hull, concave_ratio, buffer, min_incidents, quiet, exclude_at_station
        As in :func:`hotspot_dbscan`.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`parsc_geo.schema.HOTSPOT_COLUMNS` plus ``probability_mean`` (mean membership
        strength of the cluster's incidents), largest cluster first.

    Notes
    -----
    Campello, Moulavi & Sander (2013); McInnes, Healy & Astels (2017). The ``hdbscan``
    package's Borůvka algorithm with the exact minimum spanning tree (McInnes & Healy 2017),
    ``n log n`` where scikit-learn's Prim's algorithm takes ``n²`` time; recorded as
    ``parameters["implementation"]``. Mutual reachability distances tie often (every
    neighbour closer than a core distance is at that distance), and implementations may break
    those ties differently: a few incidents on the edge of a cluster can then differ from
    scikit-learn's result. Canonical row order as in :func:`hotspot_dbscan`, so the result does
    not depend on the order of the rows.
    """
    _check_outline(hull, concave_ratio, buffer)
    if cluster_selection_epsilon < 0:
        raise ConfigError(
            "cluster_selection_epsilon debe ser ≥ 0 metros; "
            f"se recibió {cluster_selection_epsilon!r}"
        )
    for name, value in (("min_cluster_size", min_cluster_size), ("min_samples", min_samples)):
        if value is not None and (int(value) != value or value < 1):
            raise ConfigError(f"{name} debe ser un entero positivo; se recibió {value!r}")
    if min_cluster_size is not None and min_cluster_size < 2:
        raise ConfigError(f"min_cluster_size debe ser al menos 2; se recibió {min_cluster_size!r}")
    prepared = prepare(data, exclude_at_station=exclude_at_station)
    n_used = len(prepared.points)
    buffer_m = DEFAULT_BUFFER_M if buffer is None else float(buffer)
    params: dict[str, Any] = {
        "hull": hull,
        "concave_ratio": float(concave_ratio),
        "buffer": buffer_m,
        "cluster_selection_epsilon": float(cluster_selection_epsilon),
        "min_incidents": int(min_incidents),
    }
    extras = {"probability_mean": "float64"}
    if n_used < max(min_incidents, 2):
        return empty(
            "hdbscan",
            f"only {n_used} incidents after exclusions; HDBSCAN needs at least {min_incidents}",
            parameters={**prepared.info, **params},
            extras=extras,
            quiet=quiet,
            reason_es=f"solo {n_used} incidentes utilizables; HDBSCAN requiere al menos "
            f"{min_incidents}",
        )
    auto = min_cluster_size is None
    mcs = auto_min_samples(n_used) if min_cluster_size is None else int(min_cluster_size)
    if auto:
        announce(f"HDBSCAN: min_cluster_size {mcs} (máx(5, 2 ln n))", quiet)
    params.update(
        min_cluster_size=mcs,
        min_cluster_size_auto=auto,
        min_samples=None if min_samples is None else int(min_samples),
        implementation=_hdbscan_implementation(mcs if min_samples is None else int(min_samples)),
    )
    labels, probabilities = _hdbscan_labels(
        np.column_stack([prepared.x, prepared.y]),
        min_cluster_size=mcs,
        min_samples=mcs if min_samples is None else int(min_samples),
        cluster_selection_epsilon=float(cluster_selection_epsilon),
    )
    params["n_noise"] = int((labels < 0).sum())
    if not (labels >= 0).any():
        return empty(
            "hdbscan",
            f"no cluster of at least {mcs} incidents stands out",
            parameters={**prepared.info, **params},
            extras=extras,
            quiet=quiet,
            reason_es=f"ningún grupo de al menos {mcs} incidentes destaca",
        )
    out = _clusters_to_table(
        prepared,
        labels,
        method="hdbscan",
        hull=hull,
        ratio=concave_ratio,
        buffer=buffer_m,
        params=params,
        extra_per_point={"probability_mean": probabilities},
    )
    announce(
        f"HDBSCAN: {num(len(out))} grupos, {num(params['n_noise'])} incidentes fuera de todo grupo",
        quiet,
    )
    return out


def _hdbscan_implementation(min_samples: int) -> str:
    """Return which implementation :func:`_hdbscan_labels` runs for ``min_samples``."""
    from importlib.metadata import version

    if min_samples <= 1:
        return f"scikit-learn {version('scikit-learn')} HDBSCAN (single linkage)"
    return f"hdbscan {version('hdbscan')} boruvka_kdtree, exact MST"


def _hdbscan_labels(
    xy: np.ndarray, *, min_cluster_size: int, min_samples: int, cluster_selection_epsilon: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return HDBSCAN labels (-1 noise) and membership strengths of the points ``xy``.

    ``min_samples`` counts the point itself, as in scikit-learn: the core distance is the
    distance to the ``min_samples − 1``-th other point (the ``hdbscan`` package does not count
    the point, hence the − 1). With ``min_samples = 1`` (every core distance zero, plain single
    linkage), which the ``hdbscan`` package cannot express, scikit-learn's implementation runs.
    """
    if min_samples <= 1:
        from sklearn.cluster import HDBSCAN

        model = HDBSCAN(
            min_cluster_size=min_cluster_size,
            min_samples=1,
            cluster_selection_epsilon=cluster_selection_epsilon,
            copy=True,
        ).fit(xy)
        return model.labels_.astype(np.int64), np.asarray(model.probabilities_, dtype=float)
    from hdbscan._hdbscan_boruvka import KDTreeBoruvkaAlgorithm
    from hdbscan._hdbscan_linkage import label
    from hdbscan.hdbscan_ import _tree_to_labels
    from sklearn.neighbors import KDTree

    xy = np.ascontiguousarray(xy, dtype=np.float64)
    # the steps of hdbscan.HDBSCAN(algorithm="boruvka_kdtree", approx_min_span_tree=False),
    # with the core distances from a single-tree query (see _SingleTreeQueries)
    tree = _SingleTreeQueries(KDTree(xy, metric="minkowski", leaf_size=_LEAF_SIZE))
    boruvka = KDTreeBoruvkaAlgorithm(
        tree,
        min(min_samples, len(xy)) - 1,
        metric="minkowski",
        leaf_size=_LEAF_SIZE // 3,
        # the exact minimum spanning tree: the approximate one can change the clusters
        approx_min_span_tree=False,
        # parallelism belongs to the caller (provinces run in a process pool)
        n_jobs=1,
    )
    spanning = boruvka.spanning_tree()
    spanning = spanning[np.argsort(spanning.T[2]), :]
    labels, probabilities, *_ = _tree_to_labels(
        xy,
        label(spanning),
        min_cluster_size=min_cluster_size,
        cluster_selection_method="eom",
        allow_single_cluster=False,
        match_reference_implementation=False,
        cluster_selection_epsilon=cluster_selection_epsilon,
    )
    return np.asarray(labels, dtype=np.int64), np.asarray(probabilities, dtype=float)


#: KD-tree leaf size of ``hdbscan.HDBSCAN`` (its Borůvka tree takes a third of it).
_LEAF_SIZE = 40


class _SingleTreeQueries:
    """A KD-tree whose k-nearest-neighbour queries always descend one tree.

    The ``hdbscan`` package's Borůvka algorithm computes the core distances with a dual-tree,
    breadth-first query of every point at once: on dense incidents that query took 80 % of the
    clustering and grew like ``n^1.6`` (4.2 s against 0.54 s for the single-tree query, 211,000
    incidents in one province, 24 neighbours). Both queries return the same distances (the same
    core distances, hence the same minimum spanning tree weights); only neighbours at exactly
    equal distances may be listed in another order, which can change which of two equally
    short edges the tree takes (none did in the sample's provinces).
    """

    def __init__(self, tree: Any) -> None:
        self._tree = tree
        self.data = tree.data

    def query(
        self, points: Any, k: int = 1, dualtree: bool = False, breadth_first: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the distances and indices of the ``k`` nearest neighbours of ``points``.

        The points are queried :data:`_QUERY_CHUNK` at a time into the arrays returned: each
        point's query is its own, so the answer is the one query's, without the whole query's
        second copy of the distances (scikit-learn turns the squared distances of every point
        into distances at once: 200 MB beside the answer's 400 MB for a million incidents and
        28 neighbours).
        """
        del dualtree, breadth_first  # always a single-tree, depth-first query
        points = np.asarray(points)
        n = len(points)
        distances = np.empty((n, k), dtype=np.float64)
        indices = np.empty((n, k), dtype=np.intp)
        for start in range(0, n, _QUERY_CHUNK):
            stop = min(start + _QUERY_CHUNK, n)
            distances[start:stop], indices[start:stop] = self._tree.query(points[start:stop], k=k)
        return distances, indices


#: Points per k-nearest-neighbour query of :class:`_SingleTreeQueries`.
_QUERY_CHUNK = 65_536


def _check_outline(hull: str, ratio: float, buffer: float | None) -> None:
    check_choice("hull", hull, HULLS)
    if not 0 <= ratio <= 1:
        raise ConfigError(f"concave_ratio debe estar entre 0 y 1; se recibió {ratio!r}")
    if buffer is not None and not buffer >= 0:
        raise ConfigError(f"buffer debe ser ≥ 0 metros; se recibió {buffer!r}")
