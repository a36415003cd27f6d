"""Design a comisaría's sectors and subsectors: balanced, contiguous and compact.

:func:`design_sectors` takes the jurisdiction (given, the union of the comisaría's existing
subsectors, or derived as the assignment does: :mod:`parsc_geo.districting.jurisdiction`),
covers it with blocks (:mod:`parsc_geo.districting.blocks`), gives every block its workload
(:mod:`parsc_geo.districting.workload`), splits the blocks into N sectors
(:func:`parsc_geo.districting.partition.partition`) and every sector into M subsectors the same
way, labels them as the plan's legend does (:mod:`parsc_geo.districting.labels`), and evaluates
the result against the existing sectors (:mod:`parsc_geo.districting.evaluate`).

Choices
-------
Number of sectors
    ``n_sectors``; else as many as ``target_workload`` per sector requires (``⌈total /
    target⌉``); else as many as the comisaría has today; else :data:`DEFAULT_SECTORS`.
Subsectors per sector
    ``n_subsectors``; else today's subsectors per sector (rounded); else
    :data:`DEFAULT_SUBSECTORS`. A sector with fewer blocks gets one subsector per block.
Station
    With ``station_sector`` the block holding the police station never moves, so one sector
    (numbered 1) keeps the station. Sectors are numbered by distance from the station (the
    nearest is ``SECTOR 1``), or north to south without a station; subsectors in sector order,
    then north to south, then west to east, lettered on across sectors.
District limits
    With ``respect_districts`` blocks are cut along district limits and each sector stays in
    one district; the sectors are shared among districts in proportion to their workload
    (largest remainders, at least one each).
Heavy blocks
    A block holding more than :data:`HEAVY_SHARE` of a sector's workload cannot be shared and
    limits the balance; with ``refine`` (default: when the cell size is automatic) such blocks
    are cut into triangles that keep their boundary (a hexagon into 6, then each triangle into
    3), :data:`MAX_REFINE_ROUNDS` times at most, never below 50 m × 50 m and never beyond
    :data:`MAX_BLOCKS` blocks (:func:`parsc_geo.districting.blocks.refine_blocks`).
Incidents stacked at the station
    Left out by default (their place is the station's door, not where they happened).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from .._errors import ConfigError, InputDataError
from ..settings import CRS_METRIC_CAJAMARCA, SEED
from .blocks import DEFAULT_SHAPE
from .partition import DEFAULT_COMPACTNESS, DEFAULT_STARTS

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry.base import BaseGeometry

    from .blocks import Blocks
    from .evaluate import PlanEvaluation
    from .jurisdiction import Comisaria
    from .partition import Graph, Partition
    from .workload import Workload

#: Sectors designed when neither a number, a target nor existing sectors say how many.
DEFAULT_SECTORS: Final[int] = 4
#: Subsectors per sector when neither a number nor existing subsectors say how many.
DEFAULT_SUBSECTORS: Final[int] = 4
#: A block holding more than this share of a sector's workload is cut into smaller cells.
HEAVY_SHARE: Final[float] = 0.05
#: Rounds of cutting heavy blocks.
MAX_REFINE_ROUNDS: Final[int] = 3
#: Cutting stops before the blocks exceed this number.
MAX_BLOCKS: Final[int] = 6000

#: Columns of the designed layer besides the sector columns and geometry.
WORKLOAD_OUTPUT_COLUMNS: Final[tuple[str, ...]] = (
    "denuncias",
    "dano",
    "denuncias_noche",
    "poblacion",
    "area_km2",
    "carga",
    "pct_carga",
)


@dataclass
class DesignOptions:
    """Settings of :func:`design_sectors` (every one has a working default; see module notes)."""

    n_sectors: int | None = None
    n_subsectors: int | None = None
    workload: str = "incidents"
    weights: dict[str, float] | None = None
    target_workload: float | None = None
    cell_size: float | None = None
    shape: str = DEFAULT_SHAPE
    station_sector: bool = True
    respect_districts: bool = False
    labels: str | None = None
    compactness: float = DEFAULT_COMPACTNESS
    starts: int = DEFAULT_STARTS
    seed: int = SEED
    include_at_station: bool = False
    refine: bool | None = None

    def check(self) -> None:
        """Raise :class:`ConfigError` listing every invalid setting."""
        from .._validate import ProblemCollector
        from .labels import LABEL_STYLES
        from .workload import WORKLOADS

        problems = ProblemCollector("en las opciones del diseño de sectores")
        for name in ("n_sectors", "n_subsectors"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                problems.add(f"{name} debe ser un entero ≥ 1; se recibió {value!r}")
        if self.workload not in WORKLOADS:
            problems.add(
                f"workload debe ser uno de {', '.join(WORKLOADS)}; se recibió {self.workload!r}"
            )
        if self.target_workload is not None and not self.target_workload > 0:
            problems.add(f"target_workload debe ser positivo; se recibió {self.target_workload!r}")
        if self.cell_size is not None and not self.cell_size > 0:
            problems.add(f"cell_size debe ser positivo; se recibió {self.cell_size!r}")
        if self.shape not in ("hex", "square"):
            problems.add(f"shape debe ser 'hex' o 'square'; se recibió {self.shape!r}")
        if self.labels is not None and self.labels not in LABEL_STYLES:
            problems.add(f"labels debe ser 'letters' o 'numbers'; se recibió {self.labels!r}")
        if not self.compactness >= 0:
            problems.add(f"compactness debe ser ≥ 0; se recibió {self.compactness!r}")
        if not isinstance(self.starts, int) or self.starts < 1:
            problems.add(f"starts debe ser un entero ≥ 1; se recibió {self.starts!r}")
        problems.raise_if_any(ConfigError)


@dataclass
class SectorDesign:
    """A designed plan for one comisaría.

    Attributes
    ----------
    comisaria
        The comisaría.
    layer
        One row per subsector (EPSG:4326) in the format :func:`parsc_geo.sectors.read_sectors`
        reads: ``comisaria``, ``comisaria_id``, ``sector``, ``subsector``, then
        :data:`WORKLOAD_OUTPUT_COLUMNS`.
    designed, existing
        Evaluations of the designed plan and of today's (None when the comisaría has none).
    blocks
        The building blocks, with their workload columns and ``sector``/``subsector`` labels.
    jurisdiction
        Jurisdiction (metric CRS ``crs``).
    station_xy
        Station in ``crs`` (None when unknown).
    parameters
        Every setting and automatic choice, the algorithm, its trials and timings.
    messages
        Spanish lines announcing the choices and the result.
    """

    comisaria: Comisaria
    layer: gpd.GeoDataFrame
    designed: PlanEvaluation
    existing: PlanEvaluation | None
    blocks: Blocks
    jurisdiction: BaseGeometry
    crs: str
    station_xy: tuple[float, float] | None
    parameters: dict[str, Any] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)


def _jurisdiction(
    comisaria: Comisaria,
    sectors: gpd.GeoDataFrame | None,
    given: Any,
    crs: str,
    stations: gpd.GeoDataFrame | None,
    messages: list[str],
) -> tuple[BaseGeometry, str]:
    import shapely

    from .._text import num
    from .jurisdiction import derived_jurisdiction, fill_holes, layer_jurisdiction

    if given is not None:
        geom = given if isinstance(given, shapely.Geometry) else None
        if geom is None:
            geom = shapely.union_all(shapely.make_valid(given.to_crs(crs).geometry.to_numpy()))
        return fill_holes(geom), "polígono de jurisdicción indicado"
    if comisaria.in_layer and sectors is not None:
        union = layer_jurisdiction(sectors, comisaria.name, crs)
        filled = fill_holes(union)
        holes = float(filled.area - union.area)
        if holes > 1.0:
            messages.append(f"se rellenaron huecos de la capa de sectores ({num(holes)} m²)")
        return filled, "unión de los subsectores existentes"
    derived = derived_jurisdiction(comisaria, crs, stations=stations, sectors=sectors)
    return derived, (
        "derivada como en la asignación: celda de Voronoi de la comisaría entre las "
        "dependencias policiales del censo, recortada a la región"
    )


def _largest_remainder(shares: np.ndarray, k: int) -> np.ndarray:
    """Split ``k`` seats by largest remainders, at least one each (ties to the lower index)."""
    m = len(shares)
    seats = np.ones(m, dtype=np.int64)
    extra = k - m
    if extra <= 0:
        return seats
    quota = shares / shares.sum() * k if shares.sum() > 0 else np.full(m, k / m)
    more = np.maximum(np.floor(quota) - 1, 0).astype(np.int64)
    while more.sum() > extra:
        more[int(np.argmax(more))] -= 1
    seats += more
    left = k - int(seats.sum())
    remainder = quota - seats
    for i in sorted(range(m), key=lambda i: (-remainder[i], i))[:left]:
        seats[i] += 1
    return seats


def _split(
    graph: Graph,
    weights: np.ndarray,
    k: int,
    *,
    groups: np.ndarray | None,
    options: DesignOptions,
    seed: int,
    pinned: int | None,
) -> tuple[np.ndarray, list[Partition]]:
    """Partition the graph into ``k`` regions, within groups (districts) when given."""
    from .blocks import components
    from .partition import partition

    n = len(graph)
    if groups is None:
        result = partition(
            graph,
            weights,
            k,
            seed=seed,
            pinned=pinned,
            compactness=options.compactness,
            starts=options.starts,
        )
        return result.labels, [result]
    codes = list(dict.fromkeys(groups.tolist()))
    if k < len(codes):
        raise ConfigError(
            f"la jurisdicción abarca {len(codes)} distritos y se pidieron {k} sectores",
            hint=f"pida al menos {len(codes)} sectores o no respete los límites distritales",
        )
    shares = np.array([weights[groups == c].sum() for c in codes])
    seats = _largest_remainder(shares, k)
    labels = np.zeros(n, dtype=np.int64)
    results = []
    offset = 0
    for code, count in zip(codes, seats.tolist(), strict=True):
        members = np.flatnonzero(groups == code)
        sub = graph.subgraph(members)
        if len(components(sub.neighbours)) > 1:
            from .blocks import _bridge

            _bridge(sub.neighbours, sub.shared, sub.x, sub.y)
        count = min(count, len(members))
        local_pin = None
        if pinned is not None and pinned in set(members.tolist()):
            local_pin = int(np.flatnonzero(members == pinned)[0])
        result = partition(
            sub,
            weights[members],
            count,
            seed=seed,
            pinned=local_pin,
            compactness=options.compactness,
            starts=options.starts,
        )
        labels[members] = result.labels + offset
        offset += count
        results.append(result)
    return labels, results


def _order_regions(
    labels: np.ndarray, x: np.ndarray, y: np.ndarray, area: np.ndarray, key_xy: Any
) -> np.ndarray:
    """Renumber regions 0… by ``key_xy(cx, cy, members)`` of their area-weighted centroid."""
    regions = np.unique(labels)
    keys = []
    for r in regions:
        m = labels == r
        cx = float((x[m] * area[m]).sum() / area[m].sum())
        cy = float((y[m] * area[m]).sum() / area[m].sum())
        keys.append((key_xy(cx, cy, np.flatnonzero(m)), int(r)))
    order = [r for _, r in sorted(keys)]
    new = np.empty(int(regions.max()) + 1, dtype=np.int64)
    for number, r in enumerate(order):
        new[r] = number
    return new[labels]


def design_sectors(
    incidents: gpd.GeoDataFrame,
    comisaria: str,
    *,
    sectors: gpd.GeoDataFrame | None = None,
    jurisdiction: Any = None,
    stations: gpd.GeoDataFrame | None = None,
    options: DesignOptions | None = None,
) -> SectorDesign:
    """Design the sectors and subsectors of one comisaría (see the module notes).

    Parameters
    ----------
    incidents
        Point incidents (any CRS) with ``harm`` (``occurred_at``, ``time_known`` and
        ``at_station`` are used when present), e.g. from :func:`parsc_geo.ingest.ingest_files`
        or a workspace.
    comisaria
        Name or CENACOM id (:func:`parsc_geo.districting.jurisdiction.find_comisaria`).
    sectors
        Today's sector layer (:func:`parsc_geo.sectors.read_sectors`), if any: the comisaría's
        jurisdiction and the plan to compare with.
    jurisdiction
        A jurisdiction to use instead (GeoDataFrame/GeoSeries, or a shapely geometry in
        UTM 17S).
    stations
        Police units (default: the bundled CENACOM 2017 units).
    options
        :class:`DesignOptions`.

    Returns
    -------
    SectorDesign

    Raises
    ------
    ConfigError
        Unknown comisaría (with close names), invalid options, more sectors than blocks.
    InputDataError
        Incidents without a CRS, or a jurisdiction that cannot be derived.
    """
    import geopandas as gpd
    import shapely
    from pyproj import Transformer

    from .blocks import district_pieces, make_blocks, refine_blocks
    from .evaluate import PLAN_DESIGNED, PLAN_EXISTING, evaluate_plan
    from .jurisdiction import find_comisaria
    from .labels import label_style, sector_label, subsector_label
    from .partition import Graph
    from .population import block_population
    from .workload import block_table, combine, data_year, usable_incidents, workload_weights

    opts = options or DesignOptions()
    opts.check()
    if incidents.crs is None:
        raise InputDataError(
            "los incidentes no tienen sistema de referencia de coordenadas",
            hint="use incidents.set_crs('EPSG:4326') si son longitud/latitud",
        )
    started = time.perf_counter()
    messages: list[str] = []
    com = find_comisaria(comisaria, sectors=sectors, stations=stations)
    crs = CRS_METRIC_CAJAMARCA
    if jurisdiction is not None and not isinstance(jurisdiction, shapely.Geometry):
        from ..projection import metric_crs

        crs = metric_crs(gpd.GeoDataFrame(geometry=jurisdiction.geometry)).to_string()
    territory, source = _jurisdiction(com, sectors, jurisdiction, crs, stations, messages)
    station_xy: tuple[float, float] | None = None
    if com.station_lonlat is not None:
        t = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        sx, sy = t.transform(*com.station_lonlat)
        station_xy = (float(sx), float(sy))
    counted, _ = usable_incidents(incidents, opts.include_at_station)
    stacked = len(incidents) - len(counted)
    if stacked:
        from .workload import incident_xy

        sx_all, sy_all = incident_xy(incidents.drop(index=counted.index), crs)
        ok = np.isfinite(sx_all)
        stacked = int(shapely.contains_xy(territory, sx_all[ok], sy_all[ok]).sum())
    year = data_year(incidents)
    # Project once and keep the incidents near the jurisdiction: every count below reuses them.
    counted = counted.to_crs(crs)
    minx, miny, maxx, maxy = territory.bounds
    counted = counted.cx[minx:maxx, miny:maxy]

    pieces = None
    if opts.respect_districts:
        from ..boundaries import load_districts

        pieces = district_pieces(territory, load_districts().to_crs(crs))
    blocks = make_blocks(territory, crs, cell_size=opts.cell_size, shape=opts.shape, pieces=pieces)
    params = blocks.parameters
    shape_es = "hexagonales" if params["shape"] == "hex" else "cuadradas"
    how = "automático" if params["cell_size_auto"] else "indicado"
    messages.append(
        f"{com.name}: jurisdicción {territory.area / 1e6:.1f} km² ({source}); "
        f"celdas {shape_es} de {params['cell_size']:.0f} m ({how}), {len(blocks)} bloques"
    )
    weights = workload_weights(opts.workload, opts.weights)

    def measure(b: Blocks) -> tuple[pd.DataFrame, Workload]:
        tab = block_table(b, counted, station_xy=station_xy, population=block_population(b, year))
        return tab, combine(tab, weights)

    table, wl = measure(blocks)
    existing_layer = None
    if com.in_layer and sectors is not None:
        existing_layer = sectors[sectors["comisaria"].astype(str) == com.name]
    k, k_reason = _sector_count(opts, wl.values, existing_layer)
    refine = opts.refine if opts.refine is not None else opts.cell_size is None
    for _round in range(MAX_REFINE_ROUNDS if refine else 0):
        heavy = _heavy_blocks(blocks, wl.values, k)
        if not heavy.any():
            break
        before = len(blocks)
        blocks = refine_blocks(blocks, heavy)
        table, wl = measure(blocks)
        messages.append(
            f"{int(heavy.sum())} bloques con más del {100 * HEAVY_SHARE:.0f} % de la carga de un "
            f"sector divididos en triángulos: {before} → {len(blocks)} bloques"
        )
    n_inside = int(table["denuncias"].sum())
    messages.append(
        f"{n_inside} denuncias dentro de la jurisdicción"
        + (f" ({stacked} apiladas en comisarías, excluidas)" if stacked else "")
    )
    messages.append(f"carga equilibrada: {wl.describe()} (unidad: {wl.unit})")
    messages.extend(wl.notes)
    if k > len(blocks):
        raise ConfigError(
            f"se pidieron {k} sectores pero la jurisdicción tiene {len(blocks)} bloques",
            hint="pida menos sectores o use un --cell-size menor",
        )
    messages.append(f"{k} sectores ({k_reason})")

    graph = Graph.from_blocks(blocks)
    x, y, area = graph.x, graph.y, graph.area
    pinned = None
    if opts.station_sector and station_xy is not None:
        from .blocks import locate

        hit = int(locate(blocks, np.array([station_xy[0]]), np.array([station_xy[1]]))[0])
        pinned = hit if hit >= 0 else None
        if pinned is None:
            messages.append("la comisaría está fuera de la jurisdicción: ningún bloque se fija")
    groups = blocks.frame["ubigeo"].to_numpy() if opts.respect_districts else None
    t0 = time.perf_counter()
    sector_raw, results = _split(
        graph, wl.values, k, groups=groups, options=opts, seed=opts.seed, pinned=pinned
    )

    def by_station(cx: float, cy: float, members: np.ndarray) -> tuple[float, float, float]:
        if station_xy is None:
            return (0.0, -cy, cx)
        if pinned is not None and pinned in set(members.tolist()):
            return (-1.0, -cy, cx)
        d = float(np.hypot(x[members] - station_xy[0], y[members] - station_xy[1]).min())
        return (d, -cy, cx)

    sector_of = _order_regions(sector_raw, x, y, area, by_station)
    n_sub_each, sub_reason = _subsector_count(opts, existing_layer, k)
    style = (
        opts.labels
        or (label_style(existing_layer["subsector"]) if existing_layer is not None else None)
        or "letters"
    )
    subsector_of = np.zeros(len(blocks), dtype=np.int64)
    sub_results: list[Partition] = []
    number = 0
    sub_numbers: list[int] = []
    for s in range(k):
        members = np.flatnonzero(sector_of == s)
        m = min(n_sub_each, len(members))
        sub = graph.subgraph(members)
        local_pin = None
        if pinned is not None and pinned in set(members.tolist()):
            local_pin = int(np.flatnonzero(members == pinned)[0])
        raw, parts = _split(
            sub,
            wl.values[members],
            m,
            groups=None,
            options=opts,
            seed=opts.seed + 1 + s,
            pinned=local_pin,
        )
        sub_results.extend(parts)
        local = _order_regions(
            raw, sub.x, sub.y, sub.area, lambda cx, cy, _m: (0.0, -round(cy, 3), round(cx, 3))
        )
        subsector_of[members] = local + number
        number += m
        sub_numbers.append(m)
    elapsed = time.perf_counter() - t0
    blocks.frame = blocks.frame.assign(
        **{c: table[c].to_numpy() for c in table.columns},
        carga=wl.values,
        sector=[sector_label(int(s) + 1) for s in sector_of],
        subsector=[subsector_label(int(s) + 1, style) for s in subsector_of],
    )
    messages.append(
        f"subsectores: {number} ({sub_reason}), etiquetas "
        + ("A … Z, AA …" if style == "letters" else "numeradas")
    )
    main = results[0]
    messages.append(
        f"algoritmo: {main.algorithm}; mejor de {len(main.trials)} inicios "
        f"(semilla {opts.seed}); {elapsed:.1f} s"
    )

    layer_metric = _layer(blocks, com)
    designed = evaluate_plan(
        layer_metric,
        counted,
        comisaria=com,
        jurisdiction=territory,
        station_xy=station_xy,
        year=year,
        plan=PLAN_DESIGNED,
        weights=wl.weights,
    )
    existing = None
    if existing_layer is not None and len(existing_layer):
        existing = evaluate_plan(
            existing_layer.to_crs(crs),
            counted,
            comisaria=com,
            jurisdiction=territory,
            station_xy=station_xy,
            year=year,
            plan=PLAN_EXISTING,
            weights=wl.weights,
        )
    cv_new = designed.summary["sector"].get("cv_carga", math.nan)
    line = f"coeficiente de variación de la carga por sector: {cv_new:.3f}"
    if existing is not None:
        line += f" (hoy {existing.summary['sector'].get('cv_carga', math.nan):.3f})"
    messages.append(line)

    subs_eval = designed.units[designed.units["nivel"] == "subsector"].reset_index(drop=True)
    out = layer_metric.copy()
    for column in WORKLOAD_OUTPUT_COLUMNS:
        out[column] = subs_eval[column].to_numpy() if len(subs_eval) else np.nan
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=crs).to_crs("EPSG:4326")
    parameters = {
        "comisaria": com.name,
        "comisaria_id": com.comisaria_id,
        "jurisdiccion": source,
        "jurisdiccion_km2": territory.area / 1e6,
        "crs": crs,
        "bloques": params,
        "carga": {"workload": opts.workload, "pesos": wl.weights, "unidad": wl.unit},
        "carga_texto": wl.describe(),
        "sectores": k,
        "sectores_motivo": k_reason,
        "subsectores_por_sector": sub_numbers,
        "etiquetas": style,
        "estacion_fija": pinned is not None,
        "anio_poblacion": year,
        "denuncias_apiladas_excluidas": stacked,
        "algoritmo": main.algorithm,
        "inicios": [t for r in results for t in r.trials],
        "opciones": asdict(opts),
        "segundos": round(time.perf_counter() - started, 3),
    }
    return SectorDesign(
        comisaria=com,
        layer=out,
        designed=designed,
        existing=existing,
        blocks=blocks,
        jurisdiction=territory,
        crs=crs,
        station_xy=station_xy,
        parameters=parameters,
        messages=messages,
    )


def _heavy_blocks(blocks: Blocks, values: np.ndarray, k: int) -> np.ndarray:
    """Return the blocks to refine: above :data:`HEAVY_SHARE` of a sector's workload.

    Only blocks larger than ``settings.MIN_CELL_SIZE_M`` squared and, when
    there are too many, the heaviest that keep the block count under :data:`MAX_BLOCKS`.
    """
    from ..settings import MIN_CELL_SIZE_M

    total = float(values.sum())
    if total <= 0:
        return np.zeros(len(values), dtype=bool)
    areas = blocks.frame["area_m2"].to_numpy(float)
    heavy = (values > HEAVY_SHARE * total / k) & (areas > MIN_CELL_SIZE_M**2)
    room = (MAX_BLOCKS - len(blocks)) // 6
    if heavy.sum() > room:
        order = np.argsort(-np.where(heavy, values, -np.inf), kind="stable")
        heavy = np.zeros(len(values), dtype=bool)
        heavy[order[: max(room, 0)]] = True
    return heavy


def _sector_count(
    opts: DesignOptions, weights: np.ndarray, existing: gpd.GeoDataFrame | None
) -> tuple[int, str]:
    if opts.n_sectors is not None:
        return opts.n_sectors, "indicado"
    if opts.target_workload is not None:
        k = max(1, math.ceil(float(weights.sum()) / opts.target_workload - 1e-9))
        return k, f"carga objetivo {opts.target_workload:g} por sector"
    if existing is not None and len(existing):
        return int(existing["sector"].nunique()), "como los sectores existentes"
    return DEFAULT_SECTORS, "valor por defecto"


def _subsector_count(
    opts: DesignOptions, existing: gpd.GeoDataFrame | None, k: int
) -> tuple[int, str]:
    if opts.n_subsectors is not None:
        return opts.n_subsectors, "indicado por sector"
    if existing is not None and len(existing) and (existing["subsector"] != "").any():
        subs = existing[existing["subsector"] != ""]
        per = max(1, round(subs["subsector"].nunique() / max(subs["sector"].nunique(), 1)))
        return int(per), "por sector, como los existentes"
    return DEFAULT_SUBSECTORS, "por sector, valor por defecto"


def _layer(blocks: Blocks, comisaria: Comisaria) -> gpd.GeoDataFrame:
    """Union the labelled blocks into subsector polygons (metric CRS), in label order."""
    import geopandas as gpd
    import shapely

    from ..sectors import order_sectors

    frame = blocks.frame
    rows = []
    for (sector, subsector), group in frame.groupby(["sector", "subsector"], sort=False):
        rows.append(
            {
                "comisaria": comisaria.name,
                "comisaria_id": comisaria.comisaria_id,
                "sector": sector,
                "subsector": subsector,
                "geometry": shapely.union_all(group.geometry.to_numpy()),
            }
        )
    layer = gpd.GeoDataFrame(rows, geometry="geometry", crs=frame.crs)
    return order_sectors(layer)
