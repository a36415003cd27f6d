"""Comisaría sector layers: reading, natural label order, and topology checks.

A sector layer has one row per **subsector** polygon with the columns ``comisaria``,
``comisaria_id``, ``sector`` and ``subsector`` (labels as on the plan's station maps:
``SUB SECTOR A`` … ``SUB SECTOR AJ`` or ``SUB SECTOR 1`` … ``10``). A sector is the union of its
subsectors and a comisaría's jurisdiction the union of its sectors. Rows whose ``subsector`` is
empty are taken as *sector* outlines and used to check that subsectors lie inside their sector.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import InputDataError
from ._text import fold
from .settings import CRS_METRIC_CAJAMARCA, SECTOR_TOPOLOGY_TOLERANCE_M2

if TYPE_CHECKING:
    import geopandas as gpd

SECTOR_COLUMNS = ("comisaria", "comisaria_id", "sector", "subsector")

#: Recognised column names (upper case, no accents) for each canonical sector column.
_ALIASES: dict[str, tuple[str, ...]] = {
    "comisaria": ("COMISARIA", "NOMBRE_COMISARIA", "DEPENDENCIA", "CPNP", "NOMBRE_CPNP"),
    "comisaria_id": ("COMISARIA_ID", "ID_N", "ID_COMISARIA", "COD_COMISARIA"),
    "sector": ("SECTOR", "NOMBRE_SECTOR", "SECTOR_PATRULLAJE"),
    "subsector": ("SUBSECTOR", "SUB_SECTOR", "SUB SECTOR", "NOMBRE_SUBSECTOR"),
    "barrio": ("BARRIO", "BARRIOS", "URBANIZACION"),
}


def _letters_to_number(letters: str) -> int:
    """Bijective base-26: A=1 … Z=26, AA=27 … AJ=36."""
    value = 0
    for ch in letters:
        value = value * 26 + (ord(ch) - ord("A") + 1)
    return value


def sort_key(label: object) -> tuple[Any, ...]:
    """Return a key that sorts sector labels in their natural order.

    ``SUB SECTOR B`` < ``SUB SECTOR Z`` < ``SUB SECTOR AA`` < ``SUB SECTOR AJ`` and
    ``SECTOR 2`` < ``SECTOR 10``; labels without a trailing code sort by text, after coded ones;
    missing labels sort last.

    Examples
    --------
    >>> sorted(["SUB SECTOR AA", "SUB SECTOR B", "SUB SECTOR A"], key=sort_key)
    ['SUB SECTOR A', 'SUB SECTOR B', 'SUB SECTOR AA']
    >>> sorted(["SECTOR 10", "SECTOR 2"], key=sort_key)
    ['SECTOR 2', 'SECTOR 10']
    """
    if label is None or (isinstance(label, float) and label != label):
        return (2, "", 0, 0, "")
    text = fold(str(label))
    match = re.match(r"^(.*?)[\s\-_]*([A-Z]{1,2}|\d+)$", text)
    if not match:
        return (1, text, 0, 0, text)
    prefix, code = match.group(1).strip(), match.group(2)
    if code.isdigit():
        return (0, prefix, 0, int(code), text)
    return (0, prefix, 1, _letters_to_number(code), text)


def _recognise_columns(columns: list[str]) -> dict[str, str]:
    folded = {fold(c).replace(" ", "_"): c for c in columns}
    folded.update({fold(c): c for c in columns})
    mapping: dict[str, str] = {}
    for canonical, aliases in _ALIASES.items():
        for alias in aliases:
            key = alias.replace(" ", "_")
            if key in folded or alias in folded:
                mapping[folded.get(key, folded.get(alias, ""))] = canonical
                break
    return mapping


def read_sectors(path: str | Path, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a comisaría sector layer (GeoJSON, GeoPackage, Shapefile, KML) into the canonical form.

    Parameters
    ----------
    path
        The file.
    layer
        Layer name for multi-layer files (GeoPackage).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``comisaria``, ``comisaria_id``, ``sector``, ``subsector`` (text; missing ones
        filled with empty strings), optional ``barrio``, polygon geometry in EPSG:4326.

    Raises
    ------
    InputDataError
        When the file cannot be read, has no sector column, or holds non-polygon features.
    """
    import geopandas as gpd
    import pyogrio

    path = Path(path)
    if not path.exists():
        raise InputDataError(f"la capa de sectores {path} no existe", hint="revise la ruta")
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:
        raise InputDataError(
            f"no se puede leer la capa de sectores {path}: {exc}",
            hint="indique un archivo GeoJSON, GeoPackage, Shapefile o KML con polígonos",
        ) from exc
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    mapping = _recognise_columns([c for c in gdf.columns if c != "geometry"])
    gdf = gdf.rename(columns=mapping)
    if "sector" not in gdf.columns and "subsector" not in gdf.columns:
        raise InputDataError(
            f"la capa de sectores {path} no tiene columna sector ni subsector "
            f"(columnas: {', '.join(c for c in gdf.columns if c != 'geometry')})",
            hint="nombre las columnas comisaria, comisaria_id, sector y subsector",
        )
    geom_types = gdf.geometry.geom_type
    bad = ~geom_types.isin(["Polygon", "MultiPolygon"])
    if bad.any():
        first = int(bad.to_numpy().nonzero()[0][0])
        raise InputDataError(
            f"capa de sectores {path}: {int(bad.sum())} elemento(s) no son polígonos "
            f"(el primero: elemento {first + 1}, un {geom_types.iloc[first]})",
            hint="las capas de sectores contienen polígonos; elimine puntos y líneas",
        )
    for col in SECTOR_COLUMNS:
        if col not in gdf.columns:
            gdf[col] = ""
        gdf[col] = gdf[col].fillna("").astype(str).str.strip()
    keep = [*SECTOR_COLUMNS, *(["barrio"] if "barrio" in gdf.columns else []), "geometry"]
    out = gpd.GeoDataFrame(gdf[keep], geometry="geometry", crs=gdf.crs).to_crs("EPSG:4326")
    out.attrs["source"] = str(path)
    return order_sectors(out)


def order_sectors(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``gdf`` sorted by comisaría, then sector and subsector in natural label order."""
    keys = gdf.apply(
        lambda r: (str(r["comisaria"]), sort_key(r["sector"]), sort_key(r["subsector"])), axis=1
    )
    order = sorted(range(len(gdf)), key=lambda i: keys.iloc[i])
    out = gdf.iloc[order].reset_index(drop=True)
    out.attrs = dict(gdf.attrs)
    return out


def dissolve_sectors(gdf: gpd.GeoDataFrame, level: str = "sector") -> gpd.GeoDataFrame:
    """Union subsectors into sectors (``level="sector"``) or jurisdictions (``"comisaria"``)."""
    subs = gdf[gdf["subsector"] != ""] if (gdf["subsector"] != "").any() else gdf
    keys = ["comisaria", "comisaria_id"] + (["sector"] if level == "sector" else [])
    out = subs.dissolve(by=keys, as_index=False, sort=False)[[*keys, "geometry"]]
    if level == "sector":
        return order_sectors(out.assign(subsector=""))[[*keys, "geometry"]]
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


@dataclass
class SectorReport:
    """Result of :func:`check_sectors`: what was repaired and what is wrong, with areas and places.

    Attributes
    ----------
    repaired
        Features whose invalid polygons were repaired (``feature``, ``label``, ``reason``).
    overlaps
        Overlaps between subsectors of one comisaría above the tolerance (``comisaria``,
        ``a``, ``b``, ``area_m2``, ``lon``, ``lat``).
    gaps
        Holes inside a comisaría's jurisdiction above the tolerance (``comisaria``, ``area_m2``,
        ``lon``, ``lat``).
    outside
        Subsectors with area outside their sector outline above the tolerance.
    tolerance_m2
        Areas at or below this are not reported.
    """

    repaired: list[dict[str, Any]] = field(default_factory=list)
    overlaps: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)
    outside: list[dict[str, Any]] = field(default_factory=list)
    tolerance_m2: float = SECTOR_TOPOLOGY_TOLERANCE_M2

    @property
    def ok(self) -> bool:
        """Whether no overlap, gap or out-of-sector area exceeds the tolerance."""
        return not (self.overlaps or self.gaps or self.outside)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain data (for JSON)."""
        return {
            "ok": self.ok,
            "tolerance_m2": self.tolerance_m2,
            "repaired": self.repaired,
            "overlaps": self.overlaps,
            "gaps": self.gaps,
            "outside": self.outside,
        }

    def summary(self) -> str:
        """Return a short summary in Spanish, one line per problem (for reports and the CLI)."""
        lines = [
            f"capa de sectores: {len(self.repaired)} polígonos reparados, "
            f"{len(self.overlaps)} solapes, {len(self.gaps)} huecos, "
            f"{len(self.outside)} subsectores fuera de su sector "
            f"(tolerancia {self.tolerance_m2:g} m²)"
        ]
        for r in self.repaired:
            lines.append(f"  polígono {r['feature']} ({r['label']}) reparado: {r['reason']}")
        for o in self.overlaps:
            lines.append(
                f"  solape {o['a']} / {o['b']} ({o['comisaria']}): {o['area_m2']:.0f} m² "
                f"cerca de {o['lat']:.5f}, {o['lon']:.5f}"
            )
        for g in self.gaps:
            lines.append(
                f"  hueco en {g['comisaria']}: {g['area_m2']:.0f} m² "
                f"cerca de {g['lat']:.5f}, {g['lon']:.5f}"
            )
        for o in self.outside:
            lines.append(
                f"  {o['subsector']} tiene {o['area_m2']:.0f} m² fuera de {o['sector']} "
                f"({o['comisaria']})"
            )
        return "\n".join(lines)


def _where(geom: Any, to_geo: Any) -> tuple[float, float]:
    point = geom.representative_point()
    lon, lat = to_geo.transform(point.x, point.y)
    return float(lon), float(lat)


def check_sectors(
    gdf: gpd.GeoDataFrame,
    *,
    tolerance_m2: float = SECTOR_TOPOLOGY_TOLERANCE_M2,
    metric_crs: str = CRS_METRIC_CAJAMARCA,
) -> tuple[gpd.GeoDataFrame, SectorReport]:
    """Repair invalid polygons and report overlaps, gaps and subsectors outside their sector.

    Parameters
    ----------
    gdf
        Sector layer as returned by :func:`read_sectors`.
    tolerance_m2
        Overlaps, gaps and out-of-sector areas of at most this many m² are not reported (they
        arise from rounding coordinates).
    metric_crs
        CRS in which areas are measured (UTM 17S by default).

    Returns
    -------
    (geopandas.GeoDataFrame, SectorReport)
        The layer with repaired geometries, and the report.
    """
    import shapely
    from pyproj import Transformer

    report = SectorReport(tolerance_m2=tolerance_m2)
    out = gdf.copy()
    geoms = out.geometry.to_numpy()
    invalid = ~shapely.is_valid(geoms)
    for i in invalid.nonzero()[0]:
        label = out.iloc[i]["subsector"] or out.iloc[i]["sector"]
        reason = shapely.is_valid_reason(geoms[i])
        fixed = shapely.make_valid(geoms[i])
        polys = [
            g
            for g in getattr(fixed, "geoms", [fixed])
            if g.geom_type in ("Polygon", "MultiPolygon")
        ]
        geoms[i] = shapely.union_all(polys) if polys else fixed
        report.repaired.append({"feature": int(i) + 1, "label": label, "reason": reason})
    out = out.set_geometry(list(geoms), crs=gdf.crs)
    metric = out.to_crs(metric_crs)
    to_geo = Transformer.from_crs(metric_crs, "EPSG:4326", always_xy=True)

    is_sub = metric["subsector"] != ""
    subs = metric[is_sub] if is_sub.any() else metric
    outlines = metric[~is_sub] if is_sub.any() else metric.iloc[0:0]
    for comisaria, group in subs.groupby("comisaria", sort=True):
        g = group.geometry.to_numpy()
        labels = (group["subsector"].where(group["subsector"] != "", group["sector"])).to_list()
        tree = shapely.STRtree(g)
        left, right = tree.query(g, predicate="intersects")
        for a, b in zip(left, right, strict=True):
            if a >= b:
                continue
            inter = shapely.intersection(g[a], g[b])
            area = float(shapely.area(inter))
            if area > tolerance_m2:
                lon, lat = _where(inter, to_geo)
                report.overlaps.append(
                    {
                        "comisaria": comisaria,
                        "a": labels[a],
                        "b": labels[b],
                        "area_m2": round(area, 1),
                        "lon": round(lon, 6),
                        "lat": round(lat, 6),
                    }
                )
        union = shapely.union_all(g)
        for part in getattr(union, "geoms", [union]):
            for ring in getattr(part, "interiors", []):
                hole = shapely.Polygon(ring)
                area = float(hole.area)
                if area > tolerance_m2:
                    lon, lat = _where(hole, to_geo)
                    report.gaps.append(
                        {
                            "comisaria": comisaria,
                            "area_m2": round(area, 1),
                            "lon": round(lon, 6),
                            "lat": round(lat, 6),
                        }
                    )
    for _, sub in subs.iterrows():
        match = outlines[
            (outlines["comisaria"] == sub["comisaria"]) & (outlines["sector"] == sub["sector"])
        ]
        if match.empty:
            continue
        sector_geom = shapely.union_all(match.geometry.to_numpy())
        area = float(shapely.area(shapely.difference(sub.geometry, sector_geom)))
        if area > tolerance_m2:
            report.outside.append(
                {
                    "comisaria": sub["comisaria"],
                    "sector": sub["sector"],
                    "subsector": sub["subsector"],
                    "area_m2": round(area, 1),
                }
            )
    return out, report
