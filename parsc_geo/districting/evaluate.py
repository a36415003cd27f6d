"""Evaluate a comisaría's sectors and subsectors: workload, balance, shape and coverage.

Per sector (and per subsector)
------------------------------
``denuncias``, ``dano``, ``denuncias_noche``, ``poblacion``, ``area_km2`` and ``recorrido_km3``
(:mod:`parsc_geo.districting.workload`; an incident counts in the first unit, in natural label
order, that contains it, as :func:`parsc_geo.assign.assign_incidents` does), their shares of the
comisaría's totals (``pct_*``), ``distancia_km`` (station to the unit's centroid) and
``distancia_max_km`` (to its farthest vertex), ``polsby_popper`` (``4πA / P²``: 1 for a disk,
≈ 0.785 for a square; Polsby & Popper 1991), ``partes`` (polygons the unit is made of) and
``contiguo``: within each separate part of the jurisdiction the unit is one polygon (pieces of
at most ``settings.SECTOR_TOPOLOGY_TOLERANCE_M2`` are slivers and ignored). Where the census
gives the station's officers (CENACOM ``efectivos_asignados_total``) and they are shared equally
among the sectors, ``efectivos`` is a sector's share and ``efectivos_por_100_denuncias`` its
officers per 100 incidents.

Per comisaría and level
-----------------------
Balance of each workload component across units: coefficient of variation (population standard
deviation over the mean), ``max/min`` (infinite when a unit has none) and the Gini coefficient
``Σ_i Σ_j |x_i − x_j| / (2 n² x̄)``; mean and least Polsby–Popper; contiguous units; and coverage
of the jurisdiction: ``hueco_km2`` (jurisdiction covered by no unit), ``solape_km2`` (area
covered more than once, counted once per extra cover) and ``fuera_km2`` (units outside the
jurisdiction).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from ..settings import SECTOR_TOPOLOGY_TOLERANCE_M2
from .workload import COMPONENT_COLUMNS, COMPONENT_NAMES

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry.base import BaseGeometry

    from .jurisdiction import Comisaria

#: Plan names in the tables.
PLAN_EXISTING: Final[str] = "existente"
PLAN_DESIGNED: Final[str] = "diseñado"

#: Columns of the unit table, in order.
UNIT_COLUMNS: Final[tuple[str, ...]] = (
    "comisaria",
    "plan",
    "nivel",
    "sector",
    "subsector",
    "denuncias",
    "dano",
    "denuncias_noche",
    "poblacion",
    "area_km2",
    "recorrido_km3",
    "carga",
    "pct_denuncias",
    "pct_dano",
    "pct_denuncias_noche",
    "pct_poblacion",
    "pct_area",
    "pct_carga",
    "distancia_km",
    "distancia_max_km",
    "polsby_popper",
    "partes",
    "contiguo",
    "efectivos",
    "efectivos_por_100_denuncias",
)

#: Balance indicators of the summary: column → Spanish label.
BALANCED: Final[dict[str, str]] = {
    "denuncias": "denuncias",
    "dano": "daño",
    "denuncias_noche": "denuncias de noche",
    "poblacion": "población",
    "area_km2": "área",
    "carga": "carga",
}


def coefficient_of_variation(values: Any) -> float:
    """Return the population standard deviation over the mean (NaN when the mean is 0).

    Examples
    --------
    >>> round(coefficient_of_variation([1, 2, 3]), 4)  # sqrt(2/3) / 2
    0.4082
    """
    x = np.asarray(values, dtype=float)
    if not len(x) or x.mean() == 0:
        return math.nan
    return float(x.std() / x.mean())


def max_min_ratio(values: Any) -> float:
    """Return ``max / min`` (infinite when the least is 0 and the most is not; NaN if all 0)."""
    x = np.asarray(values, dtype=float)
    if not len(x) or x.max() == 0:
        return math.nan
    return float(x.max() / x.min()) if x.min() > 0 else math.inf


def gini(values: Any) -> float:
    """Return the Gini coefficient ``Σ_i Σ_j |x_i − x_j| / (2 n² x̄)`` (NaN when all are 0).

    Examples
    --------
    >>> gini([0, 0, 0, 4])  # (2·3·4) / (2 · 16 · 1)
    0.75
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    if not n or x.sum() == 0:
        return math.nan
    ranks = np.arange(1, n + 1)
    return float((2.0 * (ranks * x).sum()) / (n * x.sum()) - (n + 1.0) / n)


def polsby_popper(geom: BaseGeometry) -> float:
    """Return ``4π · area / perimeter²`` of a polygon (NaN when empty)."""
    perimeter = float(geom.length)
    return 4.0 * math.pi * float(geom.area) / perimeter**2 if perimeter > 0 else math.nan


def contiguity(geom: BaseGeometry, jurisdiction_parts: list[BaseGeometry]) -> tuple[int, bool]:
    """Return the number of parts of a unit and whether it is contiguous (module notes)."""
    from .jurisdiction import polygon_parts

    parts = [p for p in polygon_parts(geom) if p.area > SECTOR_TOPOLOGY_TOLERANCE_M2]
    if len(parts) <= 1:
        return len(parts), True
    if len(jurisdiction_parts) <= 1:
        return len(parts), False
    owners = []
    for part in parts:
        point = part.representative_point()
        owner = next(
            (k for k, jp in enumerate(jurisdiction_parts) if jp.buffer(1.0).covers(point)), -1
        )
        owners.append(owner)
    return len(parts), len(set(owners)) == len(owners) and -1 not in owners


@dataclass
class PlanEvaluation:
    """Evaluation of one plan (existing or designed) of one comisaría.

    Attributes
    ----------
    units
        One row per sector and per subsector (:data:`UNIT_COLUMNS`).
    summary
        Level (``"sector"``/``"subsector"``) → indicator → value.
    sectors, subsectors
        The units' polygons (metric CRS) with their labels and table columns, for maps.
    """

    units: pd.DataFrame
    summary: dict[str, dict[str, float]]
    sectors: gpd.GeoDataFrame
    subsectors: gpd.GeoDataFrame
    findings: list[str] = field(default_factory=list)


def unit_components(
    geoms: np.ndarray,
    crs: Any,
    incidents: gpd.GeoDataFrame,
    *,
    station_xy: tuple[float, float] | None,
    year: int,
) -> pd.DataFrame:
    """Return the workload components of each polygon (an incident counts in the first one)."""
    import pandas as pd
    import shapely

    from .population import population_of
    from .workload import incident_xy, night_mask

    n = len(geoms)
    x, y = incident_xy(incidents, crs) if len(incidents) else (np.zeros(0), np.zeros(0))
    where = np.full(len(x), -1, dtype=np.int64)
    if len(x) and n:
        tree = shapely.STRtree(geoms)
        pi, ui = tree.query(shapely.points(x, y), predicate="intersects")
        order = np.lexsort((ui, pi))
        pi, ui = pi[order], ui[order]
        first = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.zeros(0, dtype=bool)
        where[pi[first]] = ui[first]
    inside = where >= 0
    harm = (
        pd.to_numeric(incidents["harm"], errors="coerce").fillna(0.0).to_numpy(float)
        if "harm" in incidents.columns
        else np.ones(len(incidents))
    )
    night = night_mask(incidents)
    area_km2 = shapely.area(geoms) / 1e6
    centroids = shapely.centroid(geoms)
    if station_xy is None:
        distance = np.full(n, np.nan)
        farthest = np.full(n, np.nan)
    else:
        sx, sy = station_xy
        distance = np.hypot(shapely.get_x(centroids) - sx, shapely.get_y(centroids) - sy) / 1e3
        farthest = np.array(
            [
                float(np.hypot(c[:, 0] - sx, c[:, 1] - sy).max()) / 1e3
                if len(c := shapely.get_coordinates(g))
                else math.nan
                for g in geoms
            ]
        )
    return pd.DataFrame(
        {
            "denuncias": np.bincount(where[inside], minlength=n).astype(float),
            "dano": np.bincount(where[inside], weights=harm[inside], minlength=n),
            "denuncias_noche": np.bincount(where[inside & night], minlength=n).astype(float),
            "poblacion": population_of(geoms, crs, year),
            "area_km2": area_km2,
            "recorrido_km3": area_km2 * distance,
            "distancia_km": distance,
            "distancia_max_km": farthest,
        }
    )


def _carga(table: pd.DataFrame, weights: dict[str, float] | None) -> np.ndarray:
    """Return the combined workload of units, normalised as the blocks' is."""
    if not weights:
        return np.full(len(table), np.nan)
    usable = {
        k: w
        for k, w in weights.items()
        if np.isfinite(table[COMPONENT_COLUMNS[k]]).all() and table[COMPONENT_COLUMNS[k]].sum() > 0
    }
    if not usable:
        return np.full(len(table), np.nan)
    if len(usable) == 1:
        return table[COMPONENT_COLUMNS[next(iter(usable))]].to_numpy(float)
    total = sum(usable.values())
    scale = float(table["denuncias"].sum()) or 100.0
    values = np.zeros(len(table))
    for key, weight in usable.items():
        column = table[COMPONENT_COLUMNS[key]].to_numpy(float)
        values += weight / total * column / column.sum()
    return values * scale


def evaluate_plan(
    layer: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    *,
    comisaria: Comisaria,
    jurisdiction: BaseGeometry,
    station_xy: tuple[float, float] | None,
    year: int,
    plan: str = PLAN_EXISTING,
    weights: dict[str, float] | None = None,
) -> PlanEvaluation:
    """Evaluate the sectors and subsectors of one comisaría.

    Parameters
    ----------
    layer
        The comisaría's sector layer rows (one per subsector, or per sector when it has no
        subsectors) in a metric CRS, with ``sector`` and ``subsector``.
    incidents
        Point incidents (any CRS) with ``harm`` and optionally ``occurred_at``/``time_known``.
    comisaria
        The comisaría (name, officers).
    jurisdiction
        Its jurisdiction in the layer's CRS (for gaps, overlaps and contiguity).
    station_xy
        Station in the layer's CRS, or None.
    year
        Year of the population estimate.
    plan
        ``"existente"`` or ``"diseñado"``.
    weights
        Workload weights (:mod:`parsc_geo.districting.workload`) for the ``carga`` columns.

    Returns
    -------
    PlanEvaluation
    """
    import geopandas as gpd
    import pandas as pd
    import shapely

    from ..sectors import order_sectors
    from .jurisdiction import polygon_parts

    crs = layer.crs
    layer = order_sectors(layer.assign(comisaria=comisaria.name))
    geoms = shapely.make_valid(layer.geometry.to_numpy())
    has_sub = bool((layer["subsector"] != "").any())
    if has_sub:
        layer = layer[layer["subsector"] != ""]
        geoms = shapely.make_valid(layer.geometry.to_numpy())
    sector_labels = list(dict.fromkeys(layer["sector"].tolist()))
    sector_geoms = np.array(
        [shapely.union_all(geoms[(layer["sector"] == s).to_numpy()]) for s in sector_labels],
        dtype=object,
    )
    sectors = gpd.GeoDataFrame(
        {"comisaria": comisaria.name, "sector": sector_labels, "subsector": ""},
        geometry=list(sector_geoms),
        crs=crs,
    )
    subsectors = (
        gpd.GeoDataFrame(
            layer[["comisaria", "sector", "subsector"]].reset_index(drop=True),
            geometry=list(geoms),
            crs=crs,
        )
        if has_sub
        else sectors.iloc[0:0]
    )
    j_parts = polygon_parts(jurisdiction)
    n_sectors = len(sectors)
    tables = []
    summary: dict[str, dict[str, float]] = {}
    for level, units in (("sector", sectors), ("subsector", subsectors)):
        if not len(units):
            continue
        unit_geoms = units.geometry.to_numpy()
        comp = unit_components(unit_geoms, crs, incidents, station_xy=station_xy, year=year)
        comp["carga"] = _carga(comp, weights)
        for column in ("denuncias", "dano", "denuncias_noche", "poblacion", "area_km2", "carga"):
            total = comp[column].sum()
            comp[f"pct_{column.replace('_km2', '')}"] = (
                100.0 * comp[column] / total if total > 0 else np.nan
            )
        comp["polsby_popper"] = [polsby_popper(g) for g in unit_geoms]
        shape = [contiguity(g, j_parts) for g in unit_geoms]
        comp["partes"] = [s[0] for s in shape]
        comp["contiguo"] = [s[1] for s in shape]
        if comisaria.efectivos is not None and level == "sector":
            comp["efectivos"] = comisaria.efectivos / n_sectors
            comp["efectivos_por_100_denuncias"] = np.where(
                comp["denuncias"] > 0,
                100.0 * comp["efectivos"] / comp["denuncias"].where(comp["denuncias"] > 0, 1),
                np.nan,
            )
        else:
            comp["efectivos"] = np.nan
            comp["efectivos_por_100_denuncias"] = np.nan
        comp.insert(0, "subsector", units["subsector"].to_numpy())
        comp.insert(0, "sector", units["sector"].to_numpy())
        comp.insert(0, "nivel", level)
        comp.insert(0, "plan", plan)
        comp.insert(0, "comisaria", comisaria.name)
        tables.append(comp[list(UNIT_COLUMNS)])
        summary[level] = _summary(comp, unit_geoms, jurisdiction, comisaria)
        for column in comp.columns:
            if column not in ("comisaria", "plan", "nivel", "sector", "subsector"):
                units[column] = comp[column].to_numpy()
    result = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=UNIT_COLUMNS)
    evaluation = PlanEvaluation(result, summary, sectors, subsectors)
    evaluation.findings = findings(evaluation, plan)
    return evaluation


def _summary(
    comp: pd.DataFrame, geoms: np.ndarray, jurisdiction: BaseGeometry, comisaria: Comisaria
) -> dict[str, float]:
    import shapely

    out: dict[str, float] = {"unidades": float(len(comp))}
    for column in BALANCED:
        values = comp[column].to_numpy(float)
        if not np.isfinite(values).all():
            continue
        out[f"cv_{column}"] = coefficient_of_variation(values)
        out[f"max_min_{column}"] = max_min_ratio(values)
        out[f"gini_{column}"] = gini(values)
    out["pp_media"] = float(np.nanmean(comp["polsby_popper"]))
    out["pp_minima"] = float(np.nanmin(comp["polsby_popper"]))
    out["contiguos"] = float(comp["contiguo"].sum())
    union = shapely.union_all(geoms)
    out["hueco_km2"] = float(shapely.area(shapely.difference(jurisdiction, union))) / 1e6
    out["solape_km2"] = float(shapely.area(geoms).sum() - shapely.area(union)) / 1e6
    out["fuera_km2"] = float(shapely.area(shapely.difference(union, jurisdiction))) / 1e6
    total = float(comp["denuncias"].sum())
    if comisaria.efectivos is not None:
        out["efectivos"] = float(comisaria.efectivos)
        out["efectivos_por_100_denuncias"] = (
            100.0 * comisaria.efectivos / total if total > 0 else math.nan
        )
    return out


def _pct(value: float) -> str:
    return f"{value:.0f} %" if np.isfinite(value) else "—"


def findings(evaluation: PlanEvaluation, plan: str) -> list[str]:
    """Return Spanish sentences on how the plan's sectors share the work.

    "el SECTOR 3 concentra el 41 % del daño con el 12 % del área": the sector whose share of
    harm most exceeds its share of area; then the sector with most incidents against an even
    share; then the balance of incidents (coefficient of variation, max/min).
    """
    units = evaluation.units
    sectors = units[units["nivel"] == "sector"]
    if sectors.empty:
        return []
    lines: list[str] = []
    n = len(sectors)
    prefix = f"Plan {plan}: "
    if n > 1 and np.isfinite(sectors["pct_dano"]).all():
        gap = sectors["pct_dano"] - sectors["pct_area"]
        row = sectors.iloc[int(np.argmax(gap.to_numpy()))]
        lines.append(
            f"{prefix}el {row['sector']} concentra el {_pct(row['pct_dano'])} del daño "
            f"con el {_pct(row['pct_area'])} del área."
        )
    if n > 1 and np.isfinite(sectors["pct_denuncias"]).all():
        row = sectors.iloc[int(np.argmax(sectors["denuncias"].to_numpy()))]
        low = sectors.iloc[int(np.argmin(sectors["denuncias"].to_numpy()))]
        lines.append(
            f"{prefix}el {row['sector']} recibe el {_pct(row['pct_denuncias'])} de las "
            f"denuncias y el {low['sector']} el {_pct(low['pct_denuncias'])} "
            f"(reparto parejo: {100.0 / n:.0f} % cada uno)."
        )
    summary = evaluation.summary.get("sector", {})
    cv = summary.get("cv_denuncias", math.nan)
    if np.isfinite(cv):
        ratio = summary.get("max_min_denuncias", math.nan)
        ratio_text = "∞" if ratio == math.inf else f"{ratio:.2f}"
        lines.append(
            f"{prefix}coeficiente de variación de las denuncias por sector {cv:.2f}, "
            f"máximo/mínimo {ratio_text}, {int(summary.get('contiguos', 0))} de {n} sectores "
            "contiguos."
        )
    return lines


def evaluate_sectors(
    incidents: gpd.GeoDataFrame,
    sectors: gpd.GeoDataFrame,
    comisaria: str,
    *,
    jurisdiction: BaseGeometry | None = None,
    include_at_station: bool = False,
    stations: gpd.GeoDataFrame | None = None,
) -> tuple[Comisaria, PlanEvaluation, tuple[float, float] | None]:
    """Evaluate the existing sectors of one comisaría of a sector layer.

    Parameters
    ----------
    incidents
        Point incidents (any CRS); those stacked at a station (``at_station``) are left out
        unless ``include_at_station``.
    sectors
        Sector layer (:func:`parsc_geo.sectors.read_sectors`).
    comisaria
        Name or id of a comisaría of the layer.
    jurisdiction
        Its jurisdiction in UTM 17S; default: the union of its subsectors with holes filled
        (so the holes are the layer's gaps).
    include_at_station
        Count incidents stacked at a police station.
    stations
        Police units (default: bundled CENACOM 2017).

    Returns
    -------
    (Comisaria, PlanEvaluation, station_xy)
    """
    from pyproj import Transformer

    from .._errors import ConfigError
    from ..settings import CRS_METRIC_CAJAMARCA
    from .jurisdiction import fill_holes, find_comisaria, layer_jurisdiction
    from .workload import data_year, usable_incidents

    com = find_comisaria(comisaria, sectors=sectors, stations=stations)
    if not com.in_layer:
        known = ", ".join(dict.fromkeys(sectors["comisaria"].astype(str)))
        raise ConfigError(
            f"la comisaría {com.name} no tiene sectores en la capa",
            hint=f"la capa tiene sectores de: {known}; para proponer sectores use "
            "'parsc-geo sectors design'",
        )
    crs = CRS_METRIC_CAJAMARCA
    territory = (
        jurisdiction
        if jurisdiction is not None
        else fill_holes(layer_jurisdiction(sectors, com.name, crs))
    )
    station_xy = None
    if com.station_lonlat is not None:
        sx, sy = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(
            *com.station_lonlat
        )
        station_xy = (float(sx), float(sy))
    counted, _ = usable_incidents(incidents, include_at_station)
    layer = sectors[sectors["comisaria"].astype(str) == com.name].to_crs(crs)
    evaluation = evaluate_plan(
        layer,
        counted,
        comisaria=com,
        jurisdiction=territory,
        station_xy=station_xy,
        year=data_year(incidents),
        plan=PLAN_EXISTING,
        weights={"incidents": 1.0},
    )
    return com, evaluation, station_xy


#: Summary indicators shown in the old-vs-new table: key → Spanish label.
SUMMARY_LABELS: Final[dict[str, str]] = {
    "unidades": "número de unidades",
    **{f"cv_{k}": f"coeficiente de variación de {v}" for k, v in BALANCED.items()},
    **{f"max_min_{k}": f"máximo/mínimo de {v}" for k, v in BALANCED.items()},
    **{f"gini_{k}": f"Gini de {v}" for k, v in BALANCED.items()},
    "pp_media": "Polsby–Popper medio",
    "pp_minima": "Polsby–Popper mínimo",
    "contiguos": "unidades contiguas",
    "hueco_km2": "huecos en la jurisdicción (km²)",
    "solape_km2": "solapes (km²)",
    "fuera_km2": "fuera de la jurisdicción (km²)",
    "efectivos": "efectivos asignados (CENACOM)",
    "efectivos_por_100_denuncias": "efectivos por 100 denuncias",
}


def summary_table(plans: list[tuple[str, PlanEvaluation]]) -> pd.DataFrame:
    """Return the old-vs-new summary: one row per comisaría, level and indicator.

    Columns ``comisaria``, ``nivel``, ``indicador``, ``clave``, ``existente``, ``diseñado``
    and ``cambio`` (designed minus existing, where both exist).
    """
    import pandas as pd

    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for name, evaluation in plans:
        for level, values in evaluation.summary.items():
            for key, label in SUMMARY_LABELS.items():
                if key not in values:
                    continue
                row = rows.setdefault(
                    (name, level, key),
                    {
                        "comisaria": name,
                        "nivel": level,
                        "indicador": label,
                        "clave": key,
                        PLAN_EXISTING: math.nan,
                        PLAN_DESIGNED: math.nan,
                    },
                )
                plan = str(evaluation.units["plan"].iloc[0]) if len(evaluation.units) else ""
                row[plan] = values[key]
    table = pd.DataFrame(
        list(rows.values()),
        columns=["comisaria", "nivel", "indicador", "clave", PLAN_EXISTING, PLAN_DESIGNED],
    )
    with np.errstate(invalid="ignore"):
        table["cambio"] = table[PLAN_DESIGNED] - table[PLAN_EXISTING]
    return table


__all__ = [
    "COMPONENT_NAMES",
    "PLAN_DESIGNED",
    "PLAN_EXISTING",
    "PlanEvaluation",
    "coefficient_of_variation",
    "evaluate_plan",
    "evaluate_sectors",
    "gini",
    "max_min_ratio",
    "polsby_popper",
    "summary_table",
]
