"""Which comisaría, and the territory it answers for: its jurisdiction.

A comisaría is found by name (accents and case ignored) or by its CENACOM id (``id_n``) in the
sector layer, when one is given, and among the police units of the INEI 2017 census
(:func:`parsc_geo.boundaries.load_stations`). An unknown name is answered with the closest
known names.

Jurisdiction
------------
From the sector layer
    The union of the comisaría's subsectors (a sector layer *defines* the jurisdiction, as in
    :mod:`parsc_geo.sectors`). Holes inside it are gaps of the layer, not territory of another
    comisaría, so the design fills them and says so.
Derived, as the assignment does today
    Without sectors, :func:`parsc_geo.assign.assign_incidents` gives every incident to the
    nearest census police unit. The territory this rule gives a unit is its Voronoi cell among
    all units (straight-line distance in metres), here clipped to the region (the union of the
    bundled districts, holes between district polygons filled) and minus the jurisdictions of
    the comisarías of the sector layer, which the assignment serves first. Detached parts
    narrower than :data:`MIN_PART_WIDTH_M` (slivers between polygons) are dropped.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from .._errors import ConfigError, InputDataError

if TYPE_CHECKING:
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

#: Detached parts of a derived jurisdiction narrower than this (m) are slivers and dropped.
MIN_PART_WIDTH_M: Final[float] = 2.0

#: How many close names an unknown comisaría is answered with.
CLOSE_NAMES: Final[int] = 5


@dataclass(frozen=True)
class Comisaria:
    """A comisaría to evaluate or design.

    Attributes
    ----------
    name
        Name as the sector layer writes it (or the census unit's display name).
    comisaria_id
        CENACOM ``id_n`` when known (else the layer's id, else empty).
    in_layer
        Whether the sector layer has sectors for it.
    station_lonlat
        Longitude and latitude of the police station (None when unknown).
    efectivos
        Officers assigned in the census (``efectivos_asignados_total``), None when unknown.
    """

    name: str
    comisaria_id: str
    in_layer: bool
    station_lonlat: tuple[float, float] | None
    efectivos: int | None


def fold(text: object) -> str:
    """Return ``text`` upper case, without accents and with single spaces (for matching)."""
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", plain).strip().upper()


def _station_row(stations: gpd.GeoDataFrame, key: str, name: str) -> Any:
    ids = stations["id_n"].astype(str).str.strip()
    hit = stations[ids == key.strip()] if key else stations.iloc[0:0]
    if hit.empty:
        wanted = fold(name)
        names = stations["nombre"].map(fold)
        shown = stations["nombre_mostrado"].map(fold)
        hit = stations[(names == wanted) | (shown == wanted)]
    return None if hit.empty else hit.iloc[0]


def find_comisaria(
    name: str,
    *,
    sectors: gpd.GeoDataFrame | None = None,
    stations: gpd.GeoDataFrame | None = None,
) -> Comisaria:
    """Find a comisaría by name or CENACOM id in the sector layer and the census units.

    Parameters
    ----------
    name
        Name (accents, case and spacing ignored) or ``id_n``.
    sectors
        Optional sector layer (:func:`parsc_geo.sectors.read_sectors`); its names come first.
    stations
        Police units (default: the bundled CENACOM 2017 units).

    Raises
    ------
    ConfigError
        When no comisaría has that name or id; the message lists the closest names.
    """
    from ..boundaries import load_stations

    if stations is None:
        stations = load_stations()
    wanted = fold(name)
    if not wanted:
        raise ConfigError("indique el nombre de una comisaría", hint="p. ej. --comisaria 'CHOTA'")
    if sectors is not None and len(sectors):
        layer_names = sectors["comisaria"].astype(str)
        layer_ids = sectors["comisaria_id"].astype(str).str.strip()
        mask = (layer_names.map(fold) == wanted) | (layer_ids == name.strip())
        if mask.any():
            first = sectors[mask.to_numpy()].iloc[0]
            row = _station_row(stations, str(first["comisaria_id"]), str(first["comisaria"]))
            return _comisaria(str(first["comisaria"]), str(first["comisaria_id"]), True, row)
    row = _station_row(stations, name.strip(), name)
    if row is not None:
        return _comisaria(str(row["nombre_mostrado"]), str(row["id_n"]), False, row)
    known = list(stations["nombre_mostrado"].astype(str))
    if sectors is not None and len(sectors):
        known = [*sectors["comisaria"].astype(str), *known]
    by_fold: dict[str, str] = {}
    for k in known:
        by_fold.setdefault(fold(k), k)
    # A part of a name ("CHOTA") is enough when exactly one comisaría has it as whole words.
    pattern = re.compile(rf"(^|[^A-Z0-9]){re.escape(wanted)}($|[^A-Z0-9])")
    partial = [k for f, k in by_fold.items() if pattern.search(f)]
    if len(partial) == 1:
        return find_comisaria(partial[0], sectors=sectors, stations=stations)
    suggestions = close_names(wanted, by_fold)
    hint = (
        "nombres parecidos: " + "; ".join(suggestions)
        if suggestions
        else "use el nombre de la capa de sectores o del censo de comisarías (CENACOM), "
        "o su código id_n"
    )
    raise ConfigError(f"la comisaría {name!r} no se encuentra", hint=hint)


#: Words every station name shares; left out when looking for close names.
_GENERIC_WORDS: Final[frozenset[str]] = frozenset(
    {"COMISARIA", "SECTORIAL", "RURAL", "PNP", "CPNP", "DE", "DEL", "LA", "DEPENDENCIA"}
)


def _core(folded: str) -> str:
    return " ".join(w for w in re.split(r"[^A-Z0-9]+", folded) if w and w not in _GENERIC_WORDS)


def close_names(wanted: str, by_fold: dict[str, str]) -> list[str]:
    """Return up to :data:`CLOSE_NAMES` known names closest to ``wanted`` (folded).

    Names are compared without the words all station names share (``COMISARIA``,
    ``SECTORIAL`` …), so that ``COMISARIA JAEM`` finds ``COMISARIA SECTORIAL JAEN``.
    """
    target = _core(wanted) or wanted
    scored = []
    for folded, name in by_fold.items():
        core = _core(folded) or folded
        ratio = difflib.SequenceMatcher(None, target, core).ratio()
        words = max(
            (difflib.SequenceMatcher(None, target, w).ratio() for w in core.split()), default=0.0
        )
        scored.append((-max(ratio, words), name))
    scored.sort()
    return [name for score, name in scored[:CLOSE_NAMES] if -score >= 0.5]


def _comisaria(name: str, comisaria_id: str, in_layer: bool, row: Any) -> Comisaria:
    if row is None:
        return Comisaria(name, comisaria_id, in_layer, None, None)
    staff = row.get("efectivos_asignados_total")
    efectivos = int(staff) if staff is not None and np.isfinite(float(staff)) else None
    return Comisaria(
        name=name,
        comisaria_id=str(row["id_n"]),
        in_layer=in_layer,
        station_lonlat=(float(row["longitud"]), float(row["latitud"])),
        efectivos=efectivos,
    )


def fill_holes(geom: BaseGeometry) -> BaseGeometry:
    """Return ``geom`` with the interior rings of every polygon part removed."""
    import shapely

    parts = shapely.get_parts(shapely.make_valid(geom))
    parts = parts[shapely.get_type_id(parts) == 3]
    if not len(parts):
        return shapely.Polygon()
    shells = shapely.polygons(shapely.get_exterior_ring(parts))
    return shapely.union_all(shells)


def polygon_parts(geom: BaseGeometry) -> list[BaseGeometry]:
    """Return the polygon parts of ``geom`` (lines and points from overlays dropped)."""
    import shapely

    parts = shapely.get_parts(shapely.make_valid(geom))
    polys: list[BaseGeometry] = []
    for part in parts:
        if part.geom_type == "Polygon":
            polys.append(part)
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            polys.extend(polygon_parts(part))
    return [p for p in polys if p.area > 0]


@lru_cache(maxsize=4)
def _region(metric_crs: str) -> BaseGeometry:
    import shapely

    from ..boundaries import load_districts

    districts = load_districts().to_crs(metric_crs)
    return fill_holes(shapely.union_all(districts.geometry.to_numpy()))


def layer_jurisdiction(sectors: gpd.GeoDataFrame, comisaria: str, metric_crs: str) -> BaseGeometry:
    """Return the union of a comisaría's subsectors in ``metric_crs`` (holes kept)."""
    import shapely

    mine = sectors[sectors["comisaria"].astype(str) == comisaria]
    if (mine["subsector"] != "").any():
        mine = mine[mine["subsector"] != ""]
    if mine.empty:
        raise InputDataError(f"la capa de sectores no tiene polígonos de {comisaria}")
    geoms = shapely.make_valid(mine.to_crs(metric_crs).geometry.to_numpy())
    return shapely.union_all(geoms)


def derived_jurisdiction(
    comisaria: Comisaria,
    metric_crs: str,
    *,
    stations: gpd.GeoDataFrame | None = None,
    sectors: gpd.GeoDataFrame | None = None,
    region: BaseGeometry | None = None,
) -> BaseGeometry:
    """Return the territory the nearest-station rule gives ``comisaria`` (see module notes).

    Parameters
    ----------
    comisaria
        A comisaría with a known station.
    metric_crs
        CRS of the result.
    stations
        Police units (default: bundled CENACOM 2017).
    sectors
        Sector layer whose jurisdictions are served first (removed from the cell).
    region
        Clip area in ``metric_crs`` (default: the bundled districts' union, holes filled).

    Raises
    ------
    InputDataError
        When the station's location is unknown or its cell is empty.
    """
    import shapely
    from pyproj import Transformer

    from ..boundaries import load_stations

    if comisaria.station_lonlat is None:
        raise InputDataError(
            f"no se conoce la ubicación de la comisaría {comisaria.name}: "
            "no se puede derivar su jurisdicción",
            hint="indique la jurisdicción con --jurisdiction ARCHIVO o una capa de sectores",
        )
    if stations is None:
        stations = load_stations()
    to_metric = Transformer.from_crs("EPSG:4326", metric_crs, always_xy=True)
    sx, sy = to_metric.transform(
        stations["longitud"].to_numpy(float), stations["latitud"].to_numpy(float)
    )
    xy = np.unique(np.column_stack([sx, sy]), axis=0)
    own = np.array(to_metric.transform(*comisaria.station_lonlat))
    clip = region if region is not None else _region(str(metric_crs))
    if len(xy) > 1:
        envelope = shapely.box(*clip.bounds).buffer(50_000.0)
        cells = shapely.get_parts(
            shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=envelope)
        )
        own_pt = shapely.Point(*own)
        cell = next(c for c in cells if c.covers(own_pt))
    else:
        cell = clip
    territory = shapely.intersection(cell, clip)
    if sectors is not None and len(sectors):
        others = sectors[sectors["comisaria"].astype(str) != comisaria.name]
        if len(others):
            served = shapely.union_all(
                shapely.make_valid(others.to_crs(metric_crs).geometry.to_numpy())
            )
            territory = shapely.difference(territory, served)
    parts = [p for p in polygon_parts(territory) if not p.buffer(-MIN_PART_WIDTH_M / 2.0).is_empty]
    if not parts:
        raise InputDataError(f"la jurisdicción derivada de {comisaria.name} está vacía")
    return shapely.union_all(parts)
