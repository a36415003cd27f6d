"""The atlas: one map per province, one per comisaría with sectors, and an ``index.html``.

:func:`build_province_map` and :func:`build_comisaria_map` assemble the layers of
:mod:`parsc_geo.maps.layers`; :func:`write_atlas` computes what each map needs (its incidents,
hotspots and a kernel density clipped to its area), writes every page atomically and an index
linking them with a short summary per map.

The pages load Leaflet and parsc-geo's runtime from a ``lib/`` folder written beside them
(or, offline, inline them), never from the network: the atlas works from a disk or USB stick.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import settings
from .._errors import ConfigError, InputDataError, InsufficientDataError, OutputError
from .._text import fold as _fold
from .._text import num, slug
from ..localtime import incident_times
from ..privacy import REPORT_NAME, RULE_VERSION, PrivacyRule, write_privacy_report
from . import offline as assets
from .base import (
    add_layer_control,
    add_synthetic_banner,
    add_title_block,
    esc,
    new_map,
    render_map_html,
    write_text_atomic,
)
from .layers import (
    METHOD_LABELS,
    add_boundaries,
    add_density,
    add_gistar,
    add_hotspots,
    add_incidents,
    add_public_places,
    add_sectors,
    add_stations,
    rank_within,
)
from .public import PublicData, prepare_public

if TYPE_CHECKING:
    import folium
    import geopandas as gpd
    import pandas as pd

    from ..parallel import WorkerPool

#: Default data source shown in title blocks.
DEFAULT_SOURCE = "Denuncias policiales georreferenciadas (PNP)"
#: Source shown for the bundled synthetic sample.
SYNTHETIC_SOURCE = "Muestra sintética de parsc-geo (no son denuncias reales)"
#: Minimum incidents for a kernel density layer (fewer gives a meaningless surface).
MIN_DENSITY_INCIDENTS = 5
#: Incidents within this distance (m) of a map's area enter its kernel density.
DENSITY_CONTEXT_M = 2_000.0
#: Margin (m) around a comisaría's sectors in its map and density grid.
COMISARIA_MARGIN_M = 300.0


@dataclass
class BuiltMap:
    """A map and what it shows (for the atlas index and the tests)."""

    map: folium.Map
    title: str
    kind: str
    place: str
    summary: dict[str, Any] = field(default_factory=dict)


def _folded(values: pd.Series) -> pd.Series:
    """Return :func:`parsc_geo._text.fold` of every value, computed once per distinct value."""
    from .._fast import per_unique

    return per_unique(values, lambda distinct: distinct.map(_fold))


def slugify(text: str) -> str:
    """Return an ASCII file-name slug of ``text`` (``San José B`` → ``san-jose-b``)."""
    return slug(text, sep="-", default="sin-nombre")


def period_text(incidents: gpd.GeoDataFrame) -> str | None:
    """Return ``"YYYY-MM-DD a YYYY-MM-DD"`` spanning the incidents' dates (None if no dates)."""
    if "occurred_at" not in incidents.columns or not len(incidents):
        return None
    when = incident_times(incidents).dropna()
    if not len(when):
        return None
    return f"{when.min():%Y-%m-%d} a {when.max():%Y-%m-%d}"


def _check_incidents(incidents: gpd.GeoDataFrame) -> None:
    missing = [c for c in ("delito_generico", "fenomeno", "occurred_at") if c not in incidents]
    if missing:
        raise InputDataError(
            f"a los incidentes les falta(n) la(s) columna(s) {', '.join(missing)}, necesaria(s) "
            "para los mapas",
            hint="impórtelos con parsc-geo ingest, que produce el esquema canónico",
        )
    if incidents.crs is None:
        raise InputDataError("los incidentes no tienen SRC", hint="asigne EPSG:4326")


def _points_within(points: gpd.GeoDataFrame, area: Any) -> Any:
    """Return ``points.within(area)`` for point layers, a prepared polygon answering all at once.

    Other geometries (and missing ones) take geopandas' own ``within``.
    """
    import numpy as np
    import shapely

    geoms = np.asarray(points.geometry.values)
    if not len(geoms) or not bool((shapely.get_type_id(geoms) == 0).all()):
        return points.within(area)
    shapely.prepare(area)
    inside = shapely.contains_xy(area, shapely.get_x(geoms), shapely.get_y(geoms))
    return np.asarray(inside, dtype=bool) & ~shapely.is_empty(geoms)


def _within(gdf: gpd.GeoDataFrame | None, area: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """Rows of ``gdf`` intersecting ``area`` (both any CRS)."""
    if gdf is None or not len(gdf):
        return gdf
    geom = area.to_crs(gdf.crs).union_all()
    return gdf[gdf.intersects(geom)]


def _hotspots_for(
    hotspots: gpd.GeoDataFrame | None, province: gpd.GeoDataFrame, name: str
) -> gpd.GeoDataFrame | None:
    """Hotspots of a province: by their ``provincia`` column, else by location."""
    if hotspots is None or not len(hotspots):
        return hotspots
    if "provincia" not in hotspots.columns:
        return _within(hotspots, province)
    known = hotspots["provincia"].notna()
    mine = known & (_folded(hotspots["provincia"]) == _fold(name))
    located = _within(hotspots[~known], province)
    keep = mine.copy()
    if located is not None:
        keep.loc[located.index] = True
    return hotspots[keep]


def _has_polygons(hotspots: gpd.GeoDataFrame | None) -> bool:
    """Whether there are ranked hotspot polygons (then Gi* cells start unticked)."""
    if hotspots is None or not len(hotspots):
        return False
    if "gi_class" not in hotspots.columns:
        return True
    return bool(hotspots["gi_class"].isna().any())


def _top_hotspots(hotspots: gpd.GeoDataFrame | None, k: int = 3) -> list[dict[str, Any]]:
    if hotspots is None or not len(hotspots):
        return []
    hs = hotspots
    if "gi_class" in hs.columns:
        hs = hs[hs["gi_class"].isna()]
    out = []
    for method in [m for m in ("kde", "dbscan", "hdbscan") if m in set(hs["method"])] + sorted(
        set(hs["method"].astype(str)) - {"kde", "dbscan", "hdbscan"}
    ):
        ranked = rank_within(hs[hs["method"] == method])
        for _, r in ranked.head(k).iterrows():
            out.append(
                {
                    "rank": int(r["map_rank"]),
                    "method": METHOD_LABELS.get(method, method),
                    "n": int(r["n"]),
                    "top_modalidades": ""
                    if r.get("top_modalidades") is None
                    else str(r.get("top_modalidades")),
                }
            )
        break
    return out


def _finish(
    m: folium.Map,
    *,
    title: str,
    place: str,
    period: str | None,
    source: str,
    parameters: Mapping[str, Any] | None,
    rule: PrivacyRule | None,
    synthetic: bool,
    generated: dt.datetime | None,
) -> None:
    add_title_block(
        m,
        title=title,
        place=place,
        period=period,
        source=source,
        generated=generated,
        parameters=parameters,
        public=rule is not None,
        generalisation=rule.describe() if rule is not None else None,
        extra=[("Privacidad", f"regla v{RULE_VERSION}, k = {rule.k}")] if rule is not None else (),
    )
    if synthetic:
        add_synthetic_banner(m)
    add_layer_control(m)


def _public_rule(grid_m: float | None, privacy_k: int | None) -> PrivacyRule:
    """Return the privacy rule of public maps with the given grid and k (defaults otherwise)."""
    return PrivacyRule.from_options(k=privacy_k, grid_m=grid_m)


def _density_for(
    incidents: gpd.GeoDataFrame,
    area: gpd.GeoDataFrame,
    margin_m: float = 0.0,
    options: Mapping[str, Any] | None = None,
) -> Any:
    """Kernel density on ``area``'s extent (masked to it), or None if too few incidents.

    Only incidents within :data:`DENSITY_CONTEXT_M` of the area are used, so that the automatic
    bandwidth reflects the local spread of points, not the whole region's; the ones just outside
    still contribute near the edges. Incidents stacked at a police station are left out, as
    the hotspot methods do.
    """
    from .._text import as_bool
    from ..density import kernel_density
    from ..projection import metric_crs

    crs = metric_crs(area)
    metric_area = area.to_crs(crs)
    context = metric_area.buffer(DENSITY_CONTEXT_M).union_all()
    pts = incidents.to_crs(crs)
    pts = pts[_points_within(pts, context)]
    if "at_station" in pts.columns:
        pts = pts[~as_bool(pts["at_station"])]
    if len(pts) < MIN_DENSITY_INCIDENTS:
        return None
    minx, miny, maxx, maxy = metric_area.total_bounds
    extent = (minx - margin_m, miny - margin_m, maxx + margin_m, maxy + margin_m)
    try:
        return kernel_density(
            pts, extent=extent, mask=metric_area, crs=crs, quiet=True, **dict(options or {})
        )
    except InsufficientDataError:
        return None


def build_province_map(
    incidents: gpd.GeoDataFrame,
    *,
    province: str,
    hotspots: gpd.GeoDataFrame | None = None,
    density: Any = None,
    public: bool = False,
    synthetic: bool = False,
    period: str | None = None,
    source: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    tiles: str | None = "OpenStreetMap",
    grid_m: float | None = None,
    generated: dt.datetime | None = None,
    privacy_k: int | None = None,
    public_data: PublicData | None = None,
    density_options: Mapping[str, Any] | None = None,
) -> BuiltMap:
    """Build the map of one province: boundaries, stations, incidents, density, hotspots.

    Parameters
    ----------
    incidents
        Incidents (all of them or the province's); those of the province are selected by the
        ``provincia`` column when present, else by location.
    province
        Province name as in :func:`parsc_geo.boundaries.load_provinces` (accents and case are
        ignored).
    hotspots
        Hotspots of any method (``schema.HOTSPOT_COLUMNS``); those touching the province are
        drawn.
    density
        A :class:`parsc_geo.density.DensityRaster` of the province, or None for none. Public
        maps ignore it and compute the density from the generalised incidents.
    public, synthetic, period, source, parameters, tiles, grid_m, generated, privacy_k
        See :func:`write_atlas`.
    public_data
        Public maps: the privacy rule already applied to every incident and hotspot method
        (:func:`parsc_geo.maps.public.prepare_public`; :func:`write_atlas` computes it once for
        all its maps). None: computed here from ``incidents`` and ``hotspots``.
    density_options
        Keyword arguments of the density computed on public maps.

    Returns
    -------
    BuiltMap
        The map and a summary (``incidents``, ``drawn``, ``hotspots``, ...).

    Raises
    ------
    ConfigError
        When ``province`` is not a province of the bundled boundaries.
    """
    from .. import boundaries
    from ..area import area_of

    _check_incidents(incidents)
    provinces = area_of(incidents).provinces()
    match = provinces[_folded(provinces["provincia"]) == _fold(province)]
    if not len(match):
        raise ConfigError(
            f"provincia desconocida {province!r}",
            hint=f"use una de {', '.join(sorted(provinces['provincia']))}",
        )
    name = str(match["provincia"].iloc[0])
    rule = None
    if public:
        data = public_data or prepare_public(incidents, hotspots, _public_rule(grid_m, privacy_k))
        rule = data.rule
        points = data.incidents.points
        # places by their own location: each is drawn whole, with its k or more incidents
        inc = points[points.to_crs(match.crs).within(match.union_all())]
        hotspots = data.hotspots
        density = _density_for(points, match, options=density_options)
    elif "provincia" in incidents.columns and incidents["provincia"].notna().any():
        inc = incidents[_folded(incidents["provincia"]) == _fold(name)]
    else:
        inc = incidents[_points_within(incidents.to_crs(match.crs), match.union_all())]
    code = str(match["ubigeo_prov"].iloc[0])
    districts = boundaries.load_districts(prefix=code)
    stations = boundaries.load_stations(prefix=code)
    title = f"Mapa del delito — Provincia de {name.title()}"
    m = new_map(bounds=match.total_bounds, tiles=tiles, title=title)
    summary: dict[str, Any] = {"incidents": len(inc)}
    if density is not None:
        summary["density"] = add_density(m, density)
    summary["boundaries"] = add_boundaries(m, provinces=match, districts=districts)
    hs = _hotspots_for(hotspots, match, name)
    k = rule.k if rule is not None else None
    summary["gistar"] = (
        add_gistar(m, hs, show=not _has_polygons(hs), public_k=k) if hs is not None else {}
    )
    summary["hotspots"] = add_hotspots(m, hs, public_k=k) if hs is not None else {}
    summary["stations"] = add_stations(m, stations)
    summary["top_hotspots"] = _top_hotspots(hs)
    if rule is not None:
        summary.update(add_public_places(m, inc, rule, withheld=data.incidents.n_withheld))
    else:
        summary.update(add_incidents(m, inc))
    _finish(
        m,
        title=title,
        place=f"Provincia de {name.title()}, {match['departamento'].iloc[0]}",
        period=period or period_text(inc),
        source=source or (SYNTHETIC_SOURCE if synthetic else DEFAULT_SOURCE),
        parameters=parameters,
        rule=rule,
        synthetic=synthetic,
        generated=generated,
    )
    summary["period"] = period or period_text(inc)
    return BuiltMap(m, title, "provincia", name, summary)


def build_comisaria_map(
    incidents: gpd.GeoDataFrame,
    sectors: gpd.GeoDataFrame,
    *,
    comisaria: str,
    hotspots: gpd.GeoDataFrame | None = None,
    density: Any = None,
    public: bool = False,
    synthetic: bool = False,
    period: str | None = None,
    source: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    tiles: str | None = "OpenStreetMap",
    grid_m: float | None = None,
    generated: dt.datetime | None = None,
    privacy_k: int | None = None,
    public_data: PublicData | None = None,
    density_options: Mapping[str, Any] | None = None,
) -> BuiltMap:
    """Build the map of one comisaría: sectors and subsectors with counts, incidents, hotspots.

    Parameters
    ----------
    incidents
        Incidents; those inside the comisaría's sectors are drawn and counted.
    sectors
        Sector layer (one row per subsector, see the contracts).
    comisaria
        Value of the sector layer's ``comisaria`` column.
    hotspots, density, public, synthetic, period, source, parameters, tiles, grid_m, generated
        See :func:`build_province_map` and :func:`write_atlas`.
    privacy_k, public_data, density_options
        See :func:`build_province_map`.

    Returns
    -------
    BuiltMap
        The map and its summary (``incidents``, ``subsectors`` counts, ...).
    """
    from ..area import area_of

    _check_incidents(incidents)
    own = sectors[sectors["comisaria"].astype(str) == str(comisaria)]
    if not len(own):
        known = sorted(sectors["comisaria"].astype(str).unique())
        raise ConfigError(
            f"no hay sectores para la comisaría {comisaria!r}",
            hint=f"use una de {', '.join(known)}",
        )
    own = own.to_crs(settings.CRS_GEOGRAPHIC)
    area = own.union_all()
    rule = None
    if public:
        data = public_data or prepare_public(incidents, hotspots, _public_rule(grid_m, privacy_k))
        rule = data.rule
        points = data.incidents.points
        inc = points[points.to_crs(settings.CRS_GEOGRAPHIC).within(area)]
        hotspots = data.hotspots
        density = _density_for(points, own, COMISARIA_MARGIN_M, density_options)
    else:
        inc = incidents[_points_within(incidents.to_crs(settings.CRS_GEOGRAPHIC), area)]
    from ..projection import metric_crs

    crs = metric_crs(own)
    frame = own.to_crs(crs).buffer(COMISARIA_MARGIN_M).to_crs(settings.CRS_GEOGRAPHIC)
    bounds = frame.total_bounds
    territory = area_of(incidents)
    districts = territory.districts()
    districts = districts[districts.intersects(frame.union_all())]
    stations = territory.stations()
    stations = stations[stations.within(frame.union_all())]
    title = f"Mapa del delito — Comisaría {comisaria}"
    m = new_map(bounds=bounds, tiles=tiles, title=title)
    summary: dict[str, Any] = {"incidents": len(inc)}
    if density is not None:
        summary["density"] = add_density(m, density)
    summary["boundaries"] = add_boundaries(m, districts=districts)
    hs = _within(hotspots, own)
    k = rule.k if rule is not None else None
    summary["gistar"] = (
        add_gistar(m, hs, show=not _has_polygons(hs), public_k=k) if hs is not None else {}
    )
    summary["subsectors"] = add_sectors(m, own, inc, public_k=k)
    summary["hotspots"] = add_hotspots(m, hs, public_k=k) if hs is not None else {}
    summary["stations"] = add_stations(m, stations)
    summary["top_hotspots"] = _top_hotspots(hs)
    if rule is not None:
        summary.update(add_public_places(m, inc, rule, withheld=data.incidents.n_withheld))
    else:
        summary.update(add_incidents(m, inc))
    province = ""
    if len(districts):
        province = f", provincia de {str(districts['provincia'].mode().iloc[0]).title()}"
    _finish(
        m,
        title=title,
        place=f"Jurisdicción de la comisaría {comisaria}{province}",
        period=period or period_text(inc),
        source=source or (SYNTHETIC_SOURCE if synthetic else DEFAULT_SOURCE),
        parameters=parameters,
        rule=rule,
        synthetic=synthetic,
        generated=generated,
    )
    summary["period"] = period or period_text(inc)
    return BuiltMap(m, title, "comisaria", str(comisaria), summary)


def _index_html(
    entries: Sequence[tuple[str, BuiltMap | _PageInfo]],
    *,
    synthetic: bool,
    rule: PrivacyRule | None,
    generated: dt.datetime,
    source: str,
    place: str = "Cajamarca",
) -> str:
    banner = (
        f'<div class="banner" id="parsc-synthetic-banner">{esc(settings.SYNTHETIC_BANNER)}</div>'
        if synthetic
        else ""
    )
    notice = (
        f'<p class="notice public">Mapas públicos. {esc(rule.describe())} Lo generalizado y '
        f'suprimido se detalla en <a href="{REPORT_NAME}">{REPORT_NAME}</a>.</p>'
        if rule is not None
        else f'<p class="notice">{esc(settings.INTERNAL_NOTICE)}</p>'
    )
    sections = []
    for kind, heading in (("provincia", "Provincias"), ("comisaria", "Comisarías con sectores")):
        items = []
        for href, built in entries:
            if built.kind != kind:
                continue
            s = built.summary
            tops = "".join(
                f"<li>n.º {t['rank']} ({esc(t['method'])}): {num(t['n'])} incidentes"
                + (f" — {esc(t['top_modalidades'])}" if t["top_modalidades"] else "")
                + "</li>"
                for t in s.get("top_hotspots", [])
            )
            tops_html = f"<ol class='tops'>{tops}</ol>" if tops else "<p>Sin zonas críticas.</p>"
            items.append(
                f'<li class="map-entry"><a href="{esc(href)}">{esc(built.title)}</a>'
                f"<div>Periodo: {esc(s.get('period') or 'sin fechas')} · "
                f"{num(int(s.get('incidents', 0)))} incidentes</div>{tops_html}</li>"
            )
        if items:
            sections.append(f"<h2>{heading} ({len(items)})</h2><ul>{''.join(items)}</ul>")
    body = "".join(sections) or "<p>No hay mapas: no hay incidentes.</p>"
    return f"""<!DOCTYPE html>
<html lang="es"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Atlas del mapa del delito — {esc(place)}</title>
<style>
body {{ font: 15px/1.45 sans-serif; margin: 0 auto; max-width: 900px; padding: 0 12px 24px;
  color: #222; }}
h1 {{ font-size: 22px; }} h2 {{ font-size: 18px; border-bottom: 1px solid #ccc; }}
.banner {{ background: #b00020; color: #fff; font-weight: bold; padding: 6px 12px;
  text-align: center; }}
.notice {{ background: #fff3cd; border: 1px solid #e0b000; padding: 4px 8px; font-weight: bold; }}
.notice.public {{ background: #e7f3ff; border-color: #5b9bd5; font-weight: normal; }}
ul {{ list-style: none; padding: 0; }} .map-entry {{ margin: 10px 0; }}
.map-entry a {{ font-weight: bold; }} .tops {{ margin: 2px 0 0 18px; padding: 0; color: #444; }}
</style></head>
<body>{banner}
<h1>Atlas del mapa del delito — {esc(place)}</h1>
{notice}
<p>Fuente: {esc(source)}. Generado: {generated:%Y-%m-%d %H:%M}.</p>
{body}
</body></html>
"""


def _generation_time(tz: dt.tzinfo) -> dt.datetime:
    """Return ``SOURCE_DATE_EPOCH`` (reproducible builds) when set, else now, in ``tz``."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).astimezone(tz)
    return dt.datetime.now(tz)


def write_atlas(
    incidents: gpd.GeoDataFrame,
    *,
    hotspots: gpd.GeoDataFrame | None = None,
    densities: Mapping[str, Any] | None = None,
    sectors: gpd.GeoDataFrame | None = None,
    output_dir: str | Path,
    public: bool = False,
    offline: bool = False,
    synthetic: bool = False,
    period: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    tiles: str | None = "OpenStreetMap",
    source: str | None = None,
    grid_m: float | None = None,
    assets_dir: Path | None = None,
    density_options: Mapping[str, Any] | None = None,
    generated: dt.datetime | None = None,
    privacy_k: int | None = None,
    workers: WorkerPool | int = 1,
) -> list[Path]:
    """Write one map per province with incidents, one per comisaría with sectors, and an index.

    Parameters
    ----------
    incidents
        Incident table (canonical schema; assignment columns used when present).
    hotspots
        Hotspots of any methods (ranked or not); each map draws those touching its area. Public
        maps draw zones of the same methods computed again from the generalised incidents.
    densities
        Density rasters keyed by province name or ``"comisaria:<name>"`` (case and accents
        ignored); missing ones are
        computed with :func:`parsc_geo.density.kernel_density` (defaults, masked to the area;
        incidents stacked at stations excluded). Pass ``{}`` to compute all, as None does.
        Public maps ignore them: their densities come from the generalised incidents.
    sectors
        Sector layer; one map per comisaría in it.
    output_dir
        Folder for the pages (created).
    public
        Public maps following the privacy rule of :mod:`parsc_geo.privacy` (no sensitive
        incident located, places of at least ``privacy_k`` incidents, no free text), with
        ``privacidad.json`` beside the pages; default internal maps.
    offline
        Single self-contained files (Leaflet and parsc-geo's runtime inlined, no base tiles).
        Otherwise (default) they are written once into ``output_dir/lib/`` and every page
        references them by relative path; either way the maps need no network (only the
        optional base tiles do).
    synthetic
        Data are synthetic: every page shows :data:`parsc_geo.settings.SYNTHETIC_BANNER`.
    period
        Period text for title blocks (default: the incidents' date range).
    parameters
        Parameters shown in title blocks.
    overwrite
        Replace existing pages.
    tiles
        Base tiles (see :func:`parsc_geo.maps.new_map`); ignored when ``offline``.
    source
        Data source text.
    grid_m
        Finest grid of public maps in metres (default
        :data:`parsc_geo.settings.PUBLIC_GRID_M`).
    assets_dir
        Folder of npm-style packages to take Leaflet from (see
        :func:`parsc_geo.maps.offline.resolve_asset`; default: the xstatic packages).
    density_options
        Keyword arguments for :func:`parsc_geo.density.kernel_density` when a density is
        computed here (e.g. ``{"kernel": "quartic", "bandwidth": 400, "cell_size": 50}``).
    generated
        Generation time shown in the pages; default ``SOURCE_DATE_EPOCH`` when set (the
        reproducible-builds convention: same input, same bytes), else now.
    privacy_k
        Public maps: minimum number of incidents behind every place and count (default
        :data:`parsc_geo.privacy.DEFAULT_K`).
    workers
        A :class:`parsc_geo.parallel.WorkerPool` or a number of processes that build internal
        pages in parallel (1: one after the other); the pages do not depend on it.

    Returns
    -------
    list of pathlib.Path
        The pages written, ``index.html`` last (the ``lib/`` files and ``privacidad.json`` are
        not listed).

    Raises
    ------
    OutputError
        When a page, or a different file of ``lib/``, exists and ``overwrite`` is False (nothing
        is written then).
    MissingDependencyError
        When Leaflet cannot be found in any package source.
    """
    from zoneinfo import ZoneInfo

    from ..area import area_of
    from ..parallel import worker_pool

    _check_incidents(incidents)
    territory = area_of(incidents, quiet=False)
    out_dir = Path(output_dir)
    if generated is None:
        generated = _generation_time(ZoneInfo(settings.TIMEZONE))
    given = {_fold(k): v for k, v in (densities or {}).items()}
    if offline:
        tiles = None
    src = source or (SYNTHETIC_SOURCE if synthetic else DEFAULT_SOURCE)
    public_data = (
        prepare_public(incidents, hotspots, _public_rule(grid_m, privacy_k)) if public else None
    )
    common: dict[str, Any] = {
        "public": public,
        "public_data": public_data,
        "density_options": density_options,
        "synthetic": synthetic,
        "period": period or period_text(incidents),
        "source": src,
        "parameters": parameters,
        "tiles": tiles,
        "grid_m": grid_m,
        "generated": generated,
    }
    provinces = territory.provinces()
    # Each province's rows, selected once for the whole atlas (not once per page).
    by_province: dict[str, gpd.GeoDataFrame] = {}
    if "provincia" in incidents.columns and incidents["provincia"].notna().any():
        keys = _folded(incidents["provincia"])
        present = set(keys[incidents["provincia"].notna()])
        if not public:
            by_province = {str(k): rows for k, rows in incidents.groupby(keys, sort=False)}
    else:
        joined = provinces[
            provinces.intersects(incidents.to_crs(provinces.crs).geometry.union_all())
        ]
        present = set(joined["provincia"].map(_fold))
    names = [p for p in provinces["provincia"] if _fold(p) in present]
    comisarias = sorted(sectors["comisaria"].astype(str).unique()) if sectors is not None else []
    plan: list[tuple[str, str, str]] = []
    used: set[str] = {"index"}
    for kind, name in [("provincia", p) for p in names] + [("comisaria", c) for c in comisarias]:
        stem = f"{kind}-{slugify(name)}"
        base, i = stem, 2
        while stem in used:
            stem, i = f"{base}-{i}", i + 1
        used.add(stem)
        plan.append((kind, name, f"{stem}.html"))
    targets = [out_dir / f for _, _, f in plan] + [out_dir / "index.html"]
    if public:
        targets.append(out_dir / REPORT_NAME)
    existing = [str(t) for t in targets if t.exists()]
    if existing and not overwrite:
        raise OutputError(
            f"{len(existing)} mapa(s) ya existe(n), p. ej. {existing[0]}",
            hint="use overwrite=True / --overwrite, o elija otra carpeta de salida",
        )
    lib = None if offline else assets.lib_files(assets_dir=assets_dir)
    if lib is not None:
        assets.check_lib(out_dir, lib, overwrite=overwrite)
    tasks = []
    located = _Located(incidents) if comisarias and not public else None
    for kind, name, filename in plan:
        if kind == "provincia":
            raster = given.get(_fold(name)) if not public else None
            rows = by_province.get(_fold(name), incidents)
            if raster is None and not public:
                # the density reaches over the province's edge: its neighbours' incidents count
                rows = incidents
            # the province's polygon, from the study area's provinces (any department)
            own = provinces[provinces["provincia"] == name]
        else:
            assert sectors is not None
            own = sectors[sectors["comisaria"].astype(str) == name]
            raster = given.get(_fold(f"comisaria:{name}")) if not public else None
            # the incidents within reach of the comisaría's sectors and of its density
            rows = located.near(own, DENSITY_CONTEXT_M) if located is not None else incidents
        tasks.append(
            _PageTask(
                kind=kind,
                name=name,
                filename=filename,
                incidents=rows,
                sectors=sectors if kind == "comisaria" else None,
                own=own,
                hotspots=hotspots,
                raster=raster,
                common=common,
                offline=offline,
                assets_dir=assets_dir,
            )
        )
    # Public pages share the generalised data: they are built here, one after the other.
    with worker_pool(1 if public else workers) as pool:
        pages = pool.map_largest_first(_atlas_page, tasks, lambda t: len(t.incidents))
    if lib is not None:
        assets.write_lib(out_dir, overwrite=overwrite, files=lib)
    written = [
        write_text_atomic(out_dir / filename, page, overwrite=overwrite)
        for filename, _, page in pages
    ]
    index = _index_html(
        [(f, b) for f, b, _ in pages],
        synthetic=synthetic,
        rule=public_data.rule if public_data is not None else None,
        generated=generated,
        source=src,
        place=territory.heading,
    )
    written.append(write_text_atomic(out_dir / "index.html", index, overwrite=overwrite))
    if public_data is not None:
        write_privacy_report(out_dir, _privacy_report(public_data, pages), overwrite=overwrite)
    return written


@dataclass
class _PageTask:
    """One page of an atlas: what :func:`_atlas_page` needs to build and render it."""

    kind: str
    name: str
    filename: str
    incidents: gpd.GeoDataFrame
    sectors: gpd.GeoDataFrame | None
    own: gpd.GeoDataFrame | None
    hotspots: gpd.GeoDataFrame | None
    raster: Any
    common: dict[str, Any]
    offline: bool
    assets_dir: Path | None


@dataclass
class _PageInfo:
    """What the index and the privacy report need of a built page (no folium object)."""

    title: str
    kind: str
    place: str
    summary: dict[str, Any]


def _atlas_page(task: _PageTask) -> tuple[str, _PageInfo, str]:
    """Build and render one atlas page (a task of :func:`write_atlas`, maybe in a worker).

    Returns the file name, what the index needs of the page and the page's HTML.
    """
    common = task.common
    public = bool(common["public"])
    options = common["density_options"]
    raster = task.raster
    if task.kind == "provincia":
        if raster is None and not public:
            assert task.own is not None
            raster = _density_for(task.incidents, task.own, options=options)
        built = build_province_map(
            task.incidents, province=task.name, hotspots=task.hotspots, density=raster, **common
        )
    else:
        assert task.sectors is not None and task.own is not None
        if raster is None and not public:
            raster = _density_for(task.incidents, task.own, COMISARIA_MARGIN_M, options)
        built = build_comisaria_map(
            task.incidents,
            task.sectors,
            comisaria=task.name,
            hotspots=task.hotspots,
            density=raster,
            **common,
        )
    page = render_map_html(built.map, offline_mode=task.offline, assets_dir=task.assets_dir)
    return task.filename, _PageInfo(built.title, built.kind, built.place, built.summary), page


class _Located:
    """Incidents with a spatial index, to hand each page only the incidents near it."""

    def __init__(self, incidents: gpd.GeoDataFrame) -> None:
        import numpy as np
        import shapely

        self.incidents = incidents
        geographic = incidents.to_crs(settings.CRS_GEOGRAPHIC)
        self.tree = shapely.STRtree(np.asarray(geographic.geometry.values))

    def near(self, area: gpd.GeoDataFrame, distance_m: float) -> gpd.GeoDataFrame:
        """Return the incidents (in their order) within a box around ``area``.

        The box is ``area``'s bounds widened by twice ``distance_m`` (plus the comisaría
        margin) in degrees at the area's latitude: a superset of every incident the page
        selects or uses for its density, which then select exactly as before.
        """
        import math

        import numpy as np
        from shapely.geometry import box

        minx, miny, maxx, maxy = area.to_crs(settings.CRS_GEOGRAPHIC).total_bounds
        reach = 2 * (distance_m + COMISARIA_MARGIN_M)
        dy = reach / 110_000.0
        dx = reach / (110_000.0 * max(math.cos(math.radians(max(abs(miny), abs(maxy)))), 0.05))
        hits = self.tree.query(box(minx - dx, miny - dy, maxx + dx, maxy + dy))
        return self.incidents.iloc[np.sort(hits)]


def _privacy_report(
    data: PublicData, pages: Sequence[tuple[str, BuiltMap | _PageInfo, str]]
) -> dict[str, Any]:
    """Return the accounting of ``privacidad.json`` for a public atlas."""
    report = data.incidents.report()
    report["zonas_criticas"] = {
        "calculadas_desde_lugares": True,
        "metodos": list(data.zones.get("metodos", [])),
        "calculadas": int(data.zones.get("calculadas", 0)),
        "descartadas_por_k": int(data.zones.get("descartadas_por_k", 0)),
        "declinadas": dict(data.zones.get("declinadas", {})),
    }
    report["densidad"] = (
        "estimación kernel de los incidentes generalizados (centros de lugares), sin "
        "incidentes no ubicados"
    )
    report["paginas"] = [
        {
            "archivo": filename,
            "lugares": int(built.summary.get("places", 0)),
            "incidentes_en_lugares": int(built.summary.get("drawn", 0)),
        }
        for filename, built, _ in pages
    ]
    return report
